"""Contribution edges + roles -> the value-flow matrix ``T`` (CSR by receiver).

``T[i, j]`` is the fraction of its held value that node ``j`` passes to node
``i``. For a sender ``j`` with total flow weight ``W_j`` (the weights of the
flow edges leaving it; see :mod:`graphlabor.kernels.flow`):

- a user passes ``damping * w / W_j`` along each flow edge;
- a platform passes ``(1 - platform_share) * w / W_j``;
- a node with ``W_j = 0`` passes nothing and keeps everything.

``keep[j] = 1 - sum_i T[i, j]`` is the share of held value ``j`` keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import kernels as K
from .codes import Role
from .kernels.flowbuild import flow_csr
from .kernels.multiset import build_csr_counted
from .kernels.pairflow import PairEntries
from .kernels.pairflow import pair_entries as _pair_entries
from .params import ModelParams


@dataclass
class FlowGraph:
    """The value-flow matrix and what each node keeps.

    Attributes
    ----------
    n : int
        Number of senders: the nodes, then (with contexts) the
        ``(platform, context)`` pairs.
    indptr : ndarray of uint64, shape (rows + 1,)
    indices : ndarray of uint32, shape (nnz,)
        Sender of each entry.
    data : ndarray of float64, shape (nnz,)
        Fraction of the sender's held value passed to the row's node. With
        contexts these are the real nodes' rows and columns only (``rows``
        real nodes); the pairs' columns are :attr:`pairs`.
    keep : ndarray of float64, shape (n,)
        Share of held value each sender keeps.
    out_weight : ndarray of float64, shape (n,)
        Total flow weight leaving each sender (``W_j``).
    n_flow_edges : int
        Contribution edges that carry value (before merging duplicates).
    by_label : tuple or None
        When built with labels: the flow weights ``W`` split by label, as a
        canonical CSR ``(indptr, indices, data, width)`` whose row
        ``i * width + k`` holds the weights of the flow edges into ``i``
        with label ``k`` (unscaled: weights, not fractions), for the nodes
        that can receive (with contexts, the real nodes: not the pairs). Its row groups
        add up to ``T``'s weights before scaling (up to rounding: ``T`` adds
        all duplicates of a pair together, whatever their labels).
    pairs : PairEntries or None
        With contexts: the pair senders' entries, pair by pair
        (:func:`graphlabor.kernels.pairflow.pair_entries`; unscaled weights:
        pair ``q`` passes ``weight * factor[q]`` of its held value along an
        entry, ``factor = (1 - keep) / out_weight`` over the pairs). Pairs
        receive nothing, so these columns of ``T`` are never part of the
        solve: their passes are folded into the users' injection.
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    keep: np.ndarray
    out_weight: np.ndarray
    n_flow_edges: int
    by_label: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None
    pairs: PairEntries | None = None
    pair_factor: np.ndarray | None = None

    @property
    def rows(self) -> int:
        """Rows of the CSR: the real nodes."""
        return int(self.indptr.shape[0]) - 1

    @property
    def nnz(self) -> int:
        """Entries of ``T``, the pairs' included."""
        return int(self.indices.shape[0]) + (0 if self.pairs is None else int(self.pairs.user.shape[0]))

    def pair_y(self, held_pairs: np.ndarray) -> np.ndarray:
        """What each pair passes per unit of flow weight, holding ``held_pairs``: ``factor * held``."""
        assert self.pair_factor is not None
        out: np.ndarray = self.pair_factor * held_pairs
        return out

    def entries_per_sender(self) -> np.ndarray:
        """Distinct receivers each sender passes value to (positive entries of its column of ``T``).

        A platform with ``platform_share=1`` keeps everything: its entries are 0 and it has none.
        """
        out = np.bincount(self.indices[self.data > 0], minlength=self.n)
        if self.pairs is not None and self.pair_factor is not None:
            out[self.rows:] = np.where(self.pair_factor > 0, self.pairs.contributors, 0)
        return out


def pass_fractions(role: np.ndarray, out_weight: np.ndarray, params: ModelParams) -> np.ndarray:
    """Share of held value each node passes on (0 where it has nowhere to pass)."""
    frac = np.zeros(role.shape[0], dtype=np.float64)
    user = (role == Role.USER) & (out_weight > 0)
    platform = (role == Role.PLATFORM) & (out_weight > 0)
    frac[user] = params.damping
    frac[platform] = 1.0 - params.platform_share
    return frac


#: Contribution weights in ``[2**-100, 2**100]`` are used as given; outside it
#: each sender's weights are first divided by its largest (see :func:`sender_scaled`)
ORDINARY_WEIGHTS = (2.0**-100, 2.0**100)


