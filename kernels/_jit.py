"""Numba options for every kernel, in one place; numba itself loads on first use.

All kernels are compiled with ``cache=True`` semantics so that a second
process loads them from disk instead of compiling again. The cache lives
outside the installed package: in ``$NUMBA_CACHE_DIR`` when set, else in the
per-user cache directory ``graphlabor/numba`` (``~/.cache/graphlabor/numba``
on Linux, honouring ``$XDG_CACHE_HOME``). Numba's default would write next to
the source when that folder is writable; in site-packages those files survive
``pip uninstall`` and turn the leftover folder into a namespace package that
shadows a later (editable) install. When no cache directory is writable the
kernels still run, compiled in every process.

Importing numba and setting up its compiler takes 0.5-1 s, most of a small
run. So :func:`njit` and :func:`pnjit` return a :class:`Kernel`, a stand-in
that imports numba and makes (or loads from the cache) the compiled kernel
the first time it is called: importing a kernel module costs nothing, a run
loads only the kernels it calls, and :func:`warm_up` can do the import in a
background thread while a run reads its input. Loading each cached kernel
then costs 10-50 ms more on its first call (0.5 s for the 25 kernels of a
run); after :func:`remember_kernels`, the warm-up thread also loads the
kernels the previous run of the same command called, with the signature of
their first call, in the order they were first called, so that they load
while the input is read instead of one by one on the main thread. Inside a kernel, a call to
another kernel compiles to a direct call, as with plain numba dispatchers,
and ``prange`` is numba's own by the time a kernel is compiled.

No ``fastmath`` flags are used: re-association would make results depend on
the compiler's choices, and graphlabor promises bit-identical results at every
thread count.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterator
from types import CodeType, ModuleType
from typing import Any, TypeVar, cast

_SERIAL: dict[str, Any] = dict(nogil=True)
_PARALLEL: dict[str, Any] = dict(nogil=True, parallel=True)

# A compiled kernel is called like the Python function it compiles, so to a
# type checker the decorators return their argument's type (Numba ignores
# the annotations).
_F = TypeVar("_F", bound=Callable[..., Any])

_lock = threading.RLock()
_warm_thread: threading.Thread | None = None
_probe_scipy = True
#: name under which this process records the kernels it calls (None: it does not)
_profile: str | None = None
#: (module, qualname, argument types) of each kernel's first call, in the order of first calls
_first_calls: list[tuple[str, str, Any]] = []
_recorded: list[tuple[str, str, Any]] | None = None


class prange:  # noqa: N801 (named as what it stands for)
    """``range`` for a loop whose iterations may run in parallel: numba's ``prange`` once compiled.

    A kernel module imports this stand-in (importing numba's would import
    numba); :meth:`Kernel.dispatcher` puts ``numba.prange`` in its place in
    the module before the first kernel of that module is compiled.

    >>> list(prange(3))
    [0, 1, 2]
    """

    def __new__(cls, *args: int) -> range:  # type: ignore[misc]
        return range(*args)


def cache_dir() -> str:
    """Directory the kernel cache is written to.

    ``$NUMBA_CACHE_DIR`` when set, else the per-user cache directory.

    >>> "NUMBA_CACHE_DIR" in os.environ or cache_dir().endswith(os.path.join("graphlabor", "numba"))
    True
    """
    env = os.environ.get("NUMBA_CACHE_DIR")
    if env:
        return env
    from numba.misc.appdirs import AppDirs

    dirs = AppDirs("graphlabor", appauthor=False)  # type: ignore[no-untyped-call]
    return os.path.join(str(dirs.user_cache_dir), "numba")


class _Refuse:
    """An import hook that makes importing the named top-level modules fail, as if not installed."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self.names = names

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden while graphlabor starts)", name=name)


@contextlib.contextmanager
def hidden(*names: str) -> Iterator[None]:
    """While inside, importing the named modules (not yet imported) fails with ModuleNotFoundError.

    For the optional probes of numba and pyarrow at start-up (see
    :func:`_numba`); process-wide while it lasts, so only for a moment.

    >>> import sys
    >>> with hidden("no_such_module_either"):
    ...     try:
    ...         import no_such_module_either
    ...     except ImportError as e:
    ...         print(type(e).__name__)
    ModuleNotFoundError
    """
    hook = _Refuse(tuple(n for n in names if n not in sys.modules))
    # a new list each time, never changed in place: another thread may be iterating the old one in an import
    sys.meta_path = [hook, *sys.meta_path]
    try:
        yield
    finally:
        sys.meta_path = [f for f in sys.meta_path if f is not hook]


