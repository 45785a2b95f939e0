"""Dictionary-encoded text columns: read as stored, same results as plain text.

Parquet files written by pyarrow, pandas or Spark hold text columns with few
distinct values dictionary-encoded, one dictionary per row group; graphlabor
reads them that way and hashes each dictionary once (graphlabor.dictarrays).
The oracle everywhere is the plain-text path or Python's own sorting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import cli
from hypothesis import given, settings
from hypothesis import strategies as st

import graphlabor
from graphlabor.dictarrays import map_values, sorted_codes
from graphlabor.errors import InputError


def _oracle(columns):
    """Sorted distinct values (byte-wise) and per-row ranks, by plain Python."""
    rows = [col.to_pylist() for col in columns]
    values = sorted({v for r in rows for v in r}, key=lambda v: v.encode("utf-8"))
    rank = {v: i for i, v in enumerate(values)}
    return values, [[rank[v] for v in r] for r in rows]


texts = st.text(alphabet=st.sampled_from(list("abcé€z0 ")), max_size=4)


@st.composite
def text_columns(draw):
    """Columns of plain, large or dictionary chunks (own or shared dictionaries, some entries unused)."""
    shared = pa.array(draw(st.lists(texts, min_size=1, max_size=6, unique=True)))
    columns = []
    for _ in range(draw(st.integers(1, 3))):
        form = draw(st.sampled_from(["plain", "large", "dict"]))
        chunks = []
        for _ in range(draw(st.integers(0, 4))):
            if form == "dict":
                own = pa.array(draw(st.lists(texts, min_size=1, max_size=6, unique=True)))
                dictionary = shared if draw(st.booleans()) else own
                idx = draw(st.lists(st.integers(0, len(dictionary) - 1), max_size=6))
                chunks.append(pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), dictionary))
            else:
                typ = pa.string() if form == "plain" else pa.large_string()
                chunks.append(pa.array(draw(st.lists(texts, max_size=6)), typ))
        typ = {"plain": pa.string(), "large": pa.large_string(), "dict": pa.dictionary(pa.int32(), pa.string())}[form]
        columns.append(pa.chunked_array(chunks, typ))
    return columns


@settings(max_examples=200, deadline=None)
@given(text_columns())
def test_sorted_codes_matches_python(columns):
    values, codes = sorted_codes(columns)
    want_values, want_codes = _oracle(columns)
    assert values.to_pylist() == want_values  # unused dictionary entries left out
    assert [c.tolist() for c in codes] == want_codes
    assert all(c.dtype == np.uint32 for c in codes)


def test_shared_dictionary_hashed_once_and_unused_entries_dropped():
    d = pa.array(["zeta", "alpha", "never", "beta"])
    a = pa.DictionaryArray.from_arrays(pa.array([0, 1], pa.int32()), d)
    b = pa.DictionaryArray.from_arrays(pa.array([3, 0, 0], pa.int32()), d)
    values, (codes,) = sorted_codes([pa.chunked_array([a, b])])
    assert values.to_pylist() == ["alpha", "beta", "zeta"]
    assert codes.tolist() == [2, 0, 1, 2, 2]


def test_unused_null_dictionary_entry_is_ignored():
    d = pa.array(["b", None, "a"])
    col = pa.DictionaryArray.from_arrays(pa.array([0, 2, 0], pa.int32()), d)
    values, (codes,) = sorted_codes([col])
    assert values.to_pylist() == ["a", "b"] and codes.tolist() == [1, 0, 1]


def test_map_values_on_mixed_chunks():
    col = pa.chunked_array([pa.array(["x", "y"]).dictionary_encode(), pa.array(["y", "z"]).dictionary_encode()])
    got = map_values(col, lambda v: pc_equal(v, "y"), pa.bool_())
    assert got.to_pylist() == [False, True, True, False]


def pc_equal(v, s):
    import pyarrow.compute as pc

    return pc.equal(v, s)


def _economy(n_rows=3000, seed=3):
    rng = np.random.default_rng(seed)
    users = [f"user-{i:04d}" for i in range(300)]
    src = rng.choice(users, n_rows)
    dst = np.where(rng.random(n_rows) < 0.6, rng.choice(["P1", "P2"], n_rows), rng.choice(users, n_rows))
    kind = np.where(np.isin(dst, ["P1", "P2"]), rng.choice(["click", "post"], n_rows), "view")
    df = pd.DataFrame({"src": src, "dst": dst, "kind": kind, "weight": rng.random(n_rows) + 0.5, "amount": np.nan})
    money = pd.DataFrame({"src": ["ads-1", "ads-2", "P1"], "dst": ["P1", "P2", "user-0007"],
                          "kind": ["spend", "spend", "pay"], "weight": 1.0, "amount": [700.0, 300.0, 5.0]})
    return pd.concat([df, money], ignore_index=True)


def test_parquet_dictionary_and_plain_files_give_the_same_bytes(tmp_path):
    df = _economy()
    table = pa.Table.from_pandas(df, preserve_index=False)
    dict_file, plain_file = tmp_path / "dict.parquet", tmp_path / "plain.parquet"
    pq.write_table(table, dict_file, row_group_size=500)  # dictionary-encoded, 7 row groups
    pq.write_table(table, plain_file, use_dictionary=False)
    meta = pq.ParquetFile(dict_file).metadata
    assert meta.num_row_groups > 1 and meta.row_group(0).column(0).has_dictionary_page
    assert not pq.ParquetFile(plain_file).metadata.row_group(0).column(0).has_dictionary_page
    out = {}
    for name, path in (("dict", dict_file), ("plain", plain_file)):
        out[name] = tmp_path / f"out_{name}.parquet"
        cli("attribute", path, "-o", out[name], "-q")
    a, b = pq.read_table(out["dict"]), pq.read_table(out["plain"])
    assert a.equals(b)
    assert set(a["node"].to_pylist()) == set(df["src"]) | set(df["dst"])


def test_split_into_dictionary_and_plain_files(tmp_path):
    df = _economy()
    whole = graphlabor.attribute(df).nodes
    one, two = tmp_path / "one.parquet", tmp_path / "two.parquet"
    pq.write_table(pa.Table.from_pandas(df.iloc[:1500], preserve_index=False), one, row_group_size=400)
    pq.write_table(pa.Table.from_pandas(df.iloc[1500:], preserve_index=False), two, use_dictionary=False)
    split = graphlabor.attribute([str(one), str(two)]).nodes
    assert split.select(["node", "role"]).to_pylist() == whole.select(["node", "role"]).to_pylist()
    np.testing.assert_allclose(split["attributed"].to_numpy(), whole["attributed"].to_numpy(), rtol=1e-12, atol=1e-12)


def test_pandas_categoricals_with_unused_categories():
    df = _economy()
    plain = graphlabor.attribute(df).nodes
    cat = df.copy()
    extra = ["ghost-a", "ghost-b"]  # categories no row uses are not nodes
    for col in ("src", "dst", "kind"):
        cat[col] = pd.Categorical(cat[col], categories=sorted(set(cat[col])) + extra)
    got = graphlabor.attribute(cat).nodes
    assert "ghost-a" not in got["node"].to_pylist()
    cols = ["node", "role", "attributed", "paid"]
    assert got.select(cols).to_pylist() == plain.select(cols).to_pylist()  # same bits
    assert [c for c in got.column_names if c.startswith("via_")] == [c for c in plain.column_names if c.startswith("via_")]


def test_null_in_a_dictionary_is_named(tmp_path):
    d = pa.array(["a", None, "P"])
    src = pa.DictionaryArray.from_arrays(pa.array([0, 0, 1], pa.int32()), d)
    table = pa.table({"src": src, "dst": pa.array(["P", "P", "P"]), "kind": pa.array(["click"] * 3)})
    with pytest.raises(InputError, match=r"column 'src', row 2.*missing value"):
        graphlabor.attribute(table)
    path = tmp_path / "nulls.parquet"  # in a file: a null row of a dictionary-encoded column
    pq.write_table(table.set_column(0, "src", pa.array(["a", "a", None])), path)
    proc = cli("attribute", path, "-o", tmp_path / "out.parquet", check=False)
    assert proc.returncode == 2
    assert "nulls.parquet" in proc.stderr and "'src'" in proc.stderr and "row 2" in proc.stderr
    assert not (tmp_path / "out.parquet").exists()


def test_money_kind_without_amount_found_through_dictionary(tmp_path):
    table = pa.table({
        "src": pa.array(["a", "ads"]).dictionary_encode(),
        "dst": pa.array(["P", "P"]).dictionary_encode(),
        "kind": pa.array(["click", "spend"]).dictionary_encode(),
        "amount": pa.array([None, None], pa.float64()),
    })
    path = tmp_path / "e.parquet"
    pq.write_table(table, path)
    proc = cli("attribute", path, check=False)
    assert proc.returncode == 2
    assert "'amount', row 1" in proc.stderr and "'spend'" in proc.stderr


def test_timestamp_read_only_when_needed(tmp_path):
    df = _economy(500)
    df["timestamp"] = pd.Timestamp("2024-01-01", tz="UTC")
    path = tmp_path / "e.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    from graphlabor.edges import load_edges

    assert "timestamp" not in load_edges(str(path), need_time=False).table.column_names
    assert "timestamp" in load_edges(str(path)).table.column_names
    # the result does not depend on it without time options
    no_ts = tmp_path / "no_ts.parquet"
    pq.write_table(pa.Table.from_pandas(df.drop(columns="timestamp"), preserve_index=False), no_ts)
    assert graphlabor.attribute(str(path)).nodes.equals(graphlabor.attribute(str(no_ts)).nodes)


def test_too_many_kinds_is_one_line_error():
    n = 65537
    table = pa.table({"src": [f"u{i}" for i in range(n)], "dst": ["P"] * n, "kind": [f"k{i}" for i in range(n)]})
    with pytest.raises(InputError, match="more than 65536 distinct edge kinds"):
        graphlabor.attribute(table)
