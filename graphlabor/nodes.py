"""Nodes file -> validated node table.

Columns: ``id`` (required, the edge ids' type), ``role`` (``user``,
``platform`` or ``advertiser``; optional, null means "infer from the edges"),
``value`` (number >= 0 injected at the node; optional) and any others, which
are carried to the output unchanged.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from . import columns, readers
from .codes import ROLE_NAMES
from ._types import NodesInput
from .errors import InputError, where
from .validate import check_ids, check_numbers, check_text_ids, first_non_int_text, first_true, id_kind

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


def _csv_ids(table: pa.Table, source: str, edge_id_type: str | None) -> pa.Table:
    """Type the text ids of a CSV nodes file like the edge ids.

    Integer edge ids: every node id must be a canonical integer. String edge
    ids: ids stay text. No edges: integers if every id is one. An empty
    ``role`` cell is null (the role is inferred from the edges).
    """
    if "role" in table.column_names:
        role = table["role"]
        empty = pc.equal(pc.utf8_length(role), 0)
        table = table.set_column(table.column_names.index("role"), "role", pc.if_else(empty, pa.scalar(None, pa.string()), role))
    ids = check_text_ids(table["id"], source, "id")
    if edge_id_type == "str":
        return table
    row = first_non_int_text(ids)
    if row is None:
        return table.set_column(table.column_names.index("id"), "id", pc.cast(ids, pa.int64()))
    if edge_id_type == "int":
        raise InputError(
            f"{where(source, 'id', row, ids[row].as_py())}: node id is not an integer "
            "(written as in the edges, without leading zeros), but the edge ids are integers"
        )
    return table


def node_columns(nodes: NodesInput) -> list[str]:
    """Column names of a nodes file or table, from its schema only (no data read).

    >>> import pyarrow as pa
    >>> node_columns(pa.table({"id": [1], "team": ["a"]}))
    ['id', 'team']
    """
    if isinstance(nodes, (str, os.PathLike)):
        names: list[str] = []
        for src in readers.resolve(nodes):
            names += [c for c in readers.read_schema(src).names if c not in names]
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
            schema = readers.read_schema(src)
            if "id" not in schema.names:
                raise InputError(f"{src.name}: missing required column 'id'; columns are {schema.names}")
            types = {}
            if src.format == "csv":
                # ids as text, typed below like the edge ids; roles as text
                types = {"id": pa.string(), "role": pa.string()}
            t = readers.read_table(src, schema.names, types)
            if src.format == "csv":
                t = _csv_ids(t, src.name, edge_id_type)
            tables.append(t)
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables, promote_options="permissive")
    else:
        name = "<nodes>"
        table = readers.from_memory(nodes, name)
        if "id" not in table.column_names:
            raise InputError(f"{name}: missing required column 'id'; columns are {table.column_names}")
    ids = check_ids(table["id"], name, "id")
    if edge_id_type is not None and id_kind(ids.type) != edge_id_type:
        want = "integers" if edge_id_type == "int" else "strings"
        raise InputError(f"{where(name, 'id')}: node ids are {ids.type} but the edge ids are {want}")
    counts = pc.value_counts(ids)
    dup = first_true(pc.greater(counts.field("counts"), 1))
    if dup is not None:
        value = counts.field("values")[dup].as_py()
        row = first_true(pc.equal(ids, pa.scalar(value, ids.type)))
        raise InputError(f"{where(name, 'id', row, value)}: duplicate node id (each id may appear once)")
    role = None
    if "role" in table.column_names:
        role = table["role"]
        if pa.types.is_dictionary(role.type):
            role = role.cast(role.type.value_type)
        if not (pa.types.is_string(role.type) or pa.types.is_large_string(role.type) or pa.types.is_null(role.type)):
            raise InputError(f"{where(name, 'role')}: must be one of {ROLE_NAMES}, found type {role.type}")
        role = role.cast(pa.string())
        # null means "infer from the edges"; is_in says False (not null) for nulls
        bad = pc.invert(pc.or_(pc.is_in(role, value_set=pa.array(ROLE_NAMES)), pc.is_null(role)))
        row = first_true(bad)
        if row is not None:
            raise InputError(f"{where(name, 'role', row, role[row].as_py())}: unknown role (expected one of {', '.join(ROLE_NAMES)})")
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
