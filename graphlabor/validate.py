"""Column checks shared by the edge and node readers.

Each ``check_*`` function takes one Arrow column and the names needed for the
message, and either returns the column in its normalized type or raises
:class:`~graphlabor.errors.InputError` naming the source, the column, the
first offending row (0-based) and its value.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError, where

#: An Arrow column: a ChunkedArray (of a Table) or an Array.
Column: TypeAlias = "pa.ChunkedArray | pa.Array"

_NUMBER_RE = r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan|NaN|inf|Inf|infinity|Infinity)\s*$"


def first_true(mask: pa.Array | pa.ChunkedArray | np.ndarray) -> int | None:
    """Index of the first true value of a boolean Arrow array, or None."""
    if isinstance(mask, (pa.ChunkedArray, pa.Array)):
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():
            return None
        return int(pc.index(mask, True).as_py())
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def _value(col: Column, row: int) -> Any:
    v = col[row]
    return v.as_py() if hasattr(v, "as_py") else v


def id_kind(t: pa.DataType) -> str | None:
    """'int' or 'str' for an id column type, None for anything else."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "str"
    if pa.types.is_floating(t):
        return "float"
    return None


def check_not_null(col: Column, source: str, name: str) -> None:
    row = first_true(pc.is_null(col))
    if row is not None:
        raise InputError(f"{where(source, name, row)}: missing value (null); every row needs one")


def _text_dictionary(t: pa.DataType) -> bool:
    return bool(pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)))


def check_ids(col: Column, source: str, name: str, *, keep_dictionary: bool = False) -> pa.ChunkedArray:
    """Normalize an id column to int64 or string; reject nulls and other types.

    A column of type null (what pyarrow infers for a CSV column with a header
    and no rows) is an empty string column when it has no rows. With
    ``keep_dictionary``, a dictionary-encoded string column stays encoded
    (see :mod:`graphlabor.dictarrays`).
    """
    t = col.type
    if pa.types.is_null(t):
        check_not_null(col, source, name)
        return pa.chunked_array([], pa.string())
    kind = id_kind(t)
    if kind is None:
        raise InputError(f"{where(source, name)}: ids must be integers or strings, found {t}")
    if keep_dictionary and _text_dictionary(t):
        check_not_null(col, source, name)  # nulls in the indices or in the dictionary
        return col
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
    check_not_null(col, source, name)
    if kind == "float":
        # pandas turns integer columns with missing values into floats; accept
        # whole numbers only
        frac = pc.not_equal(pc.floor(col), col)
        row = first_true(frac)
        if row is not None:
            raise InputError(f"{where(source, name, row, _value(col, row))}: ids must be integers or strings, found a fractional number")
        return col.cast(pa.int64())
    if kind == "int":
        if t == pa.uint64() or (pa.types.is_dictionary(t) and t.value_type == pa.uint64()):
            too_big = pc.greater(col, pa.scalar(np.iinfo(np.int64).max, pa.uint64()))
            row = first_true(too_big)
            if row is not None:
                raise InputError(f"{where(source, name, row, _value(col, row))}: id does not fit in int64")
        return col.cast(pa.int64())
    return col.cast(pa.large_string()) if pa.types.is_large_string(col.type) else col.cast(pa.string())


def check_numbers(col: Column, source: str, name: str, *, allow_null: bool = False) -> pa.ChunkedArray:
    """Cast a column to float64 and reject NaN, infinite and negative values."""
    t = col.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        ok = pc.match_substring_regex(col, _NUMBER_RE)
        row = first_true(pc.invert(pc.fill_null(ok, True)))
        if row is not None:
            raise InputError(f"{where(source, name, row, _value(col, row))}: not a number")
        col = pc.cast(pc.utf8_trim_whitespace(col), pa.float64())
    elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_boolean(t) or pa.types.is_null(t):
        col = col.cast(pa.float64())
    else:
        raise InputError(f"{where(source, name)}: must be numbers, found {t}")
    if not allow_null:
        check_not_null(col, source, name)
    if _all_finite_nonnegative(col):
        return col  # the usual case, in two vectorized passes; otherwise find the first bad row
    for test, what in (
        (pc.is_nan, "is NaN"),
        (lambda c: pc.is_inf(c), "is infinite"),
        (lambda c: pc.less(c, 0.0), "is negative (must be >= 0)"),
    ):
        row = first_true(test(col))
        if row is not None:
            raise InputError(f"{where(source, name, row, _value(col, row))}: {what}")
    return col


