"""The Dask engine's text id dictionary (reduction and globalize) by merge walks against pyarrow's hash and sort.

    python benchmarks/dask_globalize.py --edges 1e7 --reps 5

Reads every partition of a generated economy (as the workers do, one process,
one Numba thread), then times, both ways and alternating: the pairwise
reduction of the partitions' sorted distinct ids into the global dictionary
(``merge_ids``; before: ``pc.unique`` of the concatenation, then a sort), and
the mapping of each partition's ids into it (``globalize``; before:
``pc.index_in``, which hashes the whole dictionary for every partition).
Prints medians of the sums over partitions, their ratios and the load
average (JSON); asserts both ways give equal arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def _old_union(a: pa.Array, b: pa.Array) -> pa.Array:
    u = pc.unique(pa.concat_arrays([a, b]))
    return u.take(pc.sort_indices(u))


def _reduce(fn, arrays: list) -> pa.Array:  # type: ignore[no-untyped-def]
    while len(arrays) > 1:  # pairwise, as engine._tree_reduce
        arrays = [fn(arrays[i], arrays[i + 1]) if i + 1 < len(arrays) else arrays[i] for i in range(0, len(arrays), 2)]
    return arrays[0]


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
    ids = _reduce(P.merge_ids, [p.ids for p in parts])
    subs = [p.ids.cast(ids.type) for p in parts]
    t: dict[str, list[float]] = {"hash (pc.index_in)": [], "merge walk": [], "unique + sort": [], "union walk": []}
    for _ in range(args.reps):
        a = time.perf_counter()
        old = _reduce(_old_union, subs)
        t["unique + sort"].append(time.perf_counter() - a)
        a = time.perf_counter()
        new = _reduce(P.merge_ids, subs)
        t["union walk"].append(time.perf_counter() - a)
        assert old.equals(new)
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
                      "ratio_globalize": med["hash (pc.index_in)"] / med["merge walk"],
                      "ratio_dictionary": med["unique + sort"] / med["union walk"], "load": os.getloadavg()[0]}, indent=1))


if __name__ == "__main__":
    main()
