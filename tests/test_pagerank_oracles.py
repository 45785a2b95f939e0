"""With user-to-user edges only and ``value`` injections, share == personalized PageRank.

The oracles are networkx's ``pagerank`` and igraph's ``personalized_pagerank``
on the same graph with a self-loop added at every node that has no out-edge
(the spec's statement of the equivalence), plus a dense direct solve.
"""

from __future__ import annotations

import igraph as ig
import networkx as nx
import numpy as np
import pyarrow as pa
import pytest

import graphlabor
import reference

TOL = 1e-13  # graphlabor's stopping tolerance (relative L1 change)
ATOL = 1e-9


def _nodes_table(ids, value):
    return pa.table({"id": list(ids), "role": ["user"] * len(ids), "value": [float(v) for v in value]})


def _edges(triples):
    return pa.table(
        {
            "src": pa.array([u for u, _, _ in triples], pa.int64()),
            "dst": pa.array([v for _, v, _ in triples], pa.int64()),
            "weight": pa.array([float(w) for _, _, w in triples], pa.float64()),
        }
    )


def _graphlabor_share(triples, ids, value, damping):
    r = graphlabor.attribute(_edges(triples), _nodes_table(ids, value), damping=damping, tol=TOL, max_iter=10_000, self_loops="keep")
    got = dict(zip(r.nodes["node"].to_pylist(), r.nodes["share"].to_pylist()))
    assert sorted(got) == sorted(ids)
    assert set(r.nodes["role"].to_pylist()) == {"user"}
    return np.array([got[v] for v in ids])


def _nx_pagerank(triples, ids, value, damping):
    G = nx.MultiDiGraph()
    G.add_nodes_from(ids)
    for u, v, w in triples:
        G.add_edge(u, v, weight=w)
    for v in ids:
        if G.out_degree(v) == 0:
            G.add_edge(v, v, weight=1.0)
    pr = nx.pagerank(G, alpha=damping, personalization=dict(zip(ids, value)), tol=1e-15, max_iter=100_000)
    return np.array([pr[v] for v in ids])


def _igraph_pagerank(triples, ids, value, damping, implementation="prpack"):
    pos = {v: i for i, v in enumerate(ids)}
    edges = [(pos[u], pos[v]) for u, v, _ in triples]
    weights = [float(w) for _, _, w in triples]
    has_out = {pos[u] for u, _, _ in triples}
    for i in range(len(ids)):
        if i not in has_out:
            edges.append((i, i))
            weights.append(1.0)
    g = ig.Graph(n=len(ids), edges=edges, directed=True)
    g.es["weight"] = weights
    pr = g.personalized_pagerank(
        directed=True, damping=damping, reset=[float(x) for x in value], weights="weight", implementation=implementation
    )
    return np.array(pr)


def _check_all(triples, ids, value, damping):
    got = _graphlabor_share(triples, ids, value, damping)
    assert got.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(got, _nx_pagerank(triples, ids, value, damping), rtol=0, atol=ATOL)
    np.testing.assert_allclose(got, _igraph_pagerank(triples, ids, value, damping), rtol=0, atol=ATOL)
    pos = {v: i for i, v in enumerate(ids)}
    dense = reference.pagerank_absorbing(len(ids), [(pos[u], pos[v], w) for u, v, w in triples], damping, value)
    np.testing.assert_allclose(got, dense, rtol=0, atol=1e-11)
    return got


# --- Langville-Meyer: networkx's test_pagerank.py graph, node 2 dangling -----

