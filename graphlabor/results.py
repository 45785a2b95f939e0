"""Kernel output + node index -> result tables with the original ids."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from . import columns as C
from .errors import ConservationError
from .codes import ADVERTISER, PLATFORM, ROLE_NAMES, USER

if TYPE_CHECKING:
    import pandas as pd

    from .explain import Explanation
    from .redistribute import Redistribution

#: Relative tolerance of the money balance checked before anything is written.
BALANCE_RTOL = 1e-9


@dataclass(frozen=True)
class Summary:
    """Totals of one attribution.

    ``total_injected = attributed_users + kept_platforms + kept_elsewhere``
    holds to :data:`BALANCE_RTOL` (relative); ``conservation_error`` is the
    relative gap.
    """

    nodes: int
    users: int
    platforms: int
    advertisers: int
    edges: int
    contribution_edges: int
    revenue_edges: int
    pay_edges: int
    flow_edges: int
    total_injected: float
    attributed_users: float
    kept_platforms: float
    kept_elsewhere: float
    paid: float
    unpaid: float
    iterations: int
    residual: float
    conservation_error: float
    params: dict[str, Any] = field(default_factory=dict)
    period: str | None = None
    below_min_wage: int | None = None
    columns: dict[str, str] = field(default_factory=dict)
    conflicting_roles: int = 0
    advertiser_contributions: int = 0
    self_loops: int = 0
    self_loop_mode: str = "drop"
    self_loop_value: float = 0.0
    kept_without_activity: float = 0.0
    contexts: int | None = None
    context_pairs: int | None = None
    unmatched_contexts: int | None = None
    unmatched_revenue: float | None = None
    unmatched_mode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def format(self) -> str:
        """Human-readable multi-line summary."""
        t = self.total_injected

        def pct(v: float) -> str:
            return f"  ({100 * v / t:5.1f}%)" if t > 0 else ""

        lines = [
            f"nodes              {self.nodes:>16,}   users {self.users:,}, platforms {self.platforms:,}, advertisers {self.advertisers:,}",
            f"edges              {self.edges:>16,}   contribution {self.contribution_edges:,} ({self.flow_edges:,} carry value), revenue {self.revenue_edges:,}, pay {self.pay_edges:,}",
            f"total injected     {t:>16,.2f}",
            f"attributed, users  {self.attributed_users:>16,.2f}{pct(self.attributed_users)}",
            f"kept by platforms  {self.kept_platforms:>16,.2f}{pct(self.kept_platforms)}",
            f"kept elsewhere     {self.kept_elsewhere:>16,.2f}{pct(self.kept_elsewhere)}",
            f"paid to users      {self.paid:>16,.2f}",
            f"unpaid (users)     {self.unpaid:>16,.2f}",
            f"iterations         {self.iterations:>16,}   residual {self.residual:.2e} (relative)",
            f"conservation error {self.conservation_error:>16.2e}   (|injected - attributed| / injected)",
        ]
        if self.columns:
            used = " ".join(f"{k}={v}" for k, v in self.columns.items())
            missing = [k for k in ("kind", "weight", "amount") if k not in self.columns]
            lines.append(f"columns read       {used}" + (f"   (none for {', '.join(missing)})" if missing else ""))
        lines.insert(1, f"roles              {self.conflicting_roles:>16,}   nodes with conflicting evidence"
                        + (f"; {self.advertiser_contributions:,} contribution edges from advertisers carry no value"
                           if self.advertiser_contributions else ""))
        if self.self_loops:
            what = (f"kept; {self.self_loop_value:,.2f} of attributed value arrived through them" if self.self_loop_mode == "keep"
                    else "dropped (--self-loops keep counts them)")
            lines.append(f"self-loops         {self.self_loops:>16,}   {what}")
        if self.kept_without_activity:
            lines.append(f"kept, no activity  {self.kept_without_activity:>16,.2f}{pct(self.kept_without_activity)}"
                         "   revenue of platforms with no activity to pass it to")
        if self.contexts is not None:
            where_ = "went to the platforms' pools" if self.unmatched_mode == "pool" else "kept by the platforms"
            lines.append(f"contexts           {self.contexts:>16,}   {self.context_pairs:,} (platform, context) pairs with revenue")
            unmatched = self.unmatched_revenue or 0.0
            lines.append(f"unmatched revenue  {unmatched:>16,.2f}{pct(unmatched)}"
                         f"   on {self.unmatched_contexts:,} pairs no contribution matches ({where_})")
        if self.below_min_wage is not None:
            lines.append(f"below minimum wage {self.below_min_wage:>16,}   users whose value per hour reaches it while their pay does not")
        if self.period is not None:
            lines.insert(0, f"period             {self.period:>16}")
        if self.edges == 0 and self.nodes == 0:
            lines.insert(0, "empty input: no edges and no nodes")
        elif t == 0:
            lines.insert(0, "no value injected: no revenue edges and no node values, so nothing is attributed")
        return "\n".join(lines)


def summarize(role: np.ndarray, run: Any, total: float, by_role: dict[str, float], gap: float,
              params: dict[str, Any]) -> Summary:
    """The :class:`Summary` of one model run.

    Parameters
    ----------
    role : ndarray of int8, shape (n,)
    run : graphlabor.methods.ModelRun
    total : float
        Value injected.
    by_role : dict
        :func:`role_totals` of the run.
    gap : float
        :func:`check_balance`'s relative gap.
    params : dict
        The parameters to report (method, damping, ...).
    """
    n_contribution, n_revenue, n_pay = run.counts
    users = role == USER
    return Summary(
        nodes=int(role.shape[0]),
        users=int(users.sum()),
        platforms=int((role == PLATFORM).sum()),
        advertisers=int((role == ADVERTISER).sum()),
        edges=n_contribution + n_revenue + n_pay,
        contribution_edges=n_contribution,
        revenue_edges=n_revenue,
        pay_edges=n_pay,
        flow_edges=run.graph.n_flow_edges,
        total_injected=total,
        attributed_users=by_role["users"],
        kept_platforms=by_role["platforms"],
        kept_elsewhere=by_role["elsewhere"],
        paid=float(run.paid[users].sum()),
        unpaid=float((run.kept - run.paid)[users].sum()),
        iterations=run.n_iter,
        residual=run.residual,
        conservation_error=gap,
        params=params,
    )


def for_period(summary: Summary, start: int) -> Summary:
    """The summary labelled with its period's first day (epoch days).

    >>> for_period(Summary(*[0] * 18), 31).period
    '1970-02-01'
    """
    return replace(summary, period=str(np.datetime64(start, "D")))


def combine_summaries(summaries: list[Summary], period: str | None) -> Summary:
    """Totals over periods (each period conserves money on its own)."""
    first = summaries[0]

    def add(f: str) -> Any:
        return sum(getattr(s, f) for s in summaries)

    total = add("total_injected")
    attributed = add("attributed_users") + add("kept_platforms") + add("kept_elsewhere")
    return replace(
        first,
        edges=add("edges"), contribution_edges=add("contribution_edges"), revenue_edges=add("revenue_edges"),
        pay_edges=add("pay_edges"), flow_edges=add("flow_edges"), total_injected=total,
        attributed_users=add("attributed_users"), kept_platforms=add("kept_platforms"),
        kept_elsewhere=add("kept_elsewhere"), paid=add("paid"), unpaid=add("unpaid"),
        iterations=max(s.iterations for s in summaries), residual=max(s.residual for s in summaries),
        conservation_error=abs(total - attributed) / total if total > 0 else 0.0,
        period=f"{len(summaries)} {period}s",
        advertiser_contributions=add("advertiser_contributions"), self_loop_value=add("self_loop_value"),
        kept_without_activity=add("kept_without_activity"),
        **({} if first.contexts is None else dict(
            context_pairs=add("context_pairs"), unmatched_contexts=add("unmatched_contexts"),
            unmatched_revenue=add("unmatched_revenue"))),
    )


@dataclass(frozen=True)
class RunContext:
    """What a result keeps of its run, so that one node's value can be explained later.

    Attributes
    ----------
    prepared : graphlabor.prepare.Prepared
        The encoded edges and nodes the model ran on.
    run : graphlabor.methods.ModelRun
        The model's output (flow graph, attributed values, breakdown by kind).
    method : str
    """

    prepared: Any
    run: Any
    method: str


def user_ranks(role: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Rank of each user by attributed value (1 = largest; ties by id order), -1 for others.

    >>> import numpy as np
    >>> user_ranks(np.array([0, 1, 0, 0], np.int8), np.array([1.0, 9.0, 3.0, 1.0])).tolist()
    [2, -1, 1, 3]
    """
    users = np.flatnonzero(role == USER)
    order = users[np.lexsort((users, -kept[users]))]
    ranks = np.full(role.shape[0], -1, dtype=np.int64)
    ranks[order] = np.arange(1, order.size + 1)
    return ranks


