"""The tools compared, each as *build from arrays* then *solve*, on the PageRank-equivalent case.

Every tool gets the same directed weighted graph (``src -> dst``, ``weight``;
every node has an out-edge, no self-loops, no duplicate pairs), a
personalization vector ``s`` summing to 1, damping ``alpha`` and a tolerance
``tol``, and returns the personalized PageRank vector (summing to 1) and the
number of iterations it made (None where the tool does not say).

With no dangling node, graphlabor's held value ``x = s + alpha P x`` (all
nodes users) gives PageRank as ``(1 - alpha) x``: the same answer, and the
same power iteration from ``x_0 = s`` stopped at the first L1 change below
``tol`` (scipy, python-graphblas and graphlabor iterate identically).
networkx stops when its L1 change falls under ``N * tol``, so it is given
``tol / N`` and starts from ``s`` too; igraph's PRPACK solver has its own
fixed tolerance (about 1e-10).
"""

from __future__ import annotations

import numpy as np

TOOLS = ("graphlabor", "scipy", "igraph", "networkx", "graphblas")


# --------------------------------------------------------------------------- graphlabor


def graphlabor_build(g, alpha, tol):
    from graphlabor.graph import build_flow_graph
    from graphlabor.params import ModelParams

    params = ModelParams(damping=alpha, tol=tol, max_iter=10_000)
    role = np.zeros(g.n, dtype=np.int8)
    return build_flow_graph(g.src, g.dst, g.weight, role, params), params


def graphlabor_solve(built, s, alpha, tol):
    from graphlabor.solve import solve

    graph, params = built
    sol = solve(graph, s, params)
    return sol.kept / s.sum(), sol.n_iter


# --------------------------------------------------------------------------- scipy


def scipy_build(g, alpha, tol):
    import scipy.sparse as sp

    out_w = np.bincount(g.src, weights=g.weight, minlength=g.n)
    vals = alpha * g.weight / out_w[g.src]
    # receiver-major: row dst gathers from column src
    return sp.csr_matrix((vals, (g.dst, g.src)), shape=(g.n, g.n))


def scipy_solve(P, s, alpha, tol):
    x = s.copy()
    for it in range(1, 10_001):  # noqa: B007 (read after the loop)
        y = P @ x
        y += s
        err = np.abs(y - x).sum()
        x = y
        if err < tol:
            break
    return (1 - alpha) * x / s.sum(), it


def scipy_step(P, x, s):
    """One loop body of :func:`scipy_solve` (for per-iteration timing)."""
    y = P @ x
    y += s
    return np.abs(y - x).sum()


# --------------------------------------------------------------------------- igraph


def igraph_build(g, alpha, tol):
    import igraph as ig

    # a list of tuples is igraph's fastest input here (a numpy (m, 2) array ran 2x slower)
    G = ig.Graph(n=g.n, edges=list(zip(g.src.tolist(), g.dst.tolist())), directed=True)
    G.es["weight"] = g.weight
    return G


def igraph_solve(G, s, alpha, tol):
    pr = G.personalized_pagerank(
        directed=True, damping=alpha, reset=s, weights="weight", implementation="prpack"
    )
    pr = np.asarray(pr)
    return pr / pr.sum(), None


# --------------------------------------------------------------------------- networkx


def networkx_build(g, alpha, tol):
    import networkx as nx

    G = nx.DiGraph()
    G.add_nodes_from(range(g.n))
    G.add_weighted_edges_from(zip(g.src.tolist(), g.dst.tolist(), g.weight.tolist()))
    return G


def networkx_solve(G, s, alpha, tol):
    import networkx as nx

    n = G.number_of_nodes()
    nz = np.flatnonzero(s)
    pers = dict(zip(nz.tolist(), s[nz].tolist()))
    start = dict(zip(nz.tolist(), s[nz].tolist()))
    pr = nx.pagerank(G, alpha=alpha, personalization=pers, nstart=start, tol=tol / n, max_iter=10_000, weight="weight")
    out = np.zeros(n)
    out[np.fromiter(pr.keys(), dtype=np.int64, count=n)] = np.fromiter(pr.values(), dtype=np.float64, count=n)
    return out / out.sum(), None


# --------------------------------------------------------------------------- python-graphblas


def graphblas_build(g, alpha, tol):
    import graphblas as gb

    out_w = np.bincount(g.src, weights=g.weight, minlength=g.n)
    vals = alpha * g.weight / out_w[g.src]
    return gb.Matrix.from_coo(g.dst.astype(np.uint64), g.src.astype(np.uint64), vals, nrows=g.n, ncols=g.n)


def graphblas_solve(P, s, alpha, tol):
    import graphblas as gb

    n = P.nrows
    sv = gb.Vector.from_dense(s)
    x = sv.dup()
    for it in range(1, 10_001):  # noqa: B007 (read after the loop)
        y = P.mxv(x).new()
        y(gb.binary.plus) << sv
        d = y.ewise_add(x, gb.binary.minus).new()
        err = d.apply(gb.unary.abs).reduce(gb.monoid.plus).new().value
        x = y
        if err < tol:
            break
    xd = x.to_dense(fill_value=0.0)
    assert xd.shape[0] == n
    return (1 - alpha) * xd / s.sum(), it


def available(tool: str) -> bool:
    mod = {"graphlabor": "graphlabor", "scipy": "scipy", "igraph": "igraph", "networkx": "networkx", "graphblas": "graphblas"}[tool]
    try:
        __import__(mod)
    except ImportError:
        return False
    return True


def functions(tool: str):
    name = tool.replace("-", "_")
    return globals()[f"{name}_build"], globals()[f"{name}_solve"]
