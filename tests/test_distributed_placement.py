"""Tasks placed on a worker that is paused when every worker is paused run elsewhere once one resumes.

A real LocalCluster of 2 worker processes. Both workers are paused (as Dask
does at 80% of a worker's memory limit); a task is submitted the way the
engine places its tasks (``workers=[w0], allow_other_workers=True``), so the
scheduler parks it (``no-worker``: nothing runs). Then w1 alone resumes. Without
:mod:`graphlabor.distributed.placement`, distributed leaves the task parked for
as long as w0 stays paused (the CI memory test hung this way, on a loaded
machine); with it, the task runs on w1. Oracle: the task's result and the
worker that ran it.
"""

from __future__ import annotations

import time

import pytest

distributed = pytest.importorskip("distributed")

from distributed.core import Status  # noqa: E402

from graphlabor.distributed import placement  # noqa: E402


def _set_status(status: str, dask_worker=None) -> None:
    dask_worker.status = Status[status]  # the worker tells the scheduler, as when it pauses itself


def _where() -> str:
    return str(distributed.get_worker().address)


def _wait_statuses(client, want: dict[str, str], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        info = client.scheduler_info()["workers"]
        if all(info[a]["status"] == s for a, s in want.items()):
            return
        time.sleep(0.05)
    raise AssertionError(f"workers did not reach {want}")


def test_a_task_pinned_to_a_paused_worker_runs_on_the_one_that_resumes():
    # no memory limit: no memory monitor to undo the pauses set here
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  memory_limit=0) as cluster, \
            distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        assert placement.install(client)
        w0, w1 = sorted(client.scheduler_info()["workers"])
        client.run(_set_status, "paused")
        _wait_statuses(client, {w0: "paused", w1: "paused"})
        fut = client.submit(_where, workers=[w0], allow_other_workers=True, pure=False)
        # nothing can run it: parked
        end = time.monotonic() + 30
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.unrunnable)) != 1:
            assert time.monotonic() < end, "the task was not parked"
            time.sleep(0.05)
        client.run(_set_status, "running", workers=[w1])
        assert fut.result(timeout=60) == w1  # ran on the worker that resumed, while w0 stayed paused
        assert client.scheduler_info()["workers"][w0]["status"] == "paused"
        client.run(_set_status, "running", workers=[w0])
