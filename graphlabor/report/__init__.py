"""``graphlabor report``: one self-contained HTML page of an attribution.

The page holds the summary and the money balance with a flow diagram,
Lorenz curves and Gini coefficients, attributed against paid value per user,
value and pay per hour, the platforms, value by contribution kind per group,
series over time, the top users, the parameters, and, when asked for, a
digital social income simulation (:mod:`graphlabor.redistribute`) and a
sensitivity grid (:mod:`graphlabor.robustness`). Figures are matplotlib
SVG drawn from aggregates (see :mod:`graphlabor.report.plots`), so the file
stays small at any graph size; see ``docs/report.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._version import __version__
from ..errors import GraphlaborError
from . import page as P

TOP_USERS = 25
TOP_PLATFORMS = 15
MAX_KINDS = 10

INSTALL_HINT = "graphlabor report needs matplotlib: pip install matplotlib"


class MissingDependency(GraphlaborError):
    """An optional dependency of the report is not installed."""

    exit_code = 1


def _plots() -> Any:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise MissingDependency(INSTALL_HINT) from None
    from . import plots

    return plots


def _col(t: pa.Table, name: str) -> np.ndarray:
    out: np.ndarray = pc.cast(t[name], pa.float64()).to_numpy(zero_copy_only=False)
    return out


def _group_labels(users: pa.Table, group_by: str, weights: np.ndarray, limit: int) -> tuple[list[str], list[str]]:
    """Each user's group as a label, the largest ``limit - 1`` groups by weight kept, the rest 'other'."""
    raw = users[group_by].to_pylist()
    keys = ["(none)" if v is None else str(v) for v in raw]
    totals: dict[str, float] = {}
    for k, w in zip(keys, weights.tolist()):
        totals[k] = totals.get(k, 0.0) + w
    order = sorted(totals, key=lambda k: (-totals[k], k))
    if len(order) > limit:
        keep = set(order[: limit - 1])
        keys = [k if k in keep else "other" for k in keys]
        order = order[: limit - 1] + ["other"]
    return keys, order


