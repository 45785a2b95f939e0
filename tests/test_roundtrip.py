"""Nothing lost: every input node comes out exactly once, with its id unchanged.

Ids go in through CSV (written by Python's ``csv`` module) and Parquet, and
come out through CSV, JSON, JSON Lines and Parquet; the outputs are read back
with independent readers (``csv``, ``json``, pyarrow) and compared with the
ids written, which are the oracle. Strings carry commas, quotes, newlines,
tabs, spaces at either end, non-ASCII text (accents, CJK, emoji), and texts
that look like numbers or missing values (``007``, ``1e3``, ``NA``,
``null``); integers reach int64's limits. Money is checked too: the
attributed column adds up to the injected total computed from the input.
"""

from __future__ import annotations

import csv
import json
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import cli

NASTY = [
    "plain",
    "comma, inside",
    'quote " inside',
    '"fully quoted"',
    "new\nline",
    "crlf\r\nline",
    "tab\tinside",
    " leading space",
    "trailing space ",
    "café",
    "Ærøskøbing",
    "naïve résumé",
    "北京市",
    "東京",
    "😀",
    "👩🏽‍💻 coder",
    "Ünïcödé, \"mixed\"\nall",
    "007",
    "7",
    "1e3",
    "-0",
    "+5",
    "NA",
    "null",
    "nan",
    "#N/A",
    "a;b|c",
    "back\\slash",
    "ends with quote\"",
]

INT_IDS = [-(2**63), -(2**63) + 1, -1, 0, 1, 2**53 + 1, 2**63 - 2, 2**63 - 1]

OUT_FORMATS = ["csv", "json", "jsonl", "parquet"]


def read_output(path, fmt: str) -> list[dict]:
    """Rows of an output file, read without graphlabor."""
    if fmt == "parquet":
        return pq.read_table(path).to_pylist()
    if fmt == "csv":
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    if fmt == "json":
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def utf8_order(ids):
    return sorted(ids, key=lambda s: s.encode("utf-8"))


def _string_graph():
    """Edges among the nasty ids: a revenue edge into a platform, users acting on it and on each other."""
    users = NASTY
    platform = "Plat, form \"P\"\n🏢"
    advertiser = "Annonceur, S.A. ✨"
    edges = [(advertiser, platform, "spend", 1.0, 1000.0)]
    for i, u in enumerate(users):
        edges.append((u, platform, "click", 1.0 + i % 3, None))
        edges.append((u, users[(i + 1) % len(users)], "view", 1.0, None))
    nodes_only = ["isolated, \"node\"\n☃", "孤立"]
    return edges, [advertiser, platform] + users + nodes_only, nodes_only


def _write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow(["" if v is None else v for v in r])


@pytest.fixture(scope="module")
def string_inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("strings")
    edges, all_ids, nodes_only = _string_graph()
    _write_csv(d / "edges.csv", ["src", "dst", "kind", "weight", "amount"], edges)
    cols = list(zip(*edges))
    pq.write_table(
        pa.table({"src": list(cols[0]), "dst": list(cols[1]), "kind": list(cols[2]), "weight": list(cols[3]), "amount": pa.array(cols[4], pa.float64())}),
        d / "edges.parquet",
    )
    # nodes file: some edge nodes with a note, plus nodes found nowhere else
    node_rows = [(u, f"note for {u}") for u in NASTY[::3]] + [(u, "alone, \"really\"\n") for u in nodes_only]
    _write_csv(d / "nodes.csv", ["id", "note"], node_rows)
    notes = dict(node_rows)
    return d, all_ids, notes, sum(e[4] or 0 for e in edges if e[2] == "spend")


