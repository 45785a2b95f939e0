"""A context column through the streamed ingestion (graphlabor.stream with graphlabor.contexts.local_contexts / merge_local).

Oracles: the whole-table path (load_edges -> encode_contexts -> classify on
every row at once, which shares no merging code with the stream: every array
handed to the rest of the run, the (platform, context) pairs included, must
be equal bit for bit, whatever the thread count, the order the row groups
are worked on and the order of the row groups in the file), and the direct
sparse solve of the context model in tests/reference.py (scipy), on random
economies written as Parquet files of many row groups.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from examples import PAY, REVENUE, TIGHT, as_dict, random_economy
from reference import attribute_sparse

import graphlabor
from graphlabor import pipeline, readers, stream
from graphlabor.edges import KindClasses
from graphlabor.generate import generate
from graphlabor.params import ModelParams
from graphlabor.pipeline import prepare

RG = 700  # rows a row group


@pytest.fixture(scope="module")
def economy(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream_ctx")
    edges, nodes = d / "e.parquet", d / "e_nodes.parquet"
    generate(edges, nodes, edges=6000, seed=3, row_group_size=RG)  # 9 row groups, the last one short
    t = pq.read_table(edges)
    assert "context" in t.column_names and 0 < t["context"].null_count < t.num_rows
    # a self-loop whose context no other row carries: dropped by classify, its context still an id of the column
    kinds = t["kind"].to_pylist()
    row = next(i for i in range(3 * RG, 4 * RG) if kinds[i] in ("view", "click", "like", "annotate", "ride"))
    src = t["src"].to_pylist()
    dst = t["dst"].to_pylist()
    dst[row] = src[row]
    ctx = t["context"].to_pylist()
    ctx[row] = 1 << 50
    t = t.set_column(t.column_names.index("dst"), "dst", pa.array(dst)).set_column(
        t.column_names.index("context"), "context", pa.array(ctx, pa.int64()))
    pq.write_table(t, edges, row_group_size=RG)
    return d, t, nodes


def _variant(t: pa.Table, how: str) -> pa.Table:
    """The generator's integer contexts (sparse: platform << 40 | number) recoded ``how``."""
    ctx = t["context"].combine_chunks()
    valid = ctx.is_valid().to_numpy(zero_copy_only=False)
    v = ctx.fill_null(0).to_numpy()
    rank = np.unique(v[valid], return_inverse=True)[1]
    dense = np.zeros(len(v), np.int64)
    dense[valid] = rank
    group = np.arange(len(v)) // RG
    if how == "int":
        col = ctx
    elif how == "dense":  # campaign numbers 0, 1, 2..., all used: offsets within each row group, no table
        col = pa.array(dense.astype(np.int32), mask=~valid)
    elif how == "gaps":  # even numbers only: offsets within each row group, ranked through one presence table
        col = pa.array(dense.astype(np.int32) * 2 + 5, mask=~valid)
    elif how == "wide":  # spread over more than 2**31 within a row group: local dictionaries
        col = pa.array(dense * (1 << 33) - (1 << 40), mask=~valid)
    elif how == "far":  # narrow in each row group, far apart across them: offsets made local dictionaries
        col = pa.array(group * (1 << 40) + dense % 97, mask=~valid)
    elif how == "float":  # integers with nulls as pandas writes them
        col = pa.array(np.where(valid, v, np.nan).astype(np.float64), from_pandas=True)
    elif how in ("text", "plain_text"):
        col = pa.array([f"ctx-{x}" if ok else None for x, ok in zip(v.tolist(), valid.tolist())])
    elif how == "some_row_groups":  # row groups 2 and 5 only: the others all null
        col = pa.array(v, mask=~(valid & np.isin(group, [2, 5])))
    elif how == "all_null":
        col = pa.nulls(len(v), pa.int64())
    else:
        raise AssertionError(how)
    return t.set_column(t.column_names.index("context"), "context", col)


def _write(t: pa.Table, path, how: str = "") -> None:
    dictionary = True if how != "plain_text" else ["src", "dst", "kind"]
    pq.write_table(t, path, row_group_size=RG, use_dictionary=dictionary)


def _whole(monkeypatch, *args, **kw):
    with monkeypatch.context() as m:
        m.setattr(pipeline, "_stream", lambda *a, **k: None)
        return prepare(*args, **kw)