def sender_scaled(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, role: np.ndarray) -> np.ndarray:
    """Contribution weights, divided by the largest weight of each edge's sender where needed.

    Value is split among a sender's flow edges in proportion to their
    weights, so dividing all of one sender's weights by one number changes
    no result. Doing so keeps extreme but valid weights (a subnormal
    ``1e-310``, two of ``1e308`` whose sum overflows) from overflowing or
    underflowing when they are summed and inverted: after it every weight is
    at most 1 and every sender's largest is exactly 1. Weights all within
    :data:`ORDINARY_WEIGHTS` are returned as they are (the same array), so
    ordinary inputs give bit-identical results.

    The sender of a user -> platform edge is the platform; of any other
    edge, its ``src`` (edges that carry no value are scaled harmlessly).

    Examples
    --------
    >>> import numpy as np
    >>> role = np.array([0, 0, 1], np.int8)      # users 0, 1; platform 2
    >>> sender_scaled(np.array([0, 1], np.uint32), np.array([2, 2], np.uint32),
    ...               np.array([1e308, 1e308]), role).tolist()
    [1.0, 1.0]
    >>> w = np.array([1.0, 2.0])
    >>> sender_scaled(np.array([0, 1], np.uint32), np.array([2, 2], np.uint32), w, role) is w
    True
    """
    lo, hi = ORDINARY_WEIGHTS
    if weight.shape[0] == 0:
        return weight
    top, low = float(weight.max()), float(weight.min())
    if not np.isfinite(top):
        from .errors import InputError

        raise InputError(
            f"a contribution weight times its --kind-weight overflows ({top}): the largest number is about 1.8e308; "
            "divide the weights (only their ratios per sender matter)"
        )
    if low < lo and top <= hi:
        positive = weight[weight > 0]
        low = float(positive.min()) if positive.size else lo
    if lo <= low and top <= hi:
        return weight
    sender = np.where((role[src] == Role.USER) & (role[dst] == Role.PLATFORM), dst, src)
    biggest = np.zeros(role.shape[0], dtype=np.float64)
    np.maximum.at(biggest, sender, weight)
    scale = biggest[sender]
    scaled: np.ndarray = np.divide(weight, scale, out=np.zeros_like(weight), where=scale > 0)
    return scaled


def pair_block(src: np.ndarray, dst: np.ndarray, weight: np.ndarray, role: np.ndarray, pairs: np.ndarray, k: int,
               labels: np.ndarray | None = None, n_labels: int = 0) -> PairEntries:
    """The ``(platform, context)`` pairs' entries, grouped by pair, as :func:`build_flow_graph` builds them.

    ``role`` is the real nodes' (``n`` of them); labels are carried when
    :func:`build_flow_graph` keeps the split by kind with them (at most
    ``2**16`` labels and ``(n + k) * (n_labels + 1)`` rows that fit).
    """
    width = int(n_labels) + 1
    n = int(role.shape[0])
    if labels is not None and ((n + k) * width > K.MAX_NODES or width > 1 << 16):
        labels = None
    return _pair_entries(src, dst, weight, role, pairs, k, labels)