@pytest.mark.parametrize("in_fmt", ["csv", "parquet"])
@pytest.mark.parametrize("out_fmt", OUT_FORMATS)
def test_string_ids_round_trip(string_inputs, tmp_path, in_fmt, out_fmt):
    d, all_ids, notes, injected = string_inputs
    out = tmp_path / f"result.{out_fmt}"
    summary = tmp_path / "summary.json"
    proc = cli("attribute", d / f"edges.{in_fmt}", "--nodes", d / "nodes.csv", "-o", out, "--summary-json", summary, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = read_output(out, out_fmt)
    got = [r["node"] for r in rows]
    assert all(isinstance(g, str) for g in got)
    # each node exactly once, ids byte-identical, rows in UTF-8 byte order
    assert len(got) == len(set(got)) == len(set(all_ids))
    assert set(got) == set(all_ids)
    assert got == utf8_order(set(all_ids))
    # extra column carried unchanged, null where the nodes file has no row
    for r in rows:
        want = notes.get(r["node"])
        note = r["note"]
        if out_fmt == "csv" and want is None:
            assert note == ""
        else:
            assert note == want, (r["node"], note, want)
    # money: the output adds up to what the input injected
    total = sum(float(r["attributed"]) for r in rows)
    assert math.isclose(total, injected, rel_tol=1e-9)
    s = json.loads(summary.read_text())
    assert math.isclose(s["total_injected"], injected, rel_tol=1e-12)
    assert math.isclose(s["attributed_users"] + s["kept_platforms"] + s["kept_elsewhere"], injected, rel_tol=1e-9)


def test_nasty_ids_as_nodes_file_only(tmp_path):
    """With no edges at all, a CSV nodes file's ids still come out unchanged."""
    edges = tmp_path / "edges.csv"
    edges.write_text("src,dst\n")
    _write_csv(tmp_path / "nodes.csv", ["id", "value"], [(u, 1.0) for u in NASTY])
    out = tmp_path / "out.json"
    cli("attribute", edges, "--nodes", tmp_path / "nodes.csv", "-o", out)
    got = [r["node"] for r in read_output(out, "json")]
    assert got == utf8_order(NASTY)


def test_numeric_looking_csv_ids_stay_text(tmp_path):
    """'007' and '7' are two nodes; neither becomes the integer 7."""
    edges = tmp_path / "edges.csv"
    edges.write_text("src,dst\n007,7\n7,08\n")
    out = tmp_path / "out.csv"
    cli("attribute", edges, "-o", out, "--allow-empty")
    assert [r["node"] for r in read_output(out, "csv")] == ["007", "08", "7"]
    out = tmp_path / "out.parquet"
    cli("attribute", edges, "-o", out, "--allow-empty")
    t = pq.read_table(out)
    assert t.schema.field("node").type == pa.string()
    assert t["node"].to_pylist() == ["007", "08", "7"]


def test_canonical_integer_csv_ids_become_int64(tmp_path):
    edges = tmp_path / "edges.csv"
    edges.write_text("src,dst\n10,-3\n-3,0\n")
    out = tmp_path / "out.parquet"
    cli("attribute", edges, "-o", out, "--allow-empty")
    t = pq.read_table(out)
    assert t.schema.field("node").type == pa.int64()
    assert t["node"].to_pylist() == [-3, 0, 10]


@pytest.fixture(scope="module")
def int_inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("ints")
    ids = INT_IDS
    # a platform (2**63-1) paid by an advertiser (-2**63), users acting on it
    platform, advertiser = 2**63 - 1, -(2**63)
    users = [i for i in ids if i not in (platform, advertiser)]
    edges = [(advertiser, platform, "spend", 1.0, 500.0)]
    edges += [(u, platform, "click", 1.0, None) for u in users]
    edges += [(users[i], users[i + 1], "view", 2.0, None) for i in range(len(users) - 1)]
    cols = list(zip(*edges))
    pq.write_table(
        pa.table({"src": pa.array(cols[0], pa.int64()), "dst": pa.array(cols[1], pa.int64()), "kind": list(cols[2]), "weight": list(cols[3]), "amount": pa.array(cols[4], pa.float64())}),
        d / "edges.parquet",
    )
    _write_csv(d / "edges.csv", ["src", "dst", "kind", "weight", "amount"], edges)
    isolated = 2**62 + 12345
    _write_csv(d / "nodes.csv", ["id", "value"], [(isolated, 0.0), (-(2**63) + 1, None)])
    pq.write_table(pa.table({"id": pa.array([isolated, -(2**63) + 1], pa.int64()), "value": [0.0, None]}), d / "nodes.parquet")
    return d, sorted(set(ids) | {isolated}), 500.0


@pytest.mark.parametrize("in_fmt", ["csv", "parquet"])
@pytest.mark.parametrize("out_fmt", OUT_FORMATS)
def test_int64_limits_round_trip(int_inputs, tmp_path, in_fmt, out_fmt):
    d, ids, injected = int_inputs
    out = tmp_path / f"result.{out_fmt}"
    proc = cli("attribute", d / f"edges.{in_fmt}", "--nodes", d / f"nodes.{in_fmt}", "-o", out, check=False)
    assert proc.returncode == 0, proc.stderr
    rows = read_output(out, out_fmt)
    got = [r["node"] for r in rows]
    if out_fmt == "csv":
        assert all(isinstance(g, str) for g in got)
        assert got == [str(i) for i in ids]  # exact digits, no float formatting
        got = [int(g) for g in got]
    else:
        # JSON keeps exact integers (not floats); Parquet keeps int64
        assert all(type(g) is int for g in got), got
    assert got == ids
    if out_fmt == "parquet":
        assert pq.read_schema(out).field("node").type == pa.int64()
    total = sum(float(r["attributed"]) for r in rows)
    assert math.isclose(total, injected, rel_tol=1e-9)


def test_json_output_is_strict_json(string_inputs, tmp_path):
    """No NaN or Infinity tokens: the JSON parses with a strict parser."""
    d, all_ids, _, _ = string_inputs
    out = tmp_path / "out.json"
    cli("attribute", d / "edges.csv", "--nodes", d / "nodes.csv", "-o", out)

    def reject(token):
        raise AssertionError(f"non-standard JSON token {token}")

    rows = json.loads(out.read_text(encoding="utf-8"), parse_constant=reject)
    assert len(rows) == len(set(all_ids))
    assert all(r["rank"] is None or type(r["rank"]) is int for r in rows)
