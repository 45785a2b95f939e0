"""Stage "classify": coded edges -> the edges of each class, and what they say of roles.

The kind of an edge decides its class (``CONTRIBUTION``, ``REVENUE``,
``PAY``). :func:`classify` works on any chunk of rows (a row group, a
partition): it returns that chunk's edges of each class and per-node role
evidence flags. Chunks combine with :func:`combine`: the class arrays are
concatenated in chunk order and the flags OR-ed, which gives what one call on
all rows gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .edges import KindClasses
from .kernels.classify import node_evidence, split_by_class
from .kernels.contexts import of_class
from .prepare import EdgeArrays
from .codes import CONTRIBUTION, PAY, REVENUE

__all__ = ["Classified", "classify", "combine", "kind_table"]


@dataclass
class Classified:
    """The edges of one chunk, by class.

    Attributes
    ----------
    contribution : EdgeArrays
        ``value`` is ``weight x weight_of_kind[kind]``.
    revenue, pay : EdgeArrays
        ``value`` is ``amount`` (NaN where missing).
    revenue_rows, pay_rows : ndarray of int64
        Input row (plus the chunk's ``row_offset``) of each revenue and pay
        edge, for messages that name a row.
    evidence : ndarray of uint8, shape (n,)
        :func:`graphlabor.kernels.classify.node_evidence` flags.
    self_loops : int
        Contribution edges ``a -> a`` among the rows (dropped from
        ``contribution`` unless they were kept).
    """

    contribution: EdgeArrays
    revenue: EdgeArrays
    pay: EdgeArrays
    revenue_rows: np.ndarray
    pay_rows: np.ndarray
    evidence: np.ndarray
    self_loops: int = 0


def kind_table(kind_names: Sequence[str], kinds: KindClasses, kind_weights: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Class and weight multiplier of each kind code.

    Returns
    -------
    class_of_kind : ndarray of uint8
    weight_of_kind : ndarray of float64
        ``kind_weights[name]``, default 1.

    Examples
    --------
    >>> kind_table(["click", "spend"], KindClasses(), {"click": 2.0})
    (array([0, 1], dtype=uint8), array([2., 1.]))
    """
    class_of_kind = np.array(
        [REVENUE if k in kinds.revenue else PAY if k in kinds.pay else CONTRIBUTION for k in kind_names], dtype=np.uint8
    )
    weight_of_kind = np.array([kind_weights.get(k, 1.0) for k in kind_names], dtype=np.float64)
    return class_of_kind, weight_of_kind


def classify(
    src: np.ndarray,
    dst: np.ndarray,
    kind: np.ndarray,
    class_of_kind: np.ndarray,
    weight: np.ndarray,
    weight_of_kind: np.ndarray,
    amount: pa.Array | pa.ChunkedArray,
    n: int,
    seconds: np.ndarray | None = None,
    row_offset: int = 0,
    context: np.ndarray | None = None,
    self_loops: str = "drop",
) -> Classified:
    """Split one chunk of coded edges by class and read the role evidence off it.

    Parameters
    ----------
    src, dst : ndarray of uint32
        Node codes.
    kind : ndarray of uint16
        Kind codes.
    class_of_kind, weight_of_kind : ndarray
        From :func:`kind_table`.
    weight : ndarray of float64
        The ``weight`` column.
    amount : pyarrow array of float64
        The ``amount`` column (nulls allowed); only the revenue and pay rows are read.
    n : int
        Number of nodes (length of the evidence flags).
    seconds : ndarray of int64, optional
        Epoch seconds, carried along with each class.
    row_offset : int, default 0
        Row number of the chunk's first row in the whole input.
    context : ndarray of int32, optional
        Context code per row (``-1``: none), carried along with each class
        (:attr:`EdgeArrays.context`).
    self_loops : {"drop", "keep"}, default "drop"
        Contribution edges ``a -> a`` are dropped (and counted) unless kept
        (docs/model.md, section 2).

    Returns
    -------
    Classified

    Examples
    --------
    Node 0 pays platform 1 revenue 5; node 2 clicked on 1 with weight 2:

    >>> import numpy as np, pyarrow as pa
    >>> c = classify(np.array([0, 2], np.uint32), np.array([1, 1], np.uint32), np.array([1, 0], np.uint16),
    ...              np.array([0, 1], np.uint8), np.array([1.0, 2.0]), np.array([1.0, 1.0]),
    ...              pa.array([5.0, None]), 3)
    >>> c.contribution.src.tolist(), c.contribution.value.tolist(), c.revenue.value.tolist(), c.revenue_rows.tolist()
    ([2], [2.0], [5.0], [0])
    >>> c.evidence.tolist()
    [2, 33, 16]
    """
    edge_class = class_of_kind[kind] if len(kind) else np.empty(0, np.uint8)
    evidence = node_evidence(src, dst, edge_class, n)
    contribution, revenue_rows, pay_rows = split_by_class(src, dst, kind, edge_class, weight, weight_of_kind, seconds)
    parts = []
    for rows in (revenue_rows, pay_rows):
        value = pc.fill_null(amount.take(pa.array(rows)), np.nan).to_numpy() if len(rows) else np.empty(0)
        if not value.flags.writeable:  # the array type of the contribution values: one compiled signature of the kernels after
            value = value.copy()
        parts.append(EdgeArrays(src[rows], dst[rows], kind[rows], value, None if seconds is None else seconds[rows],
                                context=None if context is None else context[rows]))
    c = EdgeArrays(*contribution)
    if context is not None:
        c.context = of_class(edge_class, CONTRIBUTION, np.ascontiguousarray(context, dtype=np.int32))
    # numpy, not a parallel kernel: streamed ingestion calls this from two threads at once
    loops = c.src == c.dst
    n_loops = int(np.count_nonzero(loops))
    if n_loops and self_loops == "drop":
        c = c.take(np.flatnonzero(~loops))
    del loops
    return Classified(c, parts[0], parts[1], revenue_rows + row_offset, pay_rows + row_offset, evidence, n_loops)


def combine(chunks: Sequence[Classified]) -> Classified:
    """The classification of all rows from those of consecutive chunks (in row order).

    >>> import numpy as np, pyarrow as pa
    >>> args = (np.array([0, 1], np.uint8), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    >>> a = classify(np.array([0], np.uint32), np.array([1], np.uint32), np.array([1], np.uint16),
    ...              args[0], args[1][:1], args[2], pa.array([5.0]), 3)
    >>> b = classify(np.array([2], np.uint32), np.array([1], np.uint32), np.array([0], np.uint16),
    ...              args[0], args[1][1:], args[2], pa.array([None], pa.float64()), 3, row_offset=1)
    >>> c = combine([a, b])
    >>> c.contribution.src.tolist(), c.revenue_rows.tolist(), c.evidence.tolist()
    ([2], [0], [2, 33, 16])
    """
    if len(chunks) == 1:
        return chunks[0]

    def cat(parts: list[EdgeArrays]) -> EdgeArrays:
        def opt(name: str) -> np.ndarray | None:
            arrays = [getattr(p, name) for p in parts]
            return np.concatenate(arrays) if all(a is not None for a in arrays) else None

        return EdgeArrays(
            np.concatenate([p.src for p in parts]), np.concatenate([p.dst for p in parts]),
            np.concatenate([p.kind for p in parts]), np.concatenate([p.value for p in parts]),
            opt("seconds"), opt("pair"), opt("context"),
        )

    return Classified(
        cat([c.contribution for c in chunks]), cat([c.revenue for c in chunks]), cat([c.pay for c in chunks]),
        np.concatenate([c.revenue_rows for c in chunks]), np.concatenate([c.pay_rows for c in chunks]),
        np.bitwise_or.reduce([c.evidence for c in chunks]), sum(c.self_loops for c in chunks),
    )
