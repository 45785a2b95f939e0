"""Start-up: what a run imports, and when (no timings asserted; benchmarks/run.py times it).

A run of ``graphlabor attribute`` on a small file should reach its first stage
before numba is imported (numba then loads in the background while the input
is read), and never import pandas, ``pyarrow.dataset``, SciPy or psutil, each
of which costs 0.03-0.5 s and none of which a local run from files needs.
Each check runs the real command line in a fresh process.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from graphlabor.kernels import segment

#: Runs the command line in this process (a fresh one), noting the imported modules
#: when the first stage starts and at the end, and which kernels were compiled or loaded.
RUNNER = r"""
import json, sys
import graphlabor.timing as timing

WATCH = ("numba", "llvmlite", "pandas", "pyarrow.dataset", "scipy", "psutil")
seen = {}
stage = timing.StageLog.stage

def spy(self, name):
    seen.setdefault("first_stage", name)
    seen.setdefault("at_first_stage", sorted(m for m in WATCH if m in sys.modules))
    return stage(self, name)

timing.StageLog.stage = spy
from graphlabor.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    assert not e.code, e.code
seen["at_end"] = sorted(m for m in WATCH if m in sys.modules)
from graphlabor.kernels._jit import Kernel
kernels = {}
for name, mod in list(sys.modules.items()):
    if name.startswith("graphlabor.kernels"):
        for attr, k in vars(mod).items():
            if isinstance(k, Kernel) and k.__module__ == name and k._dispatcher is not None:
                kernels[f"{name}.{attr}"] = len(k._dispatcher.signatures)
seen["kernels"] = kernels
print("SEEN", json.dumps(seen))
"""


def _run(args, cwd):
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run([sys.executable, "-c", RUNNER, *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SEEN "))
    return json.loads(line[5:])


def _small_economy(tmp_path):
    edges = tmp_path / "edges.parquet"
    pq.write_table(pa.table({
        "src": ["ads", "a", "b", "a", "c", "b"],
        "dst": ["P", "P", "P", "b", "a", "c"],
        "kind": ["spend", "click", "click", "view", "view", "like"],
        "weight": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
        "amount": [100.0, None, None, None, None, None],
    }), edges)
    return edges


def test_a_run_reaches_its_first_stage_before_numba_and_never_imports_pandas(tmp_path):
    edges = _small_economy(tmp_path)
    out = tmp_path / "out.parquet"
    summary = tmp_path / "summary.json"
    seen = _run(["attribute", edges, "-o", out, "--summary-json", summary, "-q"], tmp_path)
    assert seen["first_stage"] == "read edges"
    assert seen["at_first_stage"] == [], seen  # numba not even started when the first stage begins
    assert seen["at_end"] == ["llvmlite", "numba"], seen  # then numba ran the kernels; nothing else heavy
    # the run is a real one: money conserved (the hand-checkable total of the example)
    got = pq.read_table(out)
    assert abs(sum(got["attributed"].to_pylist()) - 100.0) < 1e-9
    # every kernel the run used was compiled (or loaded) for one signature only
    assert seen["kernels"], seen
    assert set(seen["kernels"].values()) == {1}, seen["kernels"]
    doc = json.loads(summary.read_text())
    start = doc["startup"]
    assert 0 < start["seconds_to_first_stage"] < 3600 and start["cpu_seconds_to_first_stage"] > 0
    assert doc["stages"][0]["stage"] == "read edges"


def test_pandas_still_loads_when_a_dataframe_is_asked_for(tmp_path):
    """The command line tells pyarrow pandas is absent for its object checks; to_pandas works as without that."""
    code = (
        "import sys\n"
        "from graphlabor.cli import _fast_start\n"
        "if sys.argv[1] == 'fast':\n"
        "    _fast_start('local')\n"
        "import pyarrow as pa, numpy as np\n"
        "t = pa.table({'a': np.arange(3), 'b': ['x', None, 'z'], 'c': [1.5, None, float('nan')]})\n"
        "print('pandas' in sys.modules)\n"
        "df = t.to_pandas()\n"
        "print(type(df).__name__, df.to_dict('list'), df.dtypes.astype(str).tolist())\n"
        "print(pa.Table.from_pandas(df).equals(pa.Table.from_pandas(t.to_pandas())))\n"
    )
    out = {}
    for mode in ("fast", "plain"):
        proc = subprocess.run([sys.executable, "-c", code, mode], capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        out[mode] = proc.stdout.splitlines()
    assert out["fast"][0] == "False"  # not imported until asked for
    assert out["fast"][1].startswith("DataFrame ")
    assert out["fast"][1:] == out["plain"][1:]


def test_importing_the_pipeline_and_kernels_imports_no_numba():
    code = (
        "import sys\n"
        "import graphlabor.pipeline, graphlabor.kernels, graphlabor.kernels.krylov, graphlabor.kernels.layout\n"
        "print('numba' in sys.modules, 'llvmlite' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False"]


def test_a_kernel_pickles_by_reference_and_runs():
    """Kernels stand in for numba dispatchers until their first call; they pickle by name (as Dask needs)."""
    k = pickle.loads(pickle.dumps(segment.group_sum))
    assert k is segment.group_sum
    inner = pickle.loads(pickle.dumps(segment._sorted_group_sums))
    assert inner is segment._sorted_group_sums
    got = segment.group_sum(np.array([2, 0, 2], np.uint32), np.array([1.0, 2.0, 3.0]), 3)
    assert got.tolist() == [2.0, 0.0, 4.0]  # by hand


#: Calls group_sum in a process that records its kernels (as the command line does), or only warms up and reports.
WARM = r"""
import json, sys
from graphlabor.kernels import _jit, segment
import numpy as np
_jit.remember_kernels("test")
if sys.argv[1] == "record":
    print(segment.group_sum(np.array([2, 0, 2], np.uint32), np.array([1.0, 2.0, 3.0]), 3).tolist())
    _jit.save_kernel_record()  # what the command line does when a command ends well
