"""Bad input, through the real CLI: one line on stderr, the right exit code, nothing written.

Every kind of bad input (missing file or column, bad value, bad option) runs ``python -m graphlabor attribute ...`` in a
subprocess and checks:

- the exit code: 2 for bad input or usage, 1 for other failures;
- stderr is exactly one line, with no traceback, and names what the case
  needs (file, column, 0-based row, value);
- nothing is written: ``-o`` points at an existing output whose bytes must
  stay the same, ``--summary-json`` at a file that must not appear, and the
  output directory holds the same names afterwards (no temporary files).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import cli

OLD_BYTES = b"node,attributed\nold,1\n"

# a small valid graph: advertiser -> platform, two users acting on it, one
# user engaging with the other
EDGES = {
    "src": ["ads", "a", "b", "a"],
    "dst": ["P", "P", "P", "b"],
    "kind": ["spend", "click", "click", "view"],
    "weight": [1.0, 2.0, 1.0, 1.0],
    "amount": [100.0, None, None, None],
}
GOOD_CSV = "src,dst,kind,weight,amount\nads,P,spend,1,100\na,P,click,2,\nb,P,click,1,\na,b,view,1,\n"


@pytest.fixture
def out(tmp_path):
    """An output directory holding an existing output file."""
    d = tmp_path / "out"
    d.mkdir()
    (d / "existing.csv").write_bytes(OLD_BYTES)
    return d


def write_parquet(path, cols: dict, schema=None) -> str:
    pq.write_table(pa.table(cols, schema=schema), path)
    return str(path)


def fails(out, *args, code=2, expect=(), run=cli, cwd=None):
    """Run the CLI with -o over an existing file; assert a clean one-line failure.

    Returns the error line.
    """
    before = sorted(os.listdir(out))
    proc = run(
        "attribute", *args, "-o", out / "existing.csv", "--summary-json", out / "summary.json",
        check=False, cwd=cwd,
    )
    err = proc.stderr
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, f"stderr is not one line:\n{err}"
    line = lines[0]
    assert proc.returncode == code, f"exit {proc.returncode}, expected {code}: {line}"
    assert line.startswith("Error: "), line
    for part in expect:
        assert part in line, f"{part!r} not in message: {line}"
    assert (out / "existing.csv").read_bytes() == OLD_BYTES, "existing output was modified"
    assert not (out / "summary.json").exists(), "summary was written"
    assert sorted(os.listdir(out)) == before, "files were left in the output directory"
    return line


# ---------------------------------------------------------------- files


def test_missing_file(tmp_path, out):
    fails(out, tmp_path / "nope.parquet", expect=["nope.parquet", "no such file"])


def test_missing_nodes_file(tmp_path, out):
    edges = write_parquet(tmp_path / "e.parquet", EDGES)
    fails(out, edges, "--nodes", tmp_path / "nodes.csv", expect=["nodes.csv", "no such file"])


def test_directory_without_data_files(tmp_path, out):
    d = tmp_path / "dataset"
    d.mkdir()
    (d / "README.txt").write_text("no data here\n")
    (d / "_SUCCESS").write_text("")
    fails(out, d, expect=[str(d), "no Parquet data files"])


def test_unknown_extension(tmp_path, out):
    p = tmp_path / "edges.txt"
    p.write_text(GOOD_CSV)
    fails(out, p, expect=["edges.txt", "unknown file extension", ".csv"])


def test_garbage_parquet(tmp_path, out):
    p = tmp_path / "edges.parquet"
    p.write_bytes(os.urandom(4096))
    fails(out, p, expect=["edges.parquet", "Parquet"])


def test_parquet_with_magic_but_garbage_footer(tmp_path, out):
    p = tmp_path / "edges.parquet"
    p.write_bytes(b"PAR1" + os.urandom(2000) + (500).to_bytes(4, "little") + b"PAR1")
    fails(out, p, expect=["edges.parquet", "Parquet"])


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.999])
def test_truncated_parquet(tmp_path, out, keep):
    full = tmp_path / "full.parquet"
    n = 20_000
    write_parquet(full, {"src": list(range(n)), "dst": list(range(1, n + 1)), "weight": [1.0] * n})
    data = full.read_bytes()
    p = tmp_path / "edges.parquet"
    p.write_bytes(data[: int(len(data) * keep)])
    fails(out, p, expect=["edges.parquet", "Parquet"])


def test_truncated_csv_gz(tmp_path, out):
    import gzip

    data = gzip.compress(("src,dst\n" + "".join(f"{i},{i + 1}\n" for i in range(50_000))).encode())
    p = tmp_path / "edges.csv.gz"
    p.write_bytes(data[: len(data) // 2])
    fails(out, p, expect=["edges.csv.gz"])


# ---------------------------------------------------------------- CSV text


def test_csv_invalid_utf8_in_id(tmp_path, out):
    p = tmp_path / "edges.csv"
    # row 2 holds 'café' in Latin-1: 0xe9 is not UTF-8 on its own
    p.write_bytes("src,dst\nalice,bob\nbob,carol\ncaf\xe9,bob\n".encode("latin-1"))
    fails(out, p, expect=["edges.csv", "column 'src'", "row 2", "caf\\xe9", "UTF-8"])


def test_csv_invalid_utf8_in_kind(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_bytes("src,dst,kind\n1,2,click\n2,3,r\xe9ponse\n".encode("latin-1"))
    fails(out, p, expect=["edges.csv", "column 'kind'", "row 1", "r\\xe9ponse", "UTF-8"])


def test_csv_invalid_utf8_in_nodes(tmp_path, out):
    edges = tmp_path / "edges.csv"
    edges.write_text("src,dst\nx,y\n")
    nodes = tmp_path / "nodes.csv"
    nodes.write_bytes("id,country\nx,France\ny,M\xe9xico\n".encode("latin-1"))
    fails(out, edges, "--nodes", nodes, expect=["nodes.csv", "column 'country'", "row 1", "UTF-8"])


def test_csv_invalid_utf8_header(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_bytes(b"src,d\xffst\n1,2\n")
    fails(out, p, expect=["edges.csv", "header", "UTF-8"])


def test_csv_too_few_fields(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_text("src,dst,weight\n1,2,1\n2,3,1\n3,4\n4,5,1\n")
    fails(out, p, expect=["edges.csv", "row 2", "'3,4'", "expected 3 fields", "found 2"])


def test_csv_too_many_fields_after_quoted_newline(tmp_path, out):
    # a quoted value spanning two lines is one record; the blank line is skipped
    p = tmp_path / "edges.csv"
    p.write_text('src,dst\n"multi\nline",b\n\nb,c\nc,d,extra\n')
    fails(out, p, expect=["edges.csv", "row 2", "'c,d,extra'", "expected 2 fields", "found 3"])


def test_csv_ragged_deep_in_large_file(tmp_path, out):
    # past pyarrow's first block, where the schema is inferred
    n = 300_000
    lines = [f"{i},{i + 1}\n" for i in range(n)]
    lines[n - 5] = "7,8,9\n"
    p = tmp_path / "edges.csv"
    p.write_text("src,dst\n" + "".join(lines))
    fails(out, p, expect=["edges.csv", f"row {n - 5}", "'7,8,9'", "found 3"])


# ---------------------------------------------------------------- columns


@pytest.mark.parametrize("missing", ["src", "dst"])
def test_missing_id_column(tmp_path, out, missing):
    cols = {k: v for k, v in EDGES.items() if k != missing}
    p = write_parquet(tmp_path / "edges.parquet", cols)
    fails(out, p, expect=["edges.parquet", f"missing required column {missing!r}", "columns are"])


def test_missing_column_named_by_option(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_text(GOOD_CSV)
    fails(out, p, "--src-col", "from", expect=["edges.csv", "'from'"])


def test_src_dst_different_types(tmp_path, out):
    p = write_parquet(tmp_path / "edges.parquet", {"src": [1, 2, 3], "dst": ["a", "b", "c"]})
    line = fails(out, p, expect=["edges.parquet", "'src'", "'dst'", "integer ids", "text ids"])
    assert "int64" not in line and "string" not in line


def test_nodes_id_type_differs_parquet(tmp_path, out):
    edges = write_parquet(tmp_path / "edges.parquet", {"src": [1, 2], "dst": [2, 3]})
    nodes = write_parquet(tmp_path / "nodes.parquet", {"id": ["1", "2"], "role": ["user", "user"]})
    fails(out, edges, "--nodes", nodes, expect=["nodes.parquet", "column 'id'", "text ids", "integers"])


def test_nodes_id_type_differs_csv(tmp_path, out):
    edges = tmp_path / "edges.csv"
    edges.write_text("src,dst\n1,2\n2,3\n")
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,role\n1,user\n2,user\nthree,user\n")
    fails(out, edges, "--nodes", nodes, expect=["nodes.csv", "column 'id'", "row 2", "'three'", "integers"])


def test_null_id_parquet(tmp_path, out):
    p = write_parquet(tmp_path / "edges.parquet", {"src": ["a", "b", "c", "d"], "dst": ["b", "c", "d", None]})
    fails(out, p, expect=["edges.parquet", "column 'dst'", "row 3", "null"])


def test_null_id_csv_integers(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_text("src,dst\n1,2\n,3\n")
    fails(out, p, expect=["edges.csv", "column 'src'", "row 1", "empty"])


def test_null_id_csv_strings(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_text("src,dst\na,b\nb,c\nc,\n")
    fails(out, p, expect=["edges.csv", "column 'dst'", "row 2", "empty"])


def test_null_id_nodes(tmp_path, out):
    edges = write_parquet(tmp_path / "edges.parquet", {"src": [1, 2], "dst": [2, 3]})
    nodes = write_parquet(tmp_path / "nodes.parquet", {"id": pa.array([1, None, 3], pa.int64())})
    fails(out, edges, "--nodes", nodes, expect=["nodes.parquet", "column 'id'", "row 1", "null"])


BAD_NUMBERS = [(float("nan"), "nan", "NaN"), (float("inf"), "inf", "infinite"), (-2.5, "-2.5", "negative")]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("column", ["weight", "amount"])
@pytest.mark.parametrize("bad,text,what", BAD_NUMBERS, ids=["nan", "inf", "negative"])
def test_bad_number(tmp_path, out, fmt, column, bad, text, what):
    cols = {k: list(v) for k, v in EDGES.items()}
    row = 0 if column == "amount" else 2
    cols[column][row] = bad
    if fmt == "parquet":
        p = write_parquet(tmp_path / "edges.parquet", cols)
    else:
        p = tmp_path / "edges.csv"
        rows = zip(*cols.values())
        p.write_text(
            ",".join(cols) + "\n"
            + "".join(",".join("" if v is None else (text if v is bad else str(v)) for v in r) + "\n" for r in rows)
        )
    fails(out, p, expect=[f"edges.{fmt}", f"column {column!r}", f"row {row}", f"(value {bad!r})", what])


def test_weight_not_a_number_csv(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_text("src,dst,weight\na,b,1\nb,c,heavy\n")
    fails(out, p, expect=["edges.csv", "column 'weight'", "row 1", "'heavy'", "not a number"])


def test_negative_node_value(tmp_path, out):
    edges = tmp_path / "edges.csv"
    edges.write_text("src,dst\na,b\n")
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,value\na,1\nb,-3\n")
    fails(out, edges, "--nodes", nodes, expect=["nodes.csv", "column 'value'", "row 1", "-3.0", "negative"])


@pytest.mark.parametrize("kind", ["spend", "fee", "pay"])
def test_money_edge_without_amount(tmp_path, out, kind):
    cols = {k: list(v) for k, v in EDGES.items()}
    cols["src"].append("P" if kind == "pay" else "ads")
    cols["dst"].append("a" if kind == "pay" else "P")
    cols["kind"].append(kind)
    cols["weight"].append(1.0)
    cols["amount"].append(None)
    p = write_parquet(tmp_path / "edges.parquet", cols)
    fails(out, p, expect=["edges.parquet", "column 'amount'", "row 4", repr(kind), "needs an amount"])


def test_money_edge_without_amount_column(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_text("src,dst,kind\na,P,click\nP,a,pay\n")
    fails(out, p, expect=["edges.csv", "column 'amount'", "row 1", "'pay'", "no 'amount' column"])


def test_custom_revenue_kind_without_amount(tmp_path, out):
    p = tmp_path / "edges.csv"
    p.write_text("src,dst,kind,amount\nads,P,spend,10\nrider,P,fare,\n")
    fails(out, p, "--revenue-kinds", "spend,fare", expect=["edges.csv", "column 'amount'", "row 1", "'fare'"])


# ---------------------------------------------------------------- nodes file


def test_nodes_duplicate_ids(tmp_path, out):
    edges = tmp_path / "edges.csv"
    edges.write_text(GOOD_CSV)
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,role\nads,advertiser\nP,platform\na,user\nP,user\n")
    # reported at the repeated row (3), not where the id first appears (1)
    fails(out, edges, "--nodes", nodes, expect=["nodes.csv", "column 'id'", "row 3", "'P'", "duplicate"])


def test_nodes_unknown_role(tmp_path, out):
    edges = tmp_path / "edges.csv"
    edges.write_text(GOOD_CSV)
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,role\nads,advertiser\nP,platform\na,boss\n")
    fails(out, edges, "--nodes", nodes, expect=["nodes.csv", "column 'role'", "row 2", "'boss'", "unknown role"])


def test_nodes_role_wrong_type(tmp_path, out):
    edges = write_parquet(tmp_path / "edges.parquet", EDGES)
    nodes = write_parquet(tmp_path / "nodes.parquet", {"id": ["a"], "role": [1]})
    fails(out, edges, "--nodes", nodes, expect=["nodes.parquet", "column 'role'", "int64"])


def test_nodes_missing_id_column(tmp_path, out):
    edges = write_parquet(tmp_path / "edges.parquet", EDGES)
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("node,role\na,user\n")
    fails(out, edges, "--nodes", nodes, expect=["nodes.csv", "missing required column 'id'"])


def test_declared_advertiser_receives_revenue(tmp_path, out):
    edges = tmp_path / "edges.csv"
    edges.write_text(GOOD_CSV)
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,role\nads,advertiser\nP,advertiser\n")
    fails(out, edges, "--nodes", nodes, expect=["nodes.csv: column 'role', row 1 (value 'advertiser')", "'P'", "receives revenue", "edges.csv: row 0", "'spend'"])


def test_declared_advertiser_sends_pay(tmp_path, out):
    edges = tmp_path / "edges.csv"
    edges.write_text("src,dst,kind,amount\na,Y,click,\nX,a,pay,5\n")
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,role\na,user\nX,advertiser\n")
    fails(out, edges, "--nodes", nodes, expect=["nodes.csv: column 'role', row 1 (value 'advertiser')", "'X'", "sends pay", "edges.csv: row 1", "'pay'"])


# ---------------------------------------------------------------- options


@pytest.fixture
def good(tmp_path):
    p = tmp_path / "edges.csv"
    p.write_text(GOOD_CSV)
    return p


@pytest.mark.parametrize("value", ["click", "=2", "click=", "click=abc", "click=-1", "click=inf", "click=nan"])
def test_malformed_kind_weight(good, out, value):
    fails(out, good, "--kind-weight", value, expect=["--kind-weight", value])


@pytest.mark.parametrize("value", ["-0.1", "1", "1.5", "nan"])
def test_damping_out_of_range(good, out, value):
    fails(out, good, "--damping", value, expect=["damping", "[0, 1)"])


def test_damping_not_a_number(good, out):
    fails(out, good, "--damping", "high", expect=["--damping", "'high'"])


@pytest.mark.parametrize("value", ["-0.1", "1.01", "nan"])
def test_platform_share_out_of_range(good, out, value):
    fails(out, good, "--platform-share", value, expect=["--platform-share", "[0, 1]"])


@pytest.mark.parametrize("value", ["0", "-1e-10", "nan", "inf"])
def test_tol_not_positive(good, out, value):
    fails(out, good, "--tol", value, expect=["tol", "positive"])


def test_max_iter_zero(good, out):
    fails(out, good, "--max-iter", "0", expect=["--max-iter"])


def test_unknown_option(good, out):
    fails(out, good, "--dampign", "0.5", expect=["--dampign"])


def test_revenue_and_pay_kinds_overlap(good, out):
    fails(out, good, "--pay-kinds", "pay,spend", expect=["spend", "both revenue and pay"])


# ---------------------------------------------------------------- outputs


def _run_out(*args):
    return cli("attribute", *args, check=False)


def _one_line_failure(proc, code, expect):
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert proc.returncode == code, proc.stderr
    for part in expect:
        assert part in lines[0], lines[0]


@pytest.mark.parametrize("which", ["-o", "--summary-json"])
def test_output_in_missing_directory(good, tmp_path, out, which):
    target = tmp_path / "missing" / ("out.csv" if which == "-o" else "s.json")
    other = ["--summary-json", out / "s.json"] if which == "-o" else ["-o", out / "existing.csv"]
    proc = _run_out(good, which, target, *other)
    _one_line_failure(proc, 2, [str(target), "does not exist"])
    assert not (tmp_path / "missing").exists()
    assert (out / "existing.csv").read_bytes() == OLD_BYTES
    assert sorted(os.listdir(out)) == ["existing.csv"]


def test_output_unknown_extension(good, out):
    proc = _run_out(good, "-o", out / "result.xlsx")
    _one_line_failure(proc, 2, ["result.xlsx", "extension"])
    assert sorted(os.listdir(out)) == ["existing.csv"]


def test_output_is_a_directory(good, out):
    (out / "sub.csv").mkdir()
    proc = _run_out(good, "-o", out / "sub.csv")
    _one_line_failure(proc, 2, ["sub.csv", "directory"])


def _immutable(path) -> bool:
    """Make a directory read-only (chmod; chattr +i for root, who ignores permission bits).

    False where that is impossible or not enforced (no chattr, or a bind mount
    or filesystem that ignores it): a probe write tells.
    """
    if os.geteuid() != 0:
        os.chmod(path, 0o555)
    elif shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        return False
    try:  # is it really read-only?
        (path / ".probe").write_bytes(b"")
    except OSError:
        return True
    os.unlink(path / ".probe")
    _mutable(path)
    return False


def _mutable(path) -> None:
    if os.geteuid() != 0:
        os.chmod(path, 0o755)
    else:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


@pytest.mark.parametrize("which", ["-o", "--summary-json"])
def test_output_in_read_only_directory(good, out, which):
    """Root ignores permission bits, so for root the directory is made immutable."""
    if not _immutable(out):
        pytest.skip("cannot make a directory read-only here (not root: chmod; root: chattr +i failed)")
    try:
        target = out / ("existing.csv" if which == "-o" else "s.json")
        proc = _run_out(good, which, target)
        _one_line_failure(proc, 2, [str(target), "cannot create files"])
        assert (out / "existing.csv").read_bytes() == OLD_BYTES
        assert sorted(os.listdir(out)) == ["existing.csv"]
    finally:
        _mutable(out)


def test_output_on_read_only_file_system(good, out):
    """A read-only bind mount in a private mount namespace (EROFS, also for root)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to bind-mount a directory read-only")
    d = shlex.quote(str(out))
    inner = shlex.join([sys.executable, "-m", "graphlabor", "attribute", str(good), "-o", str(out / "existing.csv"), "--summary-json", str(out / "s.json")])
    script = (
        f"mount --bind {d} {d} && mount -o remount,bind,ro {d} || exit 98; "
        f"touch {d}/probe 2>/dev/null && exit 99; exec {inner}"
    )
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    if proc.returncode in (98, 99):
        pytest.skip(f"could not bind-mount the directory read-only: {proc.stderr.strip()}")
    _one_line_failure(proc, 2, [str(out / "existing.csv"), "cannot create files", "Read-only file system"])
    assert (out / "existing.csv").read_bytes() == OLD_BYTES
    assert sorted(os.listdir(out)) == ["existing.csv"]


