"""The prepared edges and nodes: what the stages before the model produce.

:class:`Prepared` holds plain arrays indexed by node code and by edge row;
original ids live only in its :class:`~graphlabor.node_index.NodeIndex`. The
stages that fill it (:mod:`~graphlabor.encode`, :mod:`~graphlabor.classify`,
:mod:`~graphlabor.roles`, :mod:`~graphlabor.decay`, :mod:`~graphlabor.align`)
are chained by :mod:`graphlabor.pipeline`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError
from .node_index import NodeIndex


@dataclass
class EdgeArrays:
    """Edges of one class as plain arrays.

    Attributes
    ----------
    src, dst : ndarray of uint32
        Endpoints as node codes.
    kind : ndarray of uint16
        Kind code of each edge.
    value : ndarray of float64
        Contribution weight (kind weight x ``weight`` x time decay) for
        contribution edges; ``amount`` for revenue and pay edges.
    seconds : ndarray of int64 or None
        Timestamps as epoch seconds, when read.
    """

    src: np.ndarray
    dst: np.ndarray
    kind: np.ndarray
    value: np.ndarray
    seconds: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.src.shape[0])

    def take(self, rows: np.ndarray | None) -> EdgeArrays:
        """The edges at ``rows`` (all of them for None)."""
        if rows is None:
            return self
        return EdgeArrays(
            self.src[rows], self.dst[rows], self.kind[rows], self.value[rows],
            None if self.seconds is None else self.seconds[rows],
        )


@dataclass
class Prepared:
    """Encoded edges and nodes.

    Attributes
    ----------
    index : NodeIndex
    contribution, revenue, pay : EdgeArrays
        The edges of each class.
    kind_names : list of str
    kind_class : ndarray of uint8
        Class of each kind (indexed by kind code).
    role : ndarray of int8, shape (n,)
    node_value : ndarray of float64, shape (n,) or None
        Nodes-file injections by node code.
    extra : pyarrow.Table or None
        Nodes-file extra columns, one row per node code.
    origins : list of (str, int)
        Edge sources and their row counts.
    columns : dict of str to str
        Which input column was used for what (see :class:`~graphlabor.edges.EdgeTable`).
    """

    index: NodeIndex
    contribution: EdgeArrays
    revenue: EdgeArrays
    pay: EdgeArrays
    kind_names: list[str]
    kind_class: np.ndarray
    role: np.ndarray
    node_value: np.ndarray | None
    extra: pa.Table | None
    origins: list[tuple[str, int]]
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.index)

    @property
    def m(self) -> int:
        return len(self.contribution) + len(self.revenue) + len(self.pay)

    def column(self, name: str) -> np.ndarray | None:
        """A numeric nodes-file column by node code (NaN where missing), or None."""
        if self.extra is None or name not in self.extra.column_names:
            return None
        col = self.extra[name]
        try:
            values: np.ndarray = pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
            return values
        except (pa.ArrowException, ValueError):
            raise InputError(f"nodes file: column {name!r} must be numbers") from None
