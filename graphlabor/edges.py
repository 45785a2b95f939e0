"""Edge file(s) -> one validated edge table.

The edge table has the columns ``src``, ``dst`` (int64 or string, the same
for both), ``kind`` (string), ``weight`` (float64 >= 0), ``amount`` (float64
>= 0 or null) and, when present, ``timestamp`` (as read). Every check happens
per input file, so that an error names the file and the row within it; the
ids' type (integer or text) is decided once every file is read.
"""

from __future__ import annotations

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
from .validate import (
    check_ids,
    check_numbers,
    check_strings,
    check_text_ids,
    describe_ids,
    first_non_int_text,
    first_true,
    id_kind,
    is_text,
    type_text_ids,
)

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
    columns : dict of str to str
        Which input column was used for what (``{"src": "Source", "weight":
        "Weight"}``; names joined with ``/`` where sources differ). Absent
        optional columns are absent here.
    """

    table: pa.Table
    id_type: str
    origins: list[tuple[str, int]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)

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


#: Optional edge columns, matched by name in any letter case when that is unambiguous
OPTIONAL = ("kind", "weight", "amount", "timestamp")


def _near(names: Sequence[str], targets: Iterable[str]) -> list[str]:
    """Columns whose name is close to one of ``targets`` (letter case, a typo, a suffix)."""
    import difflib

    low = {n.strip().lower(): n for n in names}
    out: list[str] = []
    for t in targets:
        for m in difflib.get_close_matches(t, list(low), n=3, cutoff=0.6):
            if low[m] not in out:
                out.append(low[m])
        for key, n in low.items():
            if n not in out and (key.startswith(t) or key.endswith(t)):
                out.append(n)
    return out


def _pick_id(names: Sequence[str], wanted: str | None, aliases: Sequence[str], source: str, role: str) -> str:
    flag = f"--{role}-col"
    if wanted is not None:
        if wanted in names:
            return wanted
        near = _near(names, [wanted.lower()])
        hint = f"; did you mean {' or '.join(repr(n) for n in near)}?" if near else ""
        raise InputError(f"{source}: no column {wanted!r} (given with {flag}); columns are {list(names)}{hint}")
    for a in aliases:
        if a in names:
            return a
    near = _near(names, [*aliases, *(("from", "sender", "u") if role == "src" else ("to", "receiver", "v"))])
    hint = (
        f"; to use {near[0]!r}, pass {flag} {near[0]}" + (f" (near matches: {', '.join(repr(n) for n in near)})" if len(near) > 1 else "")
        if near else f"; name the {role} column with {flag}"
    )
    if len(names) == 1:
        hint += " (the header has a single column: is the file comma-separated?)"
    raise InputError(
        f"{source}: missing required column {role!r} (also accepted: {', '.join(repr(a) for a in aliases if a != role)}); "
        f"columns are {list(names)}{hint}"
    )


def match_columns(
    names: Sequence[str], source: str, src_col: str | None = None, dst_col: str | None = None, need_time: bool = True,
    context_col: str | None = None,
) -> dict[str, str]:
    """Which column of a source plays which part: ``{"src": ..., "dst": ..., "kind": ...}``.

    The id columns are ``src``/``source`` and ``dst``/``target`` exactly, or
    the names given. An optional column (``kind``, ``weight``, ``amount``,
    ``timestamp``) is matched in any letter case and with surrounding spaces
    (``Weight``, ``KIND ``); two columns that both match are an error, never
    a silent choice.

    >>> match_columns(["Source", "dst", "Weight"], "e.csv", src_col="Source")
    {'src': 'Source', 'dst': 'dst', 'weight': 'Weight'}
    >>> match_columns(["src", "dst", "kind", "Kind"], "e.csv")
    Traceback (most recent call last):
    ...
    graphlabor.errors.InputError: e.csv: columns 'kind' and 'Kind' could both be the kind column; rename or drop one
    """
    s = _pick_id(names, src_col, SRC_ALIASES if src_col is None else (), source, "src")
    d = _pick_id(names, dst_col, DST_ALIASES if dst_col is None else (), source, "dst")
    out = {"src": s, "dst": d}
    for role in OPTIONAL if need_time else OPTIONAL[:-1]:
        found = [n for n in names if n.strip().lower() == role and n not in (s, d)]
        if len(found) > 1:
            raise InputError(f"{source}: columns {' and '.join(repr(n) for n in found)} could both be the {role} column; rename or drop one")
        if found:
            out[role] = found[0]
    if context_col is not None and context_col in names and context_col not in (s, d):
        out["context"] = context_col  # the context column, by its exact name (``context`` unless named)
    return out


def columns_used(
    edges: object, src_col: str | None = None, dst_col: str | None = None, need_time: bool = True
) -> dict[str, str]:
    """Which input column plays which part, from the schemas only (:func:`match_columns` per source).

    Names are joined with ``/`` where sources differ, as in :attr:`EdgeTable.columns`.
    """
    sources = _resolved(edges)
    if sources is None:
        names_of = [readers.from_memory(edges, "<edges>").column_names]
    else:
        names_of = [s.schema.names for s in sources if len(s.schema)]
    out: dict[str, list[str]] = {}
    for names in names_of:
        for role, name in match_columns(names, "<edges>", src_col, dst_col, need_time).items():
            if name not in out.setdefault(role, []):
                out[role].append(name)
    return {r: "/".join(n) for r, n in out.items()}


def _normalize(table: pa.Table, source: str, cols: dict[str, str], kinds: KindClasses) -> pa.Table:
    """Check and type the columns of one source (ids already typed); canonical names out."""
    s, d = cols["src"], cols["dst"]
    src = check_ids(table[s], source, s, keep_dictionary=True)
    dst = check_ids(table[d], source, d, keep_dictionary=True)
    n = table.num_rows
    if "kind" in cols:
        kind = check_strings(table[cols["kind"]], source, cols["kind"], keep_dictionary=True)
        row = first_true(map_values(kind, lambda v: pc.equal(pc.utf8_length(v), 0), pa.bool_()))
        if row is not None:  # the same from every source (an empty CSV cell, or "" in a table)
            raise InputError(f"{where(source, cols['kind'], row)}: missing kind (empty string); "
                             "leave out the column to make every edge an 'interaction'")
    else:
        kind = pa.chunked_array([pa.DictionaryArray.from_arrays(np.zeros(n, np.int32), pa.array([DEFAULT_KIND]))])
    money_kinds = pa.array(sorted(kinds.money()), pa.string())
    is_money = map_values(kind, lambda v: pc.is_in(v, value_set=money_kinds), pa.bool_())
    if "weight" in cols:
        # weight means nothing on revenue and pay edges: blank there is fine, needed on contributions
        weight = check_numbers(table[cols["weight"]], source, cols["weight"], allow_null=True)
        if weight.null_count:
            row = first_true(pc.and_(pc.is_null(weight), pc.invert(is_money)))
            if row is not None:
                raise InputError(f"{where(source, cols['weight'], row)}: missing weight on a {kind[row].as_py()!r} "
                                 "(contribution) edge; leave out the column to give every edge weight 1")
            weight = pc.fill_null(weight, 0.0)
    else:
        weight = pa.chunked_array([pa.array(np.ones(n))], pa.float64())
    if "amount" in cols:
        amount = check_numbers(table[cols["amount"]], source, cols["amount"], allow_null=True)
        missing = pc.and_(is_money, pc.is_null(amount))
    else:
        amount = pa.chunked_array([pa.nulls(n, pa.float64())])
        missing = is_money
    row = first_true(missing)
    if row is not None:
        raise InputError(
            f"{where(source, cols.get('amount', 'amount'), row)}: a {kind[row].as_py()!r} edge carries money and needs an amount"
            + ("" if "amount" in cols else " (the file has no 'amount' column)")
        )
    out = {"src": src, "dst": dst, "kind": kind, "weight": weight, "amount": amount}
    if "timestamp" in cols:
        out["timestamp"] = table[cols["timestamp"]]
    if "context" in cols:
        out["context"] = _context_column(table[cols["context"]], source, cols["context"])
    return pa.table(out)


def _context_column(ctx: pa.ChunkedArray, source: str, name: str) -> pa.ChunkedArray:
    """The context column as read: integers or text (whole-number floats, as pandas makes of ints with nulls, as int64)."""
    t = ctx.type.value_type if pa.types.is_dictionary(ctx.type) else ctx.type
    if pa.types.is_floating(t):
        whole = pc.equal(pc.floor(ctx), ctx)
        row = first_true(pc.invert(pc.fill_null(whole, True)))
        if row is not None:
            raise InputError(f"{where(source, name, row, ctx[row].as_py())}: a context id must be an integer or text")
        return ctx.cast(pa.int64())
    if not (pa.types.is_integer(t) or is_text(t) or pa.types.is_null(t)):
        raise InputError(f"{source}: column {name!r} must hold integers or text (context ids), found {ctx.type}")
    return ctx


def _empty_edges(id_type: str = "str") -> pa.Table:
    f64 = pa.chunked_array([], pa.float64())
    ids = pa.chunked_array([], pa.string() if id_type == "str" else pa.int64())
    return pa.table({"src": ids, "dst": ids, "kind": pa.chunked_array([], pa.string()), "weight": f64, "amount": f64})


@dataclass
class _Part:
    """One source read, its ids not yet given their final type."""

    name: str
    raw: pa.Table
    cols: dict[str, str]
    ids_say: str | None  # "int", "str", or None (no rows: no say)
    text_ids: bool  # ids read as text from CSV


def _id_columns(part: _Part) -> list[str]:
    return list(dict.fromkeys((part.cols["src"], part.cols["dst"])))


def _ids_say(raw: pa.Table, id_cols: list[str], source: str, from_text: bool) -> str | None:
    """What a source's ids look like: "int", "str" or None (no rows)."""
    if raw.num_rows == 0:
        return None
    if from_text:
        for c in id_cols:
            check_text_ids(raw[c], source, c)
        return "int" if all(first_non_int_text(raw[c]) is None for c in id_cols) else "str"
    kinds = {id_kind(raw[c].type) for c in id_cols}
    kinds = {"int" if k == "float" else k for k in kinds}
    if None in kinds or len(kinds) > 1:
        types = [describe_ids(raw[c].type) for c in id_cols]
        if None in kinds:
            bad = next(c for c in id_cols if id_kind(raw[c].type) is None)
            raise InputError(f"{where(source, bad)}: ids must be integers or text, found {raw[bad].type}")
        raise InputError(
            f"{source}: columns {id_cols[0]!r} and {id_cols[1]!r} must hold ids of the same type, found {types[0]} and {types[1]}"
        )
    return kinds.pop()


