"""Writing the economy: :func:`generate` (Parquet files, bounded memory) and :func:`generate_tables` (in memory)."""

from __future__ import annotations

import datetime as _dt
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import ParameterError
from .calibration import FAMILIES, K, KINDS
from .plan import Plan
from .tables import NODE_WRITE_OPTIONS, Tables, check_ids, node_schema, write_options


def default_nodes_path(out: str | os.PathLike[str]) -> str:
    """Nodes file next to the edges file: ``_nodes`` inserted before the extension.

    >>> default_nodes_path("data/economy.parquet")
    'data/economy_nodes.parquet'
    >>> default_nodes_path("economy")
    'economy_nodes'
    """
    root, ext = os.path.splitext(os.fspath(out))
    return f"{root}_nodes{ext}"


@dataclass(frozen=True)
class GenerateInfo:
    """What :func:`generate` wrote.

    Attributes
    ----------
    edges, nodes, users, platforms, payers : int
        Rows and nodes written (payers: advertisers and clients).
    families : str
        Comma-separated families generated.
    ids : {"str", "int"}
    seed : int
    edges_path, nodes_path : str
    revenue, pay : float
        Total amount on revenue edges and on pay edges (rounded to cents).
    row_groups : int
        Row groups of the edges file.
    seconds : float
        Wall clock.
    edges_per_second : int or None
    cpu_seconds : float
        Process CPU time, all threads.
    edges_per_cpu_second : int or None
    kinds : dict of str to int
        Edges per kind.
    """

    edges: int
    nodes: int
    users: int
    platforms: int
    payers: int
    families: str
    ids: str
    seed: int
    edges_path: str
    nodes_path: str
    revenue: float
    pay: float
    row_groups: int
    seconds: float
    edges_per_second: int | None
    cpu_seconds: float
    edges_per_cpu_second: int | None
    kinds: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """The fields as a dict (for JSON)."""
        return asdict(self)


