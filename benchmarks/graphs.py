"""Seeded power-law graphs for the kernel benchmarks.

A directed Chung-Lu graph: edge ends are drawn independently with
probability proportional to node weights ``(rank + 1) ** -beta`` (a
power-law degree tail with exponent ``1 + 1 / beta``), node ids are then
shuffled so that ids carry no locality (the worst case for propagation), and
edges are put in random order.

Two properties make every tool's answer comparable (see ``run.py``):

- every node has at least one out-edge (no dangling nodes), so personalized
  PageRank with damping ``a`` equals ``(1 - a) x`` with ``x = s + a P x``,
  whatever each tool does with dangling mass;
- no self-loops and no duplicate ``(src, dst)`` pairs, so simple-graph tools
  (networkx ``DiGraph``) and multigraph tools see the same graph.

Weights are drawn uniformly from ``[0.5, 2)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Weight exponents: out-degree tail ~2.7, in-degree tail ~2.25.
BETA_OUT = 0.6
BETA_IN = 0.8
#: Nodes per edge.
EDGES_PER_NODE = 10


@dataclass
class EdgeArrays:
    """A generated graph: ``src -> dst`` with ``weight``, ``n`` nodes."""

    n: int
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    seed: int

    @property
    def m(self) -> int:
        return int(self.src.shape[0])


def _draw(rng, n: int, beta: float, k: int) -> np.ndarray:
    """``k`` ranks in ``[0, n)`` with density ``(x + 1) ** -beta`` (inverse CDF)."""
    e = 1.0 - beta
    u = rng.random(k)
    x = np.power(1.0 + u * ((n + 1.0) ** e - 1.0), 1.0 / e) - 1.0
    return np.minimum(x, n - 1).astype(np.uint32)


def _unique_sorted(k: np.ndarray) -> np.ndarray:
    k = np.sort(k)
    keep = np.empty(k.shape[0], dtype=bool)
    keep[:1] = True
    np.not_equal(k[1:], k[:-1], out=keep[1:])
    return k[keep]


def power_law_graph(m: int, seed: int = 0, n: int | None = None) -> EdgeArrays:
    """Generate a directed power-law graph with exactly ``m`` distinct edges.

    Parameters
    ----------
    m : int
        Number of edges.
    seed : int
    n : int, optional
        Number of nodes (default ``m // 10``).

    Returns
    -------
    EdgeArrays
        ``src``, ``dst`` as uint32, ``weight`` as float64.
    """
    m = int(m)
    n = int(n if n is not None else max(m // EDGES_PER_NODE, 2))
    if m < n:
        raise ValueError(f"need m >= n so that every node has an out-edge (m={m}, n={n})")
    rng = np.random.default_rng(seed)
    # one out-edge per node, then the rest by weight; in-ends by weight
    src = np.concatenate([np.arange(n, dtype=np.uint32), _draw(rng, n, BETA_OUT, m - n)])
    dst = _draw(rng, n, BETA_IN, m)
    keys = np.empty(0, dtype=np.uint64)
    rounds = 0
    while True:
        rounds += 1
        loop = src == dst
        dst[loop] = (dst[loop] + np.uint32(1)) % np.uint32(n)
        k = _unique_sorted((src.astype(np.uint64) << np.uint64(32)) | dst.astype(np.uint64))
        drawn = k.shape[0]
        if keys.shape[0]:
            k = k[~np.isin(k, keys, assume_unique=True)]
        fresh = k.shape[0] / max(drawn, 1)
        keys = np.sort(np.concatenate([keys, k])) if keys.shape[0] else k
        short = m - keys.shape[0]
        if short <= 0 or rounds > 50:
            break
        extra = int(short / max(fresh, 0.05) * 1.2) + 16
        src = _draw(rng, n, BETA_OUT, extra)
        dst = _draw(rng, n, BETA_IN, extra)
    if keys.shape[0] > m:
        # drop surplus keys, never a node's only out-edge
        first = np.ones(keys.shape[0], dtype=bool)
        s_all = (keys >> np.uint64(32)).astype(np.uint32)
        first[1:] = s_all[1:] != s_all[:-1]
        extra = np.flatnonzero(~first)
        drop = rng.choice(extra, keys.shape[0] - m, replace=False)
        keep = np.ones(keys.shape[0], dtype=bool)
        keep[drop] = False
        keys = keys[keep]
        del s_all, first, keep
    keys = keys[rng.permutation(keys.shape[0])]
    relabel = rng.permutation(n).astype(np.uint32)
    src = relabel[(keys >> np.uint64(32)).astype(np.uint32)]
    dst = relabel[(keys & np.uint64(0xFFFFFFFF)).astype(np.uint32)]
    del keys
    weight = rng.uniform(0.5, 2.0, m)
    return EdgeArrays(n, src, dst, weight, seed)


def personalization(n: int, seed: int = 0) -> np.ndarray:
    """A seeded personalization vector summing to 1 (about 1% of nodes nonzero)."""
    rng = np.random.default_rng(seed + 7919)
    k = max(1, n // 100)
    s = np.zeros(n, dtype=np.float64)
    idx = rng.choice(n, k, replace=False)
    s[idx] = rng.uniform(0.5, 2.0, k)
    s /= s.sum()
    return s
