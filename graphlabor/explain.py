"""Why a node got what it got: an exact decomposition of its attributed value.

A node's attributed value is linear in the injections: ``kept_v = c . x``
with ``x = s + T x``, where ``c`` is ``keep_v`` at ``v`` (``propagate``,
``direct``) or the Shapley weights of the one-hop values (``shapley``). One
adjoint solve, ``y = c + T^T y`` (the solver of the attribution on the transposed matrix,
about the cost of one attribution), gives ``kept_v = y . s``: value injected
at node ``j`` reaches ``v`` in proportion ``y_j``. Splitting ``s`` by payer
(the revenue edges' sources) and by platform (where it entered) then
decomposes ``kept_v`` exactly. The split by contribution kind is the node's
``via_*`` breakdown; the last hop lists the nodes value came from on its
final step.

The adjoint is solved to a relative tolerance of ``1e-13``; the parts are
then scaled by ``kept_v / (y . s)`` (a factor within ``1e-12`` of 1, reported
as ``gap``) so that each decomposition sums to the node's attributed value.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import kernels as K
from .errors import ConvergenceError, InputError
from .codes import CONTRIBUTION, REVENUE, ROLE_NAMES, Role
from .solve import propagate

if TYPE_CHECKING:
    from .methods import ModelRun
    from .prepare import Prepared

NODE_VALUE = "(node value)"


@dataclass(frozen=True)
class Explanation:
    """Decomposition of one node's attributed value.

    Each of ``by_payer``, ``by_platform``, ``by_kind`` is a list of
    ``(label, value)`` pairs, largest first, that sums to ``attributed``;
    ``by_context`` (with a context column) splits it by the
    ``(platform, context)`` pair where the value entered, labelled
    ``"platform / context"``, with ``"platform (no context)"`` for the
    platform's pool and ``(node value)`` for nodes-file values;
    ``last_hop`` holds the top sources of the final step (all of them sum to
    ``attributed``; only the top ``k`` are listed).
    """

    node: object
    role: str
    method: str
    attributed: float
    by_payer: list[tuple[Any, float]] = field(default_factory=list)
    by_platform: list[tuple[Any, float]] = field(default_factory=list)
    by_kind: list[tuple[Any, float]] = field(default_factory=list)
    by_context: list[tuple[Any, float]] = field(default_factory=list)
    last_hop: list[tuple[Any, float]] = field(default_factory=list)
    last_hop_total: int = 0
    gap: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self, limit: int = 10) -> str:
        """Readable text; each list shows its ``limit`` largest parts and the rest in one line."""
        lines = [f"node {self.node!r} ({self.role}): attributed {self.attributed:,.6g} [{self.method}]"]
        for title, parts in (
            ("by payer", self.by_payer),
            ("by platform (where the value entered)", self.by_platform),
            ("by contribution kind of the last hop", self.by_kind),
            *((("by context (where the value entered)", self.by_context),) if self.by_context else ()),
            (f"last hop: top {len(self.last_hop)} of {self.last_hop_total} sources", self.last_hop),
        ):
            lines.append(f"\n{title}")
            if not parts:
                lines.append("  (none)")
            for label, value in parts[:limit]:
                pct = 100 * value / self.attributed if self.attributed else 0.0
                lines.append(f"  {label!s:<24} {value:>16,.6g}  {pct:6.2f}%")
            if len(parts) > limit:
                rest = sum(v for _, v in parts[limit:])
                pct = 100 * rest / self.attributed if self.attributed else 0.0
                lines.append(f"  {f'({len(parts) - limit} more)':<24} {rest:>16,.6g}  {pct:6.2f}%")
        return "\n".join(lines)


def _ranked(labels: Sequence[Any], values: Sequence[float] | np.ndarray, k: int | None = None) -> list[tuple[Any, float]]:
    order = sorted(range(len(values)), key=lambda i: (-values[i], str(labels[i])))
    pairs = [(labels[i], float(values[i])) for i in order if values[i] != 0]
    return pairs if k is None else pairs[:k]


class GraphAccess(Protocol):
    """What an explanation reads of the run's flow graph and edges beyond the per-node vectors.

    :class:`LocalGraph` reads them from the arrays in memory; the Dask engine's
    :class:`graphlabor.distributed.adjoint.DaskGraph` from the row blocks left
    on the cluster (the adjoint solve distributed as the forward one).
    """

    def row(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        """Row ``code`` of ``T``: its senders (int64; a pair is ``n + q``) and fractions, in CSR entry order."""

    def shapley_weights(self, code: int) -> dict[int, float]:
        """Weights ``a_j`` with ``shapley_v = sum_j a_j h_j`` (``h`` the one-hop values)."""

    def adjoint(self, c: np.ndarray, tol: float, max_iter: int, solver: str) -> tuple[np.ndarray, int, float, bool]:
        """Solve ``y = c + T^T y``: ``(y, n_iter, residual, converged)`` as :func:`graphlabor.solve.propagate`."""

    def revenue_sums(self, y: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        """Over the run's revenue edges ``e`` (injected at ``at_e``): ``y[at] * value * scale`` summed by
        payer (``n`` nodes) and ``y[at] * value`` summed by ``at`` (``n + k`` nodes)."""


class LocalGraph:
    """:class:`GraphAccess` on one machine: the run's flow graph and the prepared edges."""

    def __init__(self, prep: Prepared, run: ModelRun) -> None:
        self.prep, self.run = prep, run

    def row(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        g = self.run.graph
        row = slice(int(g.indptr[code]), int(g.indptr[code + 1]))
        senders, fractions = g.indices[row].astype(np.int64), g.data[row]
        pe = g.pairs
        if pe is not None and g.pair_factor is not None:  # the pairs' entries into the node, pairs ascending
            e = np.flatnonzero(pe.user == code)
            q = np.searchsorted(pe.ptr.astype(np.int64), e, side="right") - 1
            senders = np.concatenate([senders, g.rows + q])
            fractions = np.concatenate([fractions, pe.weight[e] * g.pair_factor[q]])
        return senders, fractions

    def shapley_weights(self, code: int) -> dict[int, float]:
        return _shapley_weights(self.prep, self.run, code)

    def adjoint(self, c: np.ndarray, tol: float, max_iter: int, solver: str) -> tuple[np.ndarray, int, float, bool]:
        g = self.run.graph
        t_indptr, t_indices, t_data = K.transpose_csr(g.indptr, g.indices, g.data, g.rows)
        pe = g.pairs
        if pe is not None and g.pair_factor is not None:  # the pairs' rows of T^T: their entries, pair by pair
            t_indptr, t_indices, t_data = pair_rows(t_indptr, t_indices, t_data, pe, g.pair_factor)
        # the same solver and kernels as the forward solve
        return propagate(t_indptr, t_indices, t_data, c, tol, max_iter, solver=solver)

    def revenue_sums(self, y: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        prep, run = self.prep, self.run
        r = prep.revenue.take((run.rows or {}).get(REVENUE))
        at = r.dst if run.pairs is None else run.pairs.revenue_node  # where each revenue edge was injected
        return K.group_sum(r.src, y[at] * r.value * scale, prep.n), K.group_sum(at, y[at] * r.value, run.graph.n)


def pair_rows(t_indptr: np.ndarray, t_indices: np.ndarray, t_data: np.ndarray, pe: Any,
              factor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``T^T`` of the real nodes with the pairs' rows after them: pair ``q``'s entries, ``weight * factor[q]``."""
    k = int(pe.ptr.shape[0]) - 1
    q = np.repeat(np.arange(k, dtype=np.int64), np.diff(pe.ptr.astype(np.int64)))
    indptr = np.concatenate([t_indptr, t_indptr[-1] + pe.ptr[1:]]).astype(np.uint64)
    return indptr, np.concatenate([t_indices, pe.user]), np.concatenate([t_data, pe.weight * factor[q]])


def node_code(prep: Prepared, node: Any) -> int:
    """The code of ``node``; text that reads as an integer names an integer id (as the command line's NODE).

    >>> import pyarrow as pa
    >>> from types import SimpleNamespace
    >>> from graphlabor.node_index import NodeIndex
    >>> node_code(SimpleNamespace(index=NodeIndex(pa.array([3, 12]))), "12")
    1
    """
    if isinstance(node, np.integer):
        return int(node)
    if isinstance(node, str) and prep.index.id_type == "int":
        try:
            node = int(node)
        except ValueError:
            raise InputError(f"node {node!r} is not in the graph (its ids are integers)") from None
    code = int(prep.index.lookup([node])[0])
    if code < 0:
        raise InputError(f"node {node!r} is not in the graph")
    return code


def explain_node(prep: Prepared, run: ModelRun, method: str, node: Any, top: int = 10,
                 graph: GraphAccess | None = None) -> Explanation:
    """Explain ``node``'s attributed value in ``run`` (see module docs).

    ``graph`` reads the flow graph and the edges (default :class:`LocalGraph`:
    the arrays of ``prep`` and ``run``).
    """

    access = graph if graph is not None else LocalGraph(prep, run)
    code = node_code(prep, node)
    n = prep.n
    g = run.graph
    n_all = g.n  # real nodes, then (platform, context) pairs
    injected = run.injected_full
    kept_v = float(run.kept[code])
    role = ROLE_NAMES[prep.role[code]]
    ids = prep.index.ids

    # the weights c with kept_v = c . x, and the last-hop sources
    c = np.zeros(n_all)
    last_src, last_val = [], []
    senders, fractions = access.row(code)
    state = run.state
    assert state is not None  # every method keeps the solver's last iterate
    if method == "shapley" and prep.role[code] == Role.USER:
        shap = access.shapley_weights(code)
        for j, a in shap.items():
            c[j] += a * g.keep[j]
        # last hop: platforms through v's own one-hop value, engaged users' halves
        alpha_v = shap.get(code, 0.0)
        for j, f in zip(senders.tolist(), fractions.tolist()):
            last_src.append(j)
            last_val.append(alpha_v * f * state[j])
        if injected[code] > 0:
            last_src.append(code)
            last_val.append(alpha_v * injected[code])
        for j, a in shap.items():
            if j != code:
                last_src.append(j)
                last_val.append(a * run.held[j] * g.keep[j])
    else:
        c[code] = g.keep[code]
        for j, f in zip(senders.tolist(), fractions.tolist()):
            last_src.append(j)
            last_val.append(g.keep[code] * f * state[j])
        if injected[code] > 0:
            last_src.append(code)
            last_val.append(g.keep[code] * injected[code])
        if n_all > n and prep.pairs is not None and prep.role[code] == K.PLATFORM:
            # what the platform's (platform, context) pairs kept is the platform's
            for q in np.flatnonzero(prep.pairs.platform == code).tolist():
                c[n + q] = g.keep[n + q]
                if injected[n + q] > 0:
                    last_src.append(n + q)
                    last_val.append(g.keep[n + q] * injected[n + q])

    # adjoint solve y = c + T^T y
    if c.any() and g.nnz:
        tol = 1e-13 * float(c.sum())
        y, n_iter, residual, ok = access.adjoint(c, tol, max(run.params.max_iter, 10000), run.params.solver)
        if not ok:
            raise ConvergenceError(n_iter, residual / float(c.sum()), 1e-13)
    else:
        y = c
    reach = y * injected
    total = float(reach.sum())
    scale = kept_v / total if total > 0 else 0.0
    gap = abs(1.0 - scale) if total > 0 else 0.0

    # by payer: revenue edges' sources; node-file values under one label
    payer_part, at_sum = access.revenue_sums(y, scale)
    payers = np.flatnonzero(payer_part)
    labels = [ids[int(j)].as_py() for j in payers]
    values = payer_part[payers].tolist()
    other = float((reach - at_sum).sum()) * scale
    if abs(other) > 1e-15 * max(kept_v, 1e-300):
        labels.append(NODE_VALUE)
        values.append(other)
    by_payer = _ranked(labels, values)

    entry = np.arange(n_all)
    if n_all > n and prep.pairs is not None:
        entry[n:] = prep.pairs.platform  # value entering at a pair entered at its platform
    reach_by_node = K.group_sum(entry, reach, n)
    entered = np.flatnonzero(reach_by_node)
    by_platform = _ranked([ids[int(j)].as_py() for j in entered], (reach_by_node[entered] * scale).tolist())
    by_context = []
    if prep.pairs is not None:
        from .contexts import context_labels

        label: dict[int, str] = {}
        for j in np.flatnonzero(reach[:n]).tolist():
            label[j] = f"{ids[j].as_py()} (no context)"
        qs = np.flatnonzero(reach[n:])
        for q, ctx in zip(qs.tolist(), context_labels(prep.pairs, qs)):
            label[n + q] = f"{ids[int(prep.pairs.platform[q])].as_py()} / {ctx}"
        sums: dict[str, float] = {}
        for j, lab in label.items():
            sums[lab] = sums.get(lab, 0.0) + float(reach[j]) * scale
        by_context = _ranked(list(sums), list(sums.values()))

    by_kind = []
    if run.via is not None:
        nk = len(prep.kind_names)
        labels = [prep.kind_names[k] for k in range(nk) if prep.kind_class[k] == 0] + ["(injected here)"]
        vals = [run.via[code, k] for k in range(nk) if prep.kind_class[k] == 0] + [run.via[code, nk]]
        by_kind = _ranked(labels, vals)

    agg: dict[int, float] = {}
    for j, v in zip(last_src, last_val):
        agg[j] = agg.get(j, 0.0) + v
    keys = list(agg)
    last_hop = _ranked([_sender_label(prep, ids, j) for j in keys], [agg[j] for j in keys], top)
    return Explanation(
        node=ids[code].as_py(), role=role, method=method, attributed=kept_v,
        by_payer=by_payer, by_platform=by_platform, by_kind=by_kind, by_context=by_context,
        last_hop=last_hop, last_hop_total=sum(1 for j in keys if agg[j] != 0), gap=gap,
    )


def _sender_label(prep: Prepared, ids: Any, j: int) -> Any:
    """A node's id, or ``"platform / context"`` for a pair sender."""
    n = prep.n
    if j < n or prep.pairs is None:
        return ids[j].as_py()
    from .contexts import context_labels

    q = j - n
    return f"{ids[int(prep.pairs.platform[q])].as_py()} / {context_labels(prep.pairs, np.array([q]))[0]}"


def _shapley_weights(prep: Prepared, run: ModelRun, v: int) -> dict[int, float]:
    """Weights ``a_j`` with ``shapley_v = sum_j a_j h_j`` (``h`` the one-hop values)."""
    from dataclasses import replace

    from .graph import sender_scaled
    from .methods import engagement_edges

    c = prep.contribution.take((run.rows or {}).get(CONTRIBUTION))
    # the weights the attribution used (extreme ones divided by their sender's largest: no overflow in W)
    c = replace(c, value=sender_scaled(c.src, c.dst, c.value, prep.role))
    d = run.params.damping
    u, t, ww, _ = engagement_edges(prep, c)
    W = K.group_sum(u, ww, prep.n)
    weights = {v: (1.0 - 0.5 * d) if W[v] > 0 else 1.0}
    into = np.flatnonzero(t == v)
    for e in into.tolist():
        j = int(u[e])
        weights[j] = weights.get(j, 0.0) + 0.5 * d * ww[e] / W[j]
    return weights


class _CallableModule(types.ModuleType):
    """This module, callable: ``graphlabor.explain(edges, node, ...)`` runs :func:`graphlabor.pipeline.explain`.

    ``graphlabor.explain`` is both this module (``Explanation``,
    :func:`explain_node`) and the function that runs an attribution and
    explains a node; whichever of the two the name is bound to, calling it
    runs the function.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Explanation:
        from .pipeline import explain

        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
