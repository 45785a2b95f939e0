"""The attribution pipeline: the stages chained in order.

check the options (and the nodes file's schema) -> read edges and nodes ->
encode ids (:mod:`.encode`) -> classify edges (:mod:`.classify`) -> infer
roles (:mod:`.roles`) -> time decay (:mod:`.decay`) -> align nodes
(:mod:`.align`) -> for the whole data or each calendar period: run the method
(build the flow graph, solve; :mod:`.methods`) -> check the money balance ->
result tables. Each stage is timed under its own name in the
:class:`~graphlabor.timing.StageLog`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import columns, stream
from ._types import EdgesInput, Instant, NodesInput
from .breakdowns import context_table, group_table, hours_columns, model_choices, platform_table, roles_report, via_columns
from .align import align_nodes
from .classify import Classified, classify, kind_table
from .codes import CONTRIBUTION, PAY, REVENUE
from .decay import decay, half_life_seconds
from .edges import EdgeTable, KindClasses, columns_used, load_edges
from .encode import encode_ids, encode_kinds, epoch_seconds
from .errors import InputError, ParameterError
from .memory import check_after_encoding, check_before_reading, release_free_memory
from .methods import METHODS, ModelRun, run_model
from .node_index import NodeIndex
from .nodes import NodeTable, load_nodes, node_columns
from . import params as P
from .params import ModelParams
from .prepare import Prepared
from .readers import Source, is_paths, resolve
from .contexts import encode_contexts, match_contexts
from .kernels._jit import warm_up
from .roles import assign_roles, check_declared, check_strict
from .results import (
    AttributionResult,
    RunContext,
    Summary,
    check_balance,
    combine_summaries,
    for_period,
    node_table,
    role_totals,
    summarize,
)
from .timeaxis import PERIODS, parse_instant, period_starts
from .timing import StageLog

if TYPE_CHECKING:
    from .explain import Explanation


def attribute(
    edges: EdgesInput,
    nodes: NodesInput | None = None,
    *,
    damping: float = P.DAMPING,
    platform_share: float = P.PLATFORM_SHARE,
    kind_weights: Mapping[str, float] | None = None,
    revenue_kinds: Iterable[str] = P.DEFAULT_REVENUE_KINDS,
    pay_kinds: Iterable[str] = P.DEFAULT_PAY_KINDS,
    tol: float = P.TOL,
    max_iter: int = P.MAX_ITER,
    solver: str | None = None,
    method: str = P.METHOD,
    half_life: str | float | None = None,
    as_of: Instant | None = None,
    period: str | None = None,
    group_by: str | None = None,
    min_wage: float | None = None,
    breakdown: bool = True,
    src_col: str | None = None,
    dst_col: str | None = None,
    id_type: str | None = None,
    allow_empty: bool = False,
    context_col: str | None = "context",
    unmatched: str = "pool",
    self_loops: str = "drop",
    roles: str = "infer",
    log: StageLog | None = None,
    engine: str = "local",
    client: Any = None,
) -> AttributionResult:
    """Attribute injected value to the nodes whose contributions produced it.

    Parameters
    ----------
    edges : path, list of paths, pyarrow.Table or pandas.DataFrame
        Edges ``src -> dst`` ("src acted on dst") with optional ``kind``,
        ``weight``, ``amount`` and ``timestamp`` columns.
    nodes : path, pyarrow.Table or pandas.DataFrame, optional
        Node attributes: ``id``, optional ``role``, ``value`` and ``hours``,
        and any other columns (carried to the output).
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
        Bound on the L1 residual ``||s + T x - x||_1`` (and so on the
        conservation error) relative to the injected total.
    max_iter : int, default 1000
        Most passes over the flow matrix.
    solver : {"bicgstab", "jacobi"}, optional
        How ``x = s + T x`` is solved (see :mod:`graphlabor.solve`); default
        ``"bicgstab"``. Either runs on either engine, with the same bits.
    method : {"propagate", "direct", "shapley"}
        See :mod:`graphlabor.methods`.
    half_life : str or float, optional
        Contribution weights decay as ``2 ** (-age / half_life)``; a duration
        such as ``"30d"`` or seconds. Age is measured from ``as_of``.
    as_of : str or int, optional
        Reference instant for ``half_life`` (ISO date/time or epoch
        seconds); default the latest timestamp in the data.
    period : {"day", "week", "month", "quarter", "year"}, optional
        One attribution per calendar period (UTC), stacked with a ``period``
        column (the period's first day).
    group_by : str, optional
        A nodes-file column; :attr:`AttributionResult.groups` then holds
        per-group statistics of users.
    min_wage : float, optional
        With a nodes-file ``hours`` column: flag users whose attributed value
        per hour is at or above it while their pay per hour is below it.
    breakdown : bool, default True
        Add the per-kind ``via_*`` columns.
    src_col, dst_col : str, optional
        Names of the id columns when they are not ``src``/``dst``.
    id_type : {"text", "int"}, optional
        Force the ids' type; by default text if any source has text ids,
        else integers (a source without rows has no say).
    allow_empty : bool, default False
        Accept input with no edge rows, or with no injected value (no
        revenue edge and no node values); the result is then all zeros.
        Without it, both are an :class:`InputError`.
    context_col : str, default "context"
        The edge column naming the campaign, task batch, ride or item an
        edge belongs to (integers or text; null: none), read when present;
        ``""`` or None ignores contexts.
        Revenue with a context goes only to the users whose contributions
        to the platform carry that context (docs/model.md, section 2).
    unmatched : {"pool", "keep"}, default "pool"
        Revenue of a ``(platform, context)`` pair that no contribution
        matches: to the platform's pool, or kept by the platform.
    self_loops : {"drop", "keep"}, default "drop"
        Contribution edges ``a -> a``: dropped (self-engagement earns nothing
        from others), or kept as ordinary edges (as PageRank counts them).
    roles : {"infer", "strict"}, default "infer"
        ``"strict"`` requires every node's role from the nodes file.
    log : StageLog, optional
        Receives the time and memory of each stage.
    engine : {"local", "dask"}, default "local"
        ``"dask"`` runs every stage on a Dask cluster (see
        docs/distributed.md), with the same results bit for bit.
    client : distributed.Client, optional
        With ``engine="dask"``: the cluster to use (default: start a
        ``LocalCluster`` of one worker process per core, and close it after).

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

    >>> import graphlabor, pandas as pd
    >>> edges = pd.DataFrame({
    ...     "src":    ["ads", "a",    "b",    "a"],
    ...     "dst":    ["P",   "P",    "P",    "b"],
    ...     "kind":   ["spend", "click", "click", "view"],
    ...     "weight": [1.0,   2.0,    1.0,    1.0],
    ...     "amount": [100.0, None,   None,   None],
    ... })
    >>> r = graphlabor.attribute(edges)
    >>> r.to_pandas()[["node", "role", "attributed", "via_click", "via_view"]].round(4)
      node        role  attributed  via_click  via_view
    0    P    platform         0.0     0.0000    0.0000
    1    a        user        10.0    10.0000    0.0000
    2  ads  advertiser         0.0     0.0000    0.0000
    3    b        user        90.0    33.3333   56.6667
    """
    params, kinds, choices, log, hl, ref = _setup(locals())
    if engine == "dask":
        return _attribute_dask(
            edges, nodes, params, kinds, client=client, method=method, half_life=half_life, as_of=as_of,
            period=period, group_by=group_by, min_wage=min_wage, breakdown=breakdown, src_col=src_col,
            dst_col=dst_col, log=log, choices=choices, id_type=id_type, allow_empty=allow_empty,
        )[0]
    if engine != "local":
        raise ParameterError(f"engine must be 'local' or 'dask', got {engine!r}")
    if client is not None:
        raise ParameterError("client is for engine='dask'")
    need_time = period is not None or hl is not None

    if is_paths(edges):
        edges = resolve(edges)  # format, schema, rows and row groups of each file: read once, here
    check_before_reading(edges)  # from file metadata: stop before reading what cannot fit
    prep = _prepare(edges, nodes, params, kinds, hl, ref, need_time, src_col, dst_col, log, id_type=id_type, choices=choices)
    if breakdown:
        _check_via_names(prep)
    if not allow_empty:
        check_not_empty(prep, kinds)
    hours = prep.column("hours")

    if period is None:
        slices: Sequence[tuple[int | None, dict[int, np.ndarray] | None]] = [(None, None)]
    else:
        with log.stage("split periods"):
            slices = _period_rows(prep, period)

    out = _RunTables()
    runs: list[ModelRun] = []
    for start, rows in slices:
        if start is not None and log.verbose:
            import sys

            print(f"graphlabor: period {np.datetime64(start, 'D')}", file=sys.stderr)
        run = run_model(prep, params, method, rows=rows, breakdown=breakdown, log=log)
        with log.stage("results"):
            out.add(prep, run, start, params, kinds, method, hours, min_wage, breakdown)
            runs.append(run)
    nodes_table, platforms, contexts, summary, groups = out.combined(period, group_by, min_wage)
    if prep.columns:
        summary = replace(summary, columns=dict(prep.columns))
    context = RunContext(prep, runs[0], method) if period is None else None
    return AttributionResult(
        nodes_table, summary, log.as_dicts(), platforms=platforms, groups=groups,
        periods=out.summaries if period is not None else None, context=context,
        contexts=contexts, roles_report=roles_report(prep),
    )


def _setup(a: Mapping[str, Any]) -> tuple[ModelParams, KindClasses, _Choices, StageLog, float | None, int | None]:
    """:func:`attribute`'s arguments checked: model parameters, kinds, choices, the log, the decay options."""
    solver = a["solver"] if a["solver"] is not None else P.SOLVER
    params = ModelParams(a["damping"], a["platform_share"], a["tol"], a["max_iter"], dict(a["kind_weights"] or {}), solver)
    kinds = KindClasses(frozenset(a["revenue_kinds"]), frozenset(a["pay_kinds"]))
    hl, ref = _check_options(a["nodes"], a["method"], a["half_life"], a["as_of"], a["period"], a["group_by"], a["min_wage"])
    _check_kind_weights(params, kinds)
    choices = _Choices(a["context_col"] or None, a["unmatched"], a["self_loops"], a["roles"])
    log = a["log"] if a["log"] is not None else StageLog(verbose=False)
    return params, kinds, choices, log, hl, ref


def explain(edges: EdgesInput, node: Any, nodes: NodesInput | None = None, *, top: int = 10, engine: str = "local",
            client: Any = None, **options: Any) -> Explanation:
    """Run the attribution and decompose ``node``'s attributed value (:mod:`graphlabor.explain`).

    Parameters
    ----------
    edges, nodes
        As :func:`attribute`.
    node
        The node's id (text that reads as an integer names an integer id).
    top : int, default 10
        Sources of the last hop to list.
    engine : {"local", "dask"}, default "local"
        ``"dask"``: the attribution and the adjoint solve run on a Dask
        cluster, the transposed flow matrix by row blocks as the forward one
        (:mod:`graphlabor.distributed.adjoint`), with the local engine's
        numbers bit for bit.
    client : distributed.Client, optional
        As :func:`attribute`.
    **options
        Any other option of :func:`attribute` but ``period``, ``group_by``
        and ``min_wage`` (an explanation is of one run's value).

    Returns
    -------
    Explanation

    Examples
    --------
    >>> import graphlabor
    >>> e = graphlabor.explain(graphlabor.example_path("edges"), "u000000", top=3)
    >>> abs(sum(v for _, v in e.by_payer) - e.attributed) <= 1e-9 * max(e.attributed, 1.0)
    True
    """
    import inspect

    for name in ("period", "group_by", "min_wage"):
        if options.get(name) is not None:
            raise ParameterError(f"explain is not available with {name}; run without it", param=name)
    if engine != "dask":
        return attribute(edges, nodes, engine=engine, client=client, **options).explain(node, top=top)
    a = inspect.signature(attribute).bind(edges, nodes, engine=engine, client=client, **options)
    a.apply_defaults()
    o = a.arguments
    params, kinds, choices, log, _, _ = _setup(o)
    _, explanations = _attribute_dask(
        edges, nodes, params, kinds, client=client, method=o["method"], half_life=o["half_life"], as_of=o["as_of"],
        period=None, group_by=None, min_wage=None, breakdown=o["breakdown"], src_col=o["src_col"],
        dst_col=o["dst_col"], log=log, choices=choices, id_type=o["id_type"], allow_empty=o["allow_empty"],
        explain=([node], top),
    )
    return explanations[0]


def _attribute_dask(edges: EdgesInput, nodes: NodesInput | None, params: ModelParams, kinds: KindClasses, *,
                    client: Any, method: str, half_life: str | float | None, as_of: Instant | None,
                    period: str | None, group_by: str | None, min_wage: float | None, breakdown: bool,
                    src_col: str | None, dst_col: str | None, log: StageLog,
                    choices: _Choices | None = None, id_type: str | None = None,
                    allow_empty: bool = False, explain: tuple[Sequence[Any], int] | None = None,
                    ) -> tuple[AttributionResult, list[Explanation]]:
    """The Dask engine's stages (:mod:`graphlabor.distributed`), then the same result tables.

    ``explain``: ``(nodes, top)`` to explain while the graph is on the cluster
    (the explanations are returned after the result).
    """
    from .distributed.cluster import connect
    from .distributed.engine import attribute_dask_periods, check_options

    choices = choices or _Choices()
    check_options(method, half_life=half_life, as_of=as_of, period=period, solver=params.solver,
                  self_loops=choices.self_loops, unmatched=choices.unmatched, roles=choices.roles)
    from .distributed.cluster import cluster_failure
    from .distributed.watchdog import watch_paused

    try:
        with connect(client) as c, watch_paused(c):  # every worker paused for good: one line, not a hang
            prep, runs = attribute_dask_periods(
                edges, nodes, params, kinds, client=c, method=method, breakdown=breakdown,
                src_col=src_col, dst_col=dst_col, half_life=half_life, as_of=as_of, log=log,
                id_type=id_type, allow_empty=allow_empty, self_loops=choices.self_loops, roles=choices.roles,
                period=period, context_col=choices.context_col, unmatched=choices.unmatched,
                keep_graph=explain is not None,
            )
            explanations = []
            if explain is not None:
                from .distributed.adjoint import DaskGraph
                from .explain import explain_node

                run = runs[0][1]
                with log.stage("explain"):
                    access = DaskGraph(c, prep, run)
                    explanations = [explain_node(prep, run, method, v, explain[1], access) for v in explain[0]]
                run.graph.cluster = None  # the blocks leave the cluster
    except Exception as e:
        failure = cluster_failure(e)
        if failure is e:
            raise
        raise failure from e
    hours = prep.column("hours")  # group_by and min_wage were checked against the nodes file's schema
    if breakdown:
        _check_via_names(prep)
    out = _RunTables()
    for start, run in runs:  # one run, or one per period (as the local engine's loop)
        with log.stage("results"):
            # the run's pay edges with a context were gathered by the engine (the table reads them)
            out.add(prep, run, start, params, kinds, method, hours, min_wage, breakdown,
                    pay=run.graph.context_pay if prep.pairs is not None else None)
    table, platforms, contexts, summary, groups = out.combined(period, group_by, min_wage)
    used = columns_used(edges, src_col, dst_col, need_time=half_life is not None or period is not None)
    if prep.pairs is not None and choices.context_col:
        used["context"] = choices.context_col  # read (as one machine reads it) when some file has it
    summary = replace(summary, columns=used)
    result = AttributionResult(table, summary, log.as_dicts(), platforms=platforms, groups=groups, context=None,
                               periods=out.summaries if period is not None else None, contexts=contexts,
                               roles_report=roles_report(prep))
    # one output file per row block (of each period's graph: the periods' tables are stacked in order)
    bounds, block_workers, n_rows = [0], [], 0
    for _, run in runs:
        bounds += [n_rows + b for b in run.graph.row_bounds[1:]]
        block_workers += run.graph.block_workers
        n_rows += run.graph.row_bounds[-1]
    result.row_bounds = bounds
    from .distributed.engine import worker_writer

    result.part_writer = worker_writer(client, block_workers)  # written by the block's worker while the client is open
    if period is None:
        result.block_stats = runs[0][1].graph.block_stats
    return result, explanations


@dataclass(frozen=True)
class _Choices:
    """The options of issue 10: context column, unmatched context revenue, self-loops, roles."""

    context_col: str | None = "context"
    unmatched: str = "pool"
    self_loops: str = "drop"
    roles: str = "infer"

    def __post_init__(self) -> None:
        from .contexts import UNMATCHED

        for name, allowed in (("unmatched", UNMATCHED), ("self_loops", ("drop", "keep")), ("roles", ("infer", "strict"))):
            if getattr(self, name) not in allowed:
                raise ParameterError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}", param=name)


