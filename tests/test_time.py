"""Time: half-life decay, the --as-of reference, timestamp units, calendar periods.

Oracles: decay weights computed by hand (``2 ** (-age / half_life)``), and each
period checked against a separate run on only that period's edges, filtered
here with pandas and Python's calendar arithmetic (not graphlabor's).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

import graphlabor
from conftest import cli
from examples import HYPO, REVENUE, TIGHT, as_dict, assert_close, example_paths, random_economy
from reference import Oracle, period_start, roles_of_frame
from graphlabor.errors import InputError, ParameterError

DAY = 86400
T0 = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp())


def _with_times(df: pd.DataFrame, seconds) -> pa.Table:
    t = pa.Table.from_pandas(df, preserve_index=False)
    return t.append_column("timestamp", pa.array(np.asarray(seconds, dtype=np.int64) * 10**6, pa.timestamp("us", tz="UTC")))


def _three_users(days=(0, 10, 20), revenue_day=20):
    df = pd.DataFrame({
        "src": ["A", "u1", "u2", "u3"],
        "dst": ["P", "P", "P", "P"],
        "kind": ["spend", "click", "click", "click"],
        "weight": 1.0,
        "amount": [100.0, None, None, None],
    })
    secs = [T0 + revenue_day * DAY] + [T0 + d * DAY for d in days]
    return _with_times(df, secs)


# --------------------------------------------------------------------------
# decay
# --------------------------------------------------------------------------


def test_half_life_weights_by_hand():
    # contributions 20, 10 and 0 days before the latest timestamp, half-life
    # 10 days: weights 1/4, 1/2, 1 -> shares 1/7, 2/7, 4/7 of the 100
    r = graphlabor.attribute(_three_users(), half_life="10d")
    assert as_dict(r) == pytest.approx({"A": 0, "P": 0, "u1": 100 / 7, "u2": 200 / 7, "u3": 400 / 7}, rel=1e-12)
    # money does not decay
    assert r.summary.total_injected == 100.0
    # without decay the three are equal
    assert as_dict(graphlabor.attribute(_three_users())) == pytest.approx({"A": 0, "P": 0, "u1": 100 / 3, "u2": 100 / 3, "u3": 100 / 3})


@pytest.mark.parametrize("hl, seconds", [("12h", 12 * 3600), ("30d", 30 * DAY), ("1y", 365.25 * DAY), ("90min", 5400), ("1.5d", 1.5 * DAY)])
def test_half_life_units(hl, seconds):
    # two users with ages 0 and `seconds`: the older one weighs exactly 1/2
    df = pd.DataFrame({"src": ["A", "a", "b"], "dst": ["P", "P", "P"], "kind": ["spend", "post", "post"],
                       "weight": [1.0, 1.0, 1.0], "amount": [90.0, None, None]})
    t = _with_times(df, [T0, T0 - int(seconds), T0])
    got = as_dict(graphlabor.attribute(t, half_life=hl))
    assert got["a"] == pytest.approx(30.0, rel=1e-12) and got["b"] == pytest.approx(60.0, rel=1e-12)
    # a half-life in seconds (a number) is the same
    assert as_dict(graphlabor.attribute(t, half_life=float(int(seconds)))) == pytest.approx(got, rel=1e-12)


@HYPO
@given(seed=st.integers(0, 2**32 - 1), hl_days=st.sampled_from([1.0, 7.0, 45.0]), d=st.sampled_from([0.5, 0.85]))
def test_decay_equals_reweighted_oracle(seed, hl_days, d):
    # every contribution weight (platform and engagement edges alike) times
    # 2^(-age/hl); revenue and pay amounts untouched
    df = random_economy(seed, n_users=10, n_platforms=3, n_adv=2, p_uu=0.3)
    rng = np.random.default_rng(seed)
    secs = T0 + rng.integers(0, 90 * DAY, len(df))
    latest = int(secs.max())
    hl = hl_days * DAY
    decayed = df["weight"].to_numpy() * np.exp2(-(latest - secs) / hl)
    kw = {"click": 2.0}
    orc = Oracle.run(df, damping=d, kind_weights=kw, weights=decayed)
    r = graphlabor.attribute(_with_times(df, secs), half_life=hl, damping=d, kind_weights=kw, **TIGHT)
    assert_close(as_dict(r), orc.by_id(orc.kept), float(orc.s.sum()))


def test_as_of_default_is_the_latest_timestamp():
    t = _three_users(days=(0, 10, 20), revenue_day=15)  # latest: u3's click, day 20
    default = as_dict(graphlabor.attribute(t, half_life="10d"))
    latest = T0 + 20 * DAY
    for as_of in (latest, str(latest), "2024-01-21", "2024-01-21T00:00:00Z"):
        assert as_dict(graphlabor.attribute(t, half_life="10d", as_of=as_of)) == default
    assert default == pytest.approx({"A": 0, "P": 0, "u1": 100 / 7, "u2": 200 / 7, "u3": 400 / 7}, rel=1e-12)
    # an earlier reference: edges after it count with age 0 (weight 1):
    # as of day 10, weights 1/2, 1, 1
    early = as_dict(graphlabor.attribute(t, half_life="10d", as_of="2024-01-11"))
    assert early == pytest.approx({"A": 0, "P": 0, "u1": 20.0, "u2": 40.0, "u3": 40.0}, rel=1e-12)
    # a later reference scales every weight by the same factor, which cancels
    late = as_dict(graphlabor.attribute(t, half_life="10d", as_of="2024-03-01"))
    assert late == pytest.approx(default, rel=1e-12)


def _unit_tables():
    """The same edges with timestamps in every unit, zone and integer seconds."""
    df = random_economy(11, n_users=9, n_platforms=3, n_adv=2, p_uu=0.3)
    rng = np.random.default_rng(3)
    secs = T0 + rng.integers(0, 75 * DAY, len(df))
    base = pa.Table.from_pandas(df, preserve_index=False)
    out = {"int seconds": base.append_column("timestamp", pa.array(secs, pa.int64()))}
    mult = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
    for unit, tz in (("s", None), ("ms", None), ("us", None), ("ns", None), ("s", "UTC"), ("ms", "Asia/Tokyo"),
                     ("us", "America/New_York"), ("ns", "UTC")):
        col = pa.array(secs.astype(np.int64) * mult[unit], pa.timestamp(unit, tz=tz))
        out[f"{unit} {tz}"] = base.append_column("timestamp", col)
    pdf = df.copy()
    pdf["timestamp"] = pd.to_datetime(secs, unit="s", utc=True).tz_convert("Europe/Paris")
    out["pandas Europe/Paris"] = pdf
    return out, secs


@pytest.mark.parametrize("opts", [dict(half_life="20d"), dict(period="month"), dict(period="week", half_life="3d")])
def test_timestamp_units_and_zones_give_the_same_result(opts):
    tables, _ = _unit_tables()
    ref = None
    for name, t in tables.items():
        got = graphlabor.attribute(t, **opts).nodes
        if ref is None:
            ref = got
            continue
        assert got.column_names == ref.column_names, name
        for c in ref.column_names:
            a, b = got[c].to_pylist(), ref[c].to_pylist()
            if c in ("attributed", "unpaid", "share") or c.startswith("via_"):
                assert np.allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True), (name, c)
            else:
                assert a == b, (name, c)


def test_sub_second_timestamps_are_floored_to_seconds():
    # 1.999 s and 1.001 s after T0 are both second 1: equal weights with a
    # 1-second half-life
    df = pd.DataFrame({"src": ["A", "a", "b"], "dst": ["P", "P", "P"], "kind": ["spend", "post", "post"],
                       "weight": 1.0, "amount": [10.0, None, None]})
    t = pa.Table.from_pandas(df, preserve_index=False).append_column(
        "timestamp", pa.array([(T0 + 1) * 1000 + 999, (T0 + 1) * 1000 + 1, (T0 + 1) * 1000 + 999], pa.timestamp("ms")))
    got = as_dict(graphlabor.attribute(t, half_life=1.0))
    assert got["a"] == got["b"] == pytest.approx(5.0)


# --------------------------------------------------------------------------
# periods
# --------------------------------------------------------------------------


SPAN = {"day": 6 * DAY, "week": 45 * DAY, "month": 200 * DAY, "quarter": 500 * DAY, "year": 900 * DAY}


def _timed_economy(seed, period, n_users=14):
    df = random_economy(seed, n_users=n_users, n_platforms=3, n_adv=3, p_uu=0.2)
    # repeat the economy a few times so that every period has all kinds of edges
    df = pd.concat([df] * 3, ignore_index=True)
    rng = np.random.default_rng(seed)
    start = T0 - 13 * 3600  # not aligned on any period
    secs = start + rng.integers(0, SPAN[period], len(df))
    df["timestamp"] = pd.to_datetime(secs, unit="s", utc=True)
    return df


def _compare_tables(got: pd.DataFrame, want: pd.DataFrame, total: float, where):
    got = got.set_index("node")
    want = want.set_index("node")
    assert sorted(got.index) == sorted(want.index), where
    for c in ("attributed", "paid", "unpaid", "share"):
        for v in want.index:
            g, w = got.loc[v, c], want.loc[v, c]
            # share is NaN in a period where nothing was injected
            assert (np.isnan(g) and np.isnan(w)) or abs(g - w) <= 1e-9 * max(total, 1.0), (where, v, c)
    assert got["role"].to_dict() == want["role"].to_dict(), where
    assert got["rank"].to_dict() == want["rank"].to_dict(), where
    for c in got.columns:
        if c.startswith("via_"):
            w = want[c] if c in want.columns else pd.Series(0.0, index=want.index)
            assert np.allclose(got[c].reindex(want.index).to_numpy(), w.to_numpy(), atol=1e-9 * max(total, 1.0)), (where, c)


@pytest.mark.parametrize("period", ["day", "week", "month", "quarter", "year"])
@pytest.mark.parametrize("method", ["propagate", "shapley"])
def test_each_period_equals_a_separate_run(period, method):
    df = _timed_economy(5, period)
    # roles come from all the data; declare them so that a period's own edges
    # (where a platform may receive no revenue) are read with the same roles
    roles = roles_of_frame(df)
    nodes = pd.DataFrame({"id": sorted(roles), "role": [roles[v] for v in sorted(roles)]})
    kw = {"click": 2.0, "like": 0.5}
    r = graphlabor.attribute(df, nodes, period=period, method=method, kind_weights=kw, **TIGHT)
    out = r.to_pandas()
    keys = df["timestamp"].map(lambda ts: period_start(ts.to_pydatetime(), period))
    expected = sorted(set(keys))
    assert sorted(set(out["period"])) == expected
    assert len(expected) >= 2
    assert len(r.periods) == len(expected)
    for start in expected:
        sub = df[keys == start].reset_index(drop=True)
        total = float(sub.loc[sub["kind"].isin(REVENUE), "amount"].sum())
        want = graphlabor.attribute(sub.drop(columns="timestamp"), nodes, method=method, kind_weights=kw, allow_empty=True, **TIGHT).to_pandas()
        got = out[out["period"] == start].drop(columns="period")
        _compare_tables(got, want, total, (period, start))
        # money is conserved within the period
        assert got["attributed"].sum() == pytest.approx(total, rel=1e-9, abs=1e-12)
    # the per-period summaries, and the totals over all periods
    by_period = df[df["kind"].isin(REVENUE)].groupby(keys)["amount"].sum()
    for s in r.periods:
        assert s.total_injected == pytest.approx(by_period.get(dt.date.fromisoformat(s.period), 0.0), rel=1e-12)
    assert r.summary.total_injected == pytest.approx(by_period.sum(), rel=1e-12)
    # the platform table, per period, against pandas
    plat = r.platforms.to_pandas()
    rev = df[df["kind"].isin(REVENUE)].groupby([keys, df["dst"]])["amount"].sum()
    for row in plat.itertuples():
        assert row.revenue == pytest.approx(rev.get((row.period, row.platform), 0.0), rel=1e-12)


def test_periods_with_inferred_roles_use_roles_from_all_the_data():
    # P receives revenue in January only; in February users still act on it.
    # P stays a platform in February (with nothing to pass), so u1 keeps its
    # own February value; a February-only run would make P a user.
    df = pd.DataFrame({
        "src": ["A", "u1", "u2", "u1", "B", "u1"],
        "dst": ["P", "P", "P", "P", "Q", "Q"],
        "kind": ["spend", "click", "click", "click", "spend", "click"],
        "weight": 1.0,
        "amount": [100.0, None, None, None, 50.0, None],
        "timestamp": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-01-07", "2024-02-03", "2024-02-04", "2024-02-05"], utc=True),
    })
    r = graphlabor.attribute(df, period="month").to_pandas()
    feb = r[r["period"] == dt.date(2024, 2, 1)].set_index("node")
    jan = r[r["period"] == dt.date(2024, 1, 1)].set_index("node")
    assert feb.loc["P", "role"] == "platform"
    assert jan["attributed"].to_dict() == pytest.approx({"A": 0, "B": 0, "P": 0, "Q": 0, "u1": 50, "u2": 50})
    assert feb["attributed"].to_dict() == pytest.approx({"A": 0, "B": 0, "P": 0, "Q": 0, "u1": 50, "u2": 0})


def test_period_with_half_life_equals_separate_runs():
    # the decay reference is the latest timestamp of all the data; moving it
    # scales every weight of a period by one factor, so each period still
    # equals a separate decayed run on its own edges
    df = _timed_economy(9, "month")
    roles = roles_of_frame(df)
    nodes = pd.DataFrame({"id": sorted(roles), "role": [roles[v] for v in sorted(roles)]})
    r = graphlabor.attribute(df, nodes, period="month", half_life="5d", **TIGHT).to_pandas()
    keys = df["timestamp"].map(lambda ts: period_start(ts.to_pydatetime(), "month"))
    for start in sorted(set(keys)):
        sub = df[keys == start].reset_index(drop=True)
        total = float(sub.loc[sub["kind"].isin(REVENUE), "amount"].sum())
        want = graphlabor.attribute(sub, nodes, half_life="5d", allow_empty=True, **TIGHT).to_pandas()
        _compare_tables(r[r["period"] == start].drop(columns="period"), want, total, start)


def test_weeks_start_on_monday_and_periods_are_utc():
    stamps = [
        "2024-01-07T23:59:59Z",       # Sunday: week of Monday 2024-01-01
        "2024-01-08T00:00:00Z",       # Monday: new week
        "2024-01-14T20:00:00-05:00",  # Sunday evening in New York = Monday 01:00 UTC
        "2023-12-31T23:30:00-01:00",  # 2024-01-01T00:30 UTC: a Monday, and a new year
    ]
    ts = pd.to_datetime([pd.Timestamp(s).tz_convert("UTC") for s in stamps], utc=True)
    df = pd.DataFrame({"src": ["A", "B", "C", "D"], "dst": ["P", "P", "P", "P"], "kind": "spend",
                       "weight": 1.0, "amount": [1.0, 2.0, 4.0, 8.0], "timestamp": ts})
    df["timestamp"] = df["timestamp"].dt.tz_convert("America/New_York")  # the zone must not matter
    for period, want in {
        "week": {dt.date(2024, 1, 1): 9.0, dt.date(2024, 1, 8): 2.0, dt.date(2024, 1, 15): 4.0},
        "day": {dt.date(2024, 1, 7): 1.0, dt.date(2024, 1, 8): 2.0, dt.date(2024, 1, 15): 4.0, dt.date(2024, 1, 1): 8.0},
        "month": {dt.date(2024, 1, 1): 15.0},
        "quarter": {dt.date(2024, 1, 1): 15.0},
        "year": {dt.date(2024, 1, 1): 15.0},
    }.items():
        r = graphlabor.attribute(df, period=period)
        got = {dt.date.fromisoformat(s.period): s.total_injected for s in r.periods}
        assert got == want, period
        if period == "week":
            assert all(d.weekday() == 0 for d in got)
        assert r.nodes.schema.field("period").type == pa.date32()


def test_quarters_and_years_start_where_the_calendar_says():
    stamps = ["2023-03-31T23:59:59Z", "2023-04-01T00:00:00Z", "2023-12-31T12:00:00Z", "2024-02-29T12:00:00Z", "2024-11-15T00:00:00Z"]
    df = pd.DataFrame({"src": list("ABCDE"), "dst": "P", "kind": "fee", "weight": 1.0,
                       "amount": [1.0, 2.0, 4.0, 8.0, 16.0], "timestamp": pd.to_datetime(stamps, utc=True)})
    q = {dt.date.fromisoformat(s.period): s.total_injected for s in graphlabor.attribute(df, period="quarter").periods}
    assert q == {dt.date(2023, 1, 1): 1.0, dt.date(2023, 4, 1): 2.0, dt.date(2023, 10, 1): 4.0,
                 dt.date(2024, 1, 1): 8.0, dt.date(2024, 10, 1): 16.0}
    y = {dt.date.fromisoformat(s.period): s.total_injected for s in graphlabor.attribute(df, period="year").periods}
    assert y == {dt.date(2023, 1, 1): 7.0, dt.date(2024, 1, 1): 24.0}


def test_integer_epoch_seconds_periods():
    df = pd.DataFrame({"src": ["A", "B"], "dst": ["P", "P"], "kind": "spend", "weight": 1.0, "amount": [1.0, 2.0],
                       "timestamp": np.array([0, 31 * DAY + 5], dtype=np.int64)})  # 1970-01-01, 1970-02-01
    r = graphlabor.attribute(df, period="month")
    assert [(s.period, s.total_injected) for s in r.periods] == [("1970-01-01", 1.0), ("1970-02-01", 2.0)]


# --------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------


def _with_null_timestamp():
    df = pd.DataFrame({"src": ["A", "u"], "dst": ["P", "P"], "kind": ["spend", "click"], "weight": 1.0, "amount": [1.0, None]})
    t = pa.Table.from_pandas(df, preserve_index=False)
    return t.append_column("timestamp", pa.array([T0, None], pa.timestamp("s", tz="UTC")))


@pytest.mark.parametrize("opts", [dict(half_life="1d"), dict(period="month"), dict(half_life="1d", as_of="2024-01-01")])
def test_missing_timestamps_with_time_options_are_an_input_error(opts):
    with pytest.raises(InputError, match="timestamp"):
        graphlabor.attribute(_with_null_timestamp(), **opts)
    no_col = pd.DataFrame({"src": ["A", "u"], "dst": ["P", "P"], "kind": ["spend", "click"], "weight": 1.0, "amount": [1.0, None]})
    with pytest.raises(InputError, match="timestamp"):
        graphlabor.attribute(no_col, **opts)


def test_missing_timestamps_without_time_options_are_fine():
    r = graphlabor.attribute(_with_null_timestamp())
    assert as_dict(r)["u"] == pytest.approx(1.0)


@pytest.mark.parametrize("bad", ["30 days", "-1d", "0d", "d", "1x", ""])
def test_bad_half_life_is_a_parameter_error(bad):
    with pytest.raises(ParameterError):
        graphlabor.attribute(_three_users(), half_life=bad)


def test_bad_as_of_is_a_parameter_error():
    with pytest.raises(ParameterError, match="as-of|as_of"):
        graphlabor.attribute(_three_users(), half_life="1d", as_of="yesterday")


def test_bad_period_is_a_parameter_error():
    with pytest.raises(ParameterError):
        graphlabor.attribute(_three_users(), period="fortnight")


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def test_cli_time_options_on_example(tmp_path):
    edges, nodes = example_paths(tmp_path)
    df = pq.read_table(edges).to_pandas()
    assert "timestamp" in df.columns
    out = tmp_path / "monthly.parquet"
    summary = tmp_path / "s.json"
    cli("attribute", edges, "--nodes", nodes, "--period", "month", "--half-life", "30d", "-o", out, "--summary-json", summary, "-q")
    t = pq.read_table(out).to_pandas()
    keys = df["timestamp"].map(lambda ts: period_start(ts.to_pydatetime(), "month"))
    nd = pq.read_table(nodes).to_pandas()
    values = nd["value"].fillna(0).sum() if "value" in nd.columns else 0.0
    assert values == 0  # --period refuses node values
    rev = df[df["kind"].isin(REVENUE)].groupby(keys)["amount"].sum()
    got = t.groupby("period")["attributed"].sum()
    assert sorted(got.index) == sorted(set(keys))  # one attribution per period with edges
    for k in got.index:
        assert got[k] == pytest.approx(rev.get(k, 0.0), rel=1e-9, abs=1e-9)
    doc = json.loads(summary.read_text())
    assert len(doc["periods"]) == len(got)
    # --as-of from the CLI equals the API
    out2 = tmp_path / "asof.csv"
    cli("attribute", edges, "--nodes", nodes, "--half-life", "7d", "--as-of", "2024-06-30", "-o", out2, "-q")
    api = graphlabor.attribute(edges, nodes, half_life="7d", as_of="2024-06-30").to_pandas()
    csv = pd.read_csv(out2)
    assert np.allclose(csv["attributed"].to_numpy(), api["attributed"].to_numpy(), rtol=1e-12, atol=1e-9)


def test_cli_time_options_on_generated_files(tmp_path):
    # integer epoch seconds in a CSV file, and ms timestamps in Parquet
    df = _timed_economy(21, "week", n_users=10)
    secs = (df["timestamp"].astype("int64") // 10**9).to_numpy()
    roles = roles_of_frame(df)
    csv = tmp_path / "e.csv"
    df.assign(timestamp=secs).to_csv(csv, index=False)
    pqf = tmp_path / "e.parquet"
    t = pa.Table.from_pandas(df.drop(columns="timestamp"), preserve_index=False).append_column(
        "timestamp", pa.array(secs * 1000, pa.timestamp("ms")))
    pq.write_table(t, pqf)
    outs = []
    for path in (csv, pqf):
        out = tmp_path / f"{path.stem}{path.suffix.replace('.', '_')}.parquet"
        cli("attribute", path, "--period", "week", "--half-life", "2d", "-o", out, "-q")
        outs.append(pq.read_table(out).to_pandas())
    a, b = outs
    assert a["period"].tolist() == b["period"].tolist()
    assert np.allclose(a["attributed"], b["attributed"], rtol=1e-12, atol=1e-12)
    assert all(d.weekday() == 0 for d in a["period"])
    assert set(a.loc[a["role"] == "platform", "node"]) == {v for v, r in roles.items() if r == "platform"}
    # a missing timestamp column with --period: exit 2, one line naming the option
    bad = tmp_path / "bad.csv"
    df.drop(columns="timestamp").to_csv(bad, index=False)
    proc = cli("attribute", bad, "--half-life", "1d", check=False)
    assert proc.returncode == 2
    assert "timestamp" in proc.stderr and "Traceback" not in proc.stderr


def test_very_old_contributions_still_carry_value():
    # 2^(-age/h) is positive at any age, and only ratios of weights matter: a
    # platform whose contributors all acted ~2900 half-lives before the latest
    # timestamp still passes its value to them, 2:1 for ages differing by one
    # half-life (in float64, 2^(-2922) underflows to 0 unless ages are taken
    # relative to each sender's newest edge)
    df = pd.DataFrame({
        "src": ["A", "u1", "u2", "B", "v"],
        "dst": ["P", "P", "P", "Q", "Q"],
        "kind": ["spend", "click", "click", "spend", "click"],
        "weight": 1.0,
        "amount": [90.0, None, None, 50.0, None],
        "timestamp": pd.to_datetime(["2024-01-01T00:00", "2020-01-01T12:00", "2020-01-01T00:00", "2024-01-01T00:00", "2024-01-01T00:00"], utc=True),
    })
    got = as_dict(graphlabor.attribute(df, half_life="12h"))
    assert got == pytest.approx({"A": 0, "B": 0, "P": 0, "Q": 0, "u1": 60.0, "u2": 30.0, "v": 50.0}, rel=1e-12)


@pytest.mark.parametrize("as_of", ["2024-01-11T00:00:00", "2024-01-11 00:00:00", "2024-01-11T00:00",
                                   dt.datetime(2024, 1, 11), "2024-01-11T01:00:00+01:00", pd.Timestamp("2024-01-11", tz="UTC")])
def test_as_of_accepts_iso_date_times_read_as_utc(as_of):
    # an ISO date-time without a zone is UTC, like a timestamp without one
    t = _three_users(days=(0, 10, 20), revenue_day=15)
    want = as_dict(graphlabor.attribute(t, half_life="10d", as_of="2024-01-11T00:00:00Z"))
    assert want == pytest.approx({"A": 0, "P": 0, "u1": 20.0, "u2": 40.0, "u3": 40.0}, rel=1e-12)
    assert as_dict(graphlabor.attribute(t, half_life="10d", as_of=as_of)) == want
