"""Atomic, lossless output files (graphlabor.output), checked with independent readers."""

from __future__ import annotations

import csv
import json
import math
import os
import shlex
import shutil
import socket
import stat
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphlabor import output
from graphlabor.errors import OutputError


def _temps(d) -> list[str]:
    return [n for n in os.listdir(d) if n.endswith(".graphlabor-tmp") or n.startswith(".graphlabor-probe")]


# ---------------------------------------------------------------- atomic_path


def test_atomic_path_replaces_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with output.atomic_path(target) as tmp:
        assert os.path.dirname(tmp) == str(tmp_path)
        assert os.path.basename(tmp).startswith(".out.txt.")
        with open(tmp, "w") as f:
            f.write("new")
        assert target.read_text() == "old"  # not visible before the rename
    assert target.read_text() == "new"
    assert _temps(tmp_path) == []


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_atomic_path_keeps_old_file_on_error(tmp_path, exc):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(type(exc)):
        with output.atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise exc
    assert target.read_text() == "old"
    assert _temps(tmp_path) == []


def test_new_file_gets_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        target = tmp_path / "new.csv"
        output.write_table(pa.table({"a": [1]}), str(target))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


def test_replaced_file_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("x")
    os.chmod(target, 0o604)
    output.write_table(pa.table({"a": [1]}), str(target))
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o604


def test_stale_temps_of_dead_processes_are_removed(tmp_path):
    target = tmp_path / "out.parquet"
    host = socket.gethostname()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            "dead": f".out.parquet.{host}.{dead_pid}.abc123.graphlabor-tmp",
            "alive": f".out.parquet.{host}.{sleeper.pid}.def456.graphlabor-tmp",
            "other_host": f".out.parquet.some-other-host.{dead_pid}.ghi789.graphlabor-tmp",
            "other_target": f".other.parquet.{host}.{dead_pid}.jkl000.graphlabor-tmp",
            "unrelated": ".out.parquet.notes",
        }
        for n in names.values():
            (tmp_path / n).write_bytes(b"partial")
        output.write_table(pa.table({"a": [1, 2]}), str(target))
        left = set(os.listdir(tmp_path))
        assert names["dead"] not in left
        for k in ("alive", "other_host", "other_target", "unrelated"):
            assert names[k] in left, k
        assert pq.read_table(target).num_rows == 2
    finally:
        sleeper.kill()
        sleeper.wait()


# ---------------------------------------------------------------- check_writable


def test_check_writable_errors(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        output.check_writable(str(tmp_path / "missing" / "x.csv"))
    (tmp_path / "d.csv").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        output.check_writable(str(tmp_path / "d.csv"))
    with pytest.raises(OutputError, match="unknown output extension"):
        output.check_writable(str(tmp_path / "x.xlsx"))
    output.check_writable(str(tmp_path / "x.xlsx"), table=False)  # e.g. a summary file
    assert _temps(tmp_path) == []


def test_check_writable_is_real_for_root(tmp_path):
    """os.access says yes to root; creating a file in an immutable directory does not."""
    d = tmp_path / "ro"
    d.mkdir()
    if os.geteuid() != 0:
        os.chmod(d, 0o555)
    elif shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(d)], capture_output=True).returncode:
        pytest.skip("chattr +i not available")
    try:
        with pytest.raises(OutputError, match="cannot create files"):
            output.check_writable(str(d / "x.csv"))
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(d)])
        else:
            os.chmod(d, 0o755)


