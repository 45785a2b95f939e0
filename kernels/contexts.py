"""Kernels that match edges to the ``(platform, context)`` pairs that received revenue.

The pairs are numbered ``0 .. k-1`` in order of ``(context, platform)``;
``ptr[c] .. ptr[c + 1]`` are the pairs of context ``c`` and ``platform[q]``
the platform of pair ``q``. A context usually belongs to one platform, so a
lookup scans a range of length one.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, pnjit, prange
from ._types import F64, I8, I32, I64, U8, U32, U64, Arr


#: :func:`single_pairs`' marks: a context without pairs, and one with several.
NO_PAIR = np.uint64(0xFFFFFFFFFFFFFFFF)
SEVERAL_PAIRS = np.uint64(0xFFFFFFFFFFFFFFFE)


@njit
def single_pairs(ptr: I64, platform: U32) -> U64:
    """Per context, ``platform << 32 | pair`` when it has exactly one pair; else :data:`NO_PAIR` or :data:`SEVERAL_PAIRS`.

    One read per edge then matches a context that belongs to one platform
    (the usual case), instead of two at random places (``ptr``, then
    ``platform``); at 10^7 contexts those reads miss the cache.

    >>> import numpy as np
    >>> single_pairs(np.array([0, 1, 1, 3]), np.array([5, 4, 5], np.uint32)).tolist() == [
    ...     5 << 32 | 0, int(NO_PAIR), int(SEVERAL_PAIRS)]
    True
    """
    n = ptr.shape[0] - 1
    out = np.empty(n, np.uint64)
    for c in range(n):
        a = ptr[c]
        b = ptr[c + 1]
        if b == a:
            out[c] = NO_PAIR
        elif b - a == 1:
            out[c] = (np.uint64(platform[a]) << np.uint64(32)) | np.uint64(a)
        else:
            out[c] = SEVERAL_PAIRS
    return out


@pnjit
def match_pairs(dst: U32, context: I32, ptr: I64, platform: U32, single: U64, out: I32) -> None:
    """Per edge, the pair ``(dst, context)`` or ``-1`` (no context, or no such pair).

    Parameters
    ----------
    dst : ndarray of uint32, shape (m,)
    context : ndarray of int32, shape (m,)
        Context code per edge, ``-1`` for none.
    ptr : ndarray of int64, shape (n_contexts + 1,)
    platform : ndarray of uint32, shape (k,)
    single : ndarray of uint64, shape (n_contexts,)
        :func:`single_pairs` of ``ptr`` and ``platform``.
    out : ndarray of int32, shape (m,)
        Receives the pair per edge (may be ``context`` itself: each element
        is read before it is written).

    Examples
    --------
    >>> import numpy as np
    >>> ptr = np.array([0, 1, 1, 3])                  # context 0: pair 0; context 2: pairs 1, 2
    >>> platform = np.array([5, 4, 5], np.uint32)
    >>> out = np.empty(4, np.int32)
    >>> match_pairs(np.array([5, 5, 4, 4], np.uint32), np.array([0, 2, 1, -1], np.int32), ptr, platform,
    ...             single_pairs(ptr, platform), out)
    >>> out.tolist()
    [0, 2, -1, -1]
    """
    for k in prange(dst.shape[0]):
        c = context[k]
        q = np.int32(-1)
        if c >= 0:
            s = single[c]
            if s < SEVERAL_PAIRS:
                if (s >> np.uint64(32)) == np.uint64(dst[k]):
                    q = np.int32(s & np.uint64(0xFFFFFFFF))
            elif s == SEVERAL_PAIRS:
                d = dst[k]
                for j in range(ptr[c], ptr[c + 1]):
                    if platform[j] == d:
                        q = np.int32(j)
                        break
        out[k] = q


@njit
def of_class(edge_class: U8, cls: int, values: Arr) -> Arr:
    """The ``values`` of the rows of class ``cls``, in row order (as :func:`split_by_class` orders them).

    >>> import numpy as np
    >>> of_class(np.array([0, 1, 0], np.uint8), 0, np.array([7, 8, 9], np.int32)).tolist()
    [7, 9]
    """
    m = 0
    for k in range(edge_class.shape[0]):
        if edge_class[k] == cls:
            m += 1
    out = np.empty(m, dtype=values.dtype)
    j = 0
    for k in range(edge_class.shape[0]):
        if edge_class[k] == cls:
            out[j] = values[k]
            j += 1
    return out


@pnjit
def count_self_loops(src: U32, dst: U32) -> int:
    """Number of edges ``a -> a``.

    >>> import numpy as np
    >>> count_self_loops(np.array([0, 1, 2], np.uint32), np.array([0, 2, 2], np.uint32))
    2
    """
    n = 0
    for k in prange(src.shape[0]):
        if src[k] == dst[k]:
            n += 1
    return n


@njit
def pair_weights(pair: I32, value: F64, src: U32, role: I8, n_pairs: int) -> F64:
    """Per pair, the total weight of the contribution edges that can carry its value.

    An edge counts when it belongs to the pair, its weight is positive and its
    source is a user (role 0); a pair whose total is 0 is *unmatched*.

    >>> import numpy as np
    >>> pair_weights(np.array([0, 0, 1, -1], np.int32), np.array([1.0, 2.0, 5.0, 1.0]),
    ...              np.array([0, 1, 2, 0], np.uint32), np.array([0, 0, 2], np.int8), 2).tolist()
    [3.0, 0.0]
    """
    out = np.zeros(n_pairs, dtype=np.float64)
    for k in range(pair.shape[0]):
        q = pair[k]
        if q >= 0 and value[k] > 0.0 and role[src[k]] == 0:
            out[q] += value[k]
    return out


@njit
def _valid(bitmap: U8, offset: int, k: int) -> bool:
    if bitmap.shape[0] == 0:
        return True
    j = offset + k
    return bool((bitmap[j >> 3] >> (j & 7)) & 1)


@njit
def int_range(values: I64, bitmap: U8, offset: int) -> tuple[int, int, int]:
    """Smallest and largest valid value and the number of valid rows (Arrow validity ``bitmap``, bit ``offset + k``).

    An empty ``bitmap`` means every row is valid; with no valid row the range is ``(0, -1)``.

    >>> import numpy as np
    >>> int_range(np.array([5, 9, 2], np.int64), np.array([0b011], np.uint8), 0)
    (5, 9, 2)
    """
    m = values.shape[0]
    chunk = 1 << 16
    nc = (m + chunk - 1) // chunk
    los = np.empty(nc, np.int64)
    his = np.empty(nc, np.int64)
    cnt = np.zeros(nc, np.int64)
    for b in prange(nc):
        lo = np.iinfo(np.int64).max
        hi = np.iinfo(np.int64).min
        c = 0
        for k in range(b * chunk, min(m, (b + 1) * chunk)):
            if _valid(bitmap, offset, k):
                v = values[k]
                c += 1
                if v < lo:
                    lo = v
                if v > hi:
                    hi = v
        los[b] = lo
        his[b] = hi
        cnt[b] = c
    n = 0
    lo = np.iinfo(np.int64).max
    hi = np.iinfo(np.int64).min
    for b in range(nc):
        n += cnt[b]
        if cnt[b]:
            lo = min(lo, los[b])
            hi = max(hi, his[b])
    if n == 0:
        return 0, -1, 0
    return lo, hi, n


@njit
def mark_present(values: I64, bitmap: U8, offset: int, lo: int, present: U8) -> None:
    """``present[v - lo] = 1`` for every valid value ``v`` (racing writes all store 1)."""
    for k in prange(values.shape[0]):
        if _valid(bitmap, offset, k):
            present[values[k] - lo] = 1


@njit
def dense_codes(values: I64, bitmap: U8, offset: int, lo: int, rank: I32, out: I32) -> None:
    """``out[k] = rank[values[k] - lo]``, or ``-1`` for a null row.

    >>> import numpy as np
    >>> out = np.empty(3, np.int32)
    >>> dense_codes(np.array([12, 0, 10], np.int64), np.array([0b101], np.uint8), 0, 10,
    ...             np.array([0, -1, 1], np.int32), out)
    >>> out.tolist()
    [1, -1, 0]
    """
    for k in prange(values.shape[0]):
        out[k] = rank[values[k] - lo] if _valid(bitmap, offset, k) else np.int32(-1)


@njit
def offset_codes(values: I64, bitmap: U8, offset: int, lo: int, out: I32) -> None:
    """``out[k] = values[k] - lo``, or ``-1`` for a null row (every valid value in ``lo .. lo + 2**31 - 2``).

    A row group's integer contexts in a narrow range get these codes while
    it is read; the global ranks come once every row group is in
    (:func:`mark_offsets`, :func:`remap_codes`). Serial: streamed reading
    calls it from two threads at once.

    >>> import numpy as np
    >>> out = np.empty(3, np.int32)
    >>> offset_codes(np.array([12, 0, 10], np.int64), np.array([0b101], np.uint8), 0, 10, out)
    >>> out.tolist()
    [2, -1, 0]
    """
    for k in range(values.shape[0]):
        out[k] = np.int32(values[k] - lo) if _valid(bitmap, offset, k) else np.int32(-1)


@njit
def mark_offsets(codes: I32, shift: int, present: U8) -> None:
    """``present[c + shift] = 1`` for every code ``c >= 0``.

    >>> import numpy as np
    >>> present = np.zeros(5, np.uint8)
    >>> mark_offsets(np.array([0, -1, 2], np.int32), 1, present)
    >>> present.tolist()
    [0, 1, 0, 1, 0]
    """
    for k in range(codes.shape[0]):
        c = codes[k]
        if c >= 0:
            present[c + shift] = 1


@njit
def remap_codes(codes: I32, table: I32, shift: int, out: I32) -> None:
    """``out[k] = table[codes[k] + shift]``, and ``-1`` where ``codes[k] < 0`` (``out`` may be ``codes``).

    An empty ``table`` stands for the identity: ``out[k] = codes[k] + shift``
    (no gather at random places of a large table). Serial, as the gathers of
    the other columns beside it (a gather a row group and class: a parallel
    loop's start-up would cost more than it saves).

    >>> import numpy as np
    >>> out = np.empty(3, np.int32)
    >>> remap_codes(np.array([1, -1, 0], np.int32), np.array([7, 8, 9], np.int32), 1, out)
    >>> out.tolist()
    [9, -1, 8]
    >>> remap_codes(np.array([1, -1, 0], np.int32), np.empty(0, np.int32), 1, out)
    >>> out.tolist()
    [2, -1, 1]
    """
    if table.shape[0] == 0:
        s = np.int32(shift)
        for k in range(codes.shape[0]):
            c = codes[k]
            out[k] = c + s if c >= 0 else np.int32(-1)
        return
    for k in range(codes.shape[0]):
        c = codes[k]
        out[k] = table[c + shift] if c >= 0 else np.int32(-1)


@njit
def table_order(platform: U32, context: I32, lone_platform: I64, lone_context: I64, n: int) -> I64:
    """Order of the rows ``pairs, then lone (platform, context) keys`` by ``(platform, context)``.

    The pairs come ordered by ``(context, platform)`` (see the module notes),
    so a stable counting sort by platform orders them by ``(platform,
    context)``; the lone keys (``lone_platform``, ``lone_context``: distinct
    from the pairs and from each other) come ordered by ``(platform,
    context)`` and are merged in, as row ``k + j``. The result is
    ``np.lexsort((context, platform))`` of the rows, in two passes instead of
    a sort. ``n``: bound on the platform codes.

    >>> import numpy as np
    >>> table_order(np.array([5, 4, 5], np.uint32), np.array([0, 2, 2], np.int32),
    ...             np.array([4, 5], np.int64), np.array([0, 1], np.int64), 6).tolist()
    [3, 1, 0, 4, 2]
    """
    k = platform.shape[0]
    count = np.zeros(n + 1, np.int64)
    for q in range(k):
        count[np.int64(platform[q]) + 1] += 1
    for p in range(n):
        count[p + 1] += count[p]
    by = np.empty(k, np.int64)
    for q in range(k):
        pl = np.int64(platform[q])
        by[count[pl]] = q
        count[pl] += 1
    n_lone = lone_platform.shape[0]
    out = np.empty(k + n_lone, np.int64)
    i = 0
    j = 0
    for t in range(k + n_lone):
        take_pair = j == n_lone
        if not take_pair and i < k:
            pp = np.int64(platform[by[i]])
            take_pair = pp < lone_platform[j] or (pp == lone_platform[j] and np.int64(context[by[i]]) < lone_context[j])
        if take_pair:
            out[t] = by[i]
            i += 1
        else:
            out[t] = k + j
            j += 1
    return out
