"""Stage "encode": edge-table columns -> numbers (node codes, kind codes, epoch seconds).

Node ids and kind names become dense codes that depend only on the *set* of
values (ranks in sorted order), never on the row order: the first condition
for results that are identical whatever the input order. The index of ids
and the list of kind names are global (they need the union over all rows);
once they are known, the codes of any chunk follow from them
(:meth:`graphlabor.node_index.NodeIndex.lookup`, :func:`kind_codes_of`), so a
streaming or partitioned reader encodes each chunk on its own with the same
result. Timestamps are converted row by row (:func:`epoch_seconds`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .dictarrays import sorted_codes
from .errors import InputError
from .node_index import NodeIndex, encode

__all__ = ["encode_ids", "encode_kinds", "epoch_seconds", "kind_codes_of"]


def encode_ids(
    src: pa.ChunkedArray, dst: pa.ChunkedArray, node_ids: pa.ChunkedArray | None = None
) -> tuple[NodeIndex, np.ndarray, np.ndarray, np.ndarray | None]:
    """Dense codes of the edge endpoints and of the nodes file's ids.

    Parameters
    ----------
    src, dst : pyarrow array
        Edge endpoints (int64 or string, one type).
    node_ids : pyarrow array, optional
        The nodes file's ``id`` column; its ids join the index even when no
        edge touches them.

    Returns
    -------
    index : NodeIndex
        Sorted union of the ids; the code of ``index.ids[i]`` is ``i``.
    src, dst : ndarray of uint32
    node_codes : ndarray of uint32 or None
        Code of each nodes-file row (None without ``node_ids``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> index, s, d, nc = encode_ids(pa.array(["b", "a"]), pa.array(["c", "b"]), pa.array(["d"]))
    >>> index.ids.to_pylist(), s.tolist(), d.tolist(), nc.tolist()
    (['a', 'b', 'c', 'd'], [1, 0], [2, 1], [3])
    """
    cols = [src, dst]
    if node_ids is not None:
        if len(src) == 0:
            cols = [c.cast(node_ids.type) for c in cols]
        cols.append(node_ids)
    index, codes = encode(cols)
    return index, codes[0], codes[1], codes[2] if node_ids is not None else None


def encode_kinds(kind: pa.Array | pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
    """Kind names in sorted order and each edge's kind code.

    Parameters
    ----------
    kind : pyarrow string array (plain or dictionary-encoded)

    Returns
    -------
    names : list of str
    codes : ndarray of uint16
        ``names[codes[i]]`` is row ``i``'s kind; independent of the row order.

    Examples
    --------
    >>> import pyarrow as pa
    >>> encode_kinds(pa.array(["view", "click", "view"]))
    (['click', 'view'], array([1, 0, 1], dtype=uint16))
    """
    if len(kind) == 0:
        return [], np.empty(0, np.uint16)
    try:
        names, (codes,) = sorted_codes([kind], np.uint16)
    except OverflowError:
        raise InputError(f"more than {np.iinfo(np.uint16).max + 1} distinct edge kinds are not supported") from None
    return names.to_pylist(), codes


def kind_codes_of(kind: pa.Array | pa.ChunkedArray, names: list[str]) -> np.ndarray:
    """Codes of one chunk's kinds against the global sorted ``names`` (from :func:`encode_kinds`).

    >>> import pyarrow as pa
    >>> kind_codes_of(pa.array(["view", "click"]), ["click", "view"]).tolist()
    [1, 0]
    """
    codes = pc.index_in(kind, value_set=pa.array(names, pa.string()))
    if codes.null_count:
        raise ValueError("a kind of the chunk is not among the names")
    out: np.ndarray = codes.to_numpy(zero_copy_only=False).astype(np.uint16)
    return out


def epoch_seconds(
    timestamp: pa.Array | pa.ChunkedArray, source: str, locate: Callable[[int], tuple[str, int]]
) -> np.ndarray:
    """int64 epoch seconds of the ``timestamp`` column; every row needs one.

    Parameters
    ----------
    timestamp : pyarrow array
        Timestamps (any unit, read as UTC without a zone), dates, integer
        epoch seconds or ISO text.
    source : str
        Name for messages.
    locate : callable
        ``locate(row) -> (file, row in file)`` for the message on a missing value.

    Examples
    --------
    >>> import pyarrow as pa
    >>> epoch_seconds(pa.array([0, 86400]), "edges", lambda r: ("edges", r)).tolist()
    [0, 86400]
    """
    from .timeaxis import to_epoch_seconds

    if timestamp.null_count:
        f, r = locate(int(pc.index(pc.is_null(timestamp), True).as_py()))
        raise InputError(f"{f}: column 'timestamp', row {r}: missing timestamp (time options need one on every edge)")
    return to_epoch_seconds(timestamp, source, locate)