def prepare(edges: EdgesInput | list[Source], nodes: NodesInput | None, params: ModelParams, kinds: KindClasses, *,
            src_col: str | None = None, dst_col: str | None = None, half_life: str | float | None = None,
            as_of: Instant | None = None, need_time: bool = False, id_type: str | None = None,
            log: StageLog | None = None, context_col: str | None = "context", unmatched: str = "pool",
            self_loops: str = "drop", roles: str = "infer") -> Prepared:
    """The stages before the model, for callers that run the model themselves (:mod:`graphlabor.robustness`).

    Checks ``half_life`` and ``as_of``, then runs read, encode ids, classify
    edges, infer roles, time decay and align nodes (see :func:`attribute`).
    """
    hl, ref = _decay_options(half_life, as_of)
    _check_kind_weights(params, kinds)
    log = log if log is not None else StageLog(verbose=False)
    if is_paths(edges):
        edges = resolve(edges)
    check_before_reading(edges)
    return _prepare(edges, nodes, params, kinds, hl, ref, need_time or hl is not None, src_col, dst_col, log,
                    id_type=id_type, choices=_Choices(context_col or None, unmatched, self_loops, roles))


def _prepare(edges: EdgesInput | list[Source], nodes: NodesInput | None, params: ModelParams, kinds: KindClasses,
             hl: float | None, ref: int | None, need_time: bool, src_col: str | None, dst_col: str | None,
             log: StageLog, id_type: str | None = None, choices: _Choices | None = None) -> Prepared:
    """The stages before the model: read, encode ids, classify edges, infer roles, time decay, align nodes.

    Each stage is timed under its name; the edge table's id columns are
    dropped once encoded, so that the ids do not stay in memory while the
    graph is built and solved.
    """
    choices = choices or _Choices()
    streamed = _stream(edges, nodes, params, kinds, need_time, src_col, dst_col, log, id_type, choices)
    if streamed is not None:
        et, nt, index, node_codes, kind_names, ctx_values, edges_ = streamed
        class_of_kind, _ = kind_table(kind_names, kinds, params.kind_weights)
    else:
        et, nt, index, node_codes, kind_names, class_of_kind, ctx_values, edges_ = _whole_table(
            edges, nodes, params, kinds, need_time, src_col, dst_col, log, id_type, choices)
    release_free_memory()  # the ingestion's freed blocks, before the graph is built on top of them
    with log.stage("infer roles"):
        declared = None if nt is None or nt.role is None else nt.role.to_pylist()
        role = assign_roles(edges_.evidence, node_codes, declared)
        declared_mask = None
        if declared is not None:
            assert node_codes is not None
            declared_mask = np.zeros(len(index), dtype=bool)
            declared_mask[node_codes[np.array([d is not None for d in declared], dtype=bool)]] = True
        if choices.roles == "strict":
            check_strict(declared_mask, index.ids, len(index), nt.source if nt is not None else None)
        if declared is not None:
            assert nt is not None
            check_declared(role, edges_.evidence, index.ids, edges_.revenue, edges_.revenue_rows, edges_.pay,
                           edges_.pay_rows, et.locate, kind_names, nt.source, node_codes)
    if hl is not None:
        with log.stage("time decay"):
            c = edges_.contribution
            assert c.seconds is not None  # half_life reads the timestamps
            if ref is None:
                ref = max((int(e.seconds.max()) for e in (c, edges_.revenue, edges_.pay) if len(e) and e.seconds is not None), default=0)
            c.value = decay(c.value, c.src, c.dst, c.seconds, role, hl, ref)
    pairs = None
    if ctx_values is not None:
        with log.stage("match contexts"):
            pairs = match_contexts(ctx_values, edges_.contribution, edges_.revenue, role, choices.unmatched)
    node_value = extra = None
    if nt is not None:
        with log.stage("align nodes"):
            assert node_codes is not None  # encoded with the nodes file's ids
            node_value, extra = align_nodes(node_codes, len(index), nt.value, nt.extra)
    return Prepared(index, edges_.contribution, edges_.revenue, edges_.pay, kind_names, class_of_kind,
                    role, node_value, extra, et.origins, et.columns, edges_.evidence, pairs, edges_.self_loops,
                    choices.self_loops, declared_mask)


