"""The Dask engine on a real LocalCluster of 2 worker processes: the local engine's results, bit for bit.

Oracles: the local engine (itself tested against networkx, igraph and hand
computations) for bit-identity, and networkx's personalized PageRank for
the PageRank graphs. One cluster for the whole module.
"""

from __future__ import annotations

import os

import networkx as nx
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import graphlabor
from graphlabor.errors import InputError, ParameterError
from graphlabor.generate import generate_tables

distributed = pytest.importorskip("distributed")

from dask_cluster import economy_files, local_client, same_bits  # noqa: E402

client = pytest.fixture(scope="module")(local_client)  # one real LocalCluster for the module

DATA = os.path.join(os.path.dirname(graphlabor.__file__), "data")
EXAMPLE_EDGES = os.path.join(DATA, "example_edges.parquet")
EXAMPLE_NODES = os.path.join(DATA, "example_nodes.parquet")


def assert_same(local, dask):
    same_bits(local.nodes, dask.nodes)  # bit for bit, every column
    same_bits(local.platforms, dask.platforms)
    assert (local.contexts is None) == (dask.contexts is None)
    if local.contexts is not None:
        same_bits(local.contexts, dask.contexts)  # the (platform, context) table
    assert dask.summary == local.summary  # every count and total, bit for bit


def both(client, edges, nodes=None, **kw):
    local = graphlabor.attribute(edges, nodes, **kw)  # either solver (default BiCGSTAB) on either engine
    dask = graphlabor.attribute(edges, nodes, engine="dask", client=client, **kw)
    assert_same(local, dask)
    return local, dask


@pytest.mark.parametrize("kw", [
    {},
    {"breakdown": False},
    {"method": "direct"},
    {"method": "shapley"},
    {"method": "shapley", "breakdown": False, "damping": 0.6},
    {"damping": 0.5, "platform_share": 0.2, "kind_weights": {"click": 2.0, "view": 0.0}},
    {"group_by": "family", "min_wage": 15.0},
    {"half_life": "30d"},
    {"half_life": "7d", "as_of": "2024-06-01"},
    {"solver": "jacobi"},
    {"solver": "jacobi", "method": "shapley", "half_life": "30d"},
])
def test_bundled_example(client, kw):
    local, _ = both(client, EXAMPLE_EDGES, EXAMPLE_NODES, **kw)
    assert local.summary.iterations > 0


def test_bundled_example_without_nodes_file(client):
    both(client, EXAMPLE_EDGES)


@pytest.fixture(scope="module")
def economy_dir(tmp_path_factory):
    """A generated economy split into 3 Parquet files (several row groups) and its nodes file."""
    d = tmp_path_factory.mktemp("economy")
    economy_files(d, 7, [9_000, 21_000], 4_000, edges=30_000)
    return d


@pytest.mark.parametrize("solver", ["bicgstab", "jacobi"])
def test_generated_economy_split_in_files(client, economy_dir, solver):
    local, dask = both(client, str(economy_dir / "edges"), str(economy_dir / "nodes.parquet"), solver=solver)
    assert local.summary.edges == 30_000 and local.summary.iterations > 3
    assert dask.summary.params["solver"] == solver


def test_generated_economy_csv_and_parquet_mixed(client, economy_dir, tmp_path):
    files = sorted(str(p) for p in (economy_dir / "edges").iterdir())
    t = pq.read_table(files[0])
    csv = tmp_path / "first.csv"
    pacsv.write_csv(t.drop_columns(["timestamp"]), csv)
    rest = [pq.read_table(f).drop_columns(["timestamp"]) for f in files[1:]]
    paths = [str(csv)]
    for i, r in enumerate(rest):
        pq.write_table(r, tmp_path / f"r{i}.parquet")
        paths.append(str(tmp_path / f"r{i}.parquet"))
    both(client, paths, str(economy_dir / "nodes.parquet"), breakdown=False)


def test_integer_ids(client, tmp_path):
    edges, nodes = generate_tables(edges=8_000, seed=3, ids="int")
    for i, (a, b) in enumerate([(0, 3_000), (3_000, edges.num_rows - 3_000)]):
        pq.write_table(edges.slice(a, b), tmp_path / f"e{i}.parquet")
    both(client, [str(tmp_path / "e0.parquet"), str(tmp_path / "e1.parquet")], nodes, method="shapley")


def test_in_memory_table(client):
    edges, nodes = generate_tables(edges=5_000, seed=4)
    both(client, edges, nodes)


