"""Solve the value flow: held value ``x = s + T x``, kept value ``keep * x``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels as K
from .errors import ConvergenceError
from .graph import FlowGraph
from .params import ModelParams


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


def solve(graph: FlowGraph, injected: np.ndarray, params: ModelParams) -> Solution:
    """Power iteration on ``x = s + T x`` from ``x_0 = s``.

    Stops after the first iteration whose L1 change is below
    ``params.tol * sum(s)``. Since the change at step ``k`` is exactly the
    value still in flight, ``||T^k s||_1``, the attributed total then differs
    from the injected total by less than ``tol`` (relative).

    Raises
    ------
    ConvergenceError
        After ``params.max_iter`` iterations without reaching the tolerance.
    """
    total = float(injected.sum())
    if total == 0.0 or graph.nnz == 0:
        held = injected.astype(np.float64, copy=True)
        return Solution(held, graph.keep * held, 0, 0.0)
    x, n_iter, residual, ok = K.power_iteration(
        graph.indptr, graph.indices, graph.data, injected, params.tol * total, params.max_iter
    )
    rel = residual / total
    if not ok:
        raise ConvergenceError(n_iter, rel, params.tol)
    return Solution(x, graph.keep * x, n_iter, rel)
