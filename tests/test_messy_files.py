"""Messy real-world edge files: the same numbers as the clean file, or exit 2 with one line.

The corpus (:mod:`messy_corpus`) is built into a temporary directory. Each
case runs the real CLI in-process (Click's test runner) and checks one of
two outcomes:

- the per-node ``attributed`` values equal the independent dense solve of
  the clean economy (:func:`reference.attribute`), ids renamed as the case
  renames them;
- exit code 2, exactly one line on stderr, with no traceback, containing the
  case's fragments (file, column, row, value), and no output file left.

A few cases also run in a real subprocess, where pyarrow's "Exception
ignored" messages and numpy's warnings would reach stderr.
"""

from __future__ import annotations

import os

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import reference
from conftest import cli
from messy_corpus import ROWS, build

from graphlabor.cli import main


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return root, {c.name: c for c in build(root)}


def _expected(ids: dict) -> dict:
    res = reference.attribute([reference.Edge(*r) for r in ROWS])
    return {str(ids.get(v, v)): res.attributed[v] for v in res.ids}


def run_in_process(root, args, out):
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return runner.invoke(main, ["attribute", *args, "-o", str(out), "-q"], catch_exceptions=False)
    finally:
        os.chdir(cwd)


def check_outcome(case, code: int, stderr: str, out) -> None:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    if case.same:
        assert code == 0, stderr
        assert stderr == "", stderr
        table = pq.read_table(out)
        got = {str(k): v for k, v in zip(table["node"].to_pylist(), table["attributed"].to_pylist())}
        want = _expected(case.ids)
        assert sorted(got) == sorted(want)
        for k in want:
            assert got[k] == pytest.approx(want[k], rel=case.rel or 1e-12, abs=1e-9), k
    else:
        assert code == 2, stderr
        lines = stderr.strip("\n").split("\n")
        assert len(lines) == 1, stderr
        assert lines[0].startswith("Error: ")
        line = lines[0]
        assert line.isprintable(), repr(line)
        for fragment in case.expect:
            assert fragment in line, (fragment, line)
        assert not out.exists()


def _cases():
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return [c.name for c in build(d)]


@pytest.mark.parametrize("name", _cases())
def test_corpus_case(corpus, tmp_path, name):
    root, cases = corpus
    case = cases[name]
    out = tmp_path / "out.parquet"
    result = run_in_process(root, case.args, out)
    check_outcome(case, result.exit_code, result.stderr, out)
    assert sorted(os.listdir(tmp_path)) == (["out.parquet"] if case.same else [])


@pytest.mark.parametrize("name", [
    "Parquet bytes in a .csv", "subnormal weights", "weights whose sum overflows", "Hive-partitioned directory (kind=...)",
])
def test_corpus_case_in_subprocess(corpus, tmp_path, name):
    """The real process: no "Exception ignored", no numpy warning, one line."""
    root, cases = corpus
    case = cases[name]
    out = tmp_path / "out.parquet"
    proc = cli("attribute", *case.args, "-o", out, "-q", cwd=root, check=False, env={"PYTHONWARNINGS": "error"})
    check_outcome(case, proc.returncode, proc.stderr, out)


def test_allow_empty_accepts_empty_input(corpus, tmp_path):
    root, _ = corpus
    for name in ("empty0.csv", "header_only.csv", "empty.parquet"):
        out = tmp_path / f"{name}.parquet"
        r = run_in_process(root, [name, "--allow-empty"], out)
        assert r.exit_code == 0, r.stderr
        assert pq.read_table(out).num_rows == 0


def test_allow_empty_accepts_no_revenue(corpus, tmp_path):
    root, _ = corpus
    out = tmp_path / "out.parquet"
    r = run_in_process(root, ["no_revenue.csv", "--allow-empty"], out)
    assert r.exit_code == 0, r.stderr
    assert set(pq.read_table(out)["attributed"].to_pylist()) == {0.0}


def test_summary_states_the_columns_used(corpus):
    root, _ = corpus
    cwd = os.getcwd()
    os.chdir(root)
    try:
        r = CliRunner().invoke(main, ["attribute", "Weight.csv"], catch_exceptions=False)
    finally:
        os.chdir(cwd)
    assert r.exit_code == 0, r.stderr
    line = next(x for x in r.stdout.splitlines() if x.startswith("columns read"))
    assert "src=src" in line and "kind=Kind" in line and "weight=Weight" in line and "amount=Amount" in line
