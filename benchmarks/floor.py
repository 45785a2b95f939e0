"""The ingestion floor: what reading the edges alone costs, beside graphlabor's read + encode and the peers' totals.

Usage (benchmarks/NOTES.md, "Session 5: ingestion floor and classify")::

    python benchmarks/floor.py --edges 1e7 --reps 5 --e2e --preload
    flock /work/wt/bench-big.lock python benchmarks/floor.py --edges 1e8 --reps 3 --e2e

On the end-to-end benchmark's Parquet economy (``benchmarks/run.py``: string
ids, seed 1; generated when absent), in this one process, each repetition
running every piece once in an order that alternates from one repetition to
the next (the file is read once first, so the page cache holds it):

- **pyarrow read**: ``pq.read_table`` of the five columns a default run
  reads (``src, dst, kind, weight, amount``), ``use_threads=True``;
- **pyarrow read, text as dictionaries**: the same with the three text
  columns read as dictionary arrays (what graphlabor's streamed read asks for);
- **DuckDB read**: ``SELECT count(*), sum(hash(src)), sum(hash(dst)),
  sum(hash(kind)), sum(weight), sum(amount) FROM read_parquet(...)`` on 2
  threads, which decodes every value of the five columns;
- **encode ids alone**: one dictionary of the ``src`` and ``dst`` values
  (``pyarrow.compute.dictionary_encode`` of both columns, read beforehand as
  plain strings): the hashing every pipeline pays to number the ids;
- **graphlabor read + encode**: the streamed stages "read edges" and
  "encode ids" (:func:`graphlabor.stream.pieces`, which also checks,
  numbers locally and classifies each row group, then
  :func:`graphlabor.stream.merge`), and "classify edges" after them
  (:meth:`graphlabor.stream.Merged.classify`).

With ``--e2e``, the peers are first checked against graphlabor's output
(``benchmarks/run.py``'s end-to-end check), then ``graphlabor attribute``,
the DuckDB + scipy and the polars + scipy pipelines run in subprocesses,
interleaved with the pieces above in the same alternating order, and the
report says what fraction of the 4x budget (a peer's total / 4) each piece
takes. With ``--preload``, ``graphlabor attribute``
runs alternately with and without the warm-up record of the kernels its
last run called (``graphlabor.kernels._jit.remember_kernels``; the record is
deleted before each run "without"), medians of wall time and of the time
from process start to the end of the first stage.

Prints Markdown with the load average; nothing is written to RESULTS.md.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import PeakRSS, _nodes_path, economy_parquet, economy_parser, end_to_end, fmt_size, parse_size  # noqa: E402

COLUMNS = ["src", "dst", "kind", "weight", "amount"]


def pyarrow_read(path: Path, dictionary: bool) -> int:
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=COLUMNS, use_threads=True, read_dictionary=["src", "dst", "kind"] if dictionary else None)
    return t.num_rows


def duckdb_read(path: Path) -> int:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 2")
    row = con.execute("SELECT count(*), sum(hash(src)), sum(hash(dst)), sum(hash(kind)), sum(weight), sum(amount) "
                      f"FROM read_parquet('{path}')").fetchone()
    con.close()
    assert row is not None
    return int(row[0])


def encode_ids(src, dst) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    both = pa.chunked_array(src.chunks + dst.chunks)
    return len(pc.dictionary_encode(both).chunk(0).dictionary) if both.num_chunks else 0


def graphlabor_stages(path: Path) -> dict[str, float]:
    from graphlabor import readers, stream

    sources = readers.resolve([str(path)])
    work = stream.plan(sources)
    assert work is not None, "the file does not take the streamed path"
    t0 = time.perf_counter()
    parts = stream.pieces(work)
    assert parts is not None
    t1 = time.perf_counter()
    merged = stream.merge(sources, work, parts)
    del parts
    t2 = time.perf_counter()
    merged.classify()
    t3 = time.perf_counter()
    return {"read edges": t1 - t0, "encode ids": t2 - t1, "classify edges": t3 - t2}


def floor(path: Path, reps: int, e2e: dict[str, list[str]] | None = None, workdir: Path | None = None,
          timeout: int = 3600) -> tuple[dict[str, list[float]], dict[str, int], list[float], dict[str, list[float]]]:
    """The pieces in this process and (``e2e``: name -> command) whole pipelines in subprocesses, interleaved."""
    import pyarrow.parquet as pq
    from run import _launch

    plain = pq.read_table(path, columns=["src", "dst"], use_threads=True)  # also brings the file into the page cache
    src, dst = plain["src"], plain["dst"]
    del plain
    graphlabor_stages(path)  # loads the kernels
    pieces = {
        "pyarrow read": lambda: pyarrow_read(path, False),
        "pyarrow read, text as dictionaries": lambda: pyarrow_read(path, True),
        "DuckDB read (every value decoded)": lambda: duckdb_read(path),
        "encode ids alone (pyarrow dictionary_encode of src + dst)": lambda: encode_ids(src, dst),
        "graphlabor": lambda: graphlabor_stages(path),
    }
    for name, cmd in (e2e or {}).items():
        pieces[name] = lambda cmd=cmd, name=name: _launch(cmd, workdir or path.parent, f"floor_{name.split()[0]}", timeout)
    times: dict[str, list[float]] = {}
    totals: dict[str, list[float]] = {}
    stages: dict[str, list[float]] = {}
    peaks: dict[str, int] = {}
    loads = [os.getloadavg()[0]]
    for rep in range(reps):
        for name in (list(pieces) if rep % 2 == 0 else list(reversed(pieces))):
            gc.collect()
            if e2e and name in e2e:
                r = pieces[name]()
                assert "error" not in r, (name, r)
                totals.setdefault(name, []).append(r["wall"])
                if name == "graphlabor attribute":
                    summary = (workdir or path.parent) / "floor_e2e.json"
                    for st in json.loads(summary.read_text())["stages"]:
                        stages.setdefault(st["stage"], []).append(st["seconds"])
                continue
            with PeakRSS() as peak:
                t0 = time.perf_counter()
                got = pieces[name]()
                dt = time.perf_counter() - t0
            peaks[name] = max(peaks.get(name, 0), peak.peak)
            if isinstance(got, dict):  # graphlabor's stages, each timed on its own
                for stage, s in got.items():
                    times.setdefault(f"graphlabor {stage}", []).append(s)
                times.setdefault("graphlabor read + encode", []).append(got["read edges"] + got["encode ids"])
            else:
                times.setdefault(name, []).append(dt)
            del got
        loads.append(os.getloadavg()[0])
    return times, peaks, loads, {**totals, **{f"stage: {k}": v for k, v in stages.items()}}


def preload_ab(path: Path, workdir: Path, reps: int) -> dict[str, dict[str, list[float]]]:
    """``graphlabor attribute`` with and without the warm-up record (deleted before each run without), alternately."""
    from graphlabor.kernels import _jit

    record = Path(_jit._profile_path("attribute"))
    exe = shutil.which("graphlabor")
    base = [exe] if exe else [sys.executable, "-m", "graphlabor"]
    js = workdir / "floor_preload.json"
    cmd = base + ["attribute", str(path), "--nodes", str(_nodes_path(path)), "-o", str(workdir / "floor_preload.parquet"),
                  "--summary-json", str(js), "-q"]
    subprocess.run(cmd, check=True)  # writes the record
    out: dict[str, dict[str, list[float]]] = {"with the record": {}, "without": {}}
    for rep in range(reps):
        for name in (list(out) if rep % 2 == 0 else list(reversed(out))):
            if name == "without":
                record.unlink(missing_ok=True)
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True)
            wall = time.perf_counter() - t0
            doc = json.loads(js.read_text())
            first = doc["startup"]["seconds_to_first_stage"] + doc["stages"][0]["seconds"]
            out[name].setdefault("wall", []).append(wall)
            out[name].setdefault("process start -> end of read edges", []).append(first)
            for s in doc["stages"]:
                out[name].setdefault(s["stage"], []).append(s["seconds"])
    return out


def med(v: list[float]) -> float:
    return float(np.median(v))


def main(argv=None) -> None:
    ap = economy_parser(__doc__.split("\n")[0])
    ap.add_argument("--e2e", action="store_true", help="also graphlabor attribute and the peer pipelines end to end (run.py)")
    ap.add_argument("--preload", action="store_true", help="also graphlabor attribute with and without the kernel warm-up record")
    ap.add_argument("--timeout", type=int, default=3600)
    args = ap.parse_args(argv)
    m = parse_size(args.edges)
    workdir = Path(args.workdir)
    path = economy_parquet(workdir, m)

    e2e_cmds = None
    checks: dict[str, str] = {}
    if args.e2e:
        checked = end_to_end(workdir, m, 0, args.timeout)  # the peers checked against graphlabor's output, nothing timed
        checks = {f"{p} + scipy": (v["check"] or {}).get("status", "") for p, v in checked["peers"].items()}
        assert all(c == "ok" for c in checks.values()), checks
        exe = shutil.which("graphlabor")
        nodes = _nodes_path(path)
        e2e_cmds = {"graphlabor attribute": ([exe] if exe else [sys.executable, "-m", "graphlabor"]) + [
            "attribute", str(path), "--nodes", str(nodes), "-o", str(workdir / "floor_e2e.parquet"),
            "--summary-json", str(workdir / "floor_e2e.json"), "-q"]}
        for p in checked["peers"]:
            e2e_cmds[f"{p} + scipy"] = [sys.executable, str(HERE / "peers.py"), p, str(path), str(nodes),
                                         str(workdir / f"floor_e2e_{p}.parquet")]
    times, peaks, loads, e2e = floor(path, args.reps, e2e_cmds, workdir, args.timeout)
    ab = preload_ab(path, workdir, args.reps) if args.preload else None
    loads.append(os.getloadavg()[0])

    cmd = f"python benchmarks/floor.py --edges {args.edges} --reps {args.reps}" + (" --e2e" if args.e2e else "") + \
        (" --preload" if args.preload else "")
    print(f"\n`{cmd}`: {fmt_size(m)} edges, {path.stat().st_size / 2**20:.0f} MiB of Parquet, {args.reps} repetitions; "
          f"load average {min(loads):.2f}-{max(loads):.2f}\n")
    budget = {}
    if e2e_cmds is not None:
        print("| end to end (subprocesses, interleaved with the pieces below) | median s | runs | check |")
        print("|---|---|---|---|")
        for name in e2e_cmds:
            ts = e2e[name]
            print(f"| {name} | {med(ts):.2f} | {', '.join(f'{t:.2f}' for t in ts)} | {checks.get(name, '')} |")
            if not name.startswith("graphlabor"):
                budget[name] = med(ts) / 4
        print("\ngraphlabor attribute's stages (median s): "
              + ", ".join(f"{k[7:]} {med(v):.2f}" for k, v in e2e.items() if k.startswith("stage: ") and med(v) >= 0.01))
        print()
    heads = "".join(f" | of {name} / 4 ({b:.2f} s)" for name, b in budget.items())
    print(f"| in one process | median s | runs | process peak RSS GiB{heads} |")
    print("|---|---|---|---" + "|---" * len(budget) + "|")
    for name, ts in times.items():
        peak = peaks.get(name, peaks.get("graphlabor", 0)) / 2**30
        frac = "".join(f" | {med(ts) / b:.0%}" for b in budget.values())
        print(f"| {name} | {med(ts):.3f} | {', '.join(f'{t:.3f}' for t in ts)} | {peak:.2f}{frac} |")
    if ab is not None:
        print("\n| graphlabor attribute | " + " | ".join(ab["without"]) + " |")
        print("|---|" + "---|" * len(ab["without"]))
        for name, cols in ab.items():
            print(f"| {name} | " + " | ".join(f"{med(cols.get(k, [float('nan')])):.3f}" for k in ab["without"]) + " |")


if __name__ == "__main__":
    main()