def probe_scipy(enabled: bool) -> None:
    """Whether numba, when it loads in this process, may import SciPy (default True).

    With ``False``, SciPy is hidden while numba first loads: numba then skips
    its SciPy version check and its BLAS probe (importing ``scipy.linalg``,
    0.2 s), so that ``np.dot`` inside a kernel compiled in this process would
    use a plain loop instead of BLAS; no graphlabor kernel calls ``np.dot``
    or ``np.linalg``. Only the command line asks for this: in a library
    user's process numba stays as numba would be.
    """
    global _probe_scipy
    _probe_scipy = enabled


def _numba() -> ModuleType:
    """Import numba and set up its CPU compiler (once per process); return the module."""
    hide = not _probe_scipy and "numba" not in sys.modules
    with hidden("scipy") if hide else contextlib.nullcontext():
        import numba
        from numba.core.compiler_lock import global_compiler_lock
        from numba.core.registry import cpu_target

        with global_compiler_lock:  # what a first cache load does (a compile also sets up typing), done here once
            cpu_target.target_context.refresh()
    return numba


def warm_up() -> threading.Thread | None:
    """Import numba and set up its compiler in a background thread, then load the remembered kernels; return the thread.

    Called as a run starts reading its input, so that the import overlaps
    the read (pyarrow releases the GIL while it decodes); a kernel called
    before it is done waits for it (Python's import lock, then numba's
    compiler lock). After :func:`remember_kernels`, the thread goes on to
    load (or compile) the kernels the last run recorded, each for the
    signature of its first call. A kernel is never loaded twice: numba's
    compiler lock is held for each load, and a call that finds no loaded
    signature takes that lock, then finds the one the thread loaded. The
    thread is not a daemon: a process that ends early waits for it rather
    than stop it inside an import. Returns None when numba is already loaded
    or warming up.
    """
    global _warm_thread
    with _lock:
        if _warm_thread is not None or "numba.core.registry" in sys.modules:
            return None
        _warm_thread = threading.Thread(target=_warm, name="graphlabor-numba-warm-up")
        _warm_thread.start()
        return _warm_thread


def _warm() -> None:
    _numba()
    if _profile is not None:
        preload(_read_profile(_profile))


def remember_kernels(name: str) -> None:
    """Note which kernels this process calls first (and how), under ``name``; let :func:`warm_up` load the last record.

    For a command line run: ``name`` is the command (``"attribute"``). The
    record is written by :func:`save_kernel_record`, which the command line
    calls when a command ends well (never after an interrupt or an error: a
    run cut short calls fewer kernels than the next one will need). It is a
    pickle in ``cache_dir()/warm/`` (beside numba's own pickled cache; one per
    command and install), rewritten only when it changes. A library user's
    process records nothing.
    """
    global _profile
    with _lock:
        _profile = name


def _profile_path(name: str) -> str:
    """``cache_dir()/warm/NAME-HASH.pickle``, the hash naming this install's kernels folder (as the cache's subfolders do)."""
    import hashlib

    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(cache_dir(), "warm", f"{name}-{hashlib.sha1(here.encode()).hexdigest()[:16]}.pickle")


def _read_profile(name: str) -> list[tuple[str, str, Any]]:
    """The recorded first calls of the last run under ``name`` ([] when none or unreadable). Needs numba imported."""
    global _recorded
    try:
        with open(_profile_path(name), "rb") as f:
            entries = pickle.load(f)
    except Exception:  # absent, unreadable or written by another numba: nothing to load
        entries = []
    _recorded = entries if isinstance(entries, list) else []
    return _recorded