LM_EDGES = [(1, 2), (1, 3), (3, 1), (3, 2), (3, 5), (4, 5), (4, 6), (5, 4), (5, 6), (6, 4)]
LM_IDS = [1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("damping", [0.5, 0.85, 0.9, 0.95])
@pytest.mark.parametrize("value", ["uniform", "personalized"])
def test_langville_meyer(damping, value):
    v = [1.0] * 6 if value == "uniform" else [0.0, 2.0, 1.0, 0.5, 0.0, 3.0]
    got = _check_all([(a, b, 1.0) for a, b in LM_EDGES], LM_IDS, v, damping)
    if value == "uniform":
        # node 2 is the only dangling node: it keeps all it receives, and
        # (as a self-looped node in networkx) ranks above nodes 1 and 3
        assert got[1] > got[0] and got[1] > got[2]


def test_langville_meyer_closed_form():
    # With alpha = 0.5 and uniform injections of 1, solve by hand:
    # node 1 receives from 3 (3 has out-degree 3): x1 = 1 + 0.5*x3/3
    # node 3 receives from 1 (out-degree 2):      x3 = 1 + 0.5*x1/2
    #   -> x1 = 1 + x3/6, x3 = 1 + x1/4 -> x1 = 1 + 1/6 + x1/24 -> x1 = (7/6)*(24/23) = 28/23
    #      x3 = 1 + 7/23 = 30/23
    # node 2 (dangling) keeps x2 = 1 + 0.5*x1/2 + 0.5*x3/3 = 1 + 7/23 + 5/23 = 35/23
    # nodes 4,5,6: x4 = 1 + 0.5*x5/2 + 0.5*x6, x5 = 1 + 0.5*x3/3 + 0.5*x4/2, x6 = 1 + 0.5*x4/2 + 0.5*x5/2
    # kept: 0.5*x for nodes with out-edges, x2 for node 2; total injected 6.
    x1, x3, x2 = 28 / 23, 30 / 23, 35 / 23
    A = np.array([[1, -0.25, -0.5], [-0.25, 1, 0], [-0.25, -0.25, 1]])
    b = np.array([1, 1 + 0.5 * x3 / 3, 1])
    x4, x5, x6 = np.linalg.solve(A, b)
    kept = np.array([0.5 * x1, x2, 0.5 * x3, 0.5 * x4, 0.5 * x5, 0.5 * x6])
    assert kept.sum() == pytest.approx(6.0, abs=1e-12)
    r = graphlabor.attribute(_edges([(a, b, 1.0) for a, b in LM_EDGES]), _nodes_table(LM_IDS, [1.0] * 6), damping=0.5, tol=1e-14, self_loops="keep")
    np.testing.assert_allclose(r.nodes["attributed"].to_numpy(), kept, rtol=0, atol=1e-12)
    np.testing.assert_allclose(r.nodes["share"].to_numpy(), kept / 6, rtol=0, atol=1e-12)


# --- Zachary's karate club: undirected -> both directions, via from_networkx -----


@pytest.mark.parametrize("damping", [0.6, 0.85])
@pytest.mark.parametrize("weighted", [False, True])
def test_karate_club(damping, weighted):
    G = nx.karate_club_graph()
    rng = np.random.default_rng(7)
    value = {v: float(rng.integers(0, 4)) for v in G}
    value[0] = 1.0
    H = G.copy()
    for v in H:
        H.nodes[v]["role"] = "user"
        H.nodes[v]["value"] = value[v]
    if not weighted:
        for u, v in H.edges:
            del H.edges[u, v]["weight"]
    edges, nodes = graphlabor.from_networkx(H)
    assert edges.num_rows == 2 * G.number_of_edges()
    r = graphlabor.attribute(edges, nodes, damping=damping, tol=TOL, self_loops="keep")
    got = dict(zip(r.nodes["node"].to_pylist(), r.nodes["share"].to_pylist()))
    assert sorted(got) == sorted(G)
    # karate club has no dangling node; the undirected graph is the oracle input
    pr = nx.pagerank(G, alpha=damping, personalization=value, weight="weight" if weighted else None, tol=1e-15, max_iter=100_000)
    for v in G:
        assert got[v] == pytest.approx(pr[v], abs=ATOL)
    # the carried-through node attribute
    clubs = dict(zip(r.nodes["node"].to_pylist(), r.nodes["club"].to_pylist()))
    assert clubs == {v: G.nodes[v]["club"] for v in G}
    # igraph on the same undirected graph
    g = ig.Graph.from_networkx(G)
    ipr = g.personalized_pagerank(
        damping=damping, reset=[value[v] for v in g.vs["_nx_name"]], weights="weight" if weighted else None
    )
    for name, p in zip(g.vs["_nx_name"], ipr):
        assert got[name] == pytest.approx(p, abs=ATOL)


# --- random directed graphs: dangling nodes, weights, duplicates, self-loops -----


def _random_graph(seed, n, m, *, weighted, dangling_frac=0.2, duplicates=True):
    rng = np.random.default_rng(seed)
    ids = sorted(rng.choice(10 * n, size=n, replace=False).tolist())
    n_dangling = max(1, int(dangling_frac * n))
    senders = ids[n_dangling:]  # the first n_dangling ids have no out-edge
    src = rng.choice(senders, size=m)
    dst = rng.choice(ids, size=m)
    w = rng.uniform(0.1, 5.0, size=m) if weighted else np.ones(m)
    triples = [(int(a), int(b), float(c)) for a, b, c in zip(src, dst, w)]
    if duplicates:
        triples += triples[: m // 5]  # parallel edges add up
    value = rng.uniform(0, 1, size=n) * (rng.uniform(size=n) < 0.6)
    value[-1] = 1.0
    return triples, ids, value.tolist()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("damping", [0.3, 0.85, 0.95])
def test_random_directed(seed, weighted, damping):
    triples, ids, value = _random_graph(seed, 60, 240, weighted=weighted)
    _check_all(triples, ids, value, damping)


def test_duplicate_edges_equal_summed_weights():
    # a->b twice with weight 1 is the same as a->b once with weight 2 (multigraph semantics)
    dup = [(1, 2, 1.0), (1, 2, 1.0), (1, 3, 1.0), (3, 1, 1.0)]
    merged = [(1, 2, 2.0), (1, 3, 1.0), (3, 1, 1.0)]
    ids, value = [1, 2, 3], [1.0, 0.0, 0.5]
    a = _check_all(dup, ids, value, 0.85)
    b = _check_all(merged, ids, value, 0.85)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)
    # 1 passes 2/3 of its share to 2, 1/3 to 3: differs from the simple-graph answer
    simple = reference.pagerank_absorbing(3, [(0, 1, 1.0), (0, 2, 1.0), (2, 0, 1.0)], 0.85, value)
    assert np.abs(a - simple).max() > 1e-3


def test_self_loops_are_ordinary_edges():
    triples = [(0, 0, 1.0), (0, 1, 1.0), (1, 2, 3.0), (2, 2, 1.0), (2, 0, 1.0)]
    _check_all(triples, [0, 1, 2, 3], [1.0, 0.0, 0.0, 2.0], 0.85)


def test_igraph_arpack_agrees():
    triples, ids, value = _random_graph(11, 40, 150, weighted=True)
    got = _graphlabor_share(triples, ids, value, 0.85)
    np.testing.assert_allclose(got, _igraph_pagerank(triples, ids, value, 0.85, "arpack"), rtol=0, atol=ATOL)


def test_string_ids_same_pagerank():
    triples, ids, value = _random_graph(3, 30, 100, weighted=True)
    name = {v: f"user-{v:05d}" for v in ids}
    edges = pa.table(
        {
            "source": [name[u] for u, _, _ in triples],
            "target": [name[v] for _, v, _ in triples],
            "weight": [w for _, _, w in triples],
        }
    )
    r = graphlabor.attribute(edges, pa.table({"id": [name[v] for v in ids], "role": ["user"] * len(ids), "value": value}), tol=TOL, self_loops="keep")
    got = dict(zip(r.nodes["node"].to_pylist(), r.nodes["share"].to_pylist()))
    pr = _nx_pagerank(triples, ids, value, 0.85)
    for v, p in zip(ids, pr):
        assert got[name[v]] == pytest.approx(p, abs=ATOL)
