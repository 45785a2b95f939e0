"""Memory budget (graphlabor.memory): the estimate against a measured peak, the check's message."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from graphlabor import memory
from graphlabor.errors import MemoryBudgetError

GiB = 2**30


def test_estimate_grows_with_size_and_id_width():
    base = memory.estimate_bytes(10_000_000, 1_000_000, "int")
    assert memory.estimate_bytes(20_000_000, 1_000_000, "int").peak > base.peak
    assert memory.estimate_bytes(10_000_000, 2_000_000, "int").peak > base.peak
    s13 = memory.estimate_bytes(10_000_000, 1_000_000, "str", avg_id_bytes=13)
    s40 = memory.estimate_bytes(10_000_000, 1_000_000, "str", avg_id_bytes=40)
    # longer ids cost most while the edge table holds them (two per edge), then once per node
    assert s40.stages["read edges"] - s13.stages["read edges"] > s40.stages["solve"] - s13.stages["solve"] > 0
    assert s40.peak > s13.peak > base.peak
    csv_ = memory.estimate_bytes(10_000_000, 1_000_000, "int", source_format="csv")
    assert csv_.stages["read edges"] > base.stages["read edges"]
    assert csv_.stages["solve"] == base.stages["solve"]  # the text is gone once read
    # the pull kernel has no blocked layout: less memory in the solve, none saved before it
    pull = memory.estimate_bytes(10_000_000, 1_000_000, "int", blocked=False)
    assert pull.stages["solve"] < base.stages["solve"]
    assert pull.stages["build graph"] == base.stages["build graph"]


def test_estimate_is_linear_in_edges():
    """Stage estimates are affine in (m, n): differences are exact multiples of the coefficients."""
    a = memory.estimate_bytes(10**7, 10**6, "int", blocked=True)
    b = memory.estimate_bytes(2 * 10**7, 10**6, "int", blocked=True)
    c = memory.estimate_bytes(3 * 10**7, 10**6, "int", blocked=True)
    for k in a.stages:
        assert b.stages[k] - a.stages[k] == pytest.approx(c.stages[k] - b.stages[k], abs=2)


def test_default_node_guess_and_after():
    e = memory.estimate_bytes(1_000_000, None, "int")
    assert e.n_nodes == 100_000
    rest = e.after("build graph")
    assert list(rest.stages)[0] == "build graph" and "read edges" not in rest.stages
    assert rest.peak <= e.peak


def test_empty_input_needs_only_the_baseline():
    # the interpreter and its libraries: under a GiB, and no more for text ids than for integers
    e = memory.estimate_bytes(0, 0, "str")
    assert 0 < e.peak < 2**30
    assert e.peak == memory.estimate_bytes(0, 0, "int").peak


def test_ten_to_the_eight_fits_a_24_gib_machine():
    """10^8 edges among 10^7 nodes, the target size, are not refused on a 24 GiB machine."""
    for t in ("int", "str"):
        assert memory.estimate_bytes(10**8, 10**7, t, avg_id_bytes=16).peak < 20 * GiB


def test_check_memory_passes_when_it_fits():
    memory.check_memory(4 * GiB, "x", available=8 * GiB)
    memory.check_memory(memory.estimate_bytes(1000, 100, "int"), "x", available=8 * GiB)
    # already-held memory is not needed anew
    memory.check_memory(10 * GiB, "x", available=2 * GiB, already_used=9 * GiB)


def test_check_memory_message():
    est = memory.estimate_bytes(10**9, 10**8, "str")
    with pytest.raises(MemoryBudgetError) as info:
        memory.check_memory(est, "attributing 1,000,000,000 edges (edges.parquet)", available=20 * GiB)
    msg = str(info.value)
    assert "\n" not in msg
    assert f"{est.peak / GiB:.1f} GiB" in msg
    assert "20.0 GiB is free" in msg
    assert "edges.parquet" in msg and "fewer edges per run" in msg
    assert "integer ids" in msg
    assert est.peak_stage == "classify edges" and est.peak_stage in msg
    assert "GRAPHLABOR_KERNEL" not in msg  # the kernel is not what peaks
    assert info.value.exit_code == 1


def test_check_memory_int_ids_do_not_suggest_int_ids():
    est = memory.estimate_bytes(10**9, 10**8, "int")
    with pytest.raises(MemoryBudgetError) as info:
        memory.check_memory(est, "run", available=GiB)
    assert "integer ids" not in str(info.value)
    # the peak is in the breakdown, where the blocked layout is alive: dropping it helps
    assert est.peak_stage == "breakdown by kind"
    # the saving announced is what the estimate without the blocked layout takes off the peak stage
    pull = memory.estimate_bytes(10**9, 10**8, "int", blocked=False)
    saving = est.stages["breakdown by kind"] - pull.stages["breakdown by kind"]
    assert f"GRAPHLABOR_KERNEL=pull (saves {saving / GiB:.1f} GiB)" in str(info.value)


def test_check_memory_can_be_skipped(monkeypatch):
    monkeypatch.setenv(memory.SKIP_ENV, "0")
    memory.check_memory(10**15, "x", available=GiB)


def test_available_bytes_matches_the_system():
    psutil = pytest.importorskip("psutil")
    # other processes allocate and free meanwhile: bound by the system's figure read before and after
    before = psutil.virtual_memory().available
    got = memory.available_bytes()
    after = psutil.virtual_memory().available
    assert 0 < got <= max(before, after) * 1.05 + 2**28  # cgroup headroom can only lower it
    with open("/proc/meminfo") as f:
        meminfo = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in f}
    assert got <= meminfo["MemTotal"]


def test_edge_rows_from_metadata(tmp_path):
    pq.write_table(pa.table({"src": pa.array(range(1000), pa.int64()), "dst": pa.array(range(1000), pa.int64())}), tmp_path / "a.parquet")
    d = tmp_path / "ds"
    d.mkdir()
    for i in range(3):
        pq.write_table(pa.table({"src": [f"u{j}" for j in range(100 * (i + 1))], "dst": ["p"] * (100 * (i + 1))}), d / f"part{i}.parquet")
    with pa.OSFile(str(tmp_path / "e.arrow"), "wb") as sink:
        t = pa.table({"src": pa.array(range(250), pa.int64()), "dst": pa.array(range(250), pa.int64())})
        with pa.ipc.new_file(sink, t.schema) as w:
            w.write_table(t, max_chunksize=100)
    assert memory.edge_rows(str(tmp_path / "a.parquet")) == (1000, True, "int", "parquet")
    assert memory.edge_rows(str(d)) == (600, True, "str", "parquet")
    assert memory.edge_rows(str(tmp_path / "e.arrow")) == (250, True, "int", "ipc")
    rows, exact, id_type, fmt = memory.edge_rows([str(tmp_path / "a.parquet"), str(tmp_path / "e.arrow")])
    assert (rows, exact, id_type) == (1250, True, "int")
    n = 50_000
    (tmp_path / "e.csv").write_text("src,dst,weight\n" + "".join(f"user{i},plat{i % 7},{i % 5 + 1}\n" for i in range(n)))
    rows, exact, id_type, fmt = memory.edge_rows(str(tmp_path / "e.csv"))
    assert not exact and fmt == "csv" and id_type is None
    assert abs(rows - n) <= 0.05 * n


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB and wait4: Linux")
def test_estimate_covers_measured_peak(tmp_path):
    """The estimate is at least the peak RSS the kernel reports for a real run (os.wait4), and not far above."""
    rng = np.random.default_rng(7)
    m, n_users = 3_000_000, 300_000
    src = rng.integers(0, n_users, m)
    dst = rng.integers(0, n_users, m)
    kind = np.where(rng.random(m) < 0.5, "view", "like").astype(object)
    on_p = rng.random(m) < 0.3
    dst[on_p] = n_users + rng.integers(0, 10, on_p.sum())
    kind[on_p] = "click"
    rev = rng.random(m) < 0.01
    src[rev] = n_users + 10 + rng.integers(0, 100, rev.sum())
    dst[rev] = n_users + rng.integers(0, 10, rev.sum())
    kind[rev] = "spend"
    ids_src = pa.array(np.char.add("user_", (src * 7919 % 10**9).astype(str)).astype(object))
    ids_dst = pa.array(np.char.add("user_", (dst * 7919 % 10**9).astype(str)).astype(object))
    amount = pa.array(np.where(rev, 10.0, np.nan), from_pandas=True)
    edges = tmp_path / "edges.parquet"
    pq.write_table(pa.table({"src": ids_src, "dst": ids_dst, "kind": pa.array(kind, pa.string()), "weight": rng.random(m) + 0.5, "amount": amount}), edges)
    n_nodes = len(np.unique(np.concatenate([src, dst])))
    avg_len = float(np.mean([len(s) for s in ids_src.to_pylist()[:100_000]]))

    # Linux carries the parent's high-water mark into a child that it
    # spawns (vfork + exec), so the run is started by a small launcher
    # process, whose own child starts clean; the launcher reports that
    # child's peak resident memory from wait4.
    launcher = (
        "import os, subprocess, sys\n"
        "p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "_, status, usage = os.wait4(p.pid, 0)\n"
        "print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", launcher, sys.executable, "-m", "graphlabor", "attribute", str(edges), "-q", "-o", str(tmp_path / "out.parquet")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    code, maxrss_kib = map(int, proc.stdout.split())
    assert code == 0, proc.stderr
    measured = maxrss_kib * 1024  # kilobytes on Linux

    rows, exact, id_type, fmt = memory.edge_rows(str(edges))
    assert (rows, exact, id_type) == (m, True, "str")
    est = memory.estimate_bytes(rows, n_nodes, id_type, avg_id_bytes=avg_len, source_format=fmt)
    assert est.peak >= measured, f"estimate {est.peak / 2**20:.0f} MiB below measured {measured / 2**20:.0f} MiB"
    assert est.peak <= 1.5 * measured + 2**29, f"estimate {est.peak / 2**20:.0f} MiB far above measured {measured / 2**20:.0f} MiB"


def test_check_before_reading(tmp_path):
    p = tmp_path / "e.parquet"
    pq.write_table(pa.table({"src": pa.array(range(10_000), pa.int64()), "dst": pa.array(range(10_000), pa.int64())}), p)
    est = memory.check_before_reading(str(p), available=64 * GiB)
    assert est.n_edges == 10_000 and est.id_type == "int"
    assert memory.check_before_reading(pa.table({"src": [1], "dst": [2]})) is None
    with pytest.raises(MemoryBudgetError, match=r"attributing 10,000 edges \(.*e\.parquet\) needs about .* but only 1 MiB is free"):
        memory.check_before_reading([p], available=2**20)


def test_check_after_encoding():
    est = memory.check_after_encoding(1000, 100, "str", available=64 * GiB)
    assert list(est.stages)[0] == "build graph"
    with pytest.raises(MemoryBudgetError, match="attributing 1,000,000,000 edges among 100,000,000 nodes"):
        memory.check_after_encoding(10**9, 10**8, "str", available=GiB)


def test_current_rss_is_plausible():
    psutil = pytest.importorskip("psutil")
    a, b = memory.current_rss(), psutil.Process().memory_info().rss
    assert abs(a - b) < 0.2 * b


def test_cli_stops_before_reading_what_cannot_fit(tmp_path):
    """A file whose footer announces more edges than memory can hold: a one-line error in seconds, nothing written.

    The file holds constant columns, so it is a few MB on disk however many
    rows it has; the run must stop from the row count alone (exit 1), not be
    killed after reading (a real read would need tens of GB).
    """
    free = memory.available_bytes()
    per_edge = memory.estimate_bytes(10**8, None, "int").peak / 10**8
    # twice what is free now, so that memory freed by other processes meanwhile still leaves it too big
    rows = int(np.ceil(2.0 * free / per_edge / 10**7)) * 10**7
    if rows > 10**9:
        pytest.skip(f"{free / GiB:.0f} GiB free: the file would need more than 10^9 rows")
    batch = pa.table({"src": pa.array(np.zeros(10**7, np.int64)), "dst": pa.array(np.ones(10**7, np.int64))})
    path = tmp_path / "huge.parquet"
    with pq.ParquetWriter(path, batch.schema, compression="zstd") as w:
        for _ in range(rows // 10**7):
            w.write_table(batch, row_group_size=10**7)
    del batch
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    import resource

    def limit_memory():
        # should the check be missing, fail fast instead of filling the machine
        resource.setrlimit(resource.RLIMIT_AS, (3 * GiB, 3 * GiB))

    proc = subprocess.run(
        [sys.executable, "-m", "graphlabor", "attribute", str(path), "-o", str(out)],
        capture_output=True, text=True, timeout=120, preexec_fn=limit_memory,
    )
    lines = proc.stderr.splitlines()
    assert proc.returncode == 1, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"{rows:,} edges" in lines[0] and "huge.parquet" in lines[0]
    assert "GiB is free" in lines[0] and "fewer edges per run" in lines[0]
    assert out.read_text() == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["huge.parquet", "out.csv"]
