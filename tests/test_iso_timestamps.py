"""ISO 8601 text timestamps: the same instants from CSV, Parquet string columns, Arrow tables and DataFrames.

The oracle is hand-computed epoch seconds; a bad text is an error naming the file, row and value.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import graphlabor
from graphlabor.errors import InputError, ParameterError
from graphlabor.timeaxis import parse_instant

# 2024-01-10T00:00:00Z is 1704844800
TEXTS = ["2024-01-10T00:00:00Z", "2024-01-10T01:00:00+01:00", "2024-01-09T23:00:00.5-01:00", "2024-01-10"]
WANT = [1704844800, 1704844800, 1704844800 + 0, 1704844800]


def _edges(texts):
    n = len(texts)
    return pa.table({
        "src": [f"u{i}" for i in range(n)] + ["A"],
        "dst": ["P"] * n + ["P"],
        "kind": ["click"] * n + ["spend"],
        "weight": [1.0] * n + [None],
        "amount": [None] * n + [100.0],
        "timestamp": texts + ["2024-01-10T00:00:00Z"],
    })


def _sources(table, tmp_path):
    pq.write_table(table, tmp_path / "e.parquet")
    pacsv.write_csv(table, tmp_path / "e.csv")
    return {"table": table, "frame": table.to_pandas(), "parquet": str(tmp_path / "e.parquet"), "csv": str(tmp_path / "e.csv")}


def test_parse_instant_reads_offsets_and_fractions():
    assert [parse_instant(t) for t in TEXTS] == WANT
    assert parse_instant("2024-01-10T00:00:00.75Z") == 1704844800  # floored to the second
    assert parse_instant("2024-01-10 01:30+0130") == 1704844800


def test_every_source_reads_iso_text_alike(tmp_path):
    # u0..u3 click P at the same instant (each text names it differently); with as_of one
    # half-life later every weight halves alike, so the users split P's 100 equally
    results = {}
    for name, src in _sources(_edges(TEXTS), tmp_path).items():
        r = graphlabor.attribute(src, half_life="1d", as_of="2024-01-11T00:00:00Z")
        results[name] = dict(zip(r.nodes["node"].to_pylist(), r.nodes["attributed"].to_pylist()))
        assert results[name] == pytest.approx({"A": 0, "P": 0, "u0": 25, "u1": 25, "u2": 25, "u3": 25}), name
    # periods: all on the same day
    for name, src in _sources(_edges(TEXTS), tmp_path).items():
        r = graphlabor.attribute(src, period="day")
        assert set(r.nodes["period"].to_pylist()) == {__import__("datetime").date(2024, 1, 10)}, name


def test_a_bad_text_names_file_row_and_value(tmp_path):
    table = _edges(["2024-01-10T00:00:00Z", "2024-01-10T00:00:00Z", "10/01/2024"])
    pq.write_table(table, tmp_path / "e.parquet")
    with pytest.raises(InputError, match=r"e\.parquet: column 'timestamp', row 2 \(value '10/01/2024'\): not an ISO 8601"):
        graphlabor.attribute(str(tmp_path / "e.parquet"), half_life="1d")
    with pytest.raises(InputError, match=r"row 2 \(value '10/01/2024'\)"):
        graphlabor.attribute(table.to_pandas(), half_life="1d")


def test_bad_as_of_names_the_parameter():
    with pytest.raises(ParameterError, match="as_of '10/01/2024'"):
        parse_instant("10/01/2024")
