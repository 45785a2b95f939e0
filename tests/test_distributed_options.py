"""Every ``attribute`` option on the Dask engine means what it means on one machine (2-process LocalCluster).

Oracle: the local engine (itself tested against networkx, brute force and
hand-worked examples), compared bit for bit: the node table, the platforms
table, the summary (every count, incl. self-loops, conflicting roles and
advertiser contributions) and the roles report; for bad input, the same
one-line error. One cluster for the whole module.
"""

from __future__ import annotations

import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import graphlabor
from graphlabor.errors import InputError

distributed = pytest.importorskip("distributed")

from dask_cluster import local_client, same_bits  # noqa: E402

client = pytest.fixture(scope="module")(local_client)  # one real LocalCluster for the module


def both(client, edges, nodes=None, **kw):
    local = graphlabor.attribute(edges, nodes, **kw)  # the default solver (BiCGSTAB) on both engines
    dask = graphlabor.attribute(edges, nodes, engine="dask", client=client, **kw)
    same_bits(local.nodes, dask.nodes)
    same_bits(local.platforms, dask.platforms)
    assert (local.contexts is None) == (dask.contexts is None)
    if local.contexts is not None:
        same_bits(local.contexts, dask.contexts)
    assert str(dask.summary) == str(local.summary)  # a NaN share in an all-zero run: compared as text
    assert dask.summary == local.summary or local.summary.total_injected == 0
    assert dask.roles_report.equals(local.roles_report)
    return local, dask


def same_error(client, edges, nodes=None, **kw):
    with pytest.raises(InputError) as local:
        graphlabor.attribute(edges, nodes, **kw)
    with pytest.raises(InputError) as dask:
        graphlabor.attribute(edges, nodes, engine="dask", client=client, **kw)
    assert str(dask.value) == str(local.value) and "\n" not in str(dask.value)
    return str(dask.value)


def _files(tmp_path, table, cuts, name="e"):
    """``table`` split into Parquet files at row ``cuts``; returns their directory."""
    d = tmp_path / name
    d.mkdir()
    bounds = [0, *cuts, table.num_rows]
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        pq.write_table(table.slice(a, b - a), d / f"part-{i}.parquet")
    return str(d)


# a small economy with the cases of issue 10: a tip (user pays user), an advertiser that likes a post,
# self-loops, a platform paying its users
ECONOMY = pa.table({
    "src": ["ads", "ads", "a", "b", "a", "a", "b", "P", "c", "c", "d", "b", "ads2", "d", "Q"],
    "dst": ["P", "b", "P", "P", "b", "a", "c", "a", "P", "c", "Q", "b", "Q", "a", "d"],
    "kind": ["spend", "like", "click", "click", "view", "like", "pay", "pay", "click", "like", "click", "view",
             "spend", "view", "pay"],
    "weight": [1.0, 1.0, 2.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0, 2.0, 1.0, 0.5, 1.0, 1.0, 1.0],
    "amount": [100.0, None, None, None, None, None, 5.0, 3.0, None, None, None, None, 40.0, None, 2.0],
})


@pytest.mark.parametrize("kw", [
    {},
    {"self_loops": "keep"},
    {"self_loops": "keep", "solver": "jacobi"},
    {"self_loops": "keep", "method": "direct"},
    {"self_loops": "keep", "method": "shapley"},
    {"unmatched": "keep"},  # no context column: nothing to match, as on one machine
])
def test_self_loops_roles_report_advertiser_contributions(client, tmp_path, kw):
    path = _files(tmp_path, ECONOMY, [5, 9])
    local, _ = both(client, path, **kw)
    s = local.summary
    assert s.self_loops == 3 and s.conflicting_roles > 0 and s.advertiser_contributions == 1  # the cases are there
    assert local.roles_report.num_rows > 0
    if kw.get("self_loops") == "keep" and kw.get("method") is None:
        assert s.self_loop_value > 0