def _summary_section(result: Any, plots: Any, group_by: str | None) -> str:
    s = result.summary
    t = s.total_injected

    def share(v: float) -> str:
        return f"{100 * v / t:.1f}% of injected" if t > 0 else ""

    cards = [
        ("total injected", P.num(t), f"{s.revenue_edges:,} revenue edges"),
        ("attributed to users", P.num(s.attributed_users), share(s.attributed_users)),
        ("paid to users", P.num(s.paid), share(s.paid)),
        ("unpaid (users)", P.num(s.unpaid), f"{100 * s.unpaid / s.attributed_users:.1f}% of attributed" if s.attributed_users > 0 else ""),
        ("users", P.num(s.users), f"{s.platforms:,} platforms, {s.advertisers:,} payers"),
        ("edges", P.num(s.edges), f"{s.contribution_edges:,} contribution, {s.pay_edges:,} pay"),
    ]
    if s.below_min_wage is not None:
        cards.append(("below minimum wage", P.num(s.below_min_wage), "value per hour reaches it, pay does not"))
    html = '<div class="cards">' + "".join(
        f'<div class="card"><span>{P.esc(a)}</span><b>{b}</b><span>{P.esc(c)}</span></div>' for a, b, c in cards
    ) + "</div>"
    balance = [
        {"item": "injected (revenue and node values)", "value": t},
        {"item": "= attributed to users", "value": s.attributed_users},
        {"item": "+ kept by platforms", "value": s.kept_platforms},
        {"item": "+ kept elsewhere (payers)", "value": s.kept_elsewhere},
        {"item": "relative error of the balance", "value": s.conservation_error},
        {"item": "paid to users (pay edges)", "value": s.paid},
        {"item": "unpaid = attributed - paid (users)", "value": s.unpaid},
    ]
    html += "<h3>Money balance</h3>" + P.table(balance, [("item", "item"), ("value", "value")], sortable=False, text_cols=("item",))
    html += f'<p class="note">Solved in {s.iterations:,} iterations, residual {s.residual:.2e} (relative).</p>'

    # flow diagram
    plat = result.platforms
    nodes = result.nodes
    revenue = _col(plat, "revenue")
    paid_out = _col(plat, "paid_out")
    passed = _col(plat, "passed_to_users")
    paid_part = np.minimum(paid_out, revenue)
    unpaid_part = np.minimum(np.maximum(passed - paid_out, 0.0), revenue - paid_part)
    kept_part = revenue - paid_part - unpaid_part
    ptab = nodes.filter(pc.equal(nodes["role"], "platform"))
    fam_col = next((c for c in ("family", group_by) if c and c in ptab.column_names and ptab[c].null_count < ptab.num_rows), None)
    names = [str(v) for v in plat["platform"].to_pylist()]
    if fam_col is not None:
        fam_of = dict(zip([str(v) for v in ptab["node"].to_pylist()], ptab[fam_col].to_pylist()))
        keys = ["(none)" if fam_of.get(n) is None else str(fam_of.get(n)) for n in names]
        how = f"platforms grouped by their {fam_col}"
    else:
        order = np.argsort(-revenue, kind="stable")
        top = set(order[:7].tolist())
        keys = [names[i] if i in top else "other platforms" for i in range(len(names))]
        how = "the largest platforms by revenue"
    agg: dict[str, list[float]] = {}
    for k, a, b, c in zip(keys, paid_part, unpaid_part, kept_part):
        v = agg.setdefault(k, [0.0, 0.0, 0.0])
        v[0] += a
        v[1] += b
        v[2] += c
    mids = sorted(((k, v[0], v[1], v[2]) for k, v in agg.items()), key=lambda m: -(m[1] + m[2] + m[3]))[:12]
    groups = None
    users = nodes.filter(pc.equal(nodes["role"], "user"))
    if group_by:
        att, paid = _col(users, "attributed"), _col(users, "paid")
        gkeys, gorder = _group_labels(users, group_by, att, P_GROUPS)
        groups = []
        for g in gorder:
            m = np.array([k == g for k in gkeys])
            groups.append((g, float(paid[m].sum()), float((att[m] - paid[m]).sum())))
    if revenue.sum() > 0:
        svg = plots.flow_diagram(float(revenue.sum()), mids, groups)
        cap = (f"Where the payers' money goes: revenue into {how}; each platform's revenue splits into pay to users, "
               "the value the model attributes to its users beyond their pay (unpaid), and the rest, kept by the platform"
               + ("; the user side split by " + str(group_by) + " in proportion to each group's paid and unpaid value." if groups else "."))
        html += P.figure(svg, cap, "flow")
    else:
        html += '<p class="note">No revenue edges: no money flow to draw.</p>'
    return html


P_GROUPS = 8


def _inequality_section(result: Any, plots: Any, group_by: str | None, groups: Any, mw: float | None) -> str:
    users = result.nodes.filter(pc.equal(result.nodes["role"], "user"))
    att, paid = _col(users, "attributed"), _col(users, "paid")
    html = '<div class="row">'
    html += P.figure(
        plots.lorenz_plot([("attributed", att, plots.COLORS["attributed"], "-"), ("paid", paid, plots.COLORS["paid"], "--")],
                          "all users"),
        "Lorenz curves of attributed value and of pay per user; the further below the diagonal, the more unequal. "
        "Gini as R's ineq::Gini.", "lorenz")
    html += P.figure(plots.attributed_vs_paid(att, paid),
                     "Attributed value against pay per user, both on log scales (users with zero drawn on the strips). "
                     "Above the dashed line a user is paid more than attributed, below it less.", "scatter")
    html += "</div>"
    if group_by:
        keys, order = _group_labels(users, group_by, att, 12)
        panels = []
        for g in order:
            m = np.array([k == g for k in keys])
            panels.append((g, att[m], paid[m]))
        html += P.figure(plots.lorenz_multiples(panels),
                         f"Lorenz curves per {group_by}: attributed (solid) and paid (dashed).", "lorenz-groups")
        if groups is not None:
            rows = groups.to_pylist()
            cols = [(group_by, group_by), ("users", "users"), ("attributed", "attributed"), ("paid", "paid"),
                    ("unpaid", "unpaid"), ("unpaid_share", "unpaid share"), ("gini_attributed", "Gini attributed"),
                    ("gini_paid", "Gini paid"), ("top10_share", "top-10% share")]
            rows = sorted(rows, key=lambda r: -(r["attributed"] or 0))[:50]
            html += P.table(rows, cols, text_cols=(group_by,), pct_cols=("unpaid_share", "top10_share"))
    if "attributed_per_hour" in users.column_names:
        aph, pph = _col(users, "attributed_per_hour"), _col(users, "paid_per_hour")
        ok = np.isfinite(aph)
        html += "<h3>Per hour</h3>" + P.figure(
            plots.per_hour(aph[ok], pph[ok], mw),
            "Distribution of attributed value per hour and of pay per hour among users with hours"
            + (f"; the dashed line is the minimum wage {mw:g}." if mw else " (give --min-wage to draw the minimum wage)."),
            "per-hour")
    return html


