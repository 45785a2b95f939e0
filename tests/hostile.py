"""Hostile ids, kinds, group names and titles for the report's safety tests.

Used by tests/test_report.py (parsed as HTML) and tests/test_browser.py
(loaded in Chromium).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import graphlabor

HOSTILE = [
    "</script><script>window.__pwned=1;alert(1)</script>",
    "<img src=x onerror=window.__pwned=1;alert(1)>",
    "\"'><svg onload=alert(1)>",
    "Zoë 🙂 \u2028 \u202e ∑ $x^2$ & co",
    "u" * 5000,
]


def hostile_data():
    """A small economy whose ids, kinds and group values are hostile strings."""
    users = [f"{h}#{i}" for i, h in enumerate(HOSTILE)] + ["plain"]
    plat = HOSTILE[0] + "P"
    rows = [("ads<b>", plat, "spend", 1.0, 100.0)]
    for i, u in enumerate(users):
        rows.append((u, plat, HOSTILE[1] if i % 2 else "click", 1.0 + i, None))
        rows.append((u, users[(i + 1) % len(users)], "like", 1.0, None))
    rows.append((plat, users[0], "pay", 1.0, 10.0))
    edges = pd.DataFrame(rows, columns=["src", "dst", "kind", "weight", "amount"])
    nodes = pd.DataFrame({"id": users, "group": [HOSTILE[i % len(HOSTILE)] for i in range(len(users))],
                          "hours": np.linspace(1, 10, len(users))})
    return edges, nodes, users


def hostile_report(path):
    edges, nodes, users = hostile_data()
    r = graphlabor.attribute(edges, nodes, group_by="group", min_wage=5)
    d = r.redistribute(0.5, ["equal", "unpaid", "floor"], floor=20, group_by="group")
    r.report(path, redistribution=d, group_by="group", min_wage=5, title=HOSTILE[0], inputs={"edges": HOSTILE[1]})
    return users
