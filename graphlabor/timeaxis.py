"""Time: timestamps to epoch seconds, half-life decay, calendar periods (UTC)."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ._types import Instant
from .errors import InputError, ParameterError
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


def parse_instant(text: Instant) -> int:
    """Epoch seconds of an ISO date/time (UTC unless it gives an offset) or an integer.

    >>> parse_instant("1970-01-02"), parse_instant("86400"), parse_instant("1970-01-02T01:00")
    (86400, 86400, 90000)
    >>> parse_instant("1970-01-02T01:00:00+01:00")
    86400
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
        value = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ParameterError(f"--as-of {text!r} is not an ISO date or time (for example 2024-12-31 or 2024-12-31T18:00)") from None
    return parse_instant(value)


def to_epoch_seconds(col: pa.Array | pa.ChunkedArray, source: str = "edges") -> np.ndarray:
    """int64 epoch seconds of a timestamp column (any unit, with or without zone) or integers.

    A timestamp without a zone is read as UTC.
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
    if is_text(t):
        try:
            return to_epoch_seconds(pc.cast(col, pa.timestamp("s")), source)
        except (pa.ArrowException, ValueError):
            raise InputError(f"{source}: column 'timestamp': text that is not an ISO timestamp") from None
    raise InputError(f"{source}: column 'timestamp' must be timestamps or integer epoch seconds, found {t}")


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