def _stream(edges: EdgesInput | list[Source], nodes: NodesInput | None, params: ModelParams, kinds: KindClasses,
            need_time: bool, src_col: str | None, dst_col: str | None, log: StageLog, id_type: str | None,
            choices: _Choices) -> tuple[EdgeTable, NodeTable | None, NodeIndex, np.ndarray | None, list[str],
                                        pa.Array | None, Classified] | None:
    """Read, encode and classify Parquet row groups streamed (:mod:`graphlabor.stream`); None where that does not apply.

    The stages keep their names: "read edges" is the streamed pass (read,
    check, local codes and classification of each row group, two at a time),
    "encode ids" the merge of the row groups' dictionaries into the global
    one, "encode contexts" that of their context ids (with a context
    column) and "classify edges" the remap of every row group's arrays to them.
    """
    if not (isinstance(edges, list) and edges and all(isinstance(e, Source) for e in edges)):
        return None
    work = stream.plan(edges, src_col=src_col, dst_col=dst_col, id_type=id_type, need_time=need_time,
                       context_col=choices.context_col)
    if work is None:
        return None
    with log.stage("read edges"):
        warm_up()  # numba loads in the background while the edges are read
        parts = stream.pieces(work, kinds=kinds, kind_weights=params.kind_weights, self_loops=choices.self_loops)
    if parts is None:
        return None  # a row group failed a check: the whole-table path names file, column, row and value
    nt = None
    if nodes is not None:
        with log.stage("read nodes"):
            nt = load_nodes(nodes, "str")
    with log.stage("encode ids"):
        merged = stream.merge(edges, work, parts, node_ids=None if nt is None else nt.ids)
        del parts
    ctx_values = None
    if "context" in work.columns:
        with log.stage("encode contexts"):
            ctx_values = merged.contexts(", ".join(e.name for e in edges), choices.context_col or "context")
    check_after_encoding(merged.num_rows, len(merged.index), "str")
    with log.stage("classify edges"):
        edges_ = merged.classify()
    return merged.edges, nt, merged.index, merged.node_codes, merged.kind_names, ctx_values, edges_


