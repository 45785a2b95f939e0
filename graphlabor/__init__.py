"""graphlabor: attribute platform revenue to the digital labor that produced it.

The public API is imported lazily, so that ``import graphlabor`` (and the
command line's ``--help``) stays fast; heavy modules (numba, pyarrow) load on
first use. Type checkers read the same names from real imports (the
``TYPE_CHECKING`` block below), so they see their types.

>>> import graphlabor
>>> result = graphlabor.attribute(graphlabor.example_path("edges"),
...                               nodes=graphlabor.example_path("nodes"))
>>> result.summary.conservation_error < 1e-9
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # what type checkers see; at run time the names load on first use
    from .errors import (
        ConservationError,
        ConvergenceError,
        GraphlaborError,
        InputError,
        MemoryBudgetError,
        OutputError,
        ParameterError,
    )
    from .explain import Explanation
    from .generate import generate
    from .interop import from_igraph, from_networkx
    from .pipeline import attribute, explain
    from .results import AttributionResult, Summary
    from .robustness import sensitivity

_LAZY = {
    "attribute": ("pipeline", "attribute"),
    "AttributionResult": ("results", "AttributionResult"),
    "Summary": ("results", "Summary"),
    "Explanation": ("explain", "Explanation"),
    "explain": ("explain", None),  # the module is callable (it calls pipeline.explain)
    "generate": ("generate", None),
    "sensitivity": ("robustness", "sensitivity"),
    "from_networkx": ("interop", "from_networkx"),
    "from_igraph": ("interop", "from_igraph"),
    "GraphlaborError": ("errors", "GraphlaborError"),
    "InputError": ("errors", "InputError"),
    "ParameterError": ("errors", "ParameterError"),
    "OutputError": ("errors", "OutputError"),
    "ConvergenceError": ("errors", "ConvergenceError"),
    "ConservationError": ("errors", "ConservationError"),
    "MemoryBudgetError": ("errors", "MemoryBudgetError"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        loaded = importlib.import_module(f".{module}", __name__)
        # ``generate`` is both a submodule and its main function: the module
        # is callable (it calls the function), so either one is right here
        value = loaded if attr is None else getattr(loaded, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'graphlabor' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_LAZY))


def example_path(which: str = "edges") -> str:
    """Path of the bundled example's ``edges`` or ``nodes`` Parquet file.

    >>> example_path("nodes").endswith("example_nodes.parquet")
    True
    """
    from importlib.resources import files

    if which not in ("edges", "nodes"):
        raise ValueError("which must be 'edges' or 'nodes'")
    return str(files("graphlabor.data") / f"example_{which}.parquet")


__all__ = [
    "AttributionResult",
    "ConservationError",
    "ConvergenceError",
    "Explanation",
    "GraphlaborError",
    "InputError",
    "MemoryBudgetError",
    "OutputError",
    "ParameterError",
    "Summary",
    "__version__",
    "attribute",
    "example_path",
    "explain",
    "from_igraph",
    "from_networkx",
    "generate",
    "sensitivity",
]
