"""Model parameters, checked once at the boundary."""

from __future__ import annotations

from collections.abc import Mapping
import math
from dataclasses import dataclass, field

from .errors import ParameterError


def _check_kind_weights(kind_weights: Mapping[str, float]) -> dict[str, float]:
    out = {}
    for k, w in dict(kind_weights or {}).items():
        try:
            w = float(w)
        except (TypeError, ValueError):
            raise ParameterError(f"kind weight for {k!r} must be a number, got {w!r}") from None
        if not math.isfinite(w) or w < 0:
            raise ParameterError(f"kind weight for {k!r} must be a finite number >= 0, got {w!r}")
        out[str(k)] = w
    return out


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
    """

    damping: float = 0.85
    platform_share: float = 0.0
    tol: float = 1e-10
    max_iter: int = 1000
    kind_weights: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        d = self.damping
        if not isinstance(d, (int, float)) or not (0.0 <= d < 1.0):
            raise ParameterError(f"damping must be in [0, 1), got {d!r}")
        p = self.platform_share
        if not isinstance(p, (int, float)) or not (0.0 <= p <= 1.0):
            raise ParameterError(f"platform_share must be in [0, 1], got {p!r}")
        t = self.tol
        if not isinstance(t, (int, float)) or not (t > 0 and math.isfinite(t)):
            raise ParameterError(f"tol must be a positive number, got {t!r}")
        m = self.max_iter
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ParameterError(f"max_iter must be an integer >= 1, got {m!r}")
        object.__setattr__(self, "kind_weights", _check_kind_weights(self.kind_weights))

    def kind_weight(self, kind: str) -> float:
        return self.kind_weights.get(kind, 1.0)
