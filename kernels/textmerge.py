"""Sorted text arrays merged by one walk: positions of a subset in a superset, and the union.

Both sides are the Arrow layout of a text array (``offsets``, ``data`` bytes),
sorted ascending byte-wise and distinct. A hash lookup
(``pyarrow.compute.index_in``) would hash the whole superset for every
subset; the walk reads each side once, with no allocation but the output.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit


@njit
def _compare(a: np.ndarray, a0: int, a1: int, b: np.ndarray, b0: int, b1: int) -> int:
    """-1, 0 or 1 as ``a[a0:a1]`` is below, equal to or above ``b[b0:b1]`` (byte-wise)."""
    la = a1 - a0
    lb = b1 - b0
    m = la if la < lb else lb
    for k in range(m):
        x = a[a0 + k]
        y = b[b0 + k]
        if x != y:
            return -1 if x < y else 1
    if la == lb:
        return 0
    return -1 if la < lb else 1


@njit
def _positions(sub_off: np.ndarray, sub_data: np.ndarray, all_off: np.ndarray, all_data: np.ndarray,
               out: np.ndarray) -> int:
    j = 0
    n_all = all_off.shape[0] - 1
    for i in range(sub_off.shape[0] - 1):
        while j < n_all:
            c = _compare(all_data, all_off[j], all_off[j + 1], sub_data, sub_off[i], sub_off[i + 1])
            if c >= 0:
                break
            j += 1
        if j == n_all or _compare(all_data, all_off[j], all_off[j + 1], sub_data, sub_off[i], sub_off[i + 1]) != 0:
            return i  # not found: the caller falls back
        out[i] = j
    n: int = out.shape[0]
    return n


def sorted_union(a_off: np.ndarray, a_data: np.ndarray, b_off: np.ndarray, b_data: np.ndarray) -> np.ndarray:
    """Where each value of the sorted union of two sorted distinct text arrays is in their concatenation.

    A value in both is taken from the first (:func:`sorted_union_maps`' ``take``).

    >>> import numpy as np
    >>> def arrow(words):
    ...     b = [w.encode() for w in words]
    ...     return np.cumsum([0] + [len(x) for x in b]).astype(np.int64), np.frombuffer(b"".join(b), np.uint8)
    >>> sorted_union(*arrow(["a", "c"]), *arrow(["b", "c", "d"])).tolist()
    [0, 2, 1, 4]
    """
    return sorted_union_maps(a_off, a_data, b_off, b_data)[0]


def sorted_positions(sub_off: np.ndarray, sub_data: np.ndarray, all_off: np.ndarray, all_data: np.ndarray) -> np.ndarray | None:
    """Index in the superset of every value of the subset, or None if one is missing.

    Offsets are int64 (one more than the values), data uint8.

    >>> import numpy as np
    >>> def arrow(words):
    ...     b = [w.encode() for w in words]
    ...     return np.cumsum([0] + [len(x) for x in b]).astype(np.int64), np.frombuffer(b"".join(b), np.uint8)
    >>> sorted_positions(*arrow(["b", "bb", "d"]), *arrow(["a", "b", "bb", "c", "d"])).tolist()
    [1, 2, 4]
    >>> sorted_positions(*arrow(["x"]), *arrow(["a"])) is None
    True
    """
    out = np.empty(sub_off.shape[0] - 1, dtype=np.int64)
    if _positions(sub_off, sub_data, all_off, all_data, out) != out.shape[0]:
        return None
    return out


@njit
def _union_maps(a_off: np.ndarray, a_data: np.ndarray, b_off: np.ndarray, b_data: np.ndarray, take: np.ndarray,
                pos_a: np.ndarray, pos_b: np.ndarray) -> int:
    na = a_off.shape[0] - 1
    nb = b_off.shape[0] - 1
    i = 0
    j = 0
    k = 0
    while i < na and j < nb:
        c = _compare(a_data, a_off[i], a_off[i + 1], b_data, b_off[j], b_off[j + 1])
        if c <= 0:
            take[k] = i
            pos_a[i] = k
            i += 1
            if c == 0:
                pos_b[j] = k
                j += 1
        else:
            take[k] = na + j
            pos_b[j] = k
            j += 1
        k += 1
    while i < na:
        take[k] = i
        pos_a[i] = k
        i += 1
        k += 1
    while j < nb:
        take[k] = na + j
        pos_b[j] = k
        j += 1
        k += 1
    return k


def sorted_union_maps(
    a_off: np.ndarray, a_data: np.ndarray, b_off: np.ndarray, b_data: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted union of two sorted distinct text arrays, and where each value of either input is in it.

    Returns ``(take, pos_a, pos_b)``: ``take[k]`` is where the union's value
    ``k`` is in the two inputs' concatenation (a value in both is taken from
    the first); ``pos_a[i]`` (``pos_b[j]``) the index in the union of the first
    (second) input's value ``i`` (``j``), uint32 (a union holds at most
    2**32 - 1 values). Composing the maps of a tree of merges gives every
    leaf's positions in the final union without searching it.

    >>> import numpy as np
    >>> def arrow(words):
    ...     b = [w.encode() for w in words]
    ...     return np.cumsum([0] + [len(x) for x in b]).astype(np.int64), np.frombuffer(b"".join(b), np.uint8)
    >>> take, pa_, pb_ = sorted_union_maps(*arrow(["a", "c"]), *arrow(["b", "c", "d"]))
    >>> take.tolist(), pa_.tolist(), pb_.tolist()
    ([0, 2, 1, 4], [0, 2], [1, 2, 3])
    """
    na, nb = a_off.shape[0] - 1, b_off.shape[0] - 1
    take = np.empty(na + nb, dtype=np.int64)
    pos_a = np.empty(na, dtype=np.uint32)
    pos_b = np.empty(nb, dtype=np.uint32)
    return take[: _union_maps(a_off, a_data, b_off, b_data, take, pos_a, pos_b)], pos_a, pos_b
