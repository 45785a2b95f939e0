"""Output column names are unique: a clash with a nodes-file column or a kind name is a one-line input error.

Read back from real Parquet and JSON files written by the CLI.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import edges_table

EDGES = [
    ("A", "P", "spend", None, 90.0),
    ("u1", "P", "click", 1.0, None),
    ("u2", "P", "view", 2.0, None),
    ("u1", "u2", "view", 1.0, None),
]


def _write(tmp_path, edges=EDGES, nodes=None):
    e = tmp_path / "edges.parquet"
    pq.write_table(edges_table(edges), e)
    if nodes is None:
        return e, None
    n = tmp_path / "nodes.parquet"
    pq.write_table(pa.table(nodes), n)
    return e, n


def test_kind_named_injected_is_refused(tmp_path, run_cli):
    edges = [*EDGES, ("u2", "P", "injected", 1.0, None)]
    e, _ = _write(tmp_path, edges)
    out = tmp_path / "out.parquet"
    r = run_cli("attribute", e, "-o", out, "-q", check=False)
    assert r.returncode == 2, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "'injected'" in r.stderr and "via_injected" in r.stderr
    assert not out.exists()
    # without the breakdown there is no via_ column to clash
    r = run_cli("attribute", e, "-o", out, "-q", "--no-breakdown")
    t = pq.read_table(out)
    assert len(set(t.column_names)) == len(t.column_names)


@pytest.mark.parametrize("column", ["via_click", "via_other", "paid_per_hour", "below_min_wage", "period", "attributed", "node"])
@pytest.mark.parametrize("suffix", [".parquet", ".json"])
def test_nodes_column_with_an_output_name_is_refused(tmp_path, run_cli, column, suffix):
    e, n = _write(tmp_path, nodes={"id": ["u1", "u2"], "hours": [10.0, 5.0], column: [1.0, 2.0]})
    out = tmp_path / f"out{suffix}"
    r = run_cli("attribute", e, "--nodes", n, "--min-wage", "1", "-o", out, "-q", check=False)
    assert r.returncode == 2, r.stderr
    msg = r.stderr.strip()
    assert len(msg.splitlines()) == 1 and repr(column) in msg and "nodes.parquet" in msg
    assert not out.exists()


def test_every_output_column_once_and_the_user_column_kept(tmp_path, run_cli):
    """Nodes-file columns that do not clash come out unchanged beside ours, in Parquet and JSON."""
    e, n = _write(tmp_path, nodes={"id": ["u1", "u2"], "hours": [10.0, 5.0], "paid_hours": [7.0, 8.0]})
    pq_out, js_out = tmp_path / "out.parquet", tmp_path / "out.json"
    run_cli("attribute", e, "--nodes", n, "--min-wage", "1", "-o", pq_out, "-q")
    run_cli("attribute", e, "--nodes", n, "--min-wage", "1", "-o", js_out, "-q")
    t = pq.read_table(pq_out)
    names = t.column_names
    assert len(set(names)) == len(names)
    assert {"via_click", "via_view", "via_injected", "paid_per_hour", "below_min_wage", "paid_hours"} <= set(names)
    rows = {r["node"]: r for r in t.to_pylist()}
    assert rows["u1"]["paid_hours"] == 7.0 and rows["u2"]["paid_hours"] == 8.0
    # the via_ columns add up to attributed (P passes 90 to u1, u2 by click 1 : view 2)
    for r in rows.values():
        assert r["via_click"] + r["via_view"] + r["via_injected"] == pytest.approx(r["attributed"], abs=1e-9)
    doc = json.loads(js_out.read_text())
    assert [list(d) for d in doc[:1]] == [names]
    assert {d["node"]: d["paid_hours"] for d in doc} == {"A": None, "P": None, "u1": 7.0, "u2": 8.0}
