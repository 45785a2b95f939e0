"""Breakdowns against independent computations.

- ``via_<kind>`` columns: against the oracle's own last-hop split (built from
  its ``T`` and its sparse solve), against hand-worked numbers, and they add up
  to ``attributed``;
- the platform table: against pandas group-bys on the raw edges;
- the group table: Gini against the mean-absolute-difference formula (which
  is R's ``ineq::Gini``) and published values, top-10% share by sorting;
- hours: per-hour columns and the minimum-wage flag by hand.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphlabor
from conftest import cli
from examples import DUPLICATE_KINDS, HYPO, REVENUE, TIGHT, WORKED_EDGES, as_dict, example_paths, nodes_roles_values, random_economy
from reference import Oracle, engagement_edges, one_hop, roles_of_frame
from graphlabor.errors import ParameterError


def via_frame(result) -> pd.DataFrame:
    df = result.to_pandas().set_index("node")
    return df[[c for c in df.columns if c.startswith("via_")]]


# --------------------------------------------------------------------------
# via_<kind>
# --------------------------------------------------------------------------


def shapley_via_oracle(df, *, damping, platform_share=0.0, kind_weights=None) -> dict:
    """{user: {kind: value}}: the self part split like the one-hop value, and
    each engagement edge's two halves under the engagement's kind."""
    orc = Oracle.run(df, damping=0.0, platform_share=platform_share, kind_weights=kind_weights)
    direct = orc.via()
    edges = engagement_edges(orc)
    W: dict = {}
    for u, _, w, _ in edges:
        W[u] = W.get(u, 0.0) + w
    h = one_hop(orc, platform_share)
    out = {}
    for v in orc.ids:
        factor = (1.0 - damping) if (orc.role[v] == "user" and W.get(v, 0) > 0) else 1.0
        out[v] = {k: factor * val for k, val in direct[v].items()}
    for u, v, w, k in edges:
        half = 0.5 * damping * h[u] * w / W[u]
        for end in (u, v):
            out[end][k] = out[end].get(k, 0.0) + half
    return out


def _check_via(result, want: dict, total: float):
    got = via_frame(result)
    for v, parts in want.items():
        for k, val in parts.items():
            col = "via_injected" if k == "injected" else f"via_{k}"
            assert got.loc[v, col] == pytest.approx(val, abs=1e-9 * total + 1e-12), (v, col)
        for col in got.columns:
            k = "injected" if col == "via_injected" else col[4:]
            if k not in parts:
                assert abs(got.loc[v, col]) <= 1e-9 * total + 1e-12, (v, col)


@HYPO
@given(
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(["propagate", "direct", "shapley"]),
    d=st.sampled_from([0.0, 0.6, 0.85]),
    ps=st.sampled_from([0.0, 0.3]),
)
def test_via_columns_sum_to_attributed_and_match_the_oracle(seed, method, d, ps):
    df = random_economy(seed, n_users=10, n_platforms=3, n_adv=2, p_uu=0.3)
    kw = {"click": 2.0, "like": 0.5, "annotate": 0.0}
    r = graphlabor.attribute(df, method=method, damping=d, platform_share=ps, kind_weights=kw, **TIGHT)
    t = r.to_pandas().set_index("node")
    via = via_frame(r)
    total = r.summary.total_injected
    assert np.allclose(via.sum(axis=1).to_numpy(), t["attributed"].to_numpy(), rtol=0, atol=1e-12 * max(total, 1))
    # one column per contribution kind present, none for revenue or pay kinds
    contribution = sorted(set(df["kind"]) - set(REVENUE) - {"pay"})
    assert sorted(via.columns) == sorted([f"via_{k}" for k in contribution] + ["via_injected"])
    if method == "shapley":
        want = shapley_via_oracle(df, damping=d, platform_share=ps, kind_weights=kw)
    else:
        orc = Oracle.run(df, damping=d if method == "propagate" else 0.0, platform_share=ps, kind_weights=kw)
        want = orc.via()
    _check_via(r, want, total)


def test_via_hand_worked():
    # A pays P 100; a clicked P (w 2), b clicked P (w 1); a viewed b's post
    # and liked its own (self-loop, w 1); damping 0.8; platform_share 0.1;
    # b has a node value of 10.
    df = pd.DataFrame({
        "src": ["A", "a", "b", "a", "a"],
        "dst": ["P", "P", "P", "b", "a"],
        "kind": ["spend", "click", "click", "view", "like"],
        "weight": 1.0,
        "amount": [100.0, None, None, None, None],
    })
    df.loc[1, "weight"] = 2.0
    nodes = pd.DataFrame({"id": ["b"], "value": [10.0]})
    r = graphlabor.attribute(df, nodes, damping=0.8, platform_share=0.1, self_loops="keep", **TIGHT)
    # P keeps 10 (via_injected) and passes 90: a 60, b 30.
    # a: x_a = 60 + 0.8 * 0.5 * x_a (its self-loop) -> x_a = 100; keeps 20:
    #    via_click 0.2 * 60 = 12, via_like 0.2 * 40 = 8; passes 40 to b.
    # b: holds 10 + 30 + 40 = 80 and acts on no user: keeps all:
    #    via_injected 10, via_click 30, via_view 40.
    via = via_frame(r)
    assert via.loc["P"].to_dict() == pytest.approx({"via_click": 0, "via_view": 0, "via_like": 0, "via_injected": 10.0})
    assert via.loc["a"].to_dict() == pytest.approx({"via_click": 12.0, "via_view": 0, "via_like": 8.0, "via_injected": 0})
    assert via.loc["b"].to_dict() == pytest.approx({"via_click": 30.0, "via_view": 40.0, "via_like": 0, "via_injected": 10.0})
    assert as_dict(r) == pytest.approx({"A": 0, "P": 10.0, "a": 20.0, "b": 80.0})


def test_via_worked_example_by_method():
    # the docs' worked example: P passes 50, 25, 25; u1 passes 42.5 (view) to u2
    prop = via_frame(graphlabor.attribute(WORKED_EDGES))
    assert prop.loc["u1"].to_dict() == pytest.approx({"via_click": 7.5, "via_post": 0, "via_view": 0, "via_injected": 0})
    assert prop.loc["u2"].to_dict() == pytest.approx({"via_click": 0, "via_post": 25, "via_view": 42.5, "via_injected": 0})
    assert prop.loc["u3"].to_dict() == pytest.approx({"via_click": 0, "via_post": 0, "via_view": 25, "via_injected": 0})
    shap = via_frame(graphlabor.attribute(WORKED_EDGES, method="shapley"))
    # u1: self part 7.5 (click) + half of the 42.5 view edge; u2: 25 (post) + the other half
    assert shap.loc["u1"].to_dict() == pytest.approx({"via_click": 7.5, "via_post": 0, "via_view": 21.25, "via_injected": 0})
    assert shap.loc["u2"].to_dict() == pytest.approx({"via_click": 0, "via_post": 25, "via_view": 21.25, "via_injected": 0})


def test_no_breakdown_drops_the_via_columns_only():
    # duplicate edges of different kinds between the same nodes: the one case where
    # summing flow weights kind by kind could change the last bits of attributed
    full = graphlabor.attribute(DUPLICATE_KINDS, damping=0.85, tol=1e-14)
    bare = graphlabor.attribute(DUPLICATE_KINDS, damping=0.85, tol=1e-14, breakdown=False)
    assert not [c for c in bare.nodes.column_names if c.startswith("via_")]
    assert bare.nodes["attributed"].to_numpy().tobytes() == full.nodes["attributed"].to_numpy().tobytes()
    assert [c for c in full.nodes.column_names if not c.startswith("via_")] == bare.nodes.column_names


# --------------------------------------------------------------------------
# platforms
# --------------------------------------------------------------------------


def platform_oracle(df: pd.DataFrame, *, platform_share=0.0, kind_weights=None, value=None, roles=None) -> pd.DataFrame:
    """The platform table from pandas group-bys on the raw edges."""
    kw = kind_weights or {}
    role = roles_of_frame(df, list(value or {}) + list(roles or {}))
    role.update(roles or {})
    plats = sorted(v for v, r in role.items() if r == "platform")
    rev = df[df["kind"].isin(REVENUE)].groupby("dst")["amount"].sum()
    pay = df[df["kind"] == "pay"].groupby("src")["amount"].sum()
    con = df[~df["kind"].isin(REVENUE + ("pay",))].copy()
    con["w"] = con["weight"] * con["kind"].map(lambda k: kw.get(k, 1.0))
    con = con[(con["w"] > 0) & con["src"].map(lambda v: role[v] == "user") & con["dst"].map(lambda v: role[v] == "platform")]
    contributors = con.groupby("dst")["src"].nunique()
    if "context" in df.columns:
        # with contexts (docs/model.md, section 2) P passes value to the users whose contributions carry
        # a context that has revenue, and to all of its users when its pool gets revenue (revenue
        # without a context, or for a context that no contribution matches)
        r = df[df["kind"].isin(REVENUE)]
        has = con[con["context"].notna()]
        paid_pairs = set(zip(r["dst"][r["context"].notna()], r["context"][r["context"].notna()]))
        matched = has[[(d, c) in paid_pairs for d, c in zip(has["dst"], has["context"])]]
        with_contrib = set(zip(has["dst"], has["context"]))
        pooled = set(r["dst"][r["context"].isna()]) | {d for d, c in paid_pairs if (d, c) not in with_contrib}
        contributors = pd.concat([matched[["dst", "src"]], con[con["dst"].isin(pooled)][["dst", "src"]]]) \
            .drop_duplicates().groupby("dst")["src"].nunique()
    rows = []
    for p in plats:
        revenue = float(rev.get(p, 0.0))
        injected = revenue + float((value or {}).get(p, 0.0))
        has = contributors.get(p, 0) > 0
        kept = platform_share * injected if has else injected
        paid_out = float(pay.get(p, 0.0))
        passed = injected - kept
        rows.append({
            "platform": p, "revenue": revenue, "paid_out": paid_out, "kept": kept, "passed_to_users": passed,
            "capture": revenue - paid_out, "capture_rate": (revenue - paid_out) / revenue if revenue > 0 else None,
            # a platform that keeps everything passes value to nobody
            "contributors": int(contributors.get(p, 0)) if platform_share < 1 else 0, "users_unpaid": passed - paid_out,
        })
    return pd.DataFrame(rows)


def _check_platforms(got: pd.DataFrame, want: pd.DataFrame):
    assert got["platform"].tolist() == want["platform"].tolist()
    for c in want.columns[1:]:
        for g, w, p in zip(got[c], want[c], want["platform"]):
            if w is None or (isinstance(w, float) and math.isnan(w)):
                assert g is None or pd.isna(g), (p, c)
            else:
                assert g == pytest.approx(w, rel=1e-12, abs=1e-9), (p, c)


@HYPO
@given(seed=st.integers(0, 2**32 - 1), ps=st.sampled_from([0.0, 0.25, 1.0]), method=st.sampled_from(["propagate", "direct", "shapley"]))
def test_platform_table_against_pandas(seed, ps, method):
    df = random_economy(seed, n_users=12, n_platforms=4, n_adv=3, p_uu=0.2)
    # a platform nobody acted on, and one that only pays
    extra = pd.DataFrame({"src": ["a0", "pz"], "dst": ["px", "u0"], "kind": ["spend", "pay"], "weight": 1.0, "amount": [7.0, 3.0]})
    df = pd.concat([df, extra], ignore_index=True)
    kw = {"click": 0.0, "view": 2.0}
    r = graphlabor.attribute(df, method=method, platform_share=ps, kind_weights=kw)
    _check_platforms(r.platforms.to_pandas(), platform_oracle(df, platform_share=ps, kind_weights=kw))
    # the platforms' rows of the node table agree
    kept = as_dict(r)
    for row in r.platforms.to_pylist():
        assert row["kept"] == pytest.approx(kept[row["platform"]], rel=1e-12, abs=1e-12)


def test_platform_table_worked_example():
    got = graphlabor.attribute(WORKED_EDGES, platform_share=0.2).platforms.to_pylist()
    assert got == [pytest.approx({
        "platform": "P", "revenue": 100.0, "paid_out": 10.0, "kept": 20.0, "passed_to_users": 80.0,
        "capture": 90.0, "capture_rate": 0.9, "contributors": 3, "users_unpaid": 70.0,
    })]


# --------------------------------------------------------------------------
# groups
# --------------------------------------------------------------------------


def gini_mad(x) -> float:
    """Gini by the mean absolute difference: sum_i sum_j |x_i - x_j| / (2 n^2 mean).

    This is R's ``ineq::Gini(x)`` (``corr = FALSE``).
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n == 0 or x.sum() == 0:
        return float("nan")
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean()))


