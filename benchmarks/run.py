"""Side-by-side benchmarks of graphlabor against its peers; writes benchmarks/RESULTS.md.

Usage (see benchmarks/README.md)::

    python benchmarks/run.py                      # the full run behind RESULTS.md
    python benchmarks/run.py --quick              # a short development run
    python benchmarks/run.py --sizes 1e6,1e7 --e2e-sizes 1e7 --reps 3

What one run does, in order:

1. start-up: ``graphlabor --help`` in fresh processes; ``graphlabor
   attribute`` on a 1,000-edge economy with a warm kernel cache, end to end
   and from process start to its first stage; and the first run's Numba
   compilation (empty ``NUMBA_CACHE_DIR``) against a second run that loads
   the cache;
2. for each size (seeded power-law graph, ``benchmarks/graphs.py``):

   a. correctness first: every tool solves the PageRank-equivalent case once,
      in its own process, and its vector must match graphlabor's (L1 distance
      below 1e-8) before that tool is timed;
   b. construction from arrays and solve, each tool in a fresh process
      (median of ``--reps`` runs, iterations, peak memory above the process's
      memory once the arrays are loaded);
   c. in this process, side by side and interleaved: one propagation step of
      graphlabor (propagation blocking and pull loop, 1 and 2 threads) and
      one scipy power-iteration step, and the machine's ceilings over the same
      sizes (streaming triad, random gathers over the node vector);

3. ``graphlabor attribute`` end to end on generated Parquet with string ids
   (``graphlabor.generate``), per stage with peak memory, in subprocesses;
4. RESULTS.md: medians, ratios, targets met or missed (by how much), then
   ``benchmarks/NOTES.md`` (the analysis) verbatim; results.json beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

ALPHA = 0.85
TOL = 1e-10
SEED = 1
CHECK_L1 = 1e-8


# --------------------------------------------------------------------------- helpers


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled every 5 ms)."""

    def __enter__(self):
        self.peak = _rss()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss())

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, _rss())


def parse_size(s: str) -> int:
    return int(float(s))


def fmt_size(m: int) -> str:
    e = int(np.floor(np.log10(m)))
    mant = m / 10**e
    return f"10^{e}" if mant == 1 else f"{mant:g}x10^{e}"


def fmt_s(t) -> str:
    if t is None:
        return "-"
    if isinstance(t, str):
        return t
    return f"{t:.3g} s" if t < 100 else f"{t:.0f} s"


def fmt_b(b) -> str:
    if b is None:
        return "-"
    return f"{b / 2**30:.2f} GiB" if b >= 2**30 else f"{b / 2**20:.0f} MiB"


def wait_idle(max_wait: float, threshold: float = 0.6) -> float:
    """Wait (up to ``max_wait`` seconds) until the 1-minute load average is below ``threshold``."""
    t0 = time.time()
    while max_wait > 0 and os.getloadavg()[0] >= threshold and time.time() - t0 < max_wait:
        time.sleep(5)
    return os.getloadavg()[0]


def log(msg: str):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def graph_file(workdir: Path, m: int) -> Path:
    """Generate (once) and cache the seeded graph of ``m`` edges as .npz."""
    from graphs import personalization, power_law_graph

    path = workdir / f"graph_{m}_s{SEED}.npz"
    if not path.exists():
        log(f"generating power-law graph, {fmt_size(m)} edges")
        g = power_law_graph(m, SEED)
        s = personalization(g.n, SEED)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, src=g.src, dst=g.dst, weight=g.weight, s=s, n=g.n)
        os.replace(tmp, path)
    return path


def load_graph(path: Path):
    from graphs import EdgeArrays

    z = np.load(path)
    return EdgeArrays(int(z["n"]), z["src"], z["dst"], z["weight"], SEED), z["s"]


# --------------------------------------------------------------------------- worker


