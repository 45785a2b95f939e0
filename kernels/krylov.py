"""BiCGSTAB for ``(I - T) x = s``: about 4-6x fewer passes over ``T`` than the power iteration.

The power iteration (Jacobi) needs about ``log(tol) / log(damping)`` passes
over ``T`` (142 at ``tol = 1e-10``, ``damping = 0.85``). BiCGSTAB (van der
Vorst 1992), unpreconditioned, two passes an iteration, reaches the same
guarantee in 23-30 passes on the benchmark graphs (``docs/model.md``).

**The guarantee is the true residual, checked at the end.** The Krylov
phase stops when its recurrence residual ``||r||_1`` is below
``SAFETY x tol`` (the recurrence can drift from the true residual); then the
iterate is *clipped at zero* and one propagation step is taken,
``out = s + T x+``, whose change ``||out - x+||_1`` is exactly the true
residual ``||s + T x+ - x+||_1``. That is the residual reported and
compared with ``tol``. The returned vector is ``out``: for non-negative ``s``
and ``T`` it is non-negative (a Krylov iterate can dip slightly below zero;
``out`` cannot), and since the columns of ``T`` sum to at most 1 its own
residual ``||T (out - x+)||_1`` is at most the one reported. If the check
fails, BiCGSTAB restarts from ``x+`` with its exact residual ``out - x+``;
after :data:`MAX_RESTARTS` restarts, a non-finite value or a restart that
did not halve the true residual, the power iteration finishes from ``out``
(monotone and sure for a substochastic ``T``). ``max_iter`` bounds the passes
over ``T`` of all phases together.

**Determinism.** Every reduction (the dot products ``(r_hat, r)``,
``(r_hat, v)``, ``(t, s)``, ``(t, t)`` and the L1 norms) is computed as
per-chunk partials over fixed chunks of
:data:`~graphlabor.kernels.propagate.CHUNK_ROWS` consecutive rows aligned on
absolute row numbers, then added serially in chunk order
(:func:`~graphlabor.kernels.propagate.chunk_total`). Every other operation is
row by row. The shadow residual ``r_hat`` is a fixed pseudo-random vector
in [0.5, 1.5) computed from the absolute row number
(:func:`~graphlabor.kernels.propagate.shadow_value`; ``r_hat = s`` breaks
down on graphs where value enters at platforms, which receive nothing). So
the iterates, the pass count and the result are bit-identical at any thread
count, with either kernel (pull or blocked), and a row-partitioned engine
whose blocks start on chunk boundaries reproduces the same bits by
computing the same partials per block and adding them in chunk order.
"""

from __future__ import annotations

import math

import numpy as np

from numpy.typing import ArrayLike

from ._jit import pnjit, prange
from ._types import F64, U32, U64
from .propagate import CHUNK_ROWS, Operator, PowerIterationResult, _kstep, chunk_total, iterate, n_chunks, shadow_value

#: The Krylov phase aims at ``SAFETY x tol`` on its recurrence residual, so
#: that the true residual usually passes the final check at the first try.
SAFETY = 0.5
#: Restarts of BiCGSTAB (after a failed check or a breakdown) before the power
#: iteration takes over.
MAX_RESTARTS = 3


