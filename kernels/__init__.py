"""graphlabor.kernels: Numba kernels on plain NumPy arrays.

This module knows nothing of Arrow, Click or NetworkX. It offers

- :func:`build_csr` / :func:`transpose_csr`: canonical CSR from an edge list
  (duplicates added, columns sorted, independent of input row order);
- :func:`group_sum`: order-independent sums by group;
- :func:`propagate_step`: one pull-based step ``out = s + T x`` on a block of
  rows, the unit of work that a distributed engine runs on each partition;
- :func:`power_iteration`: the solve ``x = s + T x``.

Example: personalized PageRank of a 3-cycle with a chord, from arrays.

>>> import numpy as np
>>> from graphlabor import kernels as K
>>> src = np.array([0, 1, 2, 0], dtype=np.uint32)
>>> dst = np.array([1, 2, 0, 2], dtype=np.uint32)
>>> out_deg = np.bincount(src, minlength=3).astype(float)
>>> alpha = 0.85
>>> # receiver-major T: node j passes alpha / out_deg[j] along each out-edge
>>> T = K.build_csr(dst, src, alpha / out_deg[src], 3)
>>> v = np.full(3, 1 / 3)
>>> x, n_iter, res, ok = K.power_iteration(*T, v, 1e-12, 1000)
>>> pr = (1 - alpha) * x          # what each node keeps
>>> round(float(pr.sum()), 9)
1.0
"""

from .csr import INDEX_DTYPE, INDPTR_DTYPE, MAX_NODES, build_csr, transpose_csr
from .propagate import CHUNK_ROWS, n_chunks, power_iteration, propagate_step
from .flow import ADVERTISER, PLATFORM, USER, column_sums, flow_edges, scale_columns
from .segment import group_sum

__all__ = [
    "INDEX_DTYPE",
    "INDPTR_DTYPE",
    "MAX_NODES",
    "CHUNK_ROWS",
    "build_csr",
    "transpose_csr",
    "group_sum",
    "USER",
    "PLATFORM",
    "ADVERTISER",
    "flow_edges",
    "column_sums",
    "scale_columns",
    "n_chunks",
    "power_iteration",
    "propagate_step",
]
