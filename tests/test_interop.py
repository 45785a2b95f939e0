"""from_networkx / from_igraph: graphs with kind/weight/amount and role/value attributes."""

from __future__ import annotations

import igraph as ig
import networkx as nx
import pyarrow as pa
import pytest

import graphlabor
import reference
from conftest import by_node
from examples import DAMPING, EDGES, KIND_WEIGHTS, ROLES, SHARE_025, check_rows

HAND = dict(damping=DAMPING, platform_share=0.25, kind_weights=KIND_WEIGHTS, tol=1e-13)


def _hand_multidigraph():
    G = nx.MultiDiGraph()
    for a, b, kind, w, amount in EDGES:
        attrs = {"kind": kind, "weight": float(w)}
        if amount is not None:
            attrs["amount"] = float(amount)
        G.add_edge(a, b, **attrs)
    return G


def test_from_networkx_hand_example():
    G = _hand_multidigraph()
    edges, nodes = graphlabor.from_networkx(G)
    assert edges.num_rows == len(EDGES)
    assert {"src", "dst", "kind", "weight", "amount"} <= set(edges.column_names)
    r = graphlabor.attribute(edges, nodes, **HAND)
    check_rows(by_node(r.nodes), SHARE_025)


def test_from_networkx_node_attributes_and_isolated():
    G = _hand_multidigraph()
    G.add_node("X", role="advertiser", value=5.0, family="ads")
    G.add_node("iso", family="none")
    G.nodes["u1"]["family"] = "social"
    edges, nodes = graphlabor.from_networkx(G)
    r = graphlabor.attribute(edges, nodes, **HAND)
    rows = by_node(r.nodes)
    check_rows(rows, SHARE_025 | {"X": 5.0, "iso": 0.0}, total=215.0, roles=ROLES | {"X": "advertiser", "iso": "user"})
    assert rows["iso"]["family"] == "none" and rows["u1"]["family"] == "social" and rows["u2"]["family"] is None


def test_from_networkx_isolated_without_attributes():
    G = nx.DiGraph([(1, 2), (2, 3)])
    G.add_node(7)
    edges, nodes = graphlabor.from_networkx(G)
    r = graphlabor.attribute(edges, nodes, allow_empty=True)
    assert r.nodes["node"].to_pylist() == [1, 2, 3, 7]
    assert r.nodes["role"].to_pylist() == ["user"] * 4


def test_from_networkx_multigraph_keeps_parallel_edges():
    # u -> P twice (weight 1 each) and v -> P once: u gets 2/3 of P's 90
    G = nx.MultiDiGraph()
    G.add_edge("ad", "P", kind="spend", amount=90.0)
    G.add_edge("u", "P", kind="click")
    G.add_edge("u", "P", kind="click")
    G.add_edge("v", "P", kind="click")
    edges, nodes = graphlabor.from_networkx(G)
    assert edges.num_rows == 4
    rows = by_node(graphlabor.attribute(edges, nodes).nodes)
    assert rows["u"]["attributed"] == pytest.approx(60.0) and rows["v"]["attributed"] == pytest.approx(30.0)


def test_from_networkx_undirected_both_directions():
    G = nx.Graph()
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("b", "c")
    G.nodes["a"]["value"] = 1.0
    edges, nodes = graphlabor.from_networkx(G)
    pairs = sorted(zip(edges["src"].to_pylist(), edges["dst"].to_pylist()))
    assert pairs == [("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")]
    r = graphlabor.attribute(edges, nodes, damping=0.5, tol=1e-14)
    got = by_node(r.nodes)
    ref = reference.attribute(
        [("a", "b", "interaction", 2.0), ("b", "a", "interaction", 2.0), ("b", "c", "interaction", 1.0), ("c", "b", "interaction", 1.0)],
        {"a": {"value": 1.0}},
        damping=0.5,
    )
    for v in "abc":
        assert got[v]["attributed"] == pytest.approx(ref.attributed[v], abs=1e-12)


def _hand_igraph(named=True):
    names = sorted({v for e in EDGES for v in e[:2]})
    pos = {v: i for i, v in enumerate(names)}
    g = ig.Graph(n=len(names), edges=[(pos[a], pos[b]) for a, b, *_ in EDGES], directed=True)
    if named:
        g.vs["name"] = names
    g.es["kind"] = [e[2] for e in EDGES]
    g.es["weight"] = [float(e[3]) for e in EDGES]
    g.es["amount"] = [None if e[4] is None else float(e[4]) for e in EDGES]
    return g, names


def test_from_igraph_hand_example():
    g, _ = _hand_igraph()
    edges, nodes = graphlabor.from_igraph(g)
    assert edges.num_rows == len(EDGES)
    r = graphlabor.attribute(edges, nodes, **HAND)
    check_rows(by_node(r.nodes), SHARE_025)


def test_from_igraph_without_names_and_node_attributes():
    g, names = _hand_igraph(named=False)
    g.add_vertices(2)  # two isolated vertices
    g.vs[len(names)]["role"] = "advertiser"
    g.vs[len(names)]["value"] = 5.0
    g.vs["family"] = ["f"] * g.vcount()
    edges, nodes = graphlabor.from_igraph(g)
    r = graphlabor.attribute(edges, nodes, **HAND)
    assert pa.types.is_integer(r.nodes["node"].type)
    assert r.nodes["node"].to_pylist() == list(range(g.vcount()))
    rows = by_node(r.nodes)
    for i, v in enumerate(names):
        assert rows[i]["attributed"] == pytest.approx(SHARE_025[v], abs=1e-9)
        assert rows[i]["role"] == ROLES[v]
    assert rows[len(names)]["attributed"] == pytest.approx(5.0) and rows[len(names)]["role"] == "advertiser"
    assert rows[len(names) + 1]["attributed"] == 0.0 and rows[len(names) + 1]["role"] == "user"
    assert set(r.nodes["family"].to_pylist()) == {"f"}


def test_from_igraph_undirected_and_multi():
    g = ig.Graph(n=3, edges=[(0, 1), (0, 1), (1, 2)], directed=False)
    g.vs["name"] = ["a", "b", "c"]
    g.vs["value"] = [1.0, 0.0, 0.0]
    edges, nodes = graphlabor.from_igraph(g)
    assert edges.num_rows == 6
    r = graphlabor.attribute(edges, nodes, damping=0.5, tol=1e-14)
    ref = reference.attribute(
        [("a", "b"), ("b", "a"), ("a", "b"), ("b", "a"), ("b", "c"), ("c", "b")], {"a": {"value": 1.0}}, damping=0.5
    )
    got = by_node(r.nodes)
    for v in "abc":
        assert got[v]["attributed"] == pytest.approx(ref.attributed[v], abs=1e-12)
