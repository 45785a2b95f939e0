"""A run that can never go on, because every worker is paused for good, fails in one line naming ``--worker-memory``.

(And a run that failed because Dask's nannies kept restarting workers over
their memory limit, ``KilledWorker``, says so in one line naming
``--worker-memory`` too.)

Dask pauses a worker whose process passes 80% of its memory limit
(``distributed.worker.memory.pause``): it runs no new task, and spills its
results to disk until it is back under the threshold. A worker whose memory
*outside* those results (the Python process with graphlabor's kernels
loaded, about 300 MiB, and the buffers its finished tasks left behind) is
alone above the threshold can spill nothing that helps, so it stays paused
for ever; when every worker is in that state, nothing runs and the run
would wait for ever (Dask has no time-out for it).

:func:`watch_paused` polls the scheduler once a second while a run is on
the cluster. When every worker has been *stuck* (:func:`stuck`: paused,
running no task, and with more memory than the pause threshold outside the
results it could spill) for :data:`PAUSED_TIMEOUT` seconds on end (the Dask
config key ``graphlabor.paused-timeout``), it cancels the run's futures and
the run raises a :class:`~graphlabor.errors.ParameterError` that names
``--worker-memory`` and the memory the workers held. A worker that pauses,
spills and resumes, or that is paused while one of its tasks still runs (and
frees its memory when it ends), is never stuck; nor is one paused while
another worker runs (the scheduler places the tasks there:
:mod:`graphlabor.distributed.placement`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ..errors import ParameterError

#: Seconds every worker must stay stuck (paused, idle, above the threshold without spillable data) before the run fails.
PAUSED_TIMEOUT = 30.0
#: Seconds between two looks at the scheduler's view of the workers.
POLL_SECONDS = 1.0


def stuck(workers: Iterable[Mapping[str, Any]], pause: float) -> tuple[int, int] | None:
    """``(smallest memory limit, largest memory held outside spillable results)`` if every worker is stuck, else None.

    ``workers``: the scheduler's view of each worker (the values of
    ``client.scheduler_info()["workers"]``: ``status``, ``memory_limit``,
    ``metrics``); ``pause``: the fraction of its limit at which Dask pauses a
    worker. A worker is stuck when it is paused, executes no task, and its
    process memory minus its results held in memory (which it could spill)
    is still at least ``pause`` times its limit.

    Examples
    --------
    >>> MiB = 1 << 20
    >>> def w(status, memory, managed=0, executing=0, limit=330 * MiB):
    ...     counts = {"executing": executing} if executing else {}
    ...     return dict(status=status, memory_limit=limit,
    ...                 metrics=dict(memory=memory * MiB, task_counts=counts, spilled_bytes=dict(memory=managed * MiB, disk=0)))
    >>> limit, held = stuck([w("paused", 277), w("paused", 267)], 0.8)
    >>> limit // MiB, held // MiB
    (330, 277)
    >>> stuck([w("paused", 277), w("running", 100)], 0.8) is None  # one worker runs
    True
    >>> stuck([w("paused", 277), w("paused", 300, managed=100)], 0.8) is None  # spilling 100 MiB resumes it
    True
    >>> stuck([w("paused", 277), w("paused", 300, executing=1)], 0.8) is None  # its task may free memory
    True
    >>> stuck([], 0.8) is None
    True
    """
    limits, held = [], []
    for ws in workers:
        metrics = ws.get("metrics") or {}
        limit = int(ws.get("memory_limit") or 0)
        if ws.get("status") != "paused" or not limit or (metrics.get("task_counts") or {}).get("executing"):
            return None
        spillable = int((metrics.get("spilled_bytes") or {}).get("memory", metrics.get("managed_bytes", 0)) or 0)
        fixed = int(metrics.get("memory") or 0) - spillable
        if fixed < pause * limit:
            return None
        limits.append(limit)
        held.append(fixed)
    if not limits:
        return None
    return min(limits), max(held)


def message(limit: int, held: int, pause: float, seconds: float) -> str:
    """The one line a stuck run fails with.

    >>> print(message(330 << 20, 277 << 20, 0.8, 30))  # doctest: +NORMALIZE_WHITESPACE
    --worker-memory 330.00 MiB is too small: every Dask worker stayed paused for 30 s (Dask pauses a worker at
    80% of its memory limit, 264.00 MiB) holding up to 277.00 MiB it cannot spill (the worker process with
    graphlabor's kernels loaded); give each worker more than 346.25 MiB plus its share of the data (see
    docs/distributed.md, Sizing)
    """
    from dask.utils import format_bytes

    return (f"--worker-memory {format_bytes(limit)} is too small: every Dask worker stayed paused for {seconds:.0f} s "
            f"(Dask pauses a worker at {pause:.0%} of its memory limit, {format_bytes(int(pause * limit))}) holding up to "
            f"{format_bytes(held)} it cannot spill (the worker process with graphlabor's kernels loaded); give each worker "
            f"more than {format_bytes(int(held / pause))} plus its share of the data (see docs/distributed.md, Sizing)")


class _Watch:
    """The polling thread of :func:`watch_paused`."""

    def __init__(self, client: Any, timeout: float, pause: float) -> None:
        self.client = client
        self.timeout = timeout
        self.pause = pause
        self.message: str | None = None
        self._before = set(client.futures)  # what the caller held before the run: left alone
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="graphlabor-paused-watchdog", daemon=True)

    def _run(self) -> None:
        since: float | None = None
        while not self._stop.wait(POLL_SECONDS):
            try:
                workers = self.client.scheduler_info(n_workers=-1)["workers"].values()
            except Exception:  # the client closing, the scheduler gone: the run itself reports that
                since = None
                continue
            found = stuck(workers, self.pause)
            if found is None:
                since = None
                continue
            now = time.monotonic()
            if since is None:
                since = now
            elif now - since >= self.timeout:
                self.message = message(*found, self.pause, now - since)
                self._cancel()
                return

    def _cancel(self) -> None:
        """Cancel, on the client's side, the futures made since the run began: what waits on them raises.

        Only the client's own states: the scheduler releases the tasks when
        the run drops its futures, as after any failure. (Cancelling them on the
        scheduler trips an assertion of distributed 2026.8 for tasks whose
        dependents no client holds, and drops the client's connection.)
        """
        keys = [k for k in list(self.client.futures) if k not in self._before]

        async def cancel() -> None:  # a future's state is the event loop's
            for k in keys:
                st = self.client.futures.get(k)
                if st is not None:
                    st.cancel(reason="graphlabor-paused", msg=self.message)

        try:
            self.client.sync(cancel)
        except Exception:  # the client closed meanwhile: the run is over anyway
            pass

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


@contextmanager
def watch_paused(client: Any) -> Iterator[None]:
    """While the block runs, fail it in one line (:class:`~graphlabor.errors.ParameterError`) if every worker stays stuck.

    Stuck: :func:`stuck`, for ``graphlabor.paused-timeout`` seconds (Dask
    config; default :data:`PAUSED_TIMEOUT`; ``False`` turns the watch off).
    Off too when Dask's pausing is (``distributed.worker.memory.pause``
    false). Whether on or off, a ``KilledWorker`` failure after the nannies
    restarted workers over their memory limit during the block becomes one
    line naming ``--worker-memory`` (:func:`killed_message`). The pause fraction is read from the caller's Dask config, which
    a local cluster's workers share.
    """
    import dask
    from dask.utils import parse_timedelta

    timeout = dask.config.get("graphlabor.paused-timeout", PAUSED_TIMEOUT)
    pause = dask.config.get("distributed.worker.memory.pause", 0.8)
    watching = not (timeout is False or timeout is None or not pause)
    watch = _Watch(client, float(parse_timedelta(timeout, default="seconds")) if watching else 0.0, float(pause or 0))
    restarts_before = _memory_restarts(client)
    limit_before = _smallest_limit(client)  # at the failure, the restarted workers may all be away
    if watching:
        watch.start()
    try:
        yield
    except BaseException as e:
        watch.stop()
        if watch.message is not None:
            raise ParameterError(watch.message) from None
        if type(e).__name__ == "KilledWorker":
            restarts = _memory_restarts(client)[len(restarts_before):]
            if restarts:
                raise ParameterError(killed_message(client, restarts, limit_before)) from None
        raise
    finally:
        watch.stop()


def _memory_restarts(client: Any) -> list[dict[str, Any]]:
    """The nannies' ``worker-restart-memory`` events so far (a worker restarted for passing 95% of its limit)."""
    try:
        return [msg for _, msg in client.get_events("worker-restart-memory") if isinstance(msg, dict)]
    except Exception:
        return []


