"""Beyond one process's memory: 2 Dask workers, each limited to half the local engine's measured peak.

Slow (a 3x10^7-edge economy, several minutes on 2 cores): ``pytest -m slow
tests/test_distributed_memory.py``. Oracle: the local engine's output file,
compared bit for bit; the local peak is measured (``wait4``) in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

import graphlabor

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow


def test_two_workers_each_with_half_the_local_peak(tmp_path):
    from graphlabor.generate import generate

    edges, nodes = tmp_path / "economy.parquet", tmp_path / "economy_nodes.parquet"
    generate(edges, nodes, edges=30_000_000, seed=1)
    local_out = tmp_path / "local.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "graphlabor", "attribute", str(edges), "--nodes", str(nodes),
                             "-o", str(local_out), "-q"])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    assert proc.returncode == 0
    peak = usage.ru_maxrss * 1024
    limit = peak // 2
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                       memory_limit=limit, env={"NUMBA_NUM_THREADS": "1"})
    try:
        with distributed.Client(cluster) as client:
            restarts = []
            client.wait_for_workers(2, timeout=120)
            before = set(client.run(os.getpid).values())
            r = graphlabor.attribute(str(edges), str(nodes), engine="dask", client=client)
            after = set(client.run(os.getpid).values())
            restarts = before ^ after
            peaks = client.run(lambda: __import__("resource").getrusage(__import__("resource").RUSAGE_SELF).ru_maxrss * 1024)
    finally:
        cluster.close()
    assert r.nodes.equals(pq.read_table(local_out))
    assert not restarts  # no worker was killed for exceeding its limit
    assert max(peaks.values()) < peak  # each worker stayed below the local engine's peak
