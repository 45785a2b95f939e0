"""Solve the value flow: held value ``x = s + T x``, kept value ``keep * x``.

Two kernels compute the same iteration, bit for bit:

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
    residual : float
        L1 change of the last iteration relative to the injected total.
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
) -> tuple[np.ndarray, int, float, bool]:
    """Power iteration ``x = s + T x`` with the fastest kernel for the graph.

    Parameters
    ----------
    indptr, indices, data : canonical CSR arrays of ``T`` by receiver
    s : ndarray of float64
    tol : float
        Absolute threshold on the L1 change of one step.
    max_iter : int
    kernel : {"pull", "blocked"}, optional
        Default :func:`choose_kernel`.
    x0 : ndarray of float64, optional
        Starting point (default ``s``): a warm start from a nearby solution.

    Returns
    -------
    x, n_iter, residual, converged
        As :func:`graphlabor.kernels.power_iteration`, bit for bit.
    """
    n = int(indptr.shape[0]) - 1
    kernel = kernel or choose_kernel(n, int(indices.shape[0]))
    if kernel == "blocked":
        from .kernels import layout as L

        lay = L.blocked_layout(indptr, indices, data)
        return L.blocked_power_iteration(lay, s, tol, max_iter, x0)
    if kernel != "pull":
        raise ValueError(f"kernel must be 'pull' or 'blocked', got {kernel!r}")
    return K.power_iteration(indptr, indices, data, s, tol, max_iter, x0)


def solve(graph: FlowGraph, injected: np.ndarray, params: ModelParams, x0: np.ndarray | None = None) -> Solution:
    """Power iteration on ``x = s + T x`` from ``x_0 = s`` (or from ``x0``, a warm start).

    Stops after the first iteration whose L1 change is below
    ``params.tol * sum(s)``. Since the change at step ``k`` is exactly the
    value still in flight, ``||T^k s||_1``, the attributed total then differs
    from the injected total by less than ``tol`` (relative). From any other
    start ``x0`` the gap is still at most the last step's L1 change
    (``sum(s) - sum(keep x_{k+1}) = sum((1 - keep)(x_{k+1} - x_k))``), so the
    same rule keeps the balance; a start near the solution (the solution for
    nearby parameters) needs fewer steps.

    Raises
    ------
    ConvergenceError
        After ``params.max_iter`` iterations without reaching the tolerance.
    """
    total = float(injected.sum())
    if total == 0.0 or graph.nnz == 0:
        held = injected.astype(np.float64, copy=True)
        return Solution(held, graph.keep * held, 0, 0.0)
    x, n_iter, residual, ok = propagate(
        graph.indptr, graph.indices, graph.data, injected, params.tol * total, params.max_iter, x0=x0
    )
    rel = residual / total
    if not ok:
        raise ConvergenceError(n_iter, rel, params.tol)
    return Solution(x, graph.keep * x, n_iter, rel)
