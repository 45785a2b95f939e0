"""Where a small run's start-up goes: imports, numba's set-up, each kernel's cache load.

Usage::

    python benchmarks/startup.py [EDGES.parquet [NODES.parquet]]

Runs ``graphlabor attribute`` once in this process (on the 1,000-edge economy
of ``benchmarks/run.py`` unless a file is given; run it twice so that the
kernel cache is warm) and prints, in CPU seconds of this process (all
threads; less sensitive to a loaded machine than wall time):

- the time to the first stage and to the end of the run;
- numba's import and compiler set-up (in the warm-up thread);
- each kernel loaded from the cache (or compiled) and its signatures, with
  the time of that load, as timed around numba's ``Cache.load_overload``,
  and whether the main thread or the warm-up thread loaded it;
- which of the modules a run need not import were imported.

Nothing here is asserted; ``tests/test_startup.py`` checks the imports.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main() -> None:
    from run import SEED, STARTUP_EDGES, _generate_parquet, _nodes_path

    workdir = Path(os.environ.get("GRAPHLABOR_BENCH_DIR", "/tmp/graphlabor-bench"))
    if len(sys.argv) > 1:
        edges = Path(sys.argv[1])
        nodes = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    else:
        workdir.mkdir(parents=True, exist_ok=True)
        edges = workdir / f"startup_{STARTUP_EDGES}_s{SEED}.parquet"
        if not edges.exists():
            _generate_parquet(edges, STARTUP_EDGES)
        nodes = _nodes_path(edges)

    cpu0 = time.process_time()
    loads: list[tuple[str, str, float]] = []
    warm: dict[str, float] = {}
    lock = threading.Lock()

    import graphlabor.timing as timing
    from graphlabor.kernels import _jit

    numba_setup = _jit._numba

    def timed_setup():  # the warm-up thread's work, timed in that thread's CPU time
        t = time.thread_time()
        m = numba_setup()
        if threading.current_thread() is not threading.main_thread():
            warm.setdefault("numba import + set-up (warm-up thread CPU)", time.thread_time() - t)
        from numba.core import caching

        with lock:  # before any kernel loads: a kernel's first call runs this first
            if not getattr(caching.Cache.load_overload, "_timed", False):
                original = caching.Cache.load_overload

                def load_overload(self, sig, target_context):
                    t0 = time.perf_counter()
                    try:
                        return original(self, sig, target_context)
                    finally:
                        fn = getattr(self, "_py_func", None)
                        name = f"{fn.__module__}.{fn.__qualname__}" if fn is not None else self._name
                        warm_thread = threading.current_thread().name == "graphlabor-numba-warm-up"
                        where = "  (warm-up thread)" if warm_thread else ""
                        loads.append((name + where, str(sig), time.perf_counter() - t0))

                load_overload._timed = True  # type: ignore[attr-defined]
                caching.Cache.load_overload = load_overload
        return m

    _jit._numba = timed_setup
    marks: dict[str, float] = {}
    stage = timing.StageLog.stage

    def spy(self, name):
        marks.setdefault("first stage", time.process_time() - cpu0)
        return stage(self, name)

    timing.StageLog.stage = spy
    from graphlabor.cli import main as cli

    args = ["attribute", str(edges), "-o", str(workdir / "startup_profile_out.parquet"), "-q"]
    if nodes is not None:
        args[2:2] = ["--nodes", str(nodes)]
    try:
        cli(args)
    except SystemExit as e:
        if e.code:
            raise
    marks["end of run"] = time.process_time() - cpu0
    print(f"graphlabor {' '.join(args)}")
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}\n")
    for k, v in {**marks, **warm}.items():
        print(f"{k:45s} {v:7.3f} s CPU")
    print(f"\n{len(loads)} kernel signatures loaded (wall time of each load; the first one waits for the set-up):")
    for name, _sig, t in loads:
        print(f"  {t * 1e3:7.1f} ms  {name}")
    print(f"  {sum(t for *_, t in loads[1:]) * 1e3:7.1f} ms  all but the first")
    main_thread = [t for name, _sig, t in loads if not name.endswith("(warm-up thread)")]
    print(f"  {sum(main_thread) * 1e3:7.1f} ms  on the run's threads ({len(main_thread)} loads; the others ran in the warm-up "
          "thread from the last run's record, graphlabor.kernels._jit.remember_kernels)")
    heavy = [m for m in ("pandas", "pyarrow.dataset", "scipy", "psutil") if m in sys.modules]
    print(f"\nimported, though a local run needs none of them: {heavy or 'none'}")


if __name__ == "__main__":
    main()
