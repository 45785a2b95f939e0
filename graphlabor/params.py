"""Model parameters: their defaults (declared once, used by the API, the CLI and :class:`ModelParams`) and checks."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import ParameterError

#: Defaults of the model's parameters.
DAMPING = 0.85
PLATFORM_SHARE = 0.0
TOL = 1e-10
MAX_ITER = 1000
METHOD = "propagate"
SOLVER = "bicgstab"
#: Solvers of ``x = s + T x`` (see :mod:`graphlabor.solve`).
SOLVERS = ("bicgstab", "jacobi")
#: Edge kinds that carry revenue and pay by default; every other kind is a contribution.
DEFAULT_REVENUE_KINDS = ("spend", "fee")
DEFAULT_PAY_KINDS = ("pay",)


def check_kind_weight(kind: str, weight: str | float) -> float:
    """One kind weight as a float: a finite number >= 0.

    >>> check_kind_weight("click", "0.5")
    0.5
    >>> check_kind_weight("click", -1)
    Traceback (most recent call last):
    ...
    graphlabor.errors.ParameterError: kind_weights: the weight of 'click' must be a finite number >= 0, got -1.0
    """
    try:
        w = float(weight)
    except (TypeError, ValueError):
        raise ParameterError(f"kind_weights: the weight of {kind!r} must be a number, got {weight!r}", param="kind_weights") from None
    if not math.isfinite(w) or w < 0:
        raise ParameterError(f"kind_weights: the weight of {kind!r} must be a finite number >= 0, got {w!r}", param="kind_weights")
    return w


def _check_kind_weights(kind_weights: Mapping[str, float]) -> dict[str, float]:
    return {str(k): check_kind_weight(k, w) for k, w in dict(kind_weights or {}).items()}


@dataclass(frozen=True)
class ModelParams:
    """Parameters of the value-flow model.

    Attributes
    ----------
    damping : float, default 0.85
        Share of held value a user passes to the users it acted on, in [0, 1)
        (networkx's ``alpha``).
    platform_share : float, default 0.0
        Share of held value a platform keeps, in [0, 1].
    tol : float, default 1e-10
        Stop when the L1 change of held value falls under ``tol`` times the
        injected total.
    max_iter : int, default 1000
    kind_weights : dict of str to float
        Multiplier of each contribution kind's weight (default 1).
    solver : {"bicgstab", "jacobi"}, default "bicgstab"
        ``bicgstab``: BiCGSTAB, its true residual checked at the end (about
        4-6x fewer passes over ``T``); ``jacobi``: the power iteration,
        stopped when the value still in flight is below ``tol`` (see
        docs/model.md, section 3). ``max_iter`` bounds the passes over ``T``.
    """

    damping: float = DAMPING
    platform_share: float = PLATFORM_SHARE
    tol: float = TOL
    max_iter: int = MAX_ITER
    kind_weights: dict[str, float] = field(default_factory=dict)
    solver: str = SOLVER

    def __post_init__(self) -> None:
        d = self.damping
        if not isinstance(d, (int, float)) or not (0.0 <= d < 1.0):
            raise ParameterError(f"damping must be in [0, 1), got {d!r}", param="damping")
        p = self.platform_share
        if not isinstance(p, (int, float)) or not (0.0 <= p <= 1.0):
            raise ParameterError(f"platform_share must be in [0, 1], got {p!r}", param="platform_share")
        t = self.tol
        if not isinstance(t, (int, float)) or not (t > 0 and math.isfinite(t)):
            raise ParameterError(f"tol must be a positive number, got {t!r}", param="tol")
        m = self.max_iter
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ParameterError(f"max_iter must be an integer >= 1, got {m!r}", param="max_iter")
        if self.solver not in SOLVERS:
            raise ParameterError(f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}", param="solver")
        object.__setattr__(self, "kind_weights", _check_kind_weights(self.kind_weights))

    def kind_weight(self, kind: str) -> float:
        return self.kind_weights.get(kind, 1.0)