def _bits(a, b, what):
    assert (a is None) == (b is None), what
    if a is not None:
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), what


def _same(a, b):
    """Two Prepared are equal bit for bit, pairs included."""
    assert a.index.ids.equals(b.index.ids)
    assert a.kind_names == b.kind_names and a.origins == b.origins and a.columns == b.columns
    for cls in ("contribution", "revenue", "pay"):
        x, y = getattr(a, cls), getattr(b, cls)
        for k in ("src", "dst", "kind", "value", "seconds", "context", "pair"):
            _bits(getattr(x, k), getattr(y, k), (cls, k))
    for k in ("role", "evidence", "kind_class"):
        _bits(getattr(a, k), getattr(b, k), k)
    assert a.self_loops == b.self_loops
    assert (a.pairs is None) == (b.pairs is None)
    if a.pairs is not None:
        assert a.pairs.values.equals(b.pairs.values), (a.pairs.values.type, b.pairs.values.type)
        for k in ("platform", "context", "ptr"):
            _bits(getattr(a.pairs, k), getattr(b.pairs, k), ("pairs", k))


HOWS = ["int", "dense", "gaps", "wide", "far", "float", "text", "plain_text", "some_row_groups", "all_null"]


@pytest.mark.parametrize("how", HOWS)
def test_streamed_equals_whole_table_with_contexts(economy, monkeypatch, how):
    d, t, nodes = economy
    path = d / f"{how}.parquet"
    _write(_variant(t, how), path, how)
    work = stream.plan(readers.resolve([path]), context_col="context")
    assert work is not None and len(work.tasks) == 9 and "context" in work.columns  # the stream does apply
    params = ModelParams(kind_weights={"like": 0.5})
    for self_loops, unmatched in (("drop", "pool"), ("keep", "keep")):
        kw = dict(self_loops=self_loops, unmatched=unmatched)
        a = prepare([path], nodes, params, KindClasses(), **kw)
        b = _whole(monkeypatch, [path], nodes, params, KindClasses(), **kw)
        _same(a, b)
        assert a.pairs is not None
        if how not in ("all_null",):
            assert len(a.pairs) > 0
    if how == "int":
        assert (1 << 50) in a.pairs.values.to_pylist()  # the dropped self-loop's context is an id all the same


def test_attribution_and_contexts_table_equal_whole_table(economy, monkeypatch):
    """End to end: node table, contexts table and summary counts of the streamed run are the whole-table run's."""
    d, t, nodes = economy
    path = d / "e2e_text.parquet"
    _write(_variant(t, "text"), path)
    a = graphlabor.attribute([str(path)], str(nodes))
    with monkeypatch.context() as m:
        m.setattr(pipeline, "_stream", lambda *a, **k: None)
        b = graphlabor.attribute([str(path)], str(nodes))
    assert a.nodes.equals(b.nodes)
    assert a.contexts is not None and a.contexts.equals(b.contexts)
    for k in ("contexts", "context_pairs", "unmatched_contexts", "unmatched_revenue", "columns"):
        assert getattr(a.summary, k) == getattr(b.summary, k), k
    assert {x["stage"] for x in a.timings} >= {"encode contexts", "classify edges"}


@pytest.mark.parametrize("how", ["int", "dense", "text", "far"])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_any_thread_count_and_work_order(economy, how, threads):
    d, t, _ = economy
    path = d / f"threads_{how}.parquet"
    if not path.exists():
        _write(_variant(t, how), path)
    sources = readers.resolve([path])
    work = stream.plan(sources, context_col="context")
    assert work is not None

    def run(**kw):
        merged = stream.merge(sources, work, stream.pieces(work, **kw))
        return merged.contexts(), merged.classify()

    vref, ref = run(threads=1)
    order = list(np.random.default_rng(threads).permutation(len(work.tasks)))
    vgot, got = run(threads=threads, order=order)
    assert vgot.equals(vref) and len(vref) > 0
    for cls in ("contribution", "revenue", "pay"):
        for k in ("src", "dst", "kind", "value", "context"):
            _bits(getattr(getattr(got, cls), k), getattr(getattr(ref, cls), k), (cls, k))
    assert got.contribution.context is not None and (got.contribution.context >= 0).any()