def top10(x) -> float:
    x = sorted(map(float, x), reverse=True)
    k = max(1, math.ceil(len(x) / 10))
    return sum(x[:k]) / sum(x) if sum(x) > 0 else float("nan")


def test_gini_known_values():
    from graphlabor.breakdowns import gini

    # ineq's documentation example: ineq(x) = 0.4620911
    x = [541, 1463, 2445, 3438, 4437, 5401, 6392, 8304, 11904, 22261]
    assert gini_mad(x) == pytest.approx(0.4620911, abs=5e-8)
    assert gini(x) == pytest.approx(0.4620911, abs=5e-8)
    assert gini([1, 2, 3, 4, 5]) == pytest.approx(4 / 15)  # ineq::Gini(1:5) = 0.2666667
    assert gini([0, 0, 0, 10]) == pytest.approx(0.75)       # (n - 1) / n when one has all
    assert gini([3, 3, 3]) == 0.0
    assert gini([5]) == 0.0
    assert math.isnan(gini([0, 0]))
    rng = np.random.default_rng(0)
    for _ in range(20):
        x = rng.pareto(1.5, int(rng.integers(1, 60)))
        assert gini(x) == pytest.approx(gini_mad(x), rel=1e-12, abs=1e-15)


def _group_oracle(out: pd.DataFrame, column: str) -> pd.DataFrame:
    users = out[out["role"] == "user"]
    rows = []
    for key, g in users.groupby(column, dropna=False, sort=True):
        a, p = g["attributed"].to_numpy(), g["paid"].to_numpy()
        rows.append({
            column: None if pd.isna(key) else key, "users": len(g), "attributed": a.sum(), "paid": p.sum(),
            "unpaid": a.sum() - p.sum(), "unpaid_share": (a.sum() - p.sum()) / a.sum() if a.sum() > 0 else float("nan"),
            "gini_attributed": gini_mad(a), "gini_paid": gini_mad(p), "top10_share": top10(a),
        })
    return pd.DataFrame(rows)


