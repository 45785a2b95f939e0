"""``nx.pagerank(G, backend="graphlabor")`` against NetworkX's own implementation."""

from __future__ import annotations

import networkx as nx
import pytest


def _graphs():
    yield "karate", nx.karate_club_graph()
    G = nx.DiGraph([(1, 2), (2, 3), (3, 1), (3, 4), (4, 5)])  # 5 is dangling
    yield "dangling", G
    W = nx.gnp_random_graph(400, 0.01, directed=True, seed=3)
    for i, (u, v) in enumerate(W.edges):
        W[u][v]["weight"] = 1.0 + (i % 7)
    yield "weighted", W
    M = nx.MultiDiGraph([(0, 1), (0, 1), (1, 2), (2, 0), (2, 2)])
    yield "multigraph", M
    S = nx.DiGraph()
    S.add_nodes_from(["a", "b", "isolated"])
    S.add_edge("a", "b")
    yield "string ids and an isolated node", S


NAMES = [name for name, _ in _graphs()]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("alpha", [0.5, 0.85])
def test_matches_networkx(name, alpha):
    G = dict(_graphs())[name]  # a fresh graph: no backend conversion cached on it
    ref = nx.pagerank(G, alpha=alpha, tol=1e-12, max_iter=1000)
    got = nx.pagerank(G, alpha=alpha, tol=1e-12, max_iter=1000, backend="graphlabor")
    assert set(got) == set(ref)
    assert max(abs(got[n] - ref[n]) for n in G) < 1e-12


def test_personalization_dangling_nstart_weight():
    G = nx.gnp_random_graph(200, 0.02, directed=True, seed=5)
    for u, v in G.edges:
        G[u][v]["w"] = 1 + (u * v) % 5
    kw = dict(
        alpha=0.9,
        personalization={n: 1 + n % 3 for n in G if n % 4},
        dangling={n: 1.0 for n in list(G)[:10]},
        nstart={n: 1.0 + n for n in G},
        weight="w",
        tol=1e-12,
        max_iter=2000,
    )
    ref = nx.pagerank(G, **kw)
    got = nx.pagerank(G, backend="graphlabor", **kw)
    assert max(abs(got[n] - ref[n]) for n in G) < 1e-12


def test_non_convergence_raises_like_networkx():
    G = nx.cycle_graph(50, create_using=nx.DiGraph)
    G.add_edge(0, 25)
    with pytest.raises(nx.PowerIterationFailedConvergence):
        nx.pagerank(G, max_iter=2, tol=1e-15, backend="graphlabor")


def test_registered_backend():
    from networkx.utils.backends import backend_info

    assert "graphlabor" in backend_info
    assert "pagerank" in backend_info["graphlabor"]["functions"]


def test_backend_metadata_names_no_made_up_address():
    """graphlabor publishes no web address: the backend's metadata names none (NetworkX reads no backend-level
    ``url``) and pyproject declares no ``[project.urls]``; the README section the backend's docs point to exists."""
    import re
    import tomllib
    from pathlib import Path

    from networkx.utils.backends import backend_info

    root = Path(__file__).resolve().parents[1]
    assert "urls" not in tomllib.loads((root / "pyproject.toml").read_text())["project"]
    info = backend_info["graphlabor"]
    assert "url" not in info and not any("://" in str(v) for v in info.values())
    docs = info["functions"]["pagerank"]["additional_docs"]
    section = re.search(r'README, section "([^"]+)"', docs)
    assert section is not None, docs
    readme = (root / "README.md").read_text().splitlines()
    assert any(line.startswith("#") and line.lstrip("#").strip() == section.group(1) for line in readme), section
