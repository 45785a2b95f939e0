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
    kept_v = float(run.kept[code])
    role = ROLE_NAMES[prep.role[code]]
    ids = prep.index.ids

    # the weights c with kept_v = c . x, and the last-hop sources
    c = np.zeros(n)
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
        if run.injected[code] > 0:
            last_src.append(code)
            last_val.append(alpha_v * run.injected[code])
        for j, a in shap.items():
            if j != code:
                last_src.append(j)
                last_val.append(a * run.held[j] * g.keep[j])
    else:
        c[code] = g.keep[code]
        for j, f in zip(senders.tolist(), fractions.tolist()):
            last_src.append(j)
            last_val.append(g.keep[code] * f * state[j])
        if run.injected[code] > 0:
            last_src.append(code)
            last_val.append(g.keep[code] * run.injected[code])

    # adjoint solve y = c + T^T y
    if c.any() and g.nnz:
        t_indptr, t_indices, t_data = K.transpose_csr(g.indptr, g.indices, g.data, n)
        tol = 1e-13 * float(c.sum())
        # the same solver and kernels as the forward solve
        y, n_iter, residual, ok = propagate(t_indptr, t_indices, t_data, c, tol, max(run.params.max_iter, 10000),
                                            solver=run.params.solver)
        if not ok:
            raise ConvergenceError(n_iter, residual / float(c.sum()), 1e-13)
    else:
        y = c
    reach = y * run.injected
    total = float(reach.sum())
    scale = kept_v / total if total > 0 else 0.0
    gap = abs(1.0 - scale) if total > 0 else 0.0

    # by payer: revenue edges' sources; node-file values under one label
    r = prep.revenue.take((run.rows or {}).get(REVENUE))
    payer_part = K.group_sum(r.src, y[r.dst] * r.value * scale, n)
    payers = np.flatnonzero(payer_part)
    labels = [ids[int(j)].as_py() for j in payers]
    values = payer_part[payers].tolist()
    other = float((reach - K.group_sum(r.dst, y[r.dst] * r.value, n)).sum()) * scale
    if abs(other) > 1e-15 * max(kept_v, 1e-300):
        labels.append(NODE_VALUE)
        values.append(other)
    by_payer = _ranked(labels, values)

    entered = np.flatnonzero(reach)
    by_platform = _ranked([ids[int(j)].as_py() for j in entered], (reach[entered] * scale).tolist())

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
    last_hop = _ranked([ids[j].as_py() for j in keys], [agg[j] for j in keys], top)
    return Explanation(
        node=ids[code].as_py(), role=role, method=method, attributed=kept_v,
        by_payer=by_payer, by_platform=by_platform, by_kind=by_kind,
        last_hop=last_hop, last_hop_total=sum(1 for j in keys if agg[j] != 0), gap=gap,
    )


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
