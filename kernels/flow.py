"""Kernels that turn contribution edges into the value-flow matrix.

Roles are coded ``USER = 0``, ``PLATFORM = 1``, ``ADVERTISER = 2``.
A contribution edge ``a -> b`` ("a acted on b") with weight ``w > 0`` carries
value

- from ``b`` to ``a`` when ``a`` is a user and ``b`` a platform (the platform
  passes value to the users who acted on it);
- from ``a`` to ``b`` when both are users (a user passes value to the users
  whose content drew its attention);

and no value otherwise.

**Context senders.** A user -> platform edge may also belong to a
``(platform, context)`` pair that received revenue of its own (a campaign,
a task batch, a ride). Such a pair is an extra sender, numbered after the
real nodes: the edge then also carries value from the pair to the user, so
the user shares both in the platform's pool and in the pair's revenue.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, pnjit, prange
from ._types import F64, I8, I32, I64, U8, U32, U64, Arr

USER = 0
PLATFORM = 1
ADVERTISER = 2


#: Input rows per parallel task of :func:`flow_edges` (the output order never depends on it)
FLOW_BLOCK = 1 << 16


@pnjit
def _count_flow(src: U32, dst: U32, weight: F64, role: I8, pairs: I32, idle: U8, counts: I64) -> None:
    m = src.shape[0]
    with_pairs = pairs.shape[0] > 0
    with_idle = idle.shape[0] > 0
    for t in prange(counts.shape[0]):
        n = 0
        for k in range(t * FLOW_BLOCK, min((t + 1) * FLOW_BLOCK, m)):
            if weight[k] > 0.0 and role[src[k]] == USER:
                r = role[dst[k]]
                if r == USER:
                    n += 1
                elif r == PLATFORM:
                    if not (with_idle and idle[dst[k]]):
                        n += 1
                    if with_pairs and pairs[k] >= 0:
                        n += 1
        counts[t] = n


@pnjit
def _fill_flow(
    src: U32, dst: U32, weight: F64, role: I8, labels: Arr, pairs: I32, idle: U8, first_pair: int, offsets: I64,
    senders: U32, receivers: U32, w: F64, out_labels: Arr
) -> None:
    m = src.shape[0]
    with_labels = out_labels.shape[0] > 0
    with_pairs = pairs.shape[0] > 0
    with_idle = idle.shape[0] > 0
    for t in prange(offsets.shape[0] - 1):
        p = offsets[t]  # each block writes its own slice, in input order
        for k in range(t * FLOW_BLOCK, min((t + 1) * FLOW_BLOCK, m)):
            if weight[k] > 0.0 and role[src[k]] == USER:
                r = role[dst[k]]
                if r != USER and r != PLATFORM:
                    continue
                if not (r == PLATFORM and with_idle and idle[dst[k]]):
                    if r == USER:
                        senders[p] = src[k]
                        receivers[p] = dst[k]
                    else:
                        senders[p] = dst[k]
                        receivers[p] = src[k]
                    w[p] = weight[k]
                    if with_labels:
                        out_labels[p] = labels[k]
                    p += 1
                if r == PLATFORM and with_pairs and pairs[k] >= 0:
                    # the same activity also earns a share of its (platform, context) pair
                    senders[p] = np.uint32(first_pair + pairs[k])
                    receivers[p] = src[k]
                    w[p] = weight[k]
                    if with_labels:
                        out_labels[p] = labels[k]
                    p += 1


def flow_edges(
    src: U32, dst: U32, weight: F64, role: I8, labels: Arr | None = None, pairs: I32 | None = None, first_pair: int = 0,
    idle: U8 | None = None,
) -> tuple[U32, U32, F64, Arr | None]:
    """Select the contribution edges that carry value, oriented sender -> receiver.

    Parameters
    ----------
    src, dst : ndarray of uint32, shape (m,)
        Contribution edges ("src acted on dst").
    weight : ndarray of float64, shape (m,)
    role : ndarray of int8, shape (n,)
    labels : ndarray, shape (m,), optional
        A label per edge (such as its kind) to carry along.
    pairs : ndarray of int32, shape (m,), optional
        Per edge, the ``(platform, context)`` pair it belongs to (``-1``:
        none). A user -> platform edge with a pair ``q`` flows twice: from
        the platform and from the context sender ``first_pair + q``.
    first_pair : int
        Node code of pair 0 (the number of real nodes).
    idle : ndarray of uint8, shape (n,), optional
        Platforms whose own pool holds nothing (nonzero entries): their
        user -> platform edges flow only from the edges' pairs, since a
        sender holding nothing passes nothing (the results are the same).

    Returns
    -------
    senders, receivers : ndarray of uint32, shape (f,)
    w : ndarray of float64, shape (f,)
        When every edge flows (all nodes users, all weights positive, no
        labels), these are ``src``, ``dst`` and ``weight`` themselves.
    out_labels : ndarray, shape (f,) or None
        The labels of the selected edges, when ``labels`` is given.

    Examples
    --------
    >>> import numpy as np
    >>> from graphlabor.kernels.flow import flow_edges
    >>> role = np.array([0, 0, 1], dtype=np.int8)       # users 0, 1; platform 2
    >>> s, r, w, _ = flow_edges(np.array([0, 1], np.uint32), np.array([2, 0], np.uint32),
    ...                         np.array([1.0, 2.0]), role)
    >>> s.tolist(), r.tolist(), w.tolist()
    ([2, 1], [0, 0], [1.0, 2.0])

    User 0's edge belongs to pair 0 (node 3), so it flows from 2 and from 3:

    >>> s, r, w, _ = flow_edges(np.array([0, 1], np.uint32), np.array([2, 0], np.uint32),
    ...                         np.array([1.0, 2.0]), role, pairs=np.array([0, -1], np.int32), first_pair=3)
    >>> s.tolist(), r.tolist(), w.tolist()
    ([2, 3, 1], [0, 0, 0], [1.0, 1.0, 2.0])
    """
    if pairs is None:
        pairs = np.empty(0, dtype=np.int32)
    if idle is None:
        idle = np.empty(0, dtype=np.uint8)
    if (
        labels is None and role.shape[0] and src.dtype == np.uint32 and dst.dtype == np.uint32
        and weight.dtype == np.float64 and not role.any() and (weight.shape[0] == 0 or weight.min() > 0.0)
    ):
        # every node a user (USER == 0), every weight positive: every edge flows
        # as it is (the PageRank case); the inputs are the result, not copied
        return src, dst, weight, None
    counts = np.empty((src.shape[0] + FLOW_BLOCK - 1) // FLOW_BLOCK, dtype=np.int64)
    _count_flow(src, dst, weight, role, pairs, idle, counts)
    offsets = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    n = int(offsets[-1])
    senders = np.empty(n, dtype=np.uint32)
    receivers = np.empty(n, dtype=np.uint32)
    w = np.empty(n, dtype=np.float64)
    first = int(first_pair)
    if labels is None:
        dummy = np.empty(0, dtype=np.uint16)
        _fill_flow(src, dst, weight, role, dummy, pairs, idle, first, offsets, senders, receivers, w, dummy)
        return senders, receivers, w, None
    out_labels = np.empty(n, dtype=labels.dtype)
    _fill_flow(src, dst, weight, role, labels, pairs, idle, first, offsets, senders, receivers, w, out_labels)
    return senders, receivers, w, out_labels


@njit
def column_sums(indptr: U64, indices: U32, data: F64, n_cols: int) -> F64:
    """Sum each column of a CSR matrix, rows in order (deterministic).

    >>> import numpy as np
    >>> column_sums(np.array([0, 2, 3], np.uint64), np.array([0, 1, 1], np.uint32),
    ...             np.array([1.0, 2.0, 3.0]), 2).tolist()
    [1.0, 5.0]
    """
    sums = np.zeros(n_cols, dtype=np.float64)
    for k in range(indices.shape[0]):
        sums[indices[k]] += data[k]
    return sums


@pnjit
def scale_columns(indices: U32, data: F64, factor: F64) -> None:
    """In place: ``data[k] *= factor[indices[k]]``."""
    for k in prange(indices.shape[0]):
        data[k] *= factor[indices[k]]
