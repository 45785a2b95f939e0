"""Numba options for every kernel, in one place.

All kernels are compiled with ``cache=True`` so that a second process loads
them from disk instead of compiling again. Numba writes its cache next to the
source when that folder is writable and otherwise falls back to a user-wide
cache directory (``$NUMBA_CACHE_DIR`` when set, else ``~/.cache/numba``), so an
installation in a read-only site-packages still runs.

No ``fastmath`` flags are used: re-association would make results depend on
the compiler's choices, and graphlabor promises bit-identical results at every
thread count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba

_SERIAL: dict[str, Any] = dict(nogil=True, cache=True)
_PARALLEL: dict[str, Any] = dict(nogil=True, cache=True, parallel=True)

# A compiled kernel is called like the Python function it compiles, so to a
# type checker the decorators return their argument's type (Numba ignores
# the annotations).
_F = TypeVar("_F", bound=Callable[..., Any])


def njit(fn: _F) -> _F:
    """Compile ``fn`` as a serial, cached, nopython kernel."""
    return cast(_F, numba.njit(**_SERIAL)(fn))


def pnjit(fn: _F) -> _F:
    """Compile ``fn`` as a parallel (``prange``), cached, nopython kernel."""
    return cast(_F, numba.njit(**_PARALLEL)(fn))


prange = numba.prange
