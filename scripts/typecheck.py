"""Run mypy on graphlabor/ and kernels/ as they are installed.

kernels/ is installed as ``graphlabor.kernels`` (setuptools ``package-dir``), a
mapping that a plain ``mypy`` run cannot see: it would check kernels/ as a
top-level package ``kernels`` and find no ``graphlabor.kernels``. This driver
reads the same configuration ([tool.mypy] in pyproject.toml), renames the
kernels/ sources to ``graphlabor.kernels.*`` and runs the build.

Usage (what .ci/run does)::

    python scripts/typecheck.py            # files from [tool.mypy]
    python scripts/typecheck.py graphlabor/cli.py kernels/csr.py
"""

from __future__ import annotations

import sys

from mypy import build
from mypy.errors import CompileError
from mypy.main import process_options
from mypy.modulefinder import BuildSource


def _installed_name(module: str) -> str:
    if module == "kernels" or module.startswith("kernels."):
        return f"graphlabor.{module}"
    return module


def main(argv: list[str]) -> int:
    sources, options = process_options(argv)
    sources = [
        BuildSource(s.path, _installed_name(s.module), s.text, s.base_dir, s.followed)
        for s in sources
    ]
    messages: list[str] = []

    def flush(filename: str | None, new: list[str], serious: bool) -> None:
        messages.extend(new)
        for line in new:
            print(line)

    try:
        build.build(sources, options, None, flush)
    except CompileError as e:
        for line in e.messages:
            if line not in messages:
                print(line)
        return 2
    n_errors = sum(": error:" in m for m in messages)
    if n_errors:
        n_files = len({m.split(":", 1)[0] for m in messages if ": error:" in m})
        print(f"Found {n_errors} errors in {n_files} files (checked {len(sources)} source files)")
        return 1
    print(f"Success: no issues found in {len(sources)} source files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
