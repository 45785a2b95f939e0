"""Original node ids <-> dense integer codes.

Codes are the ranks of the ids in sorted order (numeric order for integer
ids, byte-wise UTF-8 order for strings), so they depend only on the *set* of
ids, never on the order of the input rows: a first condition for results that
are identical whatever the input order. Original ids live only here; every
later stage works on codes, and ids come back only in the result tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .dictarrays import chunks_of, sorted_codes
from .errors import InputError
from .kernels import INDEX_DTYPE, MAX_NODES


@dataclass(frozen=True)
class NodeIndex:
    """Sorted unique node ids.

    Attributes
    ----------
    ids : pyarrow.Array
        Unique ids in ascending order; the code of ``ids[i]`` is ``i``.
    """

    ids: pa.Array

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def id_type(self) -> str:
        return "int" if pa.types.is_integer(self.ids.type) else "str"

    def lookup(self, values: Any) -> np.ndarray:
        """Codes of ``values`` (-1 where a value is not a known id).

        >>> import pyarrow as pa
        >>> NodeIndex(pa.array(["a", "c"])).lookup(["c", "b"]).tolist()
        [1, -1]
        """
        arr = pa.array(values, type=self.ids.type) if not isinstance(values, (pa.Array, pa.ChunkedArray)) else values
        codes: np.ndarray = pc.fill_null(pc.index_in(arr, value_set=self.ids), -1).to_numpy(zero_copy_only=False).astype(np.int64)
        return codes


def _dense_int_path(values: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]] | None:
    total = sum(v.size for v in values)
    nonempty = [v for v in values if v.size]
    if not nonempty:
        return np.empty(0, np.int64), [np.empty(0, INDEX_DTYPE) for _ in values]
    lo = min(int(v.min()) for v in nonempty)
    hi = max(int(v.max()) for v in nonempty)
    span = hi - lo + 1
    if span > max(4 * total, 1 << 16) or span > (1 << 33):
        return None
    present = np.zeros(span, dtype=bool)
    for v in nonempty:
        present[v - lo] = True
    ids = np.flatnonzero(present).astype(np.int64) + lo
    rank = np.cumsum(present, dtype=np.int64) - 1
    codes = [rank[v - lo].astype(INDEX_DTYPE) if v.size else np.empty(0, INDEX_DTYPE) for v in values]
    return ids, codes


def encode(columns: list[pa.ChunkedArray | pa.Array]) -> tuple[NodeIndex, list[np.ndarray]]:
    """Encode id columns into dense codes shared across all of them.

    Parameters
    ----------
    columns : list of pyarrow arrays
        Id columns of one type (int64 or string), for example ``src``,
        ``dst`` and the nodes file's ``id``.

    Returns
    -------
    index : NodeIndex
        The sorted union of the ids.
    codes : list of ndarray of uint32
        The codes of each column, in order.

    Examples
    --------
    >>> import pyarrow as pa
    >>> index, (s, d) = encode([pa.array(["b", "a"]), pa.array(["c", "b"])])
    >>> index.ids.to_pylist(), s.tolist(), d.tolist()
    (['a', 'b', 'c'], [1, 0], [2, 1])
    """
    typ = columns[0].type if columns else pa.int64()
    if pa.types.is_integer(typ):
        values = [
            (pa.chunked_array(c.chunks if isinstance(c, pa.ChunkedArray) else [c], typ).to_numpy() if len(c) else np.empty(0, np.int64))
            for c in columns
        ]
        dense = _dense_int_path(values)
        if dense is not None:
            ids, codes = dense
            _check_size(len(ids))
            return NodeIndex(pa.array(ids, pa.int64())), codes
        combined = pa.chunked_array([ch for c in columns for ch in chunks_of(c)], typ)
        encoded = pc.dictionary_encode(combined)
        dictionary = encoded.chunks[-1].dictionary
        _check_size(len(dictionary))
        order = pc.sort_indices(dictionary).to_numpy()
        rank = np.empty(len(order), dtype=INDEX_DTYPE)
        rank[order] = np.arange(len(order), dtype=INDEX_DTYPE)
        all_codes = rank[np.concatenate([ch.indices.to_numpy(zero_copy_only=False) for ch in encoded.chunks])]
        out, start = [], 0
        for c in columns:
            out.append(all_codes[start : start + len(c)])
            start += len(c)
        return NodeIndex(dictionary.take(pa.array(order))), out
    # strings (plain, large or dictionary-encoded): hashed once per distinct dictionary
    ids, codes = sorted_codes(columns, INDEX_DTYPE)
    _check_size(len(ids))
    return NodeIndex(ids), codes


def _check_size(n: int) -> None:
    if n > MAX_NODES:
        raise InputError(f"{n} distinct node ids: more than the {MAX_NODES} graphlabor supports")
