"""The attribution pipeline: the stages chained in order.

read edges -> read nodes -> encode ids -> classify edges and infer roles ->
injections and pay -> build the flow graph -> solve -> result tables.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import kernels as K
from .edges import DEFAULT_PAY_KINDS, DEFAULT_REVENUE_KINDS, KindClasses, load_edges
from .errors import InputError
from .graph import build_flow_graph
from .node_index import encode
from .nodes import load_nodes
from .params import ModelParams
from .results import AttributionResult, Summary, check_balance, node_table, role_totals
from .roles import CONTRIBUTION, PAY, REVENUE, apply_declared, check_declared, infer_roles, platform_evidence
from .solve import solve
from .timing import StageLog


def _kind_codes(kind: pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    enc = pc.dictionary_encode(kind).combine_chunks() if len(kind) else None
    if enc is None:
        return [], np.empty(0, np.int32)
    names = enc.dictionary.to_pylist()
    return names, enc.indices.to_numpy(zero_copy_only=False).astype(np.int32)


def attribute(
    edges,
    nodes=None,
    *,
    damping: float = 0.85,
    platform_share: float = 0.0,
    kind_weights: dict | None = None,
    revenue_kinds=DEFAULT_REVENUE_KINDS,
    pay_kinds=DEFAULT_PAY_KINDS,
    tol: float = 1e-10,
    max_iter: int = 1000,
    src_col: str | None = None,
    dst_col: str | None = None,
    log: StageLog | None = None,
) -> AttributionResult:
    """Attribute injected value to the nodes whose contributions produced it.

    Parameters
    ----------
    edges : path, list of paths, pyarrow.Table or pandas.DataFrame
        Edges ``src -> dst`` ("src acted on dst") with optional ``kind``,
        ``weight``, ``amount`` and ``timestamp`` columns.
    nodes : path, pyarrow.Table or pandas.DataFrame, optional
        Node attributes: ``id``, optional ``role`` and ``value``, and any
        other columns (carried to the output).
    damping : float, default 0.85
        Share of held value a user passes to the users it acted on.
    platform_share : float, default 0.0
        Share of held value a platform keeps.
    kind_weights : dict of str to float, optional
        Weight multiplier per contribution kind (default 1 for every kind).
    revenue_kinds, pay_kinds : iterable of str
        Edge kinds that carry revenue (``amount`` injected at ``dst``) and
        pay (``amount`` counted as paid to ``dst``).
    tol : float, default 1e-10
        Stop when the L1 change of held value is below ``tol`` times the
        injected total.
    max_iter : int, default 1000
    src_col, dst_col : str, optional
        Names of the id columns when they are not ``src``/``dst``.
    log : StageLog, optional
        Receives the time and memory of each stage.

    Returns
    -------
    AttributionResult

    Raises
    ------
    InputError, ParameterError, ConvergenceError

    Examples
    --------
    An advertiser pays a platform 100; two users acted on it, one twice as
    much; user ``a`` also engaged with ``b``'s content.

    >>> import pandas as pd
    >>> edges = pd.DataFrame({
    ...     "src":    ["ads", "a",    "b",    "a"],
    ...     "dst":    ["P",   "P",    "P",    "b"],
    ...     "kind":   ["spend", "click", "click", "view"],
    ...     "weight": [1.0,   2.0,    1.0,    1.0],
    ...     "amount": [100.0, None,   None,   None],
    ... })
    >>> import graphlabor
    >>> r = graphlabor.attribute(edges)
    >>> r.to_pandas()[["node", "role", "attributed"]].round(4)
      node        role  attributed
    0    P    platform         0.0
    1    a        user        10.0
    2  ads  advertiser         0.0
    3    b        user        90.0
    """
    params = ModelParams(damping, platform_share, tol, max_iter, kind_weights or {})
    kinds = KindClasses(frozenset(revenue_kinds), frozenset(pay_kinds))
    log = log if log is not None else StageLog(verbose=False)

    with log.stage("read edges"):
        et = load_edges(edges, src_col=src_col, dst_col=dst_col, kinds=kinds)
    nt = None
    if nodes is not None:
        with log.stage("read nodes"):
            nt = load_nodes(nodes, et.id_type if et.num_rows else None)

    with log.stage("encode ids"):
        cols = [et.table["src"], et.table["dst"]]
        if nt is not None:
            if et.num_rows == 0:
                cols = [c.cast(nt.ids.type) for c in cols]
            cols.append(nt.ids)
        index, codes = encode(cols)
        src, dst = codes[0], codes[1]
        n = len(index)

    with log.stage("classify edges"):
        kind_names, kind_code = _kind_codes(et.table["kind"])
        class_of_kind = np.array(
            [REVENUE if k in kinds.revenue else PAY if k in kinds.pay else CONTRIBUTION for k in kind_names],
            dtype=np.uint8,
        )
        weight_of_kind = np.array([params.kind_weight(k) for k in kind_names], dtype=np.float64)
        edge_class = class_of_kind[kind_code] if kind_names else np.empty(0, np.uint8)
        role = infer_roles(n, src, dst, edge_class)
        if nt is not None and nt.role is not None:
            role = apply_declared(role, codes[2], nt.role.to_pylist(), nt.source)
            check_declared(role, platform_evidence(n, src, dst, edge_class), index.ids, et, src, dst, edge_class, nt.source)

    with log.stage("injections and pay"):
        amount = et.table["amount"].to_numpy()
        revenue = edge_class == REVENUE
        pay = edge_class == PAY
        injected = K.group_sum(dst[revenue], amount[revenue], n)
        if nt is not None and nt.value is not None:
            injected = injected + K.group_sum(codes[2], nt.value.to_numpy(), n)
        paid = K.group_sum(dst[pay], amount[pay], n)
        contribution = edge_class == CONTRIBUTION
        c_src, c_dst = src[contribution], dst[contribution]
        c_weight = et.table["weight"].to_numpy()[contribution] * weight_of_kind[kind_code[contribution]]
        del amount

    with log.stage("build graph"):
        graph = build_flow_graph(c_src, c_dst, c_weight, role, params)
        del c_src, c_dst, c_weight

    with log.stage("solve"):
        sol = solve(graph, injected, params)

    with log.stage("results"):
        total = float(injected.sum())
        by_role = role_totals(role, sol.kept)
        gap = check_balance(total, by_role)
        extra = None
        if nt is not None and nt.extra.num_columns:
            pos = np.full(n, -1, dtype=np.int64)
            pos[codes[2]] = np.arange(codes[2].shape[0])
            extra = nt.extra.take(pa.array(pos, mask=pos < 0))
        table = node_table(index.ids, role, sol.kept, paid, total, extra)
        users = role == K.USER
        summary = Summary(
            nodes=n,
            users=int(users.sum()),
            platforms=int((role == K.PLATFORM).sum()),
            advertisers=int((role == K.ADVERTISER).sum()),
            edges=et.num_rows,
            contribution_edges=int(contribution.sum()),
            revenue_edges=int(revenue.sum()),
            pay_edges=int(pay.sum()),
            flow_edges=graph.n_flow_edges,
            total_injected=total,
            attributed_users=by_role["users"],
            kept_platforms=by_role["platforms"],
            kept_elsewhere=by_role["elsewhere"],
            paid=float(paid[users].sum()),
            unpaid=float((sol.kept - paid)[users].sum()),
            iterations=sol.n_iter,
            residual=sol.residual,
            conservation_error=gap,
            params={
                "damping": params.damping,
                "platform_share": params.platform_share,
                "tol": params.tol,
                "max_iter": params.max_iter,
                "kind_weights": params.kind_weights,
                "revenue_kinds": sorted(kinds.revenue),
                "pay_kinds": sorted(kinds.pay),
            },
        )
    return AttributionResult(table, summary, log.as_dicts())
