"""Contexts: the campaign, task batch or ride an edge belongs to.

An optional edge column (``context`` by default) names the context of an
edge; null means none. A revenue edge with context ``c`` into platform ``P``
injects its amount at the pair ``(P, c)`` instead of ``P``'s pool; the pair
is an extra sender of the value flow (a node code after the real nodes) that
passes what it holds, minus ``platform_share``, only to the users whose
contribution edges into ``P`` carry context ``c`` (docs/model.md, section 2).

This module encodes context ids to dense codes (in sorted order, independent
of row order), numbers the pairs that received revenue, and matches edges to
them. It works on arrays; the value flow itself runs unchanged on the graph
with the pairs added as senders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .dictarrays import sorted_codes
from .errors import InputError
from .kernels.contexts import match_pairs, single_pairs
from .node_index import _dense_int_path
from .validate import is_text

if TYPE_CHECKING:
    from .prepare import EdgeArrays

#: Largest number of distinct contexts (codes are int32, -1 for none).
MAX_CONTEXTS = int(np.iinfo(np.int32).max)

UNMATCHED = ("pool", "keep")


def encode_contexts(col: pa.Array | pa.ChunkedArray, source: str = "edges",
                    name: str = "context") -> tuple[pa.Array, np.ndarray]:
    """Distinct context ids in sorted order, and each row's code (``-1`` for null).

    Works on any part of the column (a row group, a partition, the whole
    column): the codes depend only on the set of values of the part, never on
    the order of its rows or chunks. :func:`merge_contexts` maps the codes of
    several parts to the sorted union of their values.

    Integers whose range is at most about the number of rows (the usual
    campaign, batch or ride numbers) are encoded in three passes of Numba
    kernels over the Arrow buffers (range, presence, rank); sparser integers
    through ``np.unique``; text through :func:`graphlabor.dictarrays.sorted_codes`.

    Parameters
    ----------
    col : ChunkedArray or Array of integers or text (plain or dictionary)

    Examples
    --------
    >>> import pyarrow as pa
    >>> values, codes = encode_contexts(pa.array(["b", None, "a", "b"]))
    >>> values.to_pylist(), codes.tolist()
    (['a', 'b'], [1, -1, 0, 1])
    >>> values, codes = encode_contexts(pa.array([7, None, 3]))
    >>> values.to_pylist(), codes.tolist()
    ([3, 7], [1, -1, 0])
    """
    col = col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col])
    typ = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
    if pa.types.is_integer(typ) and not pa.types.is_dictionary(col.type):
        got = _dense_int_contexts(col)
        if got is not None:
            values, codes = got
            _check_count(values, source, name)
            return values, codes
    m = len(col)
    codes = np.full(m, -1, dtype=np.int32)
    valid = None
    if col.null_count:
        valid = pc.is_valid(col).to_numpy(zero_copy_only=False)
        col = pc.drop_null(col)
    if pa.types.is_integer(typ):
        vals = col.to_numpy() if len(col) else np.empty(0, np.int64)
        vals = vals.astype(np.int64, copy=False)
        dense = _dense_int_path([vals])
        if dense is not None:
            ids, (c,) = dense
        else:
            ids, c = np.unique(vals, return_inverse=True)
        values = pa.array(ids, pa.int64())
    elif pa.types.is_string(typ) or pa.types.is_large_string(typ):
        values, (c,) = sorted_codes([col], np.int64) if len(col) else (pa.array([], pa.string()), [np.empty(0, np.int64)])
    else:
        raise InputError(f"{source}: column {name!r} must hold integers or text (context ids), found {typ}")
    _check_count(values, source, name)
    if valid is None:
        codes[:] = c
    else:
        codes[valid] = c
    return values, codes


def _check_count(values: pa.Array, source: str, name: str) -> None:
    if len(values) > MAX_CONTEXTS:
        raise InputError(f"{source}: column {name!r}: {len(values)} distinct contexts, more than {MAX_CONTEXTS}")


def _int_buffers(col: pa.ChunkedArray) -> list[tuple[np.ndarray, np.ndarray, int, int]]:
    """Per non-empty chunk: its int64 values, validity bitmap (empty: no nulls), offset, and first row."""
    out = []
    at = 0
    for ch in col.chunks:
        n = len(ch)
        if n:
            if ch.type != pa.int64():
                ch = ch.cast(pa.int64(), safe=False)  # as ``astype(np.int64)`` would
            validity, data = ch.buffers()[:2]
            vals = np.frombuffer(data, dtype=np.int64, count=ch.offset + n)[ch.offset:]
            bitmap = (np.frombuffer(validity, dtype=np.uint8) if ch.null_count and validity is not None
                      else np.empty(0, np.uint8))
            out.append((vals, bitmap, ch.offset if bitmap.size else 0, at))
        at += n
    return out


def _dense_int_contexts(col: pa.ChunkedArray) -> tuple[pa.Array, np.ndarray] | None:
    """Integer contexts whose range is at most about the number of valid rows; None for sparser ones."""
    from .kernels.contexts import dense_codes, int_range, mark_present

    parts = _int_buffers(col)
    ranges = [int_range(v, b, o) for v, b, o, _ in parts]
    n_valid = sum(r[2] for r in ranges)
    codes = np.empty(len(col), dtype=np.int32)
    if n_valid == 0:
        codes[:] = -1
        return pa.array([], pa.int64()), codes
    lo = min(r[0] for r in ranges if r[2])
    hi = max(r[1] for r in ranges if r[2])
    if hi - lo >= n_valid + (1 << 16):  # sparse (the rank table would outgrow the codes): np.unique
        return None
    present = np.zeros(hi - lo + 1, dtype=np.uint8)
    for v, b, o, _ in parts:
        mark_present(v, b, o, lo, present)
    rank = np.cumsum(present, dtype=np.int32)
    rank -= 1
    for v, b, o, at in parts:
        dense_codes(v, b, o, lo, rank, codes[at:at + v.shape[0]])
    ids = np.flatnonzero(present).astype(np.int64)
    ids += lo
    return pa.array(ids, pa.int64()), codes


def merge_contexts(parts: list[tuple[pa.Array, np.ndarray]]) -> tuple[pa.Array, list[np.ndarray]]:
    """Codes of several parts (each :func:`encode_contexts`' output) in the sorted union of their values.

    Streaming and partitioned engines encode each row group or partition on
    its own, then merge: the result is the same as encoding the whole column
    at once, whatever the split.

    Examples
    --------
    >>> import pyarrow as pa
    >>> a, b = encode_contexts(pa.array([9, None, 4])), encode_contexts(pa.array([5, 9]))
    >>> values, (ca, cb) = merge_contexts([a, b])
    >>> values.to_pylist(), ca.tolist(), cb.tolist()
    ([4, 5, 9], [2, -1, 0], [1, 2])
    >>> encode_contexts(pa.array([9, None, 4, 5, 9]))[1].tolist()
    [2, -1, 0, 1, 2]
    """
    vals = [v for v, _ in parts]
    if not vals:
        return pa.array([], pa.int64()), []
    if any(pa.types.is_integer(v.type) for v in vals if len(v)):
        if not all(pa.types.is_integer(v.type) for v in vals if len(v)):
            raise InputError("context: some parts hold integers and others text")
        values_np, inverse = np.unique(np.concatenate([v.to_numpy() for v in vals]).astype(np.int64),
                                       return_inverse=True)
        values: pa.Array = pa.array(values_np, pa.int64())
        remap_all = inverse.astype(np.int32)
    else:
        both = pa.chunked_array([v.cast(pa.large_string()) for v in vals], pa.large_string())
        values, (r,) = sorted_codes([both], np.int32) if len(both) else (pa.array([], pa.string()), [np.empty(0, np.int32)])
        remap_all = r.astype(np.int32, copy=False)
    out = []
    at = 0
    for v, codes in parts:
        remap = remap_all[at:at + len(v)]
        at += len(v)
        c = np.full(codes.shape[0], -1, dtype=np.int32)
        ok = codes >= 0
        c[ok] = remap[codes[ok]]
        out.append(c)
    _check_count(values, "edges", "context")
    return values, out


@dataclass
class LocalContexts:
    """One row group's context ids, as :func:`local_contexts` numbers them.

    Attributes
    ----------
    lo, hi : int or None
        Integers in a range narrower than ``2**31``: a row's code is its
        value minus ``lo``, and ``hi`` the largest value (no distinct
        values are listed).
    values : pyarrow.Array or None
        Otherwise the distinct values in the order first met; a row's code
        is its position here.
    text : bool
        Text context ids (else integers).
    """

    lo: int | None = None
    hi: int | None = None
    values: pa.Array | None = None
    text: bool = False


def local_contexts(col: pa.Array | pa.ChunkedArray) -> tuple[LocalContexts, np.ndarray]:
    """Number one row group's contexts locally (``-1`` for null); :func:`merge_local` ranks them globally.

    Integers whose range in the row group fits in an ``int32`` get their
    offset from the smallest (two Numba passes over the Arrow buffers, no
    hashing or sorting); wider integers and text get a local dictionary, by
    hashing (text through its Parquet dictionaries).

    Examples
    --------
    >>> import pyarrow as pa
    >>> local, codes = local_contexts(pa.array([7, None, 3]))
    >>> local.lo, codes.tolist()
    (3, [4, -1, 0])
    >>> local, codes = local_contexts(pa.array(["b", None, "a", "b"]))
    >>> local.values.to_pylist(), codes.tolist()
    (['b', 'a'], [0, -1, 1, 0])
    """
    from .kernels.contexts import int_range, offset_codes

    col = col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col])
    typ = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
    m = len(col)
    codes = np.empty(m, dtype=np.int32)
    if pa.types.is_integer(typ) and not pa.types.is_dictionary(col.type):
        parts = _int_buffers(col)
        ranges = [int_range(v, b, o) for v, b, o, _ in parts]
        if not any(r[2] for r in ranges):
            codes[:] = -1
            return LocalContexts(values=pa.array([], pa.int64())), codes
        lo = min(r[0] for r in ranges if r[2])
        hi = max(r[1] for r in ranges if r[2])
        if hi - lo < MAX_CONTEXTS:
            for v, b, o, at in parts:
                offset_codes(v, b, o, lo, codes[at:at + v.shape[0]])
            return LocalContexts(lo=lo, hi=hi), codes
        enc = pc.dictionary_encode(col.cast(pa.int64(), safe=False).combine_chunks())
        codes[:] = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False)
        return LocalContexts(values=enc.dictionary), codes
    if not is_text(typ):
        raise InputError(f"context ids must be integers or text, found {typ}")
    codes[:] = -1
    valid = pc.is_valid(col).to_numpy(zero_copy_only=False) if col.null_count else None
    col = pc.drop_null(col) if col.null_count else col
    values, (c,) = sorted_codes([col], np.int32, sort=False) if len(col) else (pa.array([], pa.string()),
                                                                               [np.empty(0, np.int32)])
    if valid is None:
        codes[:] = c
    else:
        codes[valid] = c
    return LocalContexts(values=values, text=True), codes


def merge_local(parts: list[LocalContexts], codes: list[list[np.ndarray]], source: str = "edges",
                name: str = "context") -> tuple[pa.Array, list[tuple[np.ndarray, int]]]:
    """The global sorted context ids of row groups numbered by :func:`local_contexts`, and how to map each one's codes.

    ``codes[i]`` are the arrays that hold row group ``i``'s codes (any
    subset or reordering of its rows that keeps every code used, such as
    its edges of each class and the codes of the rows it dropped). The global ids are those
    :func:`encode_contexts` finds on all rows at once; row group ``i``'s
    code ``c`` becomes ``table[c + shift]`` for its ``(table, shift)``, or
    ``c + shift`` when the table is empty (every id of the range is used)
    (:func:`graphlabor.kernels.contexts.remap_codes`). An offset-coded row
    group may have its codes renumbered in place.

    Integers in a range about as narrow as the number of rows are ranked
    through one presence table (no sort); others through one sort of the
    row groups' distinct ids.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> from graphlabor.kernels.contexts import remap_codes
    >>> a, ca = local_contexts(pa.array([9, None, 4]))
    >>> b, cb = local_contexts(pa.array([5, 9]))
    >>> values, maps = merge_local([a, b], [[ca], [cb]])
    >>> values.to_pylist()
    [4, 5, 9]
    >>> for c, (table, shift) in zip((ca, cb), maps):
    ...     remap_codes(c, table, shift, c)
    >>> ca.tolist(), cb.tolist()
    ([2, -1, 0], [1, 2])
    """
    from .kernels.contexts import mark_offsets

    if any(p.text for p in parts):
        if not all(p.text for p in parts):
            raise InputError(f"{source}: column {name!r}: some row groups hold integers and others text")
        vals = [p.values for p in parts if p.values is not None]
        if not sum(len(v) for v in vals):
            return pa.array([], pa.string()), [(np.empty(0, np.int32), 0) for _ in parts]
        text, maps = sorted_codes(vals, np.int32)
        _check_count(text, source, name)
        return text, [(mp, 0) for mp in maps]
    ends = [(p.lo, p.hi) for p in parts if p.lo is not None and p.hi is not None]
    ends += [(int(pc.min(p.values).as_py()), int(pc.max(p.values).as_py())) for p in parts
             if p.values is not None and len(p.values)]
    if not ends:
        return pa.array([], pa.int64()), [(np.empty(0, np.int32), 0) for _ in parts]
    lo = min(e[0] for e in ends)
    hi = max(e[1] for e in ends)
    rows = sum(c.shape[0] for cs in codes for c in cs)
    if hi - lo < rows + (1 << 16):  # a presence table over the range: no sort
        present = np.zeros(hi - lo + 1, dtype=np.uint8)
        for p, cs in zip(parts, codes):
            if p.lo is not None:
                for c in cs:
                    mark_offsets(c, p.lo - lo, present)
            elif p.values is not None and len(p.values):
                present[p.values.to_numpy() - lo] = 1
        rank = np.cumsum(present, dtype=np.int32)
        rank -= 1
        ids = np.flatnonzero(present).astype(np.int64)
        ids += lo
        # every id of the range present (numbered campaigns, batches, rides): a code's rank is its offset, and
        # the offset-coded row groups need no table (remap_codes adds the shift instead of a gather per row)
        offsets = rank if ids.shape[0] < present.shape[0] else np.empty(0, np.int32)
        del present
        values: pa.Array = pa.array(ids, pa.int64())
        _check_count(values, source, name)
        return values, [(offsets, p.lo - lo) if p.lo is not None else
                        (rank[p.values.to_numpy() - lo] if p.values is not None and len(p.values)
                         else np.empty(0, np.int32), 0) for p in parts]
    locals_ = []  # sparse: each row group's distinct ids, then one sort of them all
    for p, cs in zip(parts, codes):
        if p.lo is not None:
            used = np.unique(np.concatenate([c[c >= 0] for c in cs])) if cs else np.empty(0, np.int32)
            for c in cs:
                ok = c >= 0
                c[ok] = np.searchsorted(used, c[ok])
            locals_.append(used.astype(np.int64) + p.lo)
        else:
            locals_.append(p.values.to_numpy() if p.values is not None and len(p.values) else np.empty(0, np.int64))
    ids = np.unique(np.concatenate(locals_))
    values = pa.array(ids, pa.int64())
    _check_count(values, source, name)
    return values, [(np.searchsorted(ids, v).astype(np.int32), 0) for v in locals_]


@dataclass
class Pairs:
    """The ``(platform, context)`` pairs that received revenue.

    Attributes
    ----------
    values : pyarrow.Array
        Context ids by code (sorted).
    platform : ndarray of uint32, shape (k,)
        Platform of each pair; pairs are ordered by ``(context, platform)``.
    context : ndarray of int32, shape (k,)
        Context code of each pair.
    ptr : ndarray of int64, shape (n_contexts + 1,)
        ``ptr[c] .. ptr[c + 1]`` are the pairs of context ``c``.
    unmatched : str
        ``"pool"`` (revenue of a pair nobody contributed to goes to the
        platform's pool) or ``"keep"`` (the platform keeps it).
    """

    values: pa.Array
    platform: np.ndarray
    context: np.ndarray
    ptr: np.ndarray
    unmatched: str = "pool"

    def __len__(self) -> int:
        return int(self.platform.shape[0])

    @property
    def n_contexts(self) -> int:
        return len(self.values)

    def match(self, node: np.ndarray, context: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The pair of each ``(node, context)`` (``-1`` for none); ``out`` may be ``context``."""
        out = np.empty(node.shape[0], np.int32) if out is None else out
        if node.shape[0]:
            match_pairs(np.ascontiguousarray(node, dtype=np.uint32), np.ascontiguousarray(context, dtype=np.int32),
                        self.ptr, self.platform, self._single(), out)
        return out

    def _single(self) -> np.ndarray:
        """Each context's only pair and its platform, one word (:func:`~graphlabor.kernels.contexts.single_pairs`; made once)."""
        single: np.ndarray | None = self.__dict__.get("_single_pairs")
        if single is None:
            single = single_pairs(self.ptr, self.platform)
            self.__dict__["_single_pairs"] = single
        return single

    def __getstate__(self) -> dict[str, object]:
        """The fields only (the lookup table is made again where it is used, not shipped to Dask workers)."""
        state = dict(self.__dict__)
        state.pop("_single_pairs", None)
        return state


def build_pairs(values: pa.Array, revenue_dst: np.ndarray, revenue_context: np.ndarray, is_platform: np.ndarray,
                unmatched: str = "pool") -> Pairs:
    """Number the pairs ``(dst, context)`` of the revenue edges with a context into a platform.

    >>> import numpy as np, pyarrow as pa
    >>> p = build_pairs(pa.array(["c1", "c2"]), np.array([4, 4, 3, 4], np.uint32), np.array([1, -1, 1, 1], np.int32),
    ...                 np.array([0, 0, 0, 1, 1], bool))
    >>> p.platform.tolist(), p.context.tolist(), p.ptr.tolist()
    ([3, 4], [1, 1], [0, 0, 2])
    """
    if unmatched not in UNMATCHED:
        from .errors import ParameterError

        raise ParameterError(f"unmatched must be one of {', '.join(UNMATCHED)}, got {unmatched!r}")
    n_ctx = len(values)
    sel = (revenue_context >= 0) & is_platform[revenue_dst]
    keys = revenue_context[sel].astype(np.int64) * (1 << 32) + revenue_dst[sel].astype(np.int64)
    keys.sort()  # distinct keys by sort (NumPy 2's hashing np.unique is far slower on 10^6 keys)
    if keys.size:
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    context = (keys >> 32).astype(np.int32)
    platform = (keys & 0xFFFFFFFF).astype(np.uint32)
    ptr = np.zeros(n_ctx + 1, dtype=np.int64)
    np.cumsum(np.bincount(context, minlength=n_ctx), out=ptr[1:])
    return Pairs(values, platform, context, ptr, unmatched)


def match_contexts(values: pa.Array, contribution: EdgeArrays, revenue: EdgeArrays, role: np.ndarray,
                   unmatched: str = "pool") -> Pairs:
    """Stage "match contexts": number the pairs that received revenue and give each edge its pair.

    Sets ``revenue.pair`` and ``contribution.pair`` (the contribution edges'
    context codes become pair indices, in place, and ``context`` is dropped
    from them); returns the :class:`Pairs`.
    """
    from .codes import PLATFORM

    assert revenue.context is not None and contribution.context is not None
    pairs = build_pairs(values, revenue.dst, revenue.context, role == PLATFORM, unmatched)
    revenue.pair = pairs.match(revenue.dst, revenue.context)
    contribution.pair = pairs.match(contribution.dst, contribution.context, out=contribution.context)
    contribution.context = None
    return pairs


def context_labels(pairs: Pairs, q: np.ndarray) -> list[object]:
    """The context id of each pair in ``q``, as Python values."""
    return pairs.values.take(pa.array(pairs.context[q])).to_pylist() if len(q) else []


__all__ = ["MAX_CONTEXTS", "UNMATCHED", "LocalContexts", "Pairs", "build_pairs", "context_labels", "encode_contexts",
           "local_contexts", "match_contexts", "merge_contexts", "merge_local"]
