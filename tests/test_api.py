"""The Python API: inputs as paths, lists of paths, Arrow tables and pandas frames;
the result object; ids and their types; isolated nodes; errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import graphlabor
import reference
from conftest import by_node, edges_table
from examples import DAMPING, EDGES, KIND_WEIGHTS, ROLES, SHARE_025, check_rows, check_summary

HAND = dict(damping=DAMPING, platform_share=0.25, kind_weights=KIND_WEIGHTS, tol=1e-13)
BASE_COLUMNS = ["node", "role", "attributed", "paid", "unpaid", "share", "rank"]


def _hand_df():
    return edges_table(EDGES).to_pandas()


@pytest.mark.parametrize("kind", ["str", "pathlib", "list", "list-pathlib", "table", "pandas", "record-batch"])
def test_edges_inputs(tmp_path, kind):
    t = edges_table(EDGES)
    if kind in ("str", "pathlib"):
        p = tmp_path / "e.parquet"
        pq.write_table(t, p)
        edges = str(p) if kind == "str" else p
    elif kind.startswith("list"):
        paths = []
        for i, (a, b) in enumerate([(0, 7), (7, 12), (12, t.num_rows)]):
            p = tmp_path / f"e{i}.parquet"
            pq.write_table(t.slice(a, b - a), p)
            paths.append(str(p) if kind == "list" else p)
        edges = paths
    elif kind == "table":
        edges = t
    elif kind == "record-batch":
        edges = t.to_batches()[0] if len(t.to_batches()) == 1 else t.combine_chunks().to_batches()[0]
    else:
        edges = _hand_df()
    r = graphlabor.attribute(edges, **HAND)
    check_rows(by_node(r.nodes), SHARE_025)
    check_summary(r.summary.to_dict(), SHARE_025)


@pytest.mark.parametrize("kind", ["path", "table", "pandas"])
def test_nodes_inputs(tmp_path, kind):
    nodes = pa.table({"id": ["X", "iso"], "role": ["advertiser", "user"], "value": [5.0, 0.0], "family": ["ads", "none"]})
    if kind == "path":
        p = tmp_path / "n.csv"
        pacsv.write_csv(nodes, p)
        nodes = str(p)
    elif kind == "pandas":
        nodes = nodes.to_pandas()
    r = graphlabor.attribute(_hand_df(), nodes, **HAND)
    rows = by_node(r.nodes)
    check_rows(rows, SHARE_025 | {"X": 5.0, "iso": 0.0}, total=215.0, roles=ROLES | {"X": "advertiser", "iso": "user"})
    assert rows["X"]["family"] == "ads" and rows["iso"]["family"] == "none" and rows["u1"]["family"] is None


def test_result_object(tmp_path):
    r = graphlabor.attribute(_hand_df(), **HAND)
    assert isinstance(r.nodes, pa.Table)
    assert r.nodes.column_names[:7] == BASE_COLUMNS
    df = r.to_pandas()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns[:7]) == BASE_COLUMNS
    assert len(df) == len(ROLES)
    assert df.loc[df["node"] == "u2", "attributed"].item() == pytest.approx(89.4)
    assert df.loc[df["node"] == "u2", "rank"].item() == 1
    assert pd.isna(df.loc[df["node"] == "P", "rank"].item())

    d = r.summary.to_dict()
    json.dumps(d)  # plain JSON types
    for key in ("total_injected", "attributed_users", "kept_platforms", "kept_elsewhere", "paid", "unpaid", "iterations", "residual", "conservation_error"):
        assert key in d, key

    for ext in ("parquet", "csv", "json"):
        p = tmp_path / f"out.{ext}"
        r.write(str(p))
        if ext == "parquet":
            back = pq.read_table(p)
            assert back.equals(r.nodes)
        elif ext == "csv":
            back = pacsv.read_csv(p)
            np.testing.assert_array_equal(back["attributed"].to_numpy(), r.nodes["attributed"].to_numpy())
            assert back["node"].to_pylist() == r.nodes["node"].to_pylist()
        else:
            rows = json.loads(p.read_text())
            assert [x["node"] for x in rows] == r.nodes["node"].to_pylist()
            assert [x["attributed"] for x in rows] == r.nodes["attributed"].to_pylist()
    r.write(tmp_path / "pathlib.parquet")
    assert pq.read_table(tmp_path / "pathlib.parquet").equals(r.nodes)


def test_integer_ids_round_trip_exactly():
    big = 2**62 + 12345  # not representable in float64: must not pass through floats
    ids = [-(2**62) - 7, -3, 0, 17, big, 2**63 - 1]
    edges = [
        (ids[0], ids[1], "spend", 1, 100.0),
        (ids[2], ids[1], "click", 1, None),
        (ids[3], ids[1], "click", 1, None),
        (ids[2], ids[4], "view", 1, None),
        (ids[1], ids[5], "pay", 1, 3.0),
    ]
    nodes = pa.table({"id": pa.array([123456789012345678, big], pa.int64()), "tag": ["lonely", "creator"]})
    r = graphlabor.attribute(edges_table(edges), nodes, damping=0.5, tol=1e-14)
    assert r.nodes["node"].type == pa.int64()
    got = r.nodes["node"].to_pylist()
    assert got == sorted(set(ids) | {123456789012345678})
    rows = by_node(r.nodes)
    ref = reference.attribute(edges, {123456789012345678: {}, big: {}}, damping=0.5)
    for v in got:
        assert rows[v]["role"] == ref.role[v]
        assert rows[v]["attributed"] == pytest.approx(ref.attributed[v], abs=1e-9)
    # platform -3 splits 100 between 0 and 17; 0 keeps half of its 50 and passes 25 to big
    assert rows[big]["attributed"] == pytest.approx(25.0)
    assert rows[big]["tag"] == "creator" and rows[123456789012345678]["tag"] == "lonely"
    assert rows[2**63 - 1]["paid"] == 3.0


@pytest.mark.parametrize("id_type", [pa.string(), pa.large_string()])
def test_string_ids_round_trip(id_type):
    names = ["ünïcode user", "Платформа", "广告主", "plain", ""]
    edges = [(names[2], names[1], "spend", 1, 10.0), (names[0], names[1], "click", 1, None), (names[3], names[1], "view", 1, None), (names[4], names[3], "like", 1, None)]
    r = graphlabor.attribute(edges_table(edges, id_type=id_type), damping=0.5, tol=1e-14)
    assert pa.types.is_string(r.nodes["node"].type) or pa.types.is_large_string(r.nodes["node"].type)
    got = r.nodes["node"].to_pylist()
    assert sorted(got) == sorted(names)
    rows = by_node(r.nodes)
    ref = reference.attribute(edges, damping=0.5)
    for v in names:
        assert rows[v]["attributed"] == pytest.approx(ref.attributed[v], abs=1e-12)
    assert rows[names[1]]["role"] == "platform" and rows[names[2]]["role"] == "advertiser"


def test_rows_in_ascending_id_order():
    rng = np.random.default_rng(4)
    ids = rng.choice(10**9, 200, replace=False)
    src, dst = rng.choice(ids, 600), rng.choice(ids, 600)
    r = graphlabor.attribute(pa.table({"src": src, "dst": dst}), allow_empty=True)
    got = r.nodes["node"].to_pylist()
    assert got == sorted(set(src.tolist()) | set(dst.tolist()))


def test_no_edges_nodes_keep_their_value():
    nodes = pa.table({"id": ["a", "b", "c"], "value": [1.0, 3.0, 0.0]})
    edges = pa.table({"src": pa.array([], pa.string()), "dst": pa.array([], pa.string())})
    r = graphlabor.attribute(edges, nodes)
    rows = by_node(r.nodes)
    assert [rows[v]["attributed"] for v in "abc"] == [1.0, 3.0, 0.0]
    assert [rows[v]["share"] for v in "abc"] == [0.25, 0.75, 0.0]
    assert r.summary.total_injected == 4.0


def test_isolated_nodes_and_value_with_edges():
    # nodes-file-only ids are kept; a value at a user flows like revenue at a platform would
    edges = [("a", "b", "view", 1, None), ("b", "c", "view", 1, None)]
    nodes = pa.table({"id": ["a", "z"], "value": [8.0, 2.0], "group": ["g1", "g2"]})
    r = graphlabor.attribute(edges_table(edges), nodes, damping=0.5, tol=1e-14)
    rows = by_node(r.nodes)
    # a holds 8, keeps 4, passes 4 to b; b keeps 2, passes 2 to c; c keeps 2; z keeps 2
    assert {v: rows[v]["attributed"] for v in "abcz"} == pytest.approx({"a": 4.0, "b": 2.0, "c": 2.0, "z": 2.0})
    assert rows["z"]["group"] == "g2" and rows["b"]["group"] is None
    assert r.nodes["node"].to_pylist() == ["a", "b", "c", "z"]


def test_output_columns_do_not_depend_on_row_order():
    # the same edges in another row order give the same table, column order included
    a = graphlabor.attribute(edges_table(EDGES), **HAND).nodes
    b = graphlabor.attribute(edges_table(EDGES[::-1]), **HAND).nodes
    assert a.column_names == b.column_names
    assert a.equals(b)


def test_convergence_error_reports_iterations_and_residual():
    # a long user chain with damping 0.99 cannot settle to 1e-15 in 3 iterations
    edges = [(i, i + 1, "view", 1, None) for i in range(50)]
    nodes = pa.table({"id": [0], "value": [1.0]})
    with pytest.raises(graphlabor.ConvergenceError) as ei:
        graphlabor.attribute(edges_table(edges), nodes, damping=0.99, tol=1e-15, max_iter=3, solver="jacobi")
    # power iteration: value moves one step along the chain per iteration, so the last change is 0.99 ** 3
    assert ei.value.n_iter == 3
    assert ei.value.residual == pytest.approx(0.99**3, rel=1e-12)
    assert "3 iterations" in str(ei.value) and "9.703e-01" in str(ei.value)


@pytest.mark.parametrize("kw", [dict(damping=1.0), dict(damping=-0.1), dict(platform_share=1.5), dict(tol=0.0), dict(max_iter=0), dict(kind_weights={"click": -1})])
def test_parameter_errors(kw):
    with pytest.raises(graphlabor.ParameterError):
        graphlabor.attribute(edges_table(EDGES), **kw)


def test_input_errors():
    with pytest.raises(graphlabor.InputError):
        graphlabor.attribute(pa.table({"a": [1], "b": [2]}))
    with pytest.raises(graphlabor.InputError):
        # a revenue edge without an amount
        graphlabor.attribute(pa.table({"src": ["x"], "dst": ["y"], "kind": ["spend"]}))
    with pytest.raises(graphlabor.InputError):
        graphlabor.attribute("/nonexistent/edges.parquet")
    with pytest.raises(graphlabor.InputError):
        graphlabor.attribute(pa.table({"src": ["x"], "dst": ["y"], "weight": [-1.0]}))


def test_example_runs_and_conserves():
    r = graphlabor.attribute(graphlabor.example_path("edges"), nodes=graphlabor.example_path("nodes"))
    s = r.summary
    assert s.total_injected > 0
    assert abs(float(np.sum(r.nodes["attributed"].to_numpy())) - s.total_injected) <= 1e-9 * s.total_injected
    assert set(r.nodes["role"].to_pylist()) == {"user", "platform", "advertiser"}
    assert "family" in r.nodes.column_names
    assert math.isclose(s.attributed_users + s.kept_platforms + s.kept_elsewhere, s.total_injected, rel_tol=1e-9)



def test_large_string_edge_ids_with_string_node_ids():
    # pandas 3 turns string columns into Arrow large_string; a nodes table with plain
    # string ids must still match them (ids are strings either way)
    edges = pa.table({"src": pa.array(["a", "b"], pa.large_string()), "dst": pa.array(["b", "c"], pa.large_string())})
    nodes = pa.table({"id": pa.array(["a", "d"], pa.string()), "value": [1.0, 1.0]})
    r = graphlabor.attribute(edges, nodes, damping=0.5, tol=1e-14)
    rows = by_node(r.nodes)
    # a holds 1, keeps 0.5, passes 0.5 to b; b keeps 0.25, passes 0.25 to c; d keeps 1
    assert {v: rows[v]["attributed"] for v in "abcd"} == pytest.approx({"a": 0.5, "b": 0.25, "c": 0.25, "d": 1.0})


def test_timestamp_column_without_time_options_changes_nothing(tmp_path):
    # a timestamp column is accepted; without half_life or period it is not even
    # read, and the attribution is the hand example's
    t = edges_table(EDGES)
    ts = pa.array([1_700_000_000 + 3600 * i for i in range(t.num_rows)], pa.int64()).cast(pa.timestamp("s"))
    t = t.append_column("timestamp", ts)
    p = tmp_path / "e.parquet"
    pq.write_table(t, p)
    r = graphlabor.attribute(str(p), **HAND)
    check_rows(by_node(r.nodes), SHARE_025)


@pytest.mark.parametrize("kw, name", [
    (dict(group_by="country"), "group_by"),        # no such nodes-file column
    (dict(period="month"), "period"),              # the nodes file has node values
    (dict(min_wage=7.25), "min_wage"),             # the nodes file has no hours
])
def test_options_are_checked_before_any_edge_is_read(tmp_path, kw, name):
    nodes = tmp_path / "nodes.parquet"
    pq.write_table(pa.table({"id": ["a"], "value": [1.0], "team": ["x"]}), nodes)
    never_read = tmp_path / "no_such_edges.parquet"  # reading it would be an InputError
    with pytest.raises(graphlabor.ParameterError) as ei:
        graphlabor.attribute(str(never_read), str(nodes), **kw)
    # the library names its parameters; only the CLI speaks of flags
    assert str(ei.value).startswith(name) and "--" not in str(ei.value)
    assert ei.value.params == (name,)
