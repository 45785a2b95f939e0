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
from .contexts import Pairs
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
    pair : ndarray of int32 or None
        With contexts, for contribution and revenue edges: the
        ``(platform, context)`` pair the edge belongs to (``-1``: none; see
        :mod:`graphlabor.contexts`).
    context : ndarray of int32 or None
        With contexts: the context code of each edge (``-1``: none); for
        contribution edges it is replaced by ``pair`` once pairs are known.
    """

    src: np.ndarray
    dst: np.ndarray
    kind: np.ndarray
    value: np.ndarray
    seconds: np.ndarray | None = None
    pair: np.ndarray | None = None
    context: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.src.shape[0])

    def take(self, rows: np.ndarray | None) -> EdgeArrays:
        """The edges at ``rows`` (all of them for None)."""
        if rows is None:
            return self
        def sub(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[rows]

        return EdgeArrays(
            self.src[rows], self.dst[rows], self.kind[rows], self.value[rows],
            sub(self.seconds), sub(self.pair), sub(self.context),
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
    evidence : ndarray of uint8, shape (n,) or None
        Role evidence flags (:func:`graphlabor.kernels.classify.node_evidence`).
    pairs : Pairs or None
        With a context column: the ``(platform, context)`` pairs that
        received revenue (:mod:`graphlabor.contexts`).
    self_loops : int
        Contribution edges ``a -> a`` in the input.
    self_loop_mode : str
        ``"drop"`` (they were removed) or ``"keep"``.
    declared : ndarray of bool, shape (n,) or None
        Nodes whose role the nodes file declared.
    role_counts : ndarray of int64, shape (6, k) or None
        Set by the Dask engine, whose edges stay on the workers: the edge
        counts of :func:`graphlabor.breakdowns.roles_report` for the ``k``
        nodes with conflicting evidence.
    advertiser_contributions : int or None
        Set by the Dask engine: contribution edges sent by advertisers.
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
    evidence: np.ndarray | None = None
    pairs: Pairs | None = None
    self_loops: int = 0
    self_loop_mode: str = "drop"
    declared: np.ndarray | None = None
    role_counts: np.ndarray | None = None
    advertiser_contributions: int | None = None

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
