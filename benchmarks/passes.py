"""Passes over ``T`` to ``||s + T x - x||_1 <= tol x S``: the power iteration against BiCGSTAB.

Usage::

    python benchmarks/passes.py [--workdir /tmp/graphlabor-bench]

Two graphs, as in issue 13: the PageRank-like graph of 10^6 edges
(``graphs.power_law_graph``, seed 1, damping 0.85) and the flow graph of the
generated 10^7-edge economy (``graphlabor.generate``, seed 1, default model;
the flow graph is taken from the run of ``graphlabor.attribute``). Pass
counts are deterministic (the same at any thread count), so one run is
enough; the true residual of each answer is recomputed with scipy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def pagerank_like(m: int):
    from graphs import personalization, power_law_graph

    from graphlabor import kernels as K

    g = power_law_graph(m, 1)
    s = personalization(g.n, 1)
    out_w = np.bincount(g.src, weights=g.weight, minlength=g.n)
    return K.build_csr(g.dst, g.src, 0.85 * g.weight / out_w[g.src], g.n), s


def economy_flow_graph(m: int, workdir: Path):
    import graphlabor.methods as M
    from graphlabor.generate import default_nodes_path, generate
    from graphlabor.pipeline import attribute

    edges = workdir / f"economy_{m}_s1.parquet"
    if not edges.exists():
        generate(str(edges), edges=m, seed=1, ids="str", contexts=False)  # the recorded flow graphs are pooled
    got = {}
    original = M.solve

    def grab(graph, injected, params, **kw):
        got["T"] = (graph.indptr, graph.indices, graph.data)
        got["s"] = injected
        return original(graph, injected, params, **kw)

    M.solve = grab
    try:
        attribute(str(edges), str(default_nodes_path(edges)), breakdown=False)
    finally:
        M.solve = original
    return got["T"], got["s"]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", default="/tmp/graphlabor-bench")
    args = ap.parse_args(argv)
    import scipy.sparse as sp

    from graphlabor.solve import propagate

    print("| graph | nodes | entries of T | jacobi passes | bicgstab passes | ratio | true residual / S (jacobi, bicgstab) |")
    print("|---|---|---|---|---|---|---|")
    for name, (T, s) in (("PageRank-like, 10^6 edges", pagerank_like(10**6)),
                         ("10^7 economy's flow graph", economy_flow_graph(10**7, Path(args.workdir)))):
        n = len(s)
        A = sp.csr_matrix((T[2], T[1].astype(np.int64), T[0].astype(np.int64)), shape=(n, n))
        S = float(s.sum())
        row = {}
        for solver in ("jacobi", "bicgstab"):
            x, k, _, ok = propagate(*T, s, 1e-10 * S, 1000, solver=solver)
            assert ok and (x >= 0).all()
            row[solver] = (k, float(np.abs(s + A @ x - x).sum()) / S)
        j, b = row["jacobi"], row["bicgstab"]
        print(f"| {name} | {n:,} | {len(T[1]):,} | {j[0]} | {b[0]} | {j[0] / b[0]:.1f}x | {j[1]:.1e}, {b[1]:.1e} |")


if __name__ == "__main__":
    main()
