"""The ``(platform, context)`` pairs' part of the flow, pair by pair, outside the flow matrix.

A pair ``q`` (a sender after the real nodes) receives nothing: it holds
exactly its injection ``s_q`` and passes ``(1 - platform_share) s_q`` to the
users whose contribution edges into its platform carry its context, in
proportion to their weights. So its entries are never needed by receiver
row: what it passes to the users is a one-shot scatter, folded into their
injection before the real nodes' system is solved, and its weight total, its
contributors and the adjoint (``explain``) read it pair by pair.

:func:`pair_entries` groups the pair entries by pair (a counting sort: one
pass to count, one to scatter, no sort by receiver and no duplicate hashing)
and orders each pair's entries by user, then weight, so that nothing depends
on the input order or the thread count; :func:`scatter_pairs` adds
``weight * y[q]`` to the users' slots, pair after pair (each user's terms in
ascending pair order, then in its pair's entry order), the same on any row
range of users; :func:`pair_users` counts the distinct users of each
platform's pairs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._jit import njit, pnjit, prange
from ._types import F64, I8, I32, I64, U8, U16, U32, U64, Arr
from .flow import PLATFORM, USER

__all__ = ["PairEntries", "pair_entries", "pair_users", "scatter_pairs"]


class PairEntries(NamedTuple):
    """The pair entries, grouped by pair: pair ``q``'s are ``ptr[q] .. ptr[q + 1]``, by user then weight.

    ``weight`` is unscaled (flow weight); ``label`` is empty without labels;
    ``out_weight[q]`` is the sum of pair ``q``'s weights in entry order (its
    ``W_q``); ``contributors[q]`` its distinct users.
    """

    ptr: U64
    user: U32
    weight: F64
    label: U16
    out_weight: F64
    contributors: I64


@njit
def _kept(q: int, w: float, with_roles: bool, src_role: int, dst_role: int) -> bool:
    """Whether an edge is a pair entry: a pair ``q``, a positive weight ``w``, a user source and a platform target (with roles).

    Scalars in, so that the count and scatter passes inline it (passing the
    arrays made each call cost 8x the loop's own work).
    """
    return q >= 0 and w > 0.0 and (not with_roles or (src_role == USER and dst_role == PLATFORM))


@pnjit
def _count(src: U32, dst: U32, weight: F64, role: I8, pair: I32, parts: U64, counts: Arr) -> None:
    """Entries per (input slice, pair): edges with a pair, positive weight, a user source (and a platform target)."""
    with_roles = role.shape[0] > 0
    for p in prange(parts.shape[0] - 1):
        c = counts[p]
        for k in range(parts[p], parts[p + 1]):
            q = pair[k]
            if _kept(q, weight[k], with_roles, role[src[k]] if with_roles else USER,
                     role[dst[k]] if with_roles else PLATFORM):
                c[q] += 1


@pnjit
def _scatter(src: U32, dst: U32, weight: F64, role: I8, pair: I32, labels: Arr, parts: U64, offsets: Arr,
             user: U32, wbits: U64, label: U16) -> None:
    labeled = labels.shape[0] > 0
    with_roles = role.shape[0] > 0
    wb = weight.view(np.uint64)
    for p in prange(parts.shape[0] - 1):
        o = offsets[p]
        for k in range(parts[p], parts[p + 1]):
            q = pair[k]
            if _kept(q, weight[k], with_roles, role[src[k]] if with_roles else USER,
                     role[dst[k]] if with_roles else PLATFORM):
                j = o[q]
                user[j] = src[k]
                wbits[j] = wb[k]
                if labeled:
                    label[j] = labels[k]
                o[q] = j + 1


@njit
def _less(ua: np.uint32, wa: np.uint64, ub: np.uint32, wb: np.uint64) -> bool:
    return bool(ua < ub or (ua == ub and wa < wb))


@njit
def _insertion(user: U32, wbits: U64, label: U16, a: int | np.int64, b: int | np.int64, labeled: bool) -> None:
    """Entries ``a .. b`` by (user, weight bits), in place."""
    for i in range(a + 1, b):
        u = user[i]
        w = wbits[i]
        lab = label[i] if labeled else np.uint16(0)
        j = i - 1
        while j >= a and _less(u, w, user[j], wbits[j]):
            user[j + 1] = user[j]
            wbits[j + 1] = wbits[j]
            if labeled:
                label[j + 1] = label[j]
            j -= 1
        user[j + 1] = u
        wbits[j + 1] = w
        if labeled:
            label[j + 1] = lab


#: Digit of the radix sort of a large pair's entries by user.
USER_DIGIT = 11


@njit
def _radix_by_user(user: U32, wbits: U64, label: U16, a: int | np.int64, b: int | np.int64, labeled: bool,
                   bits: int) -> None:
    """Entries ``a .. b`` by user (a stable LSD radix sort), then equal users by weight bits, in place."""
    m = b - a
    n_pass = max(1, (bits + USER_DIGIT - 1) // USER_DIGIT)
    digit = (bits + n_pass - 1) // n_pass
    mask = (1 << digit) - 1
    cnt = np.empty(mask + 2, np.int64)
    xu, xw = user[a:b], wbits[a:b]
    xl = label[a:b] if labeled else label[:0]
    yu = np.empty(m, np.uint32)
    yw = np.empty(m, np.uint64)
    yl = np.empty(m if labeled else 0, np.uint16)
    flipped = False
    for p in range(n_pass):
        sh = p * digit
        cnt[:] = 0
        for t in range(m):
            cnt[((xu[t] >> sh) & mask) + 1] += 1
        for d in range(mask + 1):
            cnt[d + 1] += cnt[d]
        for t in range(m):
            d = (xu[t] >> sh) & mask
            j = cnt[d]
            yu[j] = xu[t]
            yw[j] = xw[t]
            if labeled:
                yl[j] = xl[t]
            cnt[d] = j + 1
        xu, yu = yu, xu
        xw, yw = yw, xw
        xl, yl = yl, xl
        flipped = not flipped
    if flipped:  # the sorted entries are in the scratch arrays
        user[a:b] = xu
        wbits[a:b] = xw
        if labeled:
            label[a:b] = xl
    # equal users (the same user's entries of one pair) by weight
    i = a
    while i < b:
        j = i + 1
        while j < b and user[j] == user[i]:
            j += 1
        if j - i > 1:
            _insertion(user, wbits, label, i, j, labeled)
        i = j


@pnjit
def _order(ptr: U64, user: U32, wbits: U64, wv: F64, label: U16, bits: int, out_weight: F64,
           contributors: I64, bounds: I64) -> None:
    """Each pair's entries by (user, weight) -- positive weights' bits sort as the weights --; its sum and users.

    Chunk ``c`` takes pairs ``bounds[c] .. bounds[c + 1]``: consecutive pairs
    with about the same number of entries in each chunk, so that a thread
    reads its part of the entries in order (pairs taken one in every
    ``lanes`` made every thread stride over all of them: 1.0 against 0.7 s
    at 5.6x10^7 entries).
    """
    labeled = label.shape[0] > 0
    for c in prange(bounds.shape[0] - 1):
        for q in range(bounds[c], bounds[c + 1]):
            a = np.int64(ptr[q])
            b = np.int64(ptr[q + 1])
            if b - a <= 32:
                _insertion(user, wbits, label, a, b, labeled)
            else:
                _radix_by_user(user, wbits, label, a, b, labeled, bits)
            total = 0.0
            distinct = 0
            last = np.int64(-1)
            for i in range(a, b):
                total += wv[i]
                u = np.int64(user[i])
                if u != last:
                    distinct += 1
                    last = u
            out_weight[q] = total
            contributors[q] = distinct


def pair_entries(src: U32, dst: U32, weight: F64, role: I8 | None, pair: I32, k: int, labels: Arr | None = None,
                 n_parts: int | None = None) -> PairEntries:
    """The pair entries of contribution edges, grouped by pair, each pair's by user then weight.

    Parameters
    ----------
    src, dst : ndarray of uint32, shape (m,)
        Contribution edges, "src acted on dst".
    weight : ndarray of float64, shape (m,)
    role : ndarray of int8, shape (n,), or None
        With roles, an edge counts when its source is a user and its target a
        platform (the flow rule of :func:`~graphlabor.kernels.flow.flow_edges`);
        None: every edge with a pair and a positive weight counts (edges
        already selected; ``dst`` is not read).
    pair : ndarray of int32, shape (m,)
        Per edge, its pair in ``[0, k)``, ``-1`` for none.
    k : int
        Number of pairs.
    labels : ndarray of uint16, shape (m,), optional
        A label per edge, carried with its entry.
    n_parts : int, optional
        Input slices (default: the number of Numba threads); the result does
        not depend on it.

    Examples
    --------
    Users 0 and 1 act on platform 2; pair 0 gets two edges of user 1 and one
    of user 0, pair 1 none.

    >>> import numpy as np
    >>> e = pair_entries(np.array([1, 0, 1, 0], np.uint32), np.array([2, 2, 2, 2], np.uint32),
    ...                  np.array([2.0, 1.0, 0.5, 3.0]), np.array([0, 0, 1], np.int8),
    ...                  np.array([0, 0, 0, -1], np.int32), 2)
    >>> e.ptr.tolist(), e.user.tolist(), e.weight.tolist(), e.out_weight.tolist(), e.contributors.tolist()
    ([0, 3, 3], [0, 1, 1], [1.0, 0.5, 2.0], [3.5, 0.0], [2, 0])
    """
    import numba

    m = int(src.shape[0])
    if not (dst.shape[0] == m or role is None) or weight.shape[0] != m or pair.shape[0] != m:
        raise ValueError("src, dst, weight and pair must have the same length")
    if labels is not None and labels.shape[0] != m:
        raise ValueError("labels must have the same length as src")
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    pair = np.ascontiguousarray(pair, dtype=np.int32)
    if m and int(pair.max()) >= k:
        raise ValueError(f"pair holds {int(pair.max())}, out of range for k={k}")
    rl = np.empty(0, np.int8) if role is None else role
    dd = np.empty(0, np.uint32) if role is None else dst
    lab = np.empty(0, np.uint16) if labels is None else np.ascontiguousarray(labels, dtype=np.uint16)
    p = max(1, min(int(n_parts or numba.get_num_threads()), max(1, m)))
    parts = np.linspace(0, m, p + 1).astype(np.uint64)
    # counts and write positions in 32 bits when they fit: half the cache lines of the random increments
    wide: type[np.unsignedinteger[Any]] | type[np.signedinteger[Any]] = np.uint32 if m < (1 << 32) - 1 else np.int64
    counts: np.ndarray[Any, np.dtype[np.integer[Any]]] = np.zeros((p, k), dtype=wide)
    _count(src, dd, weight, rl, pair, parts, counts)
    ptr = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(counts.sum(axis=0, dtype=np.int64), out=ptr[1:])
    offsets: np.ndarray[Any, np.dtype[np.integer[Any]]] = np.cumsum(counts, axis=0, dtype=wide)
    offsets -= counts
    offsets += ptr[:k].astype(wide)
    del counts
    total = int(ptr[-1])
    user = np.empty(total, np.uint32)
    wbits = np.empty(total, np.uint64)
    label = np.empty(total if labels is not None else 0, np.uint16)
    _scatter(src, dd, weight, rl, pair, lab, parts, offsets, user, wbits, label)
    del offsets
    uptr = ptr.astype(np.uint64)
    out_weight = np.empty(k, np.float64)
    contributors = np.empty(k, np.int64)
    bits = max(1, int(user.max()).bit_length()) if total else 1  # the order does not depend on it
    chunks = 64 * numba.get_num_threads()  # the result does not depend on it
    bounds = np.concatenate(([0], np.searchsorted(ptr, np.linspace(0, total, chunks + 1)[1:-1]), [k])).astype(np.int64)
    _order(uptr, user, wbits, wbits.view(np.float64), label, bits, out_weight, contributors, bounds)
    return PairEntries(uptr, user, wbits.view(np.float64), label, out_weight, contributors)


@pnjit
def _scatter_rows(ptr: U64, user: U32, weight: F64, label: U16, y: F64, lo: int, width: int, out: F64,
                  bounds: I64) -> None:
    """Thread ``t`` adds the entries whose row is in ``bounds[t] .. bounds[t + 1]``, pair after pair."""
    labeled = label.shape[0] > 0
    for t in prange(bounds.shape[0] - 1):
        r0 = bounds[t]
        r1 = bounds[t + 1]
        for q in range(ptr.shape[0] - 1):
            yq = y[q]
            if yq == 0.0:
                continue
            for e in range(ptr[q], ptr[q + 1]):
                r = np.int64(user[e]) - lo
                if r < r0 or r >= r1:
                    continue
                if labeled:
                    out[r * width + label[e]] += weight[e] * yq
                else:
                    out[r] += weight[e] * yq


def scatter_pairs(ptr: U64, user: U32, weight: F64, label: U16, y: F64, lo: int, width: int, out: F64) -> None:
    """``out[(user - lo) * width + label] += weight * y[q]`` for every entry, pair after pair, in entry order.

    Without labels (``label`` empty) the slot is ``user - lo`` (``width`` is
    then ignored). Entries whose user is outside ``out``'s rows are skipped,
    so a block of rows ``[lo, lo + rows)`` gets exactly what the whole gets
    there, in the same order. Pairs with ``y[q] == 0`` add nothing. Each
    thread adds the entries of its own range of rows (each row's terms in
    the same order at any thread count).

    >>> import numpy as np
    >>> out = np.array([1.0, 0.0])
    >>> scatter_pairs(np.array([0, 2, 3], np.uint64), np.array([0, 1, 1], np.uint32), np.array([1.0, 2.0, 4.0]),
    ...               np.empty(0, np.uint16), np.array([0.5, 0.25]), 0, 1, out)
    >>> out.tolist()
    [1.5, 2.0]
    """
    import numba

    labeled = label.shape[0] > 0
    if labeled and label.shape[0] != user.shape[0]:
        raise ValueError("label must be empty or hold one label per entry")
    rows = out.shape[0] // (width if labeled else 1)
    t = max(1, min(numba.get_num_threads(), rows))
    bounds = np.linspace(0, rows, t + 1).astype(np.int64)
    _scatter_rows(ptr, user, weight, label, np.ascontiguousarray(y, dtype=np.float64), int(lo),
                  int(width) if labeled else 1, out, bounds)


@njit
def pair_users(ptr: U64, user: U32, platform: U32, lo: int, rows: int, n_platforms: int, only: U8) -> I64:
    """Per platform, the distinct users (in ``[lo, lo + rows)``) of its pairs' entries.

    ``only``: per platform, 1 to count it (empty: every platform); the others get 0.

    >>> import numpy as np
    >>> pair_users(np.array([0, 2, 4], np.uint64), np.array([0, 1, 1, 2], np.uint32), np.array([3, 3], np.uint32),
    ...            0, 3, 4, np.empty(0, np.uint8)).tolist()
    [0, 0, 0, 3]
    """
    out = np.zeros(n_platforms, np.int64)
    k = ptr.shape[0] - 1
    if platform.shape[0] != k:
        raise ValueError("platform must hold one platform per pair")
    for q in range(k):
        if platform[q] >= n_platforms:
            raise ValueError("platform holds a code out of range for n_platforms")
    every = only.shape[0] == 0
    mine = np.arange(k) if every else np.flatnonzero(only[platform.astype(np.int64)] != 0)
    if mine.shape[0] == 0:
        return out
    # the pairs by platform, stably (a counting sort: a merge sort of millions of pairs took most of the time)
    start = np.zeros(n_platforms + 1, np.int64)
    for t in range(mine.shape[0]):
        start[np.int64(platform[mine[t]]) + 1] += 1
    for p in range(n_platforms):
        start[p + 1] += start[p]
    order = np.empty(mine.shape[0], np.int64)
    for t in range(mine.shape[0]):
        pl = np.int64(platform[mine[t]])
        order[start[pl]] = mine[t]
        start[pl] += 1
    stamp = np.full(rows, -1, np.int64)
    for t in range(order.shape[0]):
        q = order[t]
        pl = np.int64(platform[q])
        for e in range(ptr[q], ptr[q + 1]):
            r = np.int64(user[e]) - lo
            if 0 <= r < rows and stamp[r] != pl:
                stamp[r] = pl
                out[pl] += 1
    return out
