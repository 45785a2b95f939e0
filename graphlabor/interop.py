"""Adapters between graphlabor's tables and networkx / igraph graphs.

A graph's edges become rows ``src, dst`` plus the edge attributes ``kind``,
``weight``, ``amount`` and ``timestamp`` where present; its nodes become rows
``id`` plus the node attributes (``role``, ``value`` and any others). Multi-
graphs keep one row per parallel edge.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    import igraph as ig
    import networkx as nx

EDGE_ATTRS = ("kind", "weight", "amount", "timestamp")


def _columns(rows: list[dict[str, Any]], names: Iterable[str]) -> dict[str, list[Any]]:
    return {k: [r.get(k) for r in rows] for k in names}


def _node_table(ids: list[Any], attrs: list[dict[str, Any]]) -> pa.Table | None:
    names = sorted({k for a in attrs for k in a})
    if not names:
        return None
    cols = {"id": ids}
    cols.update(_columns(attrs, names))
    return pa.table(cols)


def _edge_table(src: list[Any], dst: list[Any], attrs: list[dict[str, Any]]) -> pa.Table:
    present = [k for k in EDGE_ATTRS if any(k in a for a in attrs)]
    cols = {"src": src, "dst": dst}
    cols.update(_columns(attrs, present))
    if "weight" in cols:
        cols["weight"] = [1.0 if w is None else w for w in cols["weight"]]
    if "kind" in cols:
        cols["kind"] = ["interaction" if k is None else k for k in cols["kind"]]
    return pa.table(cols)


def from_networkx(G: nx.Graph) -> tuple[pa.Table, pa.Table | None]:
    """Edge and node tables from a networkx graph.

    Undirected graphs give one row per edge in each direction.

    Returns
    -------
    edges : pyarrow.Table
    nodes : pyarrow.Table or None
        None when no node has attributes; isolated nodes are kept in the
        node table either way when there is one.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph([(0, 1), (1, 2)])
    >>> edges, nodes = from_networkx(G)
    >>> edges.column_names, nodes is None
    (['src', 'dst'], True)
    """
    directed = G.is_directed()
    src, dst, attrs = [], [], []
    for u, v, a in G.edges(data=True):
        src.append(u)
        dst.append(v)
        attrs.append(a)
        if not directed and u != v:
            src.append(v)
            dst.append(u)
            attrs.append(a)
    ids = list(G.nodes)
    node_attrs = [G.nodes[n] for n in ids]
    nodes = _node_table(ids, node_attrs)
    if nodes is None and any(G.degree(n) == 0 for n in ids):
        nodes = pa.table({"id": ids})
    return _edge_table(src, dst, attrs), nodes


def from_igraph(g: ig.Graph) -> tuple[pa.Table, pa.Table | None]:
    """Edge and node tables from an igraph graph.

    Node ids are the vertex attribute ``name`` when present, else the vertex
    indices.

    Examples
    --------
    >>> import igraph as ig
    >>> g = ig.Graph(edges=[(0, 1), (1, 2)], directed=True)
    >>> edges, nodes = from_igraph(g)
    >>> edges["src"].to_pylist(), edges["dst"].to_pylist()
    ([0, 1], [1, 2])
    """
    names = g.vs["name"] if "name" in g.vs.attributes() else list(range(g.vcount()))
    src, dst, attrs = [], [], []
    eattrs = g.es.attributes()
    for e in g.es:
        a = {k: e[k] for k in eattrs if e[k] is not None}
        u, v = names[e.source], names[e.target]
        src.append(u)
        dst.append(v)
        attrs.append(a)
        if not g.is_directed() and e.source != e.target:
            src.append(v)
            dst.append(u)
            attrs.append(a)
    vattrs = [k for k in g.vs.attributes() if k != "name"]
    node_attrs = [{k: v[k] for k in vattrs if v[k] is not None} for v in g.vs]
    nodes = _node_table(list(names), node_attrs)
    if nodes is None and any(d == 0 for d in g.degree()):
        nodes = pa.table({"id": list(names)})
    return _edge_table(src, dst, attrs), nodes