def _whole_table(edges: EdgesInput | list[Source], nodes: NodesInput | None, params: ModelParams, kinds: KindClasses,
                 need_time: bool, src_col: str | None, dst_col: str | None, log: StageLog, id_type: str | None,
                 choices: _Choices) -> tuple[EdgeTable, NodeTable | None, NodeIndex, np.ndarray | None, list[str],
                                             np.ndarray, pa.Array | None, Classified]:
    """Read, encode ids and contexts, classify: the whole edge table at once."""
    with log.stage("read edges"):
        warm_up()  # numba loads in the background while the edges are read
        et = load_edges(edges, src_col=src_col, dst_col=dst_col, kinds=kinds, need_time=need_time, id_type=id_type,
                        context_col=choices.context_col)
    if choices.context_col not in (None, "context") and et.num_rows and "context" not in et.table.column_names:
        raise InputError(f"{', '.join(o for o, _ in et.origins)}: no column {choices.context_col!r} (given as --context-col)",
                         param="context_col")
    nt = None
    if nodes is not None:
        with log.stage("read nodes"):
            nt = load_nodes(nodes, et.id_type if et.num_rows else None)
    with log.stage("encode ids"):
        index, src, dst, node_codes = encode_ids(et.table["src"], et.table["dst"], None if nt is None else nt.ids)
        table, et.table = et.table.drop_columns(["src", "dst"]), None  # free the ids before the graph is built
        kind_names, kind = encode_kinds(table["kind"])
    ctx_values = ctx = None
    if "context" in table.column_names:
        with log.stage("encode contexts"):
            ctx_values, ctx = encode_contexts(table["context"], ", ".join(o for o, _ in et.origins),
                                              choices.context_col or "context")
            table = table.drop_columns(["context"])
    check_after_encoding(len(src), len(index), index.id_type)  # exact sizes, before the graph is built
    seconds = None
    if need_time:
        with log.stage("encode times"):
            seconds = _seconds(table, et)
    with log.stage("classify edges"):
        class_of_kind, weight_of_kind = kind_table(kind_names, kinds, params.kind_weights)
        weight = table["weight"].to_numpy() if len(kind) else np.empty(0)
        edges_ = classify(src, dst, kind, class_of_kind, weight, weight_of_kind, table["amount"], len(index), seconds,
                          context=ctx, self_loops=choices.self_loops)
        del src, dst, kind, weight, table, seconds, ctx
    return et, nt, index, node_codes, kind_names, class_of_kind, ctx_values, edges_


