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

import numba

_SERIAL = dict(nogil=True, cache=True)
_PARALLEL = dict(nogil=True, cache=True, parallel=True)


def njit(fn):
    """Compile ``fn`` as a serial, cached, nopython kernel."""
    return numba.njit(**_SERIAL)(fn)


def pnjit(fn):
    """Compile ``fn`` as a parallel (``prange``), cached, nopython kernel."""
    return numba.njit(**_PARALLEL)(fn)


prange = numba.prange
