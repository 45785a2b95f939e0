"""Explanations: exact decompositions of one node's attributed value.

Oracles: brute force (re-run the attribution with only one payer's revenue,
or only the revenue that entered at one platform, and read the node's
attributed value), hand-worked numbers, and the node's own ``via_*`` row.
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
from examples import HYPO, REVENUE, TIGHT, WORKED_EDGES, as_dict, example_paths, random_economy
from reference import Oracle, roles_of_frame
from graphlabor.errors import InputError, ParameterError

NODE_VALUE = "(node value)"


def _sum(parts) -> float:
    return math.fsum(v for _, v in parts)


def _assert_sums(exp, rel=1e-12):
    a = exp.attributed
    scale = max(abs(a), 1e-300)
    for name in ("by_payer", "by_platform", "by_kind"):
        parts = getattr(exp, name)
        if a == 0:
            assert abs(_sum(parts)) <= 1e-12, (exp.node, name)
        else:
            assert abs(_sum(parts) - a) <= rel * scale, (exp.node, name, _sum(parts) - a)
    if exp.last_hop_total <= len(exp.last_hop):
        assert abs(_sum(exp.last_hop) - a) <= rel * scale + (1e-12 if a == 0 else 0), (exp.node, "last_hop", _sum(exp.last_hop) - a)


def _economy(seed, n_users=12):
    df = random_economy(seed, n_users=n_users, n_platforms=3, n_adv=3, p_uu=0.3, zero_weights=False)
    roles = roles_of_frame(df)
    nodes = pd.DataFrame({"id": sorted(roles), "role": [roles[v] for v in sorted(roles)]})
    return df, nodes


# --------------------------------------------------------------------------
# exact sums
# --------------------------------------------------------------------------


@HYPO
@given(seed=st.integers(0, 2**32 - 1), method=st.sampled_from(["propagate", "direct", "shapley"]),
       d=st.sampled_from([0.5, 0.85]), ps=st.sampled_from([0.0, 0.2]))
def test_every_decomposition_sums_to_attributed(seed, method, d, ps):
    # default tolerance: the sums must be exact whatever the solver left in flight
    df, _ = _economy(seed)
    r = graphlabor.attribute(df, method=method, damping=d, platform_share=ps)
    for v in r.nodes["node"].to_pylist():
        exp = r.explain(v, top=10_000)
        assert exp.attributed == as_dict(r)[v]
        # the adjoint solve is tight; the gap is the forward solve's own error,
        # bounded by tol x the injected total
        assert exp.gap * exp.attributed <= 1e-10 * r.summary.total_injected
        _assert_sums(exp)


def test_by_kind_matches_the_oracle():
    """Each node's value split by the kind of its last hop, against the sparse oracle's split."""
    df, _ = _economy(3)
    r = graphlabor.attribute(df, **TIGHT)
    want = Oracle.run(df).via()
    total = r.summary.total_injected
    for v, parts in want.items():
        got = dict(r.explain(v).by_kind)
        expected = {("(injected here)" if k == "injected" else k): val for k, val in parts.items()}
        for label in set(got) | set(expected):
            assert got.get(label, 0.0) == pytest.approx(expected.get(label, 0.0), abs=1e-9 * total), (v, label)


# --------------------------------------------------------------------------
# brute force
# --------------------------------------------------------------------------


def _rerun(df, nodes, keep_rows, method, d, ps):
    sub = df[keep_rows | ~df["kind"].isin(REVENUE)]
    return as_dict(graphlabor.attribute(sub, nodes, method=method, damping=d, platform_share=ps, **TIGHT))


@pytest.mark.parametrize("method", ["propagate", "direct", "shapley"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_by_payer_and_by_platform_equal_brute_force(method, seed):
    df, nodes = _economy(seed)
    d, ps = 0.8, 0.1
    r = graphlabor.attribute(df, nodes, method=method, damping=d, platform_share=ps, **TIGHT)
    rev = df["kind"].isin(REVENUE)
    payers = sorted(set(df.loc[rev, "src"]))
    platforms = sorted(set(df.loc[rev, "dst"]))
    assert len(payers) >= 2 and len(platforms) >= 2
    alone_payer = {a: _rerun(df, nodes, rev & (df["src"] == a), method, d, ps) for a in payers}
    alone_platform = {p: _rerun(df, nodes, rev & (df["dst"] == p), method, d, ps) for p in platforms}
    for v in r.nodes["node"].to_pylist():
        exp = r.explain(v, top=10_000)
        scale = 1e-9 * max(exp.attributed, 1e-3)
        got = dict(exp.by_payer)
        assert set(got) <= set(payers)
        for a in payers:
            assert got.get(a, 0.0) == pytest.approx(alone_payer[a][v], abs=scale), (v, a)
        got = dict(exp.by_platform)
        for p in platforms:
            assert got.get(p, 0.0) == pytest.approx(alone_platform[p][v], abs=scale), (v, p)


@pytest.mark.parametrize("method", ["propagate", "shapley"])
def test_node_values_are_their_own_payer(method):
    df, nodes = _economy(4, n_users=8)
    rng = np.random.default_rng(4)
    users = [v for v, r in zip(nodes["id"], nodes["role"]) if r == "user"]
    value = {u: float(rng.integers(0, 20)) for u in users}
    nodes = nodes.assign(value=[value.get(v, 0.0) for v in nodes["id"]])
    r = graphlabor.attribute(df, nodes, method=method, **TIGHT)
    only_values = as_dict(graphlabor.attribute(df[~df["kind"].isin(REVENUE)], nodes, method=method, **TIGHT))
    for v in users:
        exp = r.explain(v)
        _assert_sums(exp)
        assert dict(exp.by_payer).get(NODE_VALUE, 0.0) == pytest.approx(only_values[v], abs=1e-9 * max(exp.attributed, 1e-3))
        # by platform: value entered at users too ("where the value entered")
        entered_at_users = sum(val for lab, val in exp.by_platform if lab in value)
        assert entered_at_users == pytest.approx(only_values[v], abs=1e-9 * max(exp.attributed, 1e-3))


# --------------------------------------------------------------------------
# by hand
# --------------------------------------------------------------------------


def test_explain_worked_example_by_hand():
    # two payers to make by_payer interesting: A 100 and B 60, both to P
    df = pd.concat([WORKED_EDGES, pd.DataFrame({"src": ["B"], "dst": ["P"], "kind": ["spend"], "weight": [1.0], "amount": [60.0]})],
                   ignore_index=True)
    r = graphlabor.attribute(df)
    e = r.explain("u2")
    # u2 keeps 25/100 + 42.5/100 = 67.5% of what P passes: 108 of 160
    assert e.attributed == pytest.approx(108.0)
    assert dict(e.by_payer) == pytest.approx({"A": 67.5, "B": 40.5})
    assert dict(e.by_platform) == pytest.approx({"P": 108.0})
    assert dict(e.by_kind) == pytest.approx({"view": 68.0, "post": 40.0})
    assert dict(e.last_hop) == pytest.approx({"u1": 68.0, "P": 40.0})
    assert [lab for lab, _ in e.last_hop] == ["u1", "P"]  # largest first
    assert e.role == "user" and e.method == "propagate"
    s = graphlabor.attribute(df, method="shapley").explain("u1")
    # u1: self part 0.15 * 80 = 12 (click) + half of the 68 view edge
    assert s.attributed == pytest.approx(46.0)
    assert dict(s.by_kind) == pytest.approx({"click": 12.0, "view": 34.0})
    assert dict(s.by_payer) == pytest.approx({"A": 46.0 * 100 / 160, "B": 46.0 * 60 / 160})
    assert _sum(s.last_hop) == pytest.approx(46.0)


def test_explain_platform_and_advertiser():
    r = graphlabor.attribute(WORKED_EDGES, platform_share=0.2)
    p = r.explain("P")
    assert p.attributed == pytest.approx(20.0) and p.role == "platform"
    assert dict(p.by_payer) == pytest.approx({"A": 20.0})
    assert dict(p.by_kind) == pytest.approx({"(injected here)": 20.0})
    a = r.explain("A")
    assert a.attributed == 0.0 and a.by_payer == [] and a.last_hop == []


def test_last_hop_top_k():
    # a user with value from 6 engaged users and its platform
    src = ["A"] + [f"f{i}" for i in range(6)] + ["s"] + [f"f{i}" for i in range(6)]
    dst = ["P"] + ["P"] * 6 + ["P"] + ["s"] * 6
    df = pd.DataFrame({"src": src, "dst": dst, "kind": ["spend"] + ["click"] * 7 + ["like"] * 6,
                       "weight": [1.0] + [float(i + 1) for i in range(6)] + [1.0] + [1.0] * 6,
                       "amount": [100.0] + [None] * 13})
    r = graphlabor.attribute(df)
    e = r.explain("s", top=3)
    assert len(e.last_hop) == 3 and e.last_hop_total == 7
    values = [v for _, v in e.last_hop]
    assert values == sorted(values, reverse=True)
    full = r.explain("s", top=100)
    assert full.last_hop[:3] == e.last_hop
    _assert_sums(full)


def test_explain_errors():
    r = graphlabor.attribute(WORKED_EDGES)
    with pytest.raises(InputError, match="zz"):
        r.explain("zz")
    t = WORKED_EDGES.assign(timestamp=pd.to_datetime(["2024-01-01"] * 6, utc=True))
    with pytest.raises(ParameterError):
        graphlabor.attribute(t, period="month").explain("u1")


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def test_cli_explain_text_and_json(tmp_path):
    df = pd.concat([WORKED_EDGES, pd.DataFrame({"src": ["B"], "dst": ["P"], "kind": ["spend"], "weight": [1.0], "amount": [60.0]})],
                   ignore_index=True)
    e = tmp_path / "e.csv"
    df.to_csv(e, index=False)
    proc = cli("explain", e, "u2")
    out = proc.stdout
    assert "u2" in out and "by payer" in out and "by platform" in out and "last hop" in out
    assert "67.5" in out and "40.5" in out
    proc = cli("explain", e, "u1", "--json", "--method", "shapley", "--top", "1")
    doc = json.loads(proc.stdout)
    assert doc["node"] == "u1" and doc["method"] == "shapley"
    assert doc["attributed"] == pytest.approx(46.0)
    for key in ("by_payer", "by_platform", "by_kind"):
        assert math.fsum(v for _, v in doc[key]) == pytest.approx(doc["attributed"], rel=1e-12)
    # u1's whole value (its self part and its half of the view edge) is its
    # own one-hop value, which came from P
    assert doc["last_hop"] == [["P", pytest.approx(46.0)]] and doc["last_hop_total"] == 1
    proc = cli("explain", e, "nobody", check=False)
    assert proc.returncode == 2 and "nobody" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_explain_integer_ids_and_example(tmp_path):
    df = WORKED_EDGES.replace({"A": 1, "P": 2, "u1": 11, "u2": 12, "u3": 13})
    df["src"] = df["src"].astype("int64")
    df["dst"] = df["dst"].astype("int64")
    e = tmp_path / "e.parquet"
    df.to_parquet(e)
    doc = json.loads(cli("explain", e, "12", "--json").stdout)
    assert doc["node"] == 12 and doc["attributed"] == pytest.approx(67.5)
    assert dict((int(k), v) for k, v in doc["by_payer"]) == pytest.approx({1: 67.5})
    edges, nodes = example_paths(tmp_path)
    r = graphlabor.attribute(edges, nodes)
    top = r.top_users(1)["node"][0].as_py()
    doc = json.loads(cli("explain", edges, str(top), "--nodes", nodes, "--json", "--top", "100000").stdout)
    assert doc["attributed"] == pytest.approx(as_dict(r)[top], rel=1e-12)
    for key in ("by_payer", "by_platform", "by_kind", "last_hop"):
        assert math.fsum(v for _, v in doc[key]) == pytest.approx(doc["attributed"], rel=1e-12), key
    # each payer's part against a brute-force re-run without the other payers' revenue
    raw = pq.read_table(edges).to_pandas()
    rev = raw["kind"].isin(REVENUE)
    for payer, part in doc["by_payer"][:2]:
        if payer == NODE_VALUE:
            continue
        sub = raw[~rev | (raw["src"] == payer)]
        alone = as_dict(graphlabor.attribute(sub, nodes, **TIGHT))[top]
        assert part == pytest.approx(alone, rel=1e-8)
