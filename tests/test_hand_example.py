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

EDGES = [
    ("A1", "P", "spend", 1, 100),
    ("A2", "P", "spend", 1, 40),
    ("A2", "R", "spend", 1, 30),
    ("C1", "Q", "fee", 1, 40),
    ("u1", "P", "click", 1, None),
    ("u1", "P", "view", 2, None),
    ("u2", "P", "post", 1, None),
    ("u3", "P", "view", 2, None),
    ("u2", "P", "scroll", 5, None),
    ("w1", "Q", "annotate", 3, None),
    ("w2", "Q", "annotate", 1, None),
    ("u1", "u2", "view", 2, None),
    ("u1", "u3", "like", 1, None),
    ("u3", "u2", "like", 2, None),
    ("P", "u1", "pay", 1, 5),
    ("Q", "w1", "pay", 1, 10),
    ("Q", "w2", "pay", 1, 12),
    ("S", "u3", "pay", 1, 2),
]
KIND_WEIGHTS = {"click": 2.0, "view": 0.5, "post": 3.0, "scroll": 0.0}
DAMPING = 0.8

ROLES = {
    "A1": "advertiser", "A2": "advertiser", "C1": "advertiser",
    "P": "platform", "Q": "platform", "R": "platform", "S": "platform",
    "u1": "user", "u2": "user", "u3": "user", "w1": "user", "w2": "user",
}
PAID = {"u1": 5.0, "w1": 10.0, "w2": 12.0, "u3": 2.0}

# ---- platform_share = 0.25 ------------------------------------------------
# P holds 100 + 40 = 140, keeps 0.25*140 = 35, passes 105 split 3:3:1:
#   u1 45, u2 45, u3 15.
# u1 holds 45, keeps 0.2*45 = 9, passes 36: u2 18, u3 18.
# u3 holds 15 + 18 = 33, keeps 0.2*33 = 6.6, passes 26.4 to u2.
# u2 holds 45 + 18 + 26.4 = 89.4 and acts on no user: keeps 89.4.
# Q holds 40, keeps 10, passes 30 split 3:1: w1 22.5, w2 7.5 (both keep all).
# R holds 30 and nobody acted on it: keeps 30. S, A1, A2, C1 hold nothing.
# users 9 + 89.4 + 6.6 + 22.5 + 7.5 = 135; platforms 35 + 10 + 30 = 75; total 210.
SHARE_025 = {
    "u1": 9.0, "u2": 89.4, "u3": 6.6, "w1": 22.5, "w2": 7.5,
    "P": 35.0, "Q": 10.0, "R": 30.0, "S": 0.0, "A1": 0.0, "A2": 0.0, "C1": 0.0,
}
# ---- platform_share = 0 ---------------------------------------------------
# P passes all 140: u1 60, u2 60, u3 20. u1 keeps 12, passes 24 + 24.
# u3 holds 20 + 24 = 44, keeps 8.8, passes 35.2. u2 holds 60 + 24 + 35.2 = 119.2.
# Q passes 40: w1 30, w2 10. R keeps 30. users 180, platforms 30.
SHARE_0 = {
    "u1": 12.0, "u2": 119.2, "u3": 8.8, "w1": 30.0, "w2": 10.0,
    "P": 0.0, "Q": 0.0, "R": 30.0, "S": 0.0, "A1": 0.0, "A2": 0.0, "C1": 0.0,
}
# ---- platform_share = 1: platforms keep everything --------------------------
SHARE_1 = {v: 0.0 for v in ROLES} | {"P": 140.0, "Q": 40.0, "R": 30.0}

EXPECTED = {0.25: SHARE_025, 0.0: SHARE_0, 1.0: SHARE_1}
TOTAL = 210.0


