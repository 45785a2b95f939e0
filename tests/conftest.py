"""Shared fixtures: running the real CLI in a subprocess, writing edge files."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow as pa
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, env=None, cwd=None, timeout=300, check=True):
    """Run ``python -m graphlabor ARGS`` in a fresh process; return the CompletedProcess."""
    full_env = dict(os.environ)
    full_env.pop("NUMBA_DISABLE_JIT", None)
    if env:
        full_env.update(env)
    proc = subprocess.run(
        [sys.executable, "-m", "graphlabor", *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"graphlabor {' '.join(map(str, args))} exited {proc.returncode}\n"
            f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
        )
    return proc


@pytest.fixture
def run_cli():
    return cli


def edges_table(edges, *, id_type=None) -> pa.Table:
    """Edge list (src, dst, kind, weight, amount) -> pyarrow Table with those columns."""
    rows = [tuple(e) + (None,) * (5 - len(tuple(e))) for e in edges]
    src = [r[0] for r in rows]
    dst = [r[1] for r in rows]
    id_t = id_type or (pa.string() if src and isinstance(src[0], str) else pa.int64())
    return pa.table(
        {
            "src": pa.array(src, id_t),
            "dst": pa.array(dst, id_t),
            "kind": pa.array([r[2] if r[2] is not None else "interaction" for r in rows], pa.string()),
            "weight": pa.array([1.0 if r[3] is None else float(r[3]) for r in rows], pa.float64()),
            "amount": pa.array([None if r[4] is None else float(r[4]) for r in rows], pa.float64()),
        }
    )


def by_node(table: pa.Table) -> dict:
    """Output table -> {node id: row dict}."""
    return {r["node"]: r for r in table.to_pylist()}


def pytest_configure(config):
    # hypothesis' failure report imports mypy_extensions, which warns on import;
    # under filterwarnings=error that warning would hide the real failure
    config.addinivalue_line("filterwarnings", "ignore:mypy_extensions.TypedDict is deprecated:DeprecationWarning")