def preload(entries: list[tuple[str, str, Any]]) -> int:
    """Load (or compile) each ``(module, qualname, argument types)`` kernel signature; return how many loaded.

    Entries that no longer name a kernel, or whose types no longer fit it,
    are skipped.
    """
    done = 0
    for entry in entries:
        try:
            module, qualname, sig = entry
            k = _by_name(module, qualname)
            if isinstance(k, Kernel):
                k.dispatcher.compile(sig)
                done += 1
        except Exception:  # a renamed kernel, a changed signature: the run loads what it calls, as without a record
            continue
    return done


def save_kernel_record() -> None:
    """Write this run's first calls under the name given to :func:`remember_kernels`, when they differ from the record read."""
    if _profile is None or not _first_calls:
        return
    seen: set[tuple[str, str]] = set()
    entries = []
    for module, qualname, sig in list(_first_calls):
        if (module, qualname) not in seen:
            seen.add((module, qualname))
            entries.append((module, qualname, sig))
    if entries == _recorded:
        return
    path = _profile_path(_profile)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(entries, f)
        os.replace(tmp, path)  # another process writing at once: one of the two whole records wins
    except (OSError, pickle.PicklingError):
        pass


def _global_names(code: CodeType) -> Iterator[str]:
    """Global names a function's code reads, nested code included."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _global_names(const)


class Kernel:
    """A numba kernel compiled (or loaded from the cache) the first time it is called.

    Calls go to the compiled :attr:`dispatcher`; so do attribute lookups
    (``signatures``, ``inspect_types``...). ``py_func`` is the Python
    function. Inside another kernel a ``Kernel`` is typed as its dispatcher
    (numba's ``_numba_type_`` protocol), so the call compiles as a direct
    call.
    """

    def __init__(self, fn: Callable[..., Any], options: dict[str, Any]) -> None:
        self.py_func = fn
        self._options = options
        self._dispatcher: Any = None
        self._called = False
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    @property
    def dispatcher(self) -> Any:
        """The numba dispatcher (made on first use: numba is imported then)."""
        d = self._dispatcher
        if d is None:
            d = self._make()
        return d

    def _make(self) -> Any:
        numba = _numba()
        with _lock:
            if self._dispatcher is None:
                g = self.py_func.__globals__
                for name in set(_global_names(self.py_func.__code__)):
                    if g.get(name) is prange:
                        g[name] = numba.prange
                self._dispatcher = _cached(numba.njit(**self._options)(self.py_func))
            return self._dispatcher

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        d = self._dispatcher
        if d is None:
            d = self._make()
        if self._called:
            return d(*args, **kwargs)
        out = d(*args, **kwargs)
        self._first_call(d, args, kwargs)
        return out

    def _first_call(self, d: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Note the argument types of the first call (for :func:`remember_kernels`)."""
        self._called = True
        if _profile is not None and not kwargs:
            try:
                sig = tuple(d.typeof_pyval(a) for a in args)
            except Exception:  # a type numba would not cache by: leave it to the call
                return
            _first_calls.append((self.__module__, self.__qualname__, sig))

    @property
    def _numba_type_(self) -> Any:
        from numba.core import types

        return types.Dispatcher(self.dispatcher)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled by reference, like the function it stands for
        return (_by_name, (self.__module__, self.__qualname__))

    def __repr__(self) -> str:
        return f"<graphlabor kernel {self.__module__}.{self.__qualname__}>"


def _by_name(module: str, qualname: str) -> Any:
    obj: Any = __import__(module, fromlist=["_"])
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@functools.cache
def _function_cache() -> type:
    """numba's function cache with our locator (made once numba is imported)."""
    from numba.core import caching

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

    return _FunctionCache


def _cached(dispatcher: Any) -> Any:
    try:
        # what ``cache=True`` does (Dispatcher.enable_caching), with our locator
        dispatcher._cache = _function_cache()(dispatcher.py_func)
    except RuntimeError:  # no writable cache directory: compile in each process
        pass
    return dispatcher


def njit(fn: _F) -> _F:
    """Compile ``fn`` as a serial, cached, nopython kernel (on its first call)."""
    return cast(_F, Kernel(fn, _SERIAL))


def pnjit(fn: _F) -> _F:
    """Compile ``fn`` as a parallel (``prange``), cached, nopython kernel (on its first call)."""
    return cast(_F, Kernel(fn, _PARALLEL))