def check_not_empty(prep: Prepared, kinds: KindClasses) -> None:
    """Refuse a run that would attribute nothing: no edge rows, or no value injected (and no node values).

    Such a run is almost always a mistake (an empty export, a wrong
    ``--revenue-kinds``, a lost ``kind`` column); ``allow_empty`` accepts it.
    """
    with np.errstate(over="ignore"):  # a sum that overflows is refused later, as such (methods.check_sums)
        revenue = float(prep.revenue.value.sum())
    refuse_empty([name for name, _ in prep.origins], prep.m, len(prep.revenue), prep.node_value is not None or revenue > 0,
                 prep.kind_names, bool(prep.columns.get("kind")), kinds)


def refuse_empty(names: list[str], m: int, n_revenue: int, injects: bool, seen: list[str], has_kind: bool,
                 kinds: KindClasses) -> None:
    """:func:`check_not_empty` from counts: ``m`` edge rows, ``n_revenue`` revenue edges, whether any value is injected.

    (The Dask engine calls it with counts reduced over its partitions.)
    """
    label = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    if injects:
        return  # node values are given (a run on them alone is a valid, if trivial, run), or revenue
    if m == 0:
        raise InputError(f"{label}: no edges (the input holds no data rows); pass --allow-empty to accept empty input")
    if n_revenue:
        raise InputError(
            f"{label}: no value injected: the {n_revenue:,} revenue edges all have amount 0 and there are "
            "no node values; pass --allow-empty to accept a result of zeros"
        )
    shown = ", ".join(repr(k) for k in seen[:10]) + (f" and {len(seen) - 10} more" if len(seen) > 10 else "")
    raise InputError(
        f"{label}: no value injected: no edge has a revenue kind ({', '.join(repr(k) for k in sorted(kinds.revenue))}; "
        f"set them with --revenue-kinds) and no node values are given; kinds seen: {shown}"
        + ("" if has_kind else " (there is no 'kind' column)")
        + "; pass --allow-empty to accept a result of zeros"
    )


