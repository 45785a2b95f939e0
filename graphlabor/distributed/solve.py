"""The solvers over row blocks held by the workers: the power iteration and BiCGSTAB.

Each iteration submits one :func:`~graphlabor.distributed.blocks.step` per
block; a step reads its own rows' values and the pieces of the other blocks'
values that its senders need (and nothing else), and returns its new values,
its residual partials per chunk of rows, and the pieces the other blocks
need of it. The client adds the partials of all blocks, in chunk order, with
the same NumPy sum as the local kernels: the residual, the stopping step and
therefore every value are the same bits as on one machine.

The client keeps a few iterations in flight (:data:`WINDOW`): it checks the
residual of step ``k`` while steps ``k+1..k+WINDOW`` are computed, and drops
the extra steps once one has converged. Every task is a pure function of its
inputs, so the scheduler can recompute whatever a lost worker held.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..kernels import krylov
from ..kernels.propagate import chunk_total
from . import blocks as B

#: Iterations submitted ahead of the one whose residual is being checked.
WINDOW = 4


class BlockVectors:
    """Futures of one vector by block, and of the pieces each block serves to the others."""

    def __init__(self, client: Any, finished: list[Any], own: list[Any], serve: list[Any] | None = None) -> None:
        self.own = own
        if serve is None:
            serve = [client.submit(B.served, f, x, pure=True) for f, x in zip(finished, own)]
        self.serve = serve


#: A block's served dict travels whole to every block that reads it (Dask moves it once per worker,
#: however many of that worker's blocks read it) when it holds at most this many bytes; a larger one
#: is cut by a task per reader on its worker, so that each reader receives only its piece.
WHOLE_BYTES = 8 << 20


class ExchangePlan(list[list[int]]):
    """``plan[b]``: the blocks block ``b`` reads values from (sorted); ``plan.whole[q]``: whether block ``q``'s
    served dict travels whole (read by one block only, or at most :data:`WHOLE_BYTES`; see :func:`pieces_for`).

    >>> plan = ExchangePlan([[1], [0], [0, 1]], [16, 8 * WHOLE_BYTES, 0])
    >>> plan[2], plan.whole
    ([0, 1], [True, False, True])
    """

    def __init__(self, needs: Sequence[Sequence[int]], serves_bytes: Sequence[int]) -> None:
        super().__init__([sorted(q) for q in needs])
        readers = [sum(q in nd for nd in self) for q in range(len(self))]
        self.whole = [readers[q] <= 1 or serves_bytes[q] <= WHOLE_BYTES for q in range(len(self))]


def pieces_for(client: Any, serve: Sequence[Any], needs: Sequence[Sequence[int]], b: int) -> list[Any]:
    """Futures of what block ``b`` reads from each block it needs, from those blocks' :func:`~.blocks.served` dicts.

    A dict travels whole where the plan says so (the reading block picks its
    piece out: no task, and Dask moves the dict once to each worker that
    needs it); otherwise a task on its worker takes ``b``'s piece out, so
    that only that piece moves. ``needs`` without a plan: only a dict read
    by ``b`` alone travels whole.
    """
    whole = getattr(needs, "whole", None)
    out = []
    for q in needs[b]:
        if whole[q] if whole is not None else all(c == b or q not in needs[c] for c in range(len(needs))):
            out.append(serve[q])
        else:
            out.append(client.submit(operator.getitem, serve[q], b, pure=True))
    return out


def exchange(client: Any, finished: list[Any], needs: Sequence[Sequence[int]], vec: BlockVectors,
             fn: Callable[..., Any], *extra: Any) -> list[Any]:
    """Submit ``fn(block, own, *extra, *pieces)`` on every block; return its result futures."""
    return [client.submit(fn, f, vec.own[b], *extra, *pieces_for(client, vec.serve, needs, b), pure=True)
            for b, f in enumerate(finished)]


def _step_futures(client: Any, finished: list[Any], needs: Sequence[Sequence[int]],
                  vec: BlockVectors) -> tuple[BlockVectors, list[Any]]:
    # a step's whole result stays where it was computed and feeds the block's
    # next step there; only the residual partials and the pieces are split off
    res = exchange(client, finished, needs, vec, B.step)
    partials = [client.submit(operator.getitem, r, 1, pure=True) for r in res]
    serve = [client.submit(operator.getitem, r, 2, pure=True) for r in res]
    return BlockVectors(client, finished, res, serve), partials


def power_iteration(client: Any, finished: list[Any], needs: Sequence[Sequence[int]], x0: BlockVectors, tol: float,
                    max_iter: int) -> tuple[BlockVectors, int, float, bool]:
    """``x = s + T x`` from ``x0``, as :func:`graphlabor.kernels.power_iteration`, bit for bit.

    Returns
    -------
    x : BlockVectors
    n_iter : int
    residual : float
    converged : bool
    """
    inflight: list[tuple[int, BlockVectors, list[Any]]] = []  # (iteration, vectors, partial futures)
    vec = x0
    submitted = 0
    residual = np.inf
    while True:
        while submitted < max_iter and len(inflight) <= WINDOW:
            vec, partials = _step_futures(client, finished, needs, vec)
            submitted += 1
            inflight.append((submitted, vec, partials))
        if not inflight:
            break
        it, x, partials = inflight.pop(0)
        parts = client.gather(partials)
        residual = chunk_total(np.concatenate(parts)) if parts else 0.0
        if residual < tol or residual == 0.0:
            inflight.clear()  # the steps beyond are released with their futures
            return x, it, residual, True
        if it == max_iter:
            return x, it, float(residual), False
    return x0, 0, float(residual), False


def _items(client: Any, futures: Sequence[Any], i: int) -> list[Any]:
    return [client.submit(operator.getitem, f, i, pure=True) for f in futures]


def _totals2(client: Any, futures: Sequence[Any], i: int) -> tuple[float, float]:
    """The two reductions of item ``i`` (per-chunk pairs of partials), each added in chunk order."""
    parts = np.concatenate(client.gather(_items(client, futures, i)))
    return chunk_total(parts[:, 0]), chunk_total(parts[:, 1])


def _krylov_phase(client: Any, finished: list[Any], needs: Sequence[Sequence[int]], start: list[Any], target: float,
                  budget: int) -> tuple[list[Any], int]:
    """``graphlabor.kernels.krylov._krylov_phase`` over the blocks: returns the states' futures and the passes done."""
    sub = client.submit
    nb = len(finished)
    state = start
    rho, rnorm = _totals2(client, state, 1)
    alpha = omega = 1.0
    rho_prev = 1.0
    passes = 0
    while rnorm > target and passes + 2 <= budget:
        if rho == 0.0 or not math.isfinite(rho):
            break
        beta = (rho / rho_prev) * (alpha / omega)
        # p = r + beta (p - omega v) and v = (I - T) p in one task a block; the rows of p other blocks read
        # are updated beside it (a task on the block's state), not picked out after it
        pserve = [sub(B.k_served_p, f, st, beta, omega, pure=True) for f, st in zip(finished, state)]
        vres = [sub(B.k_apply_p, finished[b], state[b], beta, omega, *pieces_for(client, pserve, needs, b), pure=True)
                for b in range(nb)]
        rv, _ = _totals2(client, vres, 1)  # v = (I - T) p
        passes += 1
        state = vres
        if rv == 0.0 or not math.isfinite(rv):
            break
        alpha = rho / rv
        # s = r - alpha v and t = (I - T) s, the same way; ||s|| and (t . s, t . t) in one round trip
        # (t is wasted only on the pass that ends the phase)
        sserve = [sub(B.k_served_s, f, st, alpha, pure=True) for f, st in zip(finished, vres)]
        tres = [sub(B.k_apply_s, finished[b], vres[b], alpha, *pieces_for(client, sserve, needs, b), pure=True)
                for b in range(nb)]
        got = client.gather(_items(client, tres, 1))
        snorm = chunk_total(np.concatenate([g[0] for g in got]))
        if snorm <= target or not math.isfinite(snorm):
            state = [sub(B.k_update, f, st, alpha, 0.0, False, pure=True) for f, st in zip(finished, tres)]
            break
        tparts = np.concatenate([g[1] for g in got])
        ts, tt = chunk_total(tparts[:, 0]), chunk_total(tparts[:, 1])
        passes += 1
        omega = ts / tt if tt > 0.0 else 0.0
        if omega == 0.0 or not math.isfinite(omega):
            state = [sub(B.k_update, f, st, alpha, 0.0, False, pure=True) for f, st in zip(finished, tres)]
            break
        rho_prev = rho
        state = [sub(B.k_update, f, st, alpha, omega, True, pure=True) for f, st in zip(finished, tres)]
        rho, rnorm = _totals2(client, state, 1)
    return state, passes