def _nodes_with_groups(df, seed):
    rng = np.random.default_rng(seed)
    roles = roles_of_frame(df)
    ids = sorted(roles)
    fam = [str(rng.choice(["social", "microwork", "ondemand"])) if roles[v] == "user" and rng.random() > 0.1 else None for v in ids]
    hours = [float(rng.choice([0.0, 2.0, 5.0, 40.0])) if rng.random() > 0.1 else None for v in ids]
    return pd.DataFrame({"id": ids, "family": fam, "country": [str(rng.choice(["FR", "KE", "PH"])) for _ in ids], "hours": hours})


@HYPO
@given(seed=st.integers(0, 2**32 - 1), column=st.sampled_from(["family", "country"]), method=st.sampled_from(["propagate", "shapley"]))
def test_group_table_against_pandas(seed, column, method):
    df = random_economy(seed, n_users=40, n_platforms=3, n_adv=3, p_uu=0.08, p_pay=0.4)
    nodes = _nodes_with_groups(df, seed)
    r = graphlabor.attribute(df, nodes, method=method, group_by=column)
    got = r.groups.to_pandas()
    want = _group_oracle(r.to_pandas(), column)
    key = lambda s: [(v is None or (isinstance(v, float) and math.isnan(v)), "" if v is None or isinstance(v, float) else v) for v in s]  # noqa: E731
    got = got.iloc[np.argsort([str(k) for k in key(got[column])], kind="stable")].reset_index(drop=True)
    want = want.iloc[np.argsort([str(k) for k in key(want[column])], kind="stable")].reset_index(drop=True)
    assert [None if pd.isna(v) else v for v in got[column]] == [None if pd.isna(v) else v for v in want[column]]
    for c in want.columns[1:]:
        np.testing.assert_allclose(got[c].to_numpy(float), want[c].to_numpy(float), rtol=1e-12, atol=1e-9, equal_nan=True, err_msg=c)
    # attributed and paid add up to the users' totals
    assert got["attributed"].sum() == pytest.approx(r.summary.attributed_users, rel=1e-12)
    assert got["paid"].sum() == pytest.approx(r.summary.paid, rel=1e-12)
    assert got["users"].sum() == r.summary.users


