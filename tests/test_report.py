"""graphlabor report: one self-contained, small, safe HTML file.

Checked with Python's own HTML parser (independent of how the page was
written): every section and figure is there, nothing is fetched (no src,
href to anything but in-page anchors, no url() but in-SVG references),
only the two known scripts exist, no element carries an event-handler
attribute, hostile ids come back as text and, inside the JSON block, as the
same strings; the file stays small as the graph grows. The flow diagram's
label placement (``plots.spread``) against scipy's constrained least
squares. The browser test (tests/test_browser.py) loads the same pages in
Chromium and checks that no two labels of the flow diagram overlap there.
"""

from __future__ import annotations

import html.parser
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphlabor
from hostile import hostile_report

EDGES = graphlabor.example_path("edges")
NODES = graphlabor.example_path("nodes")



class Page(html.parser.HTMLParser):
    """Collects tags, attributes, script bodies and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.text: list[str] = []
        self._in_script: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "script":
            self._in_script = a
            self.scripts.append((a, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None

    def handle_data(self, data):
        if self._in_script is not None:
            a, body = self.scripts[-1]
            self.scripts[-1] = (a, body + data)
        else:
            self.text.append(data)


def parse(doc: str) -> Page:
    p = Page()
    p.feed(doc)
    p.close()
    return p


def assert_self_contained(doc: str, p: Page):
    for tag, a in p.tags:
        assert not any(k.startswith("on") for k in a), (tag, a)
        assert "src" not in a, (tag, a)
        if tag in ("link", "iframe", "object", "embed", "img", "audio", "video", "base", "form"):
            raise AssertionError(f"<{tag}> in the page")
        for k in ("href", "xlink:href"):
            v = a.get(k)
            if v is not None:
                assert v.startswith("#") or v.startswith("data:"), (tag, k, v)
    assert "@import" not in doc
    for m in re.finditer(r"url\(([^)]*)\)", doc):
        assert m.group(1).strip("'\"").startswith("#"), m.group(0)
    assert len(p.scripts) == 2
    assert p.scripts[0][0] == {"type": "application/json", "id": "gl-data"}
    assert p.scripts[1][0] == {}
    from graphlabor.report.page import SCRIPT

    assert p.scripts[1][1] == SCRIPT
    meta = [a for t, a in p.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert len(meta) == 1 and meta[0]["content"].startswith("default-src 'none'; script-src 'sha256-")


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "graphlabor", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def example_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("rep") / "report.html"
    p = run_cli("report", EDGES, "--nodes", NODES, "--group-by", "family", "--min-wage", "15", "--period", "month",
                "--levy", "0.1", "--floor", "15", "--grid", "damping=0.5,0.85", "--grid", "platform_share=0,0.2",
                "-o", str(out))
    assert p.returncode == 0, p.stderr
    return out.read_text(encoding="utf-8")


SECTIONS = ["summary", "inequality", "platforms", "kinds", "time", "top", "redistribution", "sensitivity", "parameters"]
PLOTS = ["flow", "lorenz", "scatter", "lorenz-groups", "per-hour", "platforms", "kinds", "series", "series-groups",
         "redistribution", "sensitivity"]


def test_example_report_has_every_section_and_plot(example_report):
    p = parse(example_report)
    assert_self_contained(example_report, p)
    ids = [a.get("id") for t, a in p.tags if t == "section"]
    assert ids == SECTIONS
    plots = [a["data-plot"] for t, a in p.tags if t == "figure"]
    assert plots == PLOTS
    assert sum(1 for t, _ in p.tags if t == "svg") == len(PLOTS)
    text = " ".join(p.text)
    e = pd.read_parquet(EDGES)
    revenue = e[e.kind.isin(["spend", "fee"])].amount.sum()
    assert f"{revenue:,.2f}" in text  # the total injected, computed from the raw edges
    for fam in ("social", "microwork", "ondemand"):
        assert fam in text
    assert "docs/model.md" in text and "minimum wage 15" in example_report
    data = json.loads(p.scripts[0][1])
    assert len(data["top_users"]) == 25
    assert len(example_report.encode()) < 5e6


def test_hostile_ids_are_text_and_nothing_can_execute(tmp_path):
    out = tmp_path / "hostile.html"
    users = hostile_report(out)
    doc = out.read_text(encoding="utf-8")
    p = parse(doc)
    assert_self_contained(doc, p)
    # raw markup from the data never appears unescaped
    assert not re.search(r"<img", doc)
    assert not re.search(r"<svg onload", doc)
    assert doc.count("<script") == 2
    # the ids come back as text: in table cells, and exactly in the JSON block
    text = "".join(p.text)
    for u in users[:4]:
        assert u in text, u
    data = json.loads(p.scripts[0][1])
    assert {row["node"] for row in data["top_users"]} <= set(users)
    assert set(users) & {row["node"] for row in data["top_users"]}
    assert "</" not in p.scripts[0][1] and "<" not in p.scripts[0][1]
    # long ids are kept whole in the tables (CSS wraps them), shortened in plots
    assert "u" * 5000 in text


def test_size_stays_bounded_at_scale(tmp_path):
    """50,000 users, 300 platforms, 40 kinds, 2,000 groups: aggregates only, a small file."""
    rng = np.random.default_rng(1)
    n_users, n_plat, m = 50_000, 300, 200_000
    u = rng.integers(0, n_users, m)
    p = rng.integers(0, n_plat, m)
    kinds = np.array([f"k{i}" for i in range(40)])[rng.integers(0, 40, m)]
    users = np.char.add("u", u.astype(str))
    plats = np.char.add("p", p.astype(str))
    rev = pd.DataFrame({"src": "ads", "dst": [f"p{i}" for i in range(n_plat)], "kind": "spend", "amount": rng.pareto(1.2, n_plat) + 1})
    pay = pd.DataFrame({"src": plats[:5000], "dst": users[:5000], "kind": "pay", "amount": rng.random(5000)})
    con = pd.DataFrame({"src": users, "dst": plats, "kind": kinds})
    edges = pd.concat([rev, pay, con], ignore_index=True)
    ids = np.char.add("u", np.arange(n_users).astype(str))
    nodes = pd.DataFrame({"id": ids, "country": np.char.add("c", (np.arange(n_users) % 2000).astype(str)),
                          "hours": rng.random(n_users) * 100})
    r = graphlabor.attribute(edges, nodes, group_by="country")
    out = tmp_path / "big.html"
    r.report(out, group_by="country", min_wage=10)
    size = out.stat().st_size
    assert size < 5e6
    doc = out.read_text(encoding="utf-8")
    page = parse(doc)
    assert_self_contained(doc, page)
    assert "density (60 x 60 log bins)" in doc
    assert size < 2e6  # far under the limit: nothing per user or per edge


def test_api_report_and_bad_group(tmp_path):
    r = graphlabor.attribute(EDGES, nodes=NODES)
    out = tmp_path / "r.html"
    r.report(out)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    with pytest.raises(graphlabor.ParameterError, match="group_by"):
        r.report(tmp_path / "x.html", group_by="nope")
    assert not (tmp_path / "x.html").exists()


def test_missing_matplotlib_says_how_to_install(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None; from graphlabor.cli import main; "
            f"main(['report', {EDGES!r}, '-o', {str(tmp_path / 'r.html')!r}])")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stderr.strip() == "Error: graphlabor report needs matplotlib: pip install matplotlib"
    assert not (tmp_path / "r.html").exists()


@settings(deadline=None, max_examples=60)
@given(st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.01, 0.2)), min_size=1, max_size=7))
def test_spread_labels_against_least_squares(labels):
    """The flow diagram's labels (plots.spread): in order, apart, and where the sum of squared moves is least
    (scipy's SLSQP on the same constraints: each label at least half of both heights above the one below it)."""
    from scipy.optimize import minimize

    from graphlabor.report.plots import spread

    centers, heights = [c for c, _ in labels], [h for _, h in labels]
    got = spread(centers, heights, -10.0, 10.0)  # bounds far away: the stacking alone
    order = sorted(range(len(centers)), key=lambda i: (centers[i], i))
    for a, b in zip(order, order[1:]):
        assert got[b] - got[a] >= (heights[a] + heights[b]) / 2 - 1e-12
    if all(centers[b] - centers[a] >= (heights[a] + heights[b]) / 2 for a, b in zip(order, order[1:])):
        assert got == pytest.approx(centers, rel=0, abs=1e-12)  # nothing collides: nothing moves
    cons = [{"type": "ineq", "fun": lambda p, a=a, b=b: p[b] - p[a] - (heights[a] + heights[b]) / 2}
            for a, b in zip(order, order[1:])]
    best = minimize(lambda p: float(np.sum((p - centers) ** 2)), np.array(got) + 0.01, constraints=cons,
                    method="SLSQP", options={"ftol": 1e-14, "maxiter": 500})
    assert best.success, best.message
    assert sum((g - c) ** 2 for g, c in zip(got, centers)) <= best.fun + 1e-9
    np.testing.assert_allclose(got, best.x, atol=1e-5)
    if sum(heights) <= 1.0:  # room enough between 0 and 1: every label inside, still in order and apart
        inside = spread(centers, heights, 0.0, 1.0)
        assert all(p - h / 2 >= -1e-12 and p + h / 2 <= 1.0 + 1e-12 for p, h in zip(inside, heights))
        for a, b in zip(order, order[1:]):
            assert inside[b] - inside[a] >= (heights[a] + heights[b]) / 2 - 1e-12


def test_spread_stays_within_bounds():
    from graphlabor.report.plots import spread

    got = spread([0.0, 0.0, 0.01, 0.98], [0.1, 0.1, 0.1, 0.1], 0.0, 1.0)
    assert got == pytest.approx([0.05, 0.15, 0.25, 0.95])  # pushed up from lo and down from hi, in order
    assert spread([0.5], [2.0], 0.0, 1.0) == [1.0]  # taller than the room: starts at lo
