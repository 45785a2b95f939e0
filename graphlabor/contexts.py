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
from .kernels.contexts import match_pairs
from .node_index import _dense_int_path

if TYPE_CHECKING:
    from .prepare import EdgeArrays

#: Largest number of distinct contexts (codes are int32, -1 for none).
MAX_CONTEXTS = int(np.iinfo(np.int32).max)

UNMATCHED = ("pool", "keep")


def encode_contexts(col: pa.Array | pa.ChunkedArray, source: str = "edges",
                    name: str = "context") -> tuple[pa.Array, np.ndarray]:
    """Distinct context ids in sorted order, and each row's code (``-1`` for null).

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
    if len(values) > MAX_CONTEXTS:
        raise InputError(f"{source}: column {name!r}: {len(values)} distinct contexts, more than {MAX_CONTEXTS}")
    if valid is None:
        codes[:] = c
    else:
        codes[valid] = c
    return values, codes


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
                        self.ptr, self.platform, out)
        return out


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
    keys = np.unique(revenue_context[sel].astype(np.int64) * (1 << 32) + revenue_dst[sel].astype(np.int64))
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


__all__ = ["MAX_CONTEXTS", "UNMATCHED", "Pairs", "build_pairs", "context_labels", "encode_contexts", "match_contexts"]