def _smallest_limit(client: Any) -> int:
    """The smallest memory limit of the workers the scheduler knows now (0 if none, or none known)."""
    from .cluster import memory_limits

    try:
        limits = memory_limits(client)
    except Exception:
        limits = []
    return min((x for x in limits if x), default=0)


def killed_message(client: Any, restarts: list[dict[str, Any]], known_limit: int = 0) -> str:
    """The one line of a run that failed because nannies kept restarting workers over their memory limit.

    ``known_limit``: the smallest worker memory limit seen when the run began,
    used when no worker is up at the failure (all being restarted).
    """
    from dask.utils import format_bytes

    import dask

    terminate = float(dask.config.get("distributed.worker.memory.terminate", 0.95) or 0.95)
    limit = min((x for x in (_smallest_limit(client), known_limit) if x), default=0)
    rss = max(int(r.get("rss") or 0) for r in restarts)
    said = f"--worker-memory {format_bytes(limit)}" if limit else "the workers' memory limit (--worker-memory)"
    return (f"{said} is too small: Dask restarted workers {len(restarts)} times for passing {terminate:.0%} of their "
            f"memory limit (at up to {format_bytes(rss)}) and gave up on a task; give each worker more than "
            f"{format_bytes(int(rss / 0.8))} plus its share of the data (see docs/distributed.md, Sizing)")
