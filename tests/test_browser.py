"""The report in a real browser: Debian's Chromium, headless, driven by Selenium.

Asserts that the page loads with no console message at all (errors, CSP
violations, failed loads), that the browser fetched nothing but the page
itself (DevTools network log and the resource-timing API), that every plot
is rendered (an SVG with a real size and drawn marks), that the page's one
script ran (it fills in the top users' count), and that hostile ids are
shown as text while nothing they carry executes.

Skipped, with the reason, only where Chromium, chromedriver or Selenium is
missing (``.ci/run`` installs them: ``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import graphlabor

EDGES = graphlabor.example_path("edges")
NODES = graphlabor.example_path("nodes")


def _find(names, env):
    if os.environ.get(env):
        return os.environ[env]
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    return None


CHROMIUM = _find(["chromium", "chromium-browser", "google-chrome"], "GRAPHLABOR_CHROMIUM")
DRIVER = _find(["chromedriver"], "GRAPHLABOR_CHROMEDRIVER")
try:
    import selenium  # noqa: F401

    HAVE_SELENIUM = True
except ImportError:
    HAVE_SELENIUM = False

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER and HAVE_SELENIUM),
    reason=("no browser to test the report in: "
            + ", ".join(x for x, ok in (("chromium", CHROMIUM), ("chromedriver", DRIVER), ("selenium", HAVE_SELENIUM)) if not ok)
            + " missing (Debian: apt-get install chromium chromium-driver; pip install selenium)"),
)

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900"]


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gl-chromium-")
    opts = webdriver.ChromeOptions()
    for f in FLAGS + [f"--user-data-dir={profile}"]:
        opts.add_argument(f)
    opts.binary_location = CHROMIUM
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def load(driver, path):
    import json

    driver.get("about:blank")
    driver.get_log("browser")  # drop what the start page logged
    driver.get_log("performance")
    driver.get("file://" + os.path.abspath(path))
    driver.execute_script("return document.readyState")
    console = driver.get_log("browser")
    perf = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    requested = [m["params"]["request"]["url"] for m in perf if m["method"] == "Network.requestWillBeSent"]
    return console, requested


def check_page(driver, path, n_plots):
    console, requested = load(driver, path)
    assert console == [], console
    page_url = "file://" + os.path.abspath(path)
    assert [u for u in requested if u != page_url and not u.startswith("data:")] == []
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    figs = driver.execute_script("""
        return Array.from(document.querySelectorAll('figure.plot-figure')).map(function (f) {
          var svg = f.querySelector('svg'); var r = svg.getBoundingClientRect();
          return [f.getAttribute('data-plot'), r.width, r.height,
                  svg.querySelectorAll('path, rect, use, image, text').length];
        });""")
    assert len(figs) == n_plots
    for name, w, h, marks in figs:
        assert w > 200 and h > 100 and marks > 10, (name, w, h, marks)
    # the page's own script ran (the CSP allows it by hash, and only it)
    rows = driver.execute_script("return document.querySelectorAll('#gl-top tbody tr').length")
    assert driver.execute_script("return document.getElementById('gl-top-count').textContent") == str(rows)
    return figs


def test_example_report_in_chromium(browser, tmp_path):
    out = tmp_path / "report.html"
    p = subprocess.run([sys.executable, "-m", "graphlabor", "report", EDGES, "--nodes", NODES, "--group-by", "family",
                        "--min-wage", "15", "--period", "quarter", "--levy", "0.1", "--floor", "15",
                        "--grid", "damping=0.5,0.85", "-o", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    check_page(browser, out, 11)
    # sorting by a column works (the script's click handler): the id column comes out in ascending order
    ids_js = "return Array.from(document.querySelectorAll('#gl-top tbody tr td:nth-child(2)'), td => td.textContent)"
    before = browser.execute_script(ids_js)
    browser.execute_script("document.querySelectorAll('#gl-top th')[1].click()")
    after = browser.execute_script(ids_js)
    assert before != sorted(before), "the table must not already be in id order, or the click proves nothing"
    assert after == sorted(before)


def labels_apart(driver, svg_selector):
    """No two text boxes of the SVG overlap (by more than half a pixel either way) as Chromium lays them out;
    returns the texts."""
    boxes = driver.execute_script("""
        return Array.from(document.querySelector(arguments[0]).querySelectorAll('text')).map(function (t) {
          var r = t.getBoundingClientRect(); return [t.textContent, r.left, r.top, r.right, r.bottom];
        });""", svg_selector)
    assert boxes
    for i, (a, al, at, ar, ab) in enumerate(boxes):
        for b, bl, bt, br, bb in boxes[i + 1:]:
            assert min(ar, br) - max(al, bl) <= 0.5 or min(ab, bb) - max(at, bt) <= 0.5, (a, b)
    return [b[0] for b in boxes]


def test_flow_labels_apart_in_chromium(browser, tmp_path):
    """The money-flow diagram's labels do not overlap on the bundled example (two thin platform families) nor on
    a crowded diagram (eleven thin families, seven thin user groups)."""
    from graphlabor.report import plots

    out = tmp_path / "report.html"
    p = subprocess.run([sys.executable, "-m", "graphlabor", "report", EDGES, "--nodes", NODES, "--group-by", "family",
                        "-o", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    browser.get("file://" + str(out))
    texts = labels_apart(browser, 'figure[data-plot="flow"] svg')
    assert {"social", "45.2", "microwork", "35.5"} <= set(texts)  # the two thin families' labels, each line
    mids = [("big", 5000.0, 2000.0, 100.0)] + [(f"fam{i}", 30.0 + i, 10.0 + 3 * i, 1.0) for i in range(11)]
    groups = [("g0", 4000.0, 1500.0)] + [(f"group{j}", 20.0 + j, 5.0) for j in range(7)]
    total = sum(sum(m[1:]) for m in mids)
    page = tmp_path / "crowded.html"
    page.write_text("<!DOCTYPE html><html><body>" + plots.flow_diagram(total, mids, groups)
                    + plots.flow_diagram(total, mids, None) + "</body></html>", encoding="utf-8")
    browser.get("file://" + str(page))
    for k in (1, 2):
        texts = labels_apart(browser, f"svg:nth-of-type({k})")
        assert "fam10" in texts and ("group6: paid 26, unpaid 5" in texts) == (k == 1)


def test_hostile_ids_show_as_text_and_nothing_executes(browser, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    from hostile import HOSTILE, hostile_report

    out = tmp_path / "hostile.html"
    users = hostile_report(out)
    check_page(browser, out, 8)
    assert browser.execute_script("return window.__pwned === undefined")
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018
    assert browser.execute_script("return document.querySelectorAll('img').length") == 0
    assert browser.title == HOSTILE[0]
    text = browser.execute_script("return document.body.textContent")
    for u in users[:3]:
        assert u in text, u
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#gl-top td.t')).map(function (td) { return td.textContent; })")
    assert set(users) & set(shown)
