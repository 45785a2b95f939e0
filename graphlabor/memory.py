"""Memory budget: estimate a run's peak before doing it, and stop cleanly if it cannot fit.

A run that needs more memory than the machine has free is killed by the
kernel (or swaps for hours) after minutes of work and with no message. This
module estimates the peak resident memory of each pipeline stage from sizes
known before any data is read (edge rows from the Parquet footer, the id
type from the schema), and :func:`check_memory` turns "will not fit" into a
one-line :class:`~graphlabor.errors.MemoryBudgetError` saying what is needed,
what is free and what reduces the need.

The model
---------
Each stage's peak is ``base + per_edge * m + per_node * n`` bytes (m edge
rows of all classes, n distinct nodes), with the coefficients of
:data:`STAGE_COEFFICIENTS` fitted by least squares to the resident set size
that :class:`~graphlabor.timing.StageLog` sampled in runs on generated
graphs, raised by :data:`SAFETY` plus :data:`MARGIN_BYTES`. Text ids longer
than the ~13 bytes measured add ``2 * (L - 13)`` bytes per edge while the
edge table holds them and ``L - 13`` per node after; CSV input holds the
ids as text while reading. The stages "encode times", "infer roles", "time
decay" and "align nodes" come after "classify edges" and hold less than its
peak (the per-class copies of the edges), so the model does not list them.

The measurements, the fitted table and what is alive at each stage's peak
are in ``benchmarks/NOTES.md`` ("Memory model"). ``tests/test_memory.py``
runs a 3-million-edge graph and checks that the estimate still covers the
measured peak: when it fails, measure again and update both.

The estimates are a budget, not a promise: they are meant to stop a run
that needs 30 GB on a 24 GB machine before it starts, not to squeeze the
last gigabyte.

Examples
--------
>>> est = estimate_bytes(100_000_000, 10_000_000, "str", avg_id_bytes=13)
>>> est.peak_stage
'classify edges'
>>> round(est.peak / 2**30, 1)
13.5
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._types import EdgesInput, PathLike
from .errors import MemoryBudgetError
from .timing import current_rss

if TYPE_CHECKING:
    import pyarrow as pa

    from .readers import Source

GiB = 1 << 30
MiB = 1 << 20

#: Per stage: (base MiB, bytes per edge with int ids, with text ids, bytes per node with int ids, with text ids).
STAGE_COEFFICIENTS: dict[str, tuple[float, float, float, float, float]] = {
    "read edges": (210, 66, 95, 18, 8),
    "encode ids": (235, 91, 106, 41, 57),
    "classify edges": (305, 77, 118, 78, 89),
    "build graph": (405, 75, 101, 182, 56),
    "solve": (420, 70, 95, 191, 81),
    "breakdown by kind": (415, 86, 105, 305, 166),
    "results": (470, 56, 76, 243, 112),
    "write": (390, 38, 32, 192, 207),
}
#: Factor applied to the fitted per-edge and per-node coefficients.
SAFETY = 1.10
#: Bytes added to every stage for the scatter of allocator caches between runs.
MARGIN_BYTES = 256 * MiB

#: Text id length (bytes) at which the coefficients were measured.
CALIBRATION_ID_BYTES = 13
#: Bytes per contribution edge of the blocked propagation layout (included in the fits).
BLOCKED_BYTES_PER_EDGE = 22
#: Stages during which the edge table still holds the original ids.
_ID_STAGES = ("read edges", "encode ids")
#: Stages that hold the propagation layout.
_SOLVE_STAGES = ("solve", "breakdown by kind")

#: Set this environment variable to 0 to skip :func:`check_memory`.
SKIP_ENV = "GRAPHLABOR_MEMORY_CHECK"


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peak resident memory of each stage of a run.

    Attributes
    ----------
    stages : dict of str to int
        Bytes at each stage's peak, in pipeline order.
    n_edges, n_nodes : int
        The sizes the estimate is for.
    id_type : str
    notes : tuple of str
        Assumptions made, such as ``"blocked propagation kernel"``.
    """

    stages: dict[str, int]
    n_edges: int
    n_nodes: int
    id_type: str
    notes: tuple[str, ...] = field(default=())

    @property
    def peak(self) -> int:
        """The largest stage estimate (bytes)."""
        return max(self.stages.values()) if self.stages else int(STAGE_COEFFICIENTS["read edges"][0] * MiB + MARGIN_BYTES)

    @property
    def peak_stage(self) -> str:
        """The stage with the largest estimate."""
        return max(self.stages, key=lambda stage: self.stages[stage])

    def after(self, stage: str) -> MemoryEstimate:
        """The estimate restricted to ``stage`` and the stages after it."""
        names = list(self.stages)
        keep = names[names.index(stage):]
        return MemoryEstimate({k: self.stages[k] for k in keep}, self.n_edges, self.n_nodes, self.id_type, self.notes)


