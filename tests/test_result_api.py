"""AttributionResult.to_dict and the platforms/groups writers, on hand-computed economies.

Hand example: an advertiser pays platform P 100; users a, b, c clicked on P
with weights 2, 1, 1; P pays a 10. With ``platform_share=0`` P passes all
100 on in proportion to the weights: a 50, b 25, c 25. Team x = {a},
team y = {b, c}.
"""

from __future__ import annotations

import json

import networkx as nx
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import graphlabor
from graphlabor.errors import ParameterError

EDGES = pa.table({
    "src": ["ads", "a", "b", "c", "P"],
    "dst": ["P", "P", "P", "P", "a"],
    "kind": ["spend", "click", "click", "click", "pay"],
    "weight": [1.0, 2.0, 1.0, 1.0, 1.0],
    "amount": [100.0, None, None, None, 10.0],
})
NODES = pa.table({"id": ["a", "b", "c"], "team": ["x", "y", "y"]})

PLATFORMS = [{
    "platform": "P", "revenue": 100.0, "paid_out": 10.0, "kept": 0.0, "passed_to_users": 100.0,
    "capture": 90.0, "capture_rate": 0.9, "contributors": 3, "users_unpaid": 90.0,
}]
# per team: users, attributed, paid, unpaid
GROUPS = {"x": (1, 50.0, 10.0, 40.0), "y": (2, 50.0, 0.0, 50.0)}


@pytest.fixture(scope="module")
def result():
    return graphlabor.attribute(EDGES, NODES, group_by="team")


def test_to_dict_by_hand(result):
    assert result.to_dict() == pytest.approx({"P": 0.0, "ads": 0.0, "a": 50.0, "b": 25.0, "c": 25.0}, abs=1e-9)
    assert result.to_dict("paid") == {"P": 0.0, "ads": 0.0, "a": 10.0, "b": 0.0, "c": 0.0}
    assert result.to_dict("rank") == {"P": None, "ads": None, "a": 1, "b": 2, "c": 3}


def test_to_dict_share_is_networkx_pagerank():
    # user-only graph with injected values: share is personalized PageRank
    # (networkx, with a self-loop at each node without out-edges)
    triples = [("u", "v", 1.0), ("v", "w", 2.0), ("w", "u", 1.0), ("u", "w", 3.0), ("w", "z", 1.0)]
    value = {"u": 1.0, "v": 0.0, "w": 2.0, "z": 1.0}
    edges = pa.table({"src": [a for a, _, _ in triples], "dst": [b for _, b, _ in triples],
                      "weight": [w for _, _, w in triples]})
    nodes = pa.table({"id": list(value), "role": ["user"] * 4, "value": list(value.values())})
    got = graphlabor.attribute(edges, nodes, damping=0.8, tol=1e-14, max_iter=10_000).to_dict("share")
    G = nx.MultiDiGraph()
    G.add_weighted_edges_from(triples)
    G.add_edge("z", "z", weight=1.0)
    want = nx.pagerank(G, alpha=0.8, personalization=value, tol=1e-15, max_iter=100_000)
    assert set(got) == set(want)
    for node, pr in want.items():
        assert got[node] == pytest.approx(pr, abs=1e-10)


def test_to_dict_rejects_unknown_column_and_periods(result):
    with pytest.raises(ParameterError, match="'nope' is not in the node table"):
        result.to_dict("nope")
    timed = EDGES.append_column("timestamp", pa.array([0, 0, 0, 0, 0], pa.timestamp("s", tz="UTC")))
    per_period = graphlabor.attribute(timed, period="month")
    with pytest.raises(ParameterError, match="per-period"):
        per_period.to_dict()


def _read(path):
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    if path.suffix == ".csv":
        return pacsv.read_csv(path).to_pylist()
    return json.loads(path.read_text())


@pytest.mark.parametrize("ext", ["parquet", "csv", "json"])
def test_write_platforms_and_groups(result, tmp_path, ext):
    plat, groups = tmp_path / f"platforms.{ext}", tmp_path / f"groups.{ext}"
    result.write_platforms(plat)
    result.write_groups(str(groups))
    got = _read(plat)
    assert len(got) == 1
    assert got[0] == pytest.approx(PLATFORMS[0])
    rows = {r["team"]: r for r in _read(groups)}
    assert set(rows) == set(GROUPS)
    for team, (users, attributed, paid, unpaid) in GROUPS.items():
        r = rows[team]
        assert (r["users"], r["attributed"], r["paid"], r["unpaid"]) == pytest.approx((users, attributed, paid, unpaid))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([plat.name, groups.name])  # no temporary files left


def test_write_groups_without_group_by(tmp_path):
    r = graphlabor.attribute(EDGES)
    with pytest.raises(ParameterError, match="group_by"):
        r.write_groups(tmp_path / "g.parquet")
    assert not (tmp_path / "g.parquet").exists()