def _random_graph(seed, n, m):
    rng = np.random.default_rng(seed)
    ids = sorted(rng.choice(10 * n, size=n, replace=False).tolist())
    senders = ids[n // 5:]
    src, dst = rng.choice(senders, size=m), rng.choice(ids, size=m)
    w = rng.uniform(0.1, 5.0, size=m)
    value = rng.uniform(0, 1, size=n) * (rng.uniform(size=n) < 0.6)
    value[-1] = 1.0
    edges = pa.table({"src": pa.array(src, pa.int64()), "dst": pa.array(dst, pa.int64()), "weight": w})
    nodes = pa.table({"id": ids, "role": ["user"] * n, "value": value})
    return edges, nodes, ids, value


@pytest.mark.parametrize("seed,n,m", [(0, 60, 240), (1, 5_000, 40_000)])
@pytest.mark.parametrize("damping,solver", [(0.3, "bicgstab"), (0.85, "bicgstab"), (0.85, "jacobi")])
def test_pagerank_graphs(client, seed, n, m, damping, solver):
    edges, nodes, ids, value = _random_graph(seed, n, m)
    # without self-loops: the Dask engine drops them (the default; networkx would count them)
    edges = edges.filter(pc.not_equal(edges["src"], edges["dst"]))
    local, dask = both(client, edges, nodes, damping=damping, tol=1e-13, max_iter=10_000, solver=solver)
    G = nx.MultiDiGraph()
    G.add_nodes_from(ids)
    for u, v, w in zip(edges["src"].to_pylist(), edges["dst"].to_pylist(), edges["weight"].to_pylist()):
        G.add_edge(u, v, weight=w)
    for v in ids:
        if G.out_degree(v) == 0:
            G.add_edge(v, v, weight=1.0)
    pr = nx.pagerank(G, alpha=damping, personalization=dict(zip(ids, value)), tol=1e-15, max_iter=100_000)
    got = dict(zip(dask.nodes["node"].to_pylist(), dask.nodes["share"].to_pylist()))
    np.testing.assert_allclose([got[v] for v in ids], [pr[v] for v in ids], rtol=0, atol=1e-9)


def test_bad_value_names_file_and_row(client, tmp_path):
    good = pa.table({"src": ["a", "b"], "dst": ["P", "P"], "kind": ["click", "click"], "weight": [1.0, 1.0]})
    bad = pa.table({"src": ["c", "d", "e"], "dst": ["P", "P", "P"], "kind": ["click"] * 3, "weight": [1.0, -2.0, 1.0]})
    pq.write_table(good, tmp_path / "a.parquet")
    pq.write_table(bad, tmp_path / "b.parquet")
    with pytest.raises(InputError) as local:
        graphlabor.attribute(str(tmp_path))
    with pytest.raises(InputError) as dask:
        graphlabor.attribute(str(tmp_path), engine="dask", client=client)
    assert str(dask.value) == str(local.value)
    assert "b.parquet" in str(dask.value) and "-2" in str(dask.value)


@pytest.mark.parametrize("kw", [  # the bundled example is one week: seven days
    {"period": "day"},
    {"period": "day", "solver": "jacobi", "method": "shapley"},
    {"period": "day", "half_life": "2d", "group_by": "family", "breakdown": False},
])
def test_period_as_locally(client, kw):
    local, dask = both(client, EXAMPLE_EDGES, EXAMPLE_NODES, **kw)
    assert len(local.periods) > 1 and dask.periods == local.periods  # every period's summary, bit for bit
    if "group_by" in kw:
        assert dask.groups.to_pandas().equals(local.groups.to_pandas())  # NaN where NaN


def test_period_generated_economy_split_in_files(client, economy_dir):
    local, dask = both(client, str(economy_dir / "edges"), period="month", damping=0.7)
    assert len(local.periods) > 1 and dask.periods == local.periods


def test_cli_dataset_output_equals_local_file(tmp_path, economy_dir):
    from conftest import cli

    edges, nodes = EXAMPLE_EDGES, EXAMPLE_NODES
    cli("attribute", edges, "--nodes", nodes, "-o", tmp_path / "local.parquet", "-q")
    cli("attribute", edges, "--nodes", nodes, "--engine", "dask", "--workers", "2", "-o", f"{tmp_path / 'out'}/", "-q")
    files = sorted(os.listdir(tmp_path / "out"))
    assert files == ["part-00000.parquet", "part-00001.parquet"]
    got = pa.concat_tables([pq.read_table(tmp_path / "out" / f) for f in files])
    assert got.equals(pq.read_table(tmp_path / "local.parquet"))
    cli("attribute", edges, "--nodes", nodes, "--period", "month", "-o", tmp_path / "local_periods.parquet", "-q")
    cli("attribute", edges, "--nodes", nodes, "--period", "month", "--engine", "dask", "--workers", "2",
        "-o", tmp_path / "dask_periods.parquet", "-q")
    assert pq.read_table(tmp_path / "dask_periods.parquet").equals(pq.read_table(tmp_path / "local_periods.parquet"))


class _KillDuringSolve:
    """A StageLog that kills one worker process (by pid) shortly after the solve starts."""

    def __init__(self, client, delay: float):
        from graphlabor.timing import StageLog

        self.inner = StageLog(verbose=False)
        self.client = client
        self.delay = delay
        self.killed_at = None
        self.solve_ended_at = None
        self.timer = None

    def stage(self, name):
        import contextlib
        import signal
        import threading
        import time

        if name != "solve":
            return self.inner.stage(name)
        victim = sorted(self.client.run(os.getpid).values())[-1]

        def kill():
            self.killed_at = time.monotonic()
            os.kill(victim, signal.SIGKILL)

        @contextlib.contextmanager
        def timed():
            with self.inner.stage(name):
                self.timer = threading.Timer(self.delay, kill)
                self.timer.start()
                try:
                    yield
                finally:
                    self.timer.cancel()
                    self.solve_ended_at = time.monotonic()

        return timed()

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("solver", ["bicgstab", "jacobi"])
def test_worker_killed_mid_solve_same_numbers(client, tmp_path, solver):
    from graphlabor.timing import StageLog

    edges, nodes, _, _ = _random_graph(5, 4_000, 30_000)
    for i, (a, b) in enumerate([(0, 15_000), (15_000, 15_000)]):
        pq.write_table(edges.slice(a, b), tmp_path / f"e{i}.parquet")
    kw = dict(damping=0.9, tol=1e-15, max_iter=10_000, solver=solver)
    local = graphlabor.attribute(str(tmp_path), nodes, **kw)
    assert local.summary.iterations > 20
    # how long the solve takes on this cluster, to kill a worker 40% of the way through it (earlier if the
    # solve, on a loaded machine, ended before the kill)
    probe = StageLog(verbose=False)
    graphlabor.attribute(str(tmp_path), nodes, engine="dask", client=client, log=probe, **kw)
    solve_seconds = next(d["seconds"] for d in probe.as_dicts() if d["stage"] == "solve")
    for fraction in (0.4, 0.2, 0.1, 0.05):
        client.wait_for_workers(2, timeout=60)
        log = _KillDuringSolve(client, delay=fraction * solve_seconds)
        dask = graphlabor.attribute(str(tmp_path), nodes, engine="dask", client=client, log=log, **kw)
        assert_same(local, dask)  # killed or not, the same numbers
        if log.killed_at is not None and log.killed_at < log.solve_ended_at:
            break  # killed in the middle of the solve
    else:
        pytest.fail("the solve always ended before the worker was killed")
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it


def test_bicgstab_restarts_and_fallback_as_locally(client, economy_dir, monkeypatch):
    """Krylov phases stopped far too early: the true-residual check fails, BiCGSTAB restarts, then the power
    iteration takes over; the Dask engine takes the same branches, at the same passes, with the same bits."""
    from graphlabor.distributed import solve as dsolve
    from graphlabor.kernels import krylov

    calls = []

    def spy(name, module, attr):
        real = getattr(module, attr)

        def wrapped(*a, **k):
            calls.append(name)
            return real(*a, **k)
        monkeypatch.setattr(module, attr, wrapped)

    spy("local phase", krylov, "_krylov_phase")
    spy("dask phase", dsolve, "_krylov_phase")
    spy("local power iteration", krylov, "iterate")
    spy("dask power iteration", dsolve, "power_iteration")
    edges, nodes = str(economy_dir / "edges"), str(economy_dir / "nodes.parquet")
    plain, _ = both(client, edges, nodes, tol=1e-12)
    assert calls == ["local phase", "dask phase"]
    calls.clear()
    monkeypatch.setattr(krylov, "SAFETY", 1e3)
    restarted, _ = both(client, edges, nodes, tol=1e-12)
    assert calls.count("local phase") == calls.count("dask phase") > 1  # restarted, the same number of times
    assert restarted.summary.iterations != plain.summary.iterations
    calls.clear()
    monkeypatch.setattr(krylov, "MAX_RESTARTS", 0)  # straight to the power iteration after the first check
    both(client, edges, nodes, tol=1e-12)
    assert calls == ["local phase", "local power iteration", "dask phase", "dask power iteration"]


@pytest.mark.parametrize("solver", ["bicgstab", "jacobi"])
def test_convergence_error_as_locally(client, solver):
    from graphlabor.errors import ConvergenceError

    with pytest.raises(ConvergenceError) as local:
        graphlabor.attribute(EXAMPLE_EDGES, EXAMPLE_NODES, max_iter=3, solver=solver)
    with pytest.raises(ConvergenceError) as dask:
        graphlabor.attribute(EXAMPLE_EDGES, EXAMPLE_NODES, max_iter=3, solver=solver, engine="dask", client=client)
    assert str(dask.value) == str(local.value) and local.value.n_iter == 3
    assert dask.value.residual == local.value.residual  # the same bits


def test_row_groups_as_partitions(client, economy_dir, tmp_path, monkeypatch):
    from graphlabor.distributed import partitions

    edges = pa.concat_tables([pq.read_table(f) for f in sorted((economy_dir / "edges").iterdir())])
    path = tmp_path / "one.parquet"
    pq.write_table(edges, path, row_group_size=4_000)  # 8 row groups
    monkeypatch.setattr(partitions, "PARTITION_ROWS", 10_000)
    plan = partitions.plan(str(path))
    assert [(src.path, a, b) for src, a, b in plan] == [(str(path), 0, 3), (str(path), 3, 6), (str(path), 6, 8)]
    both(client, str(path), str(economy_dir / "nodes.parquet"))
    # a bad value in row group 4 (rows 16000-19999): the message names the file, row group, row and value
    w = edges["weight"].to_numpy().copy()
    w[17_005] = -3.0
    pq.write_table(edges.set_column(edges.column_names.index("weight"), "weight", pa.array(w)), path, row_group_size=4_000)
    with pytest.raises(InputError, match=r"one\.parquet, row group 4: column 'weight', row 1005.*-3"):
        graphlabor.attribute(str(path), engine="dask", client=client)


def test_declared_advertiser_receiving_revenue_same_message(client, tmp_path):
    e = pa.table({"src": ["a", "u", "x"], "dst": ["P", "P", "a"], "kind": ["spend", "click", "spend"],
                  "weight": [1.0, 1.0, 1.0], "amount": [10.0, None, 5.0]})
    pq.write_table(e.slice(0, 2), tmp_path / "e0.parquet")
    pq.write_table(e.slice(2, 1), tmp_path / "e1.parquet")
    nodes = pa.table({"id": ["a"], "role": ["advertiser"]})
    with pytest.raises(InputError) as local:
        graphlabor.attribute(str(tmp_path), nodes)
    with pytest.raises(InputError) as dask:
        graphlabor.attribute(str(tmp_path), nodes, engine="dask", client=client)
    assert str(dask.value) == str(local.value) and "e1.parquet: row 0" in str(dask.value)


def test_more_blocks_than_workers(client, monkeypatch):
    from graphlabor.distributed import blocks

    monkeypatch.setattr(blocks, "BLOCKS_PER_WORKER", 3)  # 6 row blocks
    monkeypatch.setattr(blocks, "BLOCK_EDGES", 5_000)  # each built in 2 sub-blocks (some empty: 10 chunks of rows)
    edges, nodes, _, _ = _random_graph(9, 20_000, 60_000)
    _, dask = both(client, edges, nodes, damping=0.5)
    assert len(dask.block_stats) == 6 and all(b["reads"] > 0 for b in dask.block_stats)
    both(client, edges, nodes, damping=0.5, method="shapley")  # engagement halves cross every block


def test_blocks_built_in_sub_blocks(client, monkeypatch):
    from graphlabor.distributed import blocks

    monkeypatch.setattr(blocks, "BLOCK_EDGES", 10_000)  # 60,000 edges: one block a worker, 3 sub-blocks each
    edges, nodes, _, _ = _random_graph(10, 20_000, 60_000)
    _, dask = both(client, edges, nodes, damping=0.7)
    assert len(dask.block_stats) == 2
    both(client, edges, nodes, damping=0.7, breakdown=False)


def test_explain_on_a_dask_result_names_the_way(client):
    r = graphlabor.attribute(EXAMPLE_EDGES, EXAMPLE_NODES, engine="dask", client=client)
    with pytest.raises(ParameterError, match=r"has left the cluster.*graphlabor\.explain\(\.\.\., engine='dask'\)"):
        r.explain(r.nodes["node"][0].as_py())  # its blocks are gone: tests/test_distributed_explain.py explains on Dask


def test_cluster_failure_is_one_line():
    from distributed.client import FutureCancelledError

    from graphlabor.distributed.cluster import cluster_failure
    from graphlabor.errors import GraphlaborError

    e = cluster_failure(FutureCancelledError("step-1", "lost dependencies"))
    assert isinstance(e, GraphlaborError) and "\n" not in str(e) and str(e).endswith("nothing written")
    bad = InputError("edges.parquet: column 'weight', row 3: negative")
    assert cluster_failure(bad) is bad  # the stages' own errors pass unchanged
