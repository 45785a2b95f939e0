"""Stage timing and progress messages.

:class:`StageLog` records, for each named stage, the wall time and the
process's peak resident memory (sampled by a background thread while the
stage runs). On a terminal it prints one line per stage to stderr; when
stderr is piped it stays quiet. It also notes when the first stage began,
counted from the start of the process (:func:`process_age`): the start-up
cost (interpreter, imports, option checks) that ``--summary-json`` reports
as ``startup``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


def current_rss() -> int:
    """Resident memory of this process now, in bytes (0 if unknown).

    Read from ``/proc/self/statm`` (Linux), else from psutil when installed.
    The one place graphlabor reads it: stage peaks here, the mid-run memory
    check in :mod:`graphlabor.memory`.
    """
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:
        return 0


def process_age() -> float | None:
    """Seconds since this process started, or None where that is unknown.

    Linux only: the process's start time from ``/proc/self/stat`` (counted in
    clock ticks since boot, so in steps of 10 ms) against ``CLOCK_BOOTTIME``.
    Without psutil, so that reading it costs no import.

    >>> age = process_age()
    >>> age is None or 0 <= age < 3600
    True
    """
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rpartition(")")[2].split()  # the name, in parentheses, may hold spaces
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22, counted from 1 before the name
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - started)
    except (OSError, ValueError, IndexError, AttributeError):
        return None


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss: int


@dataclass
class StageLog:
    """Named stages with their time and peak memory.

    Parameters
    ----------
    verbose : bool or None
        Print progress to stderr; default: only when stderr is a terminal.
    """

    verbose: bool | None = None
    stages: list[Stage] = field(default_factory=list)
    #: Seconds from the process's start to the start of the first stage (None before it, or where unknown).
    to_first_stage: float | None = None
    #: Wall-clock time (``time.time()``) at which the first stage started.
    first_stage_at: float | None = None
    #: CPU seconds of the process (all threads) when the first stage started.
    cpu_to_first_stage: float | None = None

    def __post_init__(self) -> None:
        if self.verbose is None:
            self.verbose = sys.stderr.isatty()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.first_stage_at is None:
            self.first_stage_at = time.time()
            self.to_first_stage = process_age()
            self.cpu_to_first_stage = time.process_time()
        peak = [current_rss()]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.05):
                peak[0] = max(peak[0], current_rss())

        t = threading.Thread(target=sample, daemon=True)
        t.start()
        if self.verbose:
            print(f"graphlabor: {name} ...", file=sys.stderr, end="", flush=True)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            dt = time.perf_counter() - t0
            stop.set()
            t.join()
            peak[0] = max(peak[0], current_rss())
            self.stages.append(Stage(name, dt, peak[0]))
            if self.verbose:
                print(f" {dt:.2f} s, peak {peak[0] / 2**30:.2f} GiB", file=sys.stderr, flush=True)

    def startup(self) -> dict[str, Any]:
        """Start-up figures: seconds (and CPU seconds) from process start to the first stage, its wall-clock start."""
        return {"seconds_to_first_stage": self.to_first_stage, "cpu_seconds_to_first_stage": self.cpu_to_first_stage,
                "first_stage_at": self.first_stage_at}

    def as_dicts(self) -> list[dict[str, Any]]:
        return [{"stage": s.name, "seconds": s.seconds, "peak_rss_bytes": s.peak_rss} for s in self.stages]
