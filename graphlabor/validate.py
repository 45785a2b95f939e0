"""Column checks shared by the edge and node readers.

Each ``check_*`` function takes one Arrow column and the names needed for the
message, and either returns the column in its normalized type or raises
:class:`~graphlabor.errors.InputError` naming the source, the column, the
first offending row (0-based) and its value.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError, where

_NUMBER_RE = r"^\s*[-+]?((\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|nan|NaN|inf|Inf|infinity|Infinity)\s*$"


def first_true(mask) -> int | None:
    """Index of the first true value of a boolean Arrow array, or None."""
    if isinstance(mask, (pa.ChunkedArray, pa.Array)):
        mask = pc.fill_null(mask, False)
        if not pc.any(mask).as_py():
            return None
        return int(pc.index(mask, True).as_py())
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else None


def _value(col, row):
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


def check_not_null(col, source: str, name: str):
    row = first_true(pc.is_null(col))
    if row is not None:
        raise InputError(f"{where(source, name, row)}: missing value (null); every row needs one")


def check_ids(col, source: str, name: str):
    """Normalize an id column to int64 or string; reject nulls and other types."""
    t = col.type
    kind = id_kind(t)
    if kind is None:
        raise InputError(f"{where(source, name)}: ids must be integers or strings, found {t}")
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


def check_numbers(col, source: str, name: str, *, allow_null: bool = False):
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
    for test, what in (
        (pc.is_nan, "is NaN"),
        (lambda c: pc.is_inf(c), "is infinite"),
        (lambda c: pc.less(c, 0.0), "is negative (must be >= 0)"),
    ):
        row = first_true(test(col))
        if row is not None:
            raise InputError(f"{where(source, name, row, _value(col, row))}: {what}")
    return col


def check_strings(col, source: str, name: str):
    """Cast a label column (such as ``kind`` or ``role``) to string; reject nulls."""
    t = col.type
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