def _platform_section(result: Any, plots: Any) -> str:
    plat = result.platforms
    rows = sorted(plat.to_pylist(), key=lambda r: -(r["revenue"] or 0))
    top = rows[:TOP_PLATFORMS]
    html = ""
    if top:
        html += P.figure(plots.platform_bars([r["platform"] for r in top], np.array([r["revenue"] for r in top]),
                                             np.array([r["paid_out"] for r in top]), np.array([r["capture"] for r in top])),
                         f"Revenue, pay sent and capture (revenue - pay) of the {len(top)} largest platforms by revenue.", "platforms")
    cols = [("platform", "platform"), ("revenue", "revenue"), ("paid_out", "paid out"), ("capture", "capture"),
            ("capture_rate", "capture rate"), ("passed_to_users", "passed to users"), ("users_unpaid", "users' unpaid value"),
            ("contributors", "contributors")]
    html += P.table(rows[:50], cols, text_cols=("platform",), pct_cols=("capture_rate",))
    if len(rows) > 50:
        html += f'<p class="note">The 50 largest of {len(rows):,} platforms by revenue.</p>'
    return html


def _kind_section(result: Any, plots: Any, group_by: str | None) -> str:
    users = result.nodes.filter(pc.equal(result.nodes["role"], "user"))
    via = [c for c in users.column_names if c.startswith("via_")]
    if not via:
        return '<p class="note">No breakdown by kind (run without --no-breakdown).</p>'
    vals = np.column_stack([_col(users, c) for c in via]) if users.num_rows else np.zeros((0, len(via)))
    totals = vals.sum(axis=0)
    order = [i for i in np.argsort(-totals, kind="stable") if totals[i] > 0]
    keep = order[:MAX_KINDS]
    kinds = [via[i][4:] for i in keep]
    cols = [vals[:, i] for i in keep]
    if len(order) > MAX_KINDS:
        kinds.append("other kinds")
        cols.append(vals[:, order[MAX_KINDS:]].sum(axis=1))
    mat = np.column_stack(cols) if cols else np.zeros((users.num_rows, 0))
    if group_by:
        keys, gorder = _group_labels(users, group_by, _col(users, "attributed"), 12)
        karr = np.array(keys, dtype=object)
        rows = [mat[karr == g].sum(axis=0) for g in gorder]
        names = gorder
    else:
        rows, names = [mat.sum(axis=0)], ["all users"]
    values = np.vstack(rows) if rows else np.zeros((0, len(kinds)))
    if not kinds:
        return '<p class="note">No value attributed to users.</p>'
    html = P.figure(plots.kind_bars(names, kinds, values),
                    "Share of attributed value by the contribution kind through which it reached users on its last hop "
                    "(via_* columns; 'injected' is value kept where it was injected)"
                    + (f", per {group_by}." if group_by else "."), "kinds")
    trows = [{"group": n, **{k: float(v) for k, v in zip(kinds, r)}} for n, r in zip(names, values)]
    html += P.table(trows, [("group", group_by or "group")] + [(k, k) for k in kinds], text_cols=("group",))
    return html