def _decay_options(half_life: str | float | None, as_of: Instant | None) -> tuple[float | None, int | None]:
    """The half-life and ``as_of`` in seconds; ``as_of`` means nothing without a half-life."""
    if as_of is not None and half_life is None:
        raise ParameterError("as_of is the instant the half_life decay counts from; give half_life too",
                             param=("as_of", "half_life"))
    hl = half_life_seconds(half_life) if half_life is not None else None
    ref = parse_instant(as_of) if as_of is not None else None
    return hl, ref


def _check_kind_weights(params: ModelParams, kinds: KindClasses) -> None:
    """A kind weight scales contribution edges; a revenue or pay kind carries an amount, not a weight."""
    money = sorted(set(params.kind_weights) & kinds.money())
    if money:
        what = "revenue" if money[0] in kinds.revenue else "pay"
        raise ParameterError(
            f"kind_weights: {money[0]!r} is a {what} kind (it carries an amount); weights apply to contribution kinds only",
            param="kind_weights",
        )


def _check_options(
    nodes: NodesInput | None, method: str, half_life: str | float | None, as_of: Instant | None, period: str | None,
    group_by: str | None, min_wage: float | None,
) -> tuple[float | None, int | None]:
    """Check the options that do not need the edges; returns the half-life and ``as_of`` in seconds (or None).

    Reads at most the nodes file's schema.
    """
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}", param="method")
    if period is not None and period not in PERIODS:
        raise ParameterError(f"period must be one of {', '.join(PERIODS)}, got {period!r}", param="period")
    if min_wage is not None and not (np.isfinite(min_wage) and min_wage >= 0):
        raise ParameterError(f"min_wage must be a number >= 0, got {min_wage!r}", param="min_wage")
    hl, ref = _decay_options(half_life, as_of)
    columns = node_columns(nodes) if nodes is not None else []
    if group_by is not None and group_by not in columns:
        raise ParameterError(f"group_by {group_by!r}: no such column in the nodes file", param="group_by")
    if period is not None and any(c.strip().lower() == "value" for c in columns):
        raise ParameterError("period cannot be combined with a nodes-file 'value' column (node values have no time)",
                             param="period")
    if min_wage is not None and not any(c.strip().lower() == "hours" for c in columns):
        raise ParameterError("min_wage needs an 'hours' column in the nodes file", param="min_wage")
    return hl, ref


