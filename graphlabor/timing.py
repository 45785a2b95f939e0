"""Stage timing and progress messages.

:class:`StageLog` records, for each named stage, the wall time and the
process's peak resident memory (sampled by a background thread while the
stage runs). On a terminal it prints one line per stage to stderr; when
stderr is piped it stays quiet.
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

    def __post_init__(self) -> None:
        if self.verbose is None:
            self.verbose = sys.stderr.isatty()

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
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

    def as_dicts(self) -> list[dict[str, Any]]:
        return [{"stage": s.name, "seconds": s.seconds, "peak_rss_bytes": s.peak_rss} for s in self.stages]
