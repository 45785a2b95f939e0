"""The Dask engine's globalize step (partition codes -> global codes) with the merge walk against pyarrow's hash lookup.

    python benchmarks/dask_globalize.py --edges 1e7 --reps 5

Reads every partition of a generated economy (as the workers do, one process,
one Numba thread), builds the global dictionary, then times the mapping of
each partition's distinct ids into it both ways, alternating; prints medians
of the sum over partitions, their ratio and the load average (JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc


def main() -> None:
    import numba

    from graphlabor.distributed import partitions as P
    from graphlabor.edges import KindClasses
    from graphlabor.generate import generate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edges", default="1e7")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--workdir", default="/tmp")
    args = ap.parse_args()
    numba.set_num_threads(1)
    m = int(float(args.edges))
    edges = Path(args.workdir) / f"economy-{m:.0e}.parquet"
    if not edges.exists():
        generate(edges, Path(args.workdir) / f"economy-{m:.0e}_nodes.parquet", edges=m, seed=1)
    parts = [P.read_partition(s, KindClasses()) for s in P.plan(str(edges))]
    ids = parts[0].ids
    for p in parts[1:]:
        ids = P.merge_ids(ids, p.ids)
    subs = [p.ids.cast(ids.type) for p in parts]
    t: dict[str, list[float]] = {"hash (pc.index_in)": [], "merge walk": []}
    for _ in range(args.reps):
        a = time.perf_counter()
        want = [pc.index_in(s, value_set=ids).to_numpy(zero_copy_only=False) for s in subs]
        t["hash (pc.index_in)"].append(time.perf_counter() - a)
        a = time.perf_counter()
        got = [P._text_positions(s, ids) for s in subs]
        t["merge walk"].append(time.perf_counter() - a)
        assert all(np.array_equal(g, w) for g, w in zip(got, want))
    med = {k: float(np.median(v)) for k, v in t.items()}
    print(json.dumps({"edges": m, "partitions": len(parts), "nodes": len(ids),
                      "partition_distinct_ids": int(np.median([len(s) for s in subs])), "seconds": med,
                      "ratio": med["hash (pc.index_in)"] / med["merge walk"], "load": os.getloadavg()[0]}, indent=1))


if __name__ == "__main__":
    main()
