"""Pull-based propagation: ``out = s + T x`` over the rows of a CSR matrix.

``T`` is stored row-major by *receiver*: row ``i`` lists the nodes that pass
value to ``i`` and the fraction of their held value that each passes. Each
thread computes whole rows and writes only ``out[i]`` for its own rows, and
each row is summed serially in column order, so the result is identical bit
for bit at any thread count.

The L1 change ``sum_i |out[i] - x[i]|`` is computed per *chunk* of
:data:`CHUNK_ROWS` consecutive rows (aligned on absolute row numbers) and the
chunk partials are added serially, so the residual, and therefore the number
of iterations, does not depend on the thread count either, nor on how rows
are split into blocks, as long as blocks start on a chunk boundary (the
distributed engine's row blocks do).
"""

from __future__ import annotations

import numpy as np

from numpy.typing import ArrayLike

from ._jit import pnjit, prange
from ._types import F64, U32, U64

#: Rows per residual chunk; row blocks must start at a multiple of this.
CHUNK_ROWS = 2048


@pnjit
def _step(indptr: U64, indices: U32, data: F64, x: F64, s: F64, out: F64, row0: int, partials: F64) -> None:
    n_rows = indptr.shape[0] - 1
    n_chunks = partials.shape[0]
    for c in prange(n_chunks):
        a = c * CHUNK_ROWS
        b = min(a + CHUNK_ROWS, n_rows)
        diff = 0.0
        for i in range(a, b):
            acc = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                acc += data[k] * x[indices[k]]
            v = s[i] + acc
            diff += abs(v - x[row0 + i])
            out[i] = v
        partials[c] = diff


@pnjit
def _matvec(indptr: U64, indices: U32, data: F64, x: F64, out: F64) -> None:
    for i in prange(indptr.shape[0] - 1):
        acc = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            acc += data[k] * x[indices[k]]
        out[i] = acc


def csr_matvec(indptr: U64, indices: U32, data: F64, x: ArrayLike) -> F64:
    """``A @ x`` for a CSR matrix; each row's products added in the row's column order.

    The result depends only on the arrays (a canonical CSR from
    :func:`build_csr` makes it independent of the input row order), never on
    the number of threads.

    >>> import numpy as np
    >>> csr_matvec(np.array([0, 2, 2, 3], np.uint64), np.array([0, 1, 1], np.uint32),
    ...            np.array([1.0, 2.0, 4.0]), np.array([1.0, 0.5])).tolist()
    [2.0, 0.0, 2.0]
    """
    out = np.empty(indptr.shape[0] - 1, dtype=np.float64)
    _matvec(indptr, indices, data, np.ascontiguousarray(x, dtype=np.float64), out)
    return out


def n_chunks(n_rows: int) -> int:
    """Number of residual chunks for ``n_rows`` rows."""
    return (int(n_rows) + CHUNK_ROWS - 1) // CHUNK_ROWS


def propagate_step(
    indptr: U64, indices: U32, data: F64, x: F64, s: F64, out: F64, row0: int = 0, partials: F64 | None = None
) -> float:
    """One propagation step on a block of rows: ``out = s + T[rows] @ x``.

    Parameters
    ----------
    indptr : ndarray of uint64, shape (n_rows + 1,)
        Row pointers of the block (``indptr[0]`` is 0 for a block copied out
        of a larger matrix).
    indices : ndarray of uint32, shape (nnz,)
        Sender of each entry, as a *global* node index into ``x``.
    data : ndarray of float64, shape (nnz,)
        Fraction of the sender's held value passed along the entry.
    x : ndarray of float64, shape (n_nodes,)
        Held value of every node at the previous step (read only).
    s : ndarray of float64, shape (n_rows,)
        Injected value of the block's rows.
    out : ndarray of float64, shape (n_rows,)
        Filled with the block's new held values.
    row0 : int, default 0
        Global index of the block's first row (a multiple of
        :data:`CHUNK_ROWS`); used to compare with ``x`` for the residual.
    partials : ndarray of float64, shape (n_chunks(n_rows),), optional
        Filled with the L1 change of each chunk of rows.

    Returns
    -------
    residual : float
        ``sum(|out - x[row0:row0 + n_rows]|)``, added chunk by chunk in order.

    Examples
    --------
    Node 0 passes half of what it holds to node 1:

    >>> import numpy as np
    >>> from graphlabor.kernels import propagate_step
    >>> indptr = np.array([0, 0, 1], dtype=np.uint64)
    >>> indices = np.array([0], dtype=np.uint32)
    >>> data = np.array([0.5])
    >>> x = np.array([1.0, 0.0]); s = np.array([1.0, 0.0]); out = np.empty(2)
    >>> propagate_step(indptr, indices, data, x, s, out)
    0.5
    >>> out
    array([1. , 0.5])
    """
    n_rows = indptr.shape[0] - 1
    if row0 % CHUNK_ROWS:
        raise ValueError(f"row0={row0} must be a multiple of CHUNK_ROWS={CHUNK_ROWS}")
    if partials is None:
        partials = np.empty(n_chunks(n_rows), dtype=np.float64)
    _step(indptr, indices, data, x, s, out, int(row0), partials)
    return float(partials.sum())


def power_iteration(
    indptr: U64, indices: U32, data: F64, s: ArrayLike, tol: float, max_iter: int, x0: ArrayLike | None = None
) -> tuple[F64, int, float, bool]:
    """Solve ``x = s + T x`` by repeated propagation steps.

    Parameters
    ----------
    indptr, indices, data : CSR arrays of ``T`` by receiver (see
        :func:`propagate_step`), square.
    s : ndarray of float64, shape (n,)
        Injected value.
    tol : float
        Absolute stopping threshold: iteration stops after the first step
        whose L1 change ``||x_{k+1} - x_k||_1`` is below ``tol``.
    max_iter : int
        Largest number of steps.
    x0 : ndarray of float64, optional
        Starting point (default ``s``).

    Returns
    -------
    x : ndarray of float64, shape (n,)
        Held value after the last step.
    n_iter : int
        Steps done.
    residual : float
        L1 change of the last step.
    converged : bool

    Examples
    --------
    A cycle of two nodes that each pass half of what they hold:

    >>> import numpy as np
    >>> from graphlabor.kernels import build_csr, power_iteration
    >>> T = build_csr(np.array([0, 1], dtype=np.uint32),
    ...               np.array([1, 0], dtype=np.uint32), np.array([0.5, 0.5]), 2)
    >>> x, n_iter, residual, ok = power_iteration(*T, np.array([1.0, 0.0]), 1e-12, 100)
    >>> np.round(x, 9).tolist(), ok
    ([1.333333333, 0.666666667], True)
    """
    s = np.ascontiguousarray(s, dtype=np.float64)
    x = s.copy() if x0 is None else np.array(x0, dtype=np.float64)
    out = np.empty_like(x)
    partials = np.empty(n_chunks(x.shape[0]), dtype=np.float64)
    residual = np.inf
    for it in range(1, int(max_iter) + 1):
        residual = propagate_step(indptr, indices, data, x, s, out, 0, partials)
        x, out = out, x
        if residual < tol or residual == 0.0:  # an exact fixed point has converged, even when tol underflows to 0
            return x, it, residual, True
    return x, int(max_iter), float(residual), False
