"""Contexts at scale: ``graphlabor.attribute`` with and without a context column, side by side.

Usage (the tables of benchmarks/NOTES.md, section "Contexts at scale")::

    flock /work/wt/bench-big.lock python benchmarks/contexts.py --edges 1e7,1e8 --contexts 1e8=1e7 --reps 3 --big-reps 2

runs both sizes, each in its own process, one after the other (10^7 edges
with one context per revenue edge, 10^8 edges with 10^7 contexts; 3 and 2
runs of each; the 10^8 run needs about 9 GiB, hence the lock on a shared
machine). One size alone::

    python benchmarks/contexts.py --edges 1e7 --reps 3

What it does:

1. generates (or reuses) a Parquet economy of ``--edges`` edges with string
   ids (``graphlabor.generate``, seed 1, the same file as the end-to-end
   benchmark of ``run.py``); if the generator wrote a ``context`` column, a
   copy without it is the plain file;
2. writes a copy with an integer ``context`` column (a Parquet file beside
   it, reused when present): every revenue edge gets a context (as many
   contexts as revenue edges, or ``--contexts`` of them when fewer), and
   every contribution edge into a platform gets one of the contexts whose
   revenue went to that platform, drawn at random (seed 1), so that pairs
   receive revenue and their contributors share it; with ``--contexts``
   above the number of revenue edges, the rest go one each to contribution
   edges drawn at random (activity on campaigns without revenue in the
   file), for exactly ``--contexts`` distinct contexts. Rows, ids and every
   other column are identical in both files;
3. in this one process, interleaved (plain, contexts, contexts, plain...,
   the order alternating each repetition): ``graphlabor.attribute(file,
   nodes)`` with default options, timing each call and its stages
   (``AttributionResult.timings``) and sampling its peak resident memory;
4. prints medians, the ratios contexts / plain, the summary's counts, the
   load average and a stage table, as Markdown (pasted into
   benchmarks/NOTES.md).

``--cleanup`` deletes the Parquet files the run wrote (the generated
economy, its nodes and the copy with contexts) when it is done.
"""

from __future__ import annotations

import argparse
import gc
import os
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
    schema = f.schema_arrow
    if "context" in schema.names:
        schema = schema.remove(schema.get_field_index("context"))
    with pq.ParquetWriter(out, schema.append(pa.field("context", pa.int64()))) as w:
        at = 0
        for g in range(f.num_row_groups):
            rg = f.read_row_group(g)
            rg = rg.drop_columns(["context"]) if "context" in rg.column_names else rg
            part = ctx[at:at + rg.num_rows]
            at += rg.num_rows
            w.write_table(rg.append_column("context", pa.array(part, mask=part < 0)), row_group_size=1 << 20)
    return int(n_ctx)


def _without_context(path: Path) -> Path:
    """``path``, or a copy of it without its ``context`` column when it has one (written once, row group by row group)."""
    import pyarrow.parquet as pq

    f = pq.ParquetFile(path)
    if "context" not in f.schema_arrow.names:
        return path
    out = path.with_name(path.stem + "_plain" + path.suffix)
    if not out.exists():
        schema = f.schema_arrow.remove(f.schema_arrow.get_field_index("context"))
        with pq.ParquetWriter(out, schema) as w:
            for g in range(f.num_row_groups):
                w.write_table(f.read_row_group(g).drop_columns(["context"]))
    return out


