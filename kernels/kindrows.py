"""Row groups of a canonical CSR merged into single rows.

A CSR whose rows are ``(node, label)`` pairs (row ``node * width + label``)
keeps the entries of each label apart; summing its row groups gives the
matrix with one row per node. graphlabor builds the value flow with the
contribution kind as label (for the per-kind breakdown) and merges the kinds
here, instead of building the flow matrix a second time from the edges.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, pnjit, prange
from ._types import CSR, F64, U32, U64

ROWS_PER_TASK = 1024
ONE = np.uint64(1)


@njit
def _merge_row(
    indptr: U64, indices: U32, data: F64, width: int, i: int, heads: U64, ends: U64, out_idx: U32, out_dat: F64, o: np.uint64
) -> np.uint64:
    """Merge the sorted sub-rows of node ``i`` (a k-way merge over the non-empty ones) at ``o``."""
    base = i * width
    k = 0
    for lab in range(width):  # the non-empty sub-rows, in label order
        if indptr[base + lab] < indptr[base + lab + 1]:
            heads[k] = indptr[base + lab]
            ends[k] = indptr[base + lab + 1]
            k += 1
    start = o
    if k == 1:  # one label: a copy
        for h in range(heads[0], ends[0]):
            out_idx[o] = indices[h]
            out_dat[o] = data[h]
            o += ONE
        return o - start
    while k > 0:
        j = indices[heads[0]]
        for q in range(1, k):
            j = min(j, indices[heads[q]])
        acc = 0.0
        q = 0
        for r in range(k):  # equal columns added in label order; exhausted sub-rows dropped
            h = heads[r]
            if indices[h] == j:
                acc += data[h]
                h += ONE
            if h < ends[r]:
                heads[q] = h
                ends[q] = ends[r]
                q += 1
        k = q
        out_idx[o] = j
        out_dat[o] = acc
        o += ONE
    return o - start


@pnjit
def _merge_in_place(indptr: U64, indices: U32, data: F64, width: int, tmp_idx: U32, tmp_dat: F64, counts: U64) -> None:
    n = counts.shape[0]
    n_tasks = (n + ROWS_PER_TASK - 1) // ROWS_PER_TASK
    for t in prange(n_tasks):
        heads = np.empty(width, np.uint64)
        ends = np.empty(width, np.uint64)
        for i in range(t * ROWS_PER_TASK, min((t + 1) * ROWS_PER_TASK, n)):
            # a merged row is never longer than its group: write it where the group starts
            counts[i] = _merge_row(indptr, indices, data, width, i, heads, ends, tmp_idx, tmp_dat, indptr[i * width])


@pnjit
def _compact(indptr: U64, width: int, tmp_idx: U32, tmp_dat: F64, out_ptr: U64, out_idx: U32, out_dat: F64) -> None:
    n = out_ptr.shape[0] - 1
    for i in prange(n):
        a = indptr[i * width]
        for o in range(out_ptr[i], out_ptr[i + 1]):
            out_idx[o] = tmp_idx[a]
            out_dat[o] = tmp_dat[a]
            a += ONE


def merge_row_groups(indptr: U64, indices: U32, data: F64, width: int) -> CSR:
    """Sum each group of ``width`` consecutive rows of a canonical CSR into one row.

    Within the merged row, columns ascend; entries of equal column are added
    in label order starting from ``0.0``, so the result depends only on the
    input arrays, never on the thread count.

    Parameters
    ----------
    indptr : ndarray of uint64, shape (n * width + 1,)
    indices : ndarray of uint32
    data : ndarray of float64
        A canonical CSR (columns ascending and unique within each row).
    width : int

    Returns
    -------
    indptr : ndarray of uint64, shape (n + 1,)
    indices : ndarray of uint32
    data : ndarray of float64

    Examples
    --------
    >>> import numpy as np
    >>> # node 0: label 0 has columns 1, 2; label 1 has column 1
    >>> p, i, d = merge_row_groups(np.array([0, 2, 3, 3, 3], np.uint64), np.array([1, 2, 1], np.uint32),
    ...                            np.array([1.0, 2.0, 0.5]), 2)
    >>> p.tolist(), i.tolist(), d.tolist()
    ([0, 2, 2], [1, 2], [1.5, 2.0])
    """
    width = int(width)
    n_rows = indptr.shape[0] - 1
    if n_rows % width:
        raise ValueError(f"{n_rows} rows are not groups of {width}")
    n = n_rows // width
    counts = np.empty(n, dtype=np.uint64)
    tmp_idx = np.empty(indices.shape[0], dtype=np.uint32)
    tmp_dat = np.empty(indices.shape[0], dtype=np.float64)
    _merge_in_place(indptr, indices, data, width, tmp_idx, tmp_dat, counts)
    out_ptr = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(counts, out=out_ptr[1:])
    nnz = int(out_ptr[-1])
    out_idx = np.empty(nnz, dtype=np.uint32)
    out_dat = np.empty(nnz, dtype=np.float64)
    _compact(indptr, width, tmp_idx, tmp_dat, out_ptr, out_idx, out_dat)
    return out_ptr, out_idx, out_dat
