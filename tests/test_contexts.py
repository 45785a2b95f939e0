"""Contexts (issue 10): revenue traced to the campaign, batch or ride that earned it.

Oracles: the hand-worked example of docs/model.md (its tables are read from
the file), hand-computed campaigns, and a direct sparse solve of the model
with ``(platform, context)`` pairs as extra senders written from the docs
(scipy), on random economies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse.linalg import spsolve
from examples import HYPO, PAY, REVENUE, TIGHT, as_dict, doc_table, random_economy
from reference import roles_of_frame as infer_roles

import graphlabor

CTX_EDGES = pd.DataFrame(
    [
        ("A", "P", "spend", 1.0, 60.0, "c1"),
        ("A", "P", "spend", 1.0, 30.0, None),
        ("A", "P", "spend", 1.0, 10.0, "c2"),
        ("u1", "P", "click", 2.0, None, "c1"),
        ("u2", "P", "post", 1.0, None, None),
        ("u3", "P", "view", 1.0, None, "c1"),
        ("u1", "u2", "view", 1.0, None, None),
        ("P", "u1", "pay", 1.0, 10.0, "c1"),
    ],
    columns=["src", "dst", "kind", "weight", "amount", "context"],
)


def _num(v):
    v = v.replace(",", "").strip()
    return None if v in ("", "-") else float(v)


# --------------------------------------------------------------------------
# oracle: a direct sparse solve with pairs as extra senders, from docs/model.md
# --------------------------------------------------------------------------


def context_oracle(df, *, damping=0.85, platform_share=0.0, unmatched="pool", self_loops="drop", ctx_col="context"):
    """Attributed value per node (pairs credited to their platform), by the docs' rules."""
    role = infer_roles(df)
    ids = sorted(role)
    pos = {v: i for i, v in enumerate(ids)}
    n = len(ids)
    rows = list(df[["src", "dst", "kind", "weight", "amount", ctx_col]].itertuples(index=False))

    def has(c):
        return c is not None and not (isinstance(c, float) and np.isnan(c))

    pairs = sorted({(c, b) for a, b, k, w, amt, c in rows if k in REVENUE and has(c) and role[b] == "platform"})
    q_of = {p: n + i for i, p in enumerate(pairs)}
    N = n + len(pairs)
    flows = []  # (sender, receiver, weight)
    for a, b, k, w, _amt, c in rows:
        if k in REVENUE or k in PAY or not w > 0 or (a == b and self_loops == "drop"):
            continue
        if role[a] == "user" and role[b] == "platform":
            flows.append((pos[b], pos[a], w))
            if has(c) and (c, b) in q_of:
                flows.append((q_of[(c, b)], pos[a], w))
        elif role[a] == "user" and role[b] == "user":
            flows.append((pos[a], pos[b], w))
    out = np.zeros(N)
    for snd, _, w in flows:
        out[snd] += w
    s = np.zeros(N)
    for _a, b, k, _w, amt, c in rows:
        if k in REVENUE:
            j = q_of.get((c, b), pos[b]) if has(c) else pos[b]
            if j >= n and out[j] == 0 and unmatched == "pool":
                j = pos[b]  # nobody carries the context: the pool gets it
            s[j] += amt
    frac = np.zeros(N)
    for j in range(N):
        if out[j] > 0:
            is_user = j < n and role[ids[j]] == "user"
            frac[j] = damping if is_user else (1.0 - platform_share)
    T = sp.csr_matrix(([frac[snd] * w / out[snd] for snd, _, w in flows],
                       ([r for _, r, _ in flows], [snd for snd, _, _ in flows])), shape=(N, N))
    x = np.atleast_1d(spsolve((sp.identity(N, format="csc") - T.tocsc()).tocsc(), s))
    kept = (1.0 - frac) * x
    res = {v: float(kept[pos[v]]) for v in ids}
    for (_c, b), j in q_of.items():
        res[b] += float(kept[j])
    return res


def with_contexts(df: pd.DataFrame, seed: int, n_ctx: int = 3, p_ctx: float = 0.6) -> pd.DataFrame:
    """Random contexts on revenue, contribution and pay edges (some null)."""
    rng = np.random.default_rng(seed)
    ctx = [f"c{int(rng.integers(n_ctx))}" if rng.random() < p_ctx else None for _ in range(len(df))]
    return df.assign(context=pd.array(ctx, dtype=object))


