"""Contexts at scale: ``graphlabor.attribute`` with and without a context column, side by side.

Usage::

    python benchmarks/contexts.py --edges 1e7 --reps 3

What it does:

1. generates (or reuses) a Parquet economy of ``--edges`` edges with string
   ids (``graphlabor.generate``, seed 1, the same file as the end-to-end
   benchmark of ``run.py``);
2. writes a copy with an integer ``context`` column (a Parquet file beside
   it): every revenue edge gets a context of its own (so there are as many
   contexts as revenue edges, capped by ``--contexts``), and every
   contribution edge into a platform gets one of the contexts whose revenue
   went to that platform, drawn at random (seed 1), so that pairs receive
   revenue and their contributors share it. Rows, ids and every other
   column are identical in both files;
3. in this one process, interleaved (plain, contexts, plain, contexts...,
   the order alternating each repetition): ``graphlabor.attribute(file,
   nodes)`` with default options, timing each call and sampling its peak
   resident memory above the memory before the call;
4. prints medians, the ratio contexts / plain and the summary's counts, as
   Markdown (pasted into benchmarks/NOTES.md).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import SEED, PeakRSS, _generate_parquet, _nodes_path, _rss, fmt_size, parse_size  # noqa: E402


def with_contexts(plain: Path, out: Path, max_contexts: int | None = None, seed: int = SEED) -> int:
    """Write ``plain`` plus an integer ``context`` column to ``out``; return the number of distinct contexts.

    Every revenue edge gets a context (``i % n`` for the ``i``-th revenue
    edge, ``n = min(revenue edges, max_contexts)``); every contribution edge
    into a platform gets one of the contexts whose revenue went to that
    platform, drawn at random (seed ``seed``), so that pairs receive revenue
    and their contributors share it. When ``max_contexts`` exceeds the
    revenue edges, the remaining contexts go, one each, to contribution edges
    drawn at random (campaigns or batches with activity but no revenue in
    the file): ``max_contexts`` distinct contexts in all. Reads only the
    ``kind`` and ``dst`` columns (as dictionaries) and copies the rest row
    group by row group, so that 10^8 edges fit in a few GiB.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    f = pq.ParquetFile(plain, read_dictionary=["kind", "dst"])
    t = f.read(columns=["kind", "dst"]).unify_dictionaries()

    def codes(col: pa.ChunkedArray) -> tuple[np.ndarray, list]:
        d = col.chunk(0).dictionary if col.num_chunks else pa.array([], pa.string())
        idx = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in col.chunks]).astype(np.int64)
        return idx, d.to_pylist()

    kind_idx, kind_names = codes(t["kind"])
    idx, dst_names = codes(t["dst"])
    del t
    n_dst = len(dst_names)
    lut = np.array([k in ("spend", "fee") for k in kind_names], dtype=bool)
    is_rev = lut[kind_idx] if kind_idx.size else np.zeros(0, bool)
    money = np.array([k in ("spend", "fee", "pay") for k in kind_names], dtype=bool)
    is_money = money[kind_idx] if kind_idx.size else np.zeros(0, bool)
    del kind_idx
    rev_rows = np.flatnonzero(is_rev)
    n_rev_ctx = min(rev_rows.size, max_contexts) if max_contexts is not None else rev_rows.size
    ctx = np.full(idx.size, -1, dtype=np.int64)
    ctx[rev_rows] = np.arange(rev_rows.size) % max(n_rev_ctx, 1)
    # the contexts of each platform (first revenue edge of each context decides)
    first = np.unique(ctx[rev_rows][:n_rev_ctx], return_index=True)[1]
    c_plat = idx[rev_rows[first]]
    order = np.argsort(c_plat, kind="stable")
    counts = np.bincount(c_plat, minlength=n_dst)
    start = np.concatenate([[0], np.cumsum(counts)])
    into_platform = ~is_money & (counts[idx] > 0)
    rows = np.flatnonzero(into_platform)
    rng = np.random.default_rng(seed)
    p = idx[rows]
    ctx[rows] = order[start[p] + (rng.random(rows.size) * counts[p]).astype(np.int64)]
    del into_platform, p, idx
    n_ctx = n_rev_ctx
    if max_contexts is not None and max_contexts > n_rev_ctx:
        contrib = np.flatnonzero(~is_money)
        extra = min(max_contexts - n_rev_ctx, contrib.size)
        ctx[rng.choice(contrib, size=extra, replace=False)] = n_rev_ctx + np.arange(extra)
        n_ctx += extra
    del is_rev, is_money
    f = pq.ParquetFile(plain)
    with pq.ParquetWriter(out, f.schema_arrow.append(pa.field("context", pa.int64()))) as w:
        at = 0
        for g in range(f.num_row_groups):
            rg = f.read_row_group(g)
            part = ctx[at:at + rg.num_rows]
            at += rg.num_rows
            w.write_table(rg.append_column("context", pa.array(part, mask=part < 0)), row_group_size=1 << 20)
    return int(n_ctx)


