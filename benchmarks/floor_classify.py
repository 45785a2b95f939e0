"""The streamed "classify edges" stage, old (NumPy gathers) against new (one parallel Numba pass), side by side.

Usage (benchmarks/NOTES.md, "Session 5: ingestion floor and classify")::

    python benchmarks/floor_classify.py --edges 1e7 --reps 5
    flock /work/wt/bench-big.lock python benchmarks/floor_classify.py --edges 1e8 --reps 3

What it does, in this one process:

1. generates (or reuses) the end-to-end benchmark's Parquet economy of
   ``--edges`` edges (``benchmarks/run.py``: string ids, seed 1);
2. runs the streamed read and the dictionary merge once
   (``graphlabor.stream.pieces`` and ``merge``), keeping the row groups'
   pieces in local codes;
3. repeats, alternating the order each repetition: the stage as it was up to
   session 4 (per piece and column a ``np.take`` of the local codes through
   the piece's map, the evidence flags OR-ed by fancy indexing), and as it is
   now (:meth:`graphlabor.stream.Merged.classify`'s kernels: per piece one
   parallel pass of :func:`graphlabor.kernels.classify.to_global` and
   :func:`~graphlabor.kernels.classify.or_at`), the new one at 1 and 2 Numba
   threads; neither frees the pieces, so every repetition sees the same input;
4. checks that every output array is equal bit for bit, then prints medians
   of wall and CPU seconds (user + system, all threads: page faults show as
   system time), ratios and the load average as Markdown.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import economy_parquet, economy_parser, fmt_size, parse_size  # noqa: E402

CLASSES = ("contribution", "revenue", "pay")


def old(parts, maps, kmaps, n):
    """Session 4's remap: np.take per piece and column, flags OR-ed by fancy indexing."""
    from graphlabor.kernels import INDEX_DTYPE

    evidence = np.zeros(n, np.uint8)
    for c, mp in zip(parts, maps):
        evidence[mp] |= c.evidence
    out = {}
    for cls in CLASSES:
        m = sum(len(getattr(c, cls)) for c in parts)
        src = np.empty(m, INDEX_DTYPE)
        dst = np.empty(m, INDEX_DTYPE)
        kind = np.empty(m, np.uint16)
        value = np.empty(m, np.float64)
        a = 0
        for c, mp, kmp in zip(parts, maps, kmaps):
            p = getattr(c, cls)
            b = a + len(p)
            np.take(mp, p.src, out=src[a:b])
            np.take(mp, p.dst, out=dst[a:b])
            np.take(kmp, p.kind, out=kind[a:b])
            value[a:b] = p.value
            a = b
        out[cls] = (src, dst, kind, value)
    return evidence, out


def new(parts, maps, kmaps, n, threads):
    """Merged.classify now: one pass of to_global per piece and class, ``threads`` pieces at a time."""
    from graphlabor.stream import to_global_codes

    outs, evidence = to_global_codes(parts, maps, kmaps, n, threads, free=False)
    return evidence, {cls: (o.src, o.dst, o.kind, o.value) for cls, o in outs.items()}


def main(argv=None) -> None:
    args = economy_parser(__doc__.split("\n")[0]).parse_args(argv)
    m = parse_size(args.edges)
    path = economy_parquet(Path(args.workdir), m)

    from graphlabor import readers, stream

    sources = readers.resolve([str(path)])
    work = stream.plan(sources)
    assert work is not None, "the file does not take the streamed path"
    t0 = time.perf_counter()
    merged = stream.merge(sources, work, stream.pieces(work))
    t_read = time.perf_counter() - t0
    parts = [p.part for p in merged._pieces]
    args_ = (parts, merged._maps, merged._kmaps, len(merged.index))
    ref = old(*args_)  # also warms the kernels and the page cache
    variants = {"old (np.take)": lambda: old(*args_)}
    for t in (1, 2):
        variants[f"new, {t} thread{'s' if t > 1 else ''}"] = lambda t=t: new(*args_, t)
    times: dict[str, list[float]] = {k: [] for k in variants}
    cpu: dict[str, list[float]] = {k: [] for k in variants}
    sys_: dict[str, list[float]] = {k: [] for k in variants}
    loads = [os.getloadavg()[0]]
    for rep in range(args.reps):
        names = list(variants) if rep % 2 == 0 else list(reversed(variants))
        for name in names:
            c0, t0 = os.times(), time.perf_counter()
            got = variants[name]()
            times[name].append(time.perf_counter() - t0)
            c1 = os.times()
            cpu[name].append(c1.user - c0.user + c1.system - c0.system)
            sys_[name].append(c1.system - c0.system)
            assert got[0].tobytes() == ref[0].tobytes(), name
            for cls in CLASSES:
                for x, y in zip(got[1][cls], ref[1][cls]):
                    assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), (name, cls)
            del got
        loads.append(os.getloadavg()[0])
    base = float(np.median(times["old (np.take)"]))
    rows = sum(len(c.contribution) + len(c.revenue) + len(c.pay) for c in parts)
    print(f"\n`python benchmarks/floor_classify.py --edges {args.edges} --reps {args.reps}`: {fmt_size(m)} edges, "
          f"{len(parts)} row groups, {rows:,} edges remapped, {len(merged.index):,} nodes; streamed read + merge "
          f"{t_read:.2f} s; load average {min(loads):.2f}-{max(loads):.2f}; outputs equal bit for bit\n")
    print("| remap + flags | median wall s | runs | speed-up | median CPU s (user + sys) | of which sys |")
    print("|---|---|---|---|---|---|")
    for name, ts in times.items():
        med = float(np.median(ts))
        print(f"| {name} | {med:.3f} | {', '.join(f'{t:.3f}' for t in ts)} | {base / med:.2f}x "
              f"| {np.median(cpu[name]):.2f} | {np.median(sys_[name]):.2f} |")


if __name__ == "__main__":
    main()
