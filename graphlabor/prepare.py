"""Read, encode and classify: everything before the model runs.

The result, :class:`Prepared`, holds plain arrays indexed by node code and by
edge row; original ids live only in its :class:`~graphlabor.node_index.NodeIndex`.
Edge-table columns are dropped as soon as they are encoded, so that the
string ids do not stay in memory while the graph is built and solved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .dictarrays import sorted_codes
from .edges import KindClasses, load_edges
from .errors import InputError, ParameterError
from .kernels.classify import node_evidence, split_by_class
from .node_index import NodeIndex, encode
from .nodes import load_nodes
from .params import ModelParams
from .roles import (
    CONTRIBUTION,
    PAY,
    REVENUE,
    apply_declared,
    check_declared,
    platform_evidence,
    roles_from_evidence,
)
from .timeaxis import decay_factors, parse_duration, parse_instant, to_epoch_seconds
from .timing import StageLog


@dataclass
class EdgeArrays:
    """Edges of one class as plain arrays.

    Attributes
    ----------
    src, dst : ndarray of uint32
        Endpoints as node codes.
    kind : ndarray of uint16
        Kind code of each edge.
    value : ndarray of float64
        Contribution weight (kind weight x ``weight`` x time decay) for
        contribution edges; ``amount`` for revenue and pay edges.
    seconds : ndarray of int64 or None
        Timestamps as epoch seconds, when read.
    """

    src: np.ndarray
    dst: np.ndarray
    kind: np.ndarray
    value: np.ndarray
    seconds: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.src.shape[0])

    def take(self, rows: np.ndarray | None) -> EdgeArrays:
        """The edges at ``rows`` (all of them for None)."""
        if rows is None:
            return self
        return EdgeArrays(
            self.src[rows], self.dst[rows], self.kind[rows], self.value[rows],
            None if self.seconds is None else self.seconds[rows],
        )


@dataclass
class Prepared:
    """Encoded edges and nodes.

    Attributes
    ----------
    index : NodeIndex
    contribution, revenue, pay : EdgeArrays
        The edges of each class.
    kind_names : list of str
    kind_class : ndarray of uint8
        Class of each kind (indexed by kind code).
    role : ndarray of int8, shape (n,)
    node_value : ndarray of float64, shape (n,) or None
        Nodes-file injections by node code.
    extra : pyarrow.Table or None
        Nodes-file extra columns, one row per node code.
    origins : list of (str, int)
        Edge sources and their row counts.
    """

    index: NodeIndex
    contribution: EdgeArrays
    revenue: EdgeArrays
    pay: EdgeArrays
    kind_names: list
    kind_class: np.ndarray
    role: np.ndarray
    node_value: np.ndarray | None
    extra: pa.Table | None
    origins: list

    @property
    def n(self) -> int:
        return len(self.index)

    @property
    def m(self) -> int:
        return len(self.contribution) + len(self.revenue) + len(self.pay)

    def column(self, name: str) -> np.ndarray | None:
        """A numeric nodes-file column by node code (NaN where missing), or None."""
        if self.extra is None or name not in self.extra.column_names:
            return None
        col = self.extra[name]
        try:
            return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowException, ValueError):
            raise InputError(f"nodes file: column {name!r} must be numbers") from None


def sender_reference(src, dst, seconds, role, as_of: int) -> np.ndarray:
    """Per-edge reference instant for time decay, free of underflow.

    Only the ratios of the weights of the edges a node passes value along
    matter (value is split in proportion to them), so measuring ages from
    ``min(as_of, newest edge of that sender)`` instead of ``as_of`` multiplies
    all of a sender's weights by one factor and changes no result, while
    keeping old edges from underflowing to weight 0 when the half-life is
    short. The sender of a user -> platform edge is the platform; of a user ->
    user edge, the acting user.

    >>> import numpy as np
    >>> role = np.array([0, 0, 1], np.int8)             # users 0, 1; platform 2
    >>> sender_reference(np.array([0, 1, 0]), np.array([2, 2, 1]),
    ...                  np.array([10, 20, 5]), role, 100).tolist()
    [20, 20, 5]
    """
    from .kernels import PLATFORM, USER

    sender = np.where((role[src] == USER) & (role[dst] == PLATFORM), dst, src)
    newest = np.full(role.shape[0], np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(newest, sender, seconds)
    return np.minimum(newest[sender], as_of)


def _kind_codes(kind) -> tuple[list[str], np.ndarray]:
    """Kind names in sorted order and each edge's kind code (uint16; independent of row order)."""
    if len(kind) == 0:
        return [], np.empty(0, np.uint16)
    try:
        names, (codes,) = sorted_codes([kind], np.uint16)
    except OverflowError:
        raise InputError(f"more than {np.iinfo(np.uint16).max + 1} distinct edge kinds are not supported") from None
    return names.to_pylist(), codes


