"""One exception hierarchy for graphlabor.

Every error a user can cause derives from :class:`GraphlaborError` and has a
one-line message that names the file, column, row and value involved. The CLI
prints that line and exits with :attr:`GraphlaborError.exit_code` (2 for bad
input or usage, 1 for other failures).
"""

from __future__ import annotations


class GraphlaborError(Exception):
    """Base class of graphlabor's errors.

    Parameters
    ----------
    message : str
        One line. Options are named as the Python API names them (``group_by``).
    param : str or tuple of str, optional
        The API parameter(s) the message names; the CLI shows each as its
        flag (``--group-by``).
    """

    exit_code = 1

    def __init__(self, *args: object, param: str | tuple[str, ...] | None = None) -> None:
        super().__init__(*args)
        self.params: tuple[str, ...] = (param,) if isinstance(param, str) else tuple(param or ())


class InputError(GraphlaborError, ValueError):
    """An input file, table or column is missing, unreadable or invalid."""

    exit_code = 2


class ParameterError(GraphlaborError, ValueError):
    """A model or command parameter is out of its range."""

    exit_code = 2


class OutputError(GraphlaborError, OSError):
    """An output cannot be written where it was asked for."""

    exit_code = 2


class ConvergenceError(GraphlaborError, RuntimeError):
    """The solver did not reach the tolerance within ``max_iter`` passes over the flow matrix.

    Attributes
    ----------
    n_iter : int
        Iterations done.
    residual : float
        L1 change of the last iteration, relative to the injected total.
    """

    def __init__(self, n_iter: int, residual: float, tol: float):
        self.n_iter = n_iter
        self.residual = residual
        self.tol = tol
        super().__init__(
            f"did not converge: {n_iter} iterations done, relative residual "
            f"{residual:.3e} still above tol={tol:g} (raise max_iter or tol)",
            param=("max_iter", "tol"),
        )


class ConservationError(GraphlaborError, RuntimeError):
    """Attributed value does not add up to injected value."""


class MemoryBudgetError(GraphlaborError, MemoryError):
    """The estimated memory need exceeds what the machine has free."""


def where(source: str, column: str | None = None, row: int | None = None, value: object = None) -> str:
    """Format the location part of an error message.

    >>> where("edges.csv", "weight", 3, -1.0)
    "edges.csv: column 'weight', row 3 (value -1.0)"
    """
    loc = []
    if column is not None:
        loc.append(f"column {column!r}")
    if row is not None:
        loc.append(f"row {row}")
    text = source
    if loc:
        text += ": " + ", ".join(loc)
    if value is not None:
        text += f" (value {value!r})"
    return text
