"""Getting a Dask client: a given one, a scheduler's address, or a local cluster shut down after use."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ParameterError


def require_distributed() -> Any:
    """Import :mod:`distributed`, or say how to install it (one line, exit code 2)."""
    try:
        import distributed
    except ImportError:
        raise ParameterError(
            "--engine dask needs dask.distributed: pip install 'graphlabor[distributed]'"
        ) from None
    return distributed


def _worker_log_level() -> int:
    """The level of the local cluster's own log lines: CRITICAL unless ``GRAPHLABOR_DASK_LOG`` says otherwise.

    The engine reports every failure of the cluster itself, in one line; what
    distributed logs besides is noise around it (a worker whose last heartbeat
    meets a scheduler already closed prints a 30-line traceback). Set
    ``GRAPHLABOR_DASK_LOG=warning`` (or ``info``) to see the workers' logs
    when sizing memory or debugging.

    >>> import os, logging
    >>> os.environ.pop("GRAPHLABOR_DASK_LOG", None) and None
    >>> _worker_log_level() == logging.CRITICAL
    True
    """
    name = os.environ.get("GRAPHLABOR_DASK_LOG", "critical").strip().upper()
    level = logging.getLevelName(name)
    if not isinstance(level, int):
        raise ParameterError(f"GRAPHLABOR_DASK_LOG={name.lower()}: not a log level (debug, info, warning, error, critical)")
    return level


def _threads_per_worker(n_workers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(n_workers, 1))


@contextmanager
def connect(client: Any = None, *, scheduler: str | None = None, workers: int | None = None,
            worker_memory: str | int | None = None, threads: int | None = None) -> Iterator[Any]:
    """Yield a :class:`distributed.Client`.

    Parameters
    ----------
    client : distributed.Client, optional
        Used as it is (and left open).
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``) to connect to.
    workers : int, optional
        Worker processes of the local cluster started when neither ``client``
        nor ``scheduler`` is given (default: the number of cores).
    worker_memory : str or int, optional
        Memory limit per local worker (``"2GiB"``; default: Dask's share of
        the machine's memory).
    threads : int, optional
        Numba threads of each local worker (default: the cores divided
        among the workers); ``--threads`` of the CLI.

    The local cluster (and any client this function opened) is closed when
    the block ends, on errors and on Ctrl-C too.
    """
    if client is not None:
        yield client
        return
    distributed = require_distributed()
    if scheduler is not None:
        if workers is not None or worker_memory is not None:
            raise ParameterError("--workers and --worker-memory start a local cluster; they cannot be combined with --scheduler")
        if threads is not None:
            raise ParameterError("--threads sets the threads of a local cluster's workers; with --scheduler, start the "
                                 "workers with NUMBA_NUM_THREADS set")
        try:
            c = distributed.Client(scheduler, timeout="30s")
        except OSError as e:
            raise ParameterError(f"--scheduler {scheduler}: cannot connect ({e})") from None
        try:
            yield c
        finally:
            c.close()
        return
    n = int(workers) if workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise ParameterError(f"--workers must be at least 1, got {n}")
    threads = threads if threads is not None else _threads_per_worker(n)
    import dask

    with dask.config.set(LOCAL_CLUSTER_CONFIG), _local_cluster(distributed, n, threads, worker_memory) as cluster:
        c = distributed.Client(cluster)
        try:
            yield c
        finally:
            c.close()


#: Dask settings for the whole life of a local cluster this module starts (read in this process when a
#: worker leaves). ``lost-worker-timeout``: a SpecCluster (LocalCluster) closes a worker's *nanny* when, that
#: long after the worker left, no worker of the same name is registered; the check looks only at that
#: moment, so when workers are killed again later (two kills more than the timeout apart, the second
#: while the restarted workers are momentarily away), it closes nannies that were restarting their
#: workers, and the cluster loses them for good (measured: 2 of 12 SIGKILLs of both workers, 1-2 s
#: apart, left 1 or 0 workers for ever; the fault tests then failed waiting for 2 workers). The
#: nannies restart their workers themselves: the check is put off for about four months.
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {"distributed.deploy.lost-worker-timeout": 10_000_000}


@contextmanager
def _local_cluster(distributed: Any, n: int, threads: int, worker_memory: str | int | None) -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
        memory_limit=worker_memory if worker_memory is not None else "auto",
        silence_logs=_worker_log_level(),
        env={"NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1"},
    )
    try:
        yield cluster
    finally:
        cluster.close()


def memory_limits(client: Any) -> list[int]:
    """Each worker's memory limit in bytes (0: none), as the scheduler knows them now."""
    return [int(w.get("memory_limit") or 0) for w in client.scheduler_info(n_workers=-1)["workers"].values()]


def cluster_failure(exc: BaseException) -> BaseException:
    """A Dask failure (a task killed too often, data lost for good, the scheduler gone) as one line.

    Errors raised by graphlabor's own stages on the workers (bad input, ...)
    pass through unchanged.
    """
    from ..errors import GraphlaborError

    if isinstance(exc, GraphlaborError) or not type(exc).__module__.startswith(("distributed", "tornado", "asyncio")):
        return exc
    try:
        text = " ".join(str(exc).split())
    except Exception:  # a message that cannot be formatted still names the failure
        text = repr(exc.args)
    if len(text) > 200:
        text = text[:200] + "..."
    return GraphlaborError(f"the Dask cluster could not finish the run ({type(exc).__name__}: {text}); nothing written")