def test_roles_strict(client, tmp_path):
    path = _files(tmp_path, ECONOMY, [7])
    ids = sorted(set(ECONOMY["src"].to_pylist()) | set(ECONOMY["dst"].to_pylist()))
    roles = {"ads": "advertiser", "ads2": "advertiser", "P": "platform", "Q": "platform"}
    full = pa.table({"id": ids, "role": [roles.get(i, "user") for i in ids]})
    both(client, path, full, roles="strict")
    msg = same_error(client, path, full.slice(2), roles="strict")
    assert "--roles strict: 2 of 8 nodes lack a declared role" in msg
    same_error(client, path, None, roles="strict")


def test_id_type_across_files(client, tmp_path):
    text = pa.table({"src": ["a", "10", "b"], "dst": ["P", "P", "10"], "kind": ["click"] * 3, "weight": [1.0, 2.0, 1.0]})
    ints = pa.table({"src": [2, 10, 9], "dst": [10, 77, 77], "kind": ["view", "spend", "click"], "weight": [1.0, 1.0, 1.0],
                     "amount": [None, 50.0, None]})
    money = pa.table({"src": ["ads"], "dst": ["P"], "kind": ["spend"], "weight": [1.0], "amount": [80.0]})
    d = tmp_path / "mixed"
    d.mkdir()
    pq.write_table(ints, d / "a.parquet")
    pq.write_table(text.append_column("amount", pa.array([None] * 3, pa.float64())), d / "b.parquet")
    pq.write_table(money, d / "c.parquet")
    local, _ = both(client, str(d))  # integer ids of one file become text, as on one machine
    assert local.nodes.schema.field("node").type == pa.string() and "2" in local.nodes["node"].to_pylist()
    ints_only = _files(tmp_path, ints, [1], "ints")
    local, _ = both(client, ints_only, id_type="text")
    assert local.nodes["node"].to_pylist() == sorted(local.nodes["node"].to_pylist())  # text order: "10" < "2"
    both(client, ints_only, id_type="int")
    msg = same_error(client, str(d), id_type="int")
    assert "b.parquet" in msg


def test_allow_empty(client, tmp_path):
    empty = ECONOMY.slice(0, 0)
    no_revenue = ECONOMY.filter(pa.compute.not_equal(ECONOMY["kind"], "spend"))
    for name, table in (("empty", empty), ("norev", no_revenue)):
        path = _files(tmp_path, table, [] if not table.num_rows else [4], name)
        msg = same_error(client, path)
        assert "--allow-empty" in msg
        local, _ = both(client, path, allow_empty=True)
        assert local.summary.total_injected == 0


def test_overflow_and_extreme_weights(client, tmp_path):
    huge = ECONOMY.set_column(4, "amount", pa.array([1e308, None, None, None, None, None, 5.0, 3.0, None, None,
                                                     None, None, 1e308, None, 2.0]))
    msg = same_error(client, _files(tmp_path, huge, [3], "huge"))
    assert "largest float64" in msg
    w = ECONOMY["weight"].to_numpy().copy()
    w[[2, 3]] = [1e308, 1e308]  # a's and b's clicks on P: their sum overflows unless scaled per sender
    w[4] = 1e-310  # a subnormal
    extreme = ECONOMY.set_column(3, "weight", pa.array(w))
    both(client, _files(tmp_path, extreme, [3, 8], "extreme"))
    over = ECONOMY.set_column(3, "weight", pa.array(np.where(np.arange(len(w)) == 2, 1e300, 1.0)))
    msg = same_error(client, _files(tmp_path, over, [6], "over"), kind_weights={"click": 1e10})
    assert "overflows" in msg


def test_cli_options_and_roles_report(tmp_path):
    from conftest import cli

    path = _files(tmp_path, ECONOMY, [5, 9])
    common = ["--self-loops", "keep", "-q"]
    cli("attribute", path, *common, "-o", tmp_path / "local.parquet", "--roles-report", tmp_path / "local-roles.csv")
    cli("attribute", path, *common, "--engine", "dask", "--workers", "2", "-o", tmp_path / "dask.parquet",
        "--roles-report", tmp_path / "dask-roles.csv")
    assert (tmp_path / "dask.parquet").read_bytes() == (tmp_path / "local.parquet").read_bytes()  # the same file
    with open(tmp_path / "local-roles.csv") as f, open(tmp_path / "dask-roles.csv") as g:
        assert f.read() == g.read()
    bad = cli("attribute", path, "--engine", "dask", "--workers", "2", "--roles", "strict", "-o", tmp_path / "x.parquet",
              check=False)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "--roles strict" in bad.stderr
    assert not os.path.exists(tmp_path / "x.parquet")


