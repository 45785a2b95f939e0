"""Inputs that used to be handled silently or misleadingly: each is now an error, accepted with a meaning, or NaN.

Oracles are hand-computed numbers on tiny economies.
"""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from conftest import edges_table

import graphlabor
from graphlabor.errors import InputError, ParameterError


def _table(rows):
    """rows of (src, dst, kind, weight, amount) with None kept as null in every column."""
    cols = list(zip(*rows))
    return pa.table({
        "src": pa.array(cols[0], pa.string()),
        "dst": pa.array(cols[1], pa.string()),
        "kind": pa.array(cols[2], pa.string()),
        "weight": pa.array(cols[3], pa.float64()),
        "amount": pa.array(cols[4], pa.float64()),
    })


def _sources(table, tmp_path):
    """The same edges as a pyarrow Table, a DataFrame, a Parquet file and a CSV file."""
    pq.write_table(table, tmp_path / "e.parquet")
    pacsv.write_csv(table, tmp_path / "e.csv")
    return {"table": table, "frame": table.to_pandas(), "parquet": str(tmp_path / "e.parquet"), "csv": str(tmp_path / "e.csv")}


def test_blank_weight_on_money_rows_is_accepted(tmp_path):
    # weight means nothing on revenue and pay edges; u1 and u2 click P with weights 1 and 3
    rows = [("A", "P", "spend", None, 100.0), ("P", "u1", "pay", None, 5.0),
            ("u1", "P", "click", 1.0, None), ("u2", "P", "click", 3.0, None)]
    for name, src in _sources(_table(rows), tmp_path).items():
        r = graphlabor.attribute(src, platform_share=0.2)
        got = dict(zip(r.nodes["node"].to_pylist(), r.nodes["attributed"].to_pylist()))
        assert got == pytest.approx({"A": 0, "P": 20, "u1": 20, "u2": 60}), name


def test_blank_weight_on_a_contribution_is_an_error(tmp_path):
    rows = [("A", "P", "spend", None, 100.0), ("u1", "P", "click", None, None)]
    for src in _sources(_table(rows), tmp_path).values():
        with pytest.raises(InputError, match=r"weight.*row 1.*'click'"):
            graphlabor.attribute(src)


def test_empty_kind_is_refused_the_same_from_every_source(tmp_path):
    rows = [("A", "P", "spend", 1.0, 100.0), ("u1", "P", "", 1.0, None)]
    messages = set()
    for src in _sources(_table(rows), tmp_path).values():
        with pytest.raises(InputError, match=r"'kind'.*row 1.*missing kind") as e:
            graphlabor.attribute(src)
        messages.add(str(e.value).split(":", 1)[1])  # past the source's name
    assert len(messages) == 1, messages


def test_amounts_that_overflow_are_an_input_error():
    edges = edges_table([("A", "P", "spend", None, 1e308), ("B", "P", "spend", None, 1e308), ("u", "P", "click", 1.0)])
    with pytest.raises(InputError, match="amount.*largest float64"):
        graphlabor.attribute(edges)


def test_as_of_without_half_life_is_an_error(run_cli, tmp_path):
    edges = edges_table([("A", "P", "spend", None, 1.0), ("u", "P", "click", 1.0)])
    with pytest.raises(ParameterError, match="as_of.*half_life"):
        graphlabor.attribute(edges, as_of="2024-01-01")
    pq.write_table(edges, tmp_path / "e.parquet")
    r = run_cli("attribute", tmp_path / "e.parquet", "--as-of", "2024-01-01", check=False)
    assert r.returncode == 2 and "--as-of" in r.stderr and "--half-life" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["spend", "pay"])
def test_kind_weight_for_a_money_kind_is_an_error(run_cli, tmp_path, kind):
    edges = edges_table([("A", "P", "spend", None, 1.0), ("P", "u", "pay", None, 1.0), ("u", "P", "click", 1.0)])
    with pytest.raises(ParameterError, match=f"'{kind}' is a (revenue|pay) kind"):
        graphlabor.attribute(edges, kind_weights={kind: 2.0})
    pq.write_table(edges, tmp_path / "e.parquet")
    r = run_cli("attribute", tmp_path / "e.parquet", "--kind-weight", f"{kind}=2", check=False)
    assert r.returncode == 2 and "--kind-weight" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_amount_on_a_contribution_edge_is_ignored_as_documented():
    # the README says so; the result equals the same edges without the amount
    with_amount = edges_table([("A", "P", "spend", None, 10.0), ("u", "P", "click", 1.0, 999.0)])
    without = edges_table([("A", "P", "spend", None, 10.0), ("u", "P", "click", 1.0, None)])
    a = graphlabor.attribute(with_amount).nodes["attributed"].to_pylist()
    assert a == graphlabor.attribute(without).nodes["attributed"].to_pylist() == [0.0, 0.0, 10.0]
    readme = (pd.io.common.Path(__file__).resolve().parents[1] / "README.md").read_text()
    assert "`amount` on a contribution edge is ignored" in readme


def test_platform_that_passes_nothing_has_no_contributors():
    edges = edges_table([("A", "P", "spend", None, 10.0), ("u1", "P", "click", 1.0), ("u2", "P", "view", 1.0),
                         ("A", "Q", "spend", None, 10.0), ("u1", "Q", "click", 1.0)])
    keeps_all = graphlabor.attribute(edges, platform_share=1.0).platforms.to_pylist()
    assert {p["platform"]: p["contributors"] for p in keeps_all} == {"P": 0, "Q": 0}
    passes = graphlabor.attribute(edges, platform_share=0.5).platforms.to_pylist()
    assert {p["platform"]: p["contributors"] for p in passes} == {"P": 2, "Q": 1}


def test_share_is_nan_when_nothing_was_injected():
    r = graphlabor.attribute(edges_table([("u1", "u2", "click", 1.0), ("u2", "u1", "view", 1.0)]), allow_empty=True)
    assert all(math.isnan(s) for s in r.nodes["share"].to_pylist())
    assert r.nodes["attributed"].to_pylist() == [0.0, 0.0]
