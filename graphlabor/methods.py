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
from .graph import FlowGraph, build_flow_graph, pair_block, sender_scaled
from .params import ModelParams
from .prepare import EdgeArrays, Prepared
from .codes import CONTRIBUTION, PAY, REVENUE, Role
from .solve import fold_pairs, solve
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
    state : ndarray of float64, shape (n + k,)
        The solver's last iterate ``x``, from which ``held`` was computed
        (with contexts, the ``k`` pair senders come after the real nodes).
    pairs : PairRun or None
        With contexts: the arrays over real nodes and pair senders, and
        what the pairs did (see :class:`PairRun`). ``kept``, ``held``,
        ``injected`` and ``via`` above are then by real node, with what a
        pair kept or held credited to its platform.
    self_loop_value : float
        Value kept that arrived through self-loops on the last hop (0 when
        self-loops are dropped).
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
    pairs: PairRun | None = None
    self_loop_value: float = 0.0

    @property
    def injected_full(self) -> np.ndarray:
        """Injections at every sender of the flow (real nodes, then pairs)."""
        return self.injected if self.pairs is None else self.pairs.injected

    @property
    def held_full(self) -> np.ndarray:
        return self.held if self.pairs is None else self.pairs.held

    @property
    def kept_full(self) -> np.ndarray:
        return self.kept if self.pairs is None else self.pairs.kept


@dataclass
class PairRun:
    """What the ``(platform, context)`` pairs did in one run.

    Attributes
    ----------
    injected, held, kept : ndarray of float64, shape (n + k,)
        Over real nodes and pair senders (pair ``q`` is node ``n + q``);
        ``injected`` after unmatched revenue was moved to the pool.
    revenue : ndarray of float64, shape (k,)
        Revenue each pair received (before any move).
    unmatched : ndarray of bool, shape (k,)
        Pairs that received revenue but no contribution carries their
        context (with ``unmatched="pool"`` their revenue went to the
        platform's pool; with ``"keep"`` the platform kept it).
    revenue_node : ndarray of int64
        Node (real or pair) at which each revenue edge of the run was
        injected.
    contributors : ndarray of int64, shape (k,)
        Distinct users each pair passes value to.
    platform : ndarray of uint32, shape (k,)
        The platform of each pair.
    """

    injected: np.ndarray
    held: np.ndarray
    kept: np.ndarray
    revenue: np.ndarray
    unmatched: np.ndarray
    revenue_node: np.ndarray
    contributors: np.ndarray
    platform: np.ndarray | None = None

    @property
    def unmatched_revenue(self) -> float:
        return float(self.revenue[self.unmatched].sum())

    @property
    def n_unmatched(self) -> int:
        return int(self.unmatched.sum())