def test_dataset_written_by_the_workers(client, tmp_path):
    from graphlabor.generate import generate_tables

    edges, nodes = generate_tables(edges=6_000, seed=11, contexts=True)
    path = _files(tmp_path, edges, [2_000, 4_000])
    local = graphlabor.attribute(path, nodes)  # full default behaviour: the generator's contexts honoured on both
    dask = graphlabor.attribute(path, nodes, engine="dask", client=client)
    assert local.contexts is not None and local.contexts.num_rows > 0
    same_bits(local.contexts, dask.contexts)
    with distributed.get_task_stream(client) as ts:
        dask.write(f"{tmp_path / 'out'}/")
    written = [t for t in ts.data if t["key"].startswith("write_part")]
    assert len(written) == len(dask.row_bounds) - 1 >= 2  # one task per row block, on the workers
    files = sorted(os.listdir(tmp_path / "out"))
    assert files == [f"part-{i:05d}.parquet" for i in range(len(written))]
    same_bits(pa.concat_tables([pq.read_table(tmp_path / "out" / f) for f in files]), local.nodes)
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".")]  # no temporary directory left


def test_single_file_limit_fails_before_the_solve(client, tmp_path):
    import dask

    from graphlabor.errors import ParameterError
    from graphlabor.timing import StageLog

    log = StageLog(verbose=False)
    with dask.config.set({"graphlabor.single-file-output": "out.parquet", "graphlabor.single-file-limit": "100B"}):
        with pytest.raises(ParameterError) as e:
            graphlabor.attribute(_files(tmp_path, ECONOMY, [7]), engine="dask", client=client, log=log, breakdown=False)
    assert "-o out/" in str(e.value) and "single-file limit" in str(e.value)
    stages = [s["stage"] for s in log.as_dicts()]
    assert "encode ids" in stages and "solve" not in stages and "build graph" not in stages
    with dask.config.set({"graphlabor.single-file-output": "out.parquet", "graphlabor.single-file-limit": "1MiB"}):
        both(client, _files(tmp_path, ECONOMY, [7], "small"))  # small enough: gathered, same result


def test_dataset_writer_failure_leaves_nothing(tmp_path):
    from graphlabor.output import write_dataset, write_part

    table = ECONOMY

    def failing(parts):
        write_part(*parts[0])  # one file written, then the second fails
        raise OSError(28, "No space left on device")

    with pytest.raises(Exception, match="No space left"):
        write_dataset(table, f"{tmp_path / 'out'}/", [0, 5, table.num_rows], writer=failing)
    assert os.listdir(tmp_path) == []


def test_cli_single_file_limit(tmp_path):
    from conftest import cli

    path = _files(tmp_path, ECONOMY, [7])
    out = tmp_path / "attributed.parquet"
    bad = cli("attribute", path, "--engine", "dask", "--workers", "2", "--single-file-limit", "100B", "-o", out, check=False)
    lines = bad.stderr.strip().splitlines()
    assert bad.returncode == 2 and len(lines) == 1 and f"-o {tmp_path / 'attributed'}/" in lines[0]
    assert os.listdir(tmp_path) == ["e"]  # no partial output
    bad = cli("attribute", path, "--single-file-limit", "100B", "-o", out, check=False)
    assert bad.returncode == 2 and "--single-file-limit needs --engine dask" in bad.stderr


def _row(src, dst, kind, weight, amount, context):
    return {"src": src, "dst": dst, "kind": kind, "weight": weight, "amount": amount, "context": context}


