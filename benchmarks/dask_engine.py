"""The Dask engine against the local engine, side by side, on a generated economy.

Usage::

    python benchmarks/dask_engine.py --edges 1e7                       # local vs LocalCluster(2)
    python benchmarks/dask_engine.py --edges 1e7 --memory-fraction 0.5  # workers limited to half the local peak

For each size: the local engine (``graphlabor attribute`` in a subprocess; its
peak RSS from ``wait4``) and the Dask engine on a ``LocalCluster`` of
``--workers`` processes (1 Numba thread each), the result compared bit for bit
with the local one. Reported: wall seconds (median of ``--reps``), per-stage
seconds, the exchange plan (bytes each block receives and sends per
iteration), the bytes the workers actually sent (Dask's transfer counters),
each worker's peak RSS, and the load average. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _peak_rss_of(cmd: list[str]) -> tuple[float, int]:
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err}")
    return time.perf_counter() - t, usage.ru_maxrss * 1024


def _economy(workdir: Path, m: int) -> tuple[Path, Path]:
    from graphlabor.generate import generate

    edges = workdir / f"economy-{m:.0e}.parquet"
    nodes = workdir / f"economy-{m:.0e}_nodes.parquet"
    if not edges.exists():
        generate(edges, nodes, edges=m, seed=1)
    return edges, nodes


def _worker_peak(dask_worker=None) -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _worker_sent(dask_worker) -> int:
    return int(getattr(dask_worker, "transfer_outgoing_bytes_total", 0))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edges", default="1e7")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--memory-fraction", type=float, default=None,
                    help="limit each worker to this fraction of the local engine's measured peak")
    ap.add_argument("--workdir", default="/tmp/graphlabor-bench/dask")
    args = ap.parse_args(argv)

    import numpy as np
    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster

    import graphlabor
    from graphlabor.timing import StageLog

    m = int(float(args.edges))
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    edges, nodes = _economy(workdir, m)
    out = {"edges": m, "workers": args.workers, "load_before": os.getloadavg()[0]}

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        local_file = Path(tmp) / "local.parquet"
        summary = Path(tmp) / "local.json"
        times = []
        for _ in range(args.reps):
            t, peak = _peak_rss_of([sys.executable, "-m", "graphlabor", "attribute", str(edges), "--nodes", str(nodes),
                                    "-o", str(local_file), "--summary-json", str(summary), "-q"])
            times.append(t)
        out["local"] = {"seconds": float(np.median(times)), "peak_rss": peak,
                        "stages": {s["stage"]: s["seconds"] for s in json.loads(summary.read_text())["stages"]}}
        local = pq.read_table(local_file)

        limit = int(peak * args.memory_fraction) if args.memory_fraction else "auto"
        out["worker_memory_limit"] = limit
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               memory_limit=limit, env={"NUMBA_NUM_THREADS": "1"})
        try:
            with Client(cluster) as client:
                times, equal = [], True
                for _ in range(args.reps):
                    sent0 = client.run(_worker_sent)
                    log = StageLog(verbose=False)
                    t = time.perf_counter()
                    r = graphlabor.attribute(str(edges), str(nodes), engine="dask", client=client, log=log)
                    times.append(time.perf_counter() - t)
                    sent1 = client.run(_worker_sent)
                    equal = equal and r.nodes.equals(local)
                out["dask"] = {
                    "seconds": float(np.median(times)),
                    "equal_to_local": bool(equal),
                    "iterations": r.summary.iterations,
                    "stages": {d["stage"]: d["seconds"] for d in log.as_dicts()},
                    "blocks": r.block_stats,
                    "worker_peak_rss": sorted(client.run(_worker_peak).values()),
                    "worker_bytes_sent_last_run": sorted(sent1[w] - sent0.get(w, 0) for w in sent1),
                }
        finally:
            cluster.close()
    out["load_after"] = os.getloadavg()[0]
    out["ratio_dask_over_local"] = out["dask"]["seconds"] / out["local"]["seconds"]
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
