"""The digital social income: a levy on platforms, redistributed to users.

Each platform pays ``levy x base`` into one fund, where the base is its
*capture* (revenue minus the pay it sent out, zero where negative; the
default) or its *revenue*. The fund is then shared among users by one or
more schemes:

- ``equal``: the same amount to every user (an unconditional digital social
  income, a universal basic income financed by the platforms);
- ``unpaid``: pro rata to each user's unpaid value ``max(attributed - paid, 0)``
  (a data dividend that returns value where the model says it was produced);
  when no user has unpaid value the fund is shared equally;
- ``floor``: needs hours; tops up the users whose income per hour
  ``(paid + transfer) / hours`` is below a floor, raising the lowest first
  (water-filling) until the fund runs out or everyone with hours reaches the
  floor; anything left over is then shared equally among all users.

Everything here is arithmetic on per-user and per-platform arrays (arrays in,
arrays out); :func:`redistribute` assembles the tables. See
``docs/model.md``, section "The digital social income".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .breakdowns import gini
from .errors import ParameterError

SCHEMES = ("equal", "unpaid", "floor")
BASES = ("capture", "revenue")
#: An income per hour within this relative distance under the floor counts as at the floor
#: (a topped-up user's ``(paid + transfer) / hours`` can round one ulp under it).
FLOOR_RTOL = 1e-9


def levy_base(revenue: np.ndarray, paid_out: np.ndarray, base: str = "capture") -> np.ndarray:
    """Per-platform base of the levy: capture (``max(revenue - paid_out, 0)``) or revenue.

    >>> levy_base(np.array([10.0, 5.0]), np.array([4.0, 8.0])).tolist()
    [6.0, 0.0]
    >>> levy_base(np.array([10.0, 5.0]), np.array([4.0, 8.0]), "revenue").tolist()
    [10.0, 5.0]
    """
    if base not in BASES:
        raise ParameterError(f"base must be one of {', '.join(BASES)}, got {base!r}")
    revenue = np.asarray(revenue, dtype=np.float64)
    if base == "revenue":
        return revenue.copy()
    out: np.ndarray = np.maximum(revenue - np.asarray(paid_out, dtype=np.float64), 0.0)
    return out


def equal_transfers(n_users: int, fund: float) -> np.ndarray:
    """The fund split into ``n_users`` equal transfers.

    >>> equal_transfers(4, 10.0).tolist()
    [2.5, 2.5, 2.5, 2.5]
    """
    if n_users == 0:
        return np.zeros(0)
    return np.full(n_users, fund / n_users)


def unpaid_transfers(attributed: np.ndarray, paid: np.ndarray, fund: float) -> np.ndarray:
    """The fund pro rata to unpaid value ``max(attributed - paid, 0)``; equal when none is unpaid.

    >>> unpaid_transfers(np.array([5.0, 3.0, 1.0]), np.array([1.0, 3.0, 2.0]), 8.0).tolist()
    [8.0, 0.0, 0.0]
    """
    unpaid = np.maximum(np.asarray(attributed, np.float64) - np.asarray(paid, np.float64), 0.0)
    total = math.fsum(unpaid.tolist()) if unpaid.size < 1_000_000 else float(unpaid.sum())
    if total <= 0:
        return equal_transfers(unpaid.size, fund)
    return fund * (unpaid / total)


def floor_transfers(paid: np.ndarray, hours: np.ndarray, floor: float, fund: float) -> tuple[np.ndarray, float]:
    """Water-filling top-up of income per hour to ``floor``, leftover shared equally.

    Users with positive finite ``hours`` and ``paid / hours < floor`` are
    raised in order of income per hour, lowest first, to a common level
    ``L <= floor`` such that the top-ups ``hours_i x (L - paid_i / hours_i)``
    of those under ``L`` add up to the fund. If the fund lifts everyone with
    hours to the floor, what remains is shared equally among all users.

    Returns
    -------
    transfers : ndarray of float64
    level : float
        The income per hour reached by every topped-up user (``floor`` when
        the fund sufficed; NaN when nobody with hours was below the floor).

    Examples
    --------
    Two users earn 1 and 3 an hour, each for 2 hours; a fund of 2 lifts the
    first to 2 an hour, a fund of 10 lifts it to the floor of 4 (cost 6) and
    the second too (cost 2), and shares the remaining 2 equally.

    >>> paid, hours = np.array([2.0, 6.0]), np.array([2.0, 2.0])
    >>> t, level = floor_transfers(paid, hours, 4.0, 2.0); t.tolist(), level
    ([2.0, 0.0], 2.0)
    >>> t, level = floor_transfers(paid, hours, 4.0, 10.0); t.tolist(), level
    ([7.0, 3.0], 4.0)
    """
    paid = np.asarray(paid, dtype=np.float64)
    hours = np.asarray(hours, dtype=np.float64)
    n = paid.size
    out = np.zeros(n)
    ok = np.isfinite(hours) & (hours > 0)
    idx = np.flatnonzero(ok)
    rate = paid[idx] / hours[idx]
    below = rate < floor
    cand = idx[below]
    if cand.size == 0:
        return out + (fund / n if n else 0.0), float("nan")
    order = np.lexsort((cand, rate[below]))  # by income per hour, ties by position: deterministic
    r = rate[below][order]
    h = hours[cand][order]
    H = np.cumsum(h)
    nxt = np.append(r[1:], floor)
    # cost of raising the first k+1 users to the next breakpoint, as a sum of
    # non-negative terms (no cancellation): cost_k = cost_{k-1} + H_k (nxt_k - r_k)
    cost = np.cumsum(H * (nxt - r))
    leftover = 0.0
    if fund >= cost[-1]:
        k = r.size - 1
        prev = cost[k - 1] if k > 0 else 0.0
        delta = floor - r[k]
        leftover = fund - cost[-1]
        level = float(floor)
    else:
        k = int(np.searchsorted(cost, fund, side="left"))
        prev = cost[k - 1] if k > 0 else 0.0
        delta = (fund - prev) / H[k]
        level = float(r[k] + delta)
    top = np.zeros(r.size)
    top[: k + 1] = h[: k + 1] * ((r[k] - r[: k + 1]) + delta)
    out[cand[order]] = top
    if leftover > 0 and n:
        out += leftover / n
    return out, level


@dataclass
class Redistribution:
    """What :func:`redistribute` returns.

    Attributes
    ----------
    users : pyarrow.Table
        One row per user: ``node``, the group column, ``attributed``,
        ``paid``, ``hours`` (when known), then ``transfer_<scheme>`` and
        ``income_<scheme>`` (``paid + transfer``) for each scheme.
    schemes : pyarrow.Table
        One row per scheme: ``scheme``, ``fund``, ``users``,
        ``users_receiving``, ``transferred``, ``gini_before`` (of ``paid``),
        ``gini_after`` (of income), and with a floor ``below_floor_before``
        and ``below_floor_after`` (share of users with hours whose income per
        hour is under the floor) and ``floor_level``.
    groups : pyarrow.Table or None
        The same statistics per scheme and group, with ``group_by``.
    levy, base, floor, fund
        The parameters and the fund (``levy x sum of the platforms' bases``).
    platforms : pyarrow.Table
        Each platform's base and levy.
    """

    users: pa.Table
    schemes: pa.Table
    groups: pa.Table | None
    levy: float
    base: str
    floor: float | None
    fund: float
    platforms: pa.Table

    def to_dict(self) -> dict[str, Any]:
        def clean(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in r.items()} for r in rows]

        return {
            "levy": self.levy, "base": self.base, "floor": self.floor, "fund": self.fund,
            "schemes": clean(self.schemes.to_pylist()),
            "groups": clean(self.groups.to_pylist()) if self.groups is not None else None,
        }

    def format(self) -> str:
        """The schemes side by side, one row per statistic."""
        rows = self.schemes.to_pylist()
        stats = [c for c in self.schemes.column_names if c != "scheme"]
        head = f"digital social income: levy {self.levy:g} of platform {self.base}, fund {self.fund:,.2f}"
        if self.floor is not None:
            head += f", floor {self.floor:g} per hour"
        width = max(12, *(len(r["scheme"]) for r in rows)) if rows else 12
        lines = [head, f"{'':<20}" + "".join(f"{r['scheme']:>{width + 2}}" for r in rows)]
        for s in stats:
            cells = []
            for r in rows:
                v = r[s]
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    cells.append("-")
                elif isinstance(v, int):
                    cells.append(f"{v:,}")
                elif s.startswith(("gini", "below")):
                    cells.append(f"{v:.4f}")
                else:
                    cells.append(f"{v:,.2f}")
            lines.append(f"{s:<20}" + "".join(f"{c:>{width + 2}}" for c in cells))
        return "\n".join(lines)


def _below(income: np.ndarray, hours: np.ndarray, floor: float) -> float:
    ok = np.isfinite(hours) & (hours > 0)
    if not ok.any():
        return float("nan")
    per_hour = income[ok] / hours[ok]
    return float(np.mean(per_hour < floor * (1 - FLOOR_RTOL)))


def _stats(paid: np.ndarray, transfer: np.ndarray, hours: np.ndarray | None, floor: float | None,
           level: float) -> dict[str, Any]:
    income = paid + transfer
    row = {
        "users": int(paid.size),
        "users_receiving": int((transfer > 0).sum()),
        "transferred": float(transfer.sum()),
        "gini_before": gini(paid),
        "gini_after": gini(income),
    }
    if floor is not None and hours is not None:
        row["below_floor_before"] = _below(paid, hours, floor)
        row["below_floor_after"] = _below(income, hours, floor)
        row["floor_level"] = level
    return row


def redistribute(result: Any, levy: float, schemes: Any = ("equal", "unpaid"), base: str = "capture",
                 floor: float | None = None, group_by: str | None = None) -> Redistribution:
    """Simulate a digital social income on an attribution's users.

    Parameters
    ----------
    result : AttributionResult
        One attribution (not per period).
    levy : float
        Share of each platform's base paid into the fund, in [0, 1].
    schemes : iterable of {"equal", "unpaid", "floor"}
    base : {"capture", "revenue"}
    floor : float, optional
        Income per hour the ``floor`` scheme tops up to (needs the nodes
        file's ``hours``); with it, every scheme reports the share of users
        below the floor before and after.
    group_by : str, optional
        A nodes-file column: statistics per scheme and group.

    Examples
    --------
    >>> import graphlabor
    >>> r = graphlabor.attribute(graphlabor.example_path("edges"), nodes=graphlabor.example_path("nodes"))
    >>> d = r.redistribute(levy=0.1, schemes=["equal", "unpaid", "floor"], floor=15.0)
    >>> [round(t, 6) == round(d.fund, 6) for t in d.schemes["transferred"].to_pylist()]
    [True, True, True]
    """
    schemes = tuple(dict.fromkeys(s.strip() for s in ([schemes] if isinstance(schemes, str) else schemes)))
    if not schemes:
        raise ParameterError("give at least one scheme: equal, unpaid or floor")
    for s in schemes:
        if s not in SCHEMES:
            raise ParameterError(f"scheme must be one of {', '.join(SCHEMES)}, got {s!r}")
    if base not in BASES:
        raise ParameterError(f"base must be one of {', '.join(BASES)}, got {base!r}")
    try:
        levy = float(levy)
    except (TypeError, ValueError):
        raise ParameterError(f"levy must be a number in [0, 1], got {levy!r}") from None
    if not (0.0 <= levy <= 1.0):
        raise ParameterError(f"levy must be in [0, 1], got {levy!r}")
    if floor is not None and not (math.isfinite(floor) and floor >= 0):
        raise ParameterError(f"floor must be a number >= 0, got {floor!r}")
    if "floor" in schemes and floor is None:
        raise ParameterError("scheme 'floor' needs --floor X (income per hour)")
    nodes = result.nodes
    if "period" in nodes.column_names:
        raise ParameterError("redistribute works on one attribution; run it without --period")
    users = nodes.filter(pc.equal(nodes["role"], "user"))
    has_hours = "hours" in users.column_names
    if "floor" in schemes and not has_hours:
        raise ParameterError("scheme 'floor' needs an 'hours' column in the nodes file")
    if group_by is not None and group_by not in users.column_names:
        raise ParameterError(f"group_by {group_by!r}: no such column in the nodes file", param="group_by")

    plat = result.platforms
    bases = levy_base(plat["revenue"].to_numpy(), plat["paid_out"].to_numpy(), base)
    levies = levy * bases
    fund = math.fsum(levies.tolist())
    if fund > 0 and users.num_rows == 0:
        raise ParameterError("there are no users to redistribute the fund to")

    attributed = users["attributed"].to_numpy()
    paid = users["paid"].to_numpy()
    hours = pc.cast(users["hours"], pa.float64()).to_numpy(zero_copy_only=False) if has_hours else None

    cols = {"node": users["node"]}
    if group_by is not None:
        cols[group_by] = users[group_by]
    cols["attributed"] = users["attributed"]
    cols["paid"] = users["paid"]
    if hours is not None:
        cols["hours"] = pa.array(hours, mask=np.isnan(hours))
    transfers, levels = {}, {}
    for s in schemes:
        level = float("nan")
        if s == "equal":
            t = equal_transfers(paid.size, fund)
        elif s == "unpaid":
            t = unpaid_transfers(attributed, paid, fund)
        else:
            assert hours is not None and floor is not None  # checked above
            t, level = floor_transfers(paid, hours, float(floor), fund)
        transfers[s], levels[s] = t, level
        cols[f"transfer_{s}"] = pa.array(t)
        cols[f"income_{s}"] = pa.array(paid + t)
    table = pa.table(cols)

    rows = []
    for s in schemes:
        rows.append({"scheme": s, "fund": fund, **_stats(paid, transfers[s], hours, floor, levels[s])})
    scheme_table = pa.Table.from_pylist(rows)

    groups = None
    if group_by is not None:
        keys = users[group_by].to_pylist()
        index: dict[Any, list[int]] = {}
        for i, k in enumerate(keys):
            index.setdefault(k, []).append(i)
        order = sorted(index, key=lambda k: (k is None, k if k is not None else 0))
        grows = []
        for s in schemes:
            for k in order:
                ix = np.array(index[k])
                st = _stats(paid[ix], transfers[s][ix], None if hours is None else hours[ix], floor, levels[s])
                st.pop("floor_level", None)
                grows.append({"scheme": s, group_by: k, **st})
        groups = pa.Table.from_pylist(grows)
    platforms = pa.table({"platform": plat["platform"], "base": bases, "levy": levies})
    return Redistribution(table, scheme_table, groups, levy, base, floor, fund, platforms)
