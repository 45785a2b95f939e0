"""The report's figures: matplotlib, rendered to inline SVG from aggregates only.

Every figure is drawn from sums, quantiles or fixed-size histograms, never
one mark per edge or per user beyond :data:`MAX_POINTS`, so the page stays
small at any graph size. Text is written as SVG ``<text>`` (escaped by
matplotlib's SVG writer); labels that come from the data go through
:func:`label`, which shortens them and disables mathtext.
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np

#: Users drawn one point each in the attributed-vs-paid view; above, a 2-D histogram.
MAX_POINTS = 2000
#: Points of each Lorenz curve.
LORENZ_POINTS = 201
#: Largest number of groups drawn one by one (the rest are pooled as "other").
MAX_GROUPS = 8

COLORS = {
    "attributed": "#1f6f8b", "paid": "#e07a1f", "unpaid": "#b8336a", "kept": "#7a7a7a",
    "revenue": "#3a7d44", "capture": "#6c4f9e", "payers": "#3a7d44",
}
PALETTE = ["#1f6f8b", "#e07a1f", "#3a7d44", "#b8336a", "#6c4f9e", "#8c6d1f", "#2a9d8f", "#7a7a7a",
           "#d1495b", "#00798c", "#edae49", "#30638e"]


def _mpl() -> Any:
    import matplotlib

    matplotlib.use("svg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({
        "svg.fonttype": "none",  # real <text>, selectable and small
        "font.family": "sans-serif",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
        "axes.titleweight": "bold",
        "legend.frameon": False,
        "figure.dpi": 100,
        "figure.constrained_layout.use": True,  # one layout pass while drawing (bbox_inches="tight" draws twice)
    })
    return plt


def label(text: Any, width: int = 28) -> str:
    """A data value as a plot label: shortened, ``$`` escaped (no mathtext).

    >>> label("$x$ and a very long platform name indeed", 20)
    '\\\\$x\\\\$ and a very long…'
    """
    s = str(text)
    if len(s) > width:
        s = s[: width - 1] + "…"
    s = "".join(c if c.isprintable() else "?" for c in s)
    return s.replace("\\", "\\\\").replace("$", r"\$")


_counter = [0]


def to_svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element (no XML prolog), ids unique in the page."""
    plt = _mpl()
    _counter[0] += 1
    buf = io.StringIO()
    with plt.rc_context({"svg.hashsalt": f"gl{_counter[0]}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    # responsive: keep the viewBox, let CSS size it
    # natural width (in pt), scaled down by CSS on narrow screens; height follows the viewBox
    svg = re.sub(r'(<svg[^>]*?) height="[^"]*"', r'\1 class="plot" role="img"', svg, count=1)
    return svg


def lorenz(values: np.ndarray, points: int = LORENZ_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """The Lorenz curve at ``points`` population shares: (population share, value share).

    >>> p, v = lorenz(np.array([0.0, 0.0, 0.0, 4.0]), 5)
    >>> v.tolist()
    [0.0, 0.0, 0.0, 0.0, 1.0]
    """
    x = np.sort(np.asarray(values, dtype=np.float64))
    p = np.linspace(0, 1, points)
    total = x.sum()
    if x.size == 0 or total <= 0:
        return p, np.full(points, np.nan)
    cum = np.concatenate([[0.0], np.cumsum(x) / total])
    pop = np.arange(x.size + 1) / x.size
    return p, np.interp(p, pop, cum)


def _fig(w: float = 6.4, h: float = 3.6) -> Any:
    plt = _mpl()
    return plt.subplots(figsize=(w, h))


def fmt_money(v: float) -> str:
    """Short money label.

    >>> fmt_money(1234567.0), fmt_money(950.0)
    ('1.23M', '950')
    """
    a = abs(v)
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if a >= div:
            return f"{v / div:.3g}{unit}"
    return f"{v:.3g}"


def spread(centers: list[float], heights: list[float], lo: float, hi: float) -> list[float]:
    """Centres for labels of the given heights, each as near its wanted centre as the others let it be.

    The labels keep their order (by wanted centre, then by position in the list) and do not overlap:
    a run of labels that would overlap is stacked edge to edge where the sum of the squared moves is
    least (around the mean of where its labels want to be), then kept between ``lo`` and ``hi`` (a stack
    taller than that starts at ``lo``). Labels that do not collide stay where they are.

    >>> [round(c, 3) for c in spread([0.5, 0.52, 0.9], [0.1, 0.1, 0.1], 0.0, 1.0)]
    [0.46, 0.56, 0.9]
    >>> [round(c, 3) for c in spread([0.0, 0.01], [0.1, 0.1], 0.0, 1.0)]  # kept above lo
    [0.05, 0.15]
    """
    order = sorted(range(len(centers)), key=lambda i: (centers[i], i))
    blocks: list[tuple[list[int], float]] = []  # (members from the bottom, bottom edge)

    def place(members: list[int]) -> float:
        below, want = 0.0, 0.0
        for i in members:
            want += centers[i] - below - heights[i] / 2
            below += heights[i]
        return min(max(want / len(members), lo), max(hi - below, lo))

    for i in order:
        blocks.append(([i], place([i])))
        while len(blocks) > 1:
            (a, a0), (b, b0) = blocks[-2], blocks[-1]
            if a0 + sum(heights[j] for j in a) <= b0:
                break
            blocks[-2:] = [(a + b, place(a + b))]
    out = [0.0] * len(centers)
    for members, y in blocks:
        if len(members) == 1:  # on its own: where it wants to be, unless that is out of bounds
            i = members[0]
            out[i] = min(max(centers[i], lo + heights[i] / 2), max(hi - heights[i] / 2, lo + heights[i] / 2))
            continue
        for i in members:
            out[i] = y + heights[i] / 2
            y += heights[i]
    return out


def flow_diagram(payers: float, mids: list[tuple[str, float, float, float]],
                 groups: list[tuple[str, float, float]] | None) -> str:
    """Money flow: payers -> platform families -> paid / unpaid attributed / kept [-> user groups].

    Parameters
    ----------
    payers : float
        Total revenue.
    mids : list of (name, paid, unpaid, kept)
        One entry per platform (group); the three parts add up to its revenue.
    groups : list of (name, paid, unpaid), optional
        User groups; the paid and unpaid sinks are split among them in
        proportion to these values.
    """
    plt = _mpl()
    from matplotlib.patches import PathPatch, Rectangle
    from matplotlib.path import Path

    ncol = 4 if groups else 3
    fig = plt.figure(figsize=(9.5, 4.6))
    fig.set_layout_engine("none")  # a fixed axes: the labels are placed in its coordinates
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    total = payers if payers > 0 else 1.0
    gap = 0.02
    width = 0.035
    xs = [0.0, 1.0, 2.0, 3.0][:ncol]

    def stack(values: list[float]) -> list[tuple[float, float]]:
        n = len(values)
        span = 1.0 - gap * max(n - 1, 0)
        ys, y = [], 1.0
        for v in values:
            h = span * v / total
            ys.append((y - h, y))
            y -= h + gap
        return ys

    labels: list[tuple[float, float, float, str, bool]] = []  # x, node bottom, node top, text, on the right

    def node(x: float, y0: float, y1: float, color: str, text: str, right: bool = False) -> None:
        ax.add_patch(Rectangle((x - width / 2, y0), width, max(y1 - y0, 1e-4), color=color, lw=0))
        labels.append((x, y0, y1, text, right))

    def band(x0: float, a0: float, a1: float, x1: float, b0: float, b1: float, color: str) -> None:
        if a1 - a0 <= 0:
            return
        xm = (x0 + x1) / 2
        verts = [(x0 + width / 2, a1), (xm, a1), (xm, b1), (x1 - width / 2, b1), (x1 - width / 2, b0),
                 (xm, b0), (xm, a0), (x0 + width / 2, a0), (x0 + width / 2, a1)]
        codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO,
                 Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.CLOSEPOLY]
        ax.add_patch(PathPatch(Path(verts, codes), facecolor=color, alpha=0.35, lw=0))

    # column 0: payers
    span = 1.0 - gap * max(len(mids) - 1, 0)
    node(xs[0], 1.0 - span, 1.0, COLORS["payers"], f"payers\n{fmt_money(payers)}")
    mid_ys = stack([m[1] + m[2] + m[3] for m in mids])
    sinks = [("paid to users", COLORS["paid"]), ("unpaid value\nattributed to users", COLORS["unpaid"]),
             ("kept by platforms", COLORS["kept"])]
    sink_tot = [sum(m[1] for m in mids), sum(m[2] for m in mids), sum(m[3] for m in mids)]
    sink_ys = stack(sink_tot)
    # payers -> platforms
    y = 1.0
    for y0, y1 in mid_ys:
        h = y1 - y0
        band(xs[0], y - h, y, xs[1], y0, y1, COLORS["payers"])
        y -= h
    # platforms -> sinks
    fill = [s[1] for s in sink_ys]  # next free top of each sink
    for i, (name, *parts) in enumerate(mids):
        y0, y1 = mid_ys[i]
        top = y1
        for k, v in enumerate(parts):
            h = (1.0 - gap * max(len(mids) - 1, 0)) * v / total
            hs = (1.0 - gap * 2) * v / total
            band(xs[1], top - h, top, xs[2], fill[k] - hs, fill[k], sinks[k][1])
            top -= h
            fill[k] -= hs
        node(xs[1], y0, y1, PALETTE[i % len(PALETTE)], f"{label(name, 18)}\n{fmt_money(sum(parts))}")
    for k, (name, color) in enumerate(sinks):
        y0, y1 = sink_ys[k]
        if sink_tot[k] <= 0:
            continue
        node(xs[2], y0, y1, color, f"{name}\n{fmt_money(sink_tot[k])}", right=not groups)
    if groups:
        gp = np.array([max(g[1], 0.0) for g in groups])
        gu = np.array([max(g[2], 0.0) for g in groups])
        paid_share = gp / gp.sum() if gp.sum() > 0 else np.zeros(len(groups))
        unpaid_share = gu / gu.sum() if gu.sum() > 0 else np.zeros(len(groups))
        vals = paid_share * sink_tot[0] + unpaid_share * sink_tot[1]
        g_ys = stack(list(vals))
        src_top = [sink_ys[0][1], sink_ys[1][1]]
        for j, (gname, p, u) in enumerate(groups):
            y0, y1 = g_ys[j]
            top = y1
            for k, share in ((0, paid_share[j]), (1, unpaid_share[j])):
                hs = (1.0 - gap * 2) * share * sink_tot[k] / total
                h = (1.0 - gap * max(len(groups) - 1, 0)) * share * sink_tot[k] / total
                band(xs[2], src_top[k] - hs, src_top[k], xs[3], top - h, top, sinks[k][1])
                src_top[k] -= hs
                top -= h
            node(xs[3], y0, y1, PALETTE[j % len(PALETTE)],
                 f"{label(gname, 18)}: paid {fmt_money(p)}, unpaid {fmt_money(max(u, 0.0))}", right=True)
    ax.set_xlim(-0.45, xs[-1] + (1.1 if groups else 0.9))
    ax.set_ylim(-0.05, 1.03)
    _place_labels(ax, labels, width)
    return to_svg(fig)


def _place_labels(ax: Any, labels: list[tuple[float, float, float, str, bool]], width: float) -> None:
    """Each column's node labels beside their nodes, moved apart (:func:`spread`) where thin nodes would make them
    overlap.

    Labels that collided are stacked edge to edge; when a label of such a stack ends up off its node (its centre
    beyond the node's height), the whole stack stands further out, each label joined to the middle of its node
    by a thin leader line.
    """
    texts = [ax.text(x + (width if right else -width), (y0 + y1) / 2, text, ha="left" if right else "right",
                     va="center", fontsize=8) for x, y0, y1, text, right in labels]
    fig = ax.get_figure()
    fig.draw_without_rendering()  # the canvas's renderer set up first: its dpi (72 for SVG) is the figure's from here
    to_data = ax.transData.inverted()
    pad = abs(to_data.transform((0.0, 4.0))[1] - to_data.transform((0.0, 0.0))[1])  # 4 px between labels
    lo, hi = ax.get_ylim()
    columns: dict[tuple[float, bool], list[int]] = {}
    for i, (x, _, _, _, right) in enumerate(labels):
        columns.setdefault((x, right), []).append(i)
    for (x, right), members in columns.items():
        heights = []
        for i in members:
            bb = texts[i].get_window_extent()
            heights.append(abs(to_data.transform((0.0, bb.y1))[1] - to_data.transform((0.0, bb.y0))[1]) + pad)
        centers = [(labels[i][1] + labels[i][2]) / 2 for i in members]
        placed = spread(centers, heights, lo, hi)
        # labels stacked edge to edge form a run; a run with a label off its node stands out with leader lines
        by_y = sorted(range(len(members)), key=lambda k: placed[k])
        runs: list[list[int]] = []
        for k in by_y:
            if runs and placed[k] - heights[k] / 2 - (placed[runs[-1][-1]] + heights[runs[-1][-1]] / 2) < pad / 2:
                runs[-1].append(k)
            else:
                runs.append([k])
        side = 1.0 if right else -1.0
        for run in runs:
            off = any(not labels[members[k]][1] <= placed[k] <= labels[members[k]][2] for k in run)
            for k in run:
                if not off:
                    texts[members[k]].set_y(placed[k])
                    continue
                out = x + side * 3.5 * width  # further out, a leader line to the middle of its node
                ax.plot([x + side * width / 2, x + side * 1.5 * width, out - side * 0.3 * width],
                        [centers[k], centers[k], placed[k]], color="#555555", lw=0.6, solid_capstyle="butt")
                texts[members[k]].set_position((out, placed[k]))


def lorenz_plot(series: list[tuple[str, np.ndarray, str, str]], title: str) -> str:
    """Lorenz curves; ``series`` is (name, values, color, linestyle)."""
    from ..breakdowns import gini

    fig, ax = _fig(4.2, 3.8)
    ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=0.8, label="equality")
    for name, values, color, ls in series:
        p, v = lorenz(values)
        g = gini(values)
        ax.plot(p, v, color=color, ls=ls, lw=1.6, label=f"{name} (Gini {g:.3f})" if np.isfinite(g) else f"{name} (no value)")
    ax.set_xlabel("share of users (poorest first)")
    ax.set_ylabel("share of value")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(label(title, 40))
    ax.legend(loc="upper left", fontsize=8)
    return to_svg(fig)


def lorenz_multiples(groups: list[tuple[str, np.ndarray, np.ndarray]]) -> str:
    """One small Lorenz panel per group (attributed and paid)."""
    from ..breakdowns import gini

    plt = _mpl()
    n = len(groups)
    cols = min(4, n)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(2.5 * cols, 2.4 * rows), squeeze=False, sharex=True, sharey=True)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_axis_off()
            continue
        name, att, paid = groups[i]
        ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=0.7)
        for vals, color, ls in ((att, COLORS["attributed"], "-"), (paid, COLORS["paid"], "--")):
            p, v = lorenz(vals)
            ax.plot(p, v, color=color, ls=ls, lw=1.4)
        ga, gp = gini(att), gini(paid)
        ax.set_title(label(name, 22), fontsize=9)
        ax.text(0.03, 0.93, f"G attributed {ga:.2f}\nG paid {gp:.2f}" if np.isfinite(gp) else f"G attributed {ga:.2f}\nunpaid",
                transform=ax.transAxes, va="top", fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xticks([0, 0.5, 1], ["0", "0.5", "1"])
        ax.set_yticks([0, 0.5, 1], ["0", "0.5", "1"])
    fig.supxlabel("share of users", fontsize=8)
    fig.supylabel("share of value", fontsize=8)
    return to_svg(fig)


def _log_edges(lo: float, hi: float, n: int) -> np.ndarray:
    lo = max(lo, 1e-12)
    if hi <= lo:
        hi = lo * 10
    return np.logspace(np.log10(lo), np.log10(hi), n + 1)


def attributed_vs_paid(att: np.ndarray, paid: np.ndarray) -> str:
    """Attributed against paid per user on log scales: points, or a 2-D histogram above MAX_POINTS.

    Users with zero pay (or zero attributed value) are drawn on a strip
    below (left of) the axis, labelled 0.
    """
    fig, ax = _fig(5.2, 4.4)
    pos = np.concatenate([att[att > 0], paid[paid > 0]])
    if pos.size == 0:
        ax.text(0.5, 0.5, "no attributed or paid value", ha="center", transform=ax.transAxes)
        return to_svg(fig)
    lo, hi = float(pos.min()), float(pos.max())
    zero = lo / 10 ** 0.6  # where zeros are drawn
    x = np.where(att > 0, att, zero)
    y = np.where(paid > 0, paid, zero)
    ax.set_xscale("log")
    ax.set_yscale("log")
    if att.size <= MAX_POINTS:
        ax.scatter(x, y, s=12, alpha=0.6, color=COLORS["attributed"], lw=0)
        kind = f"{att.size:,} users, one point each"
    else:
        edges = _log_edges(zero / 1.5, hi * 1.5, 60)
        h, xe, ye = np.histogram2d(x, y, bins=[edges, edges])
        h = np.ma.masked_equal(h.T, 0)
        from matplotlib.colors import LogNorm

        mesh = ax.pcolormesh(xe, ye, h, norm=LogNorm(), cmap="viridis", rasterized=True)
        fig.colorbar(mesh, ax=ax, label="users per cell")
        kind = f"{att.size:,} users, density (60 x 60 log bins)"
    ax.plot([zero, hi * 1.5], [zero, hi * 1.5], color="#999999", lw=0.8, ls="--", label="paid = attributed")
    ax.axhline(zero * 10 ** 0.3, color="#dddddd", lw=0.6)
    ax.axvline(zero * 10 ** 0.3, color="#dddddd", lw=0.6)
    ax.set_xlim(zero / 1.5, hi * 1.5)
    ax.set_ylim(zero / 1.5, hi * 1.5)
    ax.set_xlabel("attributed value (log; 0 on the left strip)")
    ax.set_ylabel("paid (log; 0 on the bottom strip)")
    ax.set_title(f"attributed against paid: {kind}", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    ax.text(0.02, 0.90, f"{int((paid <= 0).sum()):,} users paid nothing (bottom strip)", transform=ax.transAxes,
            ha="left", va="top", fontsize=7, color="#555555")
    return to_svg(fig)


def per_hour(aph: np.ndarray, pph: np.ndarray, min_wage: float | None) -> str:
    """Histograms (log bins) of attributed value and pay per hour, with the minimum-wage line."""
    fig, ax = _fig(6.4, 3.4)
    pos = np.concatenate([aph[aph > 0], pph[pph > 0]])
    if pos.size == 0:
        ax.text(0.5, 0.5, "no value per hour", ha="center", transform=ax.transAxes)
        return to_svg(fig)
    lo, hi = float(pos.min()), float(pos.max())
    if min_wage:
        lo, hi = min(lo, min_wage), max(hi, min_wage)
    edges = _log_edges(lo / 1.2, hi * 1.2, 40)
    ax.hist(aph[aph > 0], bins=edges, color=COLORS["attributed"], alpha=0.55, label="attributed value per hour")
    ax.hist(pph[pph > 0], bins=edges, color=COLORS["paid"], alpha=0.55, label="pay per hour")
    ax.set_xscale("log")
    if min_wage:
        ax.axvline(min_wage, color="#b8336a", lw=1.5, ls="--", label=f"minimum wage {min_wage:g}")
    ax.set_xlabel("per hour (log scale)")
    ax.set_ylabel("users")
    n0 = int((pph <= 0).sum())
    ax.set_title(f"value and pay per hour ({aph.size:,} users with hours; {n0:,} paid nothing)", fontsize=9)
    ax.legend(fontsize=8)
    return to_svg(fig)


def platform_bars(names: list[Any], revenue: np.ndarray, paid_out: np.ndarray, capture: np.ndarray) -> str:
    """Revenue, paid out and capture of the largest platforms, with the capture rate."""
    fig, ax = _fig(6.8, max(2.2, 0.42 * len(names) + 1.0))
    y = np.arange(len(names))[::-1]
    h = 0.27
    ax.barh(y + h, revenue, h, color=COLORS["revenue"], label="revenue")
    ax.barh(y, paid_out, h, color=COLORS["paid"], label="paid out")
    ax.barh(y - h, np.maximum(capture, 0), h, color=COLORS["capture"], label="capture")
    ax.set_yticks(y, [label(n, 20) for n in names])
    for yi, r, c in zip(y, revenue, capture):
        if r > 0:
            ax.text(max(r, 0) * 1.01, yi + h, f"capture rate {c / r:.0%}", va="center", fontsize=7)
    ax.set_xlabel("money")
    ax.set_xlim(0, max(float(np.max(revenue)) if len(revenue) else 1, 1e-9) * 1.3)
    ax.legend(fontsize=8, loc="lower right")
    return to_svg(fig)


def kind_bars(groups: list[str], kinds: list[str], values: np.ndarray) -> str:
    """Stacked bars of attributed value by contribution kind (columns) per group (rows), as shares."""
    fig, ax = _fig(7.2, max(2.0, 0.45 * len(groups) + 1.4))
    tot = values.sum(axis=1, keepdims=True)
    share = np.divide(values, tot, out=np.zeros_like(values), where=tot > 0)
    y = np.arange(len(groups))[::-1]
    left = np.zeros(len(groups))
    for k, kind in enumerate(kinds):
        ax.barh(y, share[:, k], left=left, color=PALETTE[k % len(PALETTE)], label=label(kind, 16))
        left += share[:, k]
    ax.set_yticks(y, [f"{label(g, 18)} ({fmt_money(t)})" for g, t in zip(groups, tot[:, 0])])
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the group's attributed value, by the kind of its last hop")
    ax.legend(fontsize=7, ncol=min(6, len(kinds)), loc="upper center", bbox_to_anchor=(0.5, -0.25))
    return to_svg(fig)


def series(periods: list[str], lines: dict[str, np.ndarray], title: str, ylabel: str,
           ylim: tuple[float, float] | None = None) -> str:
    """Lines over periods (values outside ``ylim`` are clipped to it)."""
    fig, ax = _fig(7.2, 3.2)
    if ylim is not None:
        lines = {k: np.clip(v, *ylim) for k, v in lines.items()}
        ax.set_ylim(ylim[0] - 0.05 * (ylim[1] - ylim[0]), ylim[1] + 0.05 * (ylim[1] - ylim[0]))
    x = np.arange(len(periods))
    for i, (name, v) in enumerate(lines.items()):
        ax.plot(x, v, marker="o" if len(x) <= 40 else None, ms=3, lw=1.5,
                color=COLORS.get(name.split()[0], PALETTE[i % len(PALETTE)]), label=label(name, 30))
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], [periods[i] for i in range(0, len(x), step)], rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return to_svg(fig)


def redistribution_multiples(schemes: list[str], before_after: dict[str, tuple[list[float], list[float]]]) -> str:
    """Small multiples: one panel per statistic, before and after each scheme."""
    plt = _mpl()
    stats = list(before_after)
    fig, axes = plt.subplots(1, len(stats), figsize=(3.0 * len(stats), 2.8), squeeze=False)
    x = np.arange(len(schemes))
    for ax, stat in zip(axes.flat, stats):
        before, after = before_after[stat]
        ax.bar(x - 0.2, before, 0.4, color="#bbbbbb", label="before")
        ax.bar(x + 0.2, after, 0.4, color=COLORS["attributed"], label="after")
        ax.set_xticks(x, schemes)
        ax.set_title(stat, fontsize=9)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8)
    return to_svg(fig)


