"""Breakdowns of an attribution: by kind, by platform, by group, per hour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import ArrayLike

from . import columns
from . import kernels as K
from .codes import Role

if TYPE_CHECKING:
    from .methods import ModelRun

VIA_INJECTED = columns.VIA_INJECTED


def via_columns(via: np.ndarray, kind_names: list[str], kind_class: np.ndarray) -> dict[str, np.ndarray]:
    """Per-node columns ``via_<kind>`` for each contribution kind, and ``via_injected``.

    ``via_<kind>`` is the part of a node's attributed value that reached it,
    on its last hop, through contribution edges of that kind; ``via_injected``
    the part it kept of value injected at it (a platform's share of its
    revenue, or a node's own ``value``). They add up to ``attributed``.
    """
    cols = {}
    for k, name in enumerate(kind_names):
        if kind_class[k] == 0:
            cols[columns.via_name(name)] = via[:, k]
    cols[VIA_INJECTED] = via[:, len(kind_names)]
    return cols


def gini(x: ArrayLike) -> float:
    """Gini coefficient, as R's ``ineq::Gini(x)`` (no small-sample correction).

    ``G = 2 * sum_i i * x_(i) / (n * sum x) - (n + 1) / n`` with ``x`` sorted
    ascending and ``i = 1..n``; NaN for an empty vector or a zero sum.

    >>> gini([1, 1, 1, 1])
    0.0
    >>> round(gini([0, 0, 0, 10]), 6)
    0.75
    """
    x = np.sort(np.asarray(x, dtype=np.float64))
    n = x.size
    total = x.sum()
    if n == 0 or total == 0:
        return float("nan")
    i = np.arange(1, n + 1)
    return float(2.0 * np.sum(i * x) / (n * total) - (n + 1) / n)


def top_share(x: ArrayLike, fraction: float = 0.1) -> float:
    """Share of the total held by the top ``fraction`` of values (at least one).

    >>> top_share([1, 1, 1, 1, 1, 1, 1, 1, 1, 11])
    0.55
    """
    x = np.sort(np.asarray(x, dtype=np.float64))[::-1]
    total = x.sum()
    if x.size == 0 or total == 0:
        return float("nan")
    k = max(1, int(np.ceil(fraction * x.size)))
    return float(x[:k].sum() / total)


def platform_table(ids: pa.Array, role: np.ndarray, run: ModelRun) -> pa.Table:
    """One row per platform.

    Columns: ``platform``, ``revenue`` (injected by revenue edges),
    ``paid_out`` (pay edges it sent), ``kept``, ``passed_to_users``
    (revenue and other injections it held minus what it kept; all of it ends
    at users), ``capture`` (``revenue - paid_out``), ``capture_rate``
    (``capture / revenue``), ``contributors`` (distinct users it passes value
    to: none when it keeps everything) and ``users_unpaid`` (``passed_to_users - paid_out``: the value its
    users produced that it did not pay them).
    """
    plat = np.flatnonzero(role == Role.PLATFORM)
    g = run.graph
    if run.pairs is not None and run.pairs.platform is not None and g.nnz:
        # distinct users a platform passes value to, through its pool or any of its (platform, context)
        # pairs: a pair's entry is also an entry of the platform's pool unless the pool is idle (holds
        # nothing: no entries), so the union is the larger of the two counts
        n = role.shape[0]
        contributors = np.bincount(g.indices, minlength=n)[:n]
        if g.pairs is not None:
            from .kernels.pairflow import pair_users

            # (only the platforms without pool entries can have more)
            only = ((contributors == 0) & (role == Role.PLATFORM)).astype(np.uint8)
            contributors = np.maximum(contributors, pair_users(g.pairs.ptr, g.pairs.user, run.pairs.platform, 0, n, n,
                                                               only))
        contributors = contributors[plat]
    else:
        contributors = g.entries_per_sender()[plat] if g.nnz else np.zeros(plat.size, np.int64)
    revenue = run.revenue_in[plat]
    passed = run.held[plat] - run.kept[plat]
    paid_out = run.paid_out[plat]
    capture = revenue - paid_out
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        rate = np.where(revenue > 0, capture / np.where(revenue > 0, revenue, 1), np.nan)
    return pa.table({
        "platform": ids.take(pa.array(plat)),
        "revenue": revenue,
        "paid_out": paid_out,
        "kept": run.kept[plat],
        "passed_to_users": passed,
        "capture": capture,
        "capture_rate": pa.array(rate, mask=np.isnan(rate)),
        "contributors": contributors.astype(np.int64),
        "users_unpaid": passed - paid_out,
    })


def hours_columns(
    attributed: np.ndarray, paid: np.ndarray, hours: np.ndarray, role: np.ndarray, min_wage: float | None
) -> tuple[dict[str, pa.Array], np.ndarray | None]:
    """``attributed_per_hour``, ``paid_per_hour`` and, with a minimum wage, ``below_min_wage``.

    Per-hour values are null where ``hours`` is missing or not positive.
    ``below_min_wage`` is true for users whose attributed value per hour is at
    or above ``min_wage`` while their pay per hour is below it.
    """
    ok = np.isfinite(hours) & (hours > 0)
    safe = np.where(ok, hours, 1.0)
    aph = attributed / safe
    pph = paid / safe
    cols = {
        columns.ATTRIBUTED_PER_HOUR: pa.array(aph, mask=~ok),
        columns.PAID_PER_HOUR: pa.array(pph, mask=~ok),
    }
    flag = None
    if min_wage is not None:
        flag = ok & (role == Role.USER) & (aph >= min_wage) & (pph < min_wage)
        cols[columns.BELOW_MIN_WAGE] = pa.array(flag)
    return cols, flag


def group_table(nodes: pa.Table, column: str) -> pa.Table:
    """Per-group statistics of users, grouped by a node column.

    Columns: the group, ``users``, ``attributed``, ``paid``, ``unpaid``,
    ``unpaid_share`` (``unpaid / attributed``), ``gini_attributed``,
    ``gini_paid`` (R ``ineq::Gini``), ``top10_share`` (share of the group's
    attributed value held by its top 10% of users). Users with a null group
    form a group of their own (null).
    """
    users = nodes.filter(pc.equal(nodes["role"], "user"))
    if "period" in users.column_names:
        keys = ["period", column]
    else:
        keys = [column]
    att = users["attributed"].to_numpy()
    paid = users["paid"].to_numpy()
    # each group's user rows, in row order (one thread keeps that order); groups by key, nulls last
    rows_of = (
        users.select(keys).append_column("__graphlabor_row", pa.array(np.arange(users.num_rows, dtype=np.int64)))
        .group_by(keys, use_threads=False).aggregate([("__graphlabor_row", "list")])
        .sort_by([(k, "ascending") for k in keys])
    )
    rows: dict[str, list[Any]] = {k: [] for k in keys}
    stats: dict[str, list[Any]] = {c: [] for c in ("users", "attributed", "paid", "unpaid", "unpaid_share", "gini_attributed", "gini_paid", "top10_share")}
    for group in rows_of.to_pylist():
        idx = np.array(group["__graphlabor_row_list"], dtype=np.int64)
        a, p = att[idx], paid[idx]
        for k in keys:
            rows[k].append(group[k])
        total_a = float(a.sum())
        stats["users"].append(idx.size)
        stats["attributed"].append(total_a)
        stats["paid"].append(float(p.sum()))
        stats["unpaid"].append(total_a - float(p.sum()))
        stats["unpaid_share"].append((total_a - float(p.sum())) / total_a if total_a > 0 else float("nan"))
        stats["gini_attributed"].append(gini(a))
        stats["gini_paid"].append(gini(p))
        stats["top10_share"].append(top_share(a))
    cols = {k: pa.array(v, type=users.schema.field(k).type) for k, v in rows.items()}
    cols.update({k: pa.array(v) for k, v in stats.items()})
    return pa.table(cols)


def context_table(prep: Any, run: Any) -> pa.Table:
    """One row per ``(platform, context)`` pair: what its revenue did.

    Columns: ``platform``, ``context``, ``revenue`` (revenue edges with that
    context into the platform), ``paid_out`` (pay edges with that context
    from the platform), ``kept`` (the platform's share of the pair's
    revenue), ``passed_to_users``, ``contributors`` (distinct users whose
    contributions to the platform carry the context) and ``unmatched``
    (revenue that no contribution matched: it went to the platform's pool,
    or the platform kept it, as ``--unmatched`` says). Pairs with pay but no
    revenue have a row too (revenue 0). Rows in order of platform, then
    context.
    """
    from .kernels.contexts import table_order

    pairs = prep.pairs
    n, k = prep.n, len(pairs)
    pr = run.pairs
    p = prep.pay.take((run.rows or {}).get(2))
    # pay with a context: by pair, or by (platform, context) when no revenue pair exists
    pay_pair = pairs.match(p.src, p.context) if len(p) else np.empty(0, np.int32)
    paid_out = K.group_sum(pay_pair[pay_pair >= 0], p.value[pay_pair >= 0], k) if k else np.zeros(0)
    lone = (pay_pair < 0) & (p.context >= 0) if len(p) else np.zeros(0, bool)
    keys = p.src[lone].astype(np.int64) * (1 << 32) + p.context[lone].astype(np.int64)
    lone_keys, inverse = np.unique(keys, return_inverse=True)
    lone_paid = K.group_sum(inverse, p.value[lone], lone_keys.size)
    platform = np.concatenate([pairs.platform.astype(np.int64), lone_keys >> 32])
    context = np.concatenate([pairs.context.astype(np.int64), lone_keys & 0xFFFFFFFF])
    z = np.zeros(lone_keys.size)
    if pr is not None:
        held, kept = pr.held[n:], pr.kept[n:]
        revenue, unmatched, contributors = pr.revenue, np.where(pr.unmatched, pr.revenue, 0.0), pr.contributors
    else:
        held = kept = revenue = unmatched = np.zeros(k)
        contributors = np.zeros(k, np.int64)
    # rows by (platform, context): the pairs, ordered by (context, platform), by a counting sort on platform, and
    # the lone keys merged in (a sort of millions of pairs took most of this table's time)
    order = table_order(pairs.platform, pairs.context, lone_keys >> 32, lone_keys & 0xFFFFFFFF, n)
    cols = {
        "platform": prep.index.ids.take(pa.array(platform[order])),
        "context": pairs.values.take(pa.array(context[order])),
        "revenue": np.concatenate([revenue, z])[order],
        "paid_out": np.concatenate([paid_out, lone_paid])[order],
        "kept": np.concatenate([kept, z])[order],
        "passed_to_users": np.concatenate([held - kept, z])[order],
        "contributors": np.concatenate([contributors, np.zeros(lone_keys.size, np.int64)])[order],
        "unmatched": np.concatenate([unmatched, z])[order],
    }
    return pa.table(cols)


def roles_report(prep: Any) -> pa.Table:
    """Nodes whose edges give evidence for more than one role, with that evidence.

    Columns: ``node``, ``role`` (what it got), ``declared`` (the nodes file
    declared it), ``evidence`` (in words), then edge counts:
    ``revenue_received``, ``revenue_sent``, ``pay_sent``, ``pay_received``,
    ``contributions_sent``, ``contributions_received``.
    """
    from .roles import ROLE_NAMES, conflicting, evidence_names

    n = prep.n
    ev = prep.evidence if prep.evidence is not None else np.zeros(n, np.uint8)
    bad = np.flatnonzero(conflicting(ev))

    def count(a: np.ndarray) -> np.ndarray:
        if bad.size == 0:
            return np.zeros(0, np.int64)
        return np.bincount(a, minlength=n)[bad].astype(np.int64)

    c, r, p = prep.contribution, prep.revenue, prep.pay
    names = ("revenue_received", "revenue_sent", "pay_sent", "pay_received", "contributions_sent", "contributions_received")
    if getattr(prep, "role_counts", None) is not None:  # counted where the edges are (the Dask engine)
        counts = dict(zip(names, prep.role_counts))
    else:
        counts = dict(zip(names, (count(a) for a in (r.dst, r.src, p.src, p.dst, c.src, c.dst))))
    declared = prep.declared[bad] if prep.declared is not None else np.zeros(bad.size, bool)
    return pa.table({
        "node": prep.index.ids.take(pa.array(bad, pa.int64())),
        "role": pa.array([ROLE_NAMES[prep.role[i]] for i in bad.tolist()], pa.string()),
        "declared": pa.array(declared, pa.bool_()),
        "evidence": pa.array([evidence_names(int(ev[i])) for i in bad.tolist()], pa.string()),
        **{name: pa.array(col, pa.int64()) for name, col in counts.items()},
    })


def model_choices(prep: Any, run: Any) -> dict[str, Any]:
    """Summary counts of the choices a reader should see: roles, self-loops, contexts, idle platforms.

    ``conflicting_roles`` (nodes with evidence for more than one role),
    ``advertiser_contributions`` (contribution edges sent by advertisers,
    which carry no value), ``self_loops`` and ``self_loop_value``,
    ``kept_without_activity`` (revenue held by platforms or pairs with
    nobody to pass it to in this run) and, with contexts, the number of
    contexts, of pairs with revenue, of unmatched pairs and their revenue.
    """
    from .codes import ADVERTISER, CONTRIBUTION, PLATFORM
    from .kernels.classify import SENDS_CONTRIBUTION
    from .roles import conflicting

    n = prep.n
    role = prep.role
    out: dict[str, Any] = {
        "conflicting_roles": int(conflicting(prep.evidence).sum()) if prep.evidence is not None else 0,
        "self_loops": prep.self_loops,
        "self_loop_mode": prep.self_loop_mode,
        "self_loop_value": run.self_loop_value,
    }
    adv = role == ADVERTISER
    if prep.evidence is not None and (adv & ((prep.evidence & SENDS_CONTRIBUTION) != 0)).any():
        if getattr(prep, "advertiser_contributions", None) is not None:  # counted where the edges are (the Dask engine)
            out["advertiser_contributions"] = prep.advertiser_contributions
        else:
            c = prep.contribution.take((run.rows or {}).get(CONTRIBUTION))
            out["advertiser_contributions"] = int(np.count_nonzero(adv[c.src]))
    g = run.graph
    idle = np.asarray(g.out_weight) == 0
    idle[:n] &= role == PLATFORM
    injected = run.injected_full
    out["kept_without_activity"] = float(injected[idle].sum()) if injected.shape[0] == idle.shape[0] else 0.0
    if prep.pairs is not None:
        pr = run.pairs
        out.update(
            contexts=prep.pairs.n_contexts,
            context_pairs=int((pr.revenue > 0).sum()) if pr is not None else 0,
            unmatched_contexts=pr.n_unmatched if pr is not None else 0,
            unmatched_revenue=pr.unmatched_revenue if pr is not None else 0.0,
            unmatched_mode=prep.pairs.unmatched,
        )
    return out