def node_table(ids: pa.Array, role: np.ndarray, kept: np.ndarray, paid: np.ndarray, total: float, extra: pa.Table | None) -> pa.Table:
    """The per-node output table, rows in ascending id order."""
    ranks = user_ranks(role, kept)
    share = kept / total if total > 0 else np.full_like(kept, np.nan)  # no total to be a share of
    cols = {
        C.NODE: ids,
        C.ROLE: pa.DictionaryArray.from_arrays(pa.array(role.astype(np.int32)), pa.array(ROLE_NAMES)).cast(pa.string()),
        C.ATTRIBUTED: pa.array(kept),
        C.PAID: pa.array(paid),
        C.UNPAID: pa.array(kept - paid),
        C.SHARE: pa.array(share),
        C.RANK: pa.array(ranks, mask=ranks < 0),
    }
    table = pa.table(cols)
    if extra is not None:
        for name in extra.column_names:
            table = table.append_column(name, extra[name])
    return table


def check_balance(total: float, by_role: dict[str, float], tol: float = 0.0) -> float:
    """Relative gap between injected and attributed; raise if above tolerance.

    The tolerance is :data:`BALANCE_RTOL`, or the solver's ``tol`` when that
    is larger (the solve stops with less than ``tol`` of the total in flight).
    """
    attributed = sum(by_role.values())
    gap = abs(total - attributed) / total if total > 0 else abs(attributed)
    limit = max(BALANCE_RTOL, tol)
    if gap > limit:
        raise ConservationError(
            f"money balance failed: injected {total!r} but attributed {attributed!r} "
            f"(relative gap {gap:.3e} > {limit:g}); nothing written"
        )
    return gap