def measure(path: Path, nodes: Path) -> dict:
    import graphlabor

    gc.collect()
    base = _rss()
    with PeakRSS() as peak:
        t0, c0 = time.perf_counter(), time.process_time()
        r = graphlabor.attribute(str(path), str(nodes))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    s = r.summary
    out = {"wall": wall, "cpu": cpu, "peak_above": peak.peak - base, "peak": peak.peak, "iterations": s.iterations,
           "flow_edges": s.flow_edges, "contexts": s.contexts, "pairs": s.context_pairs,
           "unmatched_pairs": s.unmatched_contexts, "unmatched_revenue": s.unmatched_revenue,
           "total": s.total_injected, "stages": {d["stage"]: d["seconds"] for d in r.timings}}
    del r
    gc.collect()
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--edges", default="1e7", help="edge count, or several (comma-separated): one process each, in turn")
    ap.add_argument("--contexts", default=None,
                    help="distinct contexts (default: one per revenue edge; more go to contribution edges); "
                         "with several sizes, SIZE=N for the sizes that get N (e.g. 1e8=1e7)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--big-reps", type=int, default=None, help="runs of each above 2x10^7 edges (default --reps)")
    ap.add_argument("--workdir", default="/tmp/graphlabor-bench")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the warm-up run (Numba caches, file cache); with several sizes, the default above 2x10^7 edges")
    ap.add_argument("--cleanup", action="store_true", help="delete the Parquet files this run wrote, at the end")
    args = ap.parse_args(argv)
    sizes = [x for x in args.edges.split(",") if x]
    if len(sizes) > 1:
        _several(sizes, args)
        return
    m = parse_size(args.edges)
    max_ctx = parse_size(args.contexts) if args.contexts else None
    if args.big_reps is not None and m > 2 * 10**7:
        args.reps = args.big_reps
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    plain = work / f"economy_{m}_s{SEED}.parquet"
    written: list[Path] = []
    if not plain.exists():
        _generate_parquet(plain, m)
        written += [plain, _nodes_path(plain)]
    nodes = _nodes_path(plain)
    original = plain
    plain = _without_context(plain)
    if plain != original:
        written.append(plain)
    ctx_path = work / f"economy_{m}_s{SEED}_contexts{'' if max_ctx is None else f'_{max_ctx}'}.parquet"
    n_ctx = None
    if not ctx_path.exists():
        n_ctx = with_contexts(plain, ctx_path, max_ctx)
        written.append(ctx_path)
    if not args.no_warmup:
        measure(plain, nodes)
    load = [os.getloadavg()]
    runs: dict[str, list] = {"plain": [], "contexts": []}
    for rep in range(args.reps):
        order = ("plain", "contexts") if rep % 2 == 0 else ("contexts", "plain")
        for name in order:
            runs[name].append(measure(plain if name == "plain" else ctx_path, nodes))
            load.append(os.getloadavg())
    med = {k: {f: float(np.median([r[f] for r in v])) for f in ("wall", "cpu", "peak_above", "peak")} for k, v in runs.items()}
    c = runs["contexts"][0]
    ld = [x[0] for x in load]
    cmd = f"python benchmarks/contexts.py --edges {args.edges} --reps {args.reps}"
    cmd += f" --contexts {args.contexts}" if args.contexts else ""
    cmd += " --no-warmup" if args.no_warmup else ""
    print(f"### Contexts, {fmt_size(m)} edges: with and without a context column, side by side\n")
    print(f"`{cmd}`: one process, {args.reps} runs of each, interleaved (order alternating); medians; "
          f"1-minute load average {min(ld):.1f}-{max(ld):.1f} on {os.cpu_count()} cores.\n")
    print(f"{c['contexts']:,} contexts, {c['pairs']:,} (platform, context) pairs with revenue "
          f"({c['unmatched_pairs']:,} unmatched, {c['unmatched_revenue']:,.0f} of {c['total']:,.0f} revenue); "
          f"flow edges {runs['plain'][0]['flow_edges']:,} without contexts, {c['flow_edges']:,} with; "
          f"iterations {runs['plain'][0]['iterations']} and {c['iterations']}.\n")
    print("| run | wall (median) | CPU time (median) | peak memory above start (median) | peak resident (median) "
          "| runs (wall) |")
    print("|---|---|---|---|---|---|")
    for k in ("plain", "contexts"):
        walls = ", ".join(f"{r['wall']:.2f}" for r in runs[k])
        print(f"| {k} | {med[k]['wall']:.2f} s | {med[k]['cpu']:.2f} s | {med[k]['peak_above'] / 2**30:.2f} GiB | "
              f"{med[k]['peak'] / 2**30:.2f} GiB | {walls} |")
    print(f"| ratio contexts / plain | **{med['contexts']['wall'] / med['plain']['wall']:.2f}x** | "
          f"{med['contexts']['cpu'] / med['plain']['cpu']:.2f}x | "
          f"{med['contexts']['peak_above'] / med['plain']['peak_above']:.2f}x | "
          f"{med['contexts']['peak'] / med['plain']['peak']:.2f}x | |")
    names: list[str] = []
    for k in ("contexts", "plain"):
        for r in runs[k]:
            names += [n for n in r["stages"] if n not in names]
    print("\n| stage | plain (median s) | contexts (median s) | difference |")
    print("|---|---|---|---|")
    for n in names:
        a, b = (float(np.median([r["stages"].get(n, 0.0) for r in runs[k]])) for k in ("plain", "contexts"))
        print(f"| {n} | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    a, b = med["plain"]["wall"], med["contexts"]["wall"]
    print(f"| **wall** | {a:.2f} | {b:.2f} | {b - a:+.2f} |")
    if n_ctx is not None:
        print(f"\n(context column written for {n_ctx:,} contexts)")
    if args.cleanup:
        for f in written:
            f.unlink(missing_ok=True)


def _several(sizes: list[str], args: argparse.Namespace) -> None:
    """Each size in its own process, in turn (so that one size's memory does not count in the next one's peak)."""
    import subprocess

    per_size = dict(x.split("=", 1) for x in (args.contexts or "").split(",") if "=" in x)
    for size in sizes:
        m = parse_size(size)
        cmd = [sys.executable, __file__, "--edges", size, "--reps", str(args.reps), "--workdir", args.workdir]
        ctx = next((v for k, v in per_size.items() if parse_size(k) == m), None)
        if ctx:
            cmd += ["--contexts", ctx]
        if args.big_reps is not None:
            cmd += ["--big-reps", str(args.big_reps)]
        if args.no_warmup or m > 2 * 10**7:
            cmd.append("--no-warmup")
        if args.cleanup:
            cmd.append("--cleanup")
        sys.stdout.flush()
        subprocess.run(cmd, check=True)
        print()


if __name__ == "__main__":
    main()