def _seconds(table: pa.Table, et: EdgeTable) -> np.ndarray:
    """Epoch seconds of every edge (the time options need a timestamp on each)."""
    if "timestamp" not in table.column_names:
        raise InputError(f"{', '.join(o for o, _ in et.origins)}: no 'timestamp' column, which half_life and period need",
                         param=("half_life", "period"))
    return epoch_seconds(table["timestamp"], et.origins[0][0] if len(et.origins) == 1 else "edges", et.locate)


def _check_via_names(prep: Prepared) -> None:
    """A contribution kind named ``injected`` would make a second ``via_injected`` column."""
    contribution = [k for k, c in zip(prep.kind_names, prep.kind_class) if c == CONTRIBUTION]
    bad = columns.kind_clashes(contribution)
    if bad:
        raise InputError(
            f"edge kind {bad[0]!r}: its breakdown column would be {columns.VIA_INJECTED!r}, the column of injected "
            "value; rename the kind, or run without the via_* breakdown"
        )


def _tables(prep: Prepared, run: ModelRun, params: ModelParams, kinds: KindClasses, method: str,
            hours: np.ndarray | None, min_wage: float | None, breakdown: bool) -> tuple[pa.Table, Summary, int]:
    role = prep.role
    total = float(run.injected.sum())
    by_role = role_totals(role, run.kept)
    gap = check_balance(total, by_role, params.tol)
    table = node_table(prep.index.ids, role, run.kept, run.paid, total, None)
    if breakdown and run.via is not None:
        for name, col in via_columns(run.via, prep.kind_names, prep.kind_class).items():
            table = table.append_column(name, pa.array(col))
    flagged = 0
    if hours is not None:
        cols, flag = hours_columns(run.kept, run.paid, hours, role, min_wage)
        for name, col in cols.items():
            table = table.append_column(name, col)
        flagged = int(flag.sum()) if flag is not None else 0
    if prep.extra is not None:
        for name in prep.extra.column_names:
            table = table.append_column(name, prep.extra[name])
    summary = summarize(role, run, total, by_role, gap, {
        "method": method,
        "damping": params.damping,
        "platform_share": params.platform_share,
        "tol": params.tol,
        "max_iter": params.max_iter,
        "solver": params.solver,
        "kind_weights": params.kind_weights,
        "revenue_kinds": sorted(kinds.revenue),
        "pay_kinds": sorted(kinds.pay),
        "self_loops": prep.self_loop_mode,
        "unmatched": prep.pairs.unmatched if prep.pairs is not None else None,
    })
    summary = replace(summary, **model_choices(prep, run))
    return table, summary, flagged