def test_group_table_hand_worked():
    # ten social users, one of whom holds half; one micro-worker
    n = 10
    df = pd.DataFrame({
        "src": ["A"] + [f"s{i}" for i in range(n)] + ["C", "w"],
        "dst": ["P"] + ["P"] * n + ["Q", "Q"],
        "kind": ["spend"] + ["click"] * n + ["fee", "annotate"],
        "weight": [1.0] + [9.0] + [1.0] * (n - 1) + [1.0, 1.0],
        "amount": [180.0] + [None] * n + [30.0, None],
    })
    df = pd.concat([df, pd.DataFrame({"src": ["Q"], "dst": ["w"], "kind": ["pay"], "weight": [1.0], "amount": [12.0]})], ignore_index=True)
    nodes = pd.DataFrame({"id": [f"s{i}" for i in range(n)] + ["w"], "family": ["social"] * n + ["microwork"]})
    g = graphlabor.attribute(df, nodes, group_by="family").groups.to_pandas().set_index("family")
    # social: s0 gets 9/18 of 180 = 90, the nine others 10 each
    assert g.loc["social", "users"] == 10
    assert g.loc["social", "attributed"] == pytest.approx(180.0)
    assert g.loc["social", "top10_share"] == pytest.approx(0.5)
    # Gini: sum |xi - xj| = 2 * 9 * 80 = 1440; / (2 * 100 * 18) = 0.4
    assert g.loc["social", "gini_attributed"] == pytest.approx(0.4)
    assert math.isnan(g.loc["social", "gini_paid"])  # nobody paid: 0 / 0, as ineq
    assert g.loc["microwork"].to_dict() == pytest.approx({
        "users": 1, "attributed": 30.0, "paid": 12.0, "unpaid": 18.0, "unpaid_share": 0.6,
        "gini_attributed": 0.0, "gini_paid": 0.0, "top10_share": 1.0,
    })