# --------------------------------------------------------------------------
# the worked example of docs/model.md
# --------------------------------------------------------------------------


def test_worked_context_example_numbers_in_docs():
    doc = doc_table("contexts nodes")
    r = graphlabor.attribute(CTX_EDGES).to_pandas().set_index("node")
    for _, row in doc.iterrows():
        got = r.loc[row["node"]]
        assert got["role"] == row["role"]
        for c in doc.columns:
            if c in ("node", "role"):
                continue
            want = _num(row[c])
            if c == "rank":
                assert (None if pd.isna(got[c]) else int(got[c])) == (None if want is None else int(want))
            else:
                assert got[c] == pytest.approx(want, abs=1e-9), (row["node"], c)


def test_worked_context_table_in_docs():
    doc = doc_table("contexts")
    got = graphlabor.attribute(CTX_EDGES).contexts.to_pylist()
    assert [(g["platform"], g["context"]) for g in got] == list(zip(doc["platform"], doc["context"]))
    for g, (_, row) in zip(got, doc.iterrows()):
        for c in ("revenue", "paid_out", "kept", "passed_to_users", "contributors", "unmatched"):
            assert g[c] == pytest.approx(_num(row[c]), abs=1e-9), (g["context"], c)


def test_worked_context_unmatched_keep_and_summary():
    r = graphlabor.attribute(CTX_EDGES, unmatched="keep")
    # docs/model.md: P keeps c2's 10; u1 8.25, u2 54.25, u3 27.5
    assert as_dict(r) == pytest.approx({"A": 0, "P": 10.0, "u1": 8.25, "u2": 54.25, "u3": 27.5}, abs=1e-9)
    s = r.summary
    assert (s.contexts, s.context_pairs, s.unmatched_contexts, s.unmatched_revenue) == (2, 2, 1, 10.0)
    assert s.kept_without_activity == pytest.approx(10.0)
    pooled = graphlabor.attribute(CTX_EDGES).summary
    assert (pooled.unmatched_contexts, pooled.unmatched_revenue, pooled.kept_without_activity) == (1, 10.0, 0.0)
    assert "unmatched revenue" in pooled.format() and "contexts" in pooled.format()


def test_worked_context_explain_by_context():
    exp = graphlabor.attribute(CTX_EDGES).explain("u1")
    # docs/model.md: P / c1 gives 0.1 x 60 = 6, P's pool 0.075 x 40 = 3
    assert dict(exp.by_context) == pytest.approx({"P / c1": 6.0, "P (no context)": 3.0}, abs=1e-12)
    assert dict(exp.by_payer) == pytest.approx({"A": 9.0}, abs=1e-12)
    assert dict(exp.by_platform) == pytest.approx({"P": 9.0}, abs=1e-12)
    assert "by context" in exp.format()
    keep = graphlabor.attribute(CTX_EDGES, unmatched="keep").explain("P")
    assert dict(keep.by_context) == pytest.approx({"P / c2": 10.0}, abs=1e-12)


def test_without_contexts_the_worked_example_is_unchanged():
    plain = CTX_EDGES.drop(columns=["context"])
    assert as_dict(graphlabor.attribute(plain)) == pytest.approx(
        {"A": 0, "P": 0, "u1": 7.5, "u2": 67.5, "u3": 25.0}, abs=1e-12)


# --------------------------------------------------------------------------
# campaigns by hand: the spend ends with the campaign's own users
# --------------------------------------------------------------------------


def _campaigns():
    # two campaigns on P: c1 (spend 90) seen by a (click w 2) and b (view w 1);
    # c2 (spend 40) seen by c only; d posted on P without a context. No pool revenue.
    return pd.DataFrame(
        [
            ("adv1", "P", "spend", 1.0, 90.0, "c1"),
            ("adv2", "P", "spend", 1.0, 40.0, "c2"),
            ("a", "P", "click", 2.0, None, "c1"),
            ("b", "P", "view", 1.0, None, "c1"),
            ("c", "P", "click", 1.0, None, "c2"),
            ("d", "P", "post", 5.0, None, None),
        ],
        columns=["src", "dst", "kind", "weight", "amount", "context"],
    )