def _series_section(period_result: Any, plots: Any, group_by: str | None, period: str) -> str:
    ps = period_result.periods or []
    labels = [str(s.period) for s in ps]
    lines = {
        "attributed to users": np.array([s.attributed_users for s in ps]),
        "paid to users": np.array([s.paid for s in ps]),
        "unpaid (users)": np.array([s.unpaid for s in ps]),
    }
    html = P.figure(plots.series(labels, lines, f"per {period}", "money"),
                    f"Attributed value, pay and unpaid value of users, one attribution per {period} (UTC).", "series")
    if group_by and period_result.groups is not None:
        g = period_result.groups
        per: dict[str, dict[str, Any]] = {}
        for r in g.to_pylist():
            per.setdefault("(none)" if r[group_by] is None else str(r[group_by]), {})[str(r["period"])] = r["unpaid_share"]
        big = sorted(per, key=lambda k: -len(per[k]))[:8]
        gl = {k: np.array([per[k].get(lab, np.nan) if per[k].get(lab) is not None else np.nan for lab in labels]) for k in big}
        html += P.figure(plots.series(labels, gl, f"unpaid share per {group_by}", "unpaid / attributed", ylim=(-1.0, 1.0)),
                         f"Unpaid share of attributed value per {group_by}, per {period} (negative: paid more than "
                         "attributed; clipped at -100%; the table of groups per period is in the --groups output).",
                         "series-groups")
    rows = [{"period": s.period, "injected": s.total_injected, "attributed": s.attributed_users, "paid": s.paid,
             "unpaid": s.unpaid, "iterations": s.iterations} for s in ps]
    html += P.table(rows, [("period", "period"), ("injected", "injected"), ("attributed", "attributed to users"),
                           ("paid", "paid"), ("unpaid", "unpaid"), ("iterations", "iterations")], text_cols=("period",))
    return html


def _top_section(result: Any, group_by: str | None) -> tuple[str, list[dict[str, Any]]]:
    top = result.top_users(TOP_USERS)
    cols = [("rank", "rank"), ("node", "user")]
    if group_by and group_by in top.column_names:
        cols.append((group_by, group_by))
    cols += [("attributed", "attributed"), ("paid", "paid"), ("unpaid", "unpaid"), ("share", "share of injected")]
    rows = top.select([c for c, _ in cols]).to_pylist()
    html = ('<p class="note">Filter: <input id="gl-filter" type="search" placeholder="id or group" aria-label="filter the top users">'
            ' (<span id="gl-top-count"></span> users)</p>')
    text = ("node", group_by) if group_by else ("node",)
    html += P.table(rows, cols, id="gl-top", text_cols=text, pct_cols=("share",))
    return html, rows