def test_group_by_with_periods_groups_each_period():
    df = pd.DataFrame({
        "src": ["A", "u", "v", "A", "u"],
        "dst": ["P", "P", "P", "P", "P"],
        "kind": ["spend", "click", "click", "spend", "click"],
        "weight": 1.0,
        "amount": [10.0, None, None, 6.0, None],
        "timestamp": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-02-02", "2024-02-03"], utc=True),
    })
    nodes = pd.DataFrame({"id": ["u", "v"], "family": ["x", "y"]})
    g = graphlabor.attribute(df, nodes, period="month", group_by="family").groups.to_pandas()
    got = {(str(p), f): a for p, f, a in zip(g["period"], g["family"], g["attributed"])}
    assert got == pytest.approx({("2024-01-01", "x"): 5.0, ("2024-01-01", "y"): 5.0, ("2024-02-01", "x"): 6.0, ("2024-02-01", "y"): 0.0})


def test_group_by_unknown_column_is_a_parameter_error():
    nodes = pd.DataFrame({"id": ["u1"], "family": ["x"]})
    with pytest.raises(ParameterError, match="country"):
        graphlabor.attribute(WORKED_EDGES, nodes, group_by="country")
    with pytest.raises(ParameterError):
        graphlabor.attribute(WORKED_EDGES, group_by="family")


# --------------------------------------------------------------------------
# hours and the minimum wage
# --------------------------------------------------------------------------


