"""Interrupted runs leave the old output or a complete new one, never a partial file.

A real ``graphlabor attribute`` process writes a large output (about 800,000
rows from 2,000,000 edges) over an existing file and is killed at several
moments: while it computes, and while it writes (detected by the appearance
of its hidden temporary file next to the target). After each kill the target
must hold either the old bytes or a complete new table (readable, one row per
node of the input). SIGINT (Ctrl-C) must end the run with exit code 130,
"interrupted" on stderr, and no temporary file left.

After SIGKILL the hidden temporary file
(``.<name>.<host>.<pid>.<random>.graphlabor-tmp``) stays behind: nothing can
run in a killed process. The next write to the same target removes it; the
last test checks that.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and POSIX signals")

N_EDGES = 2_000_000
N_USERS = 800_000
N_PLATFORMS = 10
N_ADVERTISERS = 50
# fewer iterations than the default damping: the test is about writing
FAST = ["--damping", "0.5"]


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A large edge file and the set of its node ids (the oracle for the row count)."""
    d = tmp_path_factory.mktemp("kill")
    rng = np.random.default_rng(20240605)
    src = rng.integers(0, N_USERS, N_EDGES)
    dst = rng.integers(0, N_USERS, N_EDGES)
    kind = np.full(N_EDGES, "interaction", dtype=object)
    on_platform = rng.random(N_EDGES) < 0.3
    dst[on_platform] = N_USERS + rng.integers(0, N_PLATFORMS, on_platform.sum())
    kind[on_platform] = "click"
    rev = np.arange(1000)
    src[rev] = N_USERS + 100 + rng.integers(0, N_ADVERTISERS, rev.size)
    dst[rev] = N_USERS + rng.integers(0, N_PLATFORMS, rev.size)
    kind[rev] = "spend"
    amount = np.full(N_EDGES, np.nan)
    amount[rev] = rng.random(rev.size) * 1000
    path = d / "edges.parquet"
    pq.write_table(
        pa.table({"src": src, "dst": dst, "kind": pa.array(kind, pa.string()), "amount": pa.array(amount, from_pandas=True)}),
        path,
    )
    ids = np.unique(np.concatenate([src, dst]))
    return path, ids


@pytest.fixture(scope="module")
def until_write(big, tmp_path_factory):
    """Seconds from start until a run's temporary output file appears (the end of the compute phase).

    The moments meant for the compute phase are fractions of it, so that they
    stay inside that phase however fast this machine and this build are.
    """
    edges, _ = big
    target = tmp_path_factory.mktemp("calibrate") / "out.csv"
    times = []
    for _ in range(2):  # the first run may load (or compile) the kernels
        proc = _start(edges, target)
        t0 = time.monotonic()
        while not _temps(target) and proc.poll() is None:
            time.sleep(0.002)
        times.append(time.monotonic() - t0)
        proc.communicate(timeout=300)
        assert proc.returncode == 0
    return min(times)


def _old_bytes(fmt: str) -> bytes:
    if fmt == "csv":
        return b'"node","attributed"\n1,2.5\n'
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"node": [1], "attributed": [2.5]}), sink)
    return sink.getvalue().to_pybytes()