@pytest.mark.parametrize("how", ["int", "text"])
def test_row_groups_shuffled_same_bits(economy, tmp_path, how):
    """The same rows with the row groups in another order: the same attribution and contexts table, bit for bit."""
    d, t, nodes = economy
    t = _variant(t, how)
    path = tmp_path / "in_order.parquet"
    _write(t, path)
    shuffled = tmp_path / "shuffled.parquet"
    with pq.ParquetWriter(shuffled, t.schema) as w:
        for g in np.random.default_rng(0).permutation(9).tolist():
            w.write_table(t.slice(g * RG, RG), row_group_size=10**6)
    assert pq.ParquetFile(shuffled).metadata.num_row_groups == 9
    a = graphlabor.attribute([str(path)], str(nodes))
    b = graphlabor.attribute([str(shuffled)], str(nodes))
    assert a.nodes.equals(b.nodes) and a.contexts.equals(b.contexts)


def test_two_files_one_context_type(economy, tmp_path, monkeypatch):
    """Rows and contexts across two files; files whose context types differ take the whole-table path."""
    d, t, nodes = economy
    t = _variant(t, "dense")
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    pq.write_table(t.slice(0, 2500), first, row_group_size=600)
    pq.write_table(t.slice(2500), second, row_group_size=900)
    assert stream.plan(readers.resolve([first, second]), context_col="context") is not None
    _same(prepare([first, second], nodes, ModelParams(), KindClasses()),
          _whole(monkeypatch, [first, second], nodes, ModelParams(), KindClasses()))
    wider = tmp_path / "c.parquet"
    rest = t.slice(2500)
    pq.write_table(rest.set_column(rest.column_names.index("context"), "context", rest["context"].cast(pa.int64())), wider)
    text = tmp_path / "d.parquet"
    pq.write_table(_variant(t.slice(2500), "text"), text)
    nulls = tmp_path / "e.parquet"
    pq.write_table(rest.set_column(rest.column_names.index("context"), "context", pa.nulls(rest.num_rows)), nulls)
    for other in (wider, text, nulls):
        assert stream.plan(readers.resolve([first, other]), context_col="context") is None


def _economy_file(tmp_path, seed, how):
    """A random economy (tests/examples.py) with contexts, written in row groups of 23 rows; self-loops left out."""
    df = random_economy(seed, n_users=40, n_platforms=4, n_adv=5, p_uu=0.08, p_pay=0.2)
    df = df[df["src"] != df["dst"]].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 9, len(df))
    has = rng.random(len(df)) < 0.7
    if how == "text":
        ctx = pa.array([f"c{x}" if h else None for x, h in zip(k.tolist(), has.tolist())])
        oracle = [f"c{x}" if h else None for x, h in zip(k.tolist(), has.tolist())]
    else:
        ctx = pa.array(k * 1000 + 5, mask=~has)
        oracle = [int(x) * 1000 + 5 if h else None for x, h in zip(k.tolist(), has.tolist())]
    table = pa.Table.from_pandas(df, preserve_index=False).append_column("context", ctx)
    path = tmp_path / f"econ_{seed}_{how}.parquet"
    pq.write_table(table, path, row_group_size=23)
    assert pq.ParquetFile(path).metadata.num_row_groups > 5
    return path, df, oracle


@pytest.mark.parametrize("how", ["int", "text"])
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("unmatched", ["pool", "keep"])
def test_streamed_contexts_equal_sparse_oracle(tmp_path, how, seed, unmatched):
    path, df, ctx = _economy_file(tmp_path, seed, how)
    assert stream.plan(readers.resolve([path]), context_col="context") is not None
    r = graphlabor.attribute([str(path)], unmatched=unmatched, platform_share=0.1, **TIGHT)
    assert r.summary.context_pairs > 0
    ids, _, kept, _ = attribute_sparse(df["src"], df["dst"], df["kind"], df["weight"], df["amount"],
                                       platform_share=0.1, revenue_kinds=REVENUE, pay_kinds=PAY, context=ctx,
                                       unmatched=unmatched)
    got = as_dict(r)
    total = float(df.loc[df["kind"].isin(REVENUE), "amount"].sum())
    assert sorted(got) == ids.tolist()
    for v, x in zip(ids.tolist(), kept.tolist()):
        assert got[v] == pytest.approx(x, abs=1e-9 * total), v
