"""The value-flow matrix's CSR (and its split by label) straight from contribution edges.

:func:`~graphlabor.kernels.flow.flow_edges` writes the flow edges out
(sender, receiver, weight, label: 18 bytes each, 8.3 million at 10^7 input
edges), and the CSR build then reads them back to move them into row
blocks. :func:`flow_csr` selects and orients the flow edges (the rule of
:mod:`.flow`) while it moves them into the row blocks of
:mod:`.multiset`, then collapses and sorts each block there: two passes
over the input instead of four, and no flow-edge arrays. The result is bit
for bit :func:`~graphlabor.kernels.multiset.build_csr_labeled` (or
:func:`~graphlabor.kernels.multiset.build_csr_counted`) of ``flow_edges``'
output.
"""

from __future__ import annotations

import numpy as np

from ._check import INDEX_DTYPE
from ._jit import pnjit, prange
from ._types import CSR, F64, I8, I32, I64, U8, U32, U64, Arr
from .flow import PLATFORM, USER
from .multiset import COUNT_DTYPE, _finish, _shift_for, bucketed_blocks, build_csr_counted, finish_labeled

__all__ = ["flow_csr"]


@pnjit
def _count_blocks(
    src: U32, dst: U32, weight: F64, role: I8, pairs: I32, idle: U8, parts: U64, shift: int, counts: U64, top: I64,
) -> None:
    """Flow edges per (input slice, row block); ``top[p]``: the largest receiver of slice ``p`` (-1: none).

    The rule of :func:`~graphlabor.kernels.flow.flow_edges`, written out in
    both kernels (a helper returning a tuple was not inlined: 5x slower).
    """
    n_parts = parts.shape[0] - 1
    with_pairs = pairs.shape[0] > 0
    with_idle = idle.shape[0] > 0
    one = np.uint64(1)
    for p in prange(n_parts):
        c = counts[p]
        t = np.int64(-1)
        for k in range(parts[p], parts[p + 1]):
            if weight[k] > 0.0 and role[src[k]] == USER:
                rr = role[dst[k]]
                if rr == USER:
                    r = dst[k]
                    c[r >> shift] += one
                elif rr == PLATFORM:
                    r = src[k]
                    n = 0
                    if not (with_idle and idle[dst[k]]):
                        n += 1
                    if with_pairs and pairs[k] >= 0:
                        n += 1
                    if n == 0:
                        continue
                    c[r >> shift] += np.uint64(n)
                else:
                    continue
                if np.int64(r) > t:
                    t = np.int64(r)
        top[p] = t


@pnjit
def _fill_blocks(
    src: U32, dst: U32, weight: F64, role: I8, labels: Arr, pairs: I32, idle: U8, first_pair: int, parts: U64,
    shift: int, offsets: U64, t_row: Arr, t_col: U32, t_w: U64,
) -> None:
    """Flow edges into their row blocks (as multiset's scatter: local row, or row << 16 | label)."""
    n_parts = parts.shape[0] - 1
    mask = (np.uint32(1) << np.uint32(shift)) - np.uint32(1)
    one = np.uint64(1)
    labeled = labels.shape[0] > 0
    with_pairs = pairs.shape[0] > 0
    with_idle = idle.shape[0] > 0
    wbits = weight.view(np.uint64)
    for p in prange(n_parts):
        o = offsets[p]
        for k in range(parts[p], parts[p + 1]):
            if not (weight[k] > 0.0 and role[src[k]] == USER):
                continue
            rr = role[dst[k]]
            if rr == USER:
                r = dst[k]
            elif rr == PLATFORM:
                r = src[k]
            else:
                continue
            b = r >> shift
            local = r & mask
            if labeled:
                rl = (local << np.uint32(16)) | np.uint32(labels[k])
            else:
                rl = local
            if rr == USER:
                q = o[b]
                t_row[q] = rl
                t_col[q] = src[k]
                t_w[q] = wbits[k]
                o[b] = q + one
                continue
            if not (with_idle and idle[dst[k]]):
                q = o[b]
                t_row[q] = rl
                t_col[q] = dst[k]
                t_w[q] = wbits[k]
                o[b] = q + one
            if with_pairs and pairs[k] >= 0:
                # the same activity also earns a share of its (platform, context) pair
                q = o[b]
                t_row[q] = rl
                t_col[q] = np.uint32(first_pair + pairs[k])
                t_w[q] = wbits[k]
                o[b] = q + one


