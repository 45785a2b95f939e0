"""Edge file(s) -> one validated edge table.

The edge table has the columns ``src``, ``dst`` (int64 or string, the same
for both), ``kind`` (string), ``weight`` (float64 >= 0), ``amount`` (float64
>= 0 or null) and, when present, ``timestamp`` (as read). Every check happens
per input file, so that an error names the file and the row within it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import readers
from ._types import EdgesInput
from .dictarrays import map_values
from .errors import InputError, where
from .params import DEFAULT_PAY_KINDS, DEFAULT_REVENUE_KINDS
from .validate import check_ids, check_numbers, check_strings, first_true, id_kind

DEFAULT_KIND = "interaction"

SRC_ALIASES = ("src", "source")
DST_ALIASES = ("dst", "target")


@dataclass(frozen=True)
class KindClasses:
    """Which edge kinds carry revenue, which carry pay; all others contribute."""

    revenue: frozenset[str] = frozenset(DEFAULT_REVENUE_KINDS)
    pay: frozenset[str] = frozenset(DEFAULT_PAY_KINDS)

    def __post_init__(self) -> None:
        both = self.revenue & self.pay
        if both:
            from .errors import ParameterError

            raise ParameterError(f"kind(s) {sorted(both)} cannot be both revenue and pay kinds")

    def money(self) -> frozenset[str]:
        return self.revenue | self.pay


@dataclass
class EdgeTable:
    """Validated edges from one or more sources.

    Attributes
    ----------
    table : pyarrow.Table
        Columns ``src``, ``dst``, ``kind``, ``weight``, ``amount`` and maybe
        ``timestamp``.
    id_type : str
        ``"int"`` or ``"str"``.
    origins : list of (str, int)
        Each source's name and number of rows, in order, to turn a row of
        ``table`` back into a file and a row within it (:meth:`locate`).
    """

    table: pa.Table
    id_type: str
    origins: list[tuple[str, int]] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return int(self.table.num_rows)

    def locate(self, row: int) -> tuple[str, int]:
        """Return ``(source name, row within that source)`` for a table row."""
        start = 0
        for name, n in self.origins:
            if row < start + n:
                return name, row - start
            start += n
        raise IndexError(row)


def _pick(names: Sequence[str], wanted: str | None, aliases: Iterable[str], source: str, role: str) -> str:
    if wanted is not None:
        if wanted not in names:
            raise InputError(f"{source}: no column {wanted!r} (given as the {role} column); columns are {list(names)}")
        return wanted
    for a in aliases:
        if a in names:
            return a
    raise InputError(
        f"{source}: missing required column {role!r} (also accepted: {', '.join(repr(a) for a in aliases if a != role)}); "
        f"columns are {list(names)}"
    )


def _normalize(table: pa.Table, source: str, src_name: str, dst_name: str, kinds: KindClasses) -> tuple[pa.Table, str]:
    src = check_ids(table[src_name], source, src_name, keep_dictionary=True)
    dst = check_ids(table[dst_name], source, dst_name, keep_dictionary=True)
    ks, kd = id_kind(src.type), id_kind(dst.type)
    if ks != kd:
        raise InputError(
            f"{source}: columns {src_name!r} and {dst_name!r} must hold ids of the same type, "
            f"found {table[src_name].type} and {table[dst_name].type}"
        )
    n = table.num_rows
    names = table.column_names
    if "kind" in names:
        kind = check_strings(table["kind"], source, "kind", keep_dictionary=True)
    else:
        kind = pa.chunked_array([pa.DictionaryArray.from_arrays(np.zeros(n, np.int32), pa.array([DEFAULT_KIND]))])
    if "weight" in names:
        weight = check_numbers(table["weight"], source, "weight")
    else:
        weight = pa.chunked_array([pa.array(np.ones(n))], pa.float64())
    money_kinds = pa.array(sorted(kinds.money()), pa.string())
    is_money = map_values(kind, lambda v: pc.is_in(v, value_set=money_kinds), pa.bool_())
    if "amount" in names:
        amount = check_numbers(table["amount"], source, "amount", allow_null=True)
        missing = pc.and_(is_money, pc.is_null(amount))
    else:
        amount = pa.chunked_array([pa.nulls(n, pa.float64())])
        missing = is_money
    row = first_true(missing)
    if row is not None:
        raise InputError(
            f"{where(source, 'amount', row)}: a {kind[row].as_py()!r} edge carries money and needs an amount"
            + ("" if "amount" in names else " (the file has no 'amount' column)")
        )
    cols = {"src": src, "dst": dst, "kind": kind, "weight": weight, "amount": amount}
    if "timestamp" in names:
        cols["timestamp"] = table["timestamp"]
    assert ks is not None  # check_ids passes integer or text ids only
    return pa.table(cols), ks


def _is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def _empty_edges() -> pa.Table:
    f64 = pa.chunked_array([], pa.float64())
    text = pa.chunked_array([], pa.string())
    return pa.table({"src": text, "dst": text, "kind": text, "weight": f64, "amount": f64})


def _csv_ids(raw: pa.Table, source: str, s: str, d: str) -> pa.Table:
    """Give CSV id columns (read as text) their type: int64 if all are canonical integers."""
    from .validate import check_text_ids, text_ids_as_ints

    if "kind" in raw.column_names:
        row = first_true(pc.equal(pc.utf8_length(raw["kind"]), 0))
        if row is not None:
            raise InputError(f"{where(source, 'kind', row)}: missing kind (empty cell); leave out the column to make every edge an 'interaction'")
    cols = [check_text_ids(raw[c], source, c) for c in dict.fromkeys((s, d))]
    ints = text_ids_as_ints(cols)
    if ints is not None:
        for c, col in zip(dict.fromkeys((s, d)), ints):
            raw = raw.set_column(raw.column_names.index(c), c, col)
    return raw


def _columns_to_read(
    schema_names: Sequence[str], source: str, src_col: str | None, dst_col: str | None, need_time: bool = True
) -> tuple[list[str], str, str]:
    s = _pick(schema_names, src_col, SRC_ALIASES if src_col is None else (), source, "src")
    d = _pick(schema_names, dst_col, DST_ALIASES if dst_col is None else (), source, "dst")
    optional = ("kind", "weight", "amount", "timestamp") if need_time else ("kind", "weight", "amount")
    cols = [s, d] + [c for c in optional if c in schema_names and c not in (s, d)]
    return cols, s, d


def _unify(tables: list[pa.Table]) -> pa.Table:
    if len(tables) == 1:
        return tables[0]
    # the same column may be string in one file and large_string in another,
    # and timestamps may differ in unit: promote to one schema
    # a column dictionary-encoded in some sources only is decoded everywhere
    for name in tables[0].column_names:
        types = {t.schema.field(name).type for t in tables if name in t.column_names}
        if len(types) > 1 and any(pa.types.is_dictionary(x) for x in types):
            tables = [
                t.set_column(t.column_names.index(name), name, t[name].cast(t[name].type.value_type))
                if name in t.column_names and pa.types.is_dictionary(t[name].type) else t
                for t in tables
            ]
    fields: dict[str, pa.DataType] = {}
    for t in tables:
        for f in t.schema:
            prev = fields.get(f.name)
            if prev is None or prev == f.type:
                fields[f.name] = f.type
            elif pa.types.is_large_string(f.type) or pa.types.is_large_string(prev):
                fields[f.name] = pa.large_string()
            elif pa.types.is_timestamp(f.type) and pa.types.is_timestamp(prev):
                fields[f.name] = pa.timestamp("ns", tz=prev.tz or f.type.tz)
            else:
                fields[f.name] = prev
    names = list(fields)
    for t in tables:
        if set(t.column_names) != set(names):
            missing = sorted(set(names) ^ set(t.column_names))
            raise InputError(f"edge sources differ in their columns: {missing} present in some sources only")
    schema = pa.schema([(n, fields[n]) for n in names])
    try:
        return pa.concat_tables([t.select(names).cast(schema) for t in tables])
    except (pa.ArrowException, ValueError) as e:
        raise InputError(f"edge sources have incompatible column types: {e}") from None


def load_edges(
    edges: EdgesInput,
    *,
    src_col: str | None = None,
    dst_col: str | None = None,
    kinds: KindClasses = KindClasses(),
    need_time: bool = True,
) -> EdgeTable:
    """Read and validate edges.

    Parameters
    ----------
    edges : path, list of paths, pyarrow.Table or pandas.DataFrame
        Files (Parquet, CSV, Arrow IPC; directories of Parquet files) or an
        in-memory table.
    src_col, dst_col : str, optional
        Names of the id columns (default ``src``/``source`` and
        ``dst``/``target``).
    kinds : KindClasses
        Which kinds are revenue and pay (to require an ``amount`` on them).
    need_time : bool, default True
        Read the ``timestamp`` column (when False it is not read at all).

    Notes
    -----
    Text ids and kinds stored dictionary-encoded in Parquet (what pyarrow,
    pandas and Spark write for columns with few distinct values) are read
    and kept dictionary-encoded, so that later steps work once per distinct
    value of a row group rather than once per row.

    Returns
    -------
    EdgeTable
    """
    tables, origins, types = [], [], set()
    if isinstance(edges, (str, os.PathLike)) or (
        isinstance(edges, (list, tuple)) and edges and all(isinstance(e, (str, os.PathLike)) for e in edges)
    ):
        for src in readers.resolve(edges):
            schema = readers.read_schema(src)
            if src.format == "csv" and len(schema) == 0:
                # a zero-byte CSV file: no header, no rows, nothing to read
                table, t = _empty_edges(), "str"
            else:
                cols, s, d = _columns_to_read(schema.names, src.name, src_col, dst_col, need_time)
                text = [c for c in dict.fromkeys((s, d, "kind")) if c in schema.names and _is_text(schema.field(c).type)]
                csv_types = {}
                if src.format == "csv":
                    # ids are read as text and become integers only if every
                    # id is a canonical integer (see validate.text_ids_as_ints)
                    csv_types = {s: pa.string(), d: pa.string(), "kind": pa.string()}
                raw = readers.read_table(src, cols, csv_types, dictionary=text)
                if src.format == "csv":
                    raw = _csv_ids(raw, src.name, s, d)
                table, t = _normalize(raw, src.name, s, d, kinds)
            tables.append(table)
            origins.append((src.name, table.num_rows))
            types.add(t)
    else:
        name = "<edges>"
        table = readers.from_memory(edges, name)
        cols, s, d = _columns_to_read(table.column_names, name, src_col, dst_col, need_time)
        table, t = _normalize(table.select(cols), name, s, d, kinds)
        tables.append(table)
        origins.append((name, table.num_rows))
        types.add(t)
    if len(types) > 1:
        raise InputError(
            "edge sources mix integer and string ids: "
            + ", ".join(f"{n}" for n, _ in origins)
        )
    return EdgeTable(_unify(tables), types.pop(), origins)