def test_hours_and_min_wage_by_hand():
    # worked example: u1 7.5 attributed, 10 paid; u2 67.5; u3 25
    nodes = pd.DataFrame({"id": ["u1", "u2", "u3", "P"], "hours": [5.0, 13.5, 0.0, 2.0]})
    r = graphlabor.attribute(WORKED_EDGES, nodes, min_wage=5.0)
    t = r.to_pandas().set_index("node")
    assert t.loc["u1", "attributed_per_hour"] == pytest.approx(1.5) and t.loc["u1", "paid_per_hour"] == pytest.approx(2.0)
    assert t.loc["u2", "attributed_per_hour"] == pytest.approx(5.0) and t.loc["u2", "paid_per_hour"] == 0.0
    assert pd.isna(t.loc["u3", "attributed_per_hour"]) and pd.isna(t.loc["u3", "paid_per_hour"])  # 0 hours
    assert pd.isna(t.loc["A", "attributed_per_hour"])  # no hours
    assert t.loc["P", "attributed_per_hour"] == 0.0
    # u2 produces exactly the minimum wage per hour ("at or above") and is paid nothing
    flags = t["below_min_wage"].to_dict()
    assert flags == {"A": False, "P": False, "u1": False, "u2": True, "u3": False}
    assert r.summary.below_min_wage == 1
    # a lower wage: u1 produces 1.5/h (at the wage) but is paid 2/h: not flagged
    r2 = graphlabor.attribute(WORKED_EDGES, nodes, min_wage=1.5)
    assert r2.to_pandas().set_index("node")["below_min_wage"].to_dict() == {"A": False, "P": False, "u1": False, "u2": True, "u3": False}
    # pay per hour exactly at the wage is not below it
    r3 = graphlabor.attribute(WORKED_EDGES, nodes, min_wage=2.0)
    t3 = r3.to_pandas().set_index("node")
    assert not t3.loc["u1", "below_min_wage"] and t3.loc["u2", "below_min_wage"]
    assert r3.summary.below_min_wage == 1
    # without --min-wage: per-hour columns, no flag
    t4 = graphlabor.attribute(WORKED_EDGES, nodes).to_pandas()
    assert "below_min_wage" not in t4.columns and "attributed_per_hour" in t4.columns


@HYPO
@given(seed=st.integers(0, 2**32 - 1), wage=st.sampled_from([0.0, 0.5, 3.0, 20.0]))
def test_min_wage_flags_against_pandas(seed, wage):
    df = random_economy(seed, n_users=30, n_platforms=3, n_adv=3, p_uu=0.1, p_pay=0.5)
    nodes = _nodes_with_groups(df, seed)
    r = graphlabor.attribute(df, nodes, min_wage=wage)
    t = r.to_pandas().set_index("node")
    h = nodes.set_index("id")["hours"].reindex(t.index)
    ok = h.notna() & (h > 0)
    aph = t["attributed"] / h
    pph = t["paid"] / h
    want = ok & (t["role"] == "user") & (aph >= wage) & (pph < wage)
    assert t["below_min_wage"].astype(bool).to_dict() == want.to_dict()
    assert r.summary.below_min_wage == int(want.sum())
    np.testing.assert_allclose(t.loc[ok, "attributed_per_hour"].to_numpy(float), aph[ok].to_numpy(float), rtol=1e-12)
    assert t.loc[~ok, "paid_per_hour"].isna().all()


@pytest.mark.parametrize("name", ["Hours", " HOURS "])
def test_hours_column_in_any_letter_case(tmp_path, run_cli, name):
    """``hours`` is matched like the other optional columns (``role``, ``value``): any case, spaces trimmed."""
    nodes = pd.DataFrame({"id": ["u1", "u2", "u3", "P"], name: [5.0, 13.5, 0.0, 2.0]})
    t = graphlabor.attribute(WORKED_EDGES, nodes, min_wage=5.0).to_pandas().set_index("node")
    # worked example by hand: u1 7.5 attributed over 5 h, paid 10; u2 67.5 over 13.5 h, paid nothing
    assert t.loc["u1", "attributed_per_hour"] == pytest.approx(1.5) and t.loc["u2", "attributed_per_hour"] == pytest.approx(5.0)
    assert t["below_min_wage"].to_dict() == {"A": False, "P": False, "u1": False, "u2": True, "u3": False}
    assert "hours" in t.columns and name not in t.columns
    path = tmp_path / "nodes.csv"
    nodes.to_csv(path, index=False)
    edges = tmp_path / "edges.parquet"
    WORKED_EDGES.to_parquet(edges, index=False)
    proc = run_cli("attribute", edges, "--nodes", path, "--min-wage", "5", "--summary-json", tmp_path / "s.json", "-q")
    assert proc.returncode == 0 and '"below_min_wage": 1' in (tmp_path / "s.json").read_text()
    both = nodes.assign(hours=1.0)
    with pytest.raises(graphlabor.InputError, match="could both be the hours column"):
        graphlabor.attribute(WORKED_EDGES, both)


