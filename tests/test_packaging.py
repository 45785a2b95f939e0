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


def _cache_files(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*") if p.suffix in (".nbi", ".nbc")}


def test_kernel_cache_is_written_outside_the_package(tmp_path):
    """Compiling a cached kernel writes its cache under the user cache dir, nothing in the package.

    Cache files left in an installed package survive ``pip uninstall`` and turn the
    leftover folder into a namespace package that shadows a later editable install.
    """
    import graphlabor.kernels as K

    package = Path(K.__file__).resolve().parent
    before = _cache_files(package)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_CACHE") and k != "NUMBA_DISABLE_JIT"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg")
    code = (
        "import numpy as np; from graphlabor.kernels import segment; "
        "print(segment.group_sum(np.array([0, 1, 1], np.uint32), np.ones(3), 2))"
    )
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[1.", "2.]"]
    assert _cache_files(package) == before, "a kernel cache file was written inside the installed package"
    assert list((tmp_path / "xdg" / "graphlabor" / "numba").rglob("*.nbi")), "no cache index in the user cache dir"


def _clone(dest: Path) -> None:
    """Copy the checkout's files (tracked and new, not ignored) to ``dest``, as a clone would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(src.read_bytes())


@pytest.mark.slow
def test_readme_install_commands_in_sequence(tmp_path):
    """The README's two set-up commands, run one after the other in one clone, leave a working install.

    The first installs normally and runs the example (compiling and caching the kernels);
    the second reinstalls the same venv in editable mode. ``python -m graphlabor`` must then
    import the editable package, not a leftover of the first install.
    """
    clone = tmp_path / "clone"
    _clone(clone)
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_CACHE", "VIRTUAL_ENV", "PYTHON"))}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    env.pop("NUMBA_DISABLE_JIT", None)
    readme = (ROOT / "README.md").read_text()
    first = next(line for line in readme.splitlines() if "pip install . &&" in line)
    second = next(line for line in readme.splitlines() if "pip install -e" in line)
    # the second command's test run is the whole suite: keep its set-up, then check the install
    second = second.split("&& python -m pytest")[0]
    check = (
        " && python -m graphlabor attribute graphlabor/data/example_edges.parquet -o out.parquet"
        " && python -c 'import graphlabor, graphlabor.kernels as K; print(graphlabor.__file__, K.INDEX_DTYPE)'"
    )
    for cmd in (first, second + check):
        r = subprocess.run(["bash", "-c", cmd], cwd=clone, env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, f"{cmd}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    assert str(clone / "graphlabor" / "__init__.py") in r.stdout, r.stdout
    site = next((clone / ".venv" / "lib").glob("python*/site-packages"))
    assert not (site / "graphlabor").exists(), sorted(p.name for p in (site / "graphlabor").rglob("*"))
