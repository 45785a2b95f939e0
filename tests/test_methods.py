"""The three attribution methods against independent computations.

Nothing here trusts graphlabor's own output. The oracles (in ``reference.py``)
are written from the specification (docs/model.md):

- ``reference.Oracle``: roles inferred by the spec's rules, the value-flow
  matrix ``T`` built edge by edge, and ``(I - T) x = s`` solved directly with
  ``scipy.sparse.linalg.spsolve`` (``propagate``);
- ``reference.one_hop``: the platforms' split by hand, with loops over the
  edges (``direct``);
- ``reference.shapley_oracle``: the Shapley value of the induced-subgraph
  game, averaged over every permutation of the users (``shapley``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse.linalg import spsolve

import graphlabor
from conftest import cli
from examples import HYPO, REVENUE, TIGHT, WORKED_EDGES, as_dict, assert_close, doc_table, example_paths, nodes_roles_values, random_economy
from reference import Oracle, one_hop, shapley_oracle

# --------------------------------------------------------------------------
# direct
# --------------------------------------------------------------------------


def test_direct_hand_worked():
    # A pays P 120; a clicked P twice (w 2 + 1 = 3 after duplicates), b posted
    # once (w 1); a also viewed b's post, which direct ignores.
    df = pd.DataFrame({
        "src": ["A", "a", "a", "b", "a"],
        "dst": ["P", "P", "P", "P", "b"],
        "kind": ["spend", "click", "click", "post", "view"],
        "weight": [1.0, 2.0, 1.0, 1.0, 5.0],
        "amount": [120.0, None, None, None, None],
    })
    r = graphlabor.attribute(df, method="direct")
    got = as_dict(r)
    assert got == pytest.approx({"A": 0.0, "P": 0.0, "a": 90.0, "b": 30.0}, abs=1e-12)
    r = graphlabor.attribute(df, method="direct", platform_share=0.25)
    assert as_dict(r) == pytest.approx({"A": 0.0, "P": 30.0, "a": 67.5, "b": 22.5}, abs=1e-12)
    # the via breakdown: all of a's and b's value arrived through their own kind
    d = r.to_pandas().set_index("node")
    assert d.loc["a", "via_click"] == pytest.approx(67.5) and d.loc["a", "via_view"] == 0
    assert d.loc["P", "via_injected"] == pytest.approx(30.0)


@HYPO
@given(seed=st.integers(0, 2**32 - 1), ps=st.sampled_from([0.0, 0.3, 1.0]), d=st.sampled_from([0.5, 0.85, 0.99]))
def test_direct_is_one_hop_and_propagate_with_damping_zero(seed, ps, d):
    df = random_economy(seed, n_users=8, n_platforms=3, n_adv=3)
    kw = {"click": 2.0, "view": 0.5}
    orc = Oracle.run(df, damping=0.0, platform_share=ps, kind_weights=kw)
    hand = one_hop(orc, ps)
    total = float(orc.s.sum())
    direct = graphlabor.attribute(df, method="direct", damping=d, platform_share=ps, kind_weights=kw, **TIGHT)
    zero = graphlabor.attribute(df, method="propagate", damping=0.0, platform_share=ps, kind_weights=kw, **TIGHT)
    assert_close(as_dict(direct), hand, total, 1e-12)
    assert_close(as_dict(zero), hand, total, 1e-12)
    assert_close(as_dict(direct), orc.by_id(orc.kept), total, 1e-12)


# --------------------------------------------------------------------------
# propagate
# --------------------------------------------------------------------------


@HYPO
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.sampled_from([0.0, 0.3, 0.85, 0.99]),
    ps=st.sampled_from([0.0, 0.2, 1.0]),
    with_values=st.booleans(),
)
def test_propagate_equals_sparse_direct_solve(seed, d, ps, with_values):
    df = random_economy(seed, n_users=12, n_platforms=3, n_adv=3, p_uu=0.25)
    kw = {"click": 2.0, "post": 3.0, "like": 0.5, "annotate": 0.0}
    nodes = None
    value = None
    if with_values:
        rng = np.random.default_rng(seed)
        ids = sorted(set(df["src"]) | set(df["dst"]))
        value = {v: float(rng.integers(0, 5)) for v in ids if v.startswith("u")}
        nodes = pd.DataFrame({"id": list(value), "value": list(value.values())})
    orc = Oracle.run(df, damping=d, platform_share=ps, kind_weights=kw, value=value)
    r = graphlabor.attribute(df, nodes, damping=d, platform_share=ps, kind_weights=kw, **TIGHT)
    total = float(orc.s.sum())
    assert_close(as_dict(r), orc.by_id(orc.kept), total)
    assert_close(as_dict(r, "paid"), orc.by_id(orc.paid), total)
    assert dict(zip(r.nodes["node"].to_pylist(), r.nodes["role"].to_pylist())) == orc.role
    assert r.summary.total_injected == pytest.approx(total, rel=1e-12)


def test_propagate_langville_style_chain_hand_numbers():
    # A -> P 100; u1 and u2 act on P (1:3); u1 -> u2 -> u3 engagement; damping 0.5
    df = pd.DataFrame({
        "src": ["A", "u1", "u2", "u1", "u2"],
        "dst": ["P", "P", "P", "u2", "u3"],
        "kind": ["spend", "click", "click", "like", "like"],
        "weight": [1.0, 1.0, 3.0, 1.0, 1.0],
        "amount": [100.0, None, None, None, None],
    })
    r = graphlabor.attribute(df, damping=0.5, **TIGHT)
    # P passes 25 to u1, 75 to u2; u1 keeps 12.5, passes 12.5 to u2; u2 holds
    # 87.5, keeps 43.75, passes 43.75 to u3, who keeps it all.
    assert as_dict(r) == pytest.approx({"A": 0, "P": 0, "u1": 12.5, "u2": 43.75, "u3": 43.75}, abs=1e-12)


@pytest.mark.parametrize("with_platform", [False, True])
def test_iterations_follow_log_tol_over_log_damping(with_platform):
    # every user passes exactly `damping`, so the value in flight after k steps
    # is damping^k (times the first hop's 1 when value enters at a platform):
    # the iteration stops at the first k with damping^k < tol
    n = 5
    src = [f"u{i}" for i in range(n)]
    dst = [f"u{(i + 1) % n}" for i in range(n)]
    kind = ["like"] * n
    amount = [None] * n
    nodes = None
    if with_platform:
        src += ["A"] + [f"u{i}" for i in range(n)]
        dst += ["P"] + ["P"] * n
        kind += ["spend"] + ["click"] * n
        amount += [100.0] + [None] * n
    else:
        nodes = pd.DataFrame({"id": ["u0"], "value": [100.0]})
    df = pd.DataFrame({"src": src, "dst": dst, "kind": kind, "weight": 1.0, "amount": amount})
    r = graphlabor.attribute(df, nodes, solver="jacobi")
    d, tol = 0.85, 1e-10
    k = math.ceil(math.log(tol) / math.log(d))
    assert k == 142
    assert r.summary.iterations == k + (1 if with_platform else 0)
    # BiCGSTAB: a few passes (the Krylov space of a 5-cycle is exact within 5
    # steps), the same guarantee on the true residual
    b = graphlabor.attribute(df, nodes)
    assert b.summary.iterations <= 16
    assert b.summary.conservation_error < tol
    assert b.to_pandas()["attributed"].tolist() == pytest.approx(r.to_pandas()["attributed"].tolist(), rel=1e-9)
    # attributed values come from one more step, held = s + T x_k, so the
    # attributed total falls short by the value still in flight after it:
    # damping^(k + 2) < tol
    assert r.summary.conservation_error < tol
    assert r.summary.conservation_error == pytest.approx(d ** (k + 2), rel=1e-3)


# --------------------------------------------------------------------------
# shapley
# --------------------------------------------------------------------------


@HYPO
@given(
    seed=st.integers(0, 2**32 - 1),
    n_users=st.integers(1, 7),
    d=st.sampled_from([0.0, 0.5, 0.85]),
    ps=st.sampled_from([0.0, 0.25]),
)
def test_shapley_equals_bruteforce_over_permutations(seed, n_users, d, ps):
    df = random_economy(seed, n_users=n_users, n_platforms=2, n_adv=2, p_uu=0.4)
    kw = {"view": 0.5, "reply": 2.0}
    want = shapley_oracle(df, damping=d, platform_share=ps, kind_weights=kw)
    r = graphlabor.attribute(df, method="shapley", damping=d, platform_share=ps, kind_weights=kw, **TIGHT)
    total = float(df.loc[df["kind"].isin(REVENUE), "amount"].sum())
    assert_close(as_dict(r), want, total, 1e-12)
    assert sum(as_dict(r).values()) == pytest.approx(total, rel=1e-12)


def test_shapley_hand_worked_with_self_loop():
    # P passes 100 to u (w 1) and v (w 1): h = 50, 50. u engages with v (w 1)
    # and with itself (w 1), damping 0.8: self part 0.2*50 = 10; each edge is
    # worth 0.8*50/2 = 20. The u->v edge is shared (10 each), the self-loop is
    # all u's: u = 10 + 10 + 20 = 40, v = 50 + 10 = 60.
    df = pd.DataFrame({
        "src": ["A", "u", "v", "u", "u"],
        "dst": ["P", "P", "P", "v", "u"],
        "kind": ["spend", "post", "post", "like", "like"],
        "weight": 1.0,
        "amount": [100.0, None, None, None, None],
    })
    r = graphlabor.attribute(df, method="shapley", damping=0.8, self_loops="keep")
    assert as_dict(r) == pytest.approx({"A": 0, "P": 0, "u": 40.0, "v": 60.0}, abs=1e-12)
    want = shapley_oracle(df, damping=0.8, self_loops="keep")
    assert want == pytest.approx({"A": 0, "P": 0, "u": 40.0, "v": 60.0}, abs=1e-12)


def test_shapley_with_node_values():
    # a user's own value is part of its one-hop value
    df = pd.DataFrame({"src": ["u", "v"], "dst": ["v", "w"], "kind": ["like", "like"], "weight": [1.0, 1.0], "amount": [None, None]})
    nodes = pd.DataFrame({"id": ["u", "v", "w"], "value": [10.0, 0.0, 4.0]})
    want = shapley_oracle(df, damping=0.6, value={"u": 10.0, "v": 0.0, "w": 4.0})
    # h = (10, 0, 4); u: self 4, edge u->v worth 6 (3 each); v: nothing to pass
    assert want == pytest.approx({"u": 7.0, "v": 3.0, "w": 4.0})
    r = graphlabor.attribute(df, nodes, method="shapley", damping=0.6)
    assert as_dict(r) == pytest.approx(want, abs=1e-12)


# --------------------------------------------------------------------------
# conservation, every method
# --------------------------------------------------------------------------


@HYPO
@given(
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(["propagate", "direct", "shapley"]),
    d=st.sampled_from([0.0, 0.85, 0.999]),
    ps=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_every_method_conserves_money(seed, method, d, ps):
    df = random_economy(seed, n_users=60, n_platforms=4, n_adv=5, p_uu=0.06)
    total = float(df.loc[df["kind"].isin(REVENUE), "amount"].sum())
    r = graphlabor.attribute(df, method=method, damping=d, platform_share=ps, max_iter=100_000)
    att = np.array(r.nodes["attributed"].to_pylist())
    assert (att >= -1e-12).all()
    assert abs(att.sum() - total) <= 1e-9 * total
    s = r.summary
    assert abs(s.attributed_users + s.kept_platforms + s.kept_elsewhere - total) <= 1e-9 * total
    assert s.params["method"] == method
    # the paid column is money received, whatever the method
    pay = df[df["kind"] == "pay"].groupby("dst")["amount"].sum()
    got_paid = as_dict(r, "paid")
    for v, a in pay.items():
        assert got_paid[v] == pytest.approx(a, rel=1e-12)


def test_methods_order_on_a_chain():
    # one platform, a chain of engagement a -> b -> c: propagate moves value
    # down the chain, direct leaves it where the platform put it, shapley
    # shares each engagement edge between its ends
    df = pd.DataFrame({
        "src": ["A", "a", "b", "c", "a", "b"],
        "dst": ["P", "P", "P", "P", "b", "c"],
        "kind": ["spend", "view", "view", "view", "like", "like"],
        "weight": 1.0,
        "amount": [90.0, None, None, None, None, None],
    })
    d = 0.5
    prop = as_dict(graphlabor.attribute(df, damping=d, **TIGHT))
    direct = as_dict(graphlabor.attribute(df, method="direct", damping=d))
    shap = as_dict(graphlabor.attribute(df, method="shapley", damping=d))
    # propagate: a 30 -> keeps 15, passes 15; b holds 45, keeps 22.5, passes 22.5; c 52.5
    assert [prop[k] for k in "abc"] == pytest.approx([15.0, 22.5, 52.5])
    assert [direct[k] for k in "abc"] == pytest.approx([30.0, 30.0, 30.0])
    # shapley: a self 15 + half of 15; b self 15 + 7.5 + half of 15; c 30 + 7.5
    assert [shap[k] for k in "abc"] == pytest.approx([22.5, 30.0, 37.5])


def test_unknown_method_is_a_parameter_error():
    df = pd.DataFrame({"src": ["a"], "dst": ["b"], "kind": ["like"], "weight": [1.0], "amount": [None]})
    with pytest.raises(graphlabor.errors.ParameterError, match="method"):
        graphlabor.attribute(df, method="banzhaf")


# --------------------------------------------------------------------------
# the worked example of docs/model.md
# --------------------------------------------------------------------------



def _num(v):
    v = v.replace(",", "").replace("**", "").strip()
    if v in ("", "-", "null"):
        return None
    return float(v)


@pytest.mark.parametrize("method", ["propagate", "direct", "shapley"])
def test_worked_example_numbers_in_docs(method):
    """Every number of the worked example's node table is what graphlabor gives."""
    doc = doc_table(f"nodes {method}", strip="`")
    r = graphlabor.attribute(WORKED_EDGES, method=method).to_pandas().set_index("node")
    cols = [c for c in doc.columns if c not in ("node", "role")]
    assert cols, doc.columns
    for _, row in doc.iterrows():
        got = r.loc[row["node"]]
        assert got["role"] == row["role"]
        for c in cols:
            want = _num(row[c])
            if c == "rank":
                assert (None if pd.isna(got[c]) else int(got[c])) == (None if want is None else int(want)), (row["node"], c)
            else:
                assert got[c] == pytest.approx(want, abs=1e-9), (method, row["node"], c)


