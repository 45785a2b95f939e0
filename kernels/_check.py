"""Argument checks for the public kernels, cheap enough for the fast paths.

A kernel given an index out of range writes outside its arrays (a crash, or
silently wrong results), and a conversion to ``uint32`` wraps negative and
large indices into valid-looking ones. The public kernels therefore check
their input first and raise :class:`ValueError` naming the argument, as
``scipy.sparse.csgraph`` does. Each check is O(1) or one pass over an array
(no temporaries), small next to the work of the kernel it guards.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._jit import njit
from ._types import F64, U32, U64, Ints

INDPTR_DTYPE = np.uint64
INDEX_DTYPE = np.uint32
MAX_NODES = int(np.iinfo(np.uint32).max)


@njit
def _int_range(a: Ints) -> tuple[int, int]:
    lo = a[0]
    hi = a[0]
    for v in a:
        if v < lo:
            lo = v
        elif v > hi:
            hi = v
    return lo, hi


@njit
def _first_decrease(a: U64) -> int:
    for k in range(1, a.shape[0]):
        if a[k] < a[k - 1]:
            return k
    return -1


def count(value: Any, name: str, *, upper: int = MAX_NODES) -> int:
    """``value`` as an int in ``[0, upper]``, or ValueError naming ``name``."""
    try:
        v = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be an integer, got {value!r}") from None
    if not 0 <= v <= upper:
        raise ValueError(f"{name}={v} is out of range [0, {upper}]")
    return v


def vector(a: ArrayLike, name: str, *, length: int | None = None, length_of: str = "") -> NDArray[Any]:
    """``a`` as a 1-d array (not converted); ValueError naming ``name`` if not 1-d or of the wrong length."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got shape {a.shape}")
    if length is not None and a.shape[0] != length:
        raise ValueError(f"{name} has length {a.shape[0]}, expected {length}{' (' + length_of + ')' if length_of else ''}")
    return a


def floats(a: ArrayLike, name: str, *, length: int | None = None, length_of: str = "") -> F64:
    """``a`` as a contiguous float64 vector (a copy only when needed)."""
    a = vector(a, name, length=length, length_of=length_of)
    if a.dtype.kind not in "fiub":
        raise ValueError(f"{name} must be a numeric array, got dtype {a.dtype}")
    return np.ascontiguousarray(a, dtype=np.float64)


def out_floats(a: Any, name: str, *, length: int) -> F64:
    """``a`` as given: a writable, contiguous float64 vector of ``length`` (it is written to)."""
    if not isinstance(a, np.ndarray) or a.dtype != np.float64 or not a.flags.c_contiguous or not a.flags.writeable:
        raise ValueError(f"{name} must be a writable, contiguous float64 array")
    return vector(a, name, length=length)


def index_array(
    a: ArrayLike, name: str, bound: int, bound_name: str, *, length: int | None = None, dtype: DTypeLike | None = INDEX_DTYPE
) -> NDArray[Any]:
    """``a`` as a contiguous ``dtype`` vector of indices in ``[0, bound)``.

    Raises ValueError naming ``name`` for a non-integer dtype, a wrong shape or
    length, or an index out of range (negative, ``>= bound``, or one that the
    conversion to ``dtype`` would wrap). ``dtype=None`` keeps the array's
    integer dtype.
    """
    a = vector(a, name, length=length)
    if a.dtype.kind not in "iu":
        raise ValueError(f"{name} must be an integer array, got dtype {a.dtype}")
    if a.shape[0]:
        if a.dtype.kind == "u":
            lo, hi = 0, int(a.max())
        else:
            lo, hi = (int(v) for v in _int_range(np.ascontiguousarray(a)))
        if lo < 0:
            raise ValueError(f"{name} holds a negative index ({lo})")
        if hi >= bound:
            raise ValueError(f"{name} holds index {hi}, out of range for {bound_name}={bound}")
    return np.ascontiguousarray(a, dtype=dtype or a.dtype)


def csr(
    indptr: ArrayLike, indices_: ArrayLike, data: ArrayLike, n_cols: int, *, n_rows: int | None = None, full: bool = True
) -> tuple[U64, U32, F64]:
    """Check CSR arrays of a matrix with ``n_cols`` columns; return them converted.

    ``full=False`` skips the two O(n) passes (``indptr`` non-decreasing, column
    indices in range), for a loop that steps the same, already checked arrays.
    """
    indptr = vector(indptr, "indptr")
    if indptr.dtype.kind not in "iu":
        raise ValueError(f"indptr must be an integer array, got dtype {indptr.dtype}")
    if indptr.shape[0] == 0:
        raise ValueError("indptr must have length n_rows + 1 >= 1, got 0")
    if n_rows is not None and indptr.shape[0] != n_rows + 1:
        raise ValueError(f"indptr has length {indptr.shape[0]}, expected {n_rows + 1} (n_rows + 1)")
    nnz = int(indptr[-1])
    if int(indptr[0]) != 0:
        raise ValueError(f"indptr[0] must be 0, got {int(indptr[0])}")
    data = floats(data, "data")
    if full:
        if indptr.dtype.kind == "i" and int(indptr.min()) < 0:
            raise ValueError(f"indptr holds a negative offset ({int(indptr.min())})")
        indptr = np.ascontiguousarray(indptr, dtype=INDPTR_DTYPE)
        k = _first_decrease(indptr)
        if k >= 0:
            raise ValueError(f"indptr must be non-decreasing, but indptr[{k}] < indptr[{k - 1}]")
        indices_ = index_array(indices_, "indices", n_cols, "n_cols")
    else:
        indptr = np.ascontiguousarray(indptr, dtype=INDPTR_DTYPE)
        indices_ = vector(indices_, "indices")
        if indices_.dtype.kind not in "iu":
            raise ValueError(f"indices must be an integer array, got dtype {indices_.dtype}")
        indices_ = np.ascontiguousarray(indices_, dtype=INDEX_DTYPE)
    if indices_.shape[0] != nnz or data.shape[0] != nnz:
        raise ValueError(
            f"indices and data must have length indptr[-1]={nnz}, got {indices_.shape[0]} and {data.shape[0]}"
        )
    return indptr, indices_, data