def _redistribution_section(d: Any, plots: Any) -> str:
    rows = d.schemes.to_pylist()
    schemes = [r["scheme"] for r in rows]
    ba = {"Gini of income": ([r["gini_before"] for r in rows], [r["gini_after"] for r in rows])}
    if "below_floor_before" in d.schemes.column_names:
        ba[f"share below {d.floor:g}/h"] = ([r["below_floor_before"] for r in rows], [r["below_floor_after"] for r in rows])
    ba["users receiving (share)"] = ([0.0 for r in rows], [r["users_receiving"] / r["users"] if r["users"] else 0.0 for r in rows])
    html = (f'<p>A levy of {d.levy:g} on each platform\'s {P.esc(d.base)} raises a fund of <b>{P.num(d.fund)}</b>, '
            'shared by each scheme: <i>equal</i> (the same to every user), <i>unpaid</i> (pro rata to unpaid value), '
            '<i>floor</i> (tops up income per hour, lowest first). Behavioural responses and tax incidence are not modelled.</p>')
    html += P.figure(plots.redistribution_multiples(schemes, ba), "Before (pay only) and after each scheme.", "redistribution")
    cols = [("scheme", "scheme"), ("fund", "fund"), ("users", "users"), ("users_receiving", "receiving"),
            ("gini_before", "Gini before"), ("gini_after", "Gini after")]
    pct: tuple[str, ...] = ()
    if "below_floor_before" in d.schemes.column_names:
        cols += [("below_floor_before", "below floor before"), ("below_floor_after", "below floor after"), ("floor_level", "level reached")]
        pct = ("below_floor_before", "below_floor_after")
    html += P.table(rows, cols, text_cols=("scheme",), pct_cols=pct)
    if d.groups is not None:
        gcol = [c for c in d.groups.column_names if c not in ("scheme",) and c not in dict(cols) and c not in
                ("users", "users_receiving", "transferred", "gini_before", "gini_after", "below_floor_before", "below_floor_after")]
        g = gcol[0] if gcol else None
        gc = [("scheme", "scheme")] + ([(g, g)] if g else []) + [("users", "users"), ("transferred", "transferred"),
                                                                ("gini_before", "Gini before"), ("gini_after", "Gini after")]
        if pct:
            gc += [("below_floor_before", "below floor before"), ("below_floor_after", "below floor after")]
        html += P.table(d.groups.to_pylist()[:200], gc, text_cols=("scheme", g) if g else ("scheme",), pct_cols=pct)
    return html


SENS_METRICS = [("attributed_users", "attributed to users"), ("unpaid_share", "unpaid share"),
                ("gini_attributed", "Gini of attributed"), ("top10_share", "top-10% share"),
                ("kendall_tau", "Kendall tau vs baseline"), ("spearman", "Spearman vs baseline")]


def _sensitivity_section(s: Any, plots: Any) -> str:
    rows = s.settings.to_pylist()
    grid = list(s.grid)
    html = ('<p>Every combination of the grid, each solve warm-started from the previous one. Rank agreement compares '
            'users\' attributed values with the baseline (the star).</p>')
    html += P.figure(plots.sensitivity_multiples(rows, grid, SENS_METRICS),
                     f"Small multiples: each statistic against {grid[0]}, one line per combination of the other parameters.",
                     "sensitivity")
    cols = [("setting", "setting")] + [(g, g) for g in grid] + [(k, t) for k, t in SENS_METRICS] + [
        ("max_rank_move", "largest rank move"), ("iterations", "iterations")]
    html += P.table(rows, cols, pct_cols=("unpaid_share", "top10_share"))
    per: dict[int, list[dict[str, Any]]] = {}
    for m in s.moves.to_pylist():
        if len(per.setdefault(m["setting"], [])) < 3:
            per[m["setting"]].append(m)
    moves = [m for ms in per.values() for m in ms][:60]
    if moves:
        html += "<h3>Largest rank moves (three per setting; rank 1 = most attributed)</h3>" + P.table(
            moves, [("setting", "setting"), ("node", "user"), ("rank_baseline", "baseline rank"), ("rank", "rank"), ("move", "move")],
            text_cols=("node",))
    return html


def _params_section(result: Any, inputs: dict[str, Any] | None, options: dict[str, Any]) -> str:
    params = dict(result.summary.params or {})
    params.update({k: v for k, v in (options or {}).items() if v is not None})
    rows = [{"k": k, "v": ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else
             (", ".join(f"{a}={b:g}" for a, b in v.items()) or "(all 1)") if isinstance(v, dict) else v}
            for k, v in params.items()]
    for k, v in (inputs or {}).items():
        rows.append({"k": k, "v": v if not isinstance(v, (list, tuple)) else ", ".join(map(str, v))})
    rows.append({"k": "graphlabor", "v": __version__})
    html = P.table(rows, [("k", "parameter"), ("v", "value")], sortable=False, text_cols=("k", "v"))
    html += ('<p class="note">The model, its parameters, the methods and what the numbers do not claim: '
             '<code>docs/model.md</code> in graphlabor\'s source tree.</p>')
    return html