def bicgstab(client: Any, finished: list[Any], needs: Sequence[Sequence[int]], tol: float,
             max_iter: int) -> tuple[BlockVectors, int, float, bool]:
    """``x = s + T x`` from 0, as :func:`graphlabor.kernels.krylov.bicgstab`, bit for bit.

    Every reduction is the blocks' per-chunk partials concatenated in block
    (so chunk) order and added with the same sum; every row-wise update is the
    same kernel on the block's rows. The Krylov phases, the check of the
    true residual after clipping at zero, the restarts and the power
    iteration that takes over after :data:`~graphlabor.kernels.krylov.MAX_RESTARTS`
    restarts (or a restart that did not halve the residual) follow the local
    code, branch for branch.

    Returns
    -------
    x : BlockVectors
        ``s + T x+`` for the last checked iterate ``x+`` (the check step's results).
    n_iter : int
        Passes over ``T``.
    residual : float
    converged : bool
    """
    sub = client.submit
    max_iter = int(max_iter)
    passes = 0
    best = math.inf
    restarts = 0
    start = [sub(B.k_start, f, None, None, pure=True) for f in finished]
    while True:
        # keep one pass for the check
        state, k = _krylov_phase(client, finished, needs, start, krylov.SAFETY * tol, max_iter - passes - 1)
        passes += k
        finite = all(client.gather([sub(B.k_finite, st, pure=True) for st in state]))
        clipped = [sub(B.k_clip, f, st, finite, pure=True) for f, st in zip(finished, state)]
        out, partials = _step_futures(client, finished, needs, BlockVectors(client, finished, clipped))
        res = chunk_total(np.concatenate(client.gather(partials)))  # out = s + T x+, res its true residual
        passes += 1
        if res < tol or res == 0.0:
            return out, passes, res, True
        if passes >= max_iter:
            return out, passes, res, False
        if restarts >= krylov.MAX_RESTARTS or not res < 0.5 * best:
            y, k, res2, ok = power_iteration(client, finished, needs, out, tol, max_iter - passes)
            return y, passes + k, res2, ok
        best = res
        restarts += 1
        start = [sub(B.k_start, f, x, o, pure=True) for f, x, o in zip(finished, clipped, out.own)]