@pnjit
def _update_p(p: F64, r: F64, v: F64, beta: float, omega: float) -> None:
    """``p = r + beta (p - omega v)``."""
    n = p.shape[0]
    for c in prange((n + CHUNK_ROWS - 1) // CHUNK_ROWS):
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            p[i] = r[i] + beta * (p[i] - omega * v[i])


@pnjit
def _update_s(r: F64, v: F64, alpha: float, partials: F64) -> None:
    """``r = r - alpha v`` (BiCGSTAB's ``s``, kept in ``r``); per-chunk ``||r||_1``."""
    n = r.shape[0]
    for c in prange(partials.shape[0]):
        acc = 0.0
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            v_ = r[i] - alpha * v[i]
            r[i] = v_
            acc += abs(v_)
        partials[c] = acc


@pnjit
def _update_xr(x: F64, p: F64, r: F64, t: F64, alpha: float, omega: float, row0: int, partials: F64) -> None:
    """``x += alpha p + omega r``; ``r = r - omega t``; per-chunk ``(r_hat . r, ||r||_1)``."""
    n = r.shape[0]
    for c in prange(partials.shape[0]):
        dz = 0.0
        dn = 0.0
        for i in range(c * CHUNK_ROWS, min((c + 1) * CHUNK_ROWS, n)):
            sv = r[i]
            x[i] += alpha * p[i] + omega * sv
            v_ = sv - omega * t[i]
            r[i] = v_
            dz += shadow_value(row0 + i) * v_
            dn += abs(v_)
        partials[c, 0] = dz
        partials[c, 1] = dn


def krylov_rows(indptr: U64, indices: U32, data: F64, x: F64, out: F64, shadow: bool, row0: int, xoff: int,
                partials2: F64) -> None:
    """``out = x - T x`` on a block of rows: the kernel of :meth:`PullOperator.krylov`, for a row-partitioned engine.

    Row ``i`` of the block is global row ``row0`` + ``i`` (a multiple of
    ``CHUNK_ROWS``) and its own value is ``x[xoff + i]``; ``partials2``
    (``n_chunks(rows)`` x 2) receives the per-chunk ``(z . out, out . out)``,
    ``z`` the shadow vector (``shadow``) or ``x``'s own rows. The same
    arithmetic as the whole-matrix step, so the partials are the whole
    matrix's for these chunks, bit for bit. Arguments are not checked.
    """
    _kstep(indptr, indices, data, x, out, bool(shadow), int(row0), int(xoff), partials2)


#: BiCGSTAB's row-wise updates, for a row-partitioned engine (each on one
#: block's rows; ``update_xr`` takes the block's first global row for the
#: shadow vector): the very kernels :func:`bicgstab` runs.
update_p = _update_p
update_s = _update_s
update_xr = _update_xr


def _finite(*values: float) -> bool:
    return all(math.isfinite(v) for v in values)


def _krylov_phase(op: Operator, x: F64, r: F64, target: float, budget: int, work: tuple[F64, F64, F64, F64, F64]) -> int:
    """BiCGSTAB from ``x`` with residual ``r`` (both updated in place) until ``||r||_1 <= target``.

    Returns the passes over ``T`` done. Stops early (leaving ``x``, ``r``
    consistent) at a breakdown or when ``budget`` passes would be exceeded.
    """
    p, v, t, partials, partials2 = work
    p[:] = 0.0
    v[:] = 0.0
    # r_hat . r and ||r||_1 of the starting residual (alpha = omega = 0: x and r unchanged)
    _update_xr(x, p, r, r, 0.0, 0.0, 0, partials2)
    rho, rnorm = chunk_total(partials2[:, 0]), chunk_total(partials2[:, 1])
    alpha = omega = 1.0
    rho_prev = 1.0
    passes = 0
    while rnorm > target and passes + 2 <= budget:
        if rho == 0.0 or not _finite(rho):
            break
        beta = (rho / rho_prev) * (alpha / omega)
        _update_p(p, r, v, beta, omega)
        rv, _ = op.krylov(p, v, partials2, True)  # v = (I - T) p
        passes += 1
        if rv == 0.0 or not _finite(rv):
            break
        alpha = rho / rv
        _update_s(r, v, alpha, partials)  # r now holds s = r - alpha v, the residual of x + alpha p
        snorm = chunk_total(partials)
        if snorm <= target or not _finite(snorm):
            _update_xr(x, p, r, r, alpha, 0.0, 0, partials2)
            rnorm = chunk_total(partials2[:, 1])
            break
        ts, tt = op.krylov(r, t, partials2, False)  # t = (I - T) s
        passes += 1
        omega = ts / tt if tt > 0.0 else 0.0
        if omega == 0.0 or not _finite(omega):
            _update_xr(x, p, r, r, alpha, 0.0, 0, partials2)
            break
        rho_prev = rho
        _update_xr(x, p, r, t, alpha, omega, 0, partials2)
        rho, rnorm = chunk_total(partials2[:, 0]), chunk_total(partials2[:, 1])
    return passes


def bicgstab(op: Operator, s: ArrayLike, tol: float, max_iter: int, x0: ArrayLike | None = None) -> PowerIterationResult:
    """Solve ``x = s + T x`` with BiCGSTAB, checked and finished as the module notes say.

    Parameters
    ----------
    op : PullOperator or BlockedOperator
        ``T`` (non-negative, columns summing to at most 1).
    s : ndarray of float64, shape (n,)
        Injected value (non-negative).
    tol : float
        Absolute bound on the true residual ``||s + T x - x||_1``.
    max_iter : int
        Most passes over ``T``, all phases together.
    x0 : ndarray of float64, optional
        Starting point (default 0); clipped at zero and checked first, which
        costs one pass.

    Returns
    -------
    x : ndarray of float64
        ``s + T x+`` for the last checked iterate ``x+`` (non-negative).
    n_iter : int
        Passes over ``T`` done.
    residual : float
        True residual ``||s + T x+ - x+||_1`` of the checked iterate (or
        the last change of the power iteration when it finished the solve).
    converged : bool

    Examples
    --------
    >>> import numpy as np
    >>> from graphlabor.kernels import build_csr
    >>> from graphlabor.kernels.propagate import PullOperator
    >>> T = build_csr(np.array([0, 1], dtype=np.uint32),
    ...               np.array([1, 0], dtype=np.uint32), np.array([0.5, 0.5]), 2)
    >>> x, n_iter, residual, ok = bicgstab(PullOperator(*T), np.array([1.0, 0.0]), 1e-12, 100)
    >>> np.round(x, 9).tolist(), ok, n_iter < 10
    ([1.333333333, 0.666666667], True, True)
    """
    s = np.ascontiguousarray(s, dtype=np.float64)
    n = s.shape[0]
    max_iter = int(max_iter)
    nc = n_chunks(n)
    work = (np.empty(n), np.empty(n), np.empty(n), np.empty(nc), np.empty((nc, 2)))
    check = np.empty(nc)
    out = np.empty(n)
    passes = 0
    best = math.inf
    restarts = 0
    if x0 is None:
        x = np.zeros(n)
        r = s.copy()  # the residual of x = 0, exactly
    else:
        x = np.maximum(np.asarray(x0, dtype=np.float64), 0.0)
        res = op.step(x, s, out, check)  # out = s + T x0+: its residual, and a better start
        passes = 1
        if res < tol or res == 0.0 or passes >= max_iter:
            return PowerIterationResult(out, passes, res, bool(res < tol or res == 0.0))
        best = res
        r = out - x
    while True:
        # keep one pass for the check
        passes += _krylov_phase(op, x, r, SAFETY * tol, max_iter - passes - 1, work)
        if not np.isfinite(x).all():
            x[:] = s  # the Krylov phase went astray: the power iteration starts afresh
        np.maximum(x, 0.0, out=x)
        res = op.step(x, s, out, check)  # out = s + T x+, res = its true residual
        passes += 1
        if res < tol or res == 0.0:
            return PowerIterationResult(out, passes, res, True)
        if passes >= max_iter:
            return PowerIterationResult(out, passes, res, False)
        if restarts >= MAX_RESTARTS or not res < 0.5 * best:
            y, k, res2, ok = iterate(op, s, tol, max_iter - passes, x0=out)
            return PowerIterationResult(y, passes + k, res2, ok)
        best = res
        restarts += 1
        np.subtract(out, x, out=r)  # the exact residual of x+