def measure(path: Path, nodes: Path) -> dict:
    import graphlabor

    gc.collect()
    base = _rss()
    with PeakRSS() as peak:
        t0 = time.perf_counter()
        r = graphlabor.attribute(str(path), str(nodes))
        wall = time.perf_counter() - t0
    s = r.summary
    out = {"wall": wall, "peak_above": peak.peak - base, "iterations": s.iterations, "flow_edges": s.flow_edges,
           "contexts": s.contexts, "pairs": s.context_pairs, "unmatched_pairs": s.unmatched_contexts,
           "unmatched_revenue": s.unmatched_revenue, "total": s.total_injected}
    del r
    gc.collect()
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edges", default="1e7")
    ap.add_argument("--contexts", default="1e7", help="most distinct contexts")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/graphlabor-bench")
    args = ap.parse_args(argv)
    m = parse_size(args.edges)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    plain = work / f"economy_{m}_s{SEED}.parquet"
    if not plain.exists():
        _generate_parquet(plain, m)
    nodes = _nodes_path(plain)
    ctx_path = work / f"economy_{m}_s{SEED}_contexts.parquet"
    n_ctx = with_contexts(plain, ctx_path, parse_size(args.contexts))
    measure(plain, nodes)  # warm-up: Numba caches, file cache
    runs: dict[str, list] = {"plain": [], "contexts": []}
    for rep in range(args.reps):
        order = ("plain", "contexts") if rep % 2 == 0 else ("contexts", "plain")
        for name in order:
            runs[name].append(measure(plain if name == "plain" else ctx_path, nodes))
    med = {k: {f: float(np.median([r[f] for r in v])) for f in ("wall", "peak_above")} for k, v in runs.items()}
    c = runs["contexts"][0]
    print(f"### Contexts, {fmt_size(m)} edges: with and without a context column, side by side\n")
    print(f"`python benchmarks/contexts.py --edges {args.edges} --reps {args.reps}`: one process, {args.reps} runs "
          "of each, interleaved; medians.\n")
    print(f"{c['contexts']:,} contexts, {c['pairs']:,} (platform, context) pairs with revenue "
          f"({c['unmatched_pairs']:,} unmatched, {c['unmatched_revenue']:,.0f} of {c['total']:,.0f} revenue); "
          f"flow edges {runs['plain'][0]['flow_edges']:,} without contexts, {c['flow_edges']:,} with; "
          f"iterations {runs['plain'][0]['iterations']} and {c['iterations']}.\n")
    print("| run | wall (median) | peak memory above start (median) | runs (wall) |")
    print("|---|---|---|---|")
    for k in ("plain", "contexts"):
        walls = ", ".join(f"{r['wall']:.2f}" for r in runs[k])
        print(f"| {k} | {med[k]['wall']:.2f} s | {med[k]['peak_above'] / 2**30:.2f} GiB | {walls} |")
    print(f"| ratio contexts / plain | {med['contexts']['wall'] / med['plain']['wall']:.2f}x | "
          f"{med['contexts']['peak_above'] / med['plain']['peak_above']:.2f}x | |")
    print(f"\n(context column written for {n_ctx:,} contexts)")


if __name__ == "__main__":
    main()