def worker(args) -> None:
    """Run one tool in this (fresh) process; write JSON (and the check vector)."""
    import tools

    g, s = load_graph(Path(args.graph))
    build, solve = tools.functions(args.tool)
    if args.tool.startswith("graphlabor"):
        import numba

        numba.set_num_threads(args.threads)
        _warm_graphlabor()
    _warm(build, solve)  # imports (and compiled code) load before the clock starts
    base = _rss()
    out = {"tool": args.tool, "threads": args.threads, "build": [], "solve": [], "iters": None}
    with PeakRSS() as peak:
        for rep in range(max(args.reps, 1)):
            t0 = time.perf_counter()
            built = build(g, ALPHA, TOL)
            t1 = time.perf_counter()
            pr, iters = solve(built, s, ALPHA, TOL)
            t2 = time.perf_counter()
            del built
            out["build"].append(t1 - t0)
            out["solve"].append(t2 - t1)
            out["iters"] = iters
            if args.check_out and rep == 0:
                np.save(args.check_out, pr)
            del pr
    out["base_rss"] = base
    out["peak_rss"] = peak.peak
    Path(args.json_out).write_text(json.dumps(out))


def _warm(build, solve):
    from graphs import personalization, power_law_graph

    g = power_law_graph(2000, 0)
    solve(build(g, ALPHA, 1e-3), personalization(g.n, 0), ALPHA, 1e-3)


def _warm_graphlabor():
    """Load (or compile) graphlabor's kernels on a tiny graph, both solve paths."""
    import tools
    from graphlabor.kernels import layout as L
    from graphs import personalization, power_law_graph

    from graphlabor.solve import propagate

    g = power_law_graph(20_000, 0)
    s = personalization(g.n, 0)
    graph, _ = tools.graphlabor_build(g, ALPHA, TOL)
    for kernel in ("pull", "blocked"):
        propagate(graph.indptr, graph.indices, graph.data, s, 1e-3, 5, kernel=kernel)
    L.blocked_layout(graph.indptr, graph.indices, graph.data)