def test_worked_example_platform_table_in_docs():
    doc = doc_table("platforms", strip="`")
    got = graphlabor.attribute(WORKED_EDGES).platforms.to_pandas().set_index("platform")
    assert list(doc["platform"]) == list(got.index)
    for _, row in doc.iterrows():
        for c in doc.columns[1:]:
            assert got.loc[row["platform"], c] == pytest.approx(_num(row[c]), abs=1e-12), c


def test_worked_example_explanation_and_variants_in_docs():
    """The numbers the doc derives in prose: explain u2, platform_share 0.2, iterations."""
    r = graphlabor.attribute(WORKED_EDGES)
    assert r.summary.iterations == 6  # BiCGSTAB: passes over T, Krylov phase and check together
    assert graphlabor.attribute(WORKED_EDGES, solver="jacobi").summary.iterations == 3
    e = r.explain("u2")
    assert dict(e.by_payer) == pytest.approx({"A": 67.5})
    assert dict(e.by_platform) == pytest.approx({"P": 67.5})
    assert dict(e.by_kind) == pytest.approx({"view": 42.5, "post": 25.0})
    assert dict(e.last_hop) == pytest.approx({"u1": 42.5, "P": 25.0})
    ps = as_dict(graphlabor.attribute(WORKED_EDGES, platform_share=0.2))
    assert ps == pytest.approx({"A": 0, "P": 20.0, "u1": 6.0, "u2": 54.0, "u3": 20.0})
    nodes = pd.DataFrame({"id": ["u1", "u2"], "hours": [5.0, 13.5]})
    t = graphlabor.attribute(WORKED_EDGES, nodes, min_wage=5.0).to_pandas().set_index("node")
    assert t.loc["u1", "attributed_per_hour"] == pytest.approx(1.5) and t.loc["u1", "paid_per_hour"] == pytest.approx(2.0)
    assert t["below_min_wage"].to_dict() == {"A": False, "P": False, "u1": False, "u2": True, "u3": False}
    # the adjoint by hand: y_P = 0.5 * 0.85 + 0.25 = 0.675 of each unit paid in reaches u2
    orc = Oracle.run(WORKED_EDGES)
    c = np.zeros(len(orc.ids))
    c[orc.pos["u2"]] = orc.keep[orc.pos["u2"]]
    y = spsolve((sp.identity(len(c), format="csc") - orc.T.T.tocsc()).tocsc(), c)
    assert y[orc.pos["P"]] == pytest.approx(0.675) and y[orc.pos["u1"]] == pytest.approx(0.85)