def build_report(result: Any, **kwargs: Any) -> str:
    """The report page as a string. See :func:`write_report`."""
    import warnings

    with warnings.catch_warnings():
        # labels from the data may hold characters the layout font lacks; the
        # browser draws them (text stays text in the SVG), so the warning is noise
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from", category=UserWarning)
        return _build(result, **kwargs)


def _build(result: Any, *, redistribution: Any = None, sensitivity: Any = None, period_result: Any = None,
           period: str | None = None,
                 group_by: str | None = None, min_wage: float | None = None, inputs: dict[str, Any] | None = None,
                 title: str = "graphlabor report") -> str:
    plots = _plots()
    if "period" in result.nodes.column_names:
        from ..errors import ParameterError

        raise ParameterError("the report needs an attribution without period; pass the per-period result as period_result")
    if group_by is not None and group_by not in result.nodes.column_names:
        from ..errors import ParameterError

        raise ParameterError(f"group_by {group_by!r}: no such column in the nodes file", param="group_by")
    groups = result.groups
    if group_by is not None and (groups is None or group_by not in groups.column_names):
        from ..breakdowns import group_table

        groups = group_table(result.nodes, group_by)
    sections = [("summary", "Summary and money balance", _summary_section(result, plots, group_by)),
                ("inequality", "Who is attributed, who is paid", _inequality_section(result, plots, group_by, groups, min_wage)),
                ("platforms", "Platforms", _platform_section(result, plots)),
                ("kinds", "Value by contribution kind", _kind_section(result, plots, group_by))]
    if period_result is not None:
        sections.append(("time", "Over time", _series_section(period_result, plots, group_by, period or "period")))
    top_html, top_rows = _top_section(result, group_by)
    sections.append(("top", "Top users", top_html))
    if redistribution is not None:
        sections.append(("redistribution", "Digital social income", _redistribution_section(redistribution, plots)))
    if sensitivity is not None:
        sections.append(("sensitivity", "Sensitivity", _sensitivity_section(sensitivity, plots)))
    options = {"group_by": group_by, "period": period if period_result is not None else None, "min_wage": min_wage}
    if redistribution is not None:
        options.update({"levy": redistribution.levy, "levy_base": redistribution.base, "floor": redistribution.floor})
    if sensitivity is not None:
        options["grid"] = "; ".join(f"{k}={','.join(f'{v:g}' for v in vs)}" for k, vs in sensitivity.grid.items())
    sections.append(("parameters", "Parameters", _params_section(result, inputs, options)))
    s = result.summary
    subtitle = [f"{s.users:,} users, {s.platforms:,} platforms, {s.edges:,} edges; total injected {s.total_injected:,.2f}",
                "inputs: " + ", ".join(str(v) if not isinstance(v, (list, tuple)) else ", ".join(map(str, v))
                                       for v in (inputs or {}).values() if v) if inputs else "",
                f"method {s.params.get('method')}, damping {s.params.get('damping')}, platform share {s.params.get('platform_share')}"]
    data = {"generator": f"graphlabor {__version__}", "summary": s.to_dict(), "top_users": top_rows,
            "inputs": inputs or {}}
    return P.page(title, [x for x in subtitle if x], sections, data)


def write_report(result: Any, path: str, **kwargs: Any) -> None:
    """Write the report of ``result`` to ``path`` (one HTML file), atomically.

    Parameters
    ----------
    result : AttributionResult
        An attribution without period.
    redistribution : Redistribution, optional
        From :meth:`AttributionResult.redistribute`.
    sensitivity : SensitivityResult, optional
        From :func:`graphlabor.sensitivity`.
    period_result : AttributionResult, optional
        The same attribution with ``period``, for the series over time.
    period : str, optional
    group_by : str, optional
    min_wage : float, optional
    inputs : dict, optional
        Names of the input files, shown on the page.
    title : str, optional
    """
    from ..output import atomic_path

    doc = build_report(result, **kwargs)
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(doc)