def prepare(
    edges,
    nodes,
    params: ModelParams,
    kinds: KindClasses,
    *,
    src_col: str | None = None,
    dst_col: str | None = None,
    half_life: str | float | None = None,
    as_of=None,
    need_time: bool = False,
    log: StageLog,
) -> Prepared:
    """Read edges and nodes, encode ids, classify edges, infer roles, weigh contributions."""
    with log.stage("read edges"):
        et = load_edges(edges, src_col=src_col, dst_col=dst_col, kinds=kinds, need_time=need_time or half_life is not None)
    nt = None
    if nodes is not None:
        with log.stage("read nodes"):
            nt = load_nodes(nodes, et.id_type if et.num_rows else None)

    with log.stage("encode ids"):
        table = et.table
        cols = [table["src"], table["dst"]]
        if nt is not None:
            if et.num_rows == 0:
                cols = [c.cast(nt.ids.type) for c in cols]
            cols.append(nt.ids)
        index, codes = encode(cols)
        src, dst = codes[0], codes[1]
        n = len(index)
        table = table.drop_columns(["src", "dst"])
        et.table = None  # free the string ids before the graph is built
        del cols

    with log.stage("classify edges"):
        kind_names, kind_code = _kind_codes(table["kind"])
        class_of_kind = np.array(
            [REVENUE if k in kinds.revenue else PAY if k in kinds.pay else CONTRIBUTION for k in kind_names],
            dtype=np.uint8,
        )
        weight_of_kind = np.array([params.kind_weight(k) for k in kind_names], dtype=np.float64)
        edge_class = class_of_kind[kind_code] if kind_names else np.empty(0, np.uint8)
        evidence = node_evidence(src, dst, edge_class, n)
        role = roles_from_evidence(evidence)
        if nt is not None and nt.role is not None:
            role = apply_declared(role, codes[2], nt.role.to_pylist(), nt.source)
            check_declared(
                role, platform_evidence(evidence), index.ids, et.locate,
                src, dst, edge_class, lambda r, kc=kind_code: kind_names[kc[r]], nt.source, node_codes=codes[2],
            )
        seconds = None
        if "timestamp" in table.column_names and (need_time or half_life is not None):
            ts = table["timestamp"]
            if ts.null_count:
                f, r = et.locate(int(pc.index(pc.is_null(ts), True).as_py()))
                raise InputError(f"{f}: column 'timestamp', row {r}: missing timestamp (time options need one on every edge)")
            seconds = to_epoch_seconds(ts, et.origins[0][0] if len(et.origins) == 1 else "edges")
        elif need_time or half_life is not None:
            raise InputError(
                f"{', '.join(o for o, _ in et.origins)}: no 'timestamp' column, which --half-life and --period need"
            )
        # contribution edges as arrays, revenue and pay edges by row (few: their amounts are taken)
        contribution, revenue_rows, pay_rows = split_by_class(
            src, dst, kind_code, edge_class,
            table["weight"].to_numpy() if kind_names else np.empty(0), weight_of_kind, seconds,
        )
        parts = {CONTRIBUTION: EdgeArrays(*contribution)}
        for cls, rows in ((REVENUE, revenue_rows), (PAY, pay_rows)):
            amount = pc.fill_null(table["amount"].take(pa.array(rows)), np.nan).to_numpy()
            parts[cls] = EdgeArrays(
                src[rows], dst[rows], kind_code[rows], amount, None if seconds is None else seconds[rows]
            )
        del src, dst, edge_class, kind_code, table, contribution
        if half_life is not None:
            hl = parse_duration(half_life) if isinstance(half_life, str) else float(half_life)
            if not hl > 0:
                raise ParameterError(f"half_life must be positive, got {half_life!r}")
            ref = parse_instant(as_of) if as_of is not None else (int(seconds.max()) if seconds.size else 0)
            c = parts[CONTRIBUTION]
            c.value = c.value * decay_factors(c.seconds, hl, sender_reference(c.src, c.dst, c.seconds, role, ref))
        node_value = None
        extra = None
        if nt is not None:
            if nt.value is not None:
                node_value = np.zeros(n)
                node_value[codes[2]] = nt.value.to_numpy()
            if nt.extra.num_columns:
                pos = np.full(n, -1, dtype=np.int64)
                pos[codes[2]] = np.arange(codes[2].shape[0])
                extra = nt.extra.take(pa.array(pos, mask=pos < 0))
    return Prepared(
        index, parts[CONTRIBUTION], parts[REVENUE], parts[PAY], kind_names, class_of_kind,
        role, node_value, extra, et.origins,
    )
