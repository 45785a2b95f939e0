"""Every worker of a real LocalCluster killed (by pid) before the solve: the run recomputes what was lost.

The fault test of ``test_distributed.py`` kills one worker during the solve.
Here both workers die at once, at the start of a stage before it, as when a
nanny restarts workers over their memory limit: every partition read so far
is lost, and the tasks the engine placed on the dead workers (loose
restrictions) must run on the new ones (:mod:`graphlabor.distributed.placement`).
Oracle: the local engine's tables, bit for bit. An in-memory table (scattered
to the workers, so lost with them) fails in one line instead. One cluster
for the module, apart from the other Dask tests, which it would disturb.
"""

from __future__ import annotations

import os
import signal

import pyarrow.parquet as pq
import pytest

import graphlabor
from graphlabor.errors import GraphlaborError
from graphlabor.generate import generate_tables
from graphlabor.timing import StageLog

distributed = pytest.importorskip("distributed")

from dask_cluster import local_client, same_bits  # noqa: E402

client = pytest.fixture(scope="module")(local_client)


class _KillAllAt:
    """A StageLog that SIGKILLs every worker process when stage ``name`` starts (the nannies restart them)."""

    def __init__(self, client, name: str):
        self.inner = StageLog(verbose=False)
        self.client = client
        self.name = name
        self.killed: list[int] = []

    def stage(self, name):
        if name == self.name:
            self.killed = sorted(self.client.run(os.getpid).values())
            for pid in self.killed:
                os.kill(pid, signal.SIGKILL)
        return self.inner.stage(name)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.fixture(scope="module")
def economy(tmp_path_factory):
    """A generated economy with contexts, in 4 Parquet files, and its nodes file."""
    d = tmp_path_factory.mktemp("restart")
    edges, nodes = generate_tables(edges=40_000, seed=3)
    m = edges.num_rows
    (d / "edges").mkdir()
    for i in range(4):
        pq.write_table(edges.slice(i * m // 4, (i + 1) * m // 4 - i * m // 4), d / "edges" / f"e{i}.parquet")
    pq.write_table(nodes, d / "nodes.parquet")
    return str(d / "edges"), str(d / "nodes.parquet"), edges, nodes


def _assert_same(local, dask):
    same_bits(local.nodes, dask.nodes)
    same_bits(local.platforms, dask.platforms)
    assert local.contexts is not None and dask.contexts is not None  # the pair stage ran
    same_bits(local.contexts, dask.contexts)
    assert dask.summary == local.summary


# "classify edges": the partitions being read and encoded; "build graph": every partition classified and
# matched to its contexts, the pair stage (match_part, pool_pieces, pair_flow) about to run
@pytest.mark.parametrize("stage", ["classify edges", "build graph"])
def test_all_workers_killed_before_a_stage_same_numbers(client, economy, stage):
    d, nodes, _, _ = economy
    local = graphlabor.attribute(d, nodes)
    client.wait_for_workers(2, timeout=120)
    log = _KillAllAt(client, stage)
    dask = graphlabor.attribute(d, nodes, engine="dask", client=client, log=log)
    assert len(log.killed) == 2  # both died
    _assert_same(local, dask)
    client.wait_for_workers(2, timeout=120)
    assert not set(client.run(os.getpid).values()) & set(log.killed)  # new processes did the work


def test_in_memory_input_lost_with_every_worker_fails_in_one_line(client, economy):
    _, _, edges, nodes = economy
    client.wait_for_workers(2, timeout=120)
    log = _KillAllAt(client, "build graph")
    with pytest.raises(GraphlaborError) as e:  # its slices were scattered: no task can rebuild them
        graphlabor.attribute(edges, nodes, engine="dask", client=client, log=log)
    assert len(log.killed) == 2
    text = str(e.value)
    assert "\n" not in text and "could not finish the run" in text and "nothing written" in text
    client.wait_for_workers(2, timeout=120)
    # the cluster still works afterwards
    same_bits(graphlabor.attribute(edges, nodes).nodes,
              graphlabor.attribute(edges, nodes, engine="dask", client=client).nodes)