else:
    _jit.warm_up().join()
    kernels = {k.__qualname__: k for k in (segment._scatter_values, segment._sorted_group_sums, segment.row_offsets)
               if isinstance(k, _jit.Kernel)}
    before = {name: None if k._dispatcher is None else (len(k._dispatcher.signatures), sum(k._dispatcher._cache_hits.values()),
              sum(k._dispatcher._cache_misses.values())) for name, k in kernels.items()}
    got = segment.group_sum(np.array([2, 0, 2], np.uint32), np.array([1.0, 2.0, 3.0]), 3).tolist()
    after = {name: (len(k._dispatcher.signatures), sum(k._dispatcher._cache_hits.values()),
             sum(k._dispatcher._cache_misses.values())) for name, k in kernels.items() if k._dispatcher is not None}
    print(json.dumps({"before": before, "after": after, "got": got}))
"""


def test_the_warm_up_thread_loads_what_the_last_run_called_once(tmp_path):
    """A second process loads, in the warm-up thread, the kernels (and signatures) the first one called: from the cache, once."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env.pop("NUMBA_DISABLE_JIT", None)

    def run(mode):
        proc = subprocess.run([sys.executable, "-c", WARM, mode], capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()[-1]

    assert run("record") == "[2.0, 0.0, 4.0]"  # by hand; compiles the kernels and records the calls
    records = list((tmp_path / "cache" / "warm").glob("test-*.pickle"))
    assert len(records) == 1
    seen = json.loads(run("warm"))
    assert seen["got"] == [2.0, 0.0, 4.0]
    loaded = {name: v for name, v in seen["before"].items() if v is not None}
    assert "_scatter_values" in loaded or "_sorted_group_sums" in loaded, seen  # group_sum's kernels, before any call
    for name, (signatures, hits, misses) in loaded.items():
        assert [signatures, hits, misses] == [1, 1, 0], (name, seen)  # one signature, loaded from the cache, not compiled
        assert seen["after"][name] == [1, 1, 0], (name, seen)  # the call found it: not loaded a second time
    # a record naming a kernel that no longer exists, or not a list: skipped, the run still works
    records[0].write_bytes(pickle.dumps([("graphlabor.kernels.segment", "no_such_kernel", ()), "junk"]))
    assert json.loads(run("warm"))["got"] == [2.0, 0.0, 4.0]
    records[0].write_bytes(b"not a pickle")
    assert json.loads(run("warm"))["got"] == [2.0, 0.0, 4.0]
