"""Time: timestamps to epoch seconds, half-life decay, calendar periods (UTC)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._types import Instant
from .errors import InputError, ParameterError, where
from .validate import is_text

_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365.25 * 86400}
PERIODS = ("day", "week", "month", "quarter", "year")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``12h``, ``30d``, ``1y``, ``90min``.

    >>> parse_duration("12h"), parse_duration("1.5d")
    (43200.0, 129600.0)
    """
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(s|min|m|h|d|w|y)\s*", str(text))
    if not m:
        raise ParameterError(f"duration {text!r} is not a number followed by s, min, h, d, w or y (for example 30d)")
    value = float(m.group(1)) * _UNITS[m.group(2)]
    if not value > 0:
        raise ParameterError(f"duration {text!r} must be positive")
    return value


#: An ISO 8601 time that names its offset: ``Z`` or ``+hh:mm`` / ``+hhmm`` / ``+hh`` after the time
#: (a date's ``-10`` is not an offset)
_ZONE_RE = r"[T ]\d[^+\-Z]*(?:Z|[+-]\d\d(?::?\d\d)?)$"


def _iso_nanoseconds(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """int64 epoch nanoseconds of ISO 8601 texts (UTC unless a text gives an offset); raises on a bad text."""
    zoned = pc.fill_null(pc.match_substring_regex(text, _ZONE_RE), False)
    utc = pc.cast(pc.if_else(zoned, text, "1970-01-01T00:00:00Z"), pa.timestamp("ns", tz="UTC"))
    naive = pc.cast(pc.if_else(zoned, "1970-01-01", text), pa.timestamp("ns"))
    return pc.if_else(zoned, utc.cast(pa.timestamp("ns")).cast(pa.int64()), naive.cast(pa.int64()))


def _first_bad_text(text: pa.Array) -> int:
    """Index of the first text :func:`_iso_nanoseconds` cannot read (bisection: vectorized passes only)."""
    lo, hi = 0, len(text)  # the bad row is in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            _iso_nanoseconds(text.slice(lo, mid - lo))
            lo = mid
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
            hi = mid
    return lo


def iso_seconds(col: pa.Array | pa.ChunkedArray, source: str = "edges", column: str = "timestamp",
                locate: Callable[[int], tuple[str, int]] | None = None) -> np.ndarray:
    """int64 epoch seconds (floored) of ISO 8601 text: the one parser of text instants.

    A date (``2024-01-10``), a date and time with ``T`` or a space, fractional
    seconds, and an offset (``Z``, ``+01:00``, ``+0100``); without an offset the
    time is UTC. Nulls must have been refused before.

    >>> iso_seconds(pa.array(["1970-01-02", "1970-01-02T01:00:00+01:00", "1970-01-01T00:00:01.5Z"])).tolist()
    [86400, 86400, 1]
    >>> iso_seconds(pa.array(["1970-01-02", "yesterday"]), "e.parquet")
    Traceback (most recent call last):
    ...
    graphlabor.errors.InputError: e.parquet: column 'timestamp', row 1 (value 'yesterday'): not an ISO 8601 timestamp (such as 2024-01-10, 2024-01-10T08:30:00Z or 2024-01-10T09:30:00.5+01:00)
    """
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    text = pc.utf8_trim_whitespace(col)
    try:
        ns = _iso_nanoseconds(text)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        whole = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
        row = _first_bad_text(whole)
        name, r = locate(row) if locate is not None else (source, row)
        raise InputError(
            f"{where(name, column, r, col[row].as_py())}: not an ISO 8601 timestamp "
            "(such as 2024-01-10, 2024-01-10T08:30:00Z or 2024-01-10T09:30:00.5+01:00)"
        ) from None
    arr = ns.to_numpy() if isinstance(ns, pa.ChunkedArray) else ns.to_numpy(zero_copy_only=False)
    seconds: np.ndarray = np.floor_divide(np.asarray(arr, dtype=np.int64), 10**9)
    return seconds


def parse_instant(text: Instant, name: str = "as_of") -> int:
    """Epoch seconds of an ISO date/time (UTC unless it gives an offset) or an integer.

    Text goes through :func:`iso_seconds`, the same parser as timestamp columns.

    >>> parse_instant("1970-01-02"), parse_instant("86400"), parse_instant("1970-01-02T01:00")
    (86400, 86400, 90000)
    >>> parse_instant("1970-01-02T01:00:00+01:00"), parse_instant("1970-01-02T00:00:00Z")
    (86400, 86400)
    """
    import datetime as dt

    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        return int(text)
    if isinstance(text, dt.datetime):
        if text.tzinfo is None:
            text = text.replace(tzinfo=dt.UTC)
        return int(text.timestamp())
    if isinstance(text, dt.date):
        return int(dt.datetime(text.year, text.month, text.day, tzinfo=dt.UTC).timestamp())
    s = str(text).strip()
    if re.fullmatch(r"[-+]?\d+", s):
        return int(s)
    try:
        return int(iso_seconds(pa.array([s]))[0])
    except InputError:
        raise ParameterError(f"{name} {text!r} is not a date or time in ISO 8601 (for example 2024-12-31 or 2024-12-31T18:00)",
                             param=name) from None


def to_epoch_seconds(col: pa.Array | pa.ChunkedArray, source: str = "edges",
                     locate: Callable[[int], tuple[str, int]] | None = None) -> np.ndarray:
    """int64 epoch seconds of a timestamp column (any unit, with or without zone), integers or ISO text.

    A timestamp without a zone is read as UTC; text is read by :func:`iso_seconds`.
    """
    t = col.type
    if pa.types.is_timestamp(t):
        secs = pc.cast(col.cast(pa.timestamp(t.unit)), pa.int64())
        div = {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}[t.unit]
        arr = secs.to_numpy() if not isinstance(secs, pa.ChunkedArray) else secs.to_numpy()
        seconds: np.ndarray = np.floor_divide(arr, div)
        return seconds
    if pa.types.is_date(t):
        return np.asarray(pc.cast(col.cast(pa.timestamp("s")), pa.int64()).to_numpy())
    if pa.types.is_integer(t):
        return np.asarray(col.cast(pa.int64()).to_numpy())
    if is_text(t, dictionary=True):
        return iso_seconds(col, source, "timestamp", locate)
    raise InputError(f"{source}: column 'timestamp' must be timestamps, integer epoch seconds or ISO 8601 text, found {t}")


def decay_factors(seconds: np.ndarray, half_life: float, as_of: int | np.ndarray) -> np.ndarray:
    """``2 ** (-age / half_life)`` with ``age = as_of - t`` clipped at 0 (``as_of`` may be per edge).

    >>> decay_factors(np.array([0, 100, 200]), 100.0, 200).tolist()
    [0.25, 0.5, 1.0]
    """
    age = np.maximum(as_of - seconds, 0).astype(np.float64)
    factors: np.ndarray = np.exp2(-age / half_life)
    return factors


def period_starts(seconds: np.ndarray, period: str) -> np.ndarray:
    """Start (epoch days, UTC) of the calendar period holding each instant.

    Weeks start on Monday (ISO 8601).

    >>> period_starts(np.array([0, 86400 * 40]), "month").tolist()   # 1970-01-01, 1970-02-10
    [0, 31]
    """
    if period not in PERIODS:
        raise ParameterError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")
    # pyarrow floors instants to calendar units (weeks starting on Monday, as ISO 8601)
    start = pc.floor_temporal(pa.array(seconds, pa.timestamp("s")), unit=period, week_starts_monday=True)
    days: np.ndarray = np.floor_divide(pc.cast(start, pa.int64()).to_numpy(), 86400)
    return days
