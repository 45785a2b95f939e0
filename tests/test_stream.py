"""Streamed ingestion (graphlabor.stream): row groups read, checked, encoded and classified one by one.

The oracle is the whole-table path (load_edges -> encode_ids -> classify on
every row at once), which shares no merging code with the stream: every
array handed to the rest of the run must be equal to its arrays, bit for bit,
whatever the thread count, the order the row groups are worked on, and the
order of the row groups in the file.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import cli

import graphlabor
from graphlabor import pipeline, readers, stream
from graphlabor.edges import KindClasses
from graphlabor.generate import generate
from graphlabor.params import ModelParams
from graphlabor.pipeline import prepare


@pytest.fixture(scope="module")
def economy(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    edges, nodes = d / "e.parquet", d / "e_nodes.parquet"
    generate(edges, nodes, edges=6000, seed=3, row_group_size=700)  # 9 row groups, the last one short
    return edges, nodes


def _whole(monkeypatch, *args, **kw):
    with monkeypatch.context() as m:
        m.setattr(pipeline, "_stream", lambda *a, **k: None)
        return prepare(*args, **kw)


def _same(a, b):
    assert a.index.ids.equals(b.index.ids)
    assert a.kind_names == b.kind_names and a.origins == b.origins and a.columns == b.columns
    for cls in ("contribution", "revenue", "pay"):
        x, y = getattr(a, cls), getattr(b, cls)
        for k in ("src", "dst", "kind", "value", "seconds", "context"):
            u, v = getattr(x, k), getattr(y, k)
            assert (u is None) == (v is None), (cls, k)
            if u is not None:
                assert u.dtype == v.dtype and u.tobytes() == v.tobytes(), (cls, k)
    for k in ("role", "evidence", "kind_class"):
        assert getattr(a, k).tobytes() == getattr(b, k).tobytes(), k
    assert (a.node_value is None) == (b.node_value is None)
    if a.node_value is not None:
        assert a.node_value.tobytes() == b.node_value.tobytes()
    assert a.self_loops == b.self_loops


def test_streamed_equals_whole_table(economy, monkeypatch):
    edges, nodes = economy
    sources = readers.resolve([edges])
    work = stream.plan(sources)
    assert work is not None and len(work.tasks) == 9  # the stream does apply here
    params = ModelParams(kind_weights={"like": 0.5})
    for self_loops, half_life in (("drop", None), ("keep", None), ("drop", "30d")):
        a = prepare([edges], nodes, params, KindClasses(), self_loops=self_loops, half_life=half_life)
        b = _whole(monkeypatch, [edges], nodes, params, KindClasses(), self_loops=self_loops, half_life=half_life)
        _same(a, b)
        assert (a.contribution.seconds is not None) == (half_life is not None)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_any_thread_count_and_work_order(economy, threads):
    edges, _ = economy
    sources = readers.resolve([edges])
    work = stream.plan(sources)
    assert work is not None
    ref = stream.merge(sources, work, stream.pieces(work, threads=1)).classify()
    order = list(np.random.default_rng(threads).permutation(len(work.tasks)))
    got = stream.merge(sources, work, stream.pieces(work, threads=threads, order=order)).classify(threads=threads)
    for cls in ("contribution", "revenue", "pay"):
        for k in ("src", "dst", "kind", "value"):
            assert getattr(getattr(got, cls), k).tobytes() == getattr(getattr(ref, cls), k).tobytes()
    assert got.evidence.tobytes() == ref.evidence.tobytes()
    assert got.revenue_rows.tolist() == ref.revenue_rows.tolist()


def test_row_groups_shuffled_same_bits(economy, tmp_path):
    """The same rows with the row groups in another order: the same attribution, bit for bit."""
    edges, nodes = economy
    f = pq.ParquetFile(edges)
    order = np.random.default_rng(0).permutation(f.metadata.num_row_groups)
    shuffled = tmp_path / "shuffled.parquet"
    with pq.ParquetWriter(shuffled, f.schema_arrow) as w:
        for g in order:
            w.write_table(f.read_row_group(int(g)), row_group_size=10**6)
    assert pq.ParquetFile(shuffled).metadata.num_row_groups == len(order)
    a = graphlabor.attribute([str(edges)], str(nodes)).nodes
    b = graphlabor.attribute([str(shuffled)], str(nodes)).nodes
    assert a.equals(b)


def test_two_files_and_node_only_ids(economy, tmp_path, monkeypatch):
    """Rows numbered across files; ids only in the nodes file are in the index."""
    edges, nodes = economy
    t = pq.read_table(edges)
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(t.slice(0, 2500), first, row_group_size=600)
    pq.write_table(t.slice(2500), second, row_group_size=900)
    nt = pq.read_table(nodes)
    extra = pa.table({c: pa.array([("zz-lonely" if c == "id" else None)], nt[c].type) for c in nt.column_names})
    nodes2 = tmp_path / "n.parquet"
    pq.write_table(pa.concat_tables([nt, extra]), nodes2)
    assert stream.plan(readers.resolve([first, second])) is not None
    a = prepare([first, second], nodes2, ModelParams(), KindClasses())
    b = _whole(monkeypatch, [first, second], nodes2, ModelParams(), KindClasses())
    _same(a, b)
    assert "zz-lonely" in a.index.ids.to_pylist()


def test_bad_row_group_names_file_row_and_value(economy, tmp_path):
    """A bad value in the 4th row group: exit 2, the file and its row (counted over the whole file), no output."""
    edges, nodes = economy
    t = pq.read_table(edges)
    w = t["weight"].to_numpy().copy()
    kinds = t["kind"].to_pylist()
    row = next(i for i in range(2200, 6000) if kinds[i] not in ("spend", "fee", "payout", "purchase", "tip", "fare", "pay"))
    w[row] = -2.5
    bad = tmp_path / "bad.parquet"
    pq.write_table(t.set_column(t.column_names.index("weight"), "weight", pa.array(w)), bad, row_group_size=700)
    out = tmp_path / "out.parquet"
    p = cli("attribute", bad, "--nodes", nodes, "-o", out, check=False)
    assert p.returncode == 2
    assert str(bad) in p.stderr and f"row {row}" in p.stderr and "-2.5" in p.stderr, p.stderr
    assert not out.exists()


def test_whole_table_where_the_stream_does_not_apply(economy, tmp_path):
    edges, _ = economy
    t = pq.read_table(edges)
    ints = tmp_path / "ints.parquet"
    pq.write_table(t.set_column(0, "src", pa.array(np.arange(t.num_rows))).set_column(
        1, "dst", pa.array(np.arange(t.num_rows) + 1)), ints)
    csv = tmp_path / "e.csv"
    import pyarrow.csv as pacsv

    pacsv.write_csv(t.slice(0, 10), csv)
    assert stream.plan(readers.resolve([ints])) is None  # integer ids
    assert stream.plan(readers.resolve([csv])) is None  # CSV is read whole
    assert stream.plan(readers.resolve([edges]), need_time=True) is not None  # timestamps are streamed
    assert stream.plan(readers.resolve([ints]), need_time=True) is None
    assert stream.plan(readers.resolve([edges]), id_type="int") is None
