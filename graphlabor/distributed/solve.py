"""Power iteration over row blocks held by the workers.

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

import operator
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

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


def exchange(client: Any, finished: list[Any], needs: Sequence[Sequence[int]], vec: BlockVectors,
             fn: Callable[..., Any], *extra: Any) -> list[Any]:
    """Submit ``fn(block, own, *extra, *pieces)`` on every block; return its result futures."""
    out = []
    for b, f in enumerate(finished):
        pieces = [client.submit(operator.getitem, vec.serve[q], b, pure=True) for q in needs[b]]
        out.append(client.submit(fn, f, vec.own[b], *extra, *pieces, pure=True))
    return out


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
        residual = float(np.concatenate(parts).sum()) if parts else 0.0
        if residual < tol or residual == 0.0:
            inflight.clear()  # the steps beyond are released with their futures
            return x, it, residual, True
        if it == max_iter:
            return x, it, float(residual), False
    return x0, 0, float(residual), False
