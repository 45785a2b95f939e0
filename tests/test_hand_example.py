"""A tripartite example worked out by hand: advertisers -> platforms -> users.

Graph (an edge ``a -> b`` means "a acted on b"):

    revenue  A1 -> P spend 100, A2 -> P spend 40, A2 -> R spend 30, C1 -> Q fee 40
    users on the social platform P:
             u1 -> P click w1, u1 -> P view w2, u2 -> P post w1, u3 -> P view w2,
             u2 -> P scroll w5 (kind weight 0: carries nothing)
    workers on the micro-work platform Q:
             w1 -> Q annotate w3, w2 -> Q annotate w1
    engagement between users:
             u1 -> u2 view w2, u1 -> u3 like w1, u3 -> u2 like w2
    pay      P -> u1 5, Q -> w1 10, Q -> w2 12, S -> u3 2
    R: a platform nobody acted on. S: a platform that only pays.

Kind weights: click=2, view=0.5, post=3, scroll=0 (like, annotate: 1).
Damping 0.8.

Contribution weights on P: u1 = 1*2 + 2*0.5 = 3, u2 = 1*3 + 5*0 = 3, u3 = 2*0.5 = 1; total 7.
User-to-user: u1 -> u2 = 2*0.5 = 1, u1 -> u3 = 1*1 = 1 (so u1 splits half/half);
u3 -> u2 = 2; u2, w1, w2 act on no user and keep all they hold.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import graphlabor
import reference
from conftest import by_node, edges_table
from examples import (
    DAMPING, EDGES, EXPECTED, KIND_WEIGHTS, ROLES, SHARE_025, TOTAL, check_rows, check_summary,
)



@pytest.mark.parametrize("platform_share", [0.25, 0.0, 1.0])
def test_hand_example_api(platform_share):
    expected = EXPECTED[platform_share]
    assert sum(expected.values()) == pytest.approx(TOTAL)  # the hand arithmetic conserves money
    r = graphlabor.attribute(
        edges_table(EDGES), damping=DAMPING, platform_share=platform_share, kind_weights=KIND_WEIGHTS, tol=1e-13
    )
    assert r.nodes.column_names[:7] == ["node", "role", "attributed", "paid", "unpaid", "share", "rank"]
    assert r.nodes["node"].to_pylist() == sorted(ROLES)
    check_rows(by_node(r.nodes), expected)
    check_summary(r.summary.to_dict(), expected)
    if platform_share == 1.0:
        assert r.summary.attributed_users == 0.0


@pytest.mark.parametrize("platform_share", [0.25, 0.0])
def test_hand_example_matches_reference(platform_share):
    ref = reference.attribute(EDGES, damping=DAMPING, platform_share=platform_share, kind_weights=KIND_WEIGHTS)
    for v, a in EXPECTED[platform_share].items():
        assert ref.attributed[v] == pytest.approx(a, abs=1e-9)
        assert ref.role[v] == ROLES[v]


def test_hand_example_cli(tmp_path, run_cli):
    path = tmp_path / "edges.csv"
    import pyarrow.csv as pacsv

    pacsv.write_csv(edges_table(EDGES), path)
    out, summ = tmp_path / "out.parquet", tmp_path / "summary.json"
    args = ["attribute", path, "--damping", "0.8", "--platform-share", "0.25", "-o", out, "--summary-json", summ]
    for k, w in KIND_WEIGHTS.items():
        args += ["--kind-weight", f"{k}={w}"]
    run_cli(*args)
    check_rows(by_node(pq.read_table(out)), SHARE_025)
    check_summary(json.loads(summ.read_text()), SHARE_025)


def test_default_kind_weights_differ():
    # without --kind-weight every kind weighs 1: P's split becomes u1 3 (click 1 + view 2),
    # u2 6 (post 1 + scroll 5), u3 2 -> 105 * (3, 6, 2) / 11; the reference says the same
    r = graphlabor.attribute(edges_table(EDGES), damping=DAMPING, platform_share=0.25, tol=1e-13)
    rows = by_node(r.nodes)
    ref = reference.attribute(EDGES, damping=DAMPING, platform_share=0.25)
    # u1 holds 105*3/11, keeps 20%
    assert rows["u1"]["attributed"] == pytest.approx(0.2 * 105 * 3 / 11, abs=1e-9)
    for v in ROLES:
        assert rows[v]["attributed"] == pytest.approx(ref.attributed[v], abs=1e-9)
    assert rows["u2"]["attributed"] != pytest.approx(SHARE_025["u2"], abs=1e-3)


def test_user_acting_on_a_revenue_payer_leaves_it_an_advertiser():
    # add u1 -> A1 click (w1 * 2 = 2). A1 sends revenue, so it stays an advertiser
    # (docs/model.md, section 1, rule 4; before issue 10 this one edge made it a user):
    # the click carries nothing (value never flows to advertisers) and nothing changes.
    edges = EDGES + [("u1", "A1", "click", 1, None)]
    r = graphlabor.attribute(edges_table(edges), damping=DAMPING, platform_share=0.25, kind_weights=KIND_WEIGHTS, tol=1e-13)
    rows = by_node(r.nodes)
    check_rows(rows, SHARE_025, roles=ROLES)
    assert r.summary.advertisers == 3
    assert r.summary.conflicting_roles == 0  # receiving a contribution is no evidence of a role


def test_nodes_file_roles_values_and_extras(tmp_path):
    # The same edges plus u1 -> A1 click; the nodes file declares A1 an advertiser, so
    # the click carries nothing (value never flows to advertisers) and u1's split is
    # unchanged. X, only in the nodes file, is an advertiser with value 5: it keeps 5
    # (kept elsewhere); iso, only in the nodes file, is an isolated user with nothing.
    # Total injected 210 + 5 = 215.
    edges = EDGES + [("u1", "A1", "click", 1, None)]
    nodes = pa.table(
        {
            "id": ["A1", "X", "iso", "u1", "P"],
            "role": ["advertiser", "advertiser", "user", "user", "platform"],
            "value": [None, 5.0, None, 0.0, 0.0],
            "family": ["ads", "ads", "none", "social", "social"],
            "score": [1, 2, 3, 4, 5],
        }
    )
    path = tmp_path / "nodes.parquet"
    pq.write_table(nodes, path)
    r = graphlabor.attribute(edges_table(edges), str(path), damping=DAMPING, platform_share=0.25, kind_weights=KIND_WEIGHTS, tol=1e-13)
    rows = by_node(r.nodes)
    expected = SHARE_025 | {"X": 5.0, "iso": 0.0}
    roles = ROLES | {"X": "advertiser", "iso": "user"}
    check_rows(rows, expected, total=215.0, roles=roles)
    check_summary(r.summary.to_dict(), expected, total=215.0, roles=roles)
    assert r.summary.kept_elsewhere == pytest.approx(5.0)
    names = r.nodes.column_names
    assert names[:7] == ["node", "role", "attributed", "paid", "unpaid", "share", "rank"]
    assert "family" in names and "score" in names and names.index("family") + 1 == names.index("score")
    assert r.nodes["score"].type == pa.int64() and r.nodes["family"].type == pa.string()
    assert rows["A1"]["family"] == "ads" and rows["iso"]["family"] == "none" and rows["u2"]["family"] is None
    assert rows["P"]["score"] == 5 and rows["w1"]["score"] is None
    assert r.nodes["node"].to_pylist() == sorted(expected)


def test_declared_user_keeps_revenue_it_receives():
    # R receives revenue (inferred platform); declared a user it acts on no user and
    # keeps all 30 as a user: attributed_users grows by 30, kept_platforms shrinks by 30.
    r = graphlabor.attribute(
        edges_table(EDGES), pa.table({"id": ["R"], "role": ["user"]}),
        damping=DAMPING, platform_share=0.25, kind_weights=KIND_WEIGHTS, tol=1e-13,
    )
    rows = by_node(r.nodes)
    assert rows["R"]["role"] == "user" and rows["R"]["attributed"] == pytest.approx(30.0)
    assert r.summary.attributed_users == pytest.approx(165.0)
    assert r.summary.kept_platforms == pytest.approx(45.0)


def test_pay_moves_no_value():
    # drop every pay edge: attributed values are unchanged, paid is zero
    no_pay = [e for e in EDGES if e[2] != "pay"]
    r = graphlabor.attribute(
        edges_table(no_pay), pa.table({"id": ["S"], "role": ["platform"]}),
        damping=DAMPING, platform_share=0.25, kind_weights=KIND_WEIGHTS, tol=1e-13,
    )
    rows = by_node(r.nodes)
    for v, a in SHARE_025.items():
        assert rows[v]["attributed"] == pytest.approx(a, abs=1e-9)
        assert rows[v]["paid"] == 0.0


def test_null_role_means_inferred():
    # a null in the nodes file's role column leaves the inferred role (the nodes
    # file gives no role for that node); u1 stays a user, P stays a platform
    nodes = pa.table({"id": ["u1", "P", "X"], "role": [None, None, "advertiser"], "value": [None, None, 5.0]})
    r = graphlabor.attribute(edges_table(EDGES), nodes, damping=DAMPING, platform_share=0.25, kind_weights=KIND_WEIGHTS, tol=1e-13)
    rows = by_node(r.nodes)
    expected = SHARE_025 | {"X": 5.0}
    check_rows(rows, expected, total=215.0, roles=ROLES | {"X": "advertiser"})