def test_disk_full_is_one_line_and_keeps_old_output(tmp_path):
    """A full file system (a tiny tmpfs in a private mount namespace): exit 2, old file kept, no temp left."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to mount a small tmpfs")
    n = 20_000
    edges = tmp_path / "edges.parquet"
    pq.write_table(pa.table({"src": [f"user-{i:06d}" for i in range(n)], "dst": [f"user-{(i + 1) % n:06d}" for i in range(n)]}), edges)
    d = tmp_path / "small"
    d.mkdir()
    q = shlex.quote(str(d))
    cmd = shlex.join([sys.executable, "-m", "graphlabor", "attribute", str(edges), "--allow-empty", "-q", "-o", str(d / "out.csv")])
    script = (
        f"mount -t tmpfs -o size=256k tmpfs {q} || exit 98; printf old > {q}/out.csv; "
        f"{cmd}; rc=$?; echo; echo rc=$rc; cat {q}/out.csv; echo; ls -A {q}"
    )
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)
    if proc.returncode == 98:
        pytest.skip(f"cannot mount tmpfs: {proc.stderr}")
    lines = proc.stdout.splitlines()
    assert "rc=2" in lines, proc.stdout + proc.stderr
    after = lines[lines.index("rc=2") + 1 :]
    assert after[0] == "old"
    assert after[1:] == ["out.csv"], after  # no temporary file left
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "out.csv" in err[0] and "No space left on device" in err[0], err


# ---------------------------------------------------------------- formats


TABLE = pa.table(
    {
        "node": pa.array([-(2**63), 0, 2**63 - 1], pa.int64()),
        "name": pa.array(['a "quoted", comma', "new\nline é 😀", None]),
        "x": pa.array([1.5, float("nan"), float("inf")]),
        "small": pa.array([1e-300, -0.0, 0.1 + 0.2]),
        "flag": pa.array([True, None, False]),
        "rank": pa.array([1, None, 2], pa.int64()),
        'odd "key" %s': pa.array([1, 2, 3], pa.int32()),
    }
)


def _expected_records():
    out = []
    for r in TABLE.to_pylist():
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()})
    return out


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_output_exact(tmp_path, fmt):
    target = tmp_path / f"t.{fmt}"
    output.write_table(TABLE, str(target))
    text = target.read_text(encoding="utf-8")
    if fmt == "json":
        rows = json.loads(text)
    else:
        rows = [json.loads(line) for line in text.splitlines()]
    assert rows == _expected_records()
    assert type(rows[0]["node"]) is int and rows[0]["node"] == -(2**63)
    assert rows[1]["small"] == -0.0 and math.copysign(1, rows[1]["small"]) == -1
    assert rows[2]["small"] == 0.1 + 0.2  # shortest repr round-trips exactly
    assert "😀" in text  # UTF-8, not \\u escapes
    # same text as the json module writes, row by row
    want = [json.dumps(r, ensure_ascii=False) for r in _expected_records()]
    lines = text.splitlines()
    if fmt == "json":
        assert lines[0] == "[" and lines[-1] == "]"
        lines = [ln.rstrip(",") for ln in lines[1:-1]]
    assert lines == want


def test_json_empty_table(tmp_path):
    output.write_table(TABLE.slice(0, 0), str(tmp_path / "e.json"))
    output.write_table(TABLE.slice(0, 0), str(tmp_path / "e.jsonl"))
    assert json.loads((tmp_path / "e.json").read_text()) == []
    assert (tmp_path / "e.jsonl").read_text() == ""


def test_json_many_batches(tmp_path):
    n = 200_000  # several 65,536-row batches
    t = pa.table({"node": pa.array(range(n), pa.int64()), "v": pa.array([i / 7 for i in range(n)])})
    output.write_table(t, str(tmp_path / "big.json"))
    rows = json.loads((tmp_path / "big.json").read_text())
    assert len(rows) == n
    assert rows[-1] == {"node": n - 1, "v": (n - 1) / 7}
    assert [r["node"] for r in rows] == list(range(n))


def test_csv_output(tmp_path):
    target = tmp_path / "t.csv"
    output.write_table(TABLE, str(target))
    with open(target, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["node"] for r in rows] == [str(-(2**63)), "0", str(2**63 - 1)]
    assert [r["name"] for r in rows] == ['a "quoted", comma', "new\nline é 😀", ""]
    assert float(rows[2]["small"]) == 0.1 + 0.2


def test_parquet_output(tmp_path):
    target = tmp_path / "t.parquet"
    output.write_table(TABLE, str(target))
    back = pq.read_table(target)
    assert back.schema == TABLE.schema
    assert back.to_pylist()[0]["node"] == -(2**63)
    assert back["name"].to_pylist() == TABLE["name"].to_pylist()


def test_write_json_document(tmp_path):
    target = tmp_path / "s.json"
    output.write_json({"a": 2**63 - 1, "é": [1.5, None]}, str(target))
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": 2**63 - 1, "é": [1.5, None]}
    assert _temps(tmp_path) == []
