"""Numba options for every kernel, in one place.

All kernels are compiled with ``cache=True`` semantics so that a second
process loads them from disk instead of compiling again. The cache lives
outside the installed package: in ``$NUMBA_CACHE_DIR`` when set, else in the
per-user cache directory ``graphlabor/numba`` (``~/.cache/graphlabor/numba``
on Linux, honouring ``$XDG_CACHE_HOME``). Numba's default would write next to
the source when that folder is writable; in site-packages those files survive
``pip uninstall`` and turn the leftover folder into a namespace package that
shadows a later (editable) install. When no cache directory is writable the
kernels still run, compiled in every process.

No ``fastmath`` flags are used: re-association would make results depend on
the compiler's choices, and graphlabor promises bit-identical results at every
thread count.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
from numba.core import caching
from numba.misc.appdirs import AppDirs

_SERIAL: dict[str, Any] = dict(nogil=True)
_PARALLEL: dict[str, Any] = dict(nogil=True, parallel=True)

# A compiled kernel is called like the Python function it compiles, so to a
# type checker the decorators return their argument's type (Numba ignores
# the annotations).
_F = TypeVar("_F", bound=Callable[..., Any])


def cache_dir() -> str:
    """Directory the kernel cache is written to.

    ``$NUMBA_CACHE_DIR`` when set, else the per-user cache directory.

    >>> "NUMBA_CACHE_DIR" in os.environ or cache_dir().endswith(os.path.join("graphlabor", "numba"))
    True
    """
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return env
    dirs = AppDirs("graphlabor", appauthor=False)  # type: ignore[no-untyped-call]
    return os.path.join(str(dirs.user_cache_dir), "numba")


class _UserCacheLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Cache a kernel under :func:`cache_dir`, never beside its source file."""

    def __init__(self, py_func: Callable[..., Any], py_file: str) -> None:
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        # a subfolder per source folder, so two installs never share entries
        self._cache_path = os.path.join(cache_dir(), self.get_suitable_cache_subpath(py_file))  # type: ignore[no-untyped-call]

    def get_cache_path(self) -> str:
        return self._cache_path


class _CacheImpl(caching.CompileResultCacheImpl):
    _locator_classes = [_UserCacheLocator]


class _FunctionCache(caching.FunctionCache):
    _impl_class = _CacheImpl


def _cached(dispatcher: Any) -> Any:
    try:
        # what ``cache=True`` does (Dispatcher.enable_caching), with our locator
        dispatcher._cache = _FunctionCache(dispatcher.py_func)  # type: ignore[no-untyped-call]
    except RuntimeError:  # no writable cache directory: compile in each process
        pass
    return dispatcher


def njit(fn: _F) -> _F:
    """Compile ``fn`` as a serial, cached, nopython kernel."""
    return cast(_F, _cached(numba.njit(**_SERIAL)(fn)))


def pnjit(fn: _F) -> _F:
    """Compile ``fn`` as a parallel (``prange``), cached, nopython kernel."""
    return cast(_F, _cached(numba.njit(**_PARALLEL)(fn)))


prange = numba.prange
