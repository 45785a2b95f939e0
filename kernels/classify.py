"""Kernels that sort edges into classes and read roles off them, one pass each.

Edge classes are coded ``CONTRIBUTION = 0``, ``REVENUE = 1``, ``PAY = 2``
(the kind of an edge decides its class). Rows keep their input order within a
class, so that results never depend on how the classes were interleaved.
"""

from __future__ import annotations

import numpy as np

from numpy.typing import ArrayLike

from ._jit import njit
from ._types import F64, I64, U8, U16, U32, Ints

CONTRIBUTION = 0
REVENUE = 1
PAY = 2

#: :func:`node_evidence` flags: one bit per (class, direction) of a node's edges
RECEIVES_REVENUE = 1
SENDS_REVENUE = 2
SENDS_PAY = 4
RECEIVES_PAY = 8
SENDS_CONTRIBUTION = 16
RECEIVES_CONTRIBUTION = 32
#: evidence of each role (see :mod:`graphlabor.roles` for the rules)
PLATFORM_EVIDENCE = RECEIVES_REVENUE | SENDS_PAY
ADVERTISER_EVIDENCE = SENDS_REVENUE
USER_EVIDENCE = SENDS_CONTRIBUTION | RECEIVES_PAY


@njit
def node_evidence(src: U32, dst: U32, edge_class: U8, n: int) -> U8:
    """Per node, what its edges say of its role, as bit flags.

    Parameters
    ----------
    src, dst : ndarray of uint32
    edge_class : ndarray of uint8
    n : int

    Returns
    -------
    flags : ndarray of uint8, shape (n,)
        ``RECEIVES_REVENUE`` (1), ``SENDS_REVENUE`` (2), ``SENDS_PAY`` (4),
        ``RECEIVES_PAY`` (8), ``SENDS_CONTRIBUTION`` (16),
        ``RECEIVES_CONTRIBUTION`` (32): the node is that end of at least one
        edge of that class.

    Examples
    --------
    >>> import numpy as np
    >>> node_evidence(np.array([0, 2], np.uint32), np.array([1, 1], np.uint32),
    ...               np.array([REVENUE, CONTRIBUTION], np.uint8), 3).tolist()
    [2, 33, 16]
    """
    flags = np.zeros(n, dtype=np.uint8)
    for k in range(src.shape[0]):
        c = edge_class[k]
        if c == REVENUE:
            flags[src[k]] |= SENDS_REVENUE
            flags[dst[k]] |= RECEIVES_REVENUE
        elif c == PAY:
            flags[src[k]] |= SENDS_PAY
            flags[dst[k]] |= RECEIVES_PAY
        else:
            flags[src[k]] |= SENDS_CONTRIBUTION
            flags[dst[k]] |= RECEIVES_CONTRIBUTION
    return flags


@njit
def _class_counts(edge_class: U8) -> I64:
    counts = np.zeros(3, dtype=np.int64)
    for k in range(edge_class.shape[0]):
        counts[edge_class[k]] += 1
    return counts


@njit
def _split(
    src: U32, dst: U32, kind: Ints, edge_class: U8, weight: F64, weight_of_kind: F64, seconds: I64, counts: I64
) -> tuple[U32, U32, U16, F64, I64, I64, I64]:
    m0, m1, m2 = counts[0], counts[1], counts[2]
    timed = seconds.shape[0] > 0
    c_src = np.empty(m0, np.uint32)
    c_dst = np.empty(m0, np.uint32)
    c_kind = np.empty(m0, np.uint16)
    c_value = np.empty(m0, np.float64)
    c_sec = np.empty(m0 if timed else 0, np.int64)
    r_rows = np.empty(m1, np.int64)
    p_rows = np.empty(m2, np.int64)
    a = 0
    b = 0
    c = 0
    for k in range(src.shape[0]):
        cls = edge_class[k]
        if cls == CONTRIBUTION:
            c_src[a] = src[k]
            c_dst[a] = dst[k]
            c_kind[a] = kind[k]
            c_value[a] = weight[k] * weight_of_kind[kind[k]]
            if timed:
                c_sec[a] = seconds[k]
            a += 1
        elif cls == REVENUE:
            r_rows[b] = k
            b += 1
        else:
            p_rows[c] = k
            c += 1
    return c_src, c_dst, c_kind, c_value, c_sec, r_rows, p_rows


def split_by_class(
    src: ArrayLike,
    dst: ArrayLike,
    kind: ArrayLike,
    edge_class: ArrayLike,
    weight: ArrayLike,
    weight_of_kind: ArrayLike,
    seconds: ArrayLike | None = None,
) -> tuple[tuple[U32, U32, U16, F64, I64 | None], I64, I64]:
    """Contribution edges as arrays with their weights; rows of the revenue and pay edges.

    Parameters
    ----------
    src, dst : ndarray of uint32
    kind : ndarray of unsigned int
        Kind code per edge (below 2**16).
    edge_class : ndarray of uint8
    weight : ndarray of float64
        The ``weight`` column.
    weight_of_kind : ndarray of float64
        Multiplier per kind code.
    seconds : ndarray of int64, optional
        Timestamps, carried along for contribution edges.

    Returns
    -------
    contribution : tuple (src, dst, kind, value, seconds or None)
        ``value = weight x weight_of_kind[kind]``, rows in input order.
    revenue_rows, pay_rows : ndarray of int64
        Input rows of the revenue and pay edges, ascending.

    Examples
    --------
    >>> import numpy as np
    >>> (s, d, k, v, t), rev, pay = split_by_class(
    ...     np.array([0, 1, 2], np.uint32), np.array([1, 2, 0], np.uint32),
    ...     np.array([0, 1, 0], np.uint32), np.array([CONTRIBUTION, REVENUE, CONTRIBUTION], np.uint8),
    ...     np.array([1.0, 1.0, 3.0]), np.array([2.0, 1.0]))
    >>> s.tolist(), v.tolist(), rev.tolist(), pay.tolist(), t is None
    ([0, 2], [2.0, 6.0], [1], [], True)
    """
    edge_class = np.ascontiguousarray(edge_class, dtype=np.uint8)
    counts = _class_counts(edge_class)
    timed = seconds is not None
    sec = np.ascontiguousarray(seconds, dtype=np.int64) if timed else np.empty(0, np.int64)
    c_src, c_dst, c_kind, c_value, c_sec, r_rows, p_rows = _split(
        np.ascontiguousarray(src, dtype=np.uint32), np.ascontiguousarray(dst, dtype=np.uint32),
        np.ascontiguousarray(kind), edge_class, np.ascontiguousarray(weight, dtype=np.float64),
        np.ascontiguousarray(weight_of_kind, dtype=np.float64), sec, counts,
    )
    return (c_src, c_dst, c_kind, c_value, c_sec if timed else None), r_rows, p_rows