def role_totals(role: np.ndarray, kept: np.ndarray) -> dict[str, float]:
    return {
        "users": float(kept[role == USER].sum()),
        "platforms": float(kept[role == PLATFORM].sum()),
        "elsewhere": float(kept[role == ADVERTISER].sum()),
    }


class AttributionResult:
    """What :func:`graphlabor.attribute` returns.

    Attributes
    ----------
    nodes : pyarrow.Table
        One row per node (per period, with ``period``), in ascending id
        order: ``node``, ``role``, ``attributed``, ``paid``, ``unpaid``,
        ``share``, ``rank``, the ``via_*`` breakdown by contribution kind,
        per-hour columns when the nodes file has ``hours``, then the nodes
        file's extra columns.
    summary : Summary
        Totals (over all periods, with ``period``).
    platforms : pyarrow.Table
        One row per platform (per period): revenue, paid out, kept, passed to
        users, capture, capture rate, contributors, users' unpaid value.
    groups : pyarrow.Table or None
        Per-group statistics of users (with ``group_by``).
    periods : list of Summary or None
        One summary per period (with ``period``).
    contexts : pyarrow.Table or None
        With a context column: one row per ``(platform, context)`` pair
        (per period): revenue, paid out, kept, passed to users,
        contributors, unmatched revenue.
    roles_report : pyarrow.Table
        One row per node whose edges give evidence for more than one role:
        the role it got, whether the nodes file declared it, and its
        evidence (edge counts by class and direction).
    timings : list of dict
        Seconds and peak memory of each stage.
    context : RunContext or None
        The prepared arrays and the model run that :meth:`explain` reads
        (None for per-period results and the Dask engine's).
    """

    def __init__(self, nodes: pa.Table, summary: Summary, timings: list[dict[str, Any]] | None = None, *,
                 platforms: pa.Table | None = None, groups: pa.Table | None = None,
                 periods: list[Summary] | None = None, context: RunContext | None = None,
                 contexts: pa.Table | None = None, roles_report: pa.Table | None = None) -> None:
        self.nodes = nodes
        self.summary = summary
        self.timings = timings or []
        self.platforms = platforms
        self.groups = groups
        self.periods = periods
        #: The prepared arrays and the model run behind :meth:`explain` (None for per-period results).
        self.context = context
        #: Row bounds of the output files of ``write(DIR/)`` (the Dask engine's row blocks)
        self.row_bounds: list[int] | None = None
        #: Writes a dataset's files (the Dask engine's writes them on its workers; see :func:`graphlabor.output.write_dataset`).
        self.part_writer: Any = None
        #: The Dask engine's exchange plan, per row block (empty for the local engine)
        self.block_stats: list[Any] = []
        #: With a context column: one row per (platform, context) pair (:func:`graphlabor.breakdowns.context_table`).
        self.contexts = contexts
        #: Nodes whose edges give evidence for more than one role (:func:`graphlabor.breakdowns.roles_report`).
        self.roles_report = roles_report

    def __repr__(self) -> str:
        s = self.summary
        return (
            f"<AttributionResult: {s.nodes} nodes, injected {s.total_injected:g}, "
            f"users {s.attributed_users:g}, platforms {s.kept_platforms:g}>"
        )

    def to_pandas(self) -> pd.DataFrame:
        """The node table as a pandas DataFrame (``rank`` as nullable Int64)."""
        import pandas as pd

        df: pd.DataFrame = self.nodes.to_pandas()
        df["rank"] = pd.array(self.nodes["rank"].to_pylist(), dtype="Int64")
        return df

    def top_users(self, k: int = 10) -> pa.Table:
        """The ``k`` users with the largest attributed value, by rank."""
        import pyarrow.compute as pc

        users = self.nodes.filter(pc.is_valid(self.nodes["rank"]))
        keys = [("rank", "ascending")] if "period" not in users.column_names else [("period", "ascending"), ("rank", "ascending")]
        return users.sort_by(keys).slice(0, k)

    def explain(self, node: Any, top: int = 10) -> Explanation:
        """Decompose one node's attributed value by payer, platform, kind and last hop.

        See :mod:`graphlabor.explain`. Not available for per-period results.
        """
        if self.context is None:
            from .errors import ParameterError

            if self.periods is not None:
                raise ParameterError("explain is not available for per-period results; run without period")
            # a Dask engine result: its graph has left the cluster
            raise ParameterError("explain on an --engine dask result: the graph has left the cluster; explain while it is "
                                 "there with graphlabor.explain(..., engine='dask') or graphlabor explain --engine dask")
        from .explain import explain_node

        c = self.context
        return explain_node(c.prepared, c.run, c.method, node, top)

    def redistribute(self, levy: float, schemes: Iterable[str] = ("equal", "unpaid"), base: str = "capture",
                     floor: float | None = None, group_by: str | None = None) -> Redistribution:
        """Simulate a digital social income funded by a levy on platforms.

        See :func:`graphlabor.redistribute.redistribute`.
        """
        from .redistribute import redistribute

        return redistribute(self, levy, schemes=schemes, base=base, floor=floor, group_by=group_by)

    def report(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Write a one-file HTML report of this attribution.

        Keyword arguments as :func:`graphlabor.report.write_report`
        (``redistribution``, ``sensitivity``, ``period_result``, ``period``,
        ``group_by``, ``min_wage``, ``inputs``, ``title``).
        """
        from .report import write_report

        write_report(self, os.fspath(path), **kwargs)

    def to_dict(self, column: str = "attributed") -> dict[Any, Any]:
        """One column of the node table as a dict ``{node id: value}``, as networkx returns.

        Parameters
        ----------
        column : str, default "attributed"
            A column of :attr:`nodes`, such as ``"attributed"``, ``"paid"``,
            ``"share"`` or a ``via_*`` column. Nulls (the ``rank`` of a
            non-user) become ``None``.

        Raises
        ------
        ParameterError
            For a column not in the node table, or a per-period result
            (where a node has one row per period).

        Examples
        --------
        >>> import graphlabor
        >>> r = graphlabor.attribute(graphlabor.example_path("edges"),
        ...                          nodes=graphlabor.example_path("nodes"))
        >>> d = r.to_dict()
        >>> len(d) == r.summary.nodes, abs(sum(d.values()) - r.summary.total_injected) < 1e-6
        (True, True)
        """
        from .errors import ParameterError

        if self.periods is not None:
            raise ParameterError("to_dict: a per-period result has one row per node and period; use to_pandas() or nodes")
        if column not in self.nodes.column_names:
            raise ParameterError(f"column {column!r} is not in the node table; columns are {self.nodes.column_names}")
        return dict(zip(self.nodes["node"].to_pylist(), self.nodes[column].to_pylist()))

    def write(self, path: str | os.PathLike[str]) -> None:
        """Write the node table (Parquet, CSV or JSON by extension), atomically.

        A path ending in a slash, or an existing directory, gets a Parquet
        dataset: one file per row block (:func:`graphlabor.output.write_dataset`).
        """
        from .output import is_dataset_path, write_dataset, write_table

        if is_dataset_path(path):
            write_dataset(self.nodes, path, self.row_bounds, self.part_writer)
        else:
            write_table(self.nodes, os.fspath(path))

    def write_platforms(self, path: str | os.PathLike[str]) -> None:
        """Write the :attr:`platforms` table (Parquet, CSV or JSON by extension), atomically.

        What ``graphlabor attribute --platforms PATH`` writes.
        """
        from .errors import ParameterError
        from .output import write_table

        if self.platforms is None:
            raise ParameterError("this result has no platforms table")
        write_table(self.platforms, os.fspath(path))

    def write_groups(self, path: str | os.PathLike[str]) -> None:
        """Write the :attr:`groups` table (Parquet, CSV or JSON by extension), atomically.

        What ``graphlabor attribute --group-by COL --groups PATH`` writes.

        Raises
        ------
        ParameterError
            When the result has no groups table (``attribute`` ran without
            ``group_by``).
        """
        from .errors import ParameterError
        from .output import write_table

        if self.groups is None:
            raise ParameterError("this result has no groups table: call attribute() with group_by")
        write_table(self.groups, os.fspath(path))