def test_worked_example_hand_numbers():
    """The worked example computed by hand (the doc's derivation), independently
    of the doc's tables."""
    r = graphlabor.attribute(WORKED_EDGES).to_pandas().set_index("node")
    # P passes 100 by weight 2:1:1 -> 50, 25, 25; u1 keeps 0.15 * 50 = 7.5 and
    # passes 42.5 to u2, who keeps all (it engaged with no user): 67.5
    assert r["attributed"].to_dict() == pytest.approx({"A": 0, "P": 0, "u1": 7.5, "u2": 67.5, "u3": 25.0})
    assert r.loc["u1", "unpaid"] == pytest.approx(-2.5)
    assert r.loc["u2", "via_view"] == pytest.approx(42.5) and r.loc["u2", "via_post"] == pytest.approx(25.0)
    orc = Oracle.run(WORKED_EDGES)
    assert orc.by_id(orc.kept) == pytest.approx(r["attributed"].to_dict())
    assert shapley_oracle(WORKED_EDGES) == pytest.approx({"A": 0, "P": 0, "u1": 28.75, "u2": 46.25, "u3": 25.0})


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def test_cli_method_on_example(tmp_path):
    edges, nodes = example_paths(tmp_path)
    out = tmp_path / "shap.parquet"
    cli("attribute", edges, "--nodes", nodes, "--method", "shapley", "-o", out, "--summary-json", tmp_path / "s.json", "-q")
    t = pq.read_table(out).to_pandas()
    df = pq.read_table(edges).to_pandas()
    nd = pq.read_table(nodes).to_pandas()
    roles, value = nodes_roles_values(nd)
    total = float(df.loc[df["kind"].isin(REVENUE), "amount"].sum()) + sum(value.values())
    assert t["attributed"].sum() == pytest.approx(total, rel=1e-9)
    import json

    assert json.loads((tmp_path / "s.json").read_text())["params"]["method"] == "shapley"
    # direct from the CLI: users get exactly the platforms' one-hop split (the oracle has no contexts)
    out2 = tmp_path / "direct.csv"
    cli("attribute", edges, "--nodes", nodes, "--method", "direct", "--context-col", "", "-o", out2, "-q")
    got = pd.read_csv(out2)
    orc = Oracle.run(df, damping=0.0, roles=roles, value=value)
    hand = one_hop(orc)
    gd = dict(zip(got["node"].astype(type(next(iter(hand)))), got["attributed"]))
    for v, want in hand.items():
        assert gd[v] == pytest.approx(want, abs=1e-9 * total)


def test_cli_rejects_unknown_method(tmp_path):
    p = tmp_path / "e.csv"
    WORKED_EDGES.to_csv(p, index=False)
    proc = cli("attribute", p, "--method", "nope", check=False)
    assert proc.returncode == 2
    assert "nope" in proc.stderr
