"""``graphlabor.attribute(..., engine="dask")``: the attribution on a Dask cluster.

What runs where:

1. per partition (a file, or a slice of an in-memory table), on the workers:
   read and validate (:func:`~graphlabor.distributed.partitions.read_partition`),
   local sorted distinct ids and kinds;
2. the global id dictionary: text ids cut into a few key ranges a worker, each
   range's ids united and sorted by one task, the ranges in parallel (integer
   ids: a pairwise reduction whose merges map their inputs into their union);
   each partition gets its global codes from it
   (:mod:`~graphlabor.distributed.dictionary`); kinds (few) on the client;
3. per partition: global codes, role evidence (OR-reduced into roles), the
   split by class, the flow edges cut by receiver block;
4. per block of receiver rows: its CSR, out-weights of its senders, the
   solve (:mod:`graphlabor.distributed.solve`), the breakdown by kind;
5. the client gathers the per-node results (never an edge) and builds the
   output tables with the local engine's code.

Every number equals the local engine's bit for bit (see
:mod:`graphlabor.distributed.blocks`).
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from .. import kernels as K
from .._types import EdgesInput, Instant, NodesInput
from ..edges import KindClasses, load_edges
from ..errors import ConvergenceError, InputError, ParameterError
from ..node_index import NodeIndex, encode
from ..params import ModelParams
from ..prepare import EdgeArrays, Prepared
from ..align import align_nodes
from ..classify import combine, kind_table
from ..decay import half_life_seconds
from ..edges import EdgeTable
from ..kernels import ADVERTISER
from ..edges import columns_used
from ..graph import ORDINARY_WEIGHTS
from ..kernels.classify import SENDS_CONTRIBUTION
from ..methods import check_sums
from ..roles import assign_roles, check_declared, check_strict, conflicting, platform_evidence
from ..timeaxis import parse_instant, period_starts
from ..timing import StageLog
from . import adjoint as A
from . import blocks as B
from . import dictionary as D
from . import pairs as CP
from . import partitions as P
from .cluster import memory_limits
from .solve import BlockVectors, ExchangePlan, bicgstab, exchange, power_iteration

#: Options of :func:`graphlabor.attribute` the Dask engine does not honour yet, with their "unset" values.
UNSUPPORTED: dict[str, Any] = {}
SUPPORTED_METHODS = ("propagate", "direct", "shapley")


def check_options(method: str = "propagate", **options: Any) -> None:
    """One-line error naming the first option the Dask engine cannot honour yet."""
    for name, unset in UNSUPPORTED.items():
        if options.get(name, unset) != unset:
            raise ParameterError(f"--{name.replace('_', '-')} is not supported by --engine dask yet; run without it or with --engine local")
    solver = options.get("solver", "bicgstab")
    if solver not in ("bicgstab", "jacobi"):
        raise ParameterError(f"solver must be 'bicgstab' or 'jacobi', got {solver!r}")
    if method not in SUPPORTED_METHODS:
        raise ParameterError(f"--method {method} is not supported by --engine dask yet (supported: {', '.join(SUPPORTED_METHODS)})")


#: A single-file ``-o`` gathers the node table into the client process; above this estimated size it is
#: refused before the solve (``--single-file-limit``, or the Dask config key ``graphlabor.single-file-limit``).
SINGLE_FILE_LIMIT = 2 << 30


def table_bytes(ids: pa.Array, width: int, extra: pa.Table | None) -> int:
    """Estimated in-memory size of the node table: ids, role, 5 numbers, the ``via_*`` columns, nodes-file columns.

    >>> import pyarrow as pa
    >>> table_bytes(pa.array(range(1000), pa.int64()), 3, None)
    74000
    """
    n = len(ids)
    return int(ids.nbytes + n * (2 + 5 * 8 + 8 * width) + (extra.nbytes if extra is not None else 0))


def check_single_file(ids: pa.Array, width: int, extra: pa.Table | None) -> None:
    """Refuse a single-file output that would gather more than the limit into the client (one line, exit code 2).

    Active when the CLI (or a user) sets the Dask config key
    ``graphlabor.single-file-output`` to the output's path; the limit is
    ``graphlabor.single-file-limit`` (bytes or a size such as ``"4GiB"``;
    default :data:`SINGLE_FILE_LIMIT`).
    """
    import dask
    from dask.utils import format_bytes, parse_bytes

    path = dask.config.get("graphlabor.single-file-output", None)
    if path is None:
        return
    limit = dask.config.get("graphlabor.single-file-limit", None)
    limit = SINGLE_FILE_LIMIT if limit is None else parse_bytes(limit)
    size = table_bytes(ids, width, extra)
    if size > limit:
        raise ParameterError(
            f"-o {path}: the result ({len(ids):,} nodes, about {format_bytes(size)}) is larger than the single-file limit "
            f"({format_bytes(limit)}) of --engine dask; write a Parquet dataset with -o {_as_dir(str(path))} "
            "(or raise --single-file-limit)"
        )


def _as_dir(path: str) -> str:
    """``out.parquet`` -> ``out/``: the directory a dataset would go to."""
    base = os.path.splitext(path.rstrip("/" + os.sep))[0]
    return base + "/"


def worker_writer(client: Any, block_workers: list[str]) -> Callable[[list[tuple[pa.Table, str]]], None]:
    """A writer for :func:`graphlabor.output.write_dataset` that writes each file on a worker of the cluster.

    File ``b`` (the rows of block ``b``) is written by the worker that held
    block ``b``, into the dataset's temporary directory, which must be on
    storage the workers see at the same path (as the input). While
    ``client`` is closed (a local cluster shut down after the run), the
    calling process writes them instead.
    """
    from ..output import write_part

    def write(parts: list[tuple[pa.Table, str]]) -> None:
        if getattr(client, "status", None) != "running":
            for t, f in parts:
                write_part(t, f)
            return
        futures = [client.submit(write_part, t, f, pure=False,
                                 workers=[block_workers[i % len(block_workers)]] if block_workers else None,
                                 allow_other_workers=True)
                   for i, (t, f) in enumerate(parts)]
        try:
            _gather_in_order(client, futures)
        except BaseException:
            from distributed import wait

            client.cancel(futures)  # none starts writing into the temporary directory it is about to lose
            try:  # and those already writing finish before it is removed
                wait(futures, timeout=30)  # type: ignore[no-untyped-call]
            except Exception:
                pass
            raise

    return write


def _tree_reduce(client: Any, fn: Callable[[Any, Any], Any], futures: list[Any]) -> Any:
    """Reduce futures pairwise (a balanced tree) with ``fn(a, b)``; keeps the left-to-right order."""
    level = list(futures)
    while len(level) > 1:
        nxt = [client.submit(fn, level[i], level[i + 1], pure=True) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _slice(arr: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return arr[lo:hi]


def _sources(client: Any, edges: EdgesInput, kinds: KindClasses, src_col: str | None, dst_col: str | None,
             n_slices: int, partition_rows: int | None, id_type: str | None = None, need_time: bool = False,
             context_col: str | None = None) -> list[Any]:
    """Partitions: one per file; an in-memory table is validated here, then cut into slices and scattered."""
    if isinstance(edges, (str, os.PathLike)) or (
        isinstance(edges, (list, tuple)) and edges and all(isinstance(e, (str, os.PathLike)) for e in edges)
    ):
        return list(P.plan(edges, partition_rows))
    et = load_edges(edges, src_col=src_col, dst_col=dst_col, kinds=kinds, need_time=need_time, id_type=id_type,
                    context_col=context_col)
    table = et.table.combine_chunks()
    m = table.num_rows
    cuts = np.linspace(0, m, max(1, min(n_slices, m)) + 1).astype(np.int64)
    # on every worker: a lost worker must not take the only copy of a slice with it
    return [client.scatter(table.slice(a, b - a), broadcast=True, hash=False) for a, b in zip(cuts[:-1], cuts[1:])]


def _gather_in_order(client: Any, futures: list[Any]) -> list[Any]:
    """Gather ``futures``; if several failed, raise the first one's error in input order (as one machine would)."""
    from distributed import wait

    wait(futures)  # type: ignore[no-untyped-call]
    for f in futures:
        if f.status == "error":
            exc = f.exception()
            raise exc.with_traceback(None)
    return list(client.gather(futures))