def _type_ids(part: _Part, id_type: str, forced: bool) -> pa.Table:
    """Give a source's id columns the run's id type (int64 or text)."""
    raw = part.raw
    why = "the ids are integers (--id-type int)" if forced else "the ids are integers"
    for c in _id_columns(part):
        col = raw[c]
        if part.text_ids or is_text(col.type, dictionary=True):
            if id_type == "int" and part.text_ids and part.ids_say == "int":
                col = pc.cast(col, pa.int64())  # every id was seen to be a canonical integer
            elif id_type == "int" or part.text_ids:
                col = type_text_ids(col, part.name, c, id_type, why)
        elif id_type == "str":
            col = pc.cast(check_ids(col, part.name, c), pa.string())  # whole numbers: their decimal text
        raw = raw.set_column(raw.column_names.index(c), c, col)
    return raw


def _resolved(edges: object) -> list[readers.Source] | None:
    if isinstance(edges, readers.Source):
        return [edges]
    if readers.is_paths(edges):
        return readers.resolve(edges)
    return None


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
            elif is_text(f.type) and is_text(prev):
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
    edges: EdgesInput | list[readers.Source],
    *,
    src_col: str | None = None,
    dst_col: str | None = None,
    kinds: KindClasses = KindClasses(),
    need_time: bool = True,
    id_type: str | None = None,
    context_col: str | None = None,
) -> EdgeTable:
    """Read and validate edges.

    Parameters
    ----------
    edges : path, list of paths or Sources, pyarrow.Table or pandas.DataFrame
        Files (Parquet, CSV, Arrow IPC; directories of Parquet files),
        sources resolved by :func:`graphlabor.readers.resolve`, or an
        in-memory table.
    src_col, dst_col : str, optional
        Names of the id columns (default ``src``/``source`` and
        ``dst``/``target``).
    kinds : KindClasses
        Which kinds are revenue and pay (to require an ``amount`` on them).
    need_time : bool, default True
        Read the ``timestamp`` column (when False it is not read at all).
    id_type : {"text", "int"}, optional
        Force the ids' type. By default the ids are integers when every
        source's ids are (in CSV: every id written as a canonical integer),
        and text when any source has text ids; a source without rows has no
        say. Integer ids of a run with text ids become their decimal text.

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
    if id_type not in (None, "text", "int", "str"):
        from .errors import ParameterError

        raise ParameterError(f"id_type must be 'text' or 'int', got {id_type!r}")
    forced = {"text": "str", "str": "str", "int": "int"}.get(id_type or "")
    parts: list[_Part] = []
    origins: list[tuple[str, int]] = []
    sources = _resolved(edges)
    if sources is not None:
        for src in sources:
            if len(src.schema) == 0:
                # a CSV file without a header (no bytes, blank lines): no columns, no rows
                origins.append((src.name, 0))
                continue
            cols = match_columns(src.schema.names, src.name, src_col, dst_col, need_time, context_col)
            s, d = cols["src"], cols["dst"]
            if src.format == "csv":
                # ids are read as text and typed once every source is read
                csv_types = {s: pa.string(), d: pa.string()}
                if "kind" in cols:
                    csv_types[cols["kind"]] = pa.string()
                raw = readers.read_table(src, list(cols.values()), csv_types)
            else:
                text = [c for c in dict.fromkeys((s, d, cols.get("kind"), cols.get("context")))
                        if c is not None and is_text(src.schema.field(c).type)]
                raw = readers.read_table(src, list(cols.values()), dictionary=text)
            say = _ids_say(raw, list(dict.fromkeys((s, d))), src.name, src.format == "csv")
            parts.append(_Part(src.name, raw, cols, say, src.format == "csv"))
            origins.append((src.name, raw.num_rows))
    else:
        name = "<edges>"
        table = readers.from_memory(edges, name)
        cols = match_columns(table.column_names, name, src_col, dst_col, need_time, context_col)
        raw = table.select(list(cols.values()))
        say = _ids_say(raw, list(dict.fromkeys((cols["src"], cols["dst"]))), name, False)
        parts.append(_Part(name, raw, cols, say, False))
        origins.append((name, raw.num_rows))
    says = {p.ids_say for p in parts} - {None}
    kind = forced or ("str" if "str" in says else "int" if says else "str")
    tables = []
    columns: dict[str, list[str]] = {}
    for part in parts:
        for role, name in part.cols.items():
            columns.setdefault(role, [])
            if name not in columns[role]:
                columns[role].append(name)
        if part.raw.num_rows == 0 and len(parts) > 1:
            continue  # an empty source has no say, in ids or in columns
        raw = _type_ids(part, kind, forced is not None)
        tables.append(_normalize(raw, part.name, part.cols, kinds))
    table = _unify(tables) if tables else _empty_edges(kind)
    return EdgeTable(table, kind, origins, {r: "/".join(n) for r, n in columns.items()})
