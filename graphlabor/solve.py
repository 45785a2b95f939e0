"""Solve the value flow: held value ``x = s + T x``, kept value ``keep * x``.

Two solvers (``ModelParams.solver``, ``--solver``):

- ``bicgstab`` (default): BiCGSTAB with deterministic reductions
  (:mod:`graphlabor.kernels.krylov`), 23-30 passes over ``T`` where the
  power iteration needs 133-142 at ``tol = 1e-10``. The guarantee is checked
  at the end on the true residual ``||s + T x - x||_1 <= tol x S``; the
  iterate is clipped at zero and finished by one propagation step, so
  attributed values are never negative; if the check fails, BiCGSTAB
  restarts, and the power iteration takes over if restarts do not help.
- ``jacobi``: the power iteration ``x_{k+1} = s + T x_k`` from ``x_0 = s``,
  stopped when the value still in flight, ``||x_{k+1} - x_k||_1``, is below
  ``tol x S``.

``max_iter`` bounds the passes over ``T`` either way; not converging raises
:class:`~graphlabor.errors.ConvergenceError` with the residual. Every
reduction is computed per chunk of rows and added in chunk order, so both
solvers give the same bits at any thread count and with either kernel.

Two kernels apply ``T``, bit for bit alike:

- the pull loop (:func:`graphlabor.kernels.power_iteration`), for small
  graphs and for graphs whose value vector fits in a core's L2 cache and
  whose rows are very long (the row sums amortise the loop);
- the row-blocked pull (:mod:`graphlabor.kernels.layout`): row blocks whose
  slice of the result stays in cache, each block's entries sorted by sender,
  so the value vector is read in ascending order instead of at random. It
  wins by far once the vector leaves the cache, and with short rows it wins
  even in cache (consecutive additions go to different rows, so they no
  longer wait for each other). Its layout is built once per solve (a few
  steps' worth of time), in the node order of the graph: nothing is
  relabelled.

Which one runs depends on the graph's size and the memory available, never
on the results: both add the same numbers in the same order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from . import kernels as K
from .errors import ConvergenceError
from .graph import FlowGraph
from .memory import available_bytes
from .params import ModelParams

#: Use the blocked kernel for graphs with at least this many entries ...
BLOCKED_MIN_NNZ = 1 << 17
#: ... unless the value vector has at most this many nodes (2 MiB: a core's L2
#: here) and rows hold at least PULL_MIN_DEGREE entries on average, where the
#: pull loop is faster (benchmarks/NOTES.md).
PULL_MAX_NODES = 1 << 18
PULL_MIN_DEGREE = 64
#: Bytes per entry the blocked layout adds (weights, senders, rows).
BLOCKED_BYTES_PER_ENTRY = 8 + 2 + 2


@dataclass(frozen=True)
class Solution:
    """Result of a solve.

    Attributes
    ----------
    held : ndarray of float64
        Value that passed through each node (``x``).
    kept : ndarray of float64
        Value each node kept: its attributed value.
    n_iter : int
        Passes over ``T``.
    residual : float
        Residual checked at the end, relative to the injected total: the
        last step's L1 change (``jacobi``) or the true residual
        ``||s + T x - x||_1`` of the checked iterate (``bicgstab``).
    """

    held: np.ndarray
    kept: np.ndarray
    n_iter: int
    residual: float


def choose_kernel(n: int, nnz: int) -> str:
    """``"blocked"`` or ``"pull"`` for a graph of ``n`` nodes and ``nnz`` entries.

    The blocked kernel pays once the graph is large enough for its layout
    to pay back, except when the value vector fits in a core's L2 cache and
    rows are long, provided the layout's extra memory (about 12 bytes an
    entry) takes at most half of the memory still available. The environment
    variable ``GRAPHLABOR_KERNEL`` (``pull`` or ``blocked``) overrides the
    choice; results are the same either way.

    >>> choose_kernel(1000, 5000)
    'pull'
    """
    forced = os.environ.get("GRAPHLABOR_KERNEL", "").strip().lower()
    if forced in ("pull", "blocked"):
        return forced
    if nnz < BLOCKED_MIN_NNZ:
        return "pull"
    if n <= PULL_MAX_NODES and nnz >= PULL_MIN_DEGREE * n:
        return "pull"
    avail = available_bytes()
    if avail is not None and BLOCKED_BYTES_PER_ENTRY * nnz + 16 * n > avail // 2:
        return "pull"
    return "blocked"


def propagate(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    s: np.ndarray,
    tol: float,
    max_iter: int,
    kernel: str | None = None,
    x0: np.ndarray | None = None,
    solver: str = "bicgstab",
) -> tuple[np.ndarray, int, float, bool]:
    """Solve ``x = s + T x`` with the fastest kernel for the graph.

    Parameters
    ----------
    indptr, indices, data : canonical CSR arrays of ``T`` by receiver
    s : ndarray of float64
    tol : float
        Absolute bound on the residual (see the module notes).
    max_iter : int
    kernel : {"pull", "blocked"}, optional
        Default :func:`choose_kernel`.
    x0 : ndarray of float64, optional
        Starting point (default ``s`` for ``jacobi``, 0 for ``bicgstab``): a
        warm start from a nearby solution.
    solver : {"bicgstab", "jacobi"}
        See the module notes.

    Returns
    -------
    x, n_iter, residual, converged
        As :func:`graphlabor.kernels.power_iteration` (``jacobi``) or
        :func:`graphlabor.kernels.krylov.bicgstab`; the same bits with
        either kernel.
    """
    if solver not in ("bicgstab", "jacobi"):
        raise ValueError(f"solver must be 'bicgstab' or 'jacobi', got {solver!r}")
    from .kernels.propagate import Operator

    n = int(indptr.shape[0]) - 1
    kernel = kernel or choose_kernel(n, int(indices.shape[0]))
    op: Operator
    if kernel == "blocked":
        from .kernels import layout as L

        op = L.BlockedOperator(L.blocked_layout(indptr, indices, data))
    elif kernel == "pull":
        if solver == "jacobi":
            return K.power_iteration(indptr, indices, data, s, tol, max_iter, x0)
        from .kernels.propagate import PullOperator

        op = PullOperator(indptr, indices, data)
    else:
        raise ValueError(f"kernel must be 'pull' or 'blocked', got {kernel!r}")
    if solver == "jacobi":
        from .kernels.propagate import iterate

        return iterate(op, s, tol, max_iter, x0)
    from .kernels.krylov import bicgstab

    return bicgstab(op, s, tol, max_iter, x0)


def fold_pairs(graph: FlowGraph, injected: np.ndarray) -> np.ndarray:
    """The real nodes' injection with what the ``(platform, context)`` pairs pass folded in.

    A pair receives nothing, so it holds exactly its injection ``s_q`` and
    passes ``weight * factor_q * s_q`` along each of its entries:
    ``s'_u = s_u + sum_q sum_(entries e of q into u) weight_e (factor_q s_q)``,
    added pair after pair (:func:`graphlabor.kernels.pairflow.scatter_pairs`).
    Without pairs, ``injected`` itself.
    """
    pe = graph.pairs
    if pe is None:
        return injected
    from .kernels.pairflow import scatter_pairs

    n = graph.rows
    folded = np.array(injected[:n], dtype=np.float64)
    scatter_pairs(pe.ptr, pe.user, pe.weight, np.empty(0, np.uint16), graph.pair_y(injected[n:]), 0, 1, folded)
    return folded


def solve(graph: FlowGraph, injected: np.ndarray, params: ModelParams, x0: np.ndarray | None = None,
          folded: np.ndarray | None = None) -> Solution:
    """Solve ``x = s + T x`` with ``params.solver`` to ``params.tol * sum(s)`` (``x0``: a warm start).

    With ``jacobi``, stops after the first step whose L1 change is below
    ``params.tol * sum(s)``; from ``x_0 = s`` that change is exactly the
    value still in flight, ``||T^k s||_1``. With ``bicgstab``, stops once
    the true residual ``||s + T x - x||_1`` of the checked iterate is below
    it. Either way the returned ``x`` is one propagation step past an
    iterate with that residual and is non-negative, and the attributed total
    differs from the injected total by less than ``tol`` (relative): the gap
    is at most the last step's L1 change
    (``sum(s) - sum(keep x_{k+1}) = sum((1 - keep)(x_{k+1} - x_k))``). A start
    near the solution (the solution for nearby parameters) needs fewer passes.

    With ``(platform, context)`` pairs (``graph.pairs``), which receive
    nothing, their held value is their injection, and the solve runs on the
    real nodes only, with the pairs' passes folded into the users' injection
    (:func:`fold_pairs`; ``folded``: that injection, when already computed).

    Raises
    ------
    ConvergenceError
        After ``params.max_iter`` passes over ``T`` without reaching the
        tolerance; it carries the passes done and the relative residual.
    """
    total = float(injected.sum())
    if total == 0.0 or graph.nnz == 0:
        held = injected.astype(np.float64, copy=True)
        return Solution(held, graph.keep * held, 0, 0.0)
    indptr, indices, data = graph.indptr, graph.indices, graph.data
    n = graph.rows
    s = injected
    if graph.pairs is not None:
        s = folded if folded is not None else fold_pairs(graph, injected)
        x0 = None if x0 is None else x0[:n]
    if indices.shape[0]:
        x, n_iter, residual, ok = propagate(indptr, indices, data, s, params.tol * total, params.max_iter, x0=x0,
                                            solver=params.solver)
    else:
        x, n_iter, residual, ok = s.copy(), 0, 0.0, True
    if graph.pairs is not None:
        x = np.concatenate([x, injected[n:]])
    rel = residual / total
    if not ok:
        raise ConvergenceError(n_iter, rel, params.tol)
    return Solution(x, graph.keep * x, n_iter, rel)
