"""Compressed sparse row (CSR) construction in canonical form.

The CSR arrays produced here are *canonical*: within each row the column
indices are strictly increasing, and duplicate ``(row, col)`` entries are
merged by adding their weights in ascending order of weight. Two edge lists
that hold the same multiset of ``(row, col, weight)`` triples therefore give
bit-identical CSR arrays, whatever their row order.

Index dtypes follow what measured fastest on x86-64 with Numba: ``uint64``
row pointers and ``uint32`` column indices (signed indices make Numba emit
negative-index wrap-around on every access).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _check
from ._check import INDEX_DTYPE, INDPTR_DTYPE, MAX_NODES
from ._jit import njit, pnjit, prange
from .sortmerge import finish_csr, row_offsets

__all__ = ["CSR", "INDEX_DTYPE", "INDPTR_DTYPE", "MAX_NODES", "build_csr", "transpose_csr"]


class CSR(NamedTuple):
    """CSR arrays of a matrix (unpack as ``indptr, indices, data = csr``)."""

    indptr: NDArray[np.uint64]
    """Row pointers, uint64, shape (n_rows + 1,)."""
    indices: NDArray[np.uint32]
    """Column index of each entry, uint32, strictly increasing within a row."""
    data: NDArray[np.float64]
    """Value of each entry, float64."""


@njit
def _scatter(
    rows: NDArray[np.uint32], cols: NDArray[np.uint32], weights: NDArray[np.float64], indptr: NDArray[np.uint64]
) -> tuple[NDArray[np.uint32], NDArray[np.float64]]:
    n_rows = indptr.shape[0] - 1
    m = rows.shape[0]
    pos = indptr[:n_rows].copy()
    indices = np.empty(m, dtype=np.uint32)
    data = np.empty(m, dtype=np.float64)
    for k in range(m):
        r = rows[k]
        p = pos[r]
        indices[p] = cols[k]
        data[p] = weights[k]
        pos[r] = p + np.uint64(1)
    return indices, data


@njit
def _insertion_sort_pairs(idx: NDArray[np.uint32], val: NDArray[np.float64], a: int, b: int) -> None:
    for i in range(a + 1, b):
        ci = idx[i]
        vi = val[i]
        j = i - 1
        while j >= a and (idx[j] > ci or (idx[j] == ci and val[j] > vi)):
            idx[j + 1] = idx[j]
            val[j + 1] = val[j]
            j -= 1
        idx[j + 1] = ci
        val[j + 1] = vi


@njit
def _sort_segment(idx: NDArray[np.uint32], val: NDArray[np.float64], a: int, b: int) -> None:
    if b - a <= 48:
        _insertion_sort_pairs(idx, val, a, b)
        return
    order = np.argsort(idx[a:b], kind="mergesort")
    si = idx[a:b][order]
    sv = val[a:b][order]
    # equal column runs: order by weight so merged sums are canonical
    s = 0
    n = b - a
    while s < n:
        e = s + 1
        while e < n and si[e] == si[s]:
            e += 1
        if e - s > 1:
            sv[s:e] = np.sort(sv[s:e])
        s = e
    idx[a:b] = si
    val[a:b] = sv


@pnjit
def _canonicalize_rows(
    indptr: NDArray[np.uint64], indices: NDArray[np.uint32], data: NDArray[np.float64], unique_counts: NDArray[np.uint64]
) -> None:
    n_rows = indptr.shape[0] - 1
    for i in prange(n_rows):
        a = indptr[i]
        b = indptr[i + 1]
        if b - a > 1:
            _sort_segment(indices, data, a, b)
        one = np.uint64(1)
        u = np.uint64(0)
        k = a
        while k < b:
            u += one
            c = indices[k]
            k += one
            while k < b and indices[k] == c:
                k += one
        unique_counts[i] = u


def build_csr(rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, n_rows: int) -> CSR:
    """Build canonical CSR arrays from a weighted edge list.

    Parameters
    ----------
    rows : ndarray of int, shape (m,)
        Row index of each entry, in ``[0, n_rows)`` (uint32 avoids a copy).
    cols : ndarray of int, shape (m,)
        Column index of each entry, in ``[0, MAX_NODES)``.
    weights : ndarray of float64, shape (m,)
        Value of each entry. Duplicate ``(row, col)`` pairs are added.
    n_rows : int
        Number of rows.

    Returns
    -------
    CSR
        Named tuple ``(indptr, indices, data)``: uint64 row pointers of shape
        ``(n_rows + 1,)``, uint32 column indices strictly increasing within
        each row, and float64 values.

    Raises
    ------
    ValueError
        Naming the argument: an index out of range (negative, ``>= n_rows``,
        or past ``uint32``), a non-integer index dtype, arrays of different
        lengths or not 1-d.

    Notes
    -----
    A stable counting sort by row (two passes over the edges), then a
    parallel per-row sort by ``(col, weight)`` and a merge of duplicates.
    The output depends only on the multiset of input triples.

    Examples
    --------
    >>> import numpy as np
    >>> from graphlabor.kernels import build_csr
    >>> indptr, indices, data = build_csr(
    ...     np.array([1, 0, 1, 1], dtype=np.uint32),
    ...     np.array([2, 1, 0, 2], dtype=np.uint32),
    ...     np.array([1.0, 3.0, 2.0, 0.5]), 3)
    >>> indptr.tolist(), indices.tolist(), data.tolist()
    ([0, 1, 3, 3], [1, 0, 2], [3.0, 2.0, 1.5])
    """
    n_rows = _check.count(n_rows, "n_rows")
    rows = _check.index_array(rows, "rows", n_rows, "n_rows")
    cols = _check.index_array(cols, "cols", MAX_NODES, "MAX_NODES", length=rows.shape[0])
    weights = _check.floats(weights, "weights", length=rows.shape[0], length_of="the length of rows")
    indptr = row_offsets(rows, n_rows)
    indices, data = _scatter(rows, cols, weights, indptr)
    unique_counts = np.empty(int(n_rows), dtype=np.uint64)
    _canonicalize_rows(indptr, indices, data, unique_counts)
    return CSR(*finish_csr(indptr, indices, data, unique_counts))


@njit
def _transpose(
    indptr: NDArray[np.uint64], indices: NDArray[np.uint32], data: NDArray[np.float64], n_cols: int
) -> tuple[NDArray[np.uint64], NDArray[np.uint32], NDArray[np.float64]]:
    n_rows = indptr.shape[0] - 1
    nnz = indices.shape[0]
    t_indptr = np.zeros(n_cols + 1, dtype=np.uint64)
    for k in range(nnz):
        t_indptr[indices[k] + 1] += np.uint64(1)
    for j in range(n_cols):
        t_indptr[j + 1] += t_indptr[j]
    pos = t_indptr[:n_cols].copy()
    t_indices = np.empty(nnz, dtype=np.uint32)
    t_data = np.empty(nnz, dtype=np.float64)
    for i in range(n_rows):
        for k in range(indptr[i], indptr[i + 1]):
            j = indices[k]
            p = pos[j]
            t_indices[p] = i
            t_data[p] = data[k]
            pos[j] = p + np.uint64(1)
    return t_indptr, t_indices, t_data


def transpose_csr(indptr: ArrayLike, indices: ArrayLike, data: ArrayLike, n_cols: int) -> CSR:
    """Transpose canonical CSR arrays (the result is canonical too).

    Parameters
    ----------
    indptr, indices, data : ndarray
        CSR arrays, as :func:`build_csr` returns them.
    n_cols : int
        Number of columns (the rows of the result); every index is below it.

    Returns
    -------
    CSR
        The transpose.

    Raises
    ------
    ValueError
        Naming the argument, for malformed arrays or an index ``>= n_cols``.

    Examples
    --------
    >>> import numpy as np
    >>> from graphlabor.kernels import build_csr, transpose_csr
    >>> a = build_csr(np.array([0, 0, 1], dtype=np.uint32),
    ...               np.array([1, 2, 2], dtype=np.uint32), np.ones(3), 2)
    >>> [x.tolist() for x in transpose_csr(*a, 3)]
    [[0, 0, 1, 3], [0, 0, 1], [1.0, 1.0, 1.0]]
    """
    n_cols = _check.count(n_cols, "n_cols")
    return CSR(*_transpose(*_check.csr(indptr, indices, data, n_cols), n_cols))