# contexts (issue 10) in several files: revenue matched by contributions with its context (P/c1, with a
# duplicate edge; Q/c1), unmatched (P/c2: nobody contributed with c2), without a context (Q's pool), a platform
# whose pool gets nothing (R: only context revenue), pay with a pair's context and without a pair (Q/c7),
# a user-to-user edge with a context (not a pair's), and a file whose contexts are all null
CTX_FILES = [
    [_row("ads", "P", "spend", 1.0, 100.0, "c1"), _row("ads", "P", "spend", 1.0, 30.0, "c2"),
     _row("ads2", "Q", "spend", 1.0, 40.0, None), _row("a", "P", "click", 2.0, None, "c1")],
    [_row("b", "P", "click", 1.0, None, "c1"), _row("a", "P", "click", 1.0, None, "c1"),
     _row("c", "P", "click", 1.0, None, None), _row("ads2", "Q", "spend", 1.0, 10.0, "c1"),
     _row("b", "c", "like", 1.0, None, "c1"), _row("d", "Q", "click", 1.0, None, "c1")],
    [_row("P", "a", "pay", 1.0, 5.0, "c1"), _row("Q", "d", "pay", 1.0, 2.0, "c7"),
     _row("ads3", "R", "spend", 1.0, 50.0, "c3"), _row("e", "R", "click", 1.0, None, "c3"),
     _row("a", "b", "view", 1.0, None, None)],
]
NO_CONTEXT = pa.table({"src": ["c", "d", "e"], "dst": ["a", "a", "c"], "kind": ["view", "view", "like"],
                       "weight": [1.0, 2.0, 1.0], "amount": pa.array([None] * 3, pa.float64()),
                       "context": pa.array([None] * 3, pa.string())})


def _ctx_dir(tmp_path):
    d = tmp_path / "ctx"
    d.mkdir()
    for i, rows in enumerate(CTX_FILES):
        pq.write_table(pa.Table.from_pylist(rows), d / f"part-{i}.parquet")
    pq.write_table(NO_CONTEXT, d / "part-3.parquet")
    return str(d)


@pytest.mark.parametrize("kw", [
    {},
    {"unmatched": "keep"},
    {"solver": "jacobi", "platform_share": 0.2},
    {"method": "direct"},
    {"breakdown": False, "self_loops": "keep"},
    {"method": "shapley", "damping": 0.6},
])
def test_contexts_same_as_one_machine(client, tmp_path, kw):
    local, dask = both(client, _ctx_dir(tmp_path), **kw)
    s = dask.summary
    # the cases are there (counted by hand): contexts c1, c2, c3, c7; P/c2's 30 unmatched
    assert s.contexts == 4 and s.context_pairs == 4 and s.unmatched_contexts == 1 and s.unmatched_revenue == 30.0
    t = dask.contexts.to_pydict()
    assert list(zip(t["platform"], t["context"])) == [("P", "c1"), ("P", "c2"), ("Q", "c1"), ("Q", "c7"), ("R", "c3")]
    assert t["contributors"] == [2, 0, 1, 0, 1] and t["paid_out"] == [5.0, 0.0, 0.0, 2.0, 0.0]
    assert t["unmatched"] == [0.0, 30.0, 0.0, 0.0, 0.0]
    assert abs(sum(dask.nodes["attributed"].to_pylist()) - 230.0) <= 230.0 * 1e-10  # conserved (within tol)
    if not kw:  # a file without the column: the same one-line error as on one machine
        pq.write_table(NO_CONTEXT.drop_columns(["context"]), tmp_path / "ctx" / "part-3.parquet")
        assert "['context']" in same_error(client, str(tmp_path / "ctx"))


def test_contexts_in_memory_table_and_integer_ids(client):
    table = pa.concat_tables([pa.Table.from_pylist(rows) for rows in CTX_FILES])
    codes = {"c1": 11, "c2": 2, "c3": 30, "c7": 7}
    both(client, table)
    both(client, table.set_column(5, "context", pa.array([codes.get(c) for c in table["context"].to_pylist()],
                                                          pa.int64())))
    both(client, table.rename_columns([*table.column_names[:5], "campaign"]), context_col="campaign")
    same_error(client, table.drop_columns(["context"]), context_col="campaign")
    both(client, table, method="shapley")