@pytest.mark.parametrize("method", ["propagate", "direct", "shapley"])
def test_campaign_spend_ends_with_its_clickers_only(method):
    r = graphlabor.attribute(_campaigns(), method=method)
    assert as_dict(r) == pytest.approx({"adv1": 0, "adv2": 0, "P": 0, "a": 60.0, "b": 30.0, "c": 40.0, "d": 0.0}, abs=1e-12)


def test_campaign_with_platform_share_and_integer_contexts():
    df = _campaigns()
    df["context"] = df["context"].map({"c1": 11, "c2": 7, None: None}).astype("Int64")
    r = graphlabor.attribute(df, platform_share=0.25)
    # P keeps a quarter of each campaign; the rest goes to its users by weight
    assert as_dict(r) == pytest.approx({"adv1": 0, "adv2": 0, "P": 32.5, "a": 45.0, "b": 22.5, "c": 30.0, "d": 0.0}, abs=1e-12)
    t = r.contexts.to_pydict()
    assert t["context"] == [7, 11] and t["kept"] == pytest.approx([10.0, 22.5]) and t["contributors"] == [1, 2]


def test_context_col_names_another_column_and_missing_one_fails():
    df = _campaigns().rename(columns={"context": "campaign"})
    r = graphlabor.attribute(df, context_col="campaign")
    assert as_dict(r)["a"] == pytest.approx(60.0)
    # read as no context column: all 130 to the pool, split by weight 2:1:1:5
    assert as_dict(graphlabor.attribute(df))["d"] == pytest.approx(130 * 5 / 9)
    with pytest.raises(graphlabor.InputError, match="no column 'ride'"):
        graphlabor.attribute(df, context_col="ride")


# --------------------------------------------------------------------------
# random economies against the sparse oracle
# --------------------------------------------------------------------------


@HYPO
@given(seed=st.integers(0, 10_000), d=st.sampled_from([0.0, 0.5, 0.85]), ps=st.sampled_from([0.0, 0.2, 1.0]),
       unmatched=st.sampled_from(["pool", "keep"]))
def test_propagate_with_contexts_equals_sparse_oracle(seed, d, ps, unmatched):
    df = with_contexts(random_economy(seed, n_users=7, n_platforms=2, p_uu=0.3), seed)
    r = graphlabor.attribute(df, damping=d, platform_share=ps, unmatched=unmatched, **TIGHT)
    want = context_oracle(df, damping=d, platform_share=ps, unmatched=unmatched)
    got = as_dict(r)
    total = float(df.loc[df["kind"].isin(REVENUE), "amount"].sum())
    for v, x in want.items():
        assert got[v] == pytest.approx(x, abs=1e-9 * total), v
    assert sum(got.values()) == pytest.approx(total, rel=1e-12)
    # the explanation of a user adds up, by context too
    users = [v for v in got if r.to_pandas().set_index("node").loc[v, "role"] == "user"]
    top = max(users, key=lambda v: got[v])
    exp = r.explain(top)
    assert sum(v for _, v in exp.by_context) == pytest.approx(got[top], rel=1e-9)
    assert sum(v for _, v in exp.by_payer) == pytest.approx(got[top], rel=1e-9)


@pytest.mark.parametrize("unmatched", ["pool", "keep"])
def test_sensitivity_grid_keeps_contexts(unmatched):
    """Every setting of a sensitivity grid runs the context model (the bundled example's report needs it).

    Oracle: the direct sparse solve above at each setting; users' total and the Gini of their
    attributed values (mean absolute difference over twice the mean, as R's ``ineq::Gini``).
    """
    df = with_contexts(random_economy(5, n_users=8, n_platforms=2, p_uu=0.3), 5)
    s = graphlabor.sensitivity(df, grid={"damping": [0.5, 0.85], "platform_share": [0.0, 0.2]}, unmatched=unmatched,
                               **TIGHT)
    users = [u for u, r in infer_roles(df).items() if r == "user"]
    for row in s.settings.to_pylist():
        want = context_oracle(df, damping=row["damping"], platform_share=row["platform_share"], unmatched=unmatched)
        x = np.array([want[u] for u in users])
        gini = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
        assert row["attributed_users"] == pytest.approx(x.sum(), rel=1e-9), row
        assert row["gini_attributed"] == pytest.approx(gini, rel=1e-7, abs=1e-12), row


