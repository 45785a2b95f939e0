"""``explain`` on the Dask engine (the adjoint solve over row blocks of ``T^T``), ``--context-col`` naming a missing
column, and ``--period`` with ``-o DIR/``, on a real 2-process LocalCluster.

Oracles: the local engine's explanation, compared bit for bit (``Explanation ==`` compares every float exactly);
independently of it, each decomposition adding up to the node's attributed value, and each payer's part against
a brute-force re-run of the local engine with only that payer's revenue (the model is linear in the injections);
the local engine's node table and error message for the period dataset and the missing column. One cluster for the
module.
"""

from __future__ import annotations

import json
import math
import os

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import graphlabor
from graphlabor.errors import InputError

distributed = pytest.importorskip("distributed")

from conftest import cli  # noqa: E402
from dask_cluster import economy_files, local_client, same_bits  # noqa: E402
from examples import REVENUE, TIGHT, as_dict  # noqa: E402

client = pytest.fixture(scope="module")(local_client)  # one real LocalCluster for the module

EDGES, NODES = graphlabor.example_path("edges"), graphlabor.example_path("nodes")


def _adds_up(exp):
    """Every decomposition (and the whole last hop, when listed) adds up to the attributed value."""
    a = exp.attributed
    lists = ["by_payer", "by_platform", "by_kind"] + (["by_context"] if exp.by_context else [])
    lists += ["last_hop"] if exp.last_hop_total <= len(exp.last_hop) else []
    for name in lists:
        assert math.fsum(v for _, v in getattr(exp, name)) == pytest.approx(a, rel=1e-12, abs=1e-12), name


def _both(client, edges, node, nodes, **kw):
    local = graphlabor.explain(edges, node, nodes, top=100_000, **kw)
    dask = graphlabor.explain(edges, node, nodes, top=100_000, engine="dask", client=client, **kw)
    assert dask == local  # every part, label and float, bit for bit
    _adds_up(dask)
    return dask


@pytest.mark.parametrize(("node", "kw"), [
    ("user", {}),
    ("platform", {"platform_share": 0.2}),  # what a platform keeps: through its pool and its (platform, context) pairs
    ("user", {"method": "shapley"}),
    ("user", {"solver": "jacobi", "unmatched": "keep", "damping": 0.7}),
])
def test_bundled_example_with_contexts(client, node, kw):
    r = graphlabor.attribute(EDGES, NODES, **kw)
    t = r.nodes.to_pandas()
    v = r.top_users(1)["node"][0].as_py() if node == "user" else t[t.role == "platform"].sort_values("node").node.iloc[0]
    exp = _both(client, EDGES, v, NODES, **kw)
    assert exp.attributed == as_dict(r)[v] and exp.attributed > 0
    assert exp.by_context  # the bundled example has contexts: the split by (platform, context) where value entered


@pytest.fixture(scope="module")
def economy(tmp_path_factory):
    """A generated economy of about 7,000 nodes (4 chunks of rows: several row blocks) in 3 Parquet files, and the
    local engine's result on it (platforms keeping a tenth)."""
    edges, nodes, table = economy_files(tmp_path_factory.mktemp("economy"), 7, [7_000, 14_000], 3_000,
                                        edges=20_000, users=6_000, span_days=150)
    result = graphlabor.attribute(str(edges), str(nodes), platform_share=0.1)
    return str(edges), str(nodes), table, result


def test_generated_economy_in_files_several_blocks(client, economy, monkeypatch):
    from graphlabor.distributed import blocks

    monkeypatch.setattr(blocks, "BLOCKS_PER_WORKER", 2)  # 4 row blocks: T^T's blocks exchange entries of y
    monkeypatch.setattr(blocks, "BLOCK_EDGES", 4_000)  # each built in sub-blocks
    edges, nodes, table, r = economy
    top = r.top_users(1)["node"][0].as_py()
    exp = _both(client, edges, top, nodes, platform_share=0.1)
    assert exp.attributed == as_dict(r)[top] and len(exp.by_payer) >= 2 and exp.by_context
    # the largest payer's part: a re-run with only that payer's revenue gives the node that much
    raw = table.to_pandas()
    revenue = raw["kind"].isin(REVENUE)
    payer, part = exp.by_payer[0]
    alone = graphlabor.attribute(raw[~revenue | (raw["src"] == payer)], nodes, platform_share=0.1, **TIGHT)
    assert part == pytest.approx(as_dict(alone)[top], rel=1e-8)


