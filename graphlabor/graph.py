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
from .kernels.bucket import build_csr_bucketed
from .params import ModelParams


@dataclass
class FlowGraph:
    """The value-flow matrix and what each node keeps.

    Attributes
    ----------
    n : int
        Number of nodes.
    indptr : ndarray of uint64, shape (n + 1,)
    indices : ndarray of uint32, shape (nnz,)
        Sender of each entry.
    data : ndarray of float64, shape (nnz,)
        Fraction of the sender's held value passed to the row's node.
    keep : ndarray of float64, shape (n,)
        Share of held value each node keeps.
    out_weight : ndarray of float64, shape (n,)
        Total flow weight leaving each node (``W_j``).
    n_flow_edges : int
        Contribution edges that carry value (before merging duplicates).
    """

    n: int
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    keep: np.ndarray
    out_weight: np.ndarray
    n_flow_edges: int

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])


def pass_fractions(role: np.ndarray, out_weight: np.ndarray, params: ModelParams) -> np.ndarray:
    """Share of held value each node passes on (0 where it has nowhere to pass)."""
    frac = np.zeros(role.shape[0], dtype=np.float64)
    user = (role == K.USER) & (out_weight > 0)
    platform = (role == K.PLATFORM) & (out_weight > 0)
    frac[user] = params.damping
    frac[platform] = 1.0 - params.platform_share
    return frac


def build_flow_graph(src, dst, weight, role, params: ModelParams) -> FlowGraph:
    """Build ``T`` from contribution edges (codes) and node roles.

    Parameters
    ----------
    src, dst : ndarray of uint32, shape (m,)
        Contribution edges, "src acted on dst".
    weight : ndarray of float64, shape (m,)
        Contribution weight (kind weight times ``weight``).
    role : ndarray of int8, shape (n,)
    params : ModelParams

    Returns
    -------
    FlowGraph
    """
    n = int(role.shape[0])
    senders, receivers, w, _ = K.flow_edges(src, dst, weight, role)
    n_flow = int(senders.shape[0])
    # bit-identical to K.build_csr, 2-3x faster on large graphs (cache-sized row buckets)
    indptr, indices, data = build_csr_bucketed(receivers, senders, w, n)
    del senders, receivers, w
    out_weight = K.column_sums(indptr, indices, data, n)
    passed = pass_fractions(role, out_weight, params)
    factor = np.divide(passed, out_weight, out=np.zeros(n), where=out_weight > 0)
    K.scale_columns(indices, data, factor)
    return FlowGraph(n, indptr, indices, data, 1.0 - passed, out_weight, n_flow)