def test_row_order_and_all_null_contexts_change_no_bit():
    df = with_contexts(random_economy(3, n_users=8, p_uu=0.4), 3)
    a = graphlabor.attribute(df).nodes
    b = graphlabor.attribute(df.sample(frac=1.0, random_state=1).reset_index(drop=True)).nodes
    assert a.equals(b)
    plain = random_economy(5, n_users=8, p_uu=0.4)
    nulls = plain.assign(context=pd.array([None] * len(plain), dtype="string"))
    assert graphlabor.attribute(plain).nodes.equals(graphlabor.attribute(nulls).nodes)


def test_periods_report_revenue_without_activity(tmp_path):
    # January: A pays P 50 and u acts on P; February: A pays P 20 and nobody acts on it
    df = pd.DataFrame({
        "src": ["A", "u", "A"], "dst": ["P", "P", "P"], "kind": ["spend", "click", "spend"],
        "weight": [1.0, 1.0, 1.0], "amount": [50.0, None, 20.0],
        "timestamp": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-02-03"], utc=True),
    })
    r = graphlabor.attribute(df, period="month")
    kept = {p.period: p.kept_without_activity for p in r.periods}
    assert kept == {"2024-01-01": 0.0, "2024-02-01": 20.0}
    assert r.summary.kept_without_activity == 20.0


def test_cli_contexts_table(tmp_path, run_cli):
    path = tmp_path / "edges.parquet"
    pq.write_table(pa.Table.from_pandas(CTX_EDGES, preserve_index=False), path)
    out = tmp_path / "ctx.csv"
    proc = run_cli("attribute", path, "--contexts", out, "-q")
    assert proc.returncode == 0
    t = pd.read_csv(out)
    assert list(t.columns) == ["platform", "context", "revenue", "paid_out", "kept", "passed_to_users", "contributors", "unmatched"]
    assert t["revenue"].tolist() == [60.0, 10.0] and t["unmatched"].tolist() == [0.0, 10.0]
    proc = run_cli("explain", path, "u1")
    assert "by context" in proc.stdout and "P / c1" in proc.stdout
    plain = tmp_path / "plain.parquet"
    pq.write_table(pa.Table.from_pandas(CTX_EDGES.drop(columns=["context"]), preserve_index=False), plain)
    proc = run_cli("attribute", plain, "--contexts", tmp_path / "x.csv", check=False)
    assert proc.returncode == 2 and "no 'context' column" in proc.stderr and not (tmp_path / "x.csv").exists()


# --------------------------------------------------------------------------
# the generator's contexts, traced end to end (oracle: pandas group-bys of the edges)
# --------------------------------------------------------------------------


def test_generated_contexts_leave_other_columns_alone():
    from graphlabor.generate import generate_tables

    e, _ = generate_tables(edges=20_000, seed=2)  # contexts by default
    e0, _ = generate_tables(edges=20_000, seed=2, contexts=False)
    assert "context" not in e0.column_names
    assert e.drop_columns(["context"]).equals(e0)


def test_generated_rides_pay_their_own_driver():
    from graphlabor.generate import generate_tables

    e, n = generate_tables(edges=20_000, seed=3, families="ondemand", contexts=True)
    df = e.to_pandas()
    per = df.groupby(["context", "kind"]).size().unstack(fill_value=0)
    assert (per[["fee", "ride", "pay"]] == 1).all().all()  # one fare, one ride, one pay per ride id
    fares = df[df["kind"] == "fee"].set_index("context")["amount"]
    driver = df[df["kind"] == "ride"].set_index("context")["src"]
    want = fares.groupby(driver.reindex(fares.index)).sum()
    got = as_dict(graphlabor.attribute(e, n))
    for d, v in want.items():
        assert got[d] == pytest.approx(v, rel=1e-9)
    # without the context column every driver shares its platform's pool instead
    pooled = as_dict(graphlabor.attribute(e.drop_columns(["context"]), n))
    assert any(abs(pooled[d] - v) > 1e-6 * v for d, v in want.items())


