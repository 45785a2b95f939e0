"""graphlabor: attribute platform revenue to the digital labor that produced it.

>>> import graphlabor
>>> result = graphlabor.attribute(graphlabor.example_path("edges"),
...                               nodes=graphlabor.example_path("nodes"))
>>> abs(result.summary.conservation_error) < 1e-9
True
"""

from ._version import __version__
from .errors import (
    ConservationError,
    ConvergenceError,
    GraphlaborError,
    InputError,
    OutputError,
    ParameterError,
)
from .pipeline import attribute
from .results import AttributionResult, Summary


def example_path(which: str = "edges") -> str:
    """Path of the bundled example's ``edges`` or ``nodes`` Parquet file."""
    from importlib.resources import files

    if which not in ("edges", "nodes"):
        raise ValueError("which must be 'edges' or 'nodes'")
    return str(files("graphlabor.data") / f"example_{which}.parquet")


def from_networkx(G):
    """Edge and node tables from a networkx graph; see :mod:`graphlabor.interop`."""
    from .interop import from_networkx as f

    return f(G)


def from_igraph(g):
    """Edge and node tables from an igraph graph; see :mod:`graphlabor.interop`."""
    from .interop import from_igraph as f

    return f(g)


__all__ = [
    "__version__",
    "attribute",
    "example_path",
    "from_networkx",
    "from_igraph",
    "AttributionResult",
    "Summary",
    "GraphlaborError",
    "InputError",
    "ParameterError",
    "OutputError",
    "ConvergenceError",
    "ConservationError",
]
