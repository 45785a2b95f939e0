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

Every reduction of the solvers follows that rule: a per-chunk partial over
the rows of one chunk, then :func:`chunk_total` adds the chunk-ordered
partials (NumPy's sum of that array, the same function the distributed
engine applies to its blocks' partials concatenated in chunk order). The step
is wrapped as an operator (:class:`PullOperator`;
:class:`graphlabor.kernels.layout.BlockedOperator` is the same operator on the
blocked layout) that both solvers drive: the power iteration :func:`iterate`
and BiCGSTAB (:func:`graphlabor.kernels.krylov.bicgstab`).
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import numpy as np

from numpy.typing import ArrayLike

from . import _check
from ._jit import njit, pnjit, prange
from ._types import F64, U32, U64

__all__ = ["CHUNK_ROWS", "PowerIterationResult", "csr_matvec", "n_chunks", "power_iteration", "propagate_step"]

#: Rows per residual chunk; row blocks must start at a multiple of this.
CHUNK_ROWS = 2048

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


@njit
def shadow_value(i: int) -> float:
    """BiCGSTAB's shadow residual at absolute row ``i``: a fixed pseudo-random number in [0.5, 1.5).

    SplitMix64 of the row number, so any block of rows computes its own part
    without being told the rest, at any thread count.

    >>> shadow_value(0), shadow_value(0) == shadow_value(0)
    (1.38331080821364..., True)
    """
    z = np.uint64(i) + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    z = z ^ (z >> _S31)
    return np.float64(z >> _S11) * (1.0 / 9007199254740992.0) + 0.5


def chunk_total(partials: ArrayLike) -> float:
    """Add per-chunk partials, given in chunk order: the one way every reduction is finished.

    ``float(np.sum(p))`` of the contiguous float64 array of the partials in
    chunk order: a fixed function of that array (NumPy's pairwise sum), so a
    row-partitioned engine that concatenates its blocks' partials in chunk
    order and adds them the same way gets the same bits.

    >>> chunk_total(np.array([0.1, 0.2, 0.3]))
    0.6000000000000001
    """
    return float(np.ascontiguousarray(partials, dtype=np.float64).sum())


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
def _kstep(indptr: U64, indices: U32, data: F64, x: F64, out: F64, shadow: bool, row0: int, xoff: int,
           partials: F64) -> None:
    """``out = x - T x`` with per-chunk ``(z . out, out . out)``, ``z`` the shadow vector or ``x``.

    Row ``i`` of the block is global row ``row0 + i`` (for the shadow vector)
    and reads its own value at ``x[xoff + i]`` (0 and 0 for a whole matrix).
    """
    n_rows = indptr.shape[0] - 1
    n_ch = partials.shape[0]
    for c in prange(n_ch):
        a = c * CHUNK_ROWS
        b = min(a + CHUNK_ROWS, n_rows)
        dz = 0.0
        dd = 0.0
        for i in range(a, b):
            acc = 0.0
            for k in range(indptr[i], indptr[i + 1]):
                acc += data[k] * x[indices[k]]
            v = x[xoff + i] - acc
            out[i] = v
            if shadow:
                dz += shadow_value(row0 + i) * v
            else:
                dz += x[xoff + i] * v
            dd += v * v
        partials[c, 0] = dz
        partials[c, 1] = dd


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


class PowerIterationResult(NamedTuple):
    """What :func:`power_iteration` returns (unpacks as ``x, n_iter, residual, converged``)."""

    x: F64
    """Held value after the last step, float64, shape (n,)."""
    n_iter: int
    """Steps done."""
    residual: float
    """L1 change of the last step."""
    converged: bool
    """Whether the last step's change fell below ``tol``."""


def n_chunks(n_rows: int) -> int:
    """Number of residual chunks for ``n_rows`` rows."""
    return (int(n_rows) + CHUNK_ROWS - 1) // CHUNK_ROWS


def propagate_step(
    indptr: ArrayLike,
    indices: ArrayLike,
    data: ArrayLike,
    x: ArrayLike,
    s: ArrayLike,
    out: F64,
    row0: int = 0,
    partials: F64 | None = None,
    *,
    check: bool = True,
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
    check : bool, default True
        Check every argument. ``False`` skips the two passes over ``indptr``
        and ``indices`` (non-decreasing, in range), for a loop stepping the
        same arrays after a first, checked step; shapes and dtypes are
        always checked.

    Returns
    -------
    residual : float
        ``sum(|out - x[row0:row0 + n_rows]|)``, added chunk by chunk in order.

    Raises
    ------
    ValueError
        Naming the argument: malformed CSR arrays, a sender index
        ``>= len(x)``, vectors of the wrong length or dtype, or a block that
        does not fit in ``x``.

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
    x = _check.floats(x, "x")
    indptr, indices, data = _check.csr(indptr, indices, data, x.shape[0], full=check)
    n_rows = indptr.shape[0] - 1
    row0 = _check.count(row0, "row0")
    if row0 % CHUNK_ROWS:
        raise ValueError(f"row0={row0} must be a multiple of CHUNK_ROWS={CHUNK_ROWS}")
    if row0 + n_rows > x.shape[0]:
        raise ValueError(f"rows row0={row0} to {row0 + n_rows} (len(indptr) - 1 rows) do not fit in x of length {x.shape[0]}")
    s = _check.floats(s, "s", length=n_rows, length_of="len(indptr) - 1")
    out = _check.out_floats(out, "out", length=n_rows)
    if partials is None:
        partials = np.empty(n_chunks(n_rows), dtype=np.float64)
    else:
        partials = _check.out_floats(partials, "partials", length=n_chunks(n_rows))
    _step(indptr, indices, data, x, s, out, row0, partials)
    return chunk_total(partials)


class Operator(Protocol):
    """What the solvers drive: :class:`PullOperator` or :class:`~graphlabor.kernels.layout.BlockedOperator`."""

    n: int

    def step(self, x: F64, s: F64, out: F64, partials: F64) -> float: ...

    def krylov(self, x: F64, out: F64, partials2: F64, shadow: bool) -> tuple[float, float]: ...


class PullOperator:
    """``T`` as a receiver-major CSR, applied by the pull loop: what the solvers drive.

    The arrays are used as given (the public functions check them first).

    Methods
    -------
    step(x, s, out, partials) -> float
        ``out = s + T x``; returns ``||out - x||_1`` (a Jacobi step).
    krylov(x, out, partials2, shadow) -> (float, float)
        ``out = (I - T) x``; returns ``(z . out, out . out)`` with ``z`` the
        shadow vector (:func:`shadow_value` by row) when ``shadow``, else ``x``.
    """

    def __init__(self, indptr: U64, indices: U32, data: F64) -> None:
        self.indptr = indptr
        self.indices = indices
        self.data = data
        self.n = int(indptr.shape[0]) - 1

    def step(self, x: F64, s: F64, out: F64, partials: F64) -> float:
        _step(self.indptr, self.indices, self.data, x, s, out, 0, partials)
        return chunk_total(partials)

    def krylov(self, x: F64, out: F64, partials2: F64, shadow: bool) -> tuple[float, float]:
        _kstep(self.indptr, self.indices, self.data, x, out, bool(shadow), 0, 0, partials2)
        return chunk_total(partials2[:, 0]), chunk_total(partials2[:, 1])


def iterate(op: Operator, s: ArrayLike, tol: float, max_iter: int, x0: ArrayLike | None = None) -> PowerIterationResult:
    """The power iteration ``x_{k+1} = s + T x_k`` on any operator (pull or blocked): the one loop of both.

    Stops after the first step whose L1 change is below ``tol``, or exactly
    zero (an exact fixed point has converged even when ``tol`` underflows to
    0). ``x0`` defaults to ``s``; the arguments are not checked here.
    """
    s = np.ascontiguousarray(s, dtype=np.float64)
    x = s.copy() if x0 is None else np.array(x0, dtype=np.float64)
    out = np.empty_like(x)
    partials = np.empty(n_chunks(x.shape[0]), dtype=np.float64)
    residual = np.inf
    max_iter = int(max_iter)
    for it in range(1, max_iter + 1):
        residual = op.step(x, s, out, partials)
        x, out = out, x
        if residual < tol or residual == 0.0:
            return PowerIterationResult(x, it, residual, True)
    return PowerIterationResult(x, max_iter, float(residual), False)


def power_iteration(
    indptr: ArrayLike,
    indices: ArrayLike,
    data: ArrayLike,
    s: ArrayLike,
    tol: float,
    max_iter: int,
    x0: ArrayLike | None = None,
) -> PowerIterationResult:
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
    PowerIterationResult
        Named tuple ``(x, n_iter, residual, converged)``: the held value
        after the last step, the steps done, the L1 change of the last
        step, and whether it fell below ``tol``.

    Raises
    ------
    ValueError
        Naming the argument: malformed CSR arrays, a matrix that is not
        square, ``s`` or ``x0`` of the wrong length, a negative ``tol`` or
        ``max_iter``.

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
    s = _check.floats(s, "s")
    n = s.shape[0]
    indptr, indices, data = _check.csr(indptr, indices, data, n, n_rows=n)
    x = s.copy() if x0 is None else np.array(_check.floats(x0, "x0", length=n, length_of="len(s)"))
    max_iter = _check.count(max_iter, "max_iter", upper=np.iinfo(np.int64).max)
    if not float(tol) >= 0.0:
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    return iterate(PullOperator(indptr, indices, data), s, tol, max_iter, x)
