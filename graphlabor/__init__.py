"""graphlabor: attribute platform revenue to the digital labor that produced it.

The public API is imported lazily, so that ``import graphlabor`` (and the
command line's ``--help``) stays fast; heavy modules (numba, pyarrow) load on
first use.

>>> import graphlabor
>>> result = graphlabor.attribute(graphlabor.example_path("edges"),
...                               nodes=graphlabor.example_path("nodes"))
>>> result.summary.conservation_error < 1e-9
True
"""

from __future__ import annotations

import importlib

from ._version import __version__

_LAZY = {
    "attribute": ("pipeline", "attribute"),
    "AttributionResult": ("results", "AttributionResult"),
    "Summary": ("results", "Summary"),
    "from_networkx": ("interop", "from_networkx"),
    "from_igraph": ("interop", "from_igraph"),
    "GraphlaborError": ("errors", "GraphlaborError"),
    "InputError": ("errors", "InputError"),
    "ParameterError": ("errors", "ParameterError"),
    "OutputError": ("errors", "OutputError"),
    "ConvergenceError": ("errors", "ConvergenceError"),
    "ConservationError": ("errors", "ConservationError"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'graphlabor' has no attribute {name!r}")


def __dir__():
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


__all__ = ["__version__", "example_path", *_LAZY]
