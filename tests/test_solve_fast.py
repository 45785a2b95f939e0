"""solve(): the kernel choice (pull or propagation blocking) never changes a bit of the result.

Oracles: networkx's personalized PageRank on graphs without dangling nodes
(where it equals ``(1 - damping) * held``), and the pull kernel for exact
equality.
"""

from __future__ import annotations

import os
import subprocess
import sys

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphlabor import kernels as K
from graphlabor.graph import build_flow_graph
from graphlabor.params import ModelParams
from graphlabor.solve import choose_kernel, propagate, solve


def _user_graph(n, m, seed):
    """Random user-only graph where every node has an out-edge (no dangling nodes)."""
    rng = np.random.default_rng(seed)
    src = np.concatenate([np.arange(n), rng.integers(0, n, m - n)])
    dst = rng.integers(0, n, m)
    dst = np.where(dst == src, (dst + 1) % n, dst)
    w = rng.uniform(0.5, 2.0, m)
    return src.astype(np.uint32), dst.astype(np.uint32), w


@pytest.mark.parametrize("kernel", ["pull", "blocked"])
def test_solve_equals_networkx_pagerank(kernel, monkeypatch):
    n, m = 3000, 20_000
    src, dst, w = _user_graph(n, m, seed=1)
    params = ModelParams(damping=0.85, tol=1e-13, max_iter=10_000)
    g = build_flow_graph(src, dst, w, np.zeros(n, np.int8), params)
    s = np.zeros(n)
    s[::37] = np.arange(1, len(s[::37]) + 1)
    monkeypatch.setenv("GRAPHLABOR_KERNEL", kernel)
    sol = solve(g, s, params)
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    for a, b, c in zip(src.tolist(), dst.tolist(), w.tolist()):
        if G.has_edge(a, b):
            G[a][b]["weight"] += c
        else:
            G.add_edge(a, b, weight=c)
    pr = nx.pagerank(G, alpha=0.85, personalization=dict(enumerate(s)), tol=1e-14, max_iter=10_000)
    want = np.array([pr[i] for i in range(n)]) * s.sum()
    np.testing.assert_allclose(sol.kept, want, rtol=1e-8, atol=1e-10 * s.sum())
    assert sol.kept.sum() == pytest.approx(s.sum(), rel=1e-12)


def test_kernels_give_the_same_bits(monkeypatch):
    n, m = 40_000, 300_000
    src, dst, w = _user_graph(n, m, seed=2)
    role = np.zeros(n, np.int8)
    role[::1000] = K.PLATFORM  # some platforms: value flows both ways
    params = ModelParams(damping=0.7, platform_share=0.1, tol=1e-12)
    g = build_flow_graph(src, dst, w, role, params)
    s = np.where(role == K.PLATFORM, 5.0, 0.0)
    sols = {}
    for kernel in ("pull", "blocked"):
        monkeypatch.setenv("GRAPHLABOR_KERNEL", kernel)
        sols[kernel] = solve(g, s, params)
    a, b = sols["pull"], sols["blocked"]
    assert np.array_equal(a.held, b.held) and np.array_equal(a.kept, b.kept)
    assert (a.n_iter, a.residual) == (b.n_iter, b.residual)


def test_propagate_rejects_unknown_kernel():
    T = K.build_csr(np.array([0], np.uint32), np.array([1], np.uint32), np.array([0.5]), 2)
    with pytest.raises(ValueError, match="kernel"):
        propagate(*T, np.ones(2), 1e-9, 10, kernel="magic")


def test_choose_kernel(monkeypatch):
    monkeypatch.delenv("GRAPHLABOR_KERNEL", raising=False)
    assert choose_kernel(1000, 10_000) == "pull"  # too small for the layout to pay
    assert choose_kernel(10**6, 10**7) == "blocked"
    assert choose_kernel(10**5, 10**6) == "blocked"  # short rows
    assert choose_kernel(66_000, 2_400_000) == "blocked"
    assert choose_kernel(30_000, 3_000_000) == "pull"  # vector in L2, very long rows
    monkeypatch.setenv("GRAPHLABOR_KERNEL", "pull")
    assert choose_kernel(10**6, 10**7) == "pull"


def test_cli_output_identical_with_either_kernel(tmp_path):
    rng = np.random.default_rng(5)
    n_users, m = 3000, 30_000
    users = [f"u{i:05d}" for i in range(n_users)]
    a = rng.integers(0, n_users, m)
    b = rng.integers(0, n_users, m)
    src = [users[i] for i in a] + [users[i] for i in a[:2000]] + ["adv"] * 3
    dst = [users[i] for i in b] + ["P"] * 2000 + ["P", "Q", "P"]
    kind = ["view"] * m + ["click"] * 2000 + ["spend"] * 3
    amount = [None] * (m + 2000) + [100.0, 50.0, 25.0]
    pq.write_table(pa.table({"src": src, "dst": dst, "kind": kind, "amount": amount}), tmp_path / "e.parquet")
    outs = []
    for kernel in ("pull", "blocked"):
        out = tmp_path / f"{kernel}.csv"
        env = dict(os.environ, GRAPHLABOR_KERNEL=kernel)
        env.pop("NUMBA_DISABLE_JIT", None)
        p = subprocess.run(
            [sys.executable, "-m", "graphlabor", "attribute", str(tmp_path / "e.parquet"), "-o", str(out), "-q"],
            capture_output=True, text=True, env=env, timeout=600, check=False,
        )
        assert p.returncode == 0, p.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    assert len(outs[0].splitlines()) == n_users + 3 + 1
