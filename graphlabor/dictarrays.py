"""Dictionary-encoded text columns: work on the dictionary, not on every row.

Parquet writers (pyarrow, Spark, pandas) store text columns with few distinct
values, such as node ids and edge kinds, dictionary-encoded: each row group
holds its distinct strings once and every row a small integer. Reading such a
column with ``read_dictionary`` keeps that form, and every per-value step
(hashing an id, testing a kind) then runs once per distinct string of a row
group instead of once per row. This module holds those steps.

A column here is a :class:`pyarrow.ChunkedArray` (or Array) of ``string``,
``large_string`` or ``dictionary<string>``; chunks of one column may carry
different dictionaries (one per row group, one per file).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import DTypeLike


def chunks_of(col: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    """The chunks of a ChunkedArray, or ``[col]`` for an Array."""
    return list(col.chunks) if isinstance(col, pa.ChunkedArray) else [col]


def map_values(col: pa.Array | pa.ChunkedArray, fn: Callable[[Any], Any], out_type: pa.DataType) -> pa.ChunkedArray:
    """``fn`` applied to every value of a text column, computed once per distinct value.

    Parameters
    ----------
    col : ChunkedArray or Array of string or dictionary<string>
    fn : callable
        An element-wise function of a plain string array (a pyarrow compute
        function, for instance).
    out_type : pyarrow.DataType
        Type of ``fn``'s result.

    Examples
    --------
    >>> import pyarrow as pa, pyarrow.compute as pc
    >>> col = pa.array(["spend", "click", "spend"]).dictionary_encode()
    >>> map_values(col, lambda v: pc.is_in(v, value_set=pa.array(["spend"])), pa.bool_()).to_pylist()
    [True, False, True]
    """
    out = []
    for ch in chunks_of(col):
        if pa.types.is_dictionary(ch.type):
            out.append(pc.take(fn(ch.dictionary), ch.indices))
        else:
            out.append(fn(ch))
    return pa.chunked_array(out, out_type)


def _identity(arr: pa.Array) -> tuple[Any, ...]:
    """A key equal for two arrays viewing the same buffers at the same place (shared dictionaries)."""
    return tuple((b.address, b.size) if b is not None else None for b in arr.buffers()) + (arr.offset, len(arr))


def sorted_codes(
    columns: Sequence[pa.Array | pa.ChunkedArray], dtype: DTypeLike = np.uint32, *, sort: bool = True
) -> tuple[pa.Array, list[np.ndarray]]:
    """Distinct values of text columns in byte-wise order, and every row's rank among them.

    Ranks depend only on the *set* of values, never on the order of rows or
    chunks. Dictionary chunks are hashed through their dictionaries: each
    distinct dictionary (the chunks of one Parquet row group share one) is
    hashed once, and its rows are mapped with one gather. A dictionary value
    that no row uses is not a value of the column and is left out.

    Parameters
    ----------
    columns : list of ChunkedArray or Array
        Columns of ``string``, ``large_string`` and/or ``dictionary<string>``,
        without nulls.
    dtype : numpy integer type, default uint32
        Type of the codes.
    sort : bool, default True
        False leaves the distinct values in the order they were first met
        (codes local to these columns, for a caller that merges several such
        dictionaries and sorts once, as :mod:`graphlabor.stream` does).

    Raises
    ------
    OverflowError
        More distinct values than ``dtype`` can number (checked before any
        row is mapped).

    Returns
    -------
    values : pyarrow.Array of string (large_string if any column is)
        The distinct values in ascending byte-wise (UTF-8) order.
    codes : list of ndarray of ``dtype``
        For each column, the rank in ``values`` of each row's value.

    Examples
    --------
    >>> import pyarrow as pa
    >>> a = pa.DictionaryArray.from_arrays(pa.array([1, 1], pa.int32()), pa.array(["unused", "x"]))
    >>> values, (ca, cb) = sorted_codes([a, pa.array(["y", "x"])])
    >>> values.to_pylist(), ca.tolist(), cb.tolist()
    (['x', 'y'], [0, 0], [1, 0])
    """
    chunks = [chunks_of(col) for col in columns]
    text = pa.large_string() if any(
        pa.types.is_large_string(ch.type.value_type if pa.types.is_dictionary(ch.type) else ch.type)
        for cs in chunks for ch in cs
    ) else pa.string()
    pieces: list[pa.Array] = []  # what gets hashed: distinct dictionaries and plain chunks
    used: list[np.ndarray | None] = []  # per dictionary piece: which entries some row uses
    plans: list[list[tuple[int, np.ndarray | None]]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for cs in chunks:
        plan = []
        for ch in cs:
            if len(ch) == 0:
                continue  # (dictionary_encode drops empty chunks)
            if pa.types.is_dictionary(ch.type):
                key = _identity(ch.dictionary)
                k = seen.get(key)
                if k is None:
                    k = seen[key] = len(pieces)
                    d = ch.dictionary.cast(text)
                    # a null entry no row uses (a used one was rejected before) must not be hashed as null
                    pieces.append(pc.fill_null(d, "") if d.null_count else d)
                    used.append(np.zeros(len(ch.dictionary), dtype=bool))
                plan.append((k, ch.indices.to_numpy(zero_copy_only=False)))
            else:
                pieces.append(ch.cast(text))
                used.append(None)  # a plain chunk uses all of its values
                plan.append((len(pieces) - 1, None))
        plans.append(plan)
    if not pieces:
        return pa.array([], text), [np.empty(0, dtype) for _ in columns]
    for plan in plans:
        for k, idx in plan:
            if idx is not None:
                used_k = used[k]
                assert used_k is not None  # a dictionary chunk's mask
                used_k[idx] = True
    encoded = pc.dictionary_encode(pa.chunked_array(pieces, text))
    values = encoded.chunks[-1].dictionary
    piece_codes = [ch.indices.to_numpy(zero_copy_only=False) for ch in encoded.chunks]
    keep = np.zeros(len(values), dtype=bool)
    for k, codes in enumerate(piece_codes):
        keep[codes if used[k] is None else codes[used[k]]] = True
    kept = np.flatnonzero(keep)
    values = values.take(pa.array(kept))
    if kept.size > int(np.iinfo(dtype).max) + 1:
        raise OverflowError(f"{kept.size} distinct values do not fit codes of type {np.dtype(dtype).name}")
    order = pc.sort_indices(values).to_numpy() if sort else np.arange(kept.size)
    rank = np.zeros(keep.size, dtype=dtype)  # unused values keep 0: no row maps to them
    rank[kept[order]] = np.arange(order.size, dtype=dtype)
    piece_rank = [rank[c] for c in piece_codes]
    out = []
    for plan in plans:
        codes = np.empty(sum(len(piece_rank[k]) if idx is None else idx.size for k, idx in plan), dtype=dtype)
        start = 0
        for k, idx in plan:
            size = len(piece_rank[k]) if idx is None else idx.size
            if idx is None:
                codes[start:start + size] = piece_rank[k]
            else:
                np.take(piece_rank[k], idx, out=codes[start:start + size])
            start += size
        out.append(codes)
    return (values.take(pa.array(order)) if sort else values), out