# ---------------------------------------------------------------- empty input (an error unless --allow-empty)


def _empty_csv_header(tmp_path):
    p = tmp_path / "edges.csv"
    p.write_text("src,dst,kind,weight,amount\n")
    return p


def _empty_csv_zero_bytes(tmp_path):
    p = tmp_path / "edges.csv"
    p.write_bytes(b"")
    return p


def _empty_parquet(tmp_path):
    schema = pa.schema([("src", pa.string()), ("dst", pa.string()), ("kind", pa.string()), ("weight", pa.float64()), ("amount", pa.float64())])
    return write_parquet(tmp_path / "edges.parquet", {k: [] for k in schema.names}, schema=schema)


@pytest.mark.parametrize("make", [_empty_csv_header, _empty_csv_zero_bytes, _empty_parquet], ids=["csv-header-only", "csv-zero-bytes", "parquet-no-rows"])
@pytest.mark.parametrize("ext", ["parquet", "csv", "json"])
def test_empty_edge_file(tmp_path, out, make, ext):
    edges = make(tmp_path)
    target = out / f"result.{ext}"
    fails(out, edges, expect=[str(edges), "no edges", "--allow-empty"])
    proc = cli("attribute", edges, "-o", target, "--summary-json", out / "summary.json", "--allow-empty", check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "empty input" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["edges"] == 0 and summary["nodes"] == 0
    assert summary["total_injected"] == 0 and summary["attributed_users"] == 0
    if ext == "parquet":
        t = pq.read_table(target)
        assert t.num_rows == 0
        assert t.column_names[:7] == ["node", "role", "attributed", "paid", "unpaid", "share", "rank"]
    elif ext == "csv":
        lines = target.read_text().splitlines()
        assert len(lines) == 1 and lines[0].replace('"', "").split(",")[:3] == ["node", "role", "attributed"]
    else:
        assert json.loads(target.read_text()) == []
    assert sorted(os.listdir(out)) == ["existing.csv", f"result.{ext}", "summary.json"]


def test_empty_edges_with_nodes_file(tmp_path, out):
    edges = _empty_csv_header(tmp_path)
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,role,value\n1,user,5\n2,platform,0\n")
    target = out / "result.csv"
    proc = cli("attribute", edges, "--nodes", nodes, "-o", target, check=False)
    assert proc.returncode == 0, proc.stderr
    import csv

    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["node"], r["role"]) for r in rows] == [("1", "user"), ("2", "platform")]
    assert float(rows[0]["attributed"]) == 5.0


