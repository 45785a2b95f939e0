"""The public API is typed for type checkers, and ``import graphlabor`` stays light."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_import_loads_no_heavy_module():
    code = (
        "import sys, graphlabor\n"
        "print(sorted(m for m in ('numba', 'pyarrow', 'pandas', 'numpy', 'networkx') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_public_names_resolve_to_their_modules():
    import graphlabor
    from graphlabor.errors import MemoryBudgetError
    from graphlabor.explain import Explanation
    from graphlabor.pipeline import attribute

    assert graphlabor.attribute is attribute
    assert graphlabor.MemoryBudgetError is MemoryBudgetError
    assert graphlabor.Explanation is Explanation
    assert callable(graphlabor.generate)
    assert set(graphlabor.__all__) <= set(dir(graphlabor))
    for name in graphlabor.__all__:
        assert getattr(graphlabor, name) is not None


def test_generate_is_callable_and_still_the_module(tmp_path):
    import pyarrow.parquet as pq

    import graphlabor
    from graphlabor.generate import EXAMPLE  # the module's names stay importable

    info = graphlabor.generate(tmp_path / "e.parquet", edges=500, seed=1)
    assert pq.read_metadata(tmp_path / "e.parquet").num_rows == 500
    assert info.edges == 500
    assert EXAMPLE is not None


SNIPPET = """
import graphlabor

r = graphlabor.attribute("edges.parquet", damping=0.9)
reveal_type(graphlabor.attribute)
reveal_type(r)
reveal_type(r.to_dict())
reveal_type(r.summary.total_injected)
reveal_type(graphlabor.MemoryBudgetError)
reveal_type(graphlabor.Explanation)
reveal_type(graphlabor.generate)
graphlabor.attribute("edges.parquet", dampin=0.9)
graphlabor.attribute("edges.parquet", damping="high")
"""


def test_type_checker_sees_real_types(tmp_path):
    pytest.importorskip("mypy")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(textwrap.dedent(SNIPPET))
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary",
         "--cache-dir", str(tmp_path / "cache"), str(snippet)],
        capture_output=True, text=True, cwd=ROOT,
    )
    lines = out.stdout.splitlines()
    notes = [line.split("Revealed type is ", 1)[1].strip('"') for line in lines if "Revealed type is" in line]
    errors = [line for line in lines if ": error:" in line]
    assert len(notes) == 7, out.stdout + out.stderr
    attribute, result, as_dict, total, mem_error, explanation, generate = notes
    assert attribute.startswith("def (edges: str | os.PathLike[str]")
    assert "DataFrame" in attribute and "damping: float" in attribute
    assert attribute.endswith("-> graphlabor.results.AttributionResult")
    assert result == "graphlabor.results.AttributionResult"
    assert as_dict.endswith("dict[Any, Any]")
    assert total in ("float", "builtins.float")
    assert mem_error.endswith("-> graphlabor.errors.MemoryBudgetError")
    assert explanation.endswith("-> graphlabor.explain.Explanation")
    assert generate.startswith("def (edges_path:")
    # a misspelt keyword and a wrong argument type are caught: the names are not Any
    assert len(errors) == 2, out.stdout
    assert 'Unexpected keyword argument "dampin"' in errors[0]
    assert 'Argument "damping" to "attribute" has incompatible type "str"' in errors[1]
