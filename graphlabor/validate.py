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


def is_text(t: pa.DataType, *, dictionary: bool = False) -> bool:
    """True for ``string`` and ``large_string`` (and, with ``dictionary``, dictionaries of them).

    >>> is_text(pa.large_string()), is_text(pa.dictionary(pa.int32(), pa.string()), dictionary=True)
    (True, True)
    """
    if dictionary and pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t))


def describe_ids(t: pa.DataType) -> str:
    """Name an id column's type in words: ``"text ids"``, ``"integer ids"``...

    >>> describe_ids(pa.large_string()), describe_ids(pa.uint16())
    ('text ids', 'integer ids')
    """
    words = {"str": "text ids", "int": "integer ids", "float": "numbers with a fraction"}
    return words.get(id_kind(t) or "", f"values of type {t}")


def _value(col: Column, row: int) -> Any:
    v = col[row]
    return v.as_py() if hasattr(v, "as_py") else v


def id_kind(t: pa.DataType) -> str | None:
    """'int' or 'str' for an id column type, None for anything else."""
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_integer(t):
        return "int"
    if is_text(t):
        return "str"
    if pa.types.is_floating(t):
        return "float"
    return None


def check_not_null(col: Column, source: str, name: str) -> None:
    row = first_true(pc.is_null(col))
    if row is not None:
        raise InputError(f"{where(source, name, row)}: missing value (null); every row needs one")


def _text_dictionary(t: pa.DataType) -> bool:
    return pa.types.is_dictionary(t) and is_text(t.value_type)


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
        raise InputError(f"{where(source, name)}: ids must be integers or text, found {t}")
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
            raise InputError(f"{where(source, name, row, _value(col, row))}: ids must be integers or text, found a fractional number")
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
    if pa.types.is_dictionary(col.type):  # a categorical column of numbers (or of their text)
        col = col.cast(col.type.value_type)
    t = col.type
    if is_text(t):
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
        with np.errstate(over="ignore", invalid="ignore"):
            total = a.sum() if a.size else 0.0
        if a.size and not (np.isfinite(total) and a.min() >= 0):  # NaN fails both, inf the sum
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
    if not is_text(t):
        if pa.types.is_null(t):
            pass
        else:
            raise InputError(f"{where(source, name)}: must be text labels, found {t}")
    check_not_null(col, source, name)
    return col.cast(pa.string())


_CANONICAL_INT_RE = r"^-?(0|[1-9][0-9]{0,18})$"


def check_text_ids(col: Column, source: str, name: str) -> Column:
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


def type_text_ids(col: Column, source: str, name: str, id_type: str | None, why: str = "the ids are integers") -> Column:
    """Give ids read as text (from CSV) the run's id type.

    Parameters
    ----------
    col : Array or ChunkedArray of string (or dictionary<string>)
    source, name : str
        For messages.
    id_type : {"int", "str"} or None
        ``"int"``: every id must be a canonical integer and becomes int64;
        ``"str"``: unchanged; None: int64 if every id is a canonical integer.
    why : str
        Why integers are required, for the message.

    >>> type_text_ids(pa.array(["1", "22"]), "n.csv", "id", None).to_pylist()
    [1, 22]
    >>> type_text_ids(pa.array(["1", "x"]), "n.csv", "id", "int")
    Traceback (most recent call last):
    ...
    graphlabor.errors.InputError: n.csv: column 'id', row 1 (value 'x'): not an integer id (written without leading zeros, within 64 bits), but the ids are integers
    """
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if id_type == "str":
        return col
    row = first_non_int_text(col)
    if row is None:
        return pc.cast(col, pa.int64())
    if id_type == "int":
        raise InputError(
            f"{where(source, name, row, _value(col, row))}: not an integer id (written without leading zeros, "
            f"within 64 bits), but {why}"
        )
    return col


def text_ids_as_ints(columns: list[Column]) -> list[Column] | None:
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
