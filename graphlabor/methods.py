"""Attribution methods: ``propagate`` (default), ``direct`` and ``shapley``.

Each method takes the prepared edges (optionally a subset of rows, for one
period) and returns a :class:`ModelRun`: what each node keeps, split by the
contribution kind through which it arrived.

- ``propagate``: the absorbing value flow ``x = s + T x``, kept ``keep * x``.
- ``direct``: one hop. Platforms split what they pass among the users who
  acted on them; users keep all they receive (``propagate`` with damping 0).
- ``shapley``: the Shapley value of the induced-subgraph game on users
  (Deng & Papadimitriou 1994). Each user's one-hop value ``h_u`` (from
  ``direct``) is split into a self part, ``(1 - damping) h_u``, and an edge
  part per engagement edge ``u -> v``, ``damping h_u w_uv / W_u`` (all of
  ``h_u`` is self part when ``u`` engaged with no user). The game gives a
  coalition ``S`` of users its members' self parts plus the values of the
  engagement edges with both ends in ``S``; its Shapley value gives each user
  its self part plus half of the value of every engagement edge it is an end
  of. Closed form, linear time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from . import kernels as K
from .errors import InputError, ParameterError
from .graph import FlowGraph, build_flow_graph, sender_scaled
from .params import ModelParams
from .prepare import EdgeArrays, Prepared
from .codes import CONTRIBUTION, PAY, REVENUE, Role
from .solve import solve
from .timing import StageLog

METHODS = ("propagate", "direct", "shapley")


@dataclass
class ModelRun:
    """One attribution on one set of edges.

    Attributes
    ----------
    kept : ndarray of float64, shape (n,)
        Attributed value.
    held : ndarray of float64, shape (n,)
        Value that passed through each node, ``s + T x`` (for ``shapley``,
        of the one-hop run).
    injected, paid, paid_out, revenue_in : ndarray of float64, shape (n,)
        Value injected at each node; pay received; pay sent; revenue received.
    via : ndarray of float64, shape (n, n_kinds + 1) or None
        ``via[i, k]``: part of ``kept[i]`` that arrived through contribution
        kind ``k`` on its last hop; the last column is value kept where it was
        injected. Rows add up to ``kept``.
    graph : FlowGraph
    n_iter : int
    residual : float
    rows : dict or None
        Edge rows used of each class (None: all).
    params : ModelParams
    counts : tuple of int
        Contribution, revenue and pay edges used.
    state : ndarray of float64, shape (n,)
        The solver's last iterate ``x``, from which ``held`` was computed.
    """

    kept: np.ndarray
    held: np.ndarray
    injected: np.ndarray
    paid: np.ndarray
    paid_out: np.ndarray
    revenue_in: np.ndarray
    via: np.ndarray | None
    graph: FlowGraph
    n_iter: int
    residual: float
    rows: dict[int, np.ndarray] | None
    params: ModelParams
    counts: tuple[int, int, int] = (0, 0, 0)
    state: np.ndarray | None = None


def _via_propagate(prep: Prepared, graph: FlowGraph, held: np.ndarray, injected: np.ndarray, c: EdgeArrays) -> np.ndarray:
    """Split each node's kept value by the kind of its last hop.

    ``via[i, k] = keep[i] * sum of w * y[j]`` over the flow edges ``j -> i``
    of kind ``k``, where ``y[j] = passed[j] / W_j * held[j]`` is what sender
    ``j`` passes per unit of flow weight: one product of ``y`` with the flow
    weights split by kind (:attr:`FlowGraph.by_label`, a canonical CSR), so
    the sums do not depend on the input row order or the thread count.
    """
    from .kernels.propagate import csr_matvec

    n, nk = prep.n, len(prep.kind_names)
    width = nk + 1
    passed = 1.0 - graph.keep
    factor = np.divide(passed, graph.out_weight, out=np.zeros(n), where=graph.out_weight > 0)
    y = factor * held
    if graph.by_label is not None and graph.by_label[3] == width:
        kptr, kidx, kdat, _ = graph.by_label
        via = csr_matvec(kptr, kidx, kdat, y).reshape(n, width)
    else:  # more (receiver, kind) pairs than uint32 rows can number
        snd, rcv, w, kind = K.flow_edges(c.src, c.dst, c.value, prep.role, c.kind)
        assert kind is not None  # labels were given
        keys = rcv.astype(np.int64) * width + kind
        via = K.group_sum(keys, w * y[snd], n * width).reshape(n, width)
    via[:, nk] = injected
    via *= graph.keep[:, None]
    return via


def check_sums(injected: np.ndarray, paid: np.ndarray, paid_out: np.ndarray) -> None:
    """Refuse money that adds up past the largest float64 (each amount was finite; their sum is not).

    >>> check_sums(np.array([1e308, 1e308]), np.zeros(2), np.zeros(2))
    Traceback (most recent call last):
    ...
    graphlabor.errors.InputError: amount: the revenue amounts and node values add up to more than the largest float64 (about 1.8e308); rescale them
    """
    with np.errstate(over="ignore"):
        if not np.isfinite(injected.sum()):
            raise InputError("amount: the revenue amounts and node values add up to more than the largest float64 "
                             "(about 1.8e308); rescale them")
        if not (np.isfinite(paid.sum()) and np.isfinite(paid_out.sum())):
            raise InputError("amount: the pay amounts add up to more than the largest float64 (about 1.8e308); rescale them")


def run_model(prep: Prepared, params: ModelParams, method: str = "propagate", rows: dict[int, np.ndarray] | None = None,
              breakdown: bool = True, use_node_value: bool = True, log: StageLog | None = None,
              x0: np.ndarray | None = None) -> ModelRun:
    """Run one attribution method on the prepared edges.

    Parameters
    ----------
    rows : dict, optional
        Row indices to use of each edge class (``CONTRIBUTION``, ``REVENUE``,
        ``PAY``), for one period; default all edges.
    x0 : ndarray of float64, optional
        Warm start of the solve (a previous run's ``state``).
    """
    from .timing import StageLog

    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    log = log if log is not None else StageLog(verbose=False)
    n = prep.n
    rows = rows or {}
    c = prep.contribution.take(rows.get(CONTRIBUTION))
    c = replace(c, value=sender_scaled(c.src, c.dst, c.value, prep.role))  # extreme weights: per sender, no overflow
    r = prep.revenue.take(rows.get(REVENUE))
    p = prep.pay.take(rows.get(PAY))
    revenue_in = K.group_sum(r.dst, r.value, n)
    injected = revenue_in
    if use_node_value and prep.node_value is not None:
        injected = revenue_in + prep.node_value
    paid = K.group_sum(p.dst, p.value, n)
    paid_out = K.group_sum(p.src, p.value, n)
    check_sums(injected, paid, paid_out)

    flow_params = params if method == "propagate" else replace(params, damping=0.0)
    with log.stage("build graph"):
        graph = build_flow_graph(c.src, c.dst, c.value, prep.role, flow_params,
                                 labels=c.kind if breakdown else None, n_labels=len(prep.kind_names))
    with log.stage("solve"):
        sol = solve(graph, injected, flow_params, x0=x0)
        # One more step from the solver's last state x: held = s + T x.
        # Attributed values and every breakdown are computed from this same
        # pair (x, held), so the parts add up to the whole exactly.
        state = sol.held
        held = np.empty_like(state)
        if graph.nnz:
            K.propagate_step(graph.indptr, graph.indices, graph.data, state, injected, held)
        else:
            held[:] = injected
        kept = graph.keep * held
    via = None
    if breakdown:
        with log.stage("breakdown by kind"):
            via = _via_propagate(prep, graph, state, injected, c)
    graph = replace(graph, by_label=None)  # the split by kind served the breakdown; results keep the graph, not it
    if method == "shapley":
        with log.stage("shapley"):
            kept, via = _shapley(prep, params, kept, via, c)
    counts = (len(c), len(r), len(p))
    return ModelRun(kept, held, injected, paid, paid_out, revenue_in, via, graph, sol.n_iter, sol.residual,
                    rows or None, params, counts, state)


def engagement_edges(prep: Prepared, c: EdgeArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """User-to-user contribution edges with positive weight: ``(u, v, w, kind)``."""
    role = prep.role
    uu = (role[c.src] == Role.USER) & (role[c.dst] == Role.USER) & (c.value > 0)
    return c.src[uu], c.dst[uu], c.value[uu], c.kind[uu]


def _shapley(
    prep: Prepared, params: ModelParams, one_hop: np.ndarray, via_direct: np.ndarray | None, c: EdgeArrays
) -> tuple[np.ndarray, np.ndarray | None]:
    """Closed-form Shapley value of the induced-subgraph game (see module docs)."""
    n, nk = prep.n, len(prep.kind_names)
    role = prep.role
    d = params.damping
    u, v, w, kind = engagement_edges(prep, c)
    W = K.group_sum(u, w, n)
    h = np.where(role == Role.USER, one_hop, 0.0)
    engaged = W > 0
    edge_value = d * h[u] * w / W[u]
    half = 0.5 * edge_value
    received = K.group_sum(v, half, n)
    self_factor = np.where(engaged, 1.0 - d, 1.0)
    users = role == Role.USER
    kept = np.where(users, h * np.where(engaged, 1.0 - 0.5 * d, 1.0) + received, one_hop)
    via = None
    if via_direct is not None:
        # self part by the kinds through which the one-hop value arrived; each
        # engagement edge's halves under the engagement's own kind
        via = via_direct.copy()
        via[users] *= self_factor[users, None]
        ends = np.concatenate([u, v]).astype(np.int64)
        keys = ends * (nk + 1) + np.concatenate([kind, kind])
        via += K.group_sum(keys, np.concatenate([half, half]), n * (nk + 1)).reshape(n, nk + 1)
    return kept, via
