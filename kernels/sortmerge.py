"""Kernels shared by the CSR build and the group sums: counting-sort offsets, merging duplicates.

:func:`row_offsets` (counting-sort offsets by row) serves
:func:`~graphlabor.kernels.csr.build_csr` and
:func:`~graphlabor.kernels.segment.group_sum`; :func:`finish_csr` merges the
duplicate entries of rows sorted by column.
"""

from __future__ import annotations

import numpy as np

from ._check import INDEX_DTYPE, INDPTR_DTYPE
from ._jit import njit, pnjit, prange
from ._types import CSR, F64, U32, U64, Ints

__all__ = ["finish_csr", "merge_duplicates", "row_offsets"]


@njit
def row_offsets(rows: Ints, n_rows: int) -> U64:
    """Offsets of a stable counting sort by ``rows``: ``indptr[i]`` = entries with row < i."""
    indptr = np.zeros(n_rows + 1, dtype=np.uint64)
    for k in range(rows.shape[0]):
        indptr[rows[k] + 1] += np.uint64(1)
    for i in range(n_rows):
        indptr[i + 1] += indptr[i]
    return indptr


@pnjit
def merge_duplicates(
    indptr: U64,
    indices: U32,
    data: F64,
    new_indptr: U64,
    new_indices: U32,
    new_data: F64,
) -> None:
    """Copy rows sorted by column into the new arrays, adding the entries of equal columns in order."""
    n_rows = indptr.shape[0] - 1
    for i in prange(n_rows):
        a = indptr[i]
        b = indptr[i + 1]
        one = np.uint64(1)
        p = new_indptr[i]
        k = a
        while k < b:
            c = indices[k]
            acc = data[k]
            k += one
            while k < b and indices[k] == c:
                acc += data[k]
                k += one
            new_indices[p] = c
            new_data[p] = acc
            p += one


def finish_csr(indptr: U64, indices: U32, data: F64, unique_counts: U64) -> CSR:
    """CSR arrays without duplicate entries, from rows sorted by column.

    Parameters
    ----------
    indptr, indices, data : CSR arrays
        Each row sorted by ``(column, value)``; equal columns adjacent.
    unique_counts : ndarray of uint64, shape (n_rows,)
        Distinct columns of each row.

    Returns
    -------
    indptr, indices, data
        The input arrays when there is no duplicate; otherwise new arrays in
        which the entries of equal columns are added, in row order.

    Examples
    --------
    >>> import numpy as np
    >>> p, i, d = finish_csr(np.array([0, 3], np.uint64), np.array([0, 2, 2], np.uint32),
    ...                      np.array([1.0, 0.5, 1.0]), np.array([2], np.uint64))
    >>> p.tolist(), i.tolist(), d.tolist()
    ([0, 2], [0, 2], [1.0, 1.5])
    """
    n_rows = unique_counts.shape[0]
    if int(unique_counts.sum()) == indices.shape[0]:
        return indptr, indices, data
    new_indptr = np.zeros(n_rows + 1, dtype=INDPTR_DTYPE)
    np.cumsum(unique_counts, out=new_indptr[1:])
    nnz = int(new_indptr[-1])
    new_indices = np.empty(nnz, dtype=INDEX_DTYPE)
    new_data = np.empty(nnz, dtype=np.float64)
    merge_duplicates(indptr, indices, data, new_indptr, new_indices, new_data)
    return new_indptr, new_indices, new_data
