"""Nodes file -> validated node table.

Columns: ``id`` (required, the edge ids' type), ``role`` (``user``,
``platform`` or ``advertiser`` in any letter case, surrounding spaces
ignored; optional, null or empty means "infer from the edges"),
``value`` (number >= 0 injected at the node; optional) and any others, which
are carried to the output unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import columns, readers
from .codes import ROLE_NAMES
from ._types import NodesInput
from .errors import InputError, where
from .validate import check_ids, check_numbers, check_text_ids, describe_ids, first_true, id_kind, is_text, type_text_ids

@dataclass
class NodeTable:
    """Validated nodes.

    Attributes
    ----------
    source : str
        Name for messages.
    ids : pyarrow.ChunkedArray
        int64 or string ids, unique.
    role : pyarrow.ChunkedArray or None
        Declared roles (string, nulls allowed).
    value : pyarrow.ChunkedArray or None
        Injected value (float64, nulls read as 0).
    extra : pyarrow.Table
        Other columns, row-aligned with ``ids``.
    """

    source: str
    ids: pa.ChunkedArray
    role: pa.ChunkedArray | None
    value: pa.ChunkedArray | None
    extra: pa.Table

    @property
    def id_type(self) -> str | None:
        return id_kind(self.ids.type)


def _match(names: list[str], source: str) -> dict[str, str]:
    """The columns read as ``id``, ``role``, ``value`` and ``hours``, in any letter case when unambiguous.

    ``hours`` is carried to the output under that name (``Hours`` becomes ``hours``).

    >>> _match(["ID", " Role", "Hours", "team"], "n.csv")
    {'id': 'ID', 'role': ' Role', 'hours': 'Hours'}
    """
    out = {}
    for want in ("id", "role", "value", "hours"):
        found = [n for n in names if n.strip().lower() == want]
        if len(found) > 1:
            raise InputError(f"{source}: columns {' and '.join(repr(n) for n in found)} could both be the {want} column; rename or drop one")
        if found:
            out[want] = found[0]
    if "id" not in out:
        raise InputError(f"{source}: missing required column 'id'; columns are {list(names)}")
    return out


def _canonical(table: pa.Table, cols: dict[str, str]) -> pa.Table:
    rename = {v: k for k, v in cols.items()}
    return table.rename_columns([rename.get(n, n) for n in table.column_names])


def normalize_roles(role: pa.Array | pa.ChunkedArray) -> pa.ChunkedArray:
    """Roles as text, trimmed and lower-cased; empty cells and nulls are null ("infer").

    >>> normalize_roles(pa.array(["User", " PLATFORM ", "", None])).to_pylist()
    ['user', 'platform', None, None]
    """
    if pa.types.is_dictionary(role.type):
        role = role.cast(role.type.value_type)
    if pa.types.is_null(role.type):
        return pa.chunked_array([role.cast(pa.string())]) if isinstance(role, pa.Array) else role.cast(pa.string())
    role = pc.utf8_lower(pc.utf8_trim_whitespace(role.cast(pa.string())))
    out = pc.if_else(pc.equal(pc.utf8_length(role), 0), pa.scalar(None, pa.string()), role)
    return out if isinstance(out, pa.ChunkedArray) else pa.chunked_array([out])


def node_columns(nodes: NodesInput) -> list[str]:
    """Column names of a nodes file or table, from its schema only (no data read).

    >>> import pyarrow as pa
    >>> node_columns(pa.table({"id": [1], "team": ["a"]}))
    ['id', 'team']
    """
    if isinstance(nodes, (str, os.PathLike)):
        names: list[str] = []
        for src in readers.resolve(nodes):
            names += [c for c in src.schema.names if c not in names]
        return names
    if isinstance(nodes, (pa.Table, pa.RecordBatch)):
        return list(nodes.column_names)
    if isinstance(nodes, dict):
        return [str(c) for c in nodes]
    return [str(c) for c in getattr(nodes, "columns", [])]


def load_nodes(nodes: NodesInput, edge_id_type: str | None) -> NodeTable:
    """Read and validate a nodes file or table.

    Parameters
    ----------
    nodes : path, pyarrow.Table or pandas.DataFrame
    edge_id_type : {"int", "str"} or None
        Type of the edge ids, which node ids must share (None: no edges).
    """
    if isinstance(nodes, (str, os.PathLike)):
        srcs = readers.resolve(nodes)
        name = os.fspath(nodes)
        tables = []
        for src in srcs:
            cols = _match(src.schema.names, src.name)
            types = {}
            if src.format == "csv":
                # ids as text, typed below like the edge ids; roles as text
                types = {cols[c]: pa.string() for c in ("id", "role") if c in cols}
            t = _canonical(readers.read_table(src, src.schema.names, types), cols)
            if src.format == "csv":
                ids = check_text_ids(t["id"], src.name, "id")
                t = t.set_column(t.column_names.index("id"), "id", type_text_ids(
                    ids, src.name, "id", edge_id_type, "the edge ids are integers"))
            tables.append(t)
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    else:
        name = "<nodes>"
        table = readers.from_memory(nodes, name)
        table = _canonical(table, _match(table.column_names, name))
    ids = check_ids(table["id"], name, "id")
    if edge_id_type is not None and id_kind(ids.type) != edge_id_type:
        want = "integers" if edge_id_type == "int" else "text"
        raise InputError(f"{where(name, 'id')}: node ids are {describe_ids(ids.type)} but the edge ids are {want}")
    counts = pc.value_counts(ids)
    if first_true(pc.greater(counts.field("counts"), 1)) is not None:
        dup_values = pc.filter(counts.field("values"), pc.greater(counts.field("counts"), 1))
        seen = set()
        for r in np.flatnonzero(pc.is_in(ids, value_set=dup_values).to_numpy(zero_copy_only=False)).tolist():
            value = ids[r].as_py()
            if value in seen:
                raise InputError(f"{where(name, 'id', r, value)}: duplicate node id (each id may appear once)")
            seen.add(value)
    role = None
    if "role" in table.column_names:
        role = table["role"]
        if not (is_text(role.type, dictionary=True) or pa.types.is_null(role.type)):
            raise InputError(f"{where(name, 'role')}: must be one of {ROLE_NAMES}, found type {role.type}")
        role = normalize_roles(role)
        # null means "infer from the edges"; is_in says False (not null) for nulls
        bad = pc.invert(pc.or_(pc.is_in(role, value_set=pa.array(ROLE_NAMES)), pc.is_null(role)))
        row = first_true(bad)
        if row is not None:
            raise InputError(f"{where(name, 'role', row, table['role'][row].as_py())}: unknown role (expected one of {', '.join(ROLE_NAMES)}, in any letter case)")
    value = None
    if "value" in table.column_names:
        value = pc.fill_null(check_numbers(table["value"], name, "value", allow_null=True), 0.0)
    extra_names = [c for c in table.column_names if c not in ("id", "role", "value")]
    clash = columns.clashes(extra_names)
    if clash:
        raise InputError(
            f"{name}: column(s) {', '.join(map(repr, clash))} would clash with graphlabor's output columns "
            f"({', '.join(columns.RESERVED)}, via_*); rename them"
        )
    return NodeTable(name, ids, role, value, table.select(extra_names))
