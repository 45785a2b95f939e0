"""graphlabor.kernels: Numba kernels on plain NumPy arrays.

This module knows nothing of Arrow, Click or NetworkX. It offers

- :func:`build_csr` / :func:`transpose_csr`: canonical CSR from an edge list
  (duplicates added, columns sorted, independent of input row order), as a
  :class:`CSR` named tuple;
- :func:`group_sum`: order-independent sums by group;
- :func:`propagate_step`: one pull-based step ``out = s + T x`` on a block of
  rows, the unit of work that a distributed engine runs on each partition;
- :func:`power_iteration`: the solve ``x = s + T x``, returning a
  :class:`PowerIterationResult` named tuple.

Each checks its arguments first and raises :class:`ValueError` naming the
argument (an index out of range, a wrong dtype, shape or length), as
``scipy.sparse.csgraph`` does; the checks are single vectorized passes.

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
>>> result = K.power_iteration(*T, v, 1e-12, 1000)
>>> pr = (1 - alpha) * result.x          # what each node keeps
>>> round(float(pr.sum()), 9), result.converged
(1.0, True)

A row index past ``n_rows`` is refused, not written out of bounds:

>>> K.build_csr(np.array([3], np.uint32), np.array([0], np.uint32), np.ones(1), 3)
Traceback (most recent call last):
...
ValueError: rows holds index 3, out of range for n_rows=3
"""

from .csr import CSR, INDEX_DTYPE, INDPTR_DTYPE, MAX_NODES, build_csr, transpose_csr
# used by graphlabor itself, not part of the documented API (explicit re-exports)
from .flow import ADVERTISER as ADVERTISER
from .flow import PLATFORM as PLATFORM
from .flow import USER as USER
from .flow import column_sums as column_sums
from .flow import flow_edges as flow_edges
from .flow import scale_columns as scale_columns
from .propagate import CHUNK_ROWS, PowerIterationResult, n_chunks, power_iteration, propagate_step
from .segment import group_sum

__all__ = [
    "CHUNK_ROWS",
    "CSR",
    "INDEX_DTYPE",
    "INDPTR_DTYPE",
    "MAX_NODES",
    "PowerIterationResult",
    "build_csr",
    "group_sum",
    "n_chunks",
    "power_iteration",
    "propagate_step",
    "transpose_csr",
]
