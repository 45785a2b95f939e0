"""The Dask engine against the local engine, side by side, on a generated economy.

Usage::

    python benchmarks/dask_engine.py --edges 1e7 --reps 3              # local vs LocalCluster(2), BiCGSTAB
    python benchmarks/dask_engine.py --edges 1e7 --solver jacobi       # the power iteration on both
    python benchmarks/dask_engine.py --edges 1e7 --memory-fraction 0.5  # workers limited to half the local peak
    python benchmarks/dask_engine.py --edges 1e7 --task-stream         # + where the Dask run's time goes, by task

For each size: the local engine (``graphlabor attribute`` in a subprocess; its
peak RSS from ``wait4``) and the Dask engine on a ``LocalCluster`` of
``--workers`` processes (1 Numba thread each), run alternately (local, Dask,
local, Dask, ...), the result compared bit for bit with the local one.
Reported: wall seconds (medians of ``--reps``) and their ratio, CPU seconds (the
local process; the workers and this process, which holds the client and the
LocalCluster's scheduler) and their ratio, per-stage
seconds, the exchange plan (bytes each block, and each worker, receives and
sends per pass over ``T``), the bytes the workers actually sent (Dask's
transfer counters), each worker's peak RSS, and the load average before each
run. Prints one JSON document.
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


def _peak_rss_of(cmd: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS and CPU seconds (user + system, all threads) of a command."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err}")
    return time.perf_counter() - t, usage.ru_maxrss * 1024, usage.ru_utime + usage.ru_stime


def _worker_cpu(dask_worker=None) -> float:
    import resource

    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _economy(workdir: Path, m: int) -> tuple[Path, Path]:
    from graphlabor.generate import generate

    edges = workdir / f"economy-{m:.0e}.parquet"
    nodes = workdir / f"economy-{m:.0e}_nodes.parquet"
    if not edges.exists():
        generate(edges, nodes, edges=m, seed=1, contexts=False)  # until the Dask engine honours contexts
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
    ap.add_argument("--solver", choices=["bicgstab", "jacobi"], default="bicgstab")
    ap.add_argument("--memory-fraction", type=float, default=None,
                    help="limit each worker to this fraction of the local engine's measured peak")
    ap.add_argument("--workdir", default="/tmp/graphlabor-bench/dask")
    ap.add_argument("--costs", action="store_true", help="only the per-partition costs and the per-iteration floor")
    ap.add_argument("--task-stream", action="store_true",
                    help="record the last Dask run's task stream: seconds of compute and transfer by task function, "
                         "and each worker's busy seconds by stage (where the time goes: work, transfers, idle workers)")
    args = ap.parse_args(argv)
    if args.costs:
        from distributed import Client, LocalCluster

        workdir = Path(args.workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        edges, nodes = _economy(workdir, int(float(args.edges)))
        res = {"costs": partition_costs(edges, nodes)}
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=":0",
                          env={"NUMBA_NUM_THREADS": "1"}) as cluster, Client(cluster) as client:
            res["seconds_per_pass_floor"] = latency(client, solver=args.solver)
        res["load"] = os.getloadavg()[0]
        print(json.dumps(res, indent=1))
        return

    from contextlib import nullcontext

    import numpy as np
    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster, get_task_stream

    import graphlabor
    from graphlabor.timing import StageLog

    m = int(float(args.edges))
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    edges, nodes = _economy(workdir, m)
    out = {"edges": m, "workers": args.workers, "solver": args.solver, "load_before": os.getloadavg()[0]}
    loads: list[tuple[str, float]] = []

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        local_file = Path(tmp) / "local.parquet"
        summary = Path(tmp) / "local.json"

        def run_local() -> tuple[float, int, float]:
            loads.append(("local", os.getloadavg()[0]))
            return _peak_rss_of([sys.executable, "-m", "graphlabor", "attribute", str(edges), "--nodes", str(nodes),
                                 "--solver", args.solver, "-o", str(local_file), "--summary-json", str(summary), "-q"])

        t, peak, cpu = run_local()
        local_times, local_cpu = [t], [cpu]
        local = pq.read_table(local_file)
        local_iterations = json.loads(summary.read_text())["iterations"]

        limit = int(peak * args.memory_fraction) if args.memory_fraction else "auto"
        out["worker_memory_limit"] = limit
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                               memory_limit=limit, env={"NUMBA_NUM_THREADS": "1"})
        try:
            with Client(cluster) as client:
                times, cpus, equal = [], [], True
                for i in range(args.reps):
                    if i:
                        t, peak_i, cpu = run_local()  # alternating: local, Dask, local, Dask, ...
                        local_times.append(t)
                        local_cpu.append(cpu)
                        peak = max(peak, peak_i)
                    cpu0 = sum(client.run(_worker_cpu).values()) + time.process_time()
                    sent0 = client.run(_worker_sent)
                    log = StageLog(verbose=False)
                    loads.append(("dask", os.getloadavg()[0]))
                    stream = get_task_stream(client) if args.task_stream and i == args.reps - 1 else nullcontext()
                    t = time.perf_counter()
                    with stream:
                        r = graphlabor.attribute(str(edges), str(nodes), engine="dask", client=client, log=log,
                                                 solver=args.solver)
                    times.append(time.perf_counter() - t)
                    # the workers' CPU and this process's (the client, and the LocalCluster's scheduler)
                    cpus.append(sum(client.run(_worker_cpu).values()) + time.process_time() - cpu0)
                    sent1 = client.run(_worker_sent)
                    equal = equal and r.nodes.equals(local) and r.summary.iterations == local_iterations
                workers = sorted(sent1)
                per_worker = {w: {"blocks": [], "bytes_in_per_pass": 0, "bytes_out_per_pass": 0} for w in range(len(workers))}
                for b in r.block_stats:  # block b is placed on worker b mod workers (the engine's preference)
                    pw = per_worker[b["block"] % len(workers)]
                    pw["blocks"].append(b["block"])
                    pw["bytes_in_per_pass"] += b["bytes_in_per_iteration"]
                    pw["bytes_out_per_pass"] += b["bytes_out_per_iteration"]
                out["local"] = {"seconds": float(np.median(local_times)), "all_seconds": local_times, "peak_rss": peak,
                                "cpu_seconds": float(np.median(local_cpu)), "all_cpu_seconds": local_cpu,
                                "iterations": local_iterations,
                                "stages": {s["stage"]: s["seconds"] for s in json.loads(summary.read_text())["stages"]}}
                out["dask"] = {
                    "seconds": float(np.median(times)),
                    "all_seconds": times,
                    "cpu_seconds": float(np.median(cpus)),
                    "all_cpu_seconds": cpus,
                    "equal_to_local": bool(equal),
                    "iterations": r.summary.iterations,
                    "stages": {d["stage"]: d["seconds"] for d in log.as_dicts()},
                    "blocks": r.block_stats,
                    "per_worker_exchange": per_worker,
                    "worker_peak_rss": sorted(client.run(_worker_peak).values()),
                    "worker_bytes_sent_last_run": [sent1[w] - sent0.get(w, 0) for w in workers],
                }
                if args.task_stream:
                    out["dask"]["task_stream"] = task_summary(stream.data, log.as_dicts(), log.first_stage_at or 0.0)
        finally:
            cluster.close()
    out["loads"] = loads
    out["load_after"] = os.getloadavg()[0]
    out["ratio_dask_over_local"] = out["dask"]["seconds"] / out["local"]["seconds"]
    out["cpu_ratio_dask_over_local"] = out["dask"]["cpu_seconds"] / out["local"]["cpu_seconds"]
    print(json.dumps(out, indent=1))



def task_summary(data: list[dict], stages: list[dict], started: float) -> dict:
    """Compute and transfer seconds by task function, and each worker's busy seconds within each stage.

    ``data`` is :func:`distributed.get_task_stream`'s record, ``stages`` the
    run's :class:`graphlabor.timing.StageLog` entries, ``started`` the wall
    clock (``time.time()``, the workers' clock on one machine) at the first
    stage's start; stages are taken end to end from there (the client's
    short gaps between them are counted in the next one).
    A worker's idle time within a stage is the stage's seconds minus its busy
    seconds: waiting for a straggler, for the client, or for transfers.
    """
    import collections

    by: dict = collections.defaultdict(lambda: {"tasks": 0, "compute": 0.0, "transfer": 0.0})
    spans = []
    for d in data:
        key = d["key"][0] if isinstance(d["key"], tuple) else d["key"]
        name = key.rsplit("-", 1)[0].split("-")[0]
        e = by[name]
        e["tasks"] += 1
        for ss in d["startstops"]:
            if ss["action"] == "compute":
                e["compute"] += ss["stop"] - ss["start"]
                spans.append((d["worker"], ss["start"], ss["stop"]))
            elif ss["action"] == "transfer":
                e["transfer"] += ss["stop"] - ss["start"]
    t0 = started
    edges, at = [], 0.0
    for st in stages:
        edges.append((st["stage"], at, at + st["seconds"]))
        at += st["seconds"]
    busy: dict = {}
    for stage, a, b in edges:
        for w, s0, s1 in spans:
            lo, hi = max(s0 - t0, a), min(s1 - t0, b)
            if hi > lo:
                busy.setdefault(stage, collections.Counter())[w] += hi - lo
    top = sorted(by.items(), key=lambda kv: -kv[1]["compute"])
    return {
        "by_function": {k: {"tasks": v["tasks"], "compute": round(v["compute"], 3), "transfer": round(v["transfer"], 3)}
                        for k, v in top if v["compute"] + v["transfer"] > 0.01},
        "busy_by_stage": {st: {w: round(x, 2) for w, x in sorted(c.items())} for st, c in busy.items()},
    }


def partition_costs(edges: Path, nodes: Path, reps: int = 3) -> dict:
    """Seconds of each per-partition stage on one ~2M-row partition and of one step per block entry, in this process.

    The inputs of a projection: what a worker spends per partition and per
    entry of its block, measured without Dask (1 Numba thread).
    """
    import numba
    import numpy as np

    from graphlabor import kernels as K
    from graphlabor.classify import kind_table
    from graphlabor.distributed import blocks as B
    from graphlabor.distributed import partitions as P
    from graphlabor.edges import KindClasses

    numba.set_num_threads(1)
    plan = P.plan(str(edges))
    src = plan[0]
    kinds = KindClasses()
    out: dict = {"partition": str(src)}
    t = {k: [] for k in ("read", "dictionary", "globalize", "classify", "flow_pieces", "build_block", "step")}
    for _ in range(reps):
        a = time.perf_counter()
        part = P.read_partition(src, kinds)
        t["read"].append(time.perf_counter() - a)
        a = time.perf_counter()
        ids = P.merge_ids(part.ids, part.ids[:0])
        t["dictionary"].append(time.perf_counter() - a)
        a = time.perf_counter()
        g = P.globalize(part, ids, part.kind_names)
        t["globalize"].append(time.perf_counter() - a)
        n = len(ids)
        coc, wok = kind_table(g.kind_names, kinds, {})
        a = time.perf_counter()
        c = P.classify_part(g, coc, wok, n, 0)
        t["classify"].append(time.perf_counter() - a)
        from graphlabor.roles import assign_roles

        role = assign_roles(c.evidence)
        bounds = np.array([0, n])
        a = time.perf_counter()
        pieces = B.flow_pieces(c, role, bounds, len(g.kind_names) + 1)
        t["flow_pieces"].append(time.perf_counter() - a)
        a = time.perf_counter()
        blk = B.build_block(0, 0, n, len(g.kind_names) + 1, None, pieces[0])
        t["build_block"].append(time.perf_counter() - a)
        x = np.ones(n)
        o = np.empty(n)
        a = time.perf_counter()
        for _ in range(10):
            K.propagate_step(blk.indptr, blk.indices, blk.data, x, x, o)
        t["step"].append((time.perf_counter() - a) / 10)
    out["rows"] = part.rows
    out["nnz"] = blk.nnz
    out["nodes"] = n
    out["seconds"] = {k: float(np.median(v)) for k, v in t.items()}
    out["step_ns_per_entry"] = out["seconds"]["step"] / max(blk.nnz, 1) * 1e9
    out["load"] = os.getloadavg()[0]
    return out


def latency(client, reps: int = 3, solver: str = "bicgstab") -> float:
    """Seconds per pass over ``T`` of the Dask solve on a graph too small to compute anything: the scheduling floor.

    The difference between runs stopped after 70 and after 10 passes
    (``ConvergenceError``), divided by 60 (BiCGSTAB: an iteration is two passes).
    """
    import numpy as np
    import pyarrow as pa

    import graphlabor
    from graphlabor.errors import ConvergenceError

    rng = np.random.default_rng(0)
    n, m = 5000, 20000
    edges = pa.table({"src": rng.integers(0, n, m), "dst": rng.integers(0, n, m), "weight": np.ones(m)})
    nodes = pa.table({"id": np.arange(n), "role": ["user"] * n, "value": np.ones(n)})

    def run(k):
        t = time.perf_counter()
        try:
            graphlabor.attribute(edges, nodes, engine="dask", client=client, damping=0.95, tol=1e-300, max_iter=k,
                                 breakdown=False, solver=solver)
        except ConvergenceError:
            pass
        return time.perf_counter() - t

    run(10)
    diffs = [run(70) - run(10) for _ in range(reps)]
    return float(np.median(diffs)) / 60


if __name__ == "__main__":
    main()
