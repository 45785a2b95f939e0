"""Arrow tables of the generated economy: edges block by block, nodes in slices, and their Parquet options."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from ..errors import ParameterError
from .calibration import COUNTRIES, FAMILIES, KINDS, ROLE_OF_TYPE, TYPES
from .plan import Plan

# ---------------------------------------------------------------------------
# Arrow tables
# ---------------------------------------------------------------------------

_TS = pa.timestamp("s", tz="UTC")


def edge_schema(ids: str = "str", contexts: bool = True) -> pa.Schema:
    """Schema of the generated edges (with ``context`` last unless ``contexts=False``).

    >>> edge_schema("int").field("src").type
    DataType(int64)
    """
    idt = pa.string() if ids == "str" else pa.int64()
    fields = [("src", idt), ("dst", idt), ("kind", pa.string()), ("weight", pa.float64()),
              ("amount", pa.float64()), ("timestamp", _TS)]
    if contexts:
        fields.append(("context", pa.int64()))
    return pa.schema(fields)


def node_schema(ids: str = "str") -> pa.Schema:
    """Schema of the generated nodes file."""
    idt = pa.string() if ids == "str" else pa.int64()
    return pa.schema([("id", idt), ("role", pa.string()), ("type", pa.string()), ("family", pa.string()),
                      ("country", pa.string()), ("hours", pa.float64())])


_KIND_ARRAY = pa.array(KINDS, pa.string())


class Tables:
    """Arrow tables from a plan's blocks.

    With ``for_file=True`` the ``kind`` column is a dictionary array (written
    to Parquet without hashing every string; the file stores the same
    dictionary-encoded strings either way, and is written without the Arrow
    schema, so it reads back as plain strings).
    """

    def __init__(self, plan: Plan, ids: str, for_file: bool = False, contexts: bool = True):
        self.plan = plan
        self.ids = ids
        self.for_file = for_file
        self.contexts = contexts
        self.schema = edge_schema(ids, contexts)
        if for_file:
            self.schema = self.schema.set(2, pa.field("kind", pa.dictionary(pa.int8(), pa.string())))
        self._ones: pa.Array | None = None
        self.id_array = plan.id_strings() if ids == "str" else None

    def edges(self, b: int) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        out = self.plan.block(b, with_contexts=self.contexts)
        src, dst, kind, amount, is_money, ts = out[:6]
        n = len(src)
        if self._ones is None or len(self._ones) < n:
            self._ones = pa.array(np.ones(n))
        if self.id_array is not None:
            s = self.id_array.take(pa.array(src))
            d = self.id_array.take(pa.array(dst))
        else:
            s, d = pa.array(src), pa.array(dst)
        cols = [
            s, d,
            (pa.DictionaryArray.from_arrays(pa.array(kind.view(np.int8)), _KIND_ARRAY) if self.for_file
             else _KIND_ARRAY.take(pa.array(kind))),
            self._ones.slice(0, n),
            pa.array(amount, mask=~is_money),
            pa.array(ts, type=pa.int64()).view(_TS),
        ]
        if self.contexts:
            ctx = out[6]
            cols.append(pa.array(ctx, mask=ctx < 0))
        return pa.Table.from_arrays(cols, schema=self.schema), kind, amount

    def nodes(self, lo: int, hi: int) -> pa.Table:
        p = self.plan
        idx = np.arange(lo, hi, dtype=np.int64)
        ids = self.id_array.slice(lo, hi - lo) if self.id_array is not None else pa.array(idx)
        t = p.node_type[lo:hi]
        fam = p.node_family[lo:hi]
        hours = p.node_hours[lo:hi]
        cols = [
            ids,
            pa.array(ROLE_OF_TYPE, pa.string()).take(pa.array(t)),
            pa.array(TYPES, pa.string()).take(pa.array(t)),
            pa.array(FAMILIES, pa.string()).take(pa.array(fam.astype(np.int64), mask=fam < 0)),
            pa.array(COUNTRIES, pa.string()).take(pa.array(p.node_country[lo:hi])),
            pa.array(hours, mask=np.isnan(hours)),
        ]
        return pa.Table.from_arrays(cols, schema=node_schema(self.ids))


def write_options(ids: str) -> dict[str, Any]:
    """Parquet options for the edges file.

    Timestamps (random within a row group, so dictionary encoding fails) are
    delta-encoded, which halves both their size and their encoding time; int
    ids are delta-encoded too (a third faster to write and to read than
    dictionary pages, 10% larger) and left uncompressed (snappy gained nothing
    on them); string ids are dictionary-encoded, with snappy (10% smaller).
    Statistics (min/max) are written for the timestamp only: on random ids,
    kinds and amounts they prune nothing, and string statistics cost a third
    of the encoding time. No Arrow schema is stored: the Parquet types alone
    read back as string, int64, double and timestamp[ms, tz=UTC] (Parquet has
    no seconds unit; pyarrow would read a stored timestamp[s] back as [ms]
    anyway).
    """
    encoding = {"timestamp": "DELTA_BINARY_PACKED"}
    dictionary = ["kind", "weight", "amount"]
    if ids == "int":
        encoding.update(src="DELTA_BINARY_PACKED", dst="DELTA_BINARY_PACKED")
        compression = "none"
    else:
        dictionary += ["src", "dst"]
        compression = "snappy"
    return dict(store_schema=False, compression=compression, use_dictionary=dictionary,
                column_encoding=encoding, write_statistics=["timestamp"])


NODE_WRITE_OPTIONS = dict(compression="snappy")


def check_ids(ids: object) -> str:
    if ids not in ("str", "int"):
        raise ParameterError(f"ids must be 'str' or 'int', got {ids!r}")
    return str(ids)


