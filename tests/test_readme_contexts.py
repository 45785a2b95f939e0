"""The README's demonstration of contexts on the bundled example, run as written (issue 10).

The README runs ``graphlabor attribute --contexts OUT`` and ``graphlabor
explain`` on one worker of the bundled example and quotes what they print.
Here the same commands run in a real CLI subprocess; the printed numbers are
checked against a hand computation with pandas (a batch's fee times the
worker's share of the batch's tasks; a driver's fares) and against the direct
sparse solve of ``tests/reference.py`` (scipy, with contexts as extra senders),
and the README's quoted output and figures against what the commands print.
"""

from __future__ import annotations

import os
import re
import shlex

import pandas as pd
import pytest

from conftest import REPO
from reference import attribute_sparse

EDGES = os.path.join(REPO, "graphlabor", "data", "example_edges.parquet")
TASKS = ["annotate", "train", "verify", "imitate"]


def _readme_section() -> str:
    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    i = text.index("**Contexts on the bundled example.**")
    return text[i:text.index("tests/test_readme_contexts.py", i)]


def _blocks(section: str) -> tuple[list[str], str]:
    """The README's commands (the bash block) and the quoted output (the next block)."""
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, re.S)
    assert [lang for lang, _ in blocks] == ["bash", ""], blocks
    cmds = [ln for ln in blocks[0][1].strip().splitlines() if ln.startswith("graphlabor ")]
    return cmds, blocks[1][1]


def _run(run_cli, cmd: str, cwd) -> str:
    args = shlex.split(cmd)[1:]
    args = [os.path.join(REPO, a) if a.startswith("graphlabor/data/") else a for a in args]
    return run_cli(*args, cwd=cwd).stdout


@pytest.fixture(scope="module")
def edges() -> pd.DataFrame:
    return pd.read_parquet(EDGES)


@pytest.fixture(scope="module")
def sparse(edges):
    """Attributed value per node by the direct sparse solve, with and without contexts."""
    cols = (edges.src.to_numpy(), edges.dst.to_numpy(), edges.kind.to_numpy(), edges.weight.to_numpy(),
            edges.amount.fillna(0).to_numpy())
    ids, _, with_ctx, _ = attribute_sparse(*cols, context=edges.context.tolist())
    _, _, pooled, _ = attribute_sparse(*cols)
    return dict(zip(ids, with_ctx)), dict(zip(ids, pooled))


def test_readme_worker_demonstration(tmp_path, run_cli, edges, sparse):
    section = _readme_section()
    flat = " ".join(section.split())  # the README's prose, line breaks aside
    cmds, quoted = _blocks(section)
    assert len(cmds) == 2 and "--contexts contexts.csv" in cmds[0] and cmds[1].startswith("graphlabor explain")
    _run(run_cli, cmds[0], tmp_path)
    out = _run(run_cli, cmds[1], tmp_path)
    # the README quotes the by-context part of what explain prints, line for line
    assert quoted.strip() and quoted.strip() in out, out

    # hand computation: each batch's fee split over its tasks; u000049 keeps what it gets
    me = "u000049"
    tasks = edges[edges.kind.isin(TASKS) & (edges.dst == "p03")]
    fee = edges[(edges.kind == "fee") & (edges.dst == "p03")].groupby("context").amount.sum()
    mine = tasks[tasks.src == me].groupby("context").size()
    share = (fee * mine.reindex(fee.index, fill_value=0) / tasks.groupby("context").size().reindex(fee.index)).rename("v")
    lines = re.findall(r"^  p03 / (\d+)\s+([0-9.]+)\s+[0-9.]+%$", quoted, re.M)
    assert len(lines) == 3
    for ctx, value in lines:
        assert float(value) == pytest.approx(share[int(ctx)], rel=1e-5)
    rest = float(re.search(r"\(3 more\)\s+([0-9.]+)", quoted).group(1))
    assert rest == pytest.approx(share.sum() - sum(share[int(c)] for c, _ in lines), rel=1e-5)
    total = float(re.search(rf"node '{me}' \(user\): attributed ([0-9.]+)", out).group(1))
    assert total == pytest.approx(share.sum(), rel=1e-5)
    assert total == pytest.approx(sparse[0][me], rel=1e-5)
    paid = edges[(edges.kind == "pay") & (edges.dst == me)].amount.sum()
    assert f"${share.sum():.2f}" in flat and f"${paid:.2f}" in flat
    # the batch worked by hand in the README: batch 4, fee 6.31, 7 of 53 tasks
    b4 = (3 << 40) + 4
    assert (fee[b4], mine[b4], len(tasks[tasks.context == b4])) == (6.31, 7, 53)
    assert "6.31 x 7 / 53" in flat and f"{share[b4]:.6f}" in flat

    # the contexts table: p03's batches, their fees and their workers, as pandas counts them
    ctx = pd.read_csv(tmp_path / "contexts.csv")
    p03 = ctx[ctx.platform == "p03"].set_index("context")
    assert p03.revenue.to_dict() == pytest.approx(fee.to_dict(), abs=1e-9)
    assert p03.contributors.to_dict() == tasks.groupby("context").src.nunique().to_dict()
    assert (p03.unmatched == 0).all() and p03.passed_to_users.sum() == pytest.approx(fee.sum(), abs=1e-9)
    # and every context of the example: 44 campaigns, 9 batches, 166 rides
    revenue = edges[edges.kind.isin(["spend", "fee"])]
    assert len(ctx) == 219 == len(revenue.groupby(["dst", "context"]))
    assert (edges.kind == "ride").sum() == 166 and revenue.context.nunique() == 219
    assert "44 campaigns, 9 task batches and 166 rides" in flat


def test_readme_driver_demonstration(run_cli, edges, sparse):
    section = _readme_section()
    flat = " ".join(section.split())  # the README's prose, line breaks aside
    me = "u000059"
    common = [EDGES, me, "--nodes", os.path.join(REPO, "graphlabor", "data", "example_nodes.parquet")]
    got = float(re.search(r"attributed ([0-9.]+)", run_cli("explain", *common).stdout).group(1))
    pooled = float(re.search(r"attributed ([0-9.]+)", run_cli("explain", *common, "--context-col", "").stdout).group(1))
    rides = edges[(edges.kind == "ride") & (edges.src == me)].context
    fares = edges[(edges.kind == "fee") & edges.context.isin(rides)].amount
    pay = edges[(edges.kind == "pay") & (edges.dst == me)].amount
    assert len(fares) == len(rides) == len(pay) == 3
    assert got == pytest.approx(fares.sum(), rel=1e-6) and got == pytest.approx(sparse[0][me], rel=1e-6)
    assert pooled == pytest.approx(sparse[1][me], rel=1e-5)
    assert pay.sum() == pytest.approx(0.75 * fares.sum(), abs=0.02)
    assert " + ".join(f"{v:.2f}" for v in fares) in flat
    for v in (fares.sum(), pay.sum(), pooled):
        assert f"${v:.2f}" in flat
    hours = pd.read_parquet(os.path.join(REPO, "graphlabor", "data", "example_nodes.parquet")).set_index("id").hours[me]
    assert f"about {hours:.1f} hours" in flat