def _via_propagate(prep: Prepared, graph: FlowGraph, held: np.ndarray, injected: np.ndarray, c: EdgeArrays,
                   role: np.ndarray, pairs: np.ndarray | None = None, idle: np.ndarray | None = None) -> np.ndarray:
    """Split each node's kept value by the kind of its last hop.

    ``via[i, k] = keep[i] * sum of w * y[j]`` over the flow edges ``j -> i``
    of kind ``k``, where ``y[j] = passed[j] / W_j * held[j]`` is what sender
    ``j`` passes per unit of flow weight: one product of ``y`` with the flow
    weights split by kind (:attr:`FlowGraph.by_label`, a canonical CSR), so
    the sums do not depend on the input row order or the thread count.
    """
    from .kernels.propagate import csr_matvec

    n, nk = graph.n, len(prep.kind_names)
    width = nk + 1
    passed = 1.0 - graph.keep
    factor = np.divide(passed, graph.out_weight, out=np.zeros(n), where=graph.out_weight > 0)
    y = factor * held
    pe = graph.pairs
    if graph.by_label is not None and graph.by_label[3] == width and (pe is None or pe.label.shape[0] == pe.user.shape[0]):
        kptr, kidx, kdat, _ = graph.by_label
        rows = (int(kptr.shape[0]) - 1) // width  # the real nodes (pairs receive nothing: no rows)
        via = csr_matvec(kptr, kidx, kdat, y).reshape(rows, width)
        if pe is not None:  # what the pairs pass, by the kind of each entry, pair after pair
            from .kernels.pairflow import scatter_pairs

            scatter_pairs(pe.ptr, pe.user, pe.weight, pe.label, graph.pair_y(held[rows:]), 0, width, via.reshape(-1))
    else:  # more (receiver, kind) pairs than uint32 rows can number, or more kinds than 16 bits with pairs
        snd, rcv, w, kind = K.flow_edges(c.src, c.dst, c.value, role, c.kind, pairs, prep.n, idle)
        assert kind is not None  # labels were given
        keys = rcv.astype(np.int64) * width + kind
        rows = prep.n
        via = K.group_sum(keys, w * y[snd], rows * width).reshape(rows, width)
    via[:, nk] = injected[:rows]
    via *= graph.keep[:rows, None]
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
def _by_platform(platform: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Per real node, the sum of the pairs' ``values`` whose platform it is, pairs in order (they are canonical)."""
    idx = np.ascontiguousarray(platform, dtype=np.uint32)
    out: np.ndarray = K.column_sums(np.zeros(1, np.uint64), idx, np.ascontiguousarray(values, dtype=np.float64), n)
    return out


def _fold(full: np.ndarray, n: int, platform: np.ndarray) -> np.ndarray:
    """Values over real nodes and pairs -> over real nodes, each pair's credited to its platform."""
    out = full[:n].copy()
    out += _by_platform(platform, full[n:], n)
    return out


def _pair_injections(k: int, r: EdgeArrays, n: int,
                     node_value: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Injections over real nodes and the ``k`` pairs; the node each revenue edge injects at; each pair's revenue."""
    assert r.pair is not None  # set by the match-contexts stage
    at = np.where(r.pair >= 0, n + r.pair.astype(np.int64), r.dst.astype(np.int64))
    injected = K.group_sum(at, r.value, n + k)
    revenue = injected[n:].copy()
    if node_value is not None:
        injected[:n] += node_value
    return injected, at, revenue


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
    node_value = prep.node_value if use_node_value else None
    if node_value is not None:
        injected = revenue_in + node_value
    paid = K.group_sum(p.dst, p.value, n)
    paid_out = K.group_sum(p.src, p.value, n)
    check_sums(injected, paid, paid_out)

    pairs = prep.pairs if prep.pairs is not None and len(prep.pairs) > 0 else None
    role = prep.role
    pair_of_edge = idle = pe = None
    k = 0
    flow_params = params if method == "propagate" else replace(params, damping=0.0)
    labels = c.kind if breakdown else None
    with log.stage("build graph"):
        if pairs is not None:
            k = len(pairs)
            role = np.concatenate([prep.role, np.full(k, K.PLATFORM, dtype=prep.role.dtype)])
            pair_of_edge = c.pair
            assert pair_of_edge is not None  # set by the match-contexts stage
            injected_full, revenue_node, pair_revenue = _pair_injections(k, r, n, node_value)
            # the pairs' entries, grouped by pair (they do not depend on which pools are idle)
            pe = pair_block(c.src, c.dst, c.value, prep.role, pair_of_edge, k, labels, len(prep.kind_names))
            # a pair no contribution can pass to is unmatched: by default its revenue joins the platform's pool
            unmatched = (pe.out_weight == 0) & (pair_revenue > 0)
            if pairs.unmatched == "pool" and unmatched.any():
                q = np.flatnonzero(unmatched)
                moved = injected_full[n + q]
                injected_full[n + q] = 0.0
                injected_full[:n] += K.group_sum(pairs.platform[q], moved, n)
                pq = np.maximum(revenue_node - n, 0)
                moved_edge = (revenue_node >= n) & unmatched[pq]
                revenue_node = np.where(moved_edge, pairs.platform[pq].astype(np.int64), revenue_node)
            # a platform whose pool receives nothing passes nothing: leave its pool's flow edges out
            idle = ((prep.role == K.PLATFORM) & (injected_full[:n] == 0)).astype(np.uint8)
        graph = build_flow_graph(c.src, c.dst, c.value, role, flow_params, labels=labels,
                                 n_labels=len(prep.kind_names), pairs=pair_of_edge, first_pair=n, idle=idle,
                                 pair_entries=pe)
    pair_run = None
    solve_injected = injected_full if pairs is not None else injected
    with log.stage("solve"):
        # with pairs: the real nodes' injection with the pairs' passes folded in (pairs receive nothing)
        folded = fold_pairs(graph, solve_injected)
        sol = solve(graph, solve_injected, flow_params, x0=x0, folded=folded)
        # One more step from the solver's last state x: held = s + T x.
        # Attributed values and every breakdown are computed from this same
        # pair (x, held), so the parts add up to the whole exactly.
        state = sol.held
        held = np.empty_like(state)
        nr = graph.rows
        if graph.indices.shape[0]:
            K.propagate_step(graph.indptr, graph.indices, graph.data, state[:nr], folded, held[:nr])
        else:
            held[:nr] = folded
        held[nr:] = solve_injected[nr:]  # a pair holds its injection
        kept = graph.keep * held
    via = None
    if breakdown:
        with log.stage("breakdown by kind"):
            via = _via_propagate(prep, graph, state, solve_injected, c, role, pair_of_edge, idle)
    graph = replace(graph, by_label=None)  # the split by kind served the breakdown; results keep the graph, not it
    if pairs is not None:
        contributors = graph.pairs.contributors if graph.pairs is not None else np.zeros(k, np.int64)
        pair_run = PairRun(solve_injected, held, kept, pair_revenue, unmatched, revenue_node,
                           contributors.astype(np.int64), pairs.platform)
        platform = pairs.platform
        kept = _fold(kept, n, platform)
        held = _fold(held, n, platform)
        if via is not None:  # rows of the real nodes; a pair's is its injection kept, credited to its platform
            nk = len(prep.kind_names)
            via[:, nk] += _by_platform(platform, solve_injected[n:] * graph.keep[n:], n)
    self_loop_value = _self_loop_value(prep, graph, state, c) if method == "propagate" else 0.0
    if method == "shapley":
        with log.stage("shapley"):
            kept, via = _shapley(prep, params, kept, via, c)
    counts = (len(c), len(r), len(p))
    return ModelRun(kept, held, injected, paid, paid_out, revenue_in, via, graph, sol.n_iter, sol.residual,
                    rows or None, params, counts, state, pair_run, self_loop_value)


def _self_loop_value(prep: Prepared, graph: FlowGraph, state: np.ndarray, c: EdgeArrays) -> float:
    """Value kept by users that reached them through their own self-loops on the last hop."""
    if not getattr(prep, "self_loops", 0) or getattr(prep, "self_loop_mode", "keep") != "keep":
        return 0.0
    role = prep.role
    loop = (c.src == c.dst) & (c.value > 0)
    loop &= role[c.src] == K.USER
    if not loop.any():
        return 0.0
    u = c.src[loop]
    w = c.value[loop]
    keep = graph.keep[u]
    passed = 1.0 - keep
    return float(np.sum(keep * passed * w / graph.out_weight[u] * state[u]))


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
