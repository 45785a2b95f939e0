"""Rows grouped by block of their key: the cut of a partition's edges by receiver row block.

The Dask engine cuts every partition's flow edges (and its revenue and pay
edges) by the row block of their receiving node, and moves each piece to
the worker of its block. :func:`block_order` is that cut in two passes over
the keys (count, then place), instead of a search, a general sort and a
gather per block.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit
from ._types import I64, Ints


@njit
def block_order(keys: Ints, cuts: I64) -> tuple[I64, I64]:
    """Stable order of ``keys`` by block, and where each block starts in that order.

    Block ``b`` holds the keys with ``cuts[b-1] <= key < cuts[b]``
    (``cuts`` ascending: the blocks' inner bounds), as
    ``np.searchsorted(cuts, keys, side="right")`` numbers them.

    Returns
    -------
    order : ndarray of int64, shape (m,)
        Positions of the keys, block by block, input order kept within a block.
    starts : ndarray of int64, shape (len(cuts) + 2,)
        Block ``b``'s positions are ``order[starts[b]:starts[b + 1]]``.

    Examples
    --------
    >>> import numpy as np
    >>> order, starts = block_order(np.array([7, 1, 5, 2, 9], np.uint32), np.array([3, 6], np.int64))
    >>> order.tolist(), starts.tolist()
    ([1, 3, 2, 0, 4], [0, 2, 3, 5])
    """
    m = keys.shape[0]
    nc = cuts.shape[0]
    blk = np.empty(m, dtype=np.int32)
    starts = np.zeros(nc + 2, dtype=np.int64)
    for k in range(m):
        key = np.int64(keys[k])
        a = 0
        b = nc
        while a < b:  # first cut above key
            h = (a + b) >> 1
            if cuts[h] <= key:
                a = h + 1
            else:
                b = h
        blk[k] = a
        starts[a + 1] += 1
    for b in range(nc + 1):
        starts[b + 1] += starts[b]
    pos = starts[: nc + 1].copy()
    order = np.empty(m, dtype=np.int64)
    for k in range(m):
        b = blk[k]
        order[pos[b]] = k
        pos[b] += 1
    return order, starts