def build_flow_graph(
    src: np.ndarray,
    dst: np.ndarray,
    weight: np.ndarray,
    role: np.ndarray,
    params: ModelParams,
    labels: np.ndarray | None = None,
    n_labels: int = 0,
    pairs: np.ndarray | None = None,
    first_pair: int = 0,
    idle: np.ndarray | None = None,
    pair_entries: PairEntries | None = None,
) -> FlowGraph:
    """Build ``T`` from contribution edges (codes) and node roles.

    Parameters
    ----------
    src, dst : ndarray of uint32, shape (m,)
        Contribution edges, "src acted on dst".
    weight : ndarray of float64, shape (m,)
        Contribution weight (kind weight times ``weight``).
    role : ndarray of int8, shape (n,)
    params : ModelParams
    labels : ndarray of uint16, shape (m,), optional
        A label per edge in ``[0, n_labels)`` (the contribution kind) to keep
        the flow split by (:attr:`FlowGraph.by_label`), for breakdowns.
        ``T`` itself does not depend on the labels: it is bit for bit the
        matrix built without them.
    n_labels : int
    pairs : ndarray of int32, shape (m,), optional
        Per edge, its ``(platform, context)`` pair (``-1``: none); pair ``q``
        is the sender ``first_pair + q``, whose ``role`` entry is a platform
        (see :func:`graphlabor.kernels.flow.flow_edges`).
    first_pair : int
        Node code of pair 0: the number of real nodes.
    idle : ndarray of uint8, optional
        Platforms whose pool holds nothing: their pool's flow edges are left
        out (they would pass nothing; see :func:`graphlabor.kernels.flow.flow_edges`).
    pair_entries : PairEntries, optional
        The pairs' entries when already built (:func:`pair_block` of the same
        edges and labels).

    Returns
    -------
    FlowGraph

    Examples
    --------
    Two users click a platform (user 0 twice, once per kind); the platform
    passes all it holds in proportion to the clicks.

    >>> import numpy as np
    >>> from graphlabor.params import ModelParams
    >>> g = build_flow_graph(np.array([0, 0, 1], np.uint32), np.array([2, 2, 2], np.uint32),
    ...                      np.array([1.0, 1.0, 2.0]), np.array([0, 0, 1], np.int8), ModelParams(),
    ...                      labels=np.array([0, 1, 0], np.uint16), n_labels=2)
    >>> g.indptr.tolist(), g.indices.tolist(), g.data.tolist(), g.keep.tolist()
    ([0, 1, 2, 2], [2, 2], [0.5, 0.5], [1.0, 1.0, 0.0])
    >>> g.by_label[2].tolist()      # weights into user 0 by kind, then user 1
    [1.0, 1.0, 2.0]
    """
    n = int(role.shape[0])
    width = int(n_labels) + 1 if labels is not None else 1
    if labels is not None and n * width > K.MAX_NODES:
        labels = None  # too many (node, label) rows to number: no split (breakdowns fall back)
        width = 1
    # pairs receive nothing: the split by kind has rows for the real nodes only
    label_nodes = first_pair if pairs is not None and 0 < first_pair < n else n
    by_label = None
    pe: PairEntries | None = None
    if labels is None or width <= 1 << 16:
        # flow edges selected while they move into cache-sized row blocks, exact
        # duplicates counted there, then sorted: bit-identical to K.build_csr.
        # With labels, T and its split from the same pass: T adds every
        # duplicate of a pair, whatever its label, in ascending order of weight,
        # so it has the bits of the build without labels (summing label by
        # label first would round differently); the split's row
        # node * width + kind adds the duplicates of that kind alone
        if pairs is not None and 0 < first_pair < n:
            # the (platform, context) senders' entries, which almost never repeat, grouped by pair apart from
            # the matrix (pairs receive nothing: their passes are folded into the users' injection)
            real = role[:first_pair]
            n_flow, (indptr, indices, data), split = flow_csr(src, dst, weight, real, labels, width, label_nodes,
                                                              None, 0, idle)
            pe = pair_block(src, dst, weight, real, pairs, n - first_pair, labels, n_labels) \
                if pair_entries is None else pair_entries
            n_flow += int(pe.user.shape[0])
        else:
            n_flow, (indptr, indices, data), split = flow_csr(src, dst, weight, role, labels, width, label_nodes,
                                                              pairs, first_pair, idle)
        if split is not None:
            by_label = (*split, width)
    else:  # more kinds than the label field holds: the split built on its own
        with_pairs = pairs is not None and 0 < first_pair < n
        rr = role[:first_pair] if with_pairs else role
        senders, receivers, w, lab = K.flow_edges(src, dst, weight, rr, labels, None if with_pairs else pairs,
                                                  first_pair, idle)
        assert lab is not None  # labels were given
        n_flow = int(senders.shape[0])
        indptr, indices, data = build_csr_counted(receivers, senders, w, int(rr.shape[0]))
        if with_pairs:
            assert pairs is not None
            # (no labels: more than 16 bits; the breakdown then reads the pairs' part from the edges)
            pe = pair_block(src, dst, weight, rr, pairs, n - first_pair, labels, n_labels) \
                if pair_entries is None else pair_entries
            n_flow += int(pe.user.shape[0])
        rows = receivers * np.uint32(width) + lab.astype(np.uint32)
        del receivers, lab
        by_label = (*build_csr_counted(rows, senders, w, label_nodes * width), width)
        del rows, senders, w
    out_weight = K.column_sums(indptr, indices, data, n)
    if pe is not None:
        out_weight[first_pair:] = pe.out_weight
    passed = pass_fractions(role, out_weight, params)
    factor = np.divide(passed, out_weight, out=np.zeros(n), where=out_weight > 0)
    K.scale_columns(indices, data, factor)
    return FlowGraph(n, indptr, indices, data, 1.0 - passed, out_weight, n_flow, by_label, pe,
                     None if pe is None else factor[first_pair:])