def test_min_wage_errors():
    with pytest.raises(ParameterError, match="hours"):
        graphlabor.attribute(WORKED_EDGES, min_wage=5.0)
    nodes = pd.DataFrame({"id": ["u1"], "hours": [1.0]})
    with pytest.raises(ParameterError):
        graphlabor.attribute(WORKED_EDGES, nodes, min_wage=-1.0)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def test_cli_breakdown_options_on_example(tmp_path):
    edges, nodes = example_paths(tmp_path)
    df = pq.read_table(edges).to_pandas()
    nd = pq.read_table(nodes).to_pandas()
    roles, value = nodes_roles_values(nd)
    out, plat, groups = tmp_path / "n.parquet", tmp_path / "p.csv", tmp_path / "g.parquet"
    col = "family" if "family" in nd.columns else nd.columns[-1]
    args = ["attribute", edges, "--nodes", nodes, "-o", out, "--platforms", plat, "--group-by", col, "--groups", groups, "-q"]
    wage = "--min-wage" if "hours" in nd.columns else None
    if wage:
        args += [wage, "3"]
    cli(*args)
    t = pq.read_table(out).to_pandas()
    via = [c for c in t.columns if c.startswith("via_")]
    p = pd.read_csv(plat)
    want = platform_oracle(df, value=value, roles=roles)
    p["platform"] = p["platform"].astype(want["platform"].dtype)
    p["capture_rate"] = p["capture_rate"].astype(object).where(p["capture_rate"].notna(), None)
    _check_platforms(p, want)
    g = pq.read_table(groups).to_pandas()
    og = _group_oracle(t, col)
    assert g["users"].sum() == og["users"].sum()
    assert sorted(g["attributed"].round(6)) == sorted(og["attributed"].round(6))
    assert sorted(g["gini_attributed"].fillna(-1).round(9)) == sorted(og["gini_attributed"].fillna(-1).round(9))
    if wage:
        assert "below_min_wage" in t.columns
    # --no-breakdown: same attributed, no via columns
    out2 = tmp_path / "bare.parquet"
    cli("attribute", edges, "--nodes", nodes, "-o", out2, "--no-breakdown", "-q")
    t2 = pq.read_table(out2).to_pandas()
    assert not [c for c in t2.columns if c.startswith("via_")]
    assert np.array_equal(t2["attributed"].to_numpy(), t["attributed"].to_numpy())
    # the parts add up to attributed, at the default tolerance too
    assert via
    np.testing.assert_allclose(t[via].sum(axis=1), t["attributed"], rtol=1e-12, atol=1e-12 * t["attributed"].sum())


def test_via_sums_to_attributed_at_the_default_tolerance():
    # a cycle of users that each pass 0.85: the solver stops with about
    # 1e-10 of the value still in flight; the via_* parts must still add up
    # to what each node keeps (not to a step further along)
    n = 5
    df = pd.DataFrame({"src": [f"u{i}" for i in range(n)], "dst": [f"u{(i + 1) % n}" for i in range(n)],
                       "kind": "like", "weight": 1.0, "amount": None})
    nodes = pd.DataFrame({"id": ["u0"], "value": [100.0]})
    for method in ("propagate", "shapley"):
        t = graphlabor.attribute(df, nodes, method=method).to_pandas().set_index("node")
        parts = t["via_like"] + t["via_injected"]
        for v in t.index:
            assert parts[v] == pytest.approx(t.loc[v, "attributed"], rel=1e-12), (method, v, parts[v] - t.loc[v, "attributed"])


def test_cli_group_by_prints_and_groups_needs_group_by(tmp_path):
    e = tmp_path / "e.csv"
    WORKED_EDGES.to_csv(e, index=False)
    n = tmp_path / "n.csv"
    pd.DataFrame({"id": ["u1", "u2", "u3"], "family": ["social", "social", "microwork"], "hours": [5.0, 13.5, 1.0]}).to_csv(n, index=False)
    proc = cli("attribute", e, "--nodes", n, "--group-by", "family", "--min-wage", "5")
    assert "users by family" in proc.stdout and "microwork" in proc.stdout
    assert "below minimum wage" in proc.stdout
    proc = cli("attribute", e, "--groups", tmp_path / "g.csv", check=False)
    assert proc.returncode == 2 and "--group-by" in proc.stderr