def _workers(client: Any) -> list[str]:
    return sorted(client.scheduler_info()["workers"])


#: Below this memory limit per worker, the reads are not placed on given workers (the scheduler hands
#: them to workers that are not paused).
PIN_READS_MEMORY = 4 << 30


def _read_partition(source: Any, *args: Any) -> P.LocalPart:
    """:func:`~graphlabor.distributed.partitions.read_partition`, then Arrow's pool returns what it freed to the OS.

    Arrow's allocator (mimalloc) keeps the memory of the decoded columns it
    freed: measured, a process that read 5 partitions of 10^6 rows in a row
    (their arrays: 128 MiB) held 383 MiB, 318 MiB when each read was
    followed by ``release_unused``.
    """
    part = P.read_partition(source, *args)
    pa.default_memory_pool().release_unused()
    return part




#: Bytes a block's tasks allocate while they run, per flow edge of the block (measured at 10^7 edges:
#: the pair entries' CSR build 55, the real entries' build 57, the last step and breakdown ~30).
BUILD_BYTES_PER_EDGE = 64
#: The share of the smallest worker's memory limit one block's build may take.
BLOCK_MEMORY_SHARE = 0.25


def blocks_for_memory(limits: list[int], flow_edges: int) -> int | None:
    """Solve blocks enough that one block's build fits in a share of each worker's memory limit, or None.

    ``flow_edges`` bounds the flow edges (the contribution edges: each makes
    at most one). None (the default, :data:`~graphlabor.distributed.blocks.BLOCKS_PER_WORKER`
    a worker) when there are no limits or the default blocks fit; else a
    multiple of the number of workers. More blocks cost more messages per
    pass, not different numbers.

    >>> blocks_for_memory([1 << 30, 1 << 30], 30_000_000)  # 2 workers of 1 GiB, 3x10^7 flow edges
    8
    >>> blocks_for_memory([12 << 30, 12 << 30], 30_000_000) is None
    True
    >>> blocks_for_memory([0, 0], 10**9) is None  # no limits
    True
    """
    w = len(limits)
    if not w or not all(limits):
        return None
    budget = BLOCK_MEMORY_SHARE * min(limits)
    need = -(-int(BUILD_BYTES_PER_EDGE * flow_edges) // int(budget))
    default = B.BLOCKS_PER_WORKER * w
    if need <= default:
        return None
    return -(-need // w) * w


def attribute_dask(edges: EdgesInput, nodes: NodesInput | None, params: ModelParams, kinds: KindClasses, *, client: Any,
                   **options: Any) -> tuple[Prepared, Any]:
    """Run the model on the cluster of ``client``; return ``(prep, run)`` as the local engine's stages would.

    The options are :func:`attribute_dask_periods`'s, without ``period``.
    """
    prep, runs = attribute_dask_periods(edges, nodes, params, kinds, client=client, **options)
    return prep, runs[0][1]


def attribute_dask_periods(
    edges: EdgesInput, nodes: NodesInput | None, params: ModelParams, kinds: KindClasses, *, client: Any,
    method: str = "propagate", breakdown: bool = True, src_col: str | None = None, dst_col: str | None = None,
    half_life: str | float | None = None, as_of: Instant | None = None,
    n_blocks: int | None = None, partition_rows: int | None = None, log: StageLog | None = None,
    id_type: str | None = None, allow_empty: bool = False, self_loops: str = "drop", roles: str = "infer",
    period: str | None = None, context_col: str | None = None, unmatched: str = "pool", keep_graph: bool = False,
) -> tuple[Prepared, list[tuple[int | None, Any]]]:
    """Run the model on the cluster of ``client``: ``(prep, [(period start or None, run), ...])``.

    Without ``period``, one run of every edge; with it, one run per calendar
    period present (the first day, days since the epoch, ascending), each on
    that period's edges only, as the local engine's ``period``: the input is
    read, encoded and classified once, then each period's edges are picked
    out on the workers and its graph built and solved.

    ``prep`` holds the node index, roles and kinds (no edges); ``run`` the
    per-node vectors. ``id_type``, ``allow_empty``, ``self_loops`` and
    ``roles`` mean what they mean to :func:`graphlabor.attribute`;
    ``prep.role_counts`` holds the edge counts of the nodes with conflicting
    evidence (:func:`graphlabor.breakdowns.roles_report`). ``context_col``
    and ``unmatched`` too: with a context column, ``prep.pairs`` holds the
    pairs, ``run.pairs`` what they did (:mod:`.pairs`) and
    ``run.graph.context_pay`` the run's pay edges with a context (for the
    contexts table). With ``keep_graph``, ``run.graph.cluster`` keeps the
    solved row blocks and the revenue edges on the cluster for explanations
    (:class:`graphlabor.distributed.adjoint.ClusterGraph`).
    See :mod:`graphlabor.distributed.engine`.
    """
    from ..nodes import load_nodes

    log = log if log is not None else StageLog(verbose=False)
    workers = _workers(client)
    if not workers:
        try:
            client.wait_for_workers(1, timeout=60)
        except (TimeoutError, OSError):
            raise ParameterError("the Dask cluster has no workers (waited 60 s)") from None
        workers = _workers(client)
    from .placement import install

    install(client)  # tasks placed on workers that are all gone (restarted) run elsewhere, not never
    _on_workers(client, P.warm_worker)  # each worker loads the kernels the last run used while it reads
    flow_params = params if method == "propagate" else _replace(params, damping=0.0)

    need_time = half_life is not None or period is not None
    with log.stage("read edges"):
        forced = {"text": "str", "str": "str", "int": "int"}.get(id_type or "")
        sources = _sources(client, edges, kinds, src_col, dst_col, len(workers), partition_rows, id_type, need_time,
                           context_col)
        # consecutive partitions on the same worker: the pairwise reductions (_tree_reduce) then merge
        # neighbours where they are, and only the last levels move data between workers. Not with small
        # memory limits: a worker paused at 80% of its limit keeps the reads placed on it, and waits for ever
        smallest = min(memory_limits(client) or [0])
        pin = smallest == 0 or smallest >= PIN_READS_MEMORY
        parts = [
            client.submit(_read_partition, s, kinds, src_col, dst_col, need_time, forced, context_col, pure=False,
                          workers=[workers[i * len(workers) // len(sources)]] if pin else None,
                          allow_other_workers=pin)
            for i, s in enumerate(sources)
        ]
        headers = _gather_in_order(client, [client.submit(P.part_header, p, pure=True) for p in parts])
        # as one machine types ids across files: text if any partition with rows has text ids
        says = {h[2] for h in headers if h[1]}
        id_type = forced or ("str" if "str" in says else "int" if says else "str")
        if id_type == "str" and "int" in says:
            parts = [client.submit(P.as_text, p, pure=True) if h[2] == "int" and h[1] else p
                     for p, h in zip(parts, headers)]
        origins = [(h[0], h[1]) for h in headers]
        row_offsets = np.concatenate([[0], np.cumsum([h[1] for h in headers])]).astype(np.int64)
    nt = None
    if nodes is not None:
        with log.stage("read nodes"):
            nt = load_nodes(nodes, id_type if row_offsets[-1] else None)

    with log.stage("encode ids"):
        distinct = [client.submit(P.distinct_ids, p, pure=True) for p in parts]
        samples = [h[4] for h in headers]
        if nt is not None:
            node_ids = encode([nt.ids])[0].ids
            distinct.append(_in_graph(client, node_ids))  # in the task: rebuilt if lost
            samples.append(D.id_sample(node_ids, P.ID_SAMPLE))
        kind_names = sorted({k for h in headers for k in h[3]})
        if len(kind_names) > np.iinfo(np.uint16).max + 1:
            raise InputError(f"more than {np.iinfo(np.uint16).max + 1} distinct edge kinds are not supported")
        # the dictionary by key ranges (text ids) or a tree of merges (integers), and the partitions in global codes
        ids, gparts = D.globalized(client, parts, distinct, id_type, workers, samples, kind_names)
        n = len(ids)
        # the context dictionary: a pairwise reduction of the partitions' sorted distinct context ids
        ctx_future = ctx_values = None
        if any(h[5] for h in headers):
            ctx_future = _tree_reduce(client, P.merge_context_ids, [client.submit(P.context_ids, p, pure=True) for p in parts])
            ctx_values = ctx_future.result()
        if ctx_values is not None and not all(h[5] for h in headers):
            # as one machine reads files whose columns differ
            raise InputError("edge sources differ in their columns: ['context'] present in some sources only")
        if context_col not in (None, "context") and row_offsets[-1] and ctx_values is None:
            names = ", ".join(dict.fromkeys(o for o, _ in origins))
            raise InputError(f"{names}: no column {context_col!r} (given as --context-col)", param="context_col")
        if ctx_values is not None:
            gparts = [client.submit(P.globalize_contexts, p, ctx_future, pure=True) for p in gparts]
        node_codes = NodeIndex(ids).lookup(nt.ids).astype(np.uint32) if nt is not None else None
        del parts, distinct

    check_single_file(ids, len(kind_names) + 1 if breakdown else 0, nt.extra if nt is not None else None)
    with log.stage("classify edges"):
        class_of_kind, weight_of_kind = kind_table(kind_names, kinds, params.kind_weights)
        cparts = [client.submit(P.classify_part, p, class_of_kind, weight_of_kind, n, int(row_offsets[i]), self_loops,
                                pure=True) for i, p in enumerate(gparts)]
        del gparts
        evidence = _tree_reduce(client, P.or_flags, [client.submit(P.evidence, p, pure=True) for p in cparts]).result()
        counts = np.array(client.gather([client.submit(P.counts, p, pure=True) for p in cparts]), dtype=np.int64).reshape(-1, 3).sum(axis=0)
        n_loops = sum(client.gather([client.submit(P.self_loops, p, pure=True) for p in cparts]))
    with log.stage("infer roles"):
        declared = None if nt is None or nt.role is None else nt.role.to_pylist()
        role = assign_roles(evidence, node_codes, declared)
        declared_mask = None
        if declared is not None:
            assert node_codes is not None
            declared_mask = np.zeros(n, dtype=bool)
            declared_mask[node_codes[np.array([d is not None for d in declared], dtype=bool)]] = True
        if roles == "strict":
            check_strict(declared_mask, ids, n, nt.source if nt is not None else None)
        if declared is not None and nt is not None and ((role == ADVERTISER) & platform_evidence(evidence)).any():
            # the message names the edge: gather the (few) revenue and pay edges only
            money = combine(client.gather([client.submit(P.money_edges, p, pure=True) for p in cparts]))
            locate = EdgeTable(pa.table({}), id_type, origins).locate
            check_declared(role, evidence, ids, money.revenue, money.revenue_rows, money.pay, money.pay_rows,
                           locate, kind_names, nt.source, node_codes)
        flags = evidence
        del evidence
    if not allow_empty:
        from ..pipeline import refuse_empty

        positive = nt is not None and nt.value is not None or any(
            client.gather([client.submit(P.revenue_positive, p, pure=True) for p in cparts]))
        refuse_empty([name for name, _ in origins], int(row_offsets[-1]), int(counts[1]), positive, kind_names,
                     "kind" in columns_used(edges, src_col, dst_col, need_time), kinds)
    role_future = _in_graph(client, role)  # in the task, not scattered: rebuilt if its worker is lost
    if half_life is not None:
        with log.stage("time decay"):
            hl = half_life_seconds(half_life)
            ref = parse_instant(as_of) if as_of is not None else None
            if ref is None:
                ref = max((t for t in client.gather([client.submit(P.newest_seconds, p, pure=True) for p in cparts])
                           if t is not None), default=0)
            newest = _tree_reduce(client, np.maximum, [client.submit(P.newest_senders, p, role_future, pure=True) for p in cparts])
            cparts = [client.submit(P.decayed, p, role_future, hl, ref, newest, pure=True) for p in cparts]
            del newest
    bad = np.flatnonzero(conflicting(flags)).astype(np.uint32)
    report_counts = np.zeros((6, 0), np.int64)
    if bad.size:
        report_counts = _tree_reduce(client, np.add, [client.submit(P.role_counts, p, bad, pure=True) for p in cparts]).result()
    n_adv = 0
    if ((role == ADVERTISER) & ((flags & SENDS_CONTRIBUTION) != 0)).any():
        n_adv = sum(client.gather([client.submit(P.advertiser_contributions, p, role_future, pure=True) for p in cparts]))
    node_value = extra = None
    if nt is not None:
        with log.stage("align nodes"):
            assert node_codes is not None  # encoded with the nodes file's ids
            node_value, extra = align_nodes(node_codes, n, nt.value, nt.extra)
    pairs = pairs_future = None
    if ctx_values is not None:
        with log.stage("match contexts"):
            from ..contexts import build_pairs

            keys = _tree_reduce(client, CP.union_keys, [client.submit(CP.revenue_keys, p, role_future, pure=True)
                                                         for p in cparts]).result()
            pairs = build_pairs(ctx_values, (keys & 0xFFFFFFFF).astype(np.uint32), (keys >> 32).astype(np.int32),
                                role == K.PLATFORM, unmatched)
            pairs_future = _in_graph(client, pairs)
            cparts = [client.submit(CP.match_part, p, pairs_future, pure=True) for p in cparts]
    empty = EdgeArrays(np.empty(0, np.uint32), np.empty(0, np.uint32), np.empty(0, np.uint16), np.empty(0))
    prep = Prepared(NodeIndex(ids), empty, empty, empty, kind_names, class_of_kind, role, node_value, extra, origins,
                    evidence=flags, pairs=pairs, self_loops=int(n_loops), self_loop_mode=self_loops,
                    declared=declared_mask, role_counts=report_counts, advertiser_contributions=int(n_adv))
    model = _Model(client, workers, log, params, flow_params, method, breakdown, n_blocks, n, kind_names, role, role_future,
                   node_value, int(n_loops), self_loops, pairs, keep_graph)
    if period is None:
        todo = [cparts]  # handed over: the classified partitions are freed once the graph is built
        del cparts
        run = _run_model(model, todo, counts)
        _on_workers(client, P.save_worker_kernels)
        return prep, [(None, run)]
    with log.stage("split periods"):
        days = sorted(set().union(*client.gather([client.submit(_period_days, p, period, pure=True) for p in cparts])))
    runs: list[tuple[int | None, Any]] = []
    for day in days:
        if log.verbose:
            import sys

            print(f"graphlabor: period {np.datetime64(day, 'D')}", file=sys.stderr)
        sel = [client.submit(_in_period, p, period, day, pure=True) for p in cparts]
        day_counts = np.array(client.gather([client.submit(P.counts, p, pure=True) for p in sel]),
                              dtype=np.int64).reshape(-1, 3).sum(axis=0)
        todo = [sel]
        del sel
        runs.append((day, _run_model(model, todo, day_counts)))
    _on_workers(client, P.save_worker_kernels)
    return prep, runs


class _Model(NamedTuple):
    """What every run of the model (one per period) shares."""

    client: Any
    workers: list[str]
    log: StageLog
    params: ModelParams
    flow_params: ModelParams
    method: str
    breakdown: bool
    n_blocks: int | None
    n: int
    kind_names: list[str]
    role: np.ndarray
    role_future: Any
    node_value: np.ndarray | None
    n_loops: int
    self_loops: str
    pairs: Any = None  # the (platform, context) pairs (graphlabor.contexts.Pairs), with a context column
    keep_graph: bool = False  # leave the solved blocks and the revenue edges on the cluster (explain)


def _on_workers(client: Any, fn: Callable[[], None]) -> None:
    """``fn()`` on every worker, for speed only: a worker that cannot (closing, lost) is left alone."""
    try:
        client.run(fn, on_error="ignore")
    except Exception:
        pass


def _period_days(part: Any, period: str) -> set[int]:
    """The calendar periods (first days) of a classified partition's edges."""
    days: set[int] = set()
    for e in (part.contribution, part.revenue, part.pay):
        assert e.seconds is not None  # read with the timestamps
        days.update(np.unique(period_starts(e.seconds, period)).tolist())
    return days


def _in_period(part: Any, period: str, day: int) -> Any:
    """A classified partition's edges of one period (input order kept), as the local ``_period_rows``."""
    from dataclasses import replace

    rows = {}
    for name in ("contribution", "revenue", "pay"):
        e = getattr(part, name)
        assert e.seconds is not None
        rows[name] = np.flatnonzero(period_starts(e.seconds, period) == day)
    return replace(part, contribution=part.contribution.take(rows["contribution"]),
                   revenue=part.revenue.take(rows["revenue"]), pay=part.pay.take(rows["pay"]),
                   revenue_rows=part.revenue_rows[rows["revenue"]], pay_rows=part.pay_rows[rows["pay"]])


def _run_model(model: _Model, todo: list[list[Any]], counts: np.ndarray) -> Any:
    """Build the graph from the classified partitions, solve, gather the per-node vectors: a ``ModelRun``.

    ``todo`` holds the list of the classified partitions' futures, taken out
    of it here, so that once the graph is built no reference keeps the
    partitions in the workers' memory through the solve.
    """
    from ..methods import ModelRun

    cparts = todo.pop()
    (client, workers, log, params, flow_params, method, breakdown, n_blocks, n, kind_names, role, role_future,
     node_value, n_loops, self_loops, pairs, keep_graph) = model
    k = len(pairs) if pairs is not None else 0
    context_pay = None
    if pairs is not None:  # the run's pay edges with a context (gathered: the contexts table reads them)
        pay = client.gather([client.submit(CP.pay_with_context, p, pure=True) for p in cparts])
        pay_src = np.concatenate([a[0] for a in pay]) if pay else np.empty(0, np.uint32)
        context_pay = EdgeArrays(pay_src, np.zeros_like(pay_src), np.zeros(pay_src.shape[0], np.uint16),
                                 np.concatenate([a[2] for a in pay]) if pay else np.empty(0),
                                 context=np.concatenate([a[1] for a in pay]) if pay else np.empty(0, np.int32))
        del pay
    # extreme weights: divided by each sender's largest, as one machine does (graph.sender_scaled)
    top, low, low_positive = _tree_reduce(client, _range, [client.submit(P.weight_range, p, pure=True) for p in cparts]).result()
    if not np.isfinite(top) and top > 0:
        raise InputError(
            f"a contribution weight times its --kind-weight overflows ({top}): the largest number is about 1.8e308; "
            "divide the weights (only their ratios per sender matter)"
        )
    lo_w, hi_w = ORDINARY_WEIGHTS
    if low < lo_w and top <= hi_w:
        low = low_positive if np.isfinite(low_positive) else lo_w
    if counts[0] and not (lo_w <= low and top <= hi_w):
        biggest = _tree_reduce(client, np.maximum, [client.submit(P.sender_max, p, role_future, pure=True) for p in cparts])
        cparts = [client.submit(P.sender_scaled, p, role_future, biggest, pure=True) for p in cparts]
        del biggest
    loops = None
    if n_loops and self_loops == "keep" and method == "propagate":
        loops = [client.submit(P.loop_edges, p, role_future, pure=True) for p in cparts]

    with log.stage("build graph"):
        nk = len(kind_names)
        width = nk + 1 if breakdown and n * (nk + 1) <= K.MAX_NODES else 0
        # blocks of about equal numbers of flow entries (rows cut on chunk boundaries), one a worker, each
        # built in sub-blocks small enough to build in bounded memory
        collapsed = None
        if k:  # the pair stage changes the partitions' flow (drop_idle): flow edges by chunk of rows first
            hist = _tree_reduce(client, np.add, [client.submit(B.receiver_histogram, p, role_future, n, pure=True)
                                                 for p in cparts])
        else:  # each partition's flow collapsed once; its entries by chunk of rows place the blocks
            collapsed = [client.submit(B.collapsed_flow, p, role_future, width, pure=True) for p in cparts]
            hist = _tree_reduce(client, np.add, [client.submit(operator.getitem, c, 1, pure=True) for c in collapsed])
            collapsed = [client.submit(operator.getitem, c, 0, pure=True) for c in collapsed]
        if n_blocks is None:
            n_blocks = blocks_for_memory(memory_limits(client), int(counts[0]))
        bounds, sub_bounds = B.plan_blocks(n, len(workers), hist.result() if n else None, n_blocks)
        n_blocks = bounds.shape[0] - 1
        if k:
            ctx = _pair_stage(client, cparts, pairs, role, role_future, bounds, n_blocks, node_value, width, flow_params)
            cparts, ctx.cparts = ctx.cparts, []
        pieces = [client.submit(B.flow_pieces, p, role_future, bounds, width, method == "shapley", sub_bounds,
                                None if collapsed is None else collapsed[i], pure=True) for i, p in enumerate(cparts)]
        del collapsed
        revenue = None
        if keep_graph:  # what an explanation reads of the edges (graphlabor.distributed.adjoint)
            at = A.pair_nodes(n, k, pairs.platform, ctx.unmatched if pairs.unmatched == "pool" else None) if k else None
            revenue = [client.submit(A.revenue_edges, p, n, at, pure=True) for p in cparts]
        del cparts
        blocks = []
        for b in range(n_blocks):
            lo, hi = int(bounds[b]), int(bounds[b + 1])
            mine = [client.submit(operator.getitem, p, b, pure=True) for p in pieces]
            nv = None if node_value is None else node_value[lo:hi]
            blocks.append(client.submit(B.build_block, b, lo, hi, width, nv, *mine, pure=True,
                                        workers=[workers[b % len(workers)]], allow_other_workers=True))
        del pieces
        cols = [client.submit(B.column_pieces, f, bounds, pure=True) for f in blocks]
        weights = []
        for q in range(n_blocks):
            lo, hi = int(bounds[q]), int(bounds[q + 1])
            mine = [client.submit(operator.getitem, c, q, pure=True) for c in cols]
            weights.append(client.submit(B.weights_and_factors, q, lo, hi, role[lo:hi], flow_params, *mine, pure=True))
        need = [client.submit(B.needs, f, bounds, pure=True) for f in blocks]
        need_keys = client.gather([client.submit(sorted, nd, pure=True) for nd in need])
        finished = []
        for b in range(n_blocks):
            served = client.submit(_served, b, *[need[c] for c in range(n_blocks)], pure=True)
            factor_pieces = [client.submit(_take_factor, weights[q], need[b], q, pure=True) for q in need_keys[b]]
            finished.append(client.submit(B.finish_block, blocks[b], bounds, weights[b], served, *factor_pieces, pure=True,
                                          workers=[workers[b % len(workers)]], allow_other_workers=True))
        del blocks, cols, need
        info = client.gather([client.submit(_block_info, f, pure=True) for f in finished])
        nnz = sum(i[0] for i in info)
        n_flow = sum(i[1] for i in info)
        real_nnz = nnz
        solving = finished
        if k:
            # the blocks with their pair entries and the folded injection (what the solve runs on)
            solving = [client.submit(CP.with_pairs, f, pb, sr, ctx.s_pair_f, ctx.factor, pure=True,
                                     workers=[workers[b % len(workers)]], allow_other_workers=True)
                       for b, (f, pb, sr) in enumerate(zip(finished, ctx.blocks, ctx.s_real_f))]
            nnz += ctx.nnz
            n_flow += ctx.n_flow
        stats = [dict(block=b, rows=i[2], nnz=i[0], reads=i[3], serves=i[4],
                      bytes_in_per_iteration=8 * i[3], bytes_out_per_iteration=8 * i[4])
                 for b, i in enumerate(info)]
        need_keys = ExchangePlan(need_keys, [8 * i[4] for i in info])

    with log.stage("solve"):
        injected_own = [client.submit(_attr, f, "injected", pure=True) for f in finished]
        injected = np.concatenate(client.gather(injected_own)) if n else np.zeros(0)
        vecs = {
            name: np.concatenate(client.gather([client.submit(_attr, f, name, pure=True) for f in finished])) if n else np.zeros(0)
            for name in ("paid", "paid_out")
        }
        check_sums(injected, vecs["paid"], vecs["paid_out"])  # money that adds up past float64, as on one machine
        total = float(injected.sum())
        if k:
            injected_full = np.concatenate([ctx.s_real, ctx.s_pair])
            total = float(injected_full.sum())  # as the local solve: over the real nodes and the pairs
            injected_own = [client.submit(_attr, f, "injected", pure=True) for f in solving]  # folded
        x0 = BlockVectors(client, solving, injected_own)
        if total == 0.0 or nnz == 0 or real_nnz == 0:
            state, n_iter, rel = x0, 0, 0.0
        else:
            tol = flow_params.tol * total
            if flow_params.solver == "jacobi":
                state, n_iter, residual, ok = power_iteration(client, solving, need_keys, x0, tol, flow_params.max_iter)
            else:
                state, n_iter, residual, ok = bicgstab(client, solving, need_keys, tol, flow_params.max_iter)
            rel = residual / total
            if not ok:
                raise ConvergenceError(n_iter, rel, flow_params.tol)
        if nnz:
            res = exchange(client, solving, need_keys, state, B.step)  # with pairs: on the folded injection
            held_f = [client.submit(operator.getitem, r, 0, pure=True) for r in res]
        else:
            held_f = ctx.s_real_f if k else injected_own
        via_f = None
        if width:
            ys = [client.submit(B.scaled, f, x, pure=True) for f, x in zip(solving, state.own)]
            yv = BlockVectors(client, solving, [client.submit(operator.getitem, y, 0, pure=True) for y in ys],
                              [client.submit(operator.getitem, y, 1, pure=True) for y in ys])
            via_f = exchange(client, solving, need_keys, yv, CP.pair_via if k else B.via)
        kept_f = None
        if method == "shapley":
            # the one-hop run's kept value split over engagement edges (methods._shapley), by blocks
            block_roles = [role[int(bounds[b]):int(bounds[b + 1])] for b in range(n_blocks)]
            sh = [client.submit(B.shapley_edges, f, h, r, params.damping, bounds, pure=True)
                  for f, h, r in zip(finished, held_f, block_roles)]
            outs = [client.submit(operator.getitem, x, "out", pure=True) for x in sh]
            fin = []
            for b in range(n_blocks):
                incoming = [client.submit(_get2, o, b, pure=True) for o in outs]
                fin.append(client.submit(B.shapley_finish, finished[b], held_f[b], None if via_f is None else via_f[b],
                                         block_roles[b], params.damping, nk, sh[b], *incoming, pure=True))
            kept_f = [client.submit(operator.getitem, x, 0, pure=True) for x in fin]
            if via_f is not None:
                via_f = [client.submit(operator.getitem, x, 1, pure=True) for x in fin]

    with log.stage("gather results"):
        held = np.concatenate(client.gather(held_f)) if n else np.zeros(0)
        x_state = np.concatenate(client.gather([client.submit(B.own_values, x, pure=True) for x in state.own])) if n else np.zeros(0)
        keep = np.concatenate(client.gather([client.submit(_attr, f, "keep", pure=True) for f in finished])) if n else np.zeros(0)
        vecs.update({
            name: np.concatenate(client.gather([client.submit(_attr, f, name, pure=True) for f in finished])) if n else np.zeros(0)
            for name in ("revenue_in", "out_weight")
        })
        via_arr = None
        if via_f is not None:
            via_arr = np.concatenate(client.gather(via_f)) if n else np.zeros((0, width))
        elif breakdown:
            raise ParameterError("--engine dask: too many (node, kind) pairs for the breakdown by kind; use --no-breakdown")
        contributors = _tree_reduce(client, np.add, [client.submit(B.contributors, f, n, pure=True) for f in finished]).result()
        if k and nnz:
            # a platform passes value through its pool and its pairs: its distinct users over both
            plat = np.flatnonzero(role == K.PLATFORM)
            platform_f = _in_graph(client, np.ascontiguousarray(pairs.platform, dtype=np.uint32))
            oc = [client.submit(CP.owner_counts, f, n, platform_f, pure=True) for f in solving]
            pool = _tree_reduce(client, np.add, [client.submit(operator.getitem, c, 0, pure=True) for c in oc]).result()
            via_pairs = _tree_reduce(client, np.add, [client.submit(operator.getitem, c, 1, pure=True) for c in oc]).result()
            contributors = contributors.copy()
            # a pair's entry is also one of its platform's pool unless the pool is idle (no entries)
            contributors[plat] = np.maximum(pool, via_pairs)[plat]
        cluster = A.ClusterGraph(solving, revenue, bounds, n, k, workers) if revenue is not None else None
        del finished, solving
        kept = keep * held if kept_f is None else (np.concatenate(client.gather(kept_f)) if n else np.zeros(0))
        loop_value = 0.0
        if loops is not None:
            got = client.gather(loops)
            u = np.concatenate([g[0] for g in got])
            if u.shape[0]:
                w = np.concatenate([g[1] for g in got])
                ku = keep[u]
                # methods._self_loop_value, in the same order
                loop_value = float(np.sum(ku * (1.0 - ku) * w / vecs["out_weight"][u] * x_state[u]))

    pair_run = None
    out_weight = vecs["out_weight"]
    if k:
        from ..methods import PairRun, _by_platform, _fold

        # as run_model: the pairs hold their injection; what they keep and hold is credited to their platform
        held_full = np.concatenate([held, ctx.s_pair])
        kept_full = np.concatenate([keep, ctx.keep]) * held_full
        pair_run = PairRun(injected_full, held_full, kept_full, ctx.revenue, ctx.unmatched, np.empty(0, np.int64),
                           ctx.contributors, None)  # (no platform: the platforms' contributors are counted above)
        folded = _fold(kept_full, n, pairs.platform)
        # shapley (methods._shapley) changes the users' rows only, which the pairs' credit leaves alone
        kept = folded if kept_f is None else np.where(role == K.USER, kept, folded)
        held = _fold(held_full, n, pairs.platform)
        if via_arr is not None:
            via_arr[:, nk] += _by_platform(pairs.platform, ctx.s_pair * ctx.keep, n)
        x_state = np.concatenate([x_state, ctx.s_pair])
        keep = np.concatenate([keep, ctx.keep])
        out_weight = np.concatenate([out_weight, ctx.out_weight])
    # stands in for the FlowGraph (what the result tables read; the arrays stay on the workers)
    graph: Any = _GraphSummary(n + k, nnz, n_flow, keep, out_weight, contributors)
    graph.context_pay = context_pay
    graph.cluster = cluster  # the blocks left on the cluster (keep_graph), or None
    graph.row_bounds = [int(v) for v in bounds]
    graph.block_stats = stats  # the exchange plan, per block (what one iteration moves)
    graph.block_workers = [workers[b % len(workers)] for b in range(n_blocks)]  # where each block's output file is written
    run = ModelRun(kept, held, injected, vecs["paid"], vecs["paid_out"], vecs["revenue_in"], via_arr, graph, n_iter, rel,
                   None, params, (int(counts[0]), int(counts[1]), int(counts[2])), x_state, pair_run, loop_value)
    return run


class _PairStage:
    """What the pair stage computed (:func:`_pair_stage`): per-pair vectors on the client, per-block futures."""

    cparts: list[Any]
    blocks: list[Any]
    s_real_f: list[Any]
    s_real: np.ndarray
    s_pair: np.ndarray
    revenue: np.ndarray
    unmatched: np.ndarray
    out_weight: np.ndarray
    keep: np.ndarray
    factor: Any
    s_pair_f: Any
    contributors: np.ndarray
    nnz: int
    n_flow: int


def _pair_stage(client: Any, cparts: list[Any], pairs: Any, role: np.ndarray, role_future: Any, bounds: np.ndarray,
                n_blocks: int, node_value: np.ndarray | None, width: int, flow_params: ModelParams) -> _PairStage:
    """Injections at pairs and real nodes, the pairs' entries by block, their out-weights (``methods.run_model``'s order)."""
    from ..graph import pass_fractions

    n, k = role.shape[0], len(pairs)
    st = _PairStage()
    weight = _tree_reduce(client, np.add, [client.submit(CP.matched_weight, p, role_future, k, pure=True) for p in cparts])
    st.revenue = client.submit(CP.pair_revenue, k, *[client.submit(CP.revenue_by_pair, p, pure=True) for p in cparts],
                               pure=True).result()
    # a pair no contribution can pass to is unmatched: by default its revenue joins the platform's pool
    st.unmatched = (weight.result() == 0) & (st.revenue > 0)
    s_pair = st.revenue.copy()
    moved = None
    if pairs.unmatched == "pool" and st.unmatched.any():
        q = np.flatnonzero(st.unmatched)
        gone = s_pair[q]
        s_pair[q] = 0.0
        moved = K.group_sum(pairs.platform[q], gone, n)
    st.s_pair = s_pair
    pool = [client.submit(CP.pool_pieces, p, bounds, pure=True) for p in cparts]
    st.s_real_f = []
    for b in range(n_blocks):
        lo, hi = int(bounds[b]), int(bounds[b + 1])
        mine = [client.submit(operator.getitem, p, b, pure=True) for p in pool]
        st.s_real_f.append(client.submit(CP.real_injection, lo, hi, None if node_value is None else node_value[lo:hi],
                                         None if moved is None else moved[lo:hi], *mine, pure=True))
    st.s_real = np.concatenate(client.gather(st.s_real_f)) if n else np.zeros(0)
    flow = [client.submit(CP.pair_flow, p, role_future, bounds, bool(width), pure=True) for p in cparts]
    # a platform whose pool receives nothing passes nothing: leave its pool's flow edges out
    idle = (role == K.PLATFORM) & (st.s_real == 0)
    st.cparts = [client.submit(CP.drop_idle, p, role_future, idle, pure=True) for p in cparts] if idle.any() else cparts
    st.blocks = []
    for b in range(n_blocks):
        lo, hi = int(bounds[b]), int(bounds[b + 1])
        mine = [client.submit(operator.getitem, f, b, pure=True) for f in flow]
        st.blocks.append(client.submit(CP.pair_block, lo, hi, k, width, *mine, pure=True))
    entries = [client.submit(CP.pair_entries_of, pb, pure=True) for pb in st.blocks]
    st.out_weight = client.submit(CP.pair_out_weight, k, *entries, pure=True).result()
    del entries
    st.contributors = _tree_reduce(client, np.add, [client.submit(CP.pair_contributors, pb, pure=True)
                                                     for pb in st.blocks]).result()
    sizes = client.gather([client.submit(_pair_sizes, pb, pure=True) for pb in st.blocks])
    st.nnz = sum(a for a, _ in sizes)
    st.n_flow = sum(b for _, b in sizes)
    passed = pass_fractions(np.full(k, K.PLATFORM, dtype=role.dtype), st.out_weight, flow_params)
    st.keep = 1.0 - passed
    factor = np.divide(passed, st.out_weight, out=np.zeros(k), where=st.out_weight > 0)  # as build_flow_graph
    st.factor = _in_graph(client, factor)
    st.s_pair_f = _in_graph(client, s_pair)
    return st


def _pair_sizes(pc: CP.PairPart) -> tuple[int, int]:
    return int(pc.entries.user.shape[0]), pc.n_flow


class _GraphSummary:
    """What the result tables read of the flow graph (its arrays stay on the workers)."""

    def __init__(self, n: int, nnz: int, n_flow: int, keep: np.ndarray, out_weight: np.ndarray,
                 contributors: np.ndarray) -> None:
        self.n = n
        self._nnz = nnz
        self.n_flow_edges = n_flow
        self.keep = keep
        self.out_weight = out_weight
        self.contributors = contributors
        self.row_bounds: list[int] | None = None
        self.block_stats: list[Any] = []
        self.block_workers: list[str] = []
        self.context_pay: EdgeArrays | None = None  # the run's pay edges with a context
        self.cluster: A.ClusterGraph | None = None  # the blocks left on the cluster for explain

    @property
    def nnz(self) -> int:
        return self._nnz

    def entries_per_sender(self) -> np.ndarray:
        return self.contributors


def _replace(params: ModelParams, **kw: Any) -> ModelParams:
    from dataclasses import replace

    return replace(params, **kw)


def _served(b: int, *needs: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Rows of block ``b`` each other block reads (from every block's needs)."""
    return {c: nd[b] for c, nd in enumerate(needs) if b in nd}


def _take_factor(weights: tuple[np.ndarray, np.ndarray, np.ndarray], need: dict[int, np.ndarray], q: int) -> np.ndarray:
    factor: np.ndarray = weights[2][need[q]]
    return factor


def _block_info(block: B.Block) -> tuple[int, int, int, int, int]:
    """nnz, flow edges, and the exchange plan's sizes: rows, senders read from other blocks, values served."""
    return block.nnz, block.n_flow, block.rows, int(block.senders.shape[0]), int(sum(len(r) for r in block.serve.values()))


def _get2(d: dict[int, Any], b: int) -> Any:
    return d[b]


def _range(a: tuple[float, float, float], b: tuple[float, float, float]) -> tuple[float, float, float]:
    return max(a[0], b[0]), min(a[1], b[1]), min(a[2], b[2])


def _identity(x: Any) -> Any:
    return x


def _in_graph(client: Any, value: Any) -> Any:
    """A future holding ``value``, carried inside the task graph rather than scattered.

    A scattered value lives only on the worker that received it; a task that
    returns it can be re-run on another worker if that one is lost, which the
    fault-tolerance test relies on. The price is a large graph for large values
    (the pair table with 10^6 contexts is tens of MiB), which is deliberate here,
    so distributed's "Sending large graph" warning is raised to 4 GiB for these
    submissions only.

    Examples
    --------
    >>> from distributed import Client  # doctest: +SKIP
    >>> _in_graph(Client(), np.arange(3)).result()  # doctest: +SKIP
    array([0, 1, 2])
    """
    import dask

    with dask.config.set({"distributed.admin.large-graph-warning-threshold": "4GiB"}):
        return client.submit(_identity, value, pure=True)


def _attr(block: B.Block, name: str) -> Any:
    return getattr(block, name)