# ---------------------------------------------------------------- non-convergence (exit 1)


def test_non_convergence(tmp_path, out):
    # a chain of users, each acting on the next; value injected at the head
    # travels one step per iteration
    n = 50
    edges = tmp_path / "edges.csv"
    edges.write_text("src,dst\n" + "".join(f"u{i},u{i + 1}\n" for i in range(n)))
    nodes = tmp_path / "nodes.csv"
    nodes.write_text("id,value\nu0,100\n")
    line = fails(out, edges, "--nodes", nodes, "--max-iter", "2", code=1, expect=["did not converge", "2 iterations", "residual"])
    # the residual is a number in the message
    import re

    assert re.search(r"residual \d\.\d+e[-+]\d+", line), line


def test_debug_shows_traceback(tmp_path, out):
    """With --debug, the same bad input gives a traceback (and still writes nothing)."""
    proc = cli("--debug", "attribute", tmp_path / "nope.csv", "-o", out / "existing.csv", check=False)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr and "InputError" in proc.stderr
    assert (out / "existing.csv").read_bytes() == OLD_BYTES


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_missing_role_is_inferred_not_an_error(tmp_path, fmt):
    """An empty role cell (CSV) or a null role (Parquet) means: infer the role from the edges."""
    edges = tmp_path / "edges.csv"
    edges.write_text(GOOD_CSV)
    if fmt == "csv":
        nodes = tmp_path / "nodes.csv"
        nodes.write_text("id,role\nP,\na,user\nads,\n")
    else:
        nodes = write_parquet(tmp_path / "nodes.parquet", {"id": ["P", "a", "ads"], "role": [None, "user", None]})
    out = tmp_path / "out.csv"
    proc = cli("attribute", edges, "--nodes", nodes, "-o", out, check=False)
    assert proc.returncode == 0, proc.stderr
    import csv

    with out.open(newline="", encoding="utf-8") as f:
        roles = {r["node"]: r["role"] for r in csv.DictReader(f)}
    assert roles == {"P": "platform", "a": "user", "ads": "advertiser", "b": "user"}