def _start(edges, target, *extra):
    # SIGINT must reach Python's default handler even if the test runner
    # was started with SIGINT ignored (background jobs)
    return subprocess.Popen(
        [sys.executable, "-m", "graphlabor", "attribute", str(edges), "-o", str(target), "-q", *FAST, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _temps(target) -> list[str]:
    d, base = os.path.split(str(target))
    return [n for n in os.listdir(d) if n.startswith(f".{base}.") and n.endswith(".graphlabor-tmp")]


def _wait_stopped(proc, timeout: float = 10.0) -> bool:
    """Wait until ``proc`` is stopped (SIGSTOP delivered); False if it ended."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(f"/proc/{proc.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        if state in ("T", "t"):
            return True
        if state in ("Z", "X"):
            return False
        time.sleep(0.001)
    raise AssertionError("the process did not stop")


def _run_and_signal(edges, target, sig, when: str, delay: float, timeout: float = 300.0):
    """Start a run; send ``sig`` ``delay`` s after start ("compute") or after its temp file appears ("write").

    Returns (process, phase): the phase the signal met, judged while the
    process is frozen (SIGSTOP): "compute" (no temporary file yet, target
    untouched), "write" (its temporary file exists), "after write" (the
    target was replaced), or "done" (the process had already ended).
    """
    old = target.read_bytes()
    proc = _start(edges, target)
    t0 = time.monotonic()
    seen = None
    while True:
        if proc.poll() is not None:
            proc.err_text = proc.communicate()[1].decode()
            return proc, "done"
        now = time.monotonic()
        if now - t0 > timeout:
            proc.kill()
            proc.communicate()
            raise AssertionError("run did not finish in time")
        if seen is None and _temps(target):
            seen = now
        if (when == "compute" and now - t0 >= delay) or (when == "write" and seen is not None and now - seen >= delay):
            # freeze the process first, so that what the files show is the
            # state the signal meets, whatever the scheduler does meanwhile
            proc.send_signal(signal.SIGSTOP)
            if not _wait_stopped(proc):
                proc.err_text = proc.communicate()[1].decode()
                return proc, "done"
            if _temps(target):
                phase = "write"
            elif seen is not None or target.read_bytes() != old:
                phase = "after write"
            else:
                phase = "compute"
            proc.send_signal(sig)
            proc.send_signal(signal.SIGCONT)
            proc.err_text = proc.communicate(timeout=timeout)[1].decode()
            return proc, phase
        time.sleep(0.002)


def _assert_old_or_complete(target, fmt, old: bytes, ids: np.ndarray) -> str:
    """The target is the old file, byte for byte, or a complete new table of all nodes."""
    data = target.read_bytes()
    if data == old:
        return "old"
    if fmt == "parquet":
        t = pq.read_table(target, columns=["node"])
        nodes = t["node"].to_numpy()
    else:
        with open(target, newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            assert header[:2] == ["node", "role"], header
            nodes = np.array([int(r[0]) for r in reader])
    assert nodes.shape[0] == ids.shape[0], f"{fmt} output has {nodes.shape[0]} rows, expected {ids.shape[0]}"
    assert np.array_equal(np.sort(nodes), ids)
    return "new"


# ("compute", fraction of the time until the write starts) or ("write", seconds after it started)
MOMENTS = [("compute", 0.7), ("write", 0.0), ("write", 0.05), ("write", 0.3)]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_sigkill_leaves_old_or_complete_output(big, until_write, tmp_path, fmt):
    edges, ids = big
    target = tmp_path / f"out.{fmt}"
    old = _old_bytes(fmt)
    phases = []
    # A compute-phase kill aims at a fraction of the measured time until the
    # write; on a loaded machine the run can get there sooner, so earlier
    # fractions follow until one kill lands before the write.
    retries = [("compute", f) for f in (0.35, 0.15, 0.05)]
    moments = list(MOMENTS)
    while moments:
        when, delay = moments.pop(0)
        if not moments and retries and not any(p == "compute" for _, _, p, _ in phases):
            moments.append(retries.pop(0))
        target.write_bytes(old)
        at = delay * until_write if when == "compute" else delay
        proc, phase = _run_and_signal(edges, target, signal.SIGKILL, when, at)
        outcome = _assert_old_or_complete(target, fmt, old, ids)
        if phase == "done":
            assert proc.returncode == 0 and outcome == "new", proc.err_text
        else:
            assert proc.returncode == -signal.SIGKILL
        if phase == "compute":
            assert outcome == "old"
        if phase == "after write":
            assert outcome == "new"
        phases.append((when, delay, phase, outcome))
        for name in _temps(target):  # documented leftover of a killed writer
            os.unlink(tmp_path / name)
    print(fmt, phases)
    assert any(p == "write" for _, _, p, _ in phases), f"no kill landed during the write: {phases}"
    assert any(p == "compute" for _, _, p, _ in phases), phases


def test_sigkill_leftover_temp_is_removed_by_next_run(big, tmp_path):
    edges, ids = big
    target = tmp_path / "out.parquet"
    target.write_bytes(_old_bytes("parquet"))
    for delay in (0.0, 0.02, 0.1):
        proc, phase = _run_and_signal(edges, target, signal.SIGKILL, "write", delay)
        if phase == "write" and _temps(target):
            break
    else:
        pytest.fail("could not kill a run while its temporary file existed")
    leftovers = _temps(target)
    assert leftovers, "a killed writer leaves its temporary file"
    assert target.read_bytes() == _old_bytes("parquet") or _assert_old_or_complete(target, "parquet", b"", ids)
    # a full run replaces the target and removes the dead run's temporary file
    proc = _start(edges, target)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert _assert_old_or_complete(target, "parquet", b"", ids) == "new"
    assert _temps(target) == []


@pytest.mark.parametrize("when,delay", [("compute", 0.8), ("write", 0.0)])
def test_sigint_exits_130_without_partial_file(big, until_write, tmp_path, when, delay):
    edges, ids = big
    target = tmp_path / "out.csv"
    old = _old_bytes("csv")
    target.write_bytes(old)
    # on a loaded machine the run can reach the write sooner than measured:
    # a compute-phase signal then retries at earlier fractions
    fractions = [delay, delay / 2, delay / 4, delay / 8] if when == "compute" else [delay]
    for f in fractions:
        target.write_bytes(old)
        at = f * until_write if when == "compute" else f
        proc, phase = _run_and_signal(edges, target, signal.SIGINT, when, at)
        if phase == when:
            break
    assert phase == when, f"signal meant for the {when} phase landed in {phase!r}"
    assert proc.returncode == 130, proc.err_text
    assert "interrupted" in proc.err_text and "Traceback" not in proc.err_text, proc.err_text
    assert _temps(target) == [], "SIGINT left a temporary file"
    outcome = _assert_old_or_complete(target, "csv", old, ids)
    if phase == "compute":
        assert outcome == "old"