def _all_finite_nonnegative(col: Column) -> bool:
    """True if every non-null value is finite and >= 0 (False may also mean a sum overflowed)."""
    for chunk in (col.chunks if isinstance(col, pa.ChunkedArray) else [col]):
        if chunk.null_count:
            chunk = pc.fill_null(chunk, 0.0)
        a = chunk.to_numpy(zero_copy_only=False)
        if a.size and not (np.isfinite(a.sum()) and a.min() >= 0):  # NaN fails both, inf the sum
            return False
    return True


def check_strings(col: Column, source: str, name: str, *, keep_dictionary: bool = False) -> pa.ChunkedArray:
    """Cast a label column (such as ``kind`` or ``role``) to string; reject nulls.

    With ``keep_dictionary``, a dictionary-encoded string column stays encoded.
    """
    t = col.type
    if keep_dictionary and _text_dictionary(t):
        check_not_null(col, source, name)
        return col
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        if pa.types.is_null(t):
            pass
        else:
            raise InputError(f"{where(source, name)}: must be text labels, found {t}")
    check_not_null(col, source, name)
    return col.cast(pa.string())


_CANONICAL_INT_RE = r"^-?(0|[1-9][0-9]{0,18})$"


def check_text_ids(col: Column, source: str, name: str) -> pa.ChunkedArray:
    """Reject empty ids in a text column read from CSV (an empty cell is a missing id)."""
    row = first_true(pc.equal(pc.utf8_length(col), 0))
    if row is not None:
        raise InputError(f"{where(source, name, row)}: missing id (empty cell); every row needs one")
    return col


def first_non_int_text(col: Column) -> int | None:
    """First row of a text column that is not an integer written canonically, or None.

    Canonical means an optional ``-``, no leading zeros, no ``+``, no spaces,
    and a value that fits in int64 ("007" and "1e3" are not canonical).

    >>> import pyarrow as pa
    >>> first_non_int_text(pa.array(["1", "-20", "007"]))
    2
    """
    if len(col) == 0:
        return None
    row = first_true(pc.invert(pc.match_substring_regex(col, _CANONICAL_INT_RE)))
    if row is not None:
        return row
    try:
        pc.cast(col, pa.int64())
    except pa.ArrowInvalid:
        # a canonical integer out of int64's range: find it
        too_long = pc.greater_equal(pc.utf8_length(pc.utf8_ltrim(col, characters="-")), 19)
        for i in np.flatnonzero(pc.fill_null(too_long, False).to_numpy(zero_copy_only=False)).tolist():
            if not (-(2**63) <= int(col[i].as_py()) < 2**63):
                return int(i)
    return None


def text_ids_as_ints(columns: list[pa.ChunkedArray]) -> list[pa.ChunkedArray] | None:
    """Cast text id columns to int64 if every id in all of them is a canonical integer.

    This is how ids read from CSV get their type: integers when every id is
    written as an integer in canonical form (so that casting back to text
    gives the same string), strings otherwise, so that ``007`` or ``1e3``
    are never changed. Returns None when the columns must stay text.

    >>> import pyarrow as pa
    >>> [c.to_pylist() for c in text_ids_as_ints([pa.array(["1", "-2"]), pa.array(["3"])])]
    [[1, -2], [3]]
    >>> text_ids_as_ints([pa.array(["1"]), pa.array(["007"])]) is None
    True
    """
    if any(first_non_int_text(c) is not None for c in columns):
        return None
    return [pc.cast(c, pa.int64()) for c in columns]
