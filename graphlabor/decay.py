"""Stage "time decay": contribution weights times ``2 ** (-age / half_life)``.

Works chunk by chunk in two passes: :func:`newest_per_sender` on each chunk
(chunks combine by element-wise maximum), then :func:`decay` on each chunk
with the combined result. :func:`half_life_seconds` and
:func:`graphlabor.timeaxis.parse_instant` check the parameters before any
edge is read.
"""

from __future__ import annotations

import numpy as np

from .errors import ParameterError
from .codes import PLATFORM, USER
from .timeaxis import decay_factors, parse_duration

__all__ = ["decay", "half_life_seconds", "newest_per_sender", "sender_reference"]


def half_life_seconds(half_life: str | float) -> float:
    """The half-life in seconds, from a duration such as ``"30d"`` or a number of seconds.

    >>> half_life_seconds("1d"), half_life_seconds(60)
    (86400.0, 60.0)
    """
    try:
        hl = parse_duration(half_life) if isinstance(half_life, str) else float(half_life)
    except (ParameterError, TypeError, ValueError) as e:
        raise ParameterError(f"half_life: {e}", param="half_life") from None
    if not hl > 0:
        raise ParameterError(f"half_life must be positive, got {half_life!r}", param="half_life")
    return hl


def _senders(src: np.ndarray, dst: np.ndarray, role: np.ndarray) -> np.ndarray:
    # the sender of a user -> platform edge is the platform; of a user -> user edge, the acting user
    senders: np.ndarray = np.where((role[src] == USER) & (role[dst] == PLATFORM), dst, src)
    return senders


def newest_per_sender(src: np.ndarray, dst: np.ndarray, seconds: np.ndarray, role: np.ndarray) -> np.ndarray:
    """Per node, the newest timestamp of the contribution edges it sends value along.

    Returns
    -------
    newest : ndarray of int64, shape (n,)
        ``int64 min`` for nodes that send along no edge. Chunks combine by
        ``np.maximum``.

    Examples
    --------
    >>> import numpy as np
    >>> role = np.array([0, 0, 1], np.int8)             # users 0, 1; platform 2
    >>> newest_per_sender(np.array([0, 1, 0]), np.array([2, 2, 1]), np.array([10, 20, 5]), role).tolist()[:3]
    [5, -9223372036854775808, 20]
    """
    newest = np.full(role.shape[0], np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(newest, _senders(src, dst, role), seconds)
    return newest


def sender_reference(
    src: np.ndarray, dst: np.ndarray, seconds: np.ndarray, role: np.ndarray, as_of: int, newest: np.ndarray | None = None
) -> np.ndarray:
    """Per-edge reference instant for time decay, free of underflow.

    Only the ratios of the weights of the edges a node passes value along
    matter (value is split in proportion to them), so measuring ages from
    ``min(as_of, newest edge of that sender)`` instead of ``as_of`` multiplies
    all of a sender's weights by one factor and changes no result, while
    keeping old edges from underflowing to weight 0 when the half-life is
    short. ``newest`` (from :func:`newest_per_sender` over all edges) is
    computed from these edges when not given.

    >>> import numpy as np
    >>> role = np.array([0, 0, 1], np.int8)             # users 0, 1; platform 2
    >>> sender_reference(np.array([0, 1, 0]), np.array([2, 2, 1]),
    ...                  np.array([10, 20, 5]), role, 100).tolist()
    [20, 20, 5]
    """
    if newest is None:
        newest = newest_per_sender(src, dst, seconds, role)
    reference: np.ndarray = np.minimum(newest[_senders(src, dst, role)], as_of)
    return reference


def decay(
    value: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    seconds: np.ndarray,
    role: np.ndarray,
    half_life: float,
    as_of: int,
    newest: np.ndarray | None = None,
) -> np.ndarray:
    """Contribution weights ``value`` decayed by age (seconds), per :func:`sender_reference`.

    Parameters
    ----------
    value : ndarray of float64
        Contribution weights of one chunk.
    src, dst : ndarray of uint32
    seconds : ndarray of int64
    role : ndarray of int8, shape (n,)
    half_life : float
        Seconds (:func:`half_life_seconds`).
    as_of : int
        Epoch seconds ages are measured from.
    newest : ndarray of int64, optional
        :func:`newest_per_sender` over all chunks (default: over this one).

    Examples
    --------
    >>> import numpy as np
    >>> role = np.array([0, 0, 1], np.int8)
    >>> decay(np.ones(2), np.array([0, 0]), np.array([1, 1]), np.array([0, 100]), role, 100.0, 100).tolist()
    [0.5, 1.0]
    """
    decayed: np.ndarray = value * decay_factors(seconds, half_life, sender_reference(src, dst, seconds, role, as_of, newest))
    return decayed