def run_worker(tool, graph, workdir, threads=1, reps=1, check=False, timeout=3600):
    tag = f"{tool}_{threads}t_{Path(graph).stem}_{'check' if check else 'time'}"
    jout = Path(workdir) / f"{tag}.json"
    cout = Path(workdir) / f"{tag}.npy" if check else None
    cmd = [sys.executable, str(HERE / "run.py"), "--worker", "--tool", tool, "--graph", str(graph),
           "--threads", str(threads), "--reps", str(reps), "--json-out", str(jout)]
    if cout:
        cmd += ["--check-out", str(cout)]
    env = dict(os.environ)
    env.pop("NUMBA_NUM_THREADS", None)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return {"tool": tool, "threads": threads, "error": f"timeout after {timeout} s"}
    if p.returncode != 0:
        return {"tool": tool, "threads": threads, "error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    res = json.loads(jout.read_text())
    if cout:
        res["vector"] = str(cout)
    return res


# --------------------------------------------------------------------------- in-process sections


def side_by_side(g, s, reps: int) -> dict:
    """Per-step time of graphlabor's kernels and scipy's loop body, interleaved; ceilings."""
    import ceilings
    import numba
    import tools
    from graphlabor.kernels import layout as L

    from graphlabor import kernels as K

    graph, _ = tools.graphlabor_build(g, ALPHA, TOL)
    nnz, n = graph.nnz, graph.n
    P = tools.scipy_build(g, ALPHA, TOL)
    out = {"nnz": nnz, "n": n}
    layout_t = {}
    for t in (1, 2):
        numba.set_num_threads(t)
        ts = []
        for _ in range(2):
            t0 = time.perf_counter()
            lay = L.blocked_layout(graph.indptr, graph.indices, graph.data)
            ts.append(time.perf_counter() - t0)
        layout_t[t] = min(ts)
    out["layout_seconds"] = layout_t

    x = s.copy()
    for _ in range(3):  # a realistic vector: a few steps in
        x = s + P @ x
    o = np.empty(n)
    partials = np.empty(K.n_chunks(n))
    steps = max(3, min(50, int(4e8 // max(nnz, 1))))

    def blocked():
        for _ in range(steps):
            L.blocked_step(lay, x, s, o, partials)

    def pull():
        for _ in range(steps):
            K.propagate_step(graph.indptr, graph.indices, graph.data, x, s, o, 0, partials, check=False)

    def scipy_loop():
        for _ in range(steps):
            tools.scipy_step(P, x, s)

    variants = [("graphlabor blocked", blocked, (1, 2)), ("graphlabor pull", pull, (1, 2)), ("scipy", scipy_loop, (1,))]
    times = {f"{name} {t}t": [] for name, _, th in variants for t in th}
    for _name, fn, th in variants:  # warm up
        for t in th:
            numba.set_num_threads(t)
            fn()
    for _ in range(reps):
        for name, fn, th in variants:
            for t in th:
                numba.set_num_threads(t)
                t0 = time.perf_counter()
                fn()
                times[f"{name} {t}t"].append((time.perf_counter() - t0) / steps)
    numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
    out["step_seconds"] = {k: float(np.median(v)) for k, v in times.items()}
    out["step_all"] = times
    out["edges_per_s"] = {k: nnz / v for k, v in out["step_seconds"].items()}
    from graphlabor.solve import choose_kernel

    out["solve_kernel"] = choose_kernel(n, nnz)
    out["gathers_per_s"] = {t: ceilings.random_gathers(n, nnz, t, reps=max(3, reps)) for t in (1, 2)}
    out["stream_bytes_per_s"] = {t: ceilings.stream_bandwidth(max(nnz, 10**7), t, reps=max(3, reps)) for t in (1, 2)}
    return out


# --------------------------------------------------------------------------- start-up


def _timed_run(cmd, env) -> dict:
    """One process: wall seconds from launch to exit, CPU seconds (wait4), and from launch to its first stage."""
    summary = Path(cmd[cmd.index("--summary-json") + 1]) if "--summary-json" in cmd else None
    if summary is not None:
        summary.unlink(missing_ok=True)
    launched = time.time()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{shlex.join(map(str, cmd))} failed: {err.strip()[-500:]}")
    out = {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime}
    if summary is not None:
        st = json.loads(summary.read_text()).get("startup") or {}
        if st.get("first_stage_at") is not None:
            out["first_stage"] = st["first_stage_at"] - launched
    return out


#: Edges of the small economy whose end-to-end run is the start-up figure (issue 13).
STARTUP_EDGES = 1000


def startup(workdir: Path, reps: int) -> dict:
    """``--help``; a 1,000-edge run end to end with a warm cache (and its first stage); first vs second run at 20,000.

    The processes run with bytecode written and read (``PYTHONDONTWRITEBYTECODE``
    unset), as after ``pip install``; the first run of each kind writes it.
    """
    exe = shutil.which("graphlabor")
    base = [exe] if exe else [sys.executable, "-m", "graphlabor"]
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run(base + ["--help"], capture_output=True, check=True, env=env)  # bytecode written
    helps = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(base + ["--help"], capture_output=True, check=True, env=env)
        helps.append(time.perf_counter() - t0)
    res = {"help": helps, "command": " ".join(["graphlabor"] + ["--help"])}

    # a 1,000-edge economy end to end, the kernel cache warm: process start -> first stage, and the whole run
    tiny = workdir / f"startup_{STARTUP_EDGES}_s{SEED}.parquet"
    if not tiny.exists():
        _generate_parquet(tiny, STARTUP_EDGES)
    cmd = base + ["attribute", str(tiny), "--nodes", str(_nodes_path(tiny)), "-o", str(workdir / "startup_out.parquet"),
                  "--summary-json", str(workdir / "startup_summary.json"), "-q"]
    _timed_run(cmd, env)  # compiles or loads the kernels into the cache, writes bytecode
    load = [os.getloadavg()]
    runs = [_timed_run(cmd, env) for _ in range(max(reps, 5) * 2)]
    load.append(os.getloadavg())
    res["small"] = {"edges": STARTUP_EDGES, "runs": runs, "load": load,
                    "command": "graphlabor " + shlex.join(["attribute", tiny.name, "--nodes", _nodes_path(tiny).name,
                                                           "-o", "out.parquet", "--summary-json", "s.json", "-q"])}

    small = workdir / "startup_edges.parquet"
    if not small.exists():
        _generate_parquet(small, 20_000)
    nodes = _nodes_path(small)
    for label, kenv in (("default", {}), ("blocked kernel", {"GRAPHLABOR_KERNEL": "blocked"})):
        cache = tempfile.mkdtemp(prefix="numba-cold-", dir=workdir)
        e = dict(env, NUMBA_CACHE_DIR=cache, **kenv)
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(base + ["attribute", str(small), "--nodes", str(nodes), "-q"], capture_output=True, check=True, env=e)
            runs.append(time.perf_counter() - t0)
        res[label] = {"cold": runs[0], "warm": float(np.median(runs[1:]))}
        shutil.rmtree(cache, ignore_errors=True)
    return res


# --------------------------------------------------------------------------- end to end


def _nodes_path(edges: Path) -> Path:
    try:
        from graphlabor.generate import default_nodes_path

        return Path(default_nodes_path(edges))
    except ImportError:
        return edges.with_name(edges.stem + "_nodes" + edges.suffix)


def _generate_parquet(path: Path, m: int) -> None:
    # without contexts: the recorded baselines (and benchmarks/contexts.py, which adds its own) are pooled runs
    code = (
        "import sys; from graphlabor.generate import generate; "
        f"generate({str(path)!r}, edges={m}, seed={SEED}, ids='str', contexts=False)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


BENCH_DIR = os.environ.get("GRAPHLABOR_BENCH_DIR", "/tmp/graphlabor-bench")


def economy_parser(description: str, reps: int = 5) -> argparse.ArgumentParser:
    """An argument parser with the options of a benchmark on the Parquet economy: --edges, --reps, --workdir."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--edges", default="1e7", help="edges of the generated economy (1e7, 10M, ...)")
    ap.add_argument("--reps", type=int, default=reps, help="timed repetitions (medians reported)")
    ap.add_argument("--workdir", default=BENCH_DIR, help="where the economy is generated once and reused")
    return ap


def economy_parquet(workdir: Path, m: int) -> Path:
    """The end-to-end benchmark's Parquet economy of ``m`` edges in ``workdir`` (string ids, seed ``SEED``).

    Generated (with its nodes file beside it) when absent, reused otherwise.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    edges = workdir / f"economy_{m}_s{SEED}.parquet"
    if not edges.exists():
        log(f"generating Parquet economy, {fmt_size(m)} edges (string ids)")
        t0 = time.perf_counter()
        _generate_parquet(edges, m)
        log(f"  generated in {time.perf_counter() - t0:.0f} s")
    return edges


_LAUNCHER = """
import json, os, signal, subprocess, sys, threading
usage_path, err_path, timeout, cmd = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
with open(err_path, "w") as err:
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    _, status, ru = os.wait4(p.pid, 0)
    timer.cancel()
json.dump({"returncode": os.waitstatus_to_exitcode(status), "max_rss": ru.ru_maxrss * 1024}, open(usage_path, "w"))
"""


def _launch(cmd, workdir: Path, tag: str, timeout: int) -> dict:
    """Run ``cmd`` through the launcher: wall seconds, peak memory (``wait4``), return code, last error line."""
    errf = workdir / f"{tag}.stderr"
    usage = workdir / f"{tag}.usage.json"
    usage.unlink(missing_ok=True)
    t0 = time.perf_counter()
    # A small launcher process starts the command and reads its peak memory with wait4: a child
    # forked straight from this (large) process would report this process's peak as its own.
    p = subprocess.run([sys.executable, "-c", _LAUNCHER, str(usage), str(errf), str(timeout), *map(str, cmd)], check=False)
    wall = time.perf_counter() - t0
    info = json.loads(usage.read_text()) if usage.exists() else {"returncode": p.returncode, "max_rss": None}
    out = {"wall": wall, "max_rss": info["max_rss"], "returncode": info["returncode"]}
    if info["returncode"] != 0:
        err = errf.read_text().strip().splitlines() or ["?"]
        out["error"] = err[-1]
    return out


#: Peer pipelines of the end-to-end comparison (benchmarks/peers.py).
PEERS = ("duckdb", "polars")
#: Largest L1 distance of ``attributed`` (relative to the total) for a peer to be timed.
PEER_CHECK = 1e-9


def end_to_end(workdir: Path, m: int, reps: int, timeout: int, peers=PEERS) -> dict:
    """``graphlabor attribute`` and the peer pipelines, checked first, then timed alternately (one of each per round)."""
    edges = economy_parquet(workdir, m)
    nodes = _nodes_path(edges)
    exe = shutil.which("graphlabor")
    base = [exe] if exe else [sys.executable, "-m", "graphlabor"]
    out = workdir / f"e2e_{m}.parquet"
    js = workdir / f"e2e_{m}.json"
    cmd = base + ["attribute", str(edges), "--nodes", str(nodes), "-o", str(out), "--summary-json", str(js), "-q"]
    peer_cmd = {p: [sys.executable, str(HERE / "peers.py"), p, str(edges), str(nodes), str(workdir / f"e2e_{m}_{p}.parquet")]
                for p in peers}

    # correctness first: graphlabor's output is the reference for the peers
    checks = {}
    if peers:
        log("  check the peer pipelines against graphlabor's output")
        ref = workdir / f"e2e_{m}_reference.parquet"
        r = _launch(base + ["attribute", str(edges), "--nodes", str(nodes), "-o", str(ref), "-q"], workdir, f"e2e_{m}", timeout)
        for p in peers:
            if "error" in r:
                checks[p] = {"status": "graphlabor failed", "error": r["error"]}
                continue
            pr = _launch(peer_cmd[p], workdir, f"e2e_{m}_{p}", timeout)
            if "error" in pr:
                checks[p] = {"status": "error", "error": pr["error"]}
                continue
            import peers as P

            d = P.check(peer_cmd[p][-1], ref)
            checks[p] = {"status": "ok" if d <= PEER_CHECK else "MISMATCH", "l1_rel": d}
        ref.unlink(missing_ok=True)

    runs, peer_runs = [], {p: [] for p in peers}
    timed = [p for p in peers if checks.get(p, {}).get("status") == "ok"]
    for _rep in range(reps):
        r = _launch(cmd, workdir, f"e2e_{m}", timeout)
        if "error" in r:
            runs.append(r)
            break
        doc = json.loads(js.read_text())
        runs.append({"wall": r["wall"], "max_rss": r["max_rss"], "stages": doc.get("stages", []), "iterations": doc.get("iterations"),
                     "edges": doc.get("edges"), "nodes": doc.get("nodes"), "flow_edges": doc.get("flow_edges")})
        out.unlink(missing_ok=True)
        for p in timed:
            log(f"  time {p}")
            peer_runs[p].append(_launch(peer_cmd[p], workdir, f"e2e_{m}_{p}", timeout))
    for p in peers:
        Path(peer_cmd[p][-1]).unlink(missing_ok=True)
    return {"m": m, "command": " ".join(["graphlabor"] + cmd[1:]), "runs": runs,
            "peers": {p: {"command": "python benchmarks/peers.py " + " ".join(peer_cmd[p][2:]), "check": checks.get(p),
                          "runs": peer_runs[p]} for p in peers},
            "edges_bytes": edges.stat().st_size}


# --------------------------------------------------------------------------- machine


def machine_info() -> dict:
    info = {"python": platform.python_version(), "platform": platform.platform()}
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in lscpu.splitlines():
            k, _, v = line.partition(":")
            if k.strip() in ("Model name", "CPU(s)", "Thread(s) per core", "L2 cache", "L3 cache"):
                info[k.strip()] = v.strip()
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal"):
                info["memory"] = f"{int(line.split()[1]) / 2**20:.1f} GiB"
    for mod in ("numpy", "numba", "scipy", "igraph", "networkx", "graphblas", "pyarrow", "graphlabor"):
        try:
            info[mod] = __import__(mod).__version__
        except (ImportError, AttributeError):
            info[mod] = "not installed"
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        pass
    try:
        info["load average at start"] = " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        pass
    return info


# --------------------------------------------------------------------------- main


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1e6,1e7,5e7", help="edge counts of the kernel/peer runs (default 1e6,1e7,5e7)")
    ap.add_argument("--e2e-sizes", default="1e7,1e8", help="edge counts of the end-to-end runs ('' for none)")
    ap.add_argument("--reps", type=int, default=3, help="timed repetitions (medians reported)")
    ap.add_argument("--peers", default=",".join(PEERS),
                    help="peer pipelines timed beside graphlabor end to end (benchmarks/peers.py; '' for none)")
    ap.add_argument("--quick", action="store_true", help="small sizes, one repetition: a development run")
    ap.add_argument("--tools", default="graphlabor,scipy,igraph,networkx,graphblas")
    ap.add_argument("--igraph-max", type=float, default=1e7, help="largest size igraph runs at (it did not finish 5x10^7 in 21 min)")
    ap.add_argument("--networkx-max", type=float, default=1e6)
    ap.add_argument("--no-startup", action="store_true")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                    help="before each timed section, wait up to SECONDS for the load average to drop below 0.6")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds allowed per tool process")
    ap.add_argument("--workdir", default=BENCH_DIR)
    ap.add_argument("--merge", action="store_true",
                    help="keep the sections of the existing --json results that this run does not redo")
    ap.add_argument("--out", default=str(HERE / "RESULTS.md"))
    ap.add_argument("--json", default=str(HERE / "results.json"))
    # worker mode (internal)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tool", help=argparse.SUPPRESS)
    ap.add_argument("--graph", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--json-out", help=argparse.SUPPRESS)
    ap.add_argument("--check-out", help=argparse.SUPPRESS)
    ap.add_argument("--render", action="store_true",
                    help="only rewrite RESULTS.md from results.json and NOTES.md (after editing the notes); measures nothing")
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.render:
        return _write(json.loads(Path(args.json).read_text()), args)

    command = "python benchmarks/run.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    if args.quick:
        args.sizes = "1e5,1e6" if args.sizes == ap.get_default("sizes") else args.sizes
        args.e2e_sizes = "1e6" if args.e2e_sizes == ap.get_default("e2e_sizes") else args.e2e_sizes
        args.reps = 1 if args.reps == ap.get_default("reps") else args.reps
    sizes = [parse_size(v) for v in args.sizes.split(",") if v.strip()]
    e2e_sizes = [parse_size(v) for v in args.e2e_sizes.split(",") if v.strip()]
    wanted = [t.strip() for t in args.tools.split(",") if t.strip()]
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    import tools

    results = {"command": command, "started": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine_info(),
               "alpha": ALPHA, "tol": TOL, "seed": SEED, "sizes": {}, "e2e": [], "startup": None}
    if args.merge and Path(args.json).exists():
        old = json.loads(Path(args.json).read_text())
        results["sizes"] = {k: v for k, v in old.get("sizes", {}).items() if int(k) not in sizes}
        results["e2e"] = [e for e in old.get("e2e", []) if e["m"] not in e2e_sizes]
        results["startup"] = None if not args.no_startup else old.get("startup")
        results["command"] = f"{old.get('command')}; then {command}"
        results["started"] = f"{old.get('started')}; then {results['started']}"
    if not args.no_startup:
        log("start-up times")
        results["startup"] = startup(workdir, 3 if args.quick else 7)

    for m in sizes:
        log(f"== {fmt_size(m)} edges")
        path = graph_file(workdir, m)
        entry = {"m": m, "check": {}, "timing": {}}
        runnable = []
        for tool in wanted:
            if not tools.available(tool):
                entry["check"][tool] = {"status": "not installed"}
                continue
            if tool == "igraph" and m > args.igraph_max:
                entry["check"][tool] = {"status": f"skipped above {fmt_size(int(args.igraph_max))} edges"}
                continue
            if tool == "networkx" and m > args.networkx_max:
                entry["check"][tool] = {"status": f"skipped above {fmt_size(int(args.networkx_max))} edges"}
                continue
            runnable.append(tool)
        # 1. correctness before any timing
        ref = None
        order = [("graphlabor", 2), ("graphlabor", 1)] + [(t, 1) for t in runnable if t != "graphlabor"]
        for tool, th in order:
            label = "graphlabor, 1 thread (must be bit-identical)" if (tool, th) == ("graphlabor", 1) else tool
            log(f"  check {label}")
            r = run_worker(tool, path, workdir, threads=th, reps=1, check=True, timeout=args.timeout)
            if "error" in r:
                entry["check"][label] = {"status": "error", "error": r["error"]}
                continue
            v = np.load(r["vector"])
            if ref is None:
                ref = v
            d = np.abs(v - ref)
            ok = bool(d.sum() < CHECK_L1) if label == tool else bool(np.array_equal(v, ref))
            entry["check"][label] = {"status": "ok" if ok else "MISMATCH", "l1": float(d.sum()), "max": float(d.max()),
                                     "iters": r.get("iters")}
            os.unlink(r["vector"])
        # 2. timing, each tool in a fresh process
        entry["load"] = {"before timing": wait_idle(args.wait_idle)}
        for tool in runnable:
            if entry["check"].get(tool, {}).get("status") != "ok":
                continue
            ours = tool.startswith("graphlabor")
            for th in ((1, 2) if tool == "graphlabor" else (2,) if ours else (1,)):
                log(f"  time {tool} ({th} thread{'s' if th > 1 else ''})")
                reps = args.reps if tool not in ("igraph", "networkx") or m <= 10**6 else max(1, min(args.reps, 3))
                r = run_worker(tool, path, workdir, threads=th, reps=reps, timeout=args.timeout)
                entry["timing"][f"{tool} {th}t" if ours else tool] = r
        # 3. side by side in this process, with the ceilings
        log("  side by side: propagation steps and ceilings")
        entry["load"]["before side by side"] = wait_idle(args.wait_idle)
        g, s = load_graph(path)
        entry["side"] = side_by_side(g, s, reps=max(5, args.reps + 2))
        entry["load"]["after"] = os.getloadavg()[0]
        del g, s
        results["sizes"][str(m)] = entry
        results["sizes"] = dict(sorted(results["sizes"].items(), key=lambda kv: int(kv[0])))
        _write(results, args)

    for m in e2e_sizes:
        log(f"== end to end, {fmt_size(m)} edges")
        reps = 1 if m >= 10**8 else args.reps
        load = wait_idle(args.wait_idle)
        peers = [p.strip() for p in args.peers.split(",") if p.strip()]
        results["e2e"].append(end_to_end(workdir, m, reps, args.timeout, peers))
        results["e2e"][-1]["load"] = {"before": load, "after": os.getloadavg()[0]}
        results["e2e"].sort(key=lambda e: e["m"])
        _write(results, args)
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
    _write(results, args)
    log(f"wrote {args.out}")


def _write(results, args):
    Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    from report import render

    Path(args.out).write_text(render(results, HERE / "NOTES.md"))


if __name__ == "__main__":
    main()
