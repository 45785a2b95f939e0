"""A worker memory limit too small for a worker's fixed memory: one line naming --worker-memory, not a hang.

Dask pauses a worker at a fraction of its memory limit (80% by default). A
worker whose memory without any data (the process with graphlabor's kernels
loaded: measured 210 MiB after numba's set-up, 230-340 MiB after a run on
the example) is above that stays paused for ever, and before
:mod:`graphlabor.distributed.watchdog` the run waited for ever (reproduced:
``--worker-memory 330MiB`` on the bundled example). To make "above the
threshold" certain on any machine, these tests lower Dask's pause fraction
to 0.4 of a 400 MiB limit (160 MiB: more than a fresh worker, 61 MiB, less
than one with numba loaded), and the watchdog's patience to a few seconds.

A limit too small even to load the kernels (the nannies restart the workers
at 95% of it until Dask gives up on a task, ``KilledWorker``) fails in one
line naming ``--worker-memory`` too (Dask's restart threshold lowered to 40%).

Oracles: the exit code, the one line and the absent output file (the CLI in
a subprocess); the error's type and text, and a client still usable
afterwards (the API on a user's own LocalCluster); and a worker that Dask
pauses while it holds results it can spill (it spills them and resumes) does
not trip the watchdog.
"""

from __future__ import annotations

import os

import pytest

import graphlabor
from graphlabor.errors import ParameterError

distributed = pytest.importorskip("distributed")

import dask  # noqa: E402
import numpy as np  # noqa: E402

from graphlabor.distributed.watchdog import watch_paused  # noqa: E402

DATA = os.path.join(os.path.dirname(graphlabor.__file__), "data")
EDGES, NODES = os.path.join(DATA, "example_edges.parquet"), os.path.join(DATA, "example_nodes.parquet")

#: Dask pauses a worker at 40% of its limit (160 MiB of 400 MiB); the watchdog gives up after 3 s stuck.
LOW_PAUSE = {"distributed.worker.memory.target": 0.3, "distributed.worker.memory.spill": 0.35,
             "distributed.worker.memory.pause": 0.4, "graphlabor.paused-timeout": 3}


def _cli_error_at_400_mib(tmp_path, env):
    """The one line of ``graphlabor attribute --engine dask --worker-memory 400MiB`` on the example under ``env``."""
    from conftest import cli

    bad = cli("attribute", EDGES, "--nodes", NODES, "--engine", "dask", "--workers", "2", "--worker-memory", "400MiB",
              "-o", tmp_path / "out.parquet", env=env, check=False, timeout=240)
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2, bad.stderr
    assert len(lines) == 1 and "--worker-memory 400.00 MiB is too small" in lines[0], bad.stderr
    assert os.listdir(tmp_path) == []  # no partial output
    return lines[0]


def test_cli_fails_in_one_line_naming_worker_memory(tmp_path):
    env = {"DASK_" + k.upper().replace(".", "__").replace("-", "_"): str(v) for k, v in LOW_PAUSE.items()}
    line = _cli_error_at_400_mib(tmp_path, env)
    assert "every Dask worker stayed paused" in line and "160.00 MiB" in line  # 40% of 400 MiB


def test_cli_workers_restarted_over_their_limit_one_line_naming_worker_memory(tmp_path):
    # no pause; the nannies restart a worker at 40% of 400 MiB (160 MiB): every worker dies as it loads the
    # kernels, and Dask gives up on the task after 4 tries (KilledWorker)
    env = {"DASK_DISTRIBUTED__WORKER__MEMORY__PAUSE": "False", "DASK_DISTRIBUTED__WORKER__MEMORY__TERMINATE": "0.4",
           "DASK_DISTRIBUTED__WORKER__MEMORY__TARGET": "0.3", "DASK_DISTRIBUTED__WORKER__MEMORY__SPILL": "0.35"}
    line = _cli_error_at_400_mib(tmp_path, env)
    assert "Dask restarted workers" in line and "for passing 40% of their memory limit" in line


def test_api_fails_and_leaves_the_client_usable():
    with dask.config.set(LOW_PAUSE), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                     memory_limit="400MiB", env={"NUMBA_NUM_THREADS": "1"}) as cluster, \
            distributed.Client(cluster) as client:
        mine = client.submit(sum, [1, 2], pure=False)  # the caller's own future: left alone
        assert mine.result() == 3
        with pytest.raises(ParameterError) as e:
            graphlabor.attribute(EDGES, NODES, engine="dask", client=client)
        text = str(e.value)
        assert "\n" not in text and text.startswith("--worker-memory 400.00 MiB is too small")
        held = float(text.split("holding up to ")[1].split(" MiB")[0])
        assert 160 <= held < 400  # the measured need: above the pause threshold, below the limit
        assert client.status == "running" and mine.status == "finished" and mine.result() == 3
        assert len(client.scheduler_info()["workers"]) == 2  # the scheduler still answers


def _held(mib: int, seconds: float) -> np.ndarray:
    """A result of ``mib`` MiB, held by the running task for ``seconds`` first (long enough for Dask to see it)."""
    import time

    a = np.ones((mib << 20) // 8)
    time.sleep(seconds)
    return a


def _nbytes(a: np.ndarray) -> int:
    return int(a.nbytes)


def test_a_worker_that_pauses_then_spills_and_resumes_is_not_stuck():
    # one worker of 900 MiB: a task holding 700 MiB takes it past 80% (720 MiB) for 1 s, and Dask pauses it;
    # once returned, the result is spillable (more than the 60% target: spilled at once) and Dask resumes the
    # worker. The watchdog, on a hair trigger, must wait.
    with dask.config.set({"graphlabor.paused-timeout": 0.5}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                                     memory_limit="900MiB") as cluster, \
            distributed.Client(cluster) as client, watch_paused(client):
        (worker,) = client.scheduler_info()["workers"]
        big = client.submit(_held, 700, 1.0, pure=False)
        assert client.submit(_nbytes, big, pure=False).result() == 700 << 20
        changes = [e[1].get("status") for e in client.get_events(worker)
                   if isinstance(e[1], dict) and e[1].get("action") == "worker-status-change"]
        assert "paused" in changes  # it was paused (and resumed: the tasks ran)