def sensitivity_multiples(rows: list[dict[str, Any]], grid: list[str], metrics: list[tuple[str, str]]) -> str:
    """Small multiples: one panel per metric against the first grid parameter, a line per other combination."""
    plt = _mpl()
    xname = grid[0]
    others = grid[1:]
    combos: dict[tuple[float, ...], list[dict[str, Any]]] = {}
    for r in rows:
        if not r.get("in_grid", True):
            continue
        combos.setdefault(tuple(r[o] for o in others), []).append(r)
    base = rows[0]
    n = len(metrics)
    cols = min(3, n)
    nrows = (n + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(3.3 * cols, 2.6 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.set_axis_off()
            continue
        key, title = metrics[i]
        for j, (combo, rs) in enumerate(sorted(combos.items())):
            rs = sorted(rs, key=lambda r: r[xname])
            name = ", ".join(f"{o.replace('kind_weight.', 'w.')}={v:g}" for o, v in zip(others, combo)) or "grid"
            ax.plot([r[xname] for r in rs], [r[key] for r in rs], marker="o", ms=3, lw=1.3,
                    color=PALETTE[j % len(PALETTE)], label=label(name, 40))
        if base.get(key) is not None:
            ax.plot([base[xname]], [base[key]], marker="*", ms=10, color="#222222", ls="none", label="baseline")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xname, fontsize=8)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(4, len(labels)), fontsize=7)
    return to_svg(fig)