def test_cli_explain_dask_equals_local(economy):
    edges, nodes, _, r = economy
    t = r.nodes.to_pandas()
    platform = t[t.role == "platform"].sort_values("attributed").node.iloc[-1]
    local = graphlabor.explain(edges, platform, nodes, top=20, method="direct", platform_share=0.1)
    assert local.attributed > 0
    proc = cli("explain", edges, platform, "--nodes", nodes, "--method", "direct", "--platform-share", "0.1", "--top", "20",
               "--json", "--engine", "dask", "--workers", "2")
    assert json.loads(proc.stdout) == json.loads(json.dumps(local.to_dict(), default=str))


def test_missing_context_column_is_the_local_error(client, economy):
    """A --context-col the files do not have: the local engine's one line naming the files and the column."""
    edges, nodes, _, _ = economy
    with pytest.raises(InputError) as local:
        graphlabor.attribute(edges, nodes, context_col="campaign")
    for run in (graphlabor.attribute, lambda e, n, **kw: graphlabor.explain(e, "u000001", n, **kw)):
        with pytest.raises(InputError) as dask:
            run(edges, nodes, context_col="campaign", engine="dask", client=client)
        assert str(dask.value) == str(local.value) and "\n" not in str(dask.value)
    assert "part-0.parquet" in str(local.value) and "'campaign'" in str(local.value)


def test_shapley_with_extreme_weights(client):
    """Weights whose sums overflow: both engines read the engagement weights the attribution used (divided by each
    sender's largest), so the explanation of a user's Shapley value is the same and adds up."""
    import pandas as pd

    edges = pd.DataFrame({
        "src": ["ads", "a", "b", "a", "a", "c", "b"],
        "dst": ["P", "P", "P", "b", "c", "P", "c"],
        "kind": ["spend", "click", "click", "view", "like", "click", "like"],
        "weight": [1.0, 1e308, 1e308, 1e308, 1e308, 1e-310, 3.0],
        "amount": [100.0, None, None, None, None, None, None],
    })
    r = graphlabor.attribute(edges, method="shapley")
    for v in ("b", "c"):  # each engaged by a, whose engagement weights sum to more than 1.8e308
        exp = _both(client, edges, v, None, method="shapley")
        assert exp.attributed == as_dict(r)[v] > 0 and exp.gap < 1e-12


def test_api_errors(client):
    with pytest.raises(graphlabor.ParameterError, match="period"):
        graphlabor.explain(EDGES, "u000000", engine="dask", client=client, period="month")
    with pytest.raises(InputError, match="nobody"):
        graphlabor.explain(EDGES, "nobody", engine="dask", client=client)


def test_period_dataset_one_file_per_period_and_row_block(client, economy, tmp_path, monkeypatch):
    from graphlabor.distributed import blocks

    monkeypatch.setattr(blocks, "BLOCKS_PER_WORKER", 3)  # 6 row blocks
    monkeypatch.setattr(blocks, "BLOCK_EDGES", 4_000)
    edges, nodes, _, _ = economy
    local = graphlabor.attribute(edges, nodes, period="quarter", breakdown=False)
    dask = graphlabor.attribute(edges, nodes, period="quarter", breakdown=False, engine="dask", client=client)
    out = tmp_path / "out"
    with distributed.get_task_stream(client) as ts:
        dask.write(f"{out}/")
    files = sorted(os.listdir(out))
    assert len(files) == len(dask.row_bounds) - 1 >= 2 * len(dask.periods) >= 4  # several blocks in each period
    assert len([t for t in ts.data if t["key"].startswith("write_part")]) == len(files)  # written on the workers
    parts = [pq.read_table(out / f) for f in files]
    assert all(len(pc.unique(p["period"])) == 1 for p in parts if p.num_rows)  # a file holds one period's rows
    same_bits(local.nodes, pa.concat_tables(parts))  # in name order: the local table, row for row
