"""The command line through a real subprocess, on real files of each format.

Every run is checked against the hand-computed numbers of test_hand_example.py.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

import graphlabor
from conftest import by_node, cli, edges_table
from examples import DAMPING, EDGES, KIND_WEIGHTS, PAID, ROLES, SHARE_025, TOTAL, check_rows, check_summary

HAND_OPTS = ["--damping", str(DAMPING), "--platform-share", "0.25"] + [
    a for k, w in KIND_WEIGHTS.items() for a in ("--kind-weight", f"{k}={w}")
]


def _write(table: pa.Table, path, fmt: str):
    path = str(path)
    if fmt == "parquet":
        pq.write_table(table, path)
    elif fmt == "csv":
        pacsv.write_csv(table, path)
    elif fmt == "csv.gz":
        buf = pa.BufferOutputStream()
        pacsv.write_csv(table, buf)
        with gzip.open(path, "wb") as f:
            f.write(buf.getvalue().to_pybytes())
    elif fmt == "arrow":
        with pa.ipc.new_file(path, table.schema) as w:
            w.write_table(table)
    elif fmt == "arrow-stream":
        with pa.ipc.new_stream(path, table.schema) as w:
            w.write_table(table)
    elif fmt == "feather":
        feather.write_feather(table, path)
    elif fmt == "parquet-dir":
        os.makedirs(path)
        k = table.num_rows // 3
        for i, (a, b) in enumerate([(0, k), (k, 2 * k), (2 * k, table.num_rows)]):
            pq.write_table(table.slice(a, b - a), os.path.join(path, f"part-{i}.parquet"))
        # files Spark and pyarrow ignore
        with open(os.path.join(path, "_SUCCESS"), "w"):
            pass
    else:
        raise ValueError(fmt)
    return path


FORMATS = {
    "parquet": "edges.parquet",
    "parquet-dir": "edges_dir",
    "csv": "edges.csv",
    "csv.gz": "edges.csv.gz",
    "arrow": "edges.arrow",
    "feather": "edges.feather",
}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_each_input_format(tmp_path, fmt):
    path = _write(edges_table(EDGES), tmp_path / FORMATS[fmt], fmt)
    out = tmp_path / "out.parquet"
    cli("attribute", path, *HAND_OPTS, "-o", out)
    t = pq.read_table(out)
    assert t["node"].type == pa.string()
    check_rows(by_node(t), SHARE_025)


def test_arrow_ipc_stream_file(tmp_path):
    # an .arrow file may hold the IPC stream format rather than the file format
    path = _write(edges_table(EDGES), tmp_path / "edges.arrow", "arrow-stream")
    out = tmp_path / "out.parquet"
    cli("attribute", path, *HAND_OPTS, "-o", out)
    check_rows(by_node(pq.read_table(out)), SHARE_025)


def test_several_paths_concatenated(tmp_path):
    t = edges_table(EDGES)
    a = _write(t.slice(0, 5), tmp_path / "a.csv", "csv")
    b = _write(t.slice(5, 6), tmp_path / "b.parquet", "parquet")
    c = _write(t.slice(11), tmp_path / "c.feather", "feather")
    out = tmp_path / "out.parquet"
    cli("attribute", a, b, c, *HAND_OPTS, "-o", out)
    check_rows(by_node(pq.read_table(out)), SHARE_025)


@pytest.mark.parametrize("ext", ["parquet", "csv", "json"])
def test_output_formats(tmp_path, ext):
    path = _write(edges_table(EDGES), tmp_path / "edges.parquet", "parquet")
    out = tmp_path / f"out.{ext}"
    extra = []
    if ext == "parquet":
        extra = ["--summary-json", tmp_path / "summary.json"]
    elif ext == "csv":
        extra = ["-q"]
    proc = cli("attribute", path, *HAND_OPTS, "-o", out, *extra)
    if ext == "parquet":
        rows = pq.read_table(out).to_pylist()
    elif ext == "csv":
        rows = pacsv.read_csv(out).to_pylist()
    else:
        rows = json.loads(out.read_text())
        assert isinstance(rows, list)
    got = {r["node"]: r for r in rows}
    check_rows(got, SHARE_025)
    assert [r["node"] for r in rows] == sorted(ROLES)
    if ext == "parquet":
        # --summary-json: the totals, and the terminal summary printed as well
        doc = json.loads((tmp_path / "summary.json").read_text())
        check_summary(doc, SHARE_025)
        assert doc["iterations"] >= 1 and doc["residual"] < 1e-10
        assert "210.00" in proc.stdout
    elif ext == "csv":
        assert proc.stdout == ""  # -q prints nothing
    # no temporary files left behind
    expected = {"edges.parquet", f"out.{ext}"} | ({"summary.json"} if ext == "parquet" else set())
    assert set(os.listdir(tmp_path)) == expected


def test_printed_summary_without_output(tmp_path):
    path = _write(edges_table(EDGES), tmp_path / "edges.parquet", "parquet")
    proc = cli("attribute", path, *HAND_OPTS)
    text = proc.stdout
    low = text.lower()
    for word in ("injected", "users", "platforms", "elsewhere", "paid", "unpaid", "iterations", "residual", "conservation"):
        assert word in low, word
    users = sum(v for k, v in SHARE_025.items() if ROLES[k] == "user")
    platforms = sum(v for k, v in SHARE_025.items() if ROLES[k] == "platform")
    paid = sum(PAID.values())
    for number in (TOTAL, users, platforms, paid, users - paid):
        assert f"{number:,.2f}" in text, number
    # the top users, best first: u2 89.4, w1 22.5, u1 9, w2 7.5, u3 6.6
    listed = re.findall(r"^\s*(\d+)\s+(\S+)\s+([\d,.]+)", text, flags=re.M)
    assert [(int(r), n) for r, n, _ in listed] == [(1, "u2"), (2, "w1"), (3, "u1"), (4, "w2"), (5, "u3")]
    assert [float(a.replace(",", "")) for _, _, a in listed] == [89.4, 22.5, 9.0, 7.5, 6.6]


def test_src_dst_col_and_aliases(tmp_path):
    t = edges_table(EDGES)
    renamed = t.rename_columns(["from_user", "to_thing", "kind", "weight", "amount"])
    p1 = _write(renamed, tmp_path / "renamed.parquet", "parquet")
    out1 = tmp_path / "o1.parquet"
    cli("attribute", p1, *HAND_OPTS, "--src-col", "from_user", "--dst-col", "to_thing", "-o", out1)
    check_rows(by_node(pq.read_table(out1)), SHARE_025)

    aliased = t.rename_columns(["source", "target", "kind", "weight", "amount"])
    p2 = _write(aliased, tmp_path / "aliased.csv", "csv")
    out2 = tmp_path / "o2.parquet"
    cli("attribute", p2, *HAND_OPTS, "-o", out2)
    check_rows(by_node(pq.read_table(out2)), SHARE_025)

    # without --src-col, a file with neither src nor source fails with a clear message
    proc = cli("attribute", p1, check=False)
    assert proc.returncode != 0
    assert "src" in proc.stderr and "Traceback" not in proc.stderr


def test_revenue_and_pay_kinds(tmp_path):
    rename = {"spend": "ad_buy", "fee": "commission", "pay": "wage"}
    edges = [(a, b, rename.get(k, k), w, amt) for a, b, k, w, amt in EDGES]
    path = _write(edges_table(edges), tmp_path / "edges.parquet", "parquet")
    out = tmp_path / "out.parquet"
    cli("attribute", path, *HAND_OPTS, "--revenue-kinds", "ad_buy,commission", "--pay-kinds", "wage", "-o", out)
    check_rows(by_node(pq.read_table(out)), SHARE_025)
    # with the default kinds nothing is revenue: an error that names the kinds seen and expected
    out2 = tmp_path / "out2.parquet"
    proc = cli("attribute", path, *HAND_OPTS, "-o", out2, check=False)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "no value injected" in proc.stderr and "'ad_buy'" in proc.stderr and "'spend'" in proc.stderr
    assert not out2.exists()
    # ... unless asked for: nothing injected, nothing attributed
    cli("attribute", path, *HAND_OPTS, "-o", out2, "--summary-json", tmp_path / "s.json", "--allow-empty")
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["total_injected"] == 0.0
    assert all(v == 0.0 for v in pq.read_table(out2)["attributed"].to_pylist())


def test_kind_weight_changes_split(tmp_path):
    # one platform P with 60 of spend, u1 clicks once, u2 views once;
    # click=2 gives u1 2/3 of 60 = 40 and u2 20 (damping irrelevant: no user-user edges)
    edges = [("ad", "P", "spend", 1, 60), ("u1", "P", "click", 1, None), ("u2", "P", "view", 1, None)]
    path = _write(edges_table(edges), tmp_path / "e.csv", "csv")
    out = tmp_path / "o.parquet"
    cli("attribute", path, "--kind-weight", "click=2", "-o", out)
    rows = by_node(pq.read_table(out))
    assert rows["u1"]["attributed"] == pytest.approx(40.0, abs=1e-9)
    assert rows["u2"]["attributed"] == pytest.approx(20.0, abs=1e-9)
    cli("attribute", path, "-o", out)
    rows = by_node(pq.read_table(out))
    assert rows["u1"]["attributed"] == pytest.approx(30.0, abs=1e-9)


def test_integer_ids_and_nodes_file(tmp_path):
    # int ids through CSV: they come back as integers, nodes-only ids are kept,
    # extra node columns carried
    edges = [(10, 20, "spend", 1, 50), (30, 20, "click", 1, None), (40, 20, "click", 3, None), (30, 40, "like", 1, None)]
    e = _write(edges_table(edges), tmp_path / "e.csv", "csv")
    nodes = pa.table({"id": [99, 30, 10], "value": [0.0, 10.0, 0.0], "country": ["FR", "KE", "US"]})
    n = _write(nodes, tmp_path / "n.csv", "csv")
    out = tmp_path / "o.parquet"
    cli("attribute", e, "--nodes", n, "--damping", "0.5", "-o", out)
    t = pq.read_table(out)
    assert pa.types.is_integer(t["node"].type)
    assert t["node"].to_pylist() == [10, 20, 30, 40, 99]
    rows = by_node(t)
    # P=20 holds 50, passes 50 split 1:3: 30 gets 12.5 (+10 value) = 22.5, 40 gets 37.5.
    # 30 keeps half of 22.5 = 11.25, passes 11.25 to 40; 40 acts on no user: 48.75.
    assert rows[30]["attributed"] == pytest.approx(11.25, abs=1e-9)
    assert rows[40]["attributed"] == pytest.approx(48.75, abs=1e-9)
    assert rows[99]["attributed"] == 0.0 and rows[99]["role"] == "user" and rows[99]["country"] == "FR"
    assert rows[10]["role"] == "advertiser" and rows[10]["country"] == "US"
    assert rows[40]["country"] is None
    assert rows[30]["share"] == pytest.approx(11.25 / 60, abs=1e-12)


def test_help_and_version_are_fast():
    proc = cli("--version")
    assert graphlabor.__version__ in proc.stdout
    for args in (["--help"], ["attribute", "--help"]):
        proc = cli(*args)
        assert "Usage" in proc.stdout
    assert "--kind-weight" in cli("attribute", "--help").stdout
    # --help must not import the heavy modules
    code = (
        "import sys\n"
        "from graphlabor.cli import main\n"
        "for args in (['--help'], ['--version'], ['attribute', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = [m for m in ('numba', 'pyarrow', 'pandas', 'networkx') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout


def test_console_script(tmp_path):
    exe = shutil.which("graphlabor")
    assert exe is not None, "the graphlabor console script is not on PATH"
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and graphlabor.__version__ in proc.stdout
    path = _write(edges_table(EDGES), tmp_path / "e.parquet", "parquet")
    out = tmp_path / "o.json"
    proc = subprocess.run([exe, "attribute", path, *HAND_OPTS, "-o", out], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    check_rows({r["node"]: r for r in json.loads(out.read_text())}, SHARE_025)


@pytest.mark.parametrize(
    "args, needle",
    [
        (["attribute", "no-such-file.parquet"], "no-such-file.parquet"),
        (["attribute", "EDGES", "--damping", "1.5"], "damping"),
        (["attribute", "EDGES", "-o", "out.txt"], "out.txt"),
    ],
)
def test_errors_are_one_line_with_exit_code(tmp_path, args, needle):
    path = _write(edges_table(EDGES), tmp_path / "e.parquet", "parquet")
    args = [str(path) if a == "EDGES" else a for a in args]
    proc = cli(*args, check=False, cwd=tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out.txt").exists()


def test_parameter_errors_name_the_flag(tmp_path):
    nodes = tmp_path / "nodes.parquet"
    pq.write_table(pa.table({"id": ["a"], "team": ["x"]}), nodes)
    proc = cli("attribute", tmp_path / "no_such_edges.parquet", "--nodes", nodes, "--group-by", "country", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "Error: --group-by 'country': no such column in the nodes file"
