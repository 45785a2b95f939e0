"""The flow graph's build, old against new, side by side in one process (issue 13, session 5).

Usage (benchmarks/NOTES.md, "Session 5: build")::

    python benchmarks/build.py --edges 1e7 --reps 7
    flock /work/wt/bench-big.lock python benchmarks/build.py --edges 1e8 --reps 3

What it does:

1. generates (or reuses) the Parquet economy of the end-to-end benchmark
   (``run.py``: ``graphlabor.generate``, seed 1, string ids, no contexts) in
   ``--workdir``;
2. runs ``graphlabor.attribute`` on it once with the default options up to
   the build, and keeps the arrays the build receives (contribution edges as
   codes, weights, roles, kinds);
3. builds the flow graph with its split by kind (the default run's "build
   graph" stage) both ways and checks that every array is equal bit for bit:

   - **old**: the build of session 4 (``flow_edges``, then
     :func:`graphlabor.kernels.multiset.build_csr_counted` twice, for ``T``
     and for the split by kind, from written flow-edge arrays; session 4
     used ``bucket.build_csr_bucketed``, since removed, which gave the same
     arrays);
   - **new**: :func:`graphlabor.graph.build_flow_graph` (the split by kind
     collapsed into ``(row, sender, weight, count)`` per row block before
     anything is sorted, ``T`` built from that multiset);

4. times them alternately (old, new, new, old, ...), ``--reps`` each, and
   prints the medians, their ratio, the peak memory each added (resident
   memory sampled every 5 ms, above the memory before the call) and the
   load average before and after, as Markdown.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import PeakRSS, _nodes_path, economy_parquet, economy_parser, fmt_size, parse_size  # noqa: E402


class _Captured(Exception):
    pass


def build_inputs(edges: Path, nodes: Path) -> dict:
    """The arguments ``graphlabor.attribute`` passes to ``build_flow_graph`` with the default options."""
    import graphlabor
    import graphlabor.methods as M

    got: dict = {}
    real = M.build_flow_graph

    def spy(*args, **kwargs):
        got.update(args=args, kwargs=kwargs)
        raise _Captured

    M.build_flow_graph = spy
    try:
        graphlabor.attribute(str(edges), str(nodes))
    except _Captured:
        pass
    finally:
        M.build_flow_graph = real
    return got


def old_build(src, dst, weight, role, params, labels=None, n_labels=0, pairs=None, first_pair=0, idle=None):
    """Session 4's build_flow_graph: the flow edges written out, then built into a CSR twice (T, then the split by kind)."""
    from graphlabor import kernels as K
    from graphlabor.graph import FlowGraph, pass_fractions
    from graphlabor.kernels.multiset import build_csr_counted

    n = int(role.shape[0])
    width = int(n_labels) + 1
    senders, receivers, w, lab = K.flow_edges(src, dst, weight, role, labels, pairs, first_pair, idle)
    n_flow = int(senders.shape[0])
    indptr, indices, data = build_csr_counted(receivers, senders, w, n)
    rows = receivers * np.uint32(width)
    rows += lab.astype(np.uint32)
    del receivers, lab
    label_nodes = first_pair if pairs is not None and 0 < first_pair < n else n
    kptr, kidx, kdat = build_csr_counted(rows, senders, w, label_nodes * width)
    del rows, senders, w
    out_weight = K.column_sums(indptr, indices, data, n)
    passed = pass_fractions(role, out_weight, params)
    factor = np.divide(passed, out_weight, out=np.zeros(n), where=out_weight > 0)
    K.scale_columns(indices, data, factor)
    return FlowGraph(n, indptr, indices, data, 1.0 - passed, out_weight, n_flow, (kptr, kidx, kdat, width))


def _arrays(g) -> list[np.ndarray]:
    return [g.indptr, g.indices, g.data, g.keep, g.out_weight, *g.by_label[:3]]


def main() -> None:
    args = economy_parser(__doc__.splitlines()[0], reps=7).parse_args()
    m = parse_size(args.edges)
    edges = economy_parquet(Path(args.workdir), m)
    import numba

    from graphlabor.graph import build_flow_graph

    got = build_inputs(edges, _nodes_path(edges))
    a, kw = got["args"], got["kwargs"]
    assert kw.get("labels") is not None, "the default run builds the split by kind"

    variants = {"old": old_build, "new": build_flow_graph}
    first = {name: _arrays(f(*a, **kw)) for name, f in variants.items()}  # compiles / loads the kernels
    for x, y in zip(first["old"], first["new"]):
        assert x.dtype == y.dtype and np.array_equal(x.view(np.uint8), y.view(np.uint8)), "old and new differ"
    flow = first["new"][1].shape[0]
    del first

    times: dict[str, list[float]] = {k: [] for k in variants}
    peaks: dict[str, list[int]] = {k: [] for k in variants}
    load_before = os.getloadavg()
    for rep in range(args.reps):
        order = list(variants) if rep % 2 == 0 else list(variants)[::-1]
        for name in order:
            gc.collect()
            with PeakRSS() as p:
                base = p.peak
                t0 = time.perf_counter()
                g = variants[name](*a, **kw)
                times[name].append(time.perf_counter() - t0)
                del g
            peaks[name].append(p.peak - base)
    load_after = os.getloadavg()

    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"## Flow graph build, {fmt_size(m)}-edge economy ({len(a[0]):,} contribution edges, "
          f"{flow:,} entries of T), {numba.get_num_threads()} threads, {args.reps} reps each, alternating\n")
    print("| build | median s | all runs s | peak memory added |")
    print("|---|---|---|---|")
    for k in variants:
        runs = ", ".join(f"{t:.3f}" for t in times[k])
        print(f"| {k} | {med[k]:.3f} | {runs} | {max(peaks[k]) / 2**30:.2f} GiB |")
    print(f"\nold / new: **{med['old'] / med['new']:.2f}x**; load average {load_before[0]:.1f} before, "
          f"{load_after[0]:.1f} after; outputs equal bit for bit.")


if __name__ == "__main__":
    main()
