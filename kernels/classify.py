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


@njit
def _to_global(
    codes: U32, kind_codes: U16, src: U32, dst: U32, kind: U16, value: F64, seconds: I64,
    out_src: U32, out_dst: U32, out_kind: U16, out_value: F64, out_seconds: I64, start: int,
) -> int:
    n = codes.shape[0]
    n_kinds = kind_codes.shape[0]
    timed = out_seconds.shape[0] > 0
    bad = 0
    for k in range(src.shape[0]):
        j = start + k
        s = src[k]
        d = dst[k]
        t = kind[k]
        if s < n and d < n and t < n_kinds:
            out_src[j] = codes[s]
            out_dst[j] = codes[d]
            out_kind[j] = kind_codes[t]
        else:
            bad += 1
        out_value[j] = value[k]
        if timed:
            out_seconds[j] = seconds[k]
    return bad


def to_global(
    codes: U32, kind_codes: U16, chunk: tuple[U32, U32, U16, F64, I64 | None],
    out: tuple[U32, U32, U16, F64, I64 | None], start: int,
) -> None:
    """Copy one chunk's edges into rows ``start ..`` of ``out``, its local node and kind codes made global.

    The remap of streamed ingestion (:meth:`graphlabor.stream.Merged.classify`):
    a row group's edges are coded among its own ids, ``codes[c]`` is the
    global code of local code ``c``. One serial pass that releases the GIL:
    chunks going to disjoint rows of ``out`` may be copied by threads at once.

    Parameters
    ----------
    codes : ndarray of uint32
        Global node code of each local code.
    kind_codes : ndarray of uint16
        Global kind code of each local kind code.
    chunk : tuple (src, dst, kind, value, seconds or None)
        The chunk's edges: uint32, uint32, uint16, float64, int64.
    out : tuple (src, dst, kind, value, seconds or None)
        The output arrays, same dtypes, at least ``start + len(src)`` rows;
        ``seconds`` given in both or in neither.
    start : int
        Row of ``out`` the chunk's first edge goes to.

    Raises
    ------
    ValueError
        A local code past the end of ``codes`` or ``kind_codes``, or arrays
        that do not fit (nothing is read out of bounds).

    Examples
    --------
    >>> import numpy as np
    >>> out = (np.zeros(3, np.uint32), np.zeros(3, np.uint32), np.zeros(3, np.uint16), np.zeros(3), None)
    >>> to_global(np.array([7, 3], np.uint32), np.array([4], np.uint16),
    ...           (np.array([1, 0], np.uint32), np.array([0, 0], np.uint32), np.zeros(2, np.uint16),
    ...            np.array([0.5, 2.0]), None), out, 1)
    >>> out[0].tolist(), out[1].tolist(), out[2].tolist(), out[3].tolist()
    ([0, 3, 7], [0, 7, 7], [0, 4, 4], [0.0, 0.5, 2.0])
    """
    src, dst, kind, value, seconds = chunk
    o_src, o_dst, o_kind, o_value, o_seconds = out
    m = len(src)
    arrays: tuple[np.ndarray, ...] = (src, dst, kind, value, o_src, o_dst, o_kind, o_value, codes, kind_codes)
    dtypes: tuple[type, ...] = (np.uint32, np.uint32, np.uint16, np.float64) * 2 + (np.uint32, np.uint16)
    if any(a.dtype != t or a.ndim != 1 or not a.flags.c_contiguous for a, t in zip(arrays, dtypes)):
        raise ValueError("to_global: arrays of uint32 ids, uint16 kinds, float64 values and C order expected")
    if (seconds is None) != (o_seconds is None):
        raise ValueError("to_global: seconds given in only one of chunk and out")
    if not (len(dst) == len(kind) == len(value) == m and (seconds is None or len(seconds) == m)):
        raise ValueError("to_global: the chunk's arrays differ in length")
    if start < 0 or any(len(a) < start + m for a in out if a is not None):
        raise ValueError(f"to_global: rows {start}..{start + m} do not fit in out")
    none = np.empty(0, np.int64)
    bad = _to_global(codes, kind_codes, src, dst, kind, value, none if seconds is None else seconds,
                     o_src, o_dst, o_kind, o_value, none if o_seconds is None else o_seconds, start)
    if bad:
        raise ValueError(f"to_global: {bad} edges hold a local code past the end of codes or kind_codes")


@njit
def _or_at(flags: U8, at: U32, values: U8) -> int:
    n = flags.shape[0]
    bad = 0
    for k in range(at.shape[0]):
        i = at[k]
        if i < n:
            flags[i] |= values[k]
        else:
            bad += 1
    return bad


def or_at(flags: U8, at: U32, values: U8) -> None:
    """``flags[at] |= values`` in place (one serial pass that releases the GIL).

    >>> import numpy as np
    >>> f = np.array([1, 0, 0], np.uint8)
    >>> or_at(f, np.array([2, 0], np.uint32), np.array([4, 2], np.uint8))
    >>> f.tolist()
    [3, 0, 4]
    """
    if flags.dtype != np.uint8 or values.dtype != np.uint8 or at.dtype != np.uint32 or len(at) != len(values):
        raise ValueError("or_at: uint8 flags and values, uint32 positions of the same length expected")
    if _or_at(flags, np.ascontiguousarray(at), np.ascontiguousarray(values)):
        raise ValueError(f"or_at: a position past the end of flags (length {len(flags)})")
