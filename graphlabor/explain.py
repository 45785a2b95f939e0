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

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

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


def explain_node(prep: Prepared, run: ModelRun, method: str, node: Any, top: int = 10) -> Explanation:
    """Explain ``node``'s attributed value in ``run`` (see module docs)."""

    code = int(prep.index.lookup([node])[0]) if not isinstance(node, np.integer) else int(node)
    if code < 0:
        raise InputError(f"node {node!r} is not in the graph")
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
    row = slice(int(g.indptr[code]), int(g.indptr[code + 1]))
    senders = g.indices[row].astype(np.int64)
    fractions = g.data[row]
    state = run.state
    assert state is not None  # every method keeps the solver's last iterate
    if method == "shapley" and prep.role[code] == Role.USER:
        shap = _shapley_weights(prep, run, code)
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
        t_indptr, t_indices, t_data = K.transpose_csr(g.indptr, g.indices, g.data, n_all)
        tol = 1e-13 * float(c.sum())
        # the same solver and kernels as the forward solve
        y, n_iter, residual, ok = propagate(t_indptr, t_indices, t_data, c, tol, max(run.params.max_iter, 10000),
                                            solver=run.params.solver)
        if not ok:
            raise ConvergenceError(n_iter, residual / float(c.sum()), 1e-13)
    else:
        y = c
    reach = y * injected
    total = float(reach.sum())
    scale = kept_v / total if total > 0 else 0.0
    gap = abs(1.0 - scale) if total > 0 else 0.0

    # by payer: revenue edges' sources; node-file values under one label
    r = prep.revenue.take((run.rows or {}).get(REVENUE))
    at = r.dst if run.pairs is None else run.pairs.revenue_node  # where each revenue edge was injected
    payer_part = K.group_sum(r.src, y[at] * r.value * scale, n)
    payers = np.flatnonzero(payer_part)
    labels = [ids[int(j)].as_py() for j in payers]
    values = payer_part[payers].tolist()
    other = float((reach - K.group_sum(at, y[at] * r.value, n_all)).sum()) * scale
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
    from .methods import engagement_edges

    c = prep.contribution.take((run.rows or {}).get(CONTRIBUTION))
    d = run.params.damping
    u, t, ww, _ = engagement_edges(prep, c)
    W = K.group_sum(u, ww, prep.n)
    weights = {v: (1.0 - 0.5 * d) if W[v] > 0 else 1.0}
    into = np.flatnonzero(t == v)
    for e in into.tolist():
        j = int(u[e])
        weights[j] = weights.get(j, 0.0) + 0.5 * d * ww[e] / W[j]
    return weights
