"""Robustness: rerun the attribution over a grid of normative parameters.

The edges are read, encoded and classified once; every combination of the
grid is then solved on the same prepared arrays, each solve warm-started
from the previous one's solution (nearby parameters have nearby solutions,
so fewer power-iteration steps are needed; the stopping rule and the money
balance are unchanged, see :func:`graphlabor.solve.solve`).

For each setting: value attributed to users, their unpaid share, the Gini
of attributed value, the top-10% share, and the rank agreement of users
with the baseline (Kendall's tau-b and Spearman's rho, from
:mod:`graphlabor.rankstats`), plus the users whose rank moved most.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pyarrow as pa

from . import kernels as K
from .breakdowns import gini, top_share
from .edges import KindClasses
from .errors import ParameterError
from .methods import METHODS, run_model
from .params import DEFAULT_PAY_KINDS, DEFAULT_REVENUE_KINDS, ModelParams
from .pipeline import check_not_empty, prepare
from .rankstats import kendall_tau, spearman_rho
from .results import check_balance, role_totals, user_ranks
from .timing import StageLog

KIND_PREFIX = "kind_weight."


def parse_grid(specs: Any) -> dict[str, list[float]]:
    """``["damping=0.5,0.85", "kind_weight.view=0.2,1"]`` -> ``{"damping": [0.5, 0.85], ...}``.

    >>> parse_grid(["damping=0.5,0.85", "kind_weight.view=0.2,1"])
    {'damping': [0.5, 0.85], 'kind_weight.view': [0.2, 1.0]}
    """
    grid: dict[str, list[float]] = {}
    for spec in specs:
        name, sep, values = str(spec).partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"grid {spec!r} is not NAME=V1,V2,... (for example damping=0.5,0.85)", param="grid")
        vals = []
        for v in values.split(","):
            if not v.strip():
                continue
            try:
                vals.append(float(v))
            except ValueError:
                raise ParameterError(f"grid {spec!r}: {v.strip()!r} is not a number", param="grid") from None
        grid[name] = vals
    return check_grid(grid)


def check_grid(grid: dict[str, Any]) -> dict[str, list[float]]:
    """Check grid names and values; return ``{name: [floats]}`` in the given order."""
    if not grid:
        raise ParameterError("grid: give at least one NAME=V1,V2,... (damping, platform_share, kind_weight.KIND)", param="grid")
    out = {}
    for name, values in grid.items():
        if name not in ("damping", "platform_share") and not (name.startswith(KIND_PREFIX) and len(name) > len(KIND_PREFIX)):
            raise ParameterError(f"grid {name!r}: the grid varies damping, platform_share or kind_weight.KIND", param="grid")
        vals = [float(v) for v in ([values] if isinstance(values, (int, float)) else values)]
        if not vals:
            raise ParameterError(f"grid {name!r}: no values", param="grid")
        for v in vals:
            if not math.isfinite(v):
                raise ParameterError(f"grid {name!r}: {v!r} is not a finite number", param="grid")
        out[name] = list(dict.fromkeys(vals))
    return out


@dataclass
class SensitivityResult:
    """What :func:`sensitivity` returns.

    Attributes
    ----------
    settings : pyarrow.Table
        One row per setting: ``setting`` (0 = the baseline), one column per
        grid parameter, ``baseline``, ``attributed_users``, ``unpaid_share``,
        ``gini_attributed``, ``top10_share``, ``kendall_tau``, ``spearman``
        (users' attributed values against the baseline's),
        ``max_rank_move``, ``iterations`` and ``seconds``.
    moves : pyarrow.Table
        The users whose rank moved most in each setting: ``setting``,
        ``node``, ``rank_baseline``, ``rank``, ``move`` (``rank -
        rank_baseline``; negative moved up).
    grid : dict
    baseline : dict
        The baseline's parameters (the model options).
    """

    settings: pa.Table
    moves: pa.Table
    grid: dict[str, list[float]]
    baseline: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        def clean(v: Any) -> Any:
            return None if isinstance(v, float) and not math.isfinite(v) else v

        return {
            "grid": self.grid, "baseline": self.baseline,
            "settings": [{k: clean(v) for k, v in r.items()} for r in self.settings.to_pylist()],
            "moves": [{k: clean(v) for k, v in r.items()} for r in self.moves.to_pylist()],
        }

    def format(self) -> str:
        """The settings as a text table."""
        names = [c for c in self.settings.column_names if c != "seconds"]
        rows = self.settings.to_pylist()

        def fmt(name: str, v: Any) -> str:
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return "-"
            if isinstance(v, bool):
                return "*" if v else ""
            if isinstance(v, int):
                return f"{v:,}"
            if name == "attributed_users":
                return f"{v:,.2f}"
            return f"{v:.4g}"

        cells = [[fmt(n, r[n]) for n in names] for r in rows]
        widths = [max(len(n), *(len(c[i]) for c in cells)) for i, n in enumerate(names)]
        lines = ["  ".join(n.rjust(w) for n, w in zip(names, widths))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(c, widths)) for c in cells]
        return "\n".join(lines)


def _settings(grid: dict[str, list[float]]) -> list[dict[str, float]]:
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def sensitivity(
    edges: Any,
    nodes: Any = None,
    *,
    grid: dict[str, Any],
    damping: float = 0.85,
    platform_share: float = 0.0,
    kind_weights: dict[str, float] | None = None,
    revenue_kinds: Any = DEFAULT_REVENUE_KINDS,
    pay_kinds: Any = DEFAULT_PAY_KINDS,
    tol: float = 1e-10,
    max_iter: int = 1000,
    solver: str = "bicgstab",
    method: str = "propagate",
    half_life: str | float | None = None,
    as_of: Any = None,
    src_col: str | None = None,
    dst_col: str | None = None,
    id_type: str | None = None,
    allow_empty: bool = False,
    context_col: str | None = "context",
    unmatched: str = "pool",
    self_loops: str = "drop",
    roles: str = "infer",
    top_moves: int = 10,
    log: StageLog | None = None,
) -> SensitivityResult:
    """Attribute under every combination of a grid of parameters.

    Parameters
    ----------
    grid : dict
        ``{"damping": [...], "platform_share": [...], "kind_weight.KIND": [...]}``
        (any of them); every combination is run, the last name varying
        fastest.
    damping, platform_share, kind_weights, ...
        As for :func:`graphlabor.attribute`; they define the **baseline**
        setting (and the values of the parameters the grid does not vary).
    top_moves : int, default 10
        Users with the largest rank moves to report per setting.

    Examples
    --------
    >>> import graphlabor
    >>> s = graphlabor.sensitivity(graphlabor.example_path("edges"), graphlabor.example_path("nodes"),
    ...                            grid={"damping": [0.5, 0.85], "platform_share": [0, 0.2]})
    >>> s.settings.num_rows, s.settings["kendall_tau"][0].as_py()
    (4, 1.0)
    """
    grid = check_grid(grid)
    if method not in METHODS:
        raise ParameterError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    base_params = ModelParams(damping, platform_share, tol, max_iter, kind_weights or {}, solver)
    kinds = KindClasses(frozenset(revenue_kinds), frozenset(pay_kinds))
    log = log if log is not None else StageLog(verbose=False)
    # prepared once, with every kind weight 1: each setting multiplies the contribution values by its own
    prep = prepare(
        edges, nodes, ModelParams(damping, platform_share, tol, max_iter, {}), kinds,
        src_col=src_col, dst_col=dst_col, half_life=half_life, as_of=as_of, id_type=id_type, context_col=context_col,
        unmatched=unmatched, self_loops=self_loops, roles=roles, log=log,
    )
    if not allow_empty:
        check_not_empty(prep, kinds)
    contribution_kinds = {name for k, name in enumerate(prep.kind_names) if prep.kind_class[k] == 0}
    for name in grid:
        if name.startswith(KIND_PREFIX) and name[len(KIND_PREFIX):] not in contribution_kinds:
            raise ParameterError(
                f"--grid {name!r}: no contribution kind {name[len(KIND_PREFIX):]!r} in the edges "
                f"(contribution kinds: {', '.join(sorted(contribution_kinds)) or 'none'})"
            )
    base_value = prep.contribution.value
    role = prep.role
    users = np.flatnonzero(role == K.USER)

    def params_of(setting: dict[str, float]) -> ModelParams:
        kw = dict(base_params.kind_weights)
        for name, v in setting.items():
            if name.startswith(KIND_PREFIX):
                kw[name[len(KIND_PREFIX):]] = v
        return ModelParams(
            setting.get("damping", damping), setting.get("platform_share", platform_share), tol, max_iter, kw, solver,
        )

    def run(params: ModelParams, x0: np.ndarray | None) -> tuple[Any, float]:
        mult = np.array([params.kind_weight(k) for k in prep.kind_names], dtype=np.float64)
        c = prep.contribution
        value = base_value if np.all(mult == 1.0) else base_value * mult[c.kind] if len(c) else base_value
        p = replace(prep, contribution=replace(c, value=value))  # keeps the edges' contexts (pairs)
        t0 = time.perf_counter()
        r = run_model(p, params, method, breakdown=False, log=log, x0=x0)
        check_balance(float(r.injected.sum()), role_totals(role, r.kept), params.tol)
        return r, time.perf_counter() - t0

    base_setting = {n: (base_params.kind_weight(n[len(KIND_PREFIX):]) if n.startswith(KIND_PREFIX) else getattr(base_params, n)) for n in grid}
    combos = _settings(grid)
    order = [base_setting] + [c for c in combos if c != base_setting]

    rows, moves = [], []
    state = None
    base_kept: np.ndarray = np.empty(0)
    base_rank: np.ndarray = np.empty(0, np.int64)
    for i, setting in enumerate(order):
        with log.stage(f"setting {i}"):
            params = params_of(setting)
            r, seconds = run(params, state)
            state = r.state
            kept_u = r.kept[users]
            ranks = user_ranks(role, r.kept)[users]
            if i == 0:
                base_kept, base_rank = kept_u, ranks
            attributed = float(kept_u.sum())
            unpaid = float((kept_u - r.paid[users]).sum())
            move = ranks - base_rank
            k = min(top_moves, users.size)
            top = np.lexsort((users, -np.abs(move)))[:k] if k else np.empty(0, np.int64)
            top = top[move[top] != 0]
            for j in top.tolist():
                moves.append((i, int(users[j]), int(base_rank[j]), int(ranks[j]), int(move[j])))
            rows.append({
                "setting": i, **setting, "baseline": i == 0, "in_grid": setting in combos,
                "attributed_users": attributed,
                "unpaid_share": unpaid / attributed if attributed > 0 else float("nan"),
                "gini_attributed": gini(kept_u),
                "top10_share": top_share(kept_u),
                "kendall_tau": kendall_tau(base_kept, kept_u),
                "spearman": spearman_rho(base_kept, kept_u),
                "max_rank_move": int(np.abs(move).max()) if move.size else 0,
                "iterations": int(r.n_iter),
                "seconds": seconds,
            })
    settings = pa.Table.from_pylist(rows)
    m = np.array(moves, dtype=np.int64).reshape(-1, 5)
    moves_table = pa.table({
        "setting": pa.array(m[:, 0]),
        "node": prep.index.ids.take(pa.array(m[:, 1])),
        "rank_baseline": pa.array(m[:, 2]),
        "rank": pa.array(m[:, 3]),
        "move": pa.array(m[:, 4]),
    })
    baseline = {"method": method, "damping": damping, "platform_share": platform_share,
                "kind_weights": dict(base_params.kind_weights), "tol": tol}
    return SensitivityResult(settings, moves_table, grid, baseline)