def generate(
    edges_path: str | os.PathLike[str],
    nodes_path: str | os.PathLike[str] | None = None,
    *,
    edges: int = 1_000_000,
    users: int | None = None,
    seed: int = 0,
    families: Sequence[str] | str = FAMILIES,
    ids: str = "str",
    start: str | _dt.date = "2024-01-01",
    span_days: float = 365,
    row_group_size: int = 1_000_000,
    progress: Callable[[int, int], None] | None = None,
    contexts: bool = True,
) -> GenerateInfo:
    """Write a synthetic platform economy: an edges file and a nodes file (Parquet).

    Parameters
    ----------
    edges_path : path
        The edges file to write (Parquet, whatever its extension). Columns
        ``src``, ``dst`` (string ids ``a0042`` for payers, ``p01`` for
        platforms, ``u000123`` for users, or int64 with ``ids="int"``),
        ``kind`` (string), ``weight`` (float64, 1.0), ``amount`` (float64 on
        ``spend``, ``fee`` and ``pay`` edges, null on contribution edges) and
        ``timestamp`` (timestamp[s, tz=UTC]) and, unless ``contexts=False``,
        ``context`` (int64, null for none: the campaign of a spend edge and of
        a member's view or click of the platform, the task batch of a fee, a
        task and its pay, the ride of a fare, a ride, its rating and its pay;
        docs/generator.md). Written atomically: a temporary file renamed into
        place when complete.
    nodes_path : path, optional
        The nodes file to write; by default ``edges_path`` with ``_nodes``
        inserted before the extension (:func:`default_nodes_path`). Columns
        ``id``, ``role`` (``user``, ``platform``, ``advertiser``), ``type``
        (``member``, ``worker``, ``driver``, ``advertiser``, ``client``,
        ``rider``, ``platform``), ``family`` (the family of the platform the
        node works for, pays or is; never null), ``country`` (ISO code) and
        ``hours`` (users' time spent: logged-in hours for drivers, working
        hours including unpaid time for workers; null for other nodes).
    edges : int
        Exact number of edge rows. Any size: edges are produced and written
        block by block, so 10^9 edges need no more memory than 10^7 (only the
        per-node plan grows, about 70 bytes per node).
    users : int, optional
        Number of users (members, workers and drivers together; payers and
        platforms come on top). By default the members and workers that give
        user activity its calibrated median of 99 contribution edges (about
        ``edges / 253`` with all families), plus the drivers whose rides make
        their calibrated rides per week over ``span_days`` (the on-demand
        family's sixth of the edges, four edges a ride, 36 rides a week for
        the mean driver: docs/generator.md); with more edges per member or
        worker than that, their activity (and the 5,000 cap) scales up in
        proportion. Given users, the drivers keep their calibrated number
        (at most the users less one per other family) and the rest are
        members and workers; with the on-demand family alone, all users are
        drivers.
    seed : int
        Random seed (>= 0). The same parameters and seed give the same files,
        value for value, whatever ``row_group_size``.
    families : sequence of str or comma-separated str
        Which of ``social``, ``microwork``, ``ondemand`` to generate. The
        edges are split about 2/3, 1/6 and 1/6 among them (renormalised over those
        chosen), and members and workers 8 to 1.
    ids : {"str", "int"}
        String ids (readable, the common case in real exports) or int64 ids
        (payers first, then platforms, then users: the same order as the
        string ids sort in).
    start : str or date
        First day of the timestamps, ISO format (``YYYY-MM-DD``, UTC unless a
        zone is given).
    span_days : float
        Timestamps are uniform over ``[start, start + span_days)``, in whole
        seconds. Ad revenue scales with it (monthly revenue per user times the
        number of months).
    row_group_size : int
        Rows per Parquet row group (the last one may be shorter). Memory holds
        about two row groups (one being filled, one being encoded by the
        background writer) plus one block of ``BLOCK`` rows and the plan.
    progress : callable, optional
        Called as ``progress(edges_written, edges_total)`` after each block.
    contexts : bool, default True
        Write the ``context`` column; ``False`` leaves it out (no other
        column depends on it: the files without it are the same otherwise).

    Returns
    -------
    GenerateInfo
        What was written: sizes, paths, money totals, edges per kind and
        the time it took.

    Raises
    ------
    ParameterError
        A parameter out of range, or too few edges for the users.
    OutputError
        A file cannot be written.

    Notes
    -----
    Money flows: advertisers' ``spend``, clients' ``fee`` and riders' ``fee``
    are revenue under graphlabor's default ``--revenue-kinds spend,fee``;
    ``pay`` is the default pay kind. So ``graphlabor attribute OUT --nodes
    NODES`` needs no option.
    """
    import pyarrow.parquet as pq

    from ..output import atomic_path

    t0 = time.perf_counter()
    c0 = time.process_time()
    ids = check_ids(ids)
    if isinstance(row_group_size, bool) or not isinstance(row_group_size, (int, np.integer)) or row_group_size < 1:
        raise ParameterError(f"row_group_size must be a whole number >= 1, got {row_group_size!r}")
    edges_path = os.fspath(edges_path)
    nodes_path = os.fspath(nodes_path) if nodes_path is not None else default_nodes_path(edges_path)
    if os.path.abspath(edges_path) == os.path.abspath(nodes_path):
        raise ParameterError(f"the edges and nodes files are the same path: {edges_path}")
    plan = Plan(edges, users, seed, families, start, span_days)
    tabs = Tables(plan, ids, for_file=True, contexts=bool(contexts))
    kinds = np.zeros(len(KINDS), np.int64)
    money = np.zeros(len(KINDS))
    row_groups = 0
    opts = write_options(ids)
    with atomic_path(edges_path) as tmp, pq.ParquetWriter(tmp, tabs.schema, **opts) as w, \
            ThreadPoolExecutor(1, thread_name_prefix="graphlabor-write") as pool:
        # Parquet encoding runs in one background thread (it releases the GIL)
        # while the next block is generated; at most one write is in flight.
        def write(table: pa.Table) -> int:
            for off in range(0, table.num_rows, row_group_size):
                w.write_table(table.slice(off, row_group_size), row_group_size=row_group_size)
            return int(-(-table.num_rows // row_group_size))

        inflight = None
        pending: list[pa.Table] = []
        n_pending = done = 0
        for b in range(plan.n_blocks):
            table, kind, amount = tabs.edges(b)
            kinds += np.bincount(kind, minlength=len(KINDS))
            money += np.bincount(kind, weights=amount, minlength=len(KINDS))
            pending.append(table)
            n_pending += table.num_rows
            last = b == plan.n_blocks - 1
            if n_pending >= row_group_size or last:
                whole = pa.concat_tables(pending)
                k = n_pending if last else (n_pending // row_group_size) * row_group_size
                pending = [whole.slice(k)] if k < n_pending else []
                n_pending -= k
                if inflight is not None:
                    row_groups += inflight.result()
                inflight = pool.submit(write, whole.slice(0, k))
            done += table.num_rows
            if progress is not None:
                progress(done, plan.n_edges)
        if inflight is not None:
            row_groups += inflight.result()
    with atomic_path(nodes_path) as tmp:
        with pq.ParquetWriter(tmp, node_schema(ids), **NODE_WRITE_OPTIONS) as w:
            step = max(1, min(row_group_size, 1 << 20))
            for lo in range(0, plan.n_nodes, step):
                w.write_table(tabs.nodes(lo, min(plan.n_nodes, lo + step)), row_group_size=step)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return GenerateInfo(
        edges=plan.n_edges,
        nodes=plan.n_nodes,
        users=plan.n_users,
        platforms=plan.n_platforms,
        payers=plan.n_payers,
        families=",".join(plan.families),
        ids=ids,
        seed=plan.seed,
        edges_path=edges_path,
        nodes_path=nodes_path,
        revenue=round(float(money[K["spend"]] + money[K["fee"]]), 2),
        pay=round(float(money[K["pay"]]), 2),
        row_groups=row_groups,
        seconds=round(seconds, 3),
        edges_per_second=round(plan.n_edges / seconds) if seconds > 0 else None,
        cpu_seconds=round(cpu, 3),
        edges_per_cpu_second=round(plan.n_edges / cpu) if cpu > 0 else None,
        kinds={k: int(c) for k, c in zip(KINDS, kinds) if c},
    )


def generate_tables(
    *,
    edges: int = 10_000,
    users: int | None = None,
    seed: int = 0,
    families: Sequence[str] | str = FAMILIES,
    ids: str = "str",
    start: str | _dt.date = "2024-01-01",
    span_days: float = 365,
    contexts: bool = True,
) -> tuple[pa.Table, pa.Table]:
    """The same economy as :func:`generate`, as in-memory ``(edges, nodes)`` tables.

    Row for row what :func:`generate` writes with the same parameters; meant
    for tests and small examples (everything is held in memory).

    >>> e, n = generate_tables(edges=1000, seed=3)
    >>> e.num_rows, set(n.column("role").to_pylist()) == {"user", "platform", "advertiser"}
    (1000, True)
    """
    ids = check_ids(ids)
    plan = Plan(edges, users, seed, families, start, span_days)
    tabs = Tables(plan, ids, contexts=bool(contexts))
    blocks = [tabs.edges(b)[0] for b in range(plan.n_blocks)]
    return pa.concat_tables(blocks).combine_chunks(), tabs.nodes(0, plan.n_nodes)