def estimate_bytes(
    n_edges: int,
    n_nodes_guess: int | None = None,
    id_type: str = "int",
    *,
    avg_id_bytes: float = CALIBRATION_ID_BYTES,
    source_format: str = "parquet",
    blocked: bool | None = None,
    extra_node_bytes: float = 0.0,
) -> MemoryEstimate:
    """Estimate the peak memory of each pipeline stage.

    Parameters
    ----------
    n_edges : int
        Edge rows (all classes), for instance from :func:`edge_rows`.
    n_nodes_guess : int, optional
        Distinct node ids; default ``n_edges // 10`` (interaction graphs
        usually have 5 to 20 edges a node). Pass the exact count once ids
        are encoded.
    id_type : {"int", "str"}
    avg_id_bytes : float, default 13
        Average length of a text id in UTF-8 bytes (ignored for int ids).
    source_format : {"parquet", "ipc", "csv"}
        CSV holds the ids as text while reading, even integer ids.
    blocked : bool, optional
        Whether the blocked propagation kernel will run; default: as
        :func:`graphlabor.solve.choose_kernel` would pick by size alone.
    extra_node_bytes : float, default 0
        Bytes per node of nodes-file extra columns carried to the output.

    Returns
    -------
    MemoryEstimate

    Examples
    --------
    >>> e = estimate_bytes(1_000_000, 100_000, "int")
    >>> e.peak_stage, round(e.peak / 2**20)
    ('results', 810)
    >>> estimate_bytes(10**8, id_type="str").peak > estimate_bytes(10**8, id_type="int").peak
    True
    """
    m = max(int(n_edges), 0)
    n = max(int(n_nodes_guess if n_nodes_guess is not None else m // 10), 0)
    if id_type not in ("int", "str"):
        raise ValueError(f"id_type must be 'int' or 'str', got {id_type!r}")
    text = id_type == "str"
    d = max(float(avg_id_bytes), 1.0) - CALIBRATION_ID_BYTES if text else 0.0
    if blocked is None:
        blocked = 8 * n >= (1 << 20) and m >= (1 << 20)
    notes = []
    stages = {}
    for name, (base, e_int, e_str, n_int, n_str) in STAGE_COEFFICIENTS.items():
        per_edge = SAFETY * (e_str if text else e_int)
        per_node = SAFETY * (n_str if text else n_int) + extra_node_bytes
        b = per_edge * m + per_node * n
        if name in _ID_STAGES:
            b += 2 * d * m
        else:
            b += d * n
        if name == "read edges" and source_format == "csv":
            b += 2 * (4 + (avg_id_bytes if text else 8)) * m
        if not blocked and name in _SOLVE_STAGES:
            b -= BLOCKED_BYTES_PER_EDGE * m
        stages[name] = int(base * MiB + MARGIN_BYTES + max(b, 0))
    if blocked:
        notes.append("blocked propagation kernel")
    return MemoryEstimate(stages, m, n, id_type, tuple(notes))


def available_bytes() -> int | None:
    """Memory this process can still use without swapping, in bytes (None if unknown).

    The smaller of the system's available memory (``MemAvailable`` in
    ``/proc/meminfo``, what psutil reports on Linux, without importing it;
    else ``psutil``) and what the control group's
    limit leaves (cgroup v2 ``memory.max - memory.current``, v1
    ``memory.limit_in_bytes - memory.usage_in_bytes``), since a container's
    limit is not visible in the system's numbers.
    """
    values = []
    v = _meminfo_available()
    if v is None:  # not Linux: ask psutil, when installed
        try:
            import psutil

            v = int(psutil.virtual_memory().available)
        except Exception:
            v = None
    if v is not None:
        values.append(v)
    c = _cgroup_headroom()
    if c is not None:
        values.append(c)
    return min(values) if values else None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _read_int(path: str) -> int | None:
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _cgroup_dirs() -> list[str]:
    """Memory-cgroup directories of this process, innermost first (v2 and v1)."""
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":
            roots = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        elif "memory" in controllers.split(","):
            roots = ["/sys/fs/cgroup/memory"]
        else:
            continue
        path = path.strip("/")
        for root in roots:
            p = path
            while True:
                d = os.path.join(root, p) if p else root
                if os.path.isdir(d):
                    out.append(d)
                if not p:
                    break
                p = os.path.dirname(p)
    return out


def _cgroup_headroom() -> int | None:
    """Smallest ``limit - usage`` over this process's memory cgroup and its ancestors."""
    best = None
    for d in _cgroup_dirs():
        for limit_f, usage_f in (("memory.max", "memory.current"), ("memory.limit_in_bytes", "memory.usage_in_bytes")):
            limit = _read_int(os.path.join(d, limit_f))
            if limit is None or limit >= (1 << 60):  # no limit ("max", or v1's huge number)
                continue
            usage = _read_int(os.path.join(d, usage_f)) or 0
            room = max(limit - usage, 0)
            best = room if best is None else min(best, room)
    return best


def _gib(b: float) -> str:
    return f"{b / GiB:.1f} GiB" if b >= GiB else f"{b / MiB:.0f} MiB"


def check_memory(need: int | MemoryEstimate, what: str, *, available: int | None = None, already_used: int = 0) -> None:
    """Raise :class:`MemoryBudgetError` if ``need`` bytes will not fit in the free memory.

    Parameters
    ----------
    need : int or MemoryEstimate
        Estimated peak bytes of the process (a :class:`MemoryEstimate`'s peak).
    what : str
        What needs it, for the message ("attributing 100,000,000 edges").
    available : int, optional
        Free bytes; default :func:`available_bytes`.
    already_used : int, default 0
        Bytes of ``need`` the process already holds (its resident memory
        when checking mid-run), which are not free but not needed anew.

    Raises
    ------
    MemoryBudgetError
        One line: what is needed, what is free, and what reduces the need.

    Notes
    -----
    Set the environment variable ``GRAPHLABOR_MEMORY_CHECK=0`` to skip the
    check (for instance when swap is acceptable).

    Examples
    --------
    >>> check_memory(2 * 2**30, "attributing 1,000 edges", available=4 * 2**30)
    >>> check_memory(30 * 2**30, "attributing 10^8 edges", available=20 * 2**30)
    Traceback (most recent call last):
    ...
    graphlabor.errors.MemoryBudgetError: attributing 10^8 edges needs about 30.0 GiB of memory but only 20.0 GiB is free; ...
    """
    if os.environ.get(SKIP_ENV, "").strip() in ("0", "no", "false", "off"):
        return
    est = need if isinstance(need, MemoryEstimate) else None
    need_b = need.peak if isinstance(need, MemoryEstimate) else int(need)
    free = available_bytes() if available is None else int(available)
    if free is None:
        return
    if need_b - already_used <= free:
        return
    where = f" (peak at stage '{est.peak_stage}')" if est is not None else ""
    hints = ["split the edges into several runs (fewer edges per run)"]
    if est is None or est.id_type == "str":
        hints.append("use integer ids instead of strings")
    if est is not None and "blocked propagation kernel" in est.notes and est.peak_stage in _SOLVE_STAGES:
        hints.append(f"set GRAPHLABOR_KERNEL=pull (saves {_gib(BLOCKED_BYTES_PER_EDGE * est.n_edges)})")
    hints.append("close other programs")
    raise MemoryBudgetError(
        f"{what} needs about {_gib(need_b)} of memory{where} but only {_gib(free + already_used)} is free; "
        f"to reduce it: {'; '.join(hints)} (or set {SKIP_ENV}=0 to try anyway)"
    )


def release_free_memory() -> None:
    """Hand memory that was freed but kept by the allocators back to the system.

    Ingestion frees many arrays of a few megabytes (one row group's worth);
    glibc's ``malloc`` keeps such freed blocks in its heap and pyarrow's pool
    keeps its own, so the process's resident memory stays at its ingestion
    high-water mark while the graph is built on top of it. ``malloc_trim(0)``
    (glibc only; a no-op elsewhere) and the Arrow pool's ``release_unused``
    return them. Results do not depend on it.

    >>> release_free_memory()
    """
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except (ImportError, AttributeError):
        pass
    import sys

    if sys.platform.startswith("linux"):
        import ctypes
        import ctypes.util

        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            trim = getattr(libc, "malloc_trim", None)
            if trim is not None:
                trim(0)
        except OSError:
            pass


def check_before_reading(edges: EdgesInput | list[Source], *, available: int | None = None) -> MemoryEstimate | None:
    """Check, from file metadata only, that a run on ``edges`` can fit; call before reading.

    Parameters
    ----------
    edges : list of Source, path, list of paths, or an in-memory table
        The edge sources as :func:`graphlabor.readers.resolve` returns them
        (paths are resolved here). In-memory tables are not checked here
        (they are already in memory); :func:`check_after_encoding` checks
        the rest of their run.

    Returns
    -------
    MemoryEstimate or None
        The estimate checked (with ``n_edges // 10`` nodes assumed), or None.

    Raises
    ------
    MemoryBudgetError
    """
    from .readers import is_paths, resolve

    if not is_paths(edges):
        return None
    sources = resolve(edges)
    rows, exact, id_type, fmt = edge_rows(sources)
    est = estimate_bytes(rows, None, id_type or "str", source_format=fmt)
    names = [s.name for s in sources] or ["(no files)"]
    label = names[0] if len(names) == 1 else f"{names[0]} and {len(names) - 1} more"
    check_memory(est, f"attributing {'' if exact else 'about '}{rows:,} edges ({label})", available=available)
    return est


def check_after_encoding(n_edges: int, n_nodes: int, id_type: str, *, available: int | None = None) -> MemoryEstimate:
    """Check, with the exact sizes, that the rest of a run can fit; call once ids are encoded.

    The stages from "build graph" on are checked against the free memory
    plus what the process already holds.

    Raises
    ------
    MemoryBudgetError
    """
    est = estimate_bytes(n_edges, n_nodes, id_type).after("build graph")
    check_memory(
        est, f"attributing {n_edges:,} edges among {n_nodes:,} nodes", available=available, already_used=current_rss()
    )
    return est


def edge_rows(sources: PathLike | Sequence[PathLike | Source]) -> tuple[int, bool, str | None, str]:
    """Count edge rows from file metadata, before reading any data.

    Parameters
    ----------
    sources : list of Source, or paths
        Resolved sources (:func:`graphlabor.readers.resolve`), whose
        metadata was read once; paths are resolved here.

    Returns
    -------
    rows : int
        Exact for Parquet (footer) and Arrow IPC files (record batch
        headers); estimated for CSV (file size over the average length of
        the first lines).
    exact : bool
    id_type : {"int", "str"} or None
        From the ``src`` column's type where the schema says it (Parquet,
        IPC); None for CSV.
    source_format : str
        ``"csv"`` if any source is CSV, else ``"parquet"`` or ``"ipc"``.
    """
    from .readers import resolve
    from .validate import id_kind

    rows, exact, kinds, fmt = 0, True, set(), "parquet"
    for src in resolve(sources):
        if src.format == "csv":
            fmt = "csv"
            exact = False
            rows += 0 if src.is_empty else _csv_rows_guess(src.path, src.compression)
            continue
        if src.format != "parquet" and fmt != "csv":
            fmt = "ipc"
        rows += src.num_rows or 0
        kinds.add(_src_kind(src.schema, id_kind))
    kinds.discard(None)
    id_type = kinds.pop() if len(kinds) == 1 else ("str" if "str" in kinds else None)
    return rows, exact, id_type, fmt


def _src_kind(schema: pa.Schema, id_kind: Callable[[pa.DataType], str | None]) -> str | None:
    for name in ("src", "source"):
        if name in schema.names:
            k = id_kind(schema.field(name).type)
            return "int" if k in ("int", "float") else k
    return None


def _csv_rows_guess(path: str, compression: str | None = None, sample: int = 1 << 20) -> int:
    size = os.path.getsize(path)
    if size == 0:
        return 0
    if compression == "gzip":
        import gzip
        import zlib

        try:
            with gzip.open(path, "rb") as f:
                head = f.read(sample)
        except (EOFError, OSError, zlib.error):
            return 0  # corrupt: the reader reports it, with the file's name
        factor = 4.0  # typical compression of edge lists; an estimate, not a count
    else:
        with open(path, "rb") as f:
            head = f.read(sample)
        factor = 1.0
    lines = head.count(b"\n")
    if lines <= 1:
        return 1
    return int(size * factor * lines / len(head)) - 1