def flow_csr(
    src: U32, dst: U32, weight: F64, role: I8, labels: Arr | None = None, width: int = 1, n_label_rows: int = 0,
    pairs: I32 | None = None, first_pair: int = 0, idle: U8 | None = None, n_parts: int | None = None,
) -> tuple[int, CSR, CSR | None]:
    """The flow edges' CSR by receiver (unscaled weights), and its split by label, without writing the edges out.

    Parameters
    ----------
    src, dst, weight, role, pairs, first_pair, idle
        As for :func:`~graphlabor.kernels.flow.flow_edges`.
    labels : ndarray of uint16, shape (m,), optional
        A label per contribution edge, below ``width``: the split by label
        is returned too.
    width : int
        Labels per row of the split.
    n_label_rows : int
        Rows of the split (receivers below it; the real nodes).
    n_parts : int, optional
        Input slices (default: the number of Numba threads); the result does
        not depend on it.

    Returns
    -------
    n_flow : int
        Flow edges (before duplicates merge).
    csr : CSR
        ``build_csr_counted(receivers, senders, w, n)`` of ``flow_edges``'
        output, ``n = role.shape[0]``.
    split : CSR or None
        With labels: ``build_csr(receivers * width + labels, senders, w,
        n_label_rows * width)``.

    Examples
    --------
    >>> import numpy as np
    >>> role = np.array([0, 0, 1], dtype=np.int8)       # users 0, 1; platform 2
    >>> n_flow, (indptr, indices, data), split = flow_csr(
    ...     np.array([0, 1, 0], np.uint32), np.array([2, 0, 2], np.uint32), np.array([1.0, 2.0, 0.5]), role)
    >>> n_flow, indptr.tolist(), indices.tolist(), data.tolist(), split
    (3, [0, 2, 2, 2], [1, 2], [2.0, 1.5], None)
    """
    import numba

    n = int(role.shape[0])
    m = int(src.shape[0])
    if pairs is None:
        pairs = np.empty(0, dtype=np.int32)
    if idle is None:
        idle = np.empty(0, dtype=np.uint8)
    labeled = labels is not None
    lab = np.empty(0, dtype=np.uint16) if labels is None else np.ascontiguousarray(labels, dtype=np.uint16)
    if labeled and not 1 <= width <= 1 << 16:
        raise ValueError(f"width={width} must be in [1, 2**16]")
    if labels is not None and m and int(np.max(labels)) >= width:
        raise ValueError(f"labels must be below width={width}")
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    if (
        not labeled and n and src.dtype == np.uint32 and dst.dtype == np.uint32 and not role.any()
        and (m == 0 or weight.min() > 0.0)
    ):
        # every node a user (USER == 0), every weight positive: every edge flows as it is (the
        # PageRank case, as in flow_edges); the row blocks are counted from the receivers alone
        return m, build_csr_counted(dst, src, weight, n, n_parts=n_parts), None
    shift = _shift_for(n, m)
    nb = max(1, (n + (1 << shift) - 1) >> shift)
    p = max(1, int(n_parts or numba.get_num_threads()))
    parts = np.linspace(0, m, p + 1).astype(np.uint64)
    fp = int(first_pair)
    bcounts = np.zeros((p, nb), dtype=np.uint64)
    top = np.empty(p, dtype=np.int64)
    _count_blocks(src, dst, weight, role, pairs, idle, parts, shift, bcounts, top)
    if labeled and int(top.max()) >= int(n_label_rows):
        raise ValueError(f"receiver {int(top.max())} is out of range for n_label_rows={int(n_label_rows)}")
    per_block = bcounts.sum(axis=0, dtype=np.uint64)
    bstart = np.zeros(nb + 1, dtype=np.uint64)
    np.cumsum(per_block, out=bstart[1:])
    offsets = np.cumsum(bcounts, axis=0, dtype=np.uint64) - bcounts + bstart[:nb]
    n_flow = int(bstart[-1])
    t_row = np.empty(n_flow, dtype=np.uint32 if labeled else np.uint16)
    t_col = np.empty(n_flow, dtype=INDEX_DTYPE)
    t_w = np.empty(n_flow, dtype=np.uint64)
    _fill_blocks(src, dst, weight, role, lab, pairs, idle, fp, parts, shift, offsets, t_row, t_col, t_w)
    del offsets, bcounts
    t_cnt = np.empty(n_flow, dtype=COUNT_DTYPE)
    n_cols = n
    if not labeled:
        blk = bucketed_blocks(bstart, shift, n, n_cols, t_row, t_col, t_w, t_cnt, False, p)
        return n_flow, _finish(blk), None
    label_cols = np.zeros(max(int(n_label_rows) * width, 1), dtype=np.uint32)
    blk = bucketed_blocks(bstart, shift, n, n_cols, t_row, t_col, t_w, t_cnt, False, p, width, label_cols)
    csr, split = finish_labeled(blk, width, int(n_label_rows))
    return n_flow, csr, split
