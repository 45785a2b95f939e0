"""graphlabor sensitivity and the rank statistics, against independent oracles.

Oracles: SciPy's kendalltau (tau-b) and spearmanr; an O(n^2) inversion
count; a cold graphlabor.attribute run per setting (a separate read, its
kind weights applied at preparation, a solve from x0 = s); the Gini as the
mean absolute difference (sum |x_i - x_j| / (2 n^2 mean)); the top-10%
share by sorting.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pyarrow.csv as pcsv
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import graphlabor
from graphlabor.errors import ParameterError
from graphlabor.kernels.inversions import count_inversions
from graphlabor.rankstats import average_ranks, kendall_tau, spearman_rho

EDGES = graphlabor.example_path("edges")
NODES = graphlabor.example_path("nodes")
GRID = {"damping": [0.5, 0.85], "platform_share": [0.0, 0.2], "kind_weight.view": [0.2, 1.0]}

ties = st.lists(st.integers(0, 6), min_size=2, max_size=60)


@settings(max_examples=80, deadline=None)
@given(ties, st.data())
def test_kendall_and_spearman_match_scipy(x, data):
    y = data.draw(st.lists(st.integers(0, 6), min_size=len(x), max_size=len(x)))
    x, y = np.array(x, float), np.array(y, float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on constant input (and answers NaN)
        ref_tau = scipy.stats.kendalltau(x, y).statistic
        ref_rho = scipy.stats.spearmanr(x, y).statistic
    tau, rho = kendall_tau(x, y), spearman_rho(x, y)
    if np.isnan(ref_tau):
        assert np.isnan(tau)
    else:
        assert tau == pytest.approx(ref_tau, abs=1e-12)
    if np.isnan(ref_rho):
        assert np.isnan(rho)
    else:
        assert rho == pytest.approx(ref_rho, abs=1e-12)
    assert np.array_equal(average_ranks(x), scipy.stats.rankdata(x))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 20), max_size=80))
def test_inversions_match_brute_force(codes):
    c = np.array(codes, np.int64)
    brute = sum(1 for i in range(c.size) for j in range(i + 1, c.size) if c[i] > c[j])
    assert count_inversions(c) == brute


def test_large_rank_statistics_match_scipy():
    rng = np.random.default_rng(3)
    x = rng.pareto(1.5, 20000)
    y = x * rng.lognormal(0, 0.5, x.size)
    y[:500] = 0.0  # ties
    assert kendall_tau(x, y) == pytest.approx(scipy.stats.kendalltau(x, y).statistic, abs=1e-12)
    assert spearman_rho(x, y) == pytest.approx(scipy.stats.spearmanr(x, y).statistic, abs=1e-12)


def gini_mad(x):
    x = np.asarray(x, float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * x.size**2 * x.mean()))


@pytest.fixture(scope="module")
def sens():
    return graphlabor.sensitivity(EDGES, NODES, grid=GRID)


def cold(setting):
    kw = {k.split(".", 1)[1]: v for k, v in setting.items() if k.startswith("kind_weight.")}
    r = graphlabor.attribute(EDGES, nodes=NODES, damping=setting["damping"],
                             platform_share=setting["platform_share"], kind_weights=kw, breakdown=False)
    users = r.nodes.filter(r.nodes["role"].to_numpy(zero_copy_only=False) == "user")
    return r, users


def test_every_setting_matches_a_cold_run(sens):
    rows = sens.settings.to_pylist()
    assert len(rows) == 8 and rows[0]["baseline"] and rows[0]["damping"] == 0.85
    _, base_users = cold(rows[0])
    base = np.array(base_users["attributed"].to_pylist())
    base_rank = np.array(base_users["rank"].to_pylist())
    moves = sens.moves.to_pylist()
    for row in rows:
        r, users = cold(row)
        att = np.array(users["attributed"].to_pylist())
        paid = np.array(users["paid"].to_pylist())
        total = r.summary.total_injected
        assert row["attributed_users"] == pytest.approx(att.sum(), rel=1e-9)
        assert row["unpaid_share"] == pytest.approx((att - paid).sum() / att.sum(), rel=1e-8)
        assert row["gini_attributed"] == pytest.approx(gini_mad(att), rel=1e-8)
        k = int(np.ceil(0.1 * att.size))
        assert row["top10_share"] == pytest.approx(np.sort(att)[::-1][:k].sum() / att.sum(), rel=1e-8)
        assert row["kendall_tau"] == pytest.approx(scipy.stats.kendalltau(base, att).statistic, abs=1e-9)
        assert row["spearman"] == pytest.approx(scipy.stats.spearmanr(base, att).statistic, abs=1e-9)
        rank = np.array(users["rank"].to_pylist())
        move = rank - base_rank
        assert row["max_rank_move"] == int(np.abs(move).max())
        mine = [m for m in moves if m["setting"] == row["setting"]]
        ids = users["node"].to_pylist()
        for m in mine:
            j = ids.index(m["node"])
            assert (m["rank_baseline"], m["rank"]) == (base_rank[j], rank[j])
        if mine:
            assert abs(mine[0]["move"]) == int(np.abs(move).max())
        assert np.abs(att).sum() <= total * (1 + 1e-9)


def test_warm_start_saves_iterations(sens):
    """A setting next to the previous one converges in fewer steps than from x0 = s."""
    rows = sens.settings.to_pylist()
    warm = sum(r["iterations"] for r in rows[1:])
    cold_total = sum(cold(r)[0].summary.iterations for r in rows[1:])
    assert warm < cold_total


def test_baseline_outside_the_grid_is_added():
    s = graphlabor.sensitivity(EDGES, NODES, grid={"damping": [0.3, 0.6]})
    rows = s.settings.to_pylist()
    assert [r["damping"] for r in rows] == [0.85, 0.3, 0.6]
    assert [r["in_grid"] for r in rows] == [False, True, True]
    assert rows[0]["kendall_tau"] == 1.0 and rows[0]["max_rank_move"] == 0


def test_bad_grid():
    with pytest.raises(ParameterError, match="kind_weight"):
        graphlabor.sensitivity(EDGES, grid={"alpha": [1]})
    with pytest.raises(ParameterError, match="no contribution kind 'nope'"):
        graphlabor.sensitivity(EDGES, grid={"kind_weight.nope": [1]})
    with pytest.raises(ParameterError, match="damping"):
        graphlabor.sensitivity(EDGES, grid={"damping": [1.5]})


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "graphlabor", *args], capture_output=True, text=True)


def test_cli(tmp_path):
    out, moves, js = tmp_path / "sens.csv", tmp_path / "moves.csv", tmp_path / "s.json"
    p = run_cli("sensitivity", EDGES, "--nodes", NODES, "--grid", "damping=0.5,0.7,0.85", "--grid",
                "platform_share=0,0.2", "--grid", "kind_weight.view=0.2,1", "-o", str(out),
                "--moves", str(moves), "--summary-json", str(js))
    assert p.returncode == 0, p.stderr
    t = pcsv.read_csv(out)
    assert t.num_rows == 12
    assert t.column_names[:4] == ["setting", "damping", "platform_share", "kind_weight.view"]
    assert set(pcsv.read_csv(moves).column_names) == {"setting", "node", "rank_baseline", "rank", "move"}
    assert len(json.loads(js.read_text())["settings"]) == 12


def test_cli_bad_grid_is_one_line(tmp_path):
    out = tmp_path / "s.csv"
    p = run_cli("sensitivity", EDGES, "--grid", "damping=0.5,x", "-o", str(out))
    assert p.returncode == 2 and "'x' is not a number" in p.stderr
    assert p.stderr.strip().count("\n") == 0 and not out.exists()
