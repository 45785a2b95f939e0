"""Roles that a stray edge cannot flip, conflicts made visible, self-loops (issue 10).

Oracles: the hand-worked example of docs/model.md section 10 (its numbers
computed by hand there) and the role rules of section 1 written as sets.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from examples import WORKED_EDGES, as_dict
from reference import Oracle

import graphlabor

WORKED = {"A": 0.0, "P": 0.0, "u1": 7.5, "u2": 67.5, "u3": 25.0}


def _add(*rows):
    extra = pd.DataFrame(list(rows), columns=["src", "dst", "kind", "weight", "amount"])
    return pd.concat([WORKED_EDGES, extra], ignore_index=True)


def test_a_tip_does_not_make_the_tipper_a_platform():
    r = graphlabor.attribute(_add(("u2", "u3", "pay", 1.0, 5.0)))
    rows = r.to_pandas().set_index("node")
    assert as_dict(r) == pytest.approx(WORKED, abs=1e-12)  # docs: u2 stays 67.5
    assert rows.loc["u2", "role"] == "user" and rows.loc["u3", "paid"] == 5.0
    assert r.summary.conflicting_roles == 1 and r.summary.platforms == 1
    rep = r.roles_report.to_pylist()
    assert [(x["node"], x["role"], x["evidence"], x["pay_sent"], x["contributions_sent"]) for x in rep] == [
        ("u2", "user", "sends pay; sends contributions", 1, 1)]


def test_an_advertiser_who_likes_stays_an_advertiser():
    r = graphlabor.attribute(_add(("A", "u2", "like", 1.0, None)))
    rows = r.to_pandas().set_index("node")
    assert rows.loc["A", "role"] == "advertiser" and pd.isna(rows.loc["A", "rank"])
    assert as_dict(r) == pytest.approx(WORKED, abs=1e-12)  # the like carries no value
    assert r.summary.advertiser_contributions == 1 and r.summary.conflicting_roles == 1
    assert "1 contribution edges from advertisers carry no value" in r.summary.format()


def test_a_node_that_only_pays_is_still_a_platform():
    r = graphlabor.attribute(_add(("S", "u3", "pay", 1.0, 2.0)))
    assert r.to_pandas().set_index("node").loc["S", "role"] == "platform"
    assert r.summary.conflicting_roles == 0


def test_self_like_dropped_by_default_and_kept_on_request():
    df = _add(("u1", "u1", "like", 1.0, None))
    drop = graphlabor.attribute(df)
    assert as_dict(drop) == pytest.approx(WORKED, abs=1e-12)
    assert (drop.summary.self_loops, drop.summary.self_loop_value) == (1, 0.0)
    keep = graphlabor.attribute(df, self_loops="keep", tol=1e-14, max_iter=10_000)
    x_u1 = 50 / (1 - 0.85 / 2)  # docs/model.md section 10, "A self-like"
    want = {"A": 0.0, "P": 0.0, "u1": 0.15 * x_u1, "u2": 25 + 0.425 * x_u1, "u3": 25.0}
    assert as_dict(keep) == pytest.approx(want, abs=1e-9)
    assert keep.summary.self_loop_value == pytest.approx(0.15 * 0.425 * x_u1, abs=1e-9)
    assert as_dict(keep)["u1"] / 7.5 == pytest.approx(1.739, abs=1e-3)  # +74%
    orc = Oracle.run(df, self_loops="keep")
    assert as_dict(keep) == pytest.approx(orc.by_id(orc.kept), abs=1e-9)
    assert "self-loops" in keep.summary.format()


def _files(tmp_path, roles):
    edges = tmp_path / "edges.parquet"
    pq.write_table(pa.Table.from_pandas(_add(("u2", "u3", "pay", 1.0, 5.0)), preserve_index=False), edges)
    nodes = tmp_path / "nodes.csv"
    pd.DataFrame({"id": list(roles), "role": list(roles.values())}).to_csv(nodes, index=False)
    return edges, nodes


def test_cli_roles_strict_and_report(tmp_path, run_cli):
    edges, nodes = _files(tmp_path, {"A": "advertiser", "P": "platform", "u1": "user", "u2": None, "u3": None})
    out = tmp_path / "out.csv"
    proc = run_cli("attribute", edges, "--nodes", nodes, "--roles", "strict", "-o", out, check=False)
    assert proc.returncode == 2 and not out.exists()
    assert proc.stderr.strip().count("\n") == 0
    assert "2 of 5 nodes lack a declared role" in proc.stderr and "'u2', 'u3'" in proc.stderr
    proc = run_cli("attribute", edges, "--roles", "strict", check=False)
    assert proc.returncode == 2 and "5 of 5 nodes" in proc.stderr and "no nodes file" in proc.stderr
    edges, nodes = _files(tmp_path, {"A": "advertiser", "P": "platform", "u1": "user", "u2": "user", "u3": "user"})
    report = tmp_path / "roles.csv"
    proc = run_cli("attribute", edges, "--nodes", nodes, "--roles", "strict", "--roles-report", report)
    assert "1   nodes with conflicting evidence" in proc.stdout
    rep = pd.read_csv(report)
    assert rep["node"].tolist() == ["u2"] and rep["declared"].tolist() == [True]