def test_cli_every_new_option_on_generated_data(tmp_path):
    """`graphlabor generate` -> attribute with every breakdown option at once (period, group_by,
    min_wage, platforms), and explain; outputs checked against pandas on the raw files."""
    from reference import period_start

    e, n = tmp_path / "g.parquet", tmp_path / "g_nodes.parquet"
    cli("generate", e, "--nodes", n, "--edges", "3000", "--seed", "5", "--ids", "int", "-q")
    df = pq.read_table(e).to_pandas()
    nd = pq.read_table(n).to_pandas()
    out, plat, groups = tmp_path / "out.parquet", tmp_path / "plat.csv", tmp_path / "groups.csv"
    cli("attribute", e, "--nodes", n, "--method", "shapley", "--half-life", "30d", "--as-of", "2024-12-31",
        "--period", "quarter", "--platforms", plat, "--group-by", "family", "--groups", groups, "--min-wage", "2",
        "--kind-weight", "post=3", "-o", out, "-q")
    t = pq.read_table(out).to_pandas()
    keys = df["timestamp"].map(lambda ts: period_start(ts.to_pydatetime(), "quarter"))
    rev = df[df["kind"].isin(REVENUE)]
    rev_q = rev.groupby(keys[rev.index])["amount"].sum()
    got_q = t.groupby("period")["attributed"].sum()
    assert sorted(got_q.index) == sorted(set(keys))
    for q in got_q.index:
        assert got_q[q] == pytest.approx(rev_q.get(q, 0.0), rel=1e-9, abs=1e-9)
    # per-period paid equals the pay edges of that period
    pay = df[df["kind"] == "pay"]
    paid_q = pay.groupby([keys[pay.index], pay["dst"]])["amount"].sum()
    for row in t[t["paid"] > 0].itertuples():
        assert row.paid == pytest.approx(paid_q[(row.period, row.node)], rel=1e-12)
    assert {c for c in t.columns if c.startswith("via_")} >= {"via_view", "via_ride", "via_train", "via_injected"}
    # the minimum-wage flag by hand
    h = nd.set_index("id")["hours"].reindex(t["node"]).to_numpy()
    ok = np.isfinite(h) & (h > 0)
    want = ok & (t["role"] == "user").to_numpy() & (t["attributed"].to_numpy() / np.where(ok, h, 1) >= 2) \
        & (t["paid"].to_numpy() / np.where(ok, h, 1) < 2)
    assert t["below_min_wage"].to_numpy(bool).tolist() == want.tolist()
    # platforms: revenue and paid out per period and platform
    p = pd.read_csv(plat, parse_dates=False)
    rev_pq = rev.groupby([keys[rev.index], rev["dst"]])["amount"].sum()
    pay_pq = pay.groupby([keys[pay.index], pay["src"]])["amount"].sum()
    for row in p.itertuples():
        q = pd.Timestamp(row.period).date()
        assert row.revenue == pytest.approx(rev_pq.get((q, row.platform), 0.0), rel=1e-12, abs=1e-12)
        assert row.paid_out == pytest.approx(pay_pq.get((q, row.platform), 0.0), rel=1e-12, abs=1e-12)
        assert row.capture == pytest.approx(row.revenue - row.paid_out, abs=1e-9)
    # groups: per period and family, users and attributed from the node table
    g = pd.read_csv(groups)
    users = t[t["role"] == "user"]
    for row in g.itertuples():
        sel = users[(users["period"] == pd.Timestamp(row.period).date()) & (users["family"] == row.family)]
        assert row.users == len(sel)
        assert row.attributed == pytest.approx(sel["attributed"].sum(), rel=1e-9, abs=1e-9)
        assert row.gini_attributed == pytest.approx(gini_mad(sel["attributed"]), rel=1e-9, abs=1e-12, nan_ok=True)
    # explain an integer id with the same options (without --period)
    top = int(users.sort_values("attributed").iloc[-1]["node"])
    doc = json.loads(cli("explain", e, str(top), "--nodes", n, "--method", "direct", "--half-life", "30d", "--json").stdout)
    assert doc["node"] == top
    for key in ("by_payer", "by_platform", "by_kind"):
        assert math.fsum(v for _, v in doc[key]) == pytest.approx(doc["attributed"], rel=1e-12), key
