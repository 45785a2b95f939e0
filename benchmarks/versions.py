"""Two revisions of graphlabor side by side: `graphlabor attribute` end to end, alternating runs.

Usage::

    python benchmarks/versions.py OLD NEW [--edges 1e7] [--reps 3]

Each revision (anything ``git`` names: a commit, a tag, ``HEAD``) is exported
with ``git archive`` and installed into its own virtual environment that sees
this interpreter's packages (numba, pyarrow... are shared, so only graphlabor
differs; run it with the project's venv python). Both then run ``graphlabor
attribute`` on the same generated economy (``benchmarks/run.py`` caches it in
``--workdir``), alternately, and the medians of wall time, CPU time (user +
system, all threads: less sensitive to a loaded machine than the wall),
peak memory, the time from process start to the first stage (revisions that
report it in ``--summary-json``) and each stage's time are printed as a
Markdown table with the ratio OLD / NEW, with the load average before and
after. The first run of each revision compiles its kernels (and writes its
bytecode: ``PYTHONDONTWRITEBYTECODE`` is unset, as after ``pip install``) and
is not counted.

For start-up: ``python benchmarks/versions.py OLD NEW --edges 1000 --reps 15``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def install(rev: str, root: Path) -> Path:
    """Install revision ``rev`` into a venv under ``root``; return its ``graphlabor`` executable."""
    src = root / f"src-{rev}"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    venv = root / f"venv-{rev}"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    # when run from a venv, --system-site-packages reaches only the base interpreter's packages: add this
    # interpreter's site-packages as plain paths (their .pth files, such as an editable graphlabor, stay unread)
    import site
    import sysconfig

    purelib = subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    here = [p for p in dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()])
            if os.path.isdir(p)]
    Path(purelib, "_parent_site.pth").write_text("\n".join(here) + "\n")
    env = _env()
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", str(src)], check=True, env=env)
    return venv / "bin" / "graphlabor"


def _env(**extra: str) -> dict:
    """The environment of the timed processes: bytecode written and read, as after ``pip install``."""
    env = dict(os.environ, **extra)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("NUMBA_DISABLE_JIT", None)
    return env


def run_once(exe: Path, edges: Path, nodes: Path, out_dir: Path, env: dict) -> dict:
    """One ``graphlabor attribute`` process: wall time, its own peak memory (wait4), stage times."""
    summary = out_dir / "summary.json"
    cmd = [str(exe), "attribute", str(edges), "--nodes", str(nodes), "-o", str(out_dir / "out.parquet"),
           "--summary-json", str(summary), "-q"]
    launched = time.time()
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    doc = json.loads(summary.read_text())
    stages = {s["stage"]: s["seconds"] for s in doc["stages"]}
    first = (doc.get("startup") or {}).get("first_stage_at")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak": usage.ru_maxrss * 1024, "stages": stages,
            "first_stage": None if first is None else first - launched}


def main() -> None:
    sys.path.insert(0, str(HERE))
    from run import _nodes_path, economy_parquet, economy_parser, parse_size  # the economy the runner times

    ap = economy_parser(__doc__.splitlines()[0], reps=3)
    ap.add_argument("old")
    ap.add_argument("new")
    args = ap.parse_args()
    m = parse_size(args.edges)
    edges = economy_parquet(Path(args.workdir), m)  # cached in workdir
    nodes = _nodes_path(edges)
    results: dict[str, list[dict]] = {args.old: [], args.new: []}
    with tempfile.TemporaryDirectory(prefix="graphlabor-versions-") as tmp:
        root = Path(tmp)
        exes = {rev: install(rev, root) for rev in (args.old, args.new)}
        for rev, exe in exes.items():  # compile (and cache) each revision's kernels once
            run_once(exe, edges, nodes, root, _env(NUMBA_CACHE_DIR=str(root / f"numba-{rev}")))
        load_before = os.getloadavg()
        for _ in range(args.reps):
            for rev, exe in exes.items():
                results[rev].append(run_once(exe, edges, nodes, root, _env(NUMBA_CACHE_DIR=str(root / f"numba-{rev}"))))
        load_after = os.getloadavg()

    def med(rev, key, stage=None):
        vals = [r["stages"].get(stage) if stage else r.get(key) for r in results[rev]]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    stages = list(dict.fromkeys(s for rev in results for r in results[rev] for s in r["stages"]))
    print(f"{m:,} edges, {args.reps} alternating runs each, medians; load average "
          f"{' '.join(f'{v:.2f}' for v in load_before)} before, {' '.join(f'{v:.2f}' for v in load_after)} after.\n")
    print(f"| | {args.old} | {args.new} | {args.old} / {args.new} |\n|---|---|---|---|")
    for label, key, stage, unit in (
        [("wall (process start included)", "wall", None, "s"), ("CPU time (user + system)", "cpu", None, "s"),
         ("process start -> first stage", "first_stage", None, "s"), ("peak memory", "peak", None, "GiB")]
        + [(f"stage: {s}", None, s, "s") for s in stages]
    ):
        a, b = med(args.old, key, stage), med(args.new, key, stage)
        scale = 2**30 if unit == "GiB" else 1
        fa = "-" if a is None else f"{a / scale:.3g} {unit}"
        fb = "-" if b is None else f"{b / scale:.3g} {unit}"
        ratio = "-" if not a or not b else f"{a / b:.2f}x"
        print(f"| {label} | {fa} | {fb} | {ratio} |")


if __name__ == "__main__":
    main()