def _check(rows, expected, total=TOTAL, roles=ROLES):
    assert set(rows) == set(expected)
    for v, att in expected.items():
        r = rows[v]
        assert r["role"] == roles[v], v
        assert r["attributed"] == pytest.approx(att, abs=1e-9), v
        assert r["paid"] == pytest.approx(PAID.get(v, 0.0), abs=1e-12), v
        assert r["unpaid"] == pytest.approx(att - PAID.get(v, 0.0), abs=1e-9), v
        assert r["share"] == pytest.approx(att / total, abs=1e-11), v
    # ranks: 1 = largest attributed among users, null for others
    users = sorted((v for v in expected if roles[v] == "user"), key=lambda v: -expected[v])
    for v in expected:
        if roles[v] != "user":
            assert rows[v]["rank"] is None, v
    distinct = len({round(expected[v], 6) for v in users}) == len(users)
    if distinct:
        assert [rows[v]["rank"] for v in users] == list(range(1, len(users) + 1))
    else:
        assert sorted(rows[v]["rank"] for v in users) == list(range(1, len(users) + 1))


def _check_summary(s, expected, total=TOTAL, roles=ROLES):
    users = sum(a for v, a in expected.items() if roles[v] == "user")
    platforms = sum(a for v, a in expected.items() if roles[v] == "platform")
    elsewhere = sum(a for v, a in expected.items() if roles[v] == "advertiser")
    paid = sum(PAID.values())
    assert s["total_injected"] == pytest.approx(total, abs=1e-12)
    assert s["attributed_users"] == pytest.approx(users, abs=1e-9)
    assert s["kept_platforms"] == pytest.approx(platforms, abs=1e-9)
    assert s["kept_elsewhere"] == pytest.approx(elsewhere, abs=1e-9)
    assert s["paid"] == pytest.approx(paid, abs=1e-12)
    assert s["unpaid"] == pytest.approx(users - paid, abs=1e-9)
    assert s["conservation_error"] <= 1e-9
    assert s["nodes"] == len(expected)
    assert s["users"] == sum(1 for v in expected if roles[v] == "user")
    assert s["platforms"] == sum(1 for v in expected if roles[v] == "platform")
    assert s["advertisers"] == sum(1 for v in expected if roles[v] == "advertiser")


@pytest.mark.parametrize("platform_share", [0.25, 0.0, 1.0])
def test_hand_example_api(platform_share):
    expected = EXPECTED[platform_share]
    assert sum(expected.values()) == pytest.approx(TOTAL)  # the hand arithmetic conserves money
    r = graphlabor.attribute(
        edges_table(EDGES), damping=DAMPING, platform_share=platform_share, kind_weights=KIND_WEIGHTS, tol=1e-13
    )
    assert r.nodes.column_names[:7] == ["node", "role", "attributed", "paid", "unpaid", "share", "rank"]
    assert r.nodes["node"].to_pylist() == sorted(ROLES)
    _check(by_node(r.nodes), expected)
    _check_summary(r.summary.to_dict(), expected)
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
    _check(by_node(pq.read_table(out)), SHARE_025)
    _check_summary(json.loads(summ.read_text()), SHARE_025)


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


def test_user_acting_on_a_revenue_payer_makes_it_a_user():
    # add u1 -> A1 click (w1 * 2 = 2). A1 now has an edge other than a revenue edge it
    # sends, so it is a user, and u1's engagement weights become u2 1, u3 1, A1 2.
    # u1 holds 45 (P as before, share 0.25), keeps 9, passes 36: u2 9, u3 9, A1 18.
    # A1 acts on no user (its spend edges are revenue): keeps 18.
    # u3 holds 15 + 9 = 24, keeps 4.8, passes 19.2 to u2; u2 holds 45 + 9 + 19.2 = 73.2.
    edges = EDGES + [("u1", "A1", "click", 1, None)]
    r = graphlabor.attribute(edges_table(edges), damping=DAMPING, platform_share=0.25, kind_weights=KIND_WEIGHTS, tol=1e-13)
    rows = by_node(r.nodes)
    expected = SHARE_025 | {"A1": 18.0, "u3": 4.8, "u2": 73.2}
    assert sum(expected.values()) == pytest.approx(TOTAL)
    _check(rows, expected, roles=ROLES | {"A1": "user"})
    assert r.summary.advertisers == 2


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
    _check(rows, expected, total=215.0, roles=roles)
    _check_summary(r.summary.to_dict(), expected, total=215.0, roles=roles)
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
    _check(rows, expected, total=215.0, roles=ROLES | {"X": "advertiser"})
