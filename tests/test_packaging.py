"""Packaging: the wheel's layout, and a run from a read-only installation."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        check=True,
    )
    (whl,) = glob.glob(str(out / "graphlabor-*.whl"))
    return whl


def test_wheel_maps_kernels_under_graphlabor(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "graphlabor/kernels/__init__.py" in names
    assert "graphlabor/kernels/propagate.py" in names
    assert not any(n.startswith("kernels/") for n in names), "a top-level 'kernels' package would be installed"
    assert "graphlabor/data/example_edges.parquet" in names
    assert "graphlabor/data/example_nodes.parquet" in names
    top = [n for n in names if n.endswith("top_level.txt")]
    text = zipfile.ZipFile(wheel).read(top[0]).decode().split()
    assert text == ["graphlabor"]


def _mount_read_only(path: Path) -> bool:
    r = subprocess.run(["mount", "--bind", str(path), str(path)], capture_output=True)
    if r.returncode:
        return False
    r = subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], capture_output=True)
    if r.returncode:
        subprocess.run(["umount", str(path)])
        return False
    return True


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to bind-mount read-only")
@pytest.mark.parametrize("env_cache", [False, True])
def test_runs_from_read_only_install(wheel, tmp_path, env_cache):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), wheel], check=True)
    if not _mount_read_only(site):
        pytest.skip("cannot bind-mount read-only here")
    try:
        with pytest.raises(OSError):
            (site / "graphlabor" / "probe").write_text("x")
        home = tmp_path / "home"
        home.mkdir()
        env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE")}
        env.update(HOME=str(home), PYTHONPATH=str(site), XDG_CACHE_HOME=str(home / ".cache"))
        cache = tmp_path / "numba-cache"
        if env_cache:
            env["NUMBA_CACHE_DIR"] = str(cache)
        code = (
            "import graphlabor; r = graphlabor.attribute(graphlabor.example_path('edges'), "
            "nodes=graphlabor.example_path('nodes')); "
            "assert graphlabor.__file__.startswith(%r), graphlabor.__file__; "
            "print(r.summary.conservation_error)" % str(site)
        )
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert float(r.stdout.strip()) < 1e-9
        where = cache if env_cache else home / ".cache"
        cached = list(where.rglob("*.nbi"))
        assert cached, f"no Numba cache index written under {where}"
    finally:
        subprocess.run(["umount", str(site)])
