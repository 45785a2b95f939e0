"""Rank agreement: Kendall's tau-b and Spearman's rho, with ties, in O(n log n).

Both equal SciPy's ``scipy.stats.kendalltau`` (variant ``b``) and
``scipy.stats.spearmanr`` (tests check that), without making SciPy a
run-time dependency.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from .kernels.inversions import count_inversions


def dense_codes(x: np.ndarray) -> np.ndarray:
    """Dense integer codes of ``x``: equal values share a code, order kept.

    >>> dense_codes(np.array([3.0, 1.0, 3.0, 2.0])).tolist()
    [2, 0, 2, 1]
    """
    _, inv = np.unique(np.asarray(x), return_inverse=True)
    return inv.astype(np.int64).reshape(-1)


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n with ties given their average rank (SciPy's ``rankdata``).

    >>> average_ranks(np.array([10.0, 20.0, 10.0, 5.0])).tolist()
    [2.5, 4.0, 2.5, 1.0]
    """
    x = np.asarray(x)
    n = x.size
    order = np.argsort(x, kind="stable")
    xs = x[order]
    new = np.empty(n, dtype=bool)
    if n:
        new[0] = True
        new[1:] = xs[1:] != xs[:-1]
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], n)
    avg = (starts + ends + 1) / 2.0  # mean of ranks starts+1 .. ends
    group = np.cumsum(new) - 1
    out = np.empty(n)
    out[order] = avg[group]
    return out


def _tied_pairs(codes: np.ndarray) -> int:
    counts = np.bincount(codes).astype(np.int64)
    return int((counts * (counts - 1) // 2).sum())


def kendall_tau(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall's tau-b of two equally long sequences (NaN when one is constant).

    ``tau_b = (C - D) / sqrt((P - T_x) (P - T_y))`` with ``P = n(n-1)/2``
    pairs, ``C``/``D`` concordant/discordant pairs and ``T_x``/``T_y`` pairs
    tied in ``x``/``y``. ``D`` is the number of inversions of ``y`` sorted by
    ``(x, y)``.

    >>> round(kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]), 12)
    0.666666666667
    """
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape:
        raise ValueError("x and y must have the same length")
    n = x.size
    if n < 2:
        return float("nan")
    cx, cy = dense_codes(x), dense_codes(y)
    order = np.lexsort((cy, cx))
    cx, cy = cx[order], cy[order]
    dis = count_inversions(cy)
    xtie = _tied_pairs(cx)
    ytie = _tied_pairs(cy)
    joint = dense_codes(cx * (int(cy.max()) + 1) + cy)
    ntie = _tied_pairs(joint)
    tot = n * (n - 1) // 2
    if xtie == tot or ytie == tot:
        return float("nan")
    con_minus_dis = tot - xtie - ytie + ntie - 2 * dis
    return float(con_minus_dis / math.sqrt(tot - xtie) / math.sqrt(tot - ytie))


def spearman_rho(x: ArrayLike, y: ArrayLike) -> float:
    """Spearman's rho: Pearson correlation of average ranks (NaN when one is constant).

    >>> spearman_rho([1, 2, 3, 4], [1, 3, 2, 4])
    0.8
    """
    rx, ry = average_ranks(np.asarray(x)), average_ranks(np.asarray(y))
    if rx.size < 2:
        return float("nan")
    rx = rx - rx.mean()
    ry = ry - ry.mean()
    den = math.sqrt(float(np.dot(rx, rx)) * float(np.dot(ry, ry)))
    return float(np.dot(rx, ry) / den) if den > 0 else float("nan")