def _dated(table: pa.Table, start: int) -> pa.Table:
    """``table`` with a first column ``period``: the day ``start`` (days since the epoch) on every row."""
    return table.add_column(0, "period", pa.array(np.full(table.num_rows, start, dtype=np.int32), pa.date32()))


def _concat(tables: list[pa.Table]) -> pa.Table:
    return tables[0] if len(tables) == 1 else pa.concat_tables(tables)


@dataclass
class _RunTables:
    """The result tables of one run, or of one run per period, collected in order (both engines)."""

    nodes: list[pa.Table] = field(default_factory=list)
    platforms: list[pa.Table] = field(default_factory=list)
    contexts: list[pa.Table] = field(default_factory=list)
    summaries: list[Summary] = field(default_factory=list)
    flagged: int = 0

    def add(self, prep: Prepared, run: ModelRun, start: int | None, params: ModelParams, kinds: KindClasses,
            method: str, hours: np.ndarray | None, min_wage: float | None, breakdown: bool,
            pay: Any = None) -> None:
        """Add one run's tables (dated when ``start`` is a period's first day); ``pay`` replaces
        ``prep.pay`` for the contexts table (the Dask engine gathers the pay edges with a context)."""
        table, summary, flagged = _tables(prep, run, params, kinds, method, hours, min_wage, breakdown)
        plat = platform_table(prep.index.ids, prep.role, run)
        ctxt = None
        if prep.pairs is not None:
            ctxt = context_table(prep if pay is None else replace(prep, pay=pay), run)
        if start is not None:
            table, plat, summary = _dated(table, start), _dated(plat, start), for_period(summary, start)
            ctxt = None if ctxt is None else _dated(ctxt, start)
        self.flagged += flagged
        self.nodes.append(table)
        self.platforms.append(plat)
        if ctxt is not None:
            self.contexts.append(ctxt)
        self.summaries.append(summary)

    def combined(self, period: str | None, group_by: str | None, min_wage: float | None
                 ) -> tuple[pa.Table, pa.Table, pa.Table | None, Summary, pa.Table | None]:
        """Nodes, platforms, contexts (None without pairs), the summary and the groups over every run."""
        nodes = _concat(self.nodes)
        summary = self.summaries[0] if len(self.summaries) == 1 else combine_summaries(self.summaries, period)
        if min_wage is not None:
            summary = replace(summary, below_min_wage=self.flagged)
        groups = group_table(nodes, group_by) if group_by is not None else None
        return nodes, _concat(self.platforms), _concat(self.contexts) if self.contexts else None, summary, groups

def _period_rows(prep: Prepared, period: str) -> list[tuple[int, dict[int, np.ndarray]]]:
    """For each calendar period present: its first day and the rows of each edge class in it."""
    parts = {CONTRIBUTION: prep.contribution, REVENUE: prep.revenue, PAY: prep.pay}
    groups: dict[int, dict[int, np.ndarray]] = {}
    for cls, e in parts.items():
        assert e.seconds is not None  # period reads the timestamps
        starts = period_starts(e.seconds, period)
        order = np.argsort(starts, kind="stable")
        days, first = np.unique(starts[order], return_index=True)
        bounds = np.append(first, order.size)
        for i, day in enumerate(days.tolist()):
            groups.setdefault(int(day), {})[cls] = order[bounds[i]:bounds[i + 1]]
    empty = np.empty(0, dtype=np.int64)
    return [(day, {cls: groups[day].get(cls, empty) for cls in parts}) for day in sorted(groups)]
