"""Shared test data: the hand-worked example, the worked example of docs/model.md, random economies.

Test modules take their data from here and their oracles from
``reference.py``; they never import one another.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, settings

from reference import roles_of_frame

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(REPO, "docs", "model.md")
REVENUE = ("spend", "fee")
PAY = ("pay",)
CONTRIB_KINDS = ("click", "view", "post", "annotate")
ENGAGE_KINDS = ("like", "reply", "view")
TIGHT = dict(tol=1e-13, max_iter=10_000)
# seeds drive the generators, so shrinking has little to offer: skip it (a
# failing example is reported as is, and fast)
HYPO = settings(deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow],
                phases=(Phase.explicit, Phase.reuse, Phase.generate))


# --------------------------------------------------------------------------
# the tripartite example worked out by hand (tests/test_hand_example.py)
# --------------------------------------------------------------------------

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


def check_rows(rows, expected, total=TOTAL, roles=ROLES):
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


def check_summary(s, expected, total=TOTAL, roles=ROLES):
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


# --------------------------------------------------------------------------
# the worked example of docs/model.md
# --------------------------------------------------------------------------

WORKED_EDGES = pd.DataFrame({
    "src": ["A", "u1", "u2", "u3", "u1", "P"],
    "dst": ["P", "P", "P", "P", "u2", "u1"],
    "kind": ["spend", "click", "post", "view", "view", "pay"],
    "weight": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
    "amount": [100.0, None, None, None, None, 10.0],
})


#: u0's self-loops of two kinds, whose weights add up to different last bits
#: when summed kind by kind than when summed all together (found by hypothesis).
DUPLICATE_KINDS = pd.DataFrame({
    "src": ["A", "u0", "u0", "u0", "u0", "u0"],
    "dst": ["P", "u0", "u0", "P", "u0", "u0"],
    "kind": ["spend", "click", "click", "click", "post", "click"],
    "weight": [1.0, 6.687870967677677, 1.3114537302546843, 1.0, 5.25, 5.75],
    "amount": [1.0, None, None, None, None, None],
})


# --------------------------------------------------------------------------
# random economies and helpers
# --------------------------------------------------------------------------


def random_economy(seed: int, n_users: int = 6, n_platforms: int = 2, n_adv: int = 2, p_uu: float = 0.3,
                   p_pay: float = 0.3, zero_weights: bool = True) -> pd.DataFrame:
    """Advertisers -> platforms (spend, fee), users -> platforms (several
    kinds, duplicates, some zero weights), users -> users (engagement,
    self-loops included), platforms -> users (pay)."""
    rng = np.random.default_rng(seed)
    U = [f"u{i}" for i in range(n_users)]
    P = [f"p{i}" for i in range(n_platforms)]
    A = [f"a{i}" for i in range(n_adv)]
    wchoice = [0.0, 0.5, 1.0, 2.0, 3.0] if zero_weights else [0.5, 1.0, 2.0, 3.0]
    rows = []
    for a in A:
        for p in P:
            if rng.random() < 0.7:
                rows.append((a, p, str(rng.choice(REVENUE)), 1.0, float(rng.integers(1, 200))))
    if not any(r[2] in REVENUE for r in rows):
        rows.append((A[0], P[0], "spend", 1.0, 100.0))
    for u in U:
        for p in P:
            if rng.random() < 0.6:
                for _ in range(int(rng.integers(1, 3))):
                    rows.append((u, p, str(rng.choice(CONTRIB_KINDS)), float(rng.choice(wchoice)), np.nan))
    for u in U:
        for v in U:
            if rng.random() < p_uu:
                rows.append((u, v, str(rng.choice(ENGAGE_KINDS)), float(rng.choice(wchoice)), np.nan))
    for p in P:
        for u in U:
            if rng.random() < p_pay:
                rows.append((p, u, "pay", 1.0, float(rng.integers(1, 30))))
    order = rng.permutation(len(rows))
    df = pd.DataFrame([rows[i] for i in order], columns=["src", "dst", "kind", "weight", "amount"])
    return df


def as_dict(result, col="attributed") -> dict:
    t = result.nodes
    return dict(zip(t["node"].to_pylist(), t[col].to_pylist()))


def assert_close(got: dict, want: dict, total: float, rel: float = 1e-9):
    assert set(got) == set(want), (sorted(set(got) ^ set(want)))
    for k in want:
        assert abs(got[k] - want[k]) <= rel * max(total, 1e-300) + 1e-12, (k, got[k], want[k])


def example_paths(tmp_dir) -> tuple[str, str]:
    """The bundled example (edges, nodes), or a small generated economy written
    to ``tmp_dir`` when the example is not there yet."""
    data = os.path.join(REPO, "graphlabor", "data")
    e, n = os.path.join(data, "example_edges.parquet"), os.path.join(data, "example_nodes.parquet")
    if os.path.exists(e) and os.path.exists(n):
        return e, n
    df = random_economy(7, n_users=40, n_platforms=3, n_adv=4, p_uu=0.05)
    base = pd.Timestamp("2024-01-01", tz="UTC")
    rng = np.random.default_rng(7)
    df["timestamp"] = base + pd.to_timedelta(rng.integers(0, 365 * 86400, len(df)), unit="s")
    roles = roles_of_frame(df)
    nodes = pd.DataFrame({"id": sorted(roles)})
    nodes["role"] = [roles[v] for v in nodes["id"]]
    nodes["family"] = [("social" if v.endswith(("0", "1", "2")) else "microwork") if roles[v] == "user" else None for v in nodes["id"]]
    nodes["hours"] = [float(rng.integers(1, 50)) if roles[v] == "user" else None for v in nodes["id"]]
    e, n = os.path.join(str(tmp_dir), "example_edges.parquet"), os.path.join(str(tmp_dir), "example_nodes.parquet")
    df.to_parquet(e)
    nodes.to_parquet(n)
    return e, n


def nodes_roles_values(nd: pd.DataFrame) -> tuple[dict, dict]:
    """Declared roles and injected values of a nodes table."""
    roles = {k: v for k, v in zip(nd["id"], nd["role"]) if isinstance(v, str)} if "role" in nd.columns else {}
    value = {k: float(v) for k, v in zip(nd["id"], nd["value"]) if pd.notna(v)} if "value" in nd.columns else {}
    return roles, value


def doc_table(title: str, strip: str = "") -> pd.DataFrame:
    """The markdown table that follows ``<!-- worked: title -->`` in docs/model.md, as text cells
    (each trimmed, then stripped of the characters in ``strip``, e.g. "`")."""
    import re

    with open(DOC, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"<!-- worked: " + re.escape(title) + r" -->\s*\n((?:\|.*\n)+)", text)
    assert m, f"docs/model.md has no table marked 'worked: {title}'"
    lines = [ln.strip().strip("|").split("|") for ln in m.group(1).strip().splitlines()]
    head = [c.strip() for c in lines[0]]
    return pd.DataFrame([[c.strip().strip(strip) for c in ln] for ln in lines[2:]], columns=head)