def test_generated_campaigns_end_with_their_viewers_and_clickers():
    from graphlabor.generate import generate_tables

    e, n = generate_tables(edges=30_000, seed=4, families="social", contexts=True)
    df = e.to_pandas()
    spend = df[df["kind"] == "spend"].groupby("context")["amount"].sum()
    acts = df[df["kind"].isin(["view", "click"]) & df["context"].notna()]
    w = acts.groupby(["context", "src"])["weight"].sum()
    share = w / w.groupby(level=0).transform("sum")
    want = (share * spend.reindex(share.index.get_level_values(0)).to_numpy()).groupby(level=1).sum()
    got = as_dict(graphlabor.attribute(e, n, method="direct"))
    assert sum(got.values()) == pytest.approx(float(spend.sum()), rel=1e-9)
    for u, v in want.items():
        assert got[u] == pytest.approx(v, rel=1e-9, abs=1e-9)


def test_generated_batches_hold_about_52_tasks_and_rides_pay_three_quarters_of_their_fare():
    """The calibration of docs/generator.md, recounted from the rows with pandas.

    Batches: one client fee per batch and 52 tasks a batch on average (Difallah et al. 2015),
    the batches of a platform equal in size plus or minus one. Rides: a driver's pay for a ride
    is 75% of that ride's fare, to the cent, and the ride's rows have one timestamp.
    """
    from graphlabor.generate import generate_tables

    e, n = generate_tables(edges=200_000, seed=5, families="microwork,ondemand")
    df, nodes = e.to_pandas(), n.to_pandas()
    fees = df[(df.kind == "fee") & df.src.isin(nodes.id[nodes.type == "client"])]
    tasks = df[df.kind.isin(["annotate", "train", "verify", "imitate"])]
    assert fees.context.is_unique and tasks.context.notna().all()
    per = tasks.groupby(["dst", "context"]).size()
    assert set(per.index) == set(zip(fees.dst, fees.context))
    assert 45 <= per.mean() <= 60, per.describe()
    assert (per.groupby(level=0).agg(lambda s: s.max() - s.min()) <= 1).all()
    workers = nodes.id[nodes.type == "worker"]
    task_pay = df[(df.kind == "pay") & df.dst.isin(workers)]
    assert task_pay.context.isin(fees.context).all()  # a task's pay carries its batch
    fares = df[(df.kind == "fee") & df.src.isin(nodes.id[nodes.type == "rider"])].set_index("context").amount
    ride_pay = df[(df.kind == "pay") & df.dst.isin(nodes.id[nodes.type == "driver"])].set_index("context").amount
    assert fares.index.is_unique and ride_pay.index.is_unique and set(fares.index) == set(ride_pay.index)
    gap = (ride_pay - 0.75 * fares.reindex(ride_pay.index)).abs()
    assert gap.max() <= 0.005 + 1e-9
    assert 10.5 <= fares.median() <= 13.5
    # a ride's fare, ride, ratings and pay share one instant, so they fall in one --period
    rides = df[df.context.isin(fares.index)]
    assert (rides.groupby("context").timestamp.nunique() == 1).all()
    assert set(rides.kind) == {"fee", "ride", "rate", "pay"}
    days = (rides.timestamp - rides.timestamp.min()).dt.days
    assert days.max() >= 360 and days.quantile(0.5) == pytest.approx(182, abs=20)  # spread over the year


def test_float_contexts_from_pandas_are_read_as_integers():
    df = CTX_EDGES.copy()
    df["context"] = df["context"].map({"c1": 1, "c2": 2, None: None}).astype(float)  # what pandas makes of ints with nulls
    assert as_dict(graphlabor.attribute(df)) == pytest.approx(as_dict(graphlabor.attribute(CTX_EDGES)), abs=1e-12)
    df.loc[0, "context"] = 1.5
    with pytest.raises(graphlabor.InputError, match="column 'context', row 0"):
        graphlabor.attribute(df)