def test_contexts_by_period(client, tmp_path):
    # two days: each day's pairs get that day's revenue, matched by that day's contributions, as on one machine
    d = tmp_path / "ctx"
    d.mkdir()
    for i, rows in enumerate(CTX_FILES):
        t = pa.Table.from_pylist(rows)
        days = np.array(["2024-03-01", "2024-03-02"], "datetime64[s]")[np.arange(t.num_rows) % 2]
        pq.write_table(t.append_column("timestamp", pa.array(days)), d / f"part-{i}.parquet")
    local, dask = both(client, str(d), period="day")
    assert dask.contexts.column_names[0] == "period" and len(set(dask.contexts["period"].to_pylist())) == 2


def test_contexts_row_group_partitions_several_blocks(client, tmp_path, monkeypatch):
    # a generated economy with contexts in one Parquet file, read as runs of row groups, over several row blocks
    from graphlabor.distributed import partitions
    from graphlabor.generate import generate_tables

    edges, nodes = generate_tables(edges=30_000, users=6_000, seed=3, contexts=True)  # > 2 chunks of rows
    path = tmp_path / "edges.parquet"
    pq.write_table(edges, path, row_group_size=4_000)
    monkeypatch.setattr(partitions, "PARTITION_ROWS", 8_000)
    assert len(partitions.plan(str(path))) >= 3
    for kw in ({}, {"unmatched": "keep", "solver": "jacobi"}):
        local, dask = both(client, str(path), nodes, **kw)
        assert local.summary.contexts > 0 and local.contexts.num_rows > 0
        assert sum(b > a for a, b in zip(dask.row_bounds[:-1], dask.row_bounds[1:])) >= 2  # rows in several blocks


def test_cli_contexts_multi_file(tmp_path):
    from conftest import cli

    path = _ctx_dir(tmp_path)
    for engine in ("local", "dask"):
        extra = ["--workers", "2"] if engine == "dask" else []
        cli("attribute", path, "--engine", engine, *extra, "-o", tmp_path / f"{engine}.parquet",
            "--contexts", tmp_path / f"{engine}-ctx.parquet", "--unmatched", "keep")
    same_bits(pq.read_table(tmp_path / "local.parquet"), pq.read_table(tmp_path / "dask.parquet"))
    same_bits(pq.read_table(tmp_path / "local-ctx.parquet"), pq.read_table(tmp_path / "dask-ctx.parquet"))
    assert pq.read_table(tmp_path / "dask-ctx.parquet").num_rows == 5


def test_threads_set_local_workers_only():
    from graphlabor.distributed.cluster import connect
    from graphlabor.errors import ParameterError

    with pytest.raises(ParameterError, match="--threads"):
        with connect(scheduler="tcp://127.0.0.1:9", threads=2):
            pass
    with connect(workers=1, threads=3) as c:
        assert list(c.run(lambda: os.environ["NUMBA_NUM_THREADS"]).values()) == ["3"]


_HEARTBEAT = """
import logging, sys
from graphlabor.distributed.cluster import connect

def heartbeat_fails():  # what a worker logs when its last heartbeat meets a closed scheduler
    try:
        raise OSError("Stream is closed")
    except OSError:
        logging.getLogger("distributed.worker").exception("Failed to communicate with scheduler during heartbeat.")

if __name__ == "__main__":
    with connect(workers=1, threads=1) as c:
        c.run(heartbeat_fails)
    print("done")
"""


def test_local_cluster_logs_nothing_around_a_one_line_error(tmp_path):
    """The CLI's own cluster keeps distributed's worker tracebacks off stderr; GRAPHLABOR_DASK_LOG shows them."""
    import subprocess
    import sys

    script = tmp_path / "heartbeat.py"
    script.write_text(_HEARTBEAT)
    env = {k: v for k, v in os.environ.items() if k != "GRAPHLABOR_DASK_LOG"}
    quiet = subprocess.run([sys.executable, script], capture_output=True, text=True, env=env, timeout=120)
    assert quiet.returncode == 0 and quiet.stdout == "done\n" and quiet.stderr == ""
    loud = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120,
                          env={**env, "GRAPHLABOR_DASK_LOG": "error"})
    assert loud.returncode == 0 and "Failed to communicate with scheduler during heartbeat" in loud.stderr
    bad = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120,
                         env={**env, "GRAPHLABOR_DASK_LOG": "loud"})
    assert bad.returncode != 0 and "GRAPHLABOR_DASK_LOG=loud: not a log level" in bad.stderr
