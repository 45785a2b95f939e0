"""Order-independent grouped sums.

Floating-point addition is not associative, so summing the values of a group
in the order the rows happen to arrive gives results that depend on the input
row order. These kernels sort each group's values before adding them, so the
result depends only on the multiset of (key, value) pairs.
"""

from __future__ import annotations

import numpy as np

from numpy.typing import ArrayLike

from . import _check
from ._jit import njit, pnjit, prange
from ._types import F64, U64, Ints
from .sortmerge import row_offsets


@njit
def _scatter_values(keys: Ints, values: F64, offsets: U64) -> F64:
    n_groups = offsets.shape[0] - 1
    pos = offsets[:n_groups].copy()
    out = np.empty(values.shape[0], dtype=np.float64)
    for k in range(keys.shape[0]):
        g = keys[k]
        out[pos[g]] = values[k]
        pos[g] += np.uint64(1)
    return out


#: Groups at least this long are sorted by NumPy before the kernel adds them up (NumPy's vectorized sort
#: is several times faster than Numba's on long runs: a few platforms receive most money edges).
NUMPY_SORT = 256


@pnjit
def _sorted_group_sums(grouped: F64, offsets: U64, sums: F64, presorted: int) -> None:
    n_groups = offsets.shape[0] - 1
    for g in prange(n_groups):
        a = offsets[g]
        b = offsets[g + 1]
        if b - a == 1:
            sums[g] = grouped[a]
        elif b > a:
            seg = grouped[a:b] if b - a >= presorted else np.sort(grouped[a:b])
            acc = 0.0
            for v in seg:
                acc += v
            sums[g] = acc


def group_sum(keys: ArrayLike, values: ArrayLike, n_groups: int) -> F64:
    """Sum ``values`` by integer ``keys``, independently of row order.

    Parameters
    ----------
    keys : ndarray of int, shape (m,)
        Group of each value, in ``[0, n_groups)``.
    values : ndarray of float64, shape (m,)
        Values to add up.
    n_groups : int
        Number of groups.

    Returns
    -------
    sums : ndarray of float64, shape (n_groups,)
        ``sums[g]`` is the sum of the values with key ``g``, added in
        ascending order of value, so any permutation of the rows gives the
        same bits.

    Raises
    ------
    ValueError
        Naming the argument: a key out of range (negative or
        ``>= n_groups``), a non-integer ``keys`` dtype, ``values`` of another
        length.

    Examples
    --------
    >>> import numpy as np
    >>> from graphlabor.kernels import group_sum
    >>> group_sum(np.array([1, 0, 1]), np.array([0.5, 2.0, 0.25]), 3)
    array([2.  , 0.75, 0.  ])
    """
    n_groups = _check.count(n_groups, "n_groups", upper=np.iinfo(np.int64).max)
    k = _check.index_array(keys, "keys", n_groups, "n_groups", dtype=None)  # any integer dtype, kept
    v = _check.floats(values, "values", length=k.shape[0], length_of="the length of keys")
    sums = np.zeros(n_groups, dtype=np.float64)
    if k.shape[0] == 0:
        return sums
    offsets = row_offsets(k, n_groups)
    grouped = _scatter_values(k, v, offsets)
    # the long groups sorted here (the order of -0.0 and 0.0, or of NaNs, leaves the sums' bits alone)
    for g in np.flatnonzero(np.diff(offsets) >= NUMPY_SORT).tolist():
        grouped[int(offsets[g]):int(offsets[g + 1])].sort()
    _sorted_group_sums(grouped, offsets, sums, NUMPY_SORT)
    return sums
