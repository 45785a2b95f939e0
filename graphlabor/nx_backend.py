"""A NetworkX backend: ``nx.pagerank(G, backend="graphlabor")`` runs graphlabor's kernels.

NetworkX dispatches a call with ``backend="graphlabor"`` here: the graph is
converted once to a :class:`GraphlaborGraph` (node list and weighted edge
arrays), the transition matrix is built with :func:`graphlabor.kernels.build_csr`
and the iteration runs :func:`graphlabor.kernels.propagate_step`, the same
pull kernel as attribution. The algorithm is NetworkX's own, with the same
parameters and stopping rule (``sum |x_k - x_{k-1}| < N * tol``): teleport to
``personalization`` (uniform by default), and the value of dangling nodes
redistributed by ``dangling`` (default: as ``personalization``).

>>> import networkx as nx
>>> G = nx.DiGraph([(1, 2), (2, 3), (3, 1), (3, 4)])
>>> pr = nx.pagerank(G, backend="graphlabor")
>>> ref = nx.pagerank(G)
>>> max(abs(pr[n] - ref[n]) for n in G) < 1e-12
True
"""

from __future__ import annotations

from typing import Any

import numpy as np


def get_info() -> dict[str, Any]:
    """Backend metadata read by NetworkX at import (must stay light).

    No ``url``: graphlabor publishes no web address (NetworkX itself reads no backend-level ``url``);
    its documentation of the backend is the README's "NetworkX backend" section, which is also the
    package's long description (``importlib.metadata.metadata("graphlabor")["Description"]``).
    """
    from ._version import __version__

    return {
        "backend_name": "graphlabor",
        "project": "graphlabor",
        "package": "graphlabor",
        "short_summary": "Numba kernels for value propagation (personalized PageRank).",
        "version": __version__,
        "functions": {
            "pagerank": {
                "additional_docs": "Runs graphlabor's parallel pull kernel; results are identical at any thread count "
                                   "(graphlabor's README, section \"NetworkX backend\").",
            },
        },
    }


class GraphlaborGraph:
    """A graph converted for graphlabor: nodes in NetworkX order, directed weighted edges."""

    __networkx_backend__ = "graphlabor"

    def __init__(
        self, nodes: list[Any], src: np.ndarray, dst: np.ndarray, weight: np.ndarray, directed: bool, weight_attr: str | None
    ) -> None:
        self.nodes = nodes
        self.src = src
        self.dst = dst
        self.weight = weight
        self.directed = directed
        self.weight_attr = weight_attr

    def is_directed(self) -> bool:
        return self.directed

    def is_multigraph(self) -> bool:
        return False

    def __len__(self) -> int:
        return len(self.nodes)


class BackendInterface:
    """What NetworkX's dispatcher calls."""

    @staticmethod
    def convert_from_nx(G: Any, edge_attrs: dict[str, Any] | None = None, node_attrs: dict[str, Any] | None = None,
                        preserve_edge_attrs: bool = False, preserve_node_attrs: bool = False,
                        preserve_graph_attrs: bool = False, name: str | None = None,
                        graph_name: str | None = None, **kwargs: Any) -> GraphlaborGraph:
        attr, default = None, 1.0
        if edge_attrs:
            ((attr, default),) = list(edge_attrs.items())[:1]
            default = 1.0 if default is None else default
        nodes = list(G)
        pos = {n: i for i, n in enumerate(nodes)}
        src, dst, w = [], [], []
        edges = G.edges(data=attr, default=default) if attr is not None else ((u, v, 1.0) for u, v in G.edges())
        for u, v, d in edges:
            src.append(pos[u])
            dst.append(pos[v])
            w.append(float(d))
            if not G.is_directed() and u != v:
                src.append(pos[v])
                dst.append(pos[u])
                w.append(float(d))
        return GraphlaborGraph(
            nodes, np.array(src, dtype=np.uint32), np.array(dst, dtype=np.uint32),
            np.array(w, dtype=np.float64), G.is_directed(), attr,
        )

    @staticmethod
    def convert_to_nx(obj: Any, *, name: str | None = None) -> Any:
        return obj

    @staticmethod
    def can_run(name: str, args: Any, kwargs: Any) -> bool:
        return name == "pagerank"

    @staticmethod
    def should_run(name: str, args: Any, kwargs: Any) -> bool:
        return True

    @staticmethod
    def pagerank(G: GraphlaborGraph, alpha: float = 0.85, personalization: dict[Any, float] | None = None,
                 max_iter: int = 100, tol: float = 1.0e-6, nstart: dict[Any, float] | None = None,
                 weight: str | None = "weight", dangling: dict[Any, float] | None = None) -> dict[Any, float]:
        import networkx as nx

        from . import kernels as K

        n = len(G.nodes)
        if n == 0:
            return {}
        out_w = np.bincount(G.src, weights=G.weight, minlength=n)
        with np.errstate(divide="ignore"):
            inv = np.where(out_w != 0, 1.0 / np.where(out_w != 0, out_w, 1.0), 0.0)
        T = K.build_csr(G.dst, G.src, alpha * G.weight * inv[G.src], n)

        def vector(d: dict[Any, float], name: str) -> np.ndarray:
            v = np.array([d.get(node, 0.0) for node in G.nodes], dtype=np.float64)
            if d and v.sum() == 0:
                raise ZeroDivisionError(f"{name} sums to zero")
            normalized: np.ndarray = v / v.sum()
            return normalized

        x = np.full(n, 1.0 / n) if nstart is None else vector(nstart, "nstart")
        p = np.full(n, 1.0 / n) if personalization is None else vector(personalization, "personalization")
        d = p if dangling is None else vector(dangling, "dangling")
        dangling_nodes = np.flatnonzero(out_w == 0)
        out = np.empty(n)
        partials = np.empty(K.n_chunks(n))
        for it in range(max_iter):
            s = (1.0 - alpha) * p + (alpha * float(x[dangling_nodes].sum())) * d
            err = K.propagate_step(*T, x, s, out, 0, partials, check=it == 0)  # T checked once
            x, out = out, x
            if err < n * tol:
                return dict(zip(G.nodes, map(float, x)))
        raise nx.PowerIterationFailedConvergence(max_iter)


#: The object NetworkX loads from the ``networkx.backends`` entry point.
backend_interface = BackendInterface()
