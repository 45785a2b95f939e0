"""Count inversions of an integer sequence (for Kendall's tau), in O(n log n).

An inversion is a pair ``i < j`` with ``codes[i] > codes[j]``. The count is
exact (int64) and serial, so it does not depend on the thread count.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._jit import njit
from ._types import I64


@njit
def _count(codes: I64, size: int) -> int:
    tree = np.zeros(size + 1, dtype=np.int64)  # Fenwick tree over code values
    inv = 0
    seen = 0
    for i in range(codes.shape[0]):
        c = codes[i] + 1
        # how many already seen are <= codes[i]
        le = 0
        k = c
        while k > 0:
            le += tree[k]
            k -= k & (-k)
        inv += seen - le
        k = c
        while k <= size:
            tree[k] += 1
            k += k & (-k)
        seen += 1
    return inv


def count_inversions(codes: ArrayLike) -> int:
    """Number of pairs ``i < j`` with ``codes[i] > codes[j]``.

    Parameters
    ----------
    codes : ndarray of int64
        Values in ``[0, max]`` (dense codes, for instance ranks).

    Examples
    --------
    >>> import numpy as np
    >>> count_inversions(np.array([2, 0, 1, 1], np.int64))
    3
    """
    codes = np.ascontiguousarray(codes, dtype=np.int64)
    if codes.size < 2:
        return 0
    return int(_count(codes, int(codes.max()) + 1))
