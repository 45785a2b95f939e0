"""A corpus of messy edge files, each with the outcome it must have.

Every file is a variant of one small valid economy (:data:`CLEAN_CSV`): an
advertiser pays platform ``P`` 100; users ``a`` and ``b`` click ``P`` (``a``
with weight 2); ``a`` views ``b``. The variants are what users' files look
like when they come from Spark, pandas, spreadsheets and hand edits. Each
case either gives the same numbers as the clean file (ids renamed where the
case renames them) or fails with exit code 2 and one line naming the problem.

Run as a script to write the corpus to a directory and list it::

    python tests/messy_corpus.py /tmp/corpus

The tests (``test_messy_files.py``) build it into a temporary directory.
"""

from __future__ import annotations

import gzip
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

CLEAN_CSV = "src,dst,kind,weight,amount\nads,P,spend,1,100\na,P,click,2,\nb,P,click,1,\na,b,view,1,\n"
ROWS = [("ads", "P", "spend", 1.0, 100.0), ("a", "P", "click", 2.0, None), ("b", "P", "click", 1.0, None), ("a", "b", "view", 1.0, None)]
COLUMNS = ("src", "dst", "kind", "weight", "amount")


def clean_table(ids=None, weights=None) -> pa.Table:
    """The clean economy as an Arrow table (ids renamed by ``ids``, weights replaced by ``weights``)."""
    ids = ids or {}
    cols = {c: [r[i] for r in ROWS] for i, c in enumerate(COLUMNS)}
    cols["src"] = [ids.get(v, v) for v in cols["src"]]
    cols["dst"] = [ids.get(v, v) for v in cols["dst"]]
    if weights is not None:
        cols["weight"] = list(weights)
    return pa.table(cols)


@dataclass
class Case:
    """One messy input and its expected outcome.

    Attributes
    ----------
    name : str
    args : list of str
        CLI arguments after ``attribute`` (paths are relative to the corpus directory).
    same : bool
        True: the numbers equal the clean file's; False: exit code 2, one line.
    ids : dict
        How the case renames the clean ids (clean id -> id in the output).
    expect : list of str
        Fragments the error line must contain (when ``same`` is False).
    rel : float
        Relative tolerance of the numbers (0: exactly equal).
    """

    name: str
    args: list
    same: bool
    ids: dict = field(default_factory=dict)
    expect: list = field(default_factory=list)
    rel: float = 0.0


def _w(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)


def build(root: str | os.PathLike) -> list[Case]:
    """Write the corpus under ``root``; return its cases."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []

    def same(name, *args, ids=None, rel=0.0):
        cases.append(Case(name, [str(a) for a in args], True, ids or {}, [], rel))

    def fails(name, *args, expect=()):
        cases.append(Case(name, [str(a) for a in args], False, {}, list(expect)))

    table = clean_table()

    # ---------------------------------------------------------------- already worked
    _w(root / "clean.csv", CLEAN_CSV)
    same("clean csv", "clean.csv")
    _w(root / "bom.csv", b"\xef\xbb\xbf" + CLEAN_CSV.encode())
    same("utf-8 byte-order mark", "bom.csv")
    _w(root / "crlf.csv", CLEAN_CSV.replace("\n", "\r\n"))
    same("CRLF line ends", "crlf.csv")
    quoted = "\n".join(",".join(f'"{v}"' for v in line.split(",")) for line in CLEAN_CSV.strip().split("\n")) + "\n"
    _w(root / "quoted.csv", quoted)
    same("every field quoted", "quoted.csv")
    _w(root / "no_final_newline.csv", CLEAN_CSV.rstrip("\n"))
    same("no newline at the end", "no_final_newline.csv")
    _w(root / "clean.csv.gz", gzip.compress(CLEAN_CSV.encode()))
    same("gzip", "clean.csv.gz")
    pq.write_table(table, root / "clean.parquet")
    same("parquet", "clean.parquet")
    pq.write_table(table, root / "row_groups.parquet", row_group_size=1)
    same("parquet, one row group per row", "row_groups.parquet")
    spark = root / "spark"
    spark.mkdir()
    pq.write_table(table.slice(0, 2), spark / "part-00000-abc.snappy.parquet")
    pq.write_table(table.slice(2), spark / "part-00001-abc.snappy.parquet")
    _w(spark / "_SUCCESS", b"")
    _w(spark / ".part-00000-abc.snappy.parquet.crc", b"\x00crc")
    same("Spark output directory", "spark")
    feather.write_feather(table, root / "clean.feather")
    same("Feather v2", "clean.feather")
    with pa.OSFile(str(root / "stream.arrow"), "wb") as f, pa.ipc.new_stream(f, table.schema) as w:
        w.write_table(table)
    same("Arrow IPC stream", "stream.arrow")
    big = {"ads": 2**63 - 1, "P": -(2**63), "a": 2**53 + 1, "b": 0}
    _w(root / "large_ids.csv", "".join(
        [CLEAN_CSV.split("\n")[0] + "\n"]
        + [f"{big[s]},{big[d]},{k},{w:g},{'' if a is None else f'{a:g}'}\n" for s, d, k, w, a in ROWS]
    ))
    same("ids at the int64 limits", "large_ids.csv", ids=big)
    pq.write_table(clean_table(ids={"a": "a" * 300}), root / "long_ids.parquet")
    same("300-character ids", "long_ids.parquet", ids={"a": "a" * 300})

    # ---------------------------------------------------------------- issue: silent wrong answers
    hive = root / "hive"
    pq.write_to_dataset(table, str(hive), partition_cols=["kind"])
    same("Hive-partitioned directory (kind=...)", "hive")
    hive2 = root / "hive2"
    pq.write_to_dataset(table.append_column("day", pa.array(["2024-01-01", "2024-01-02"] * 2)), str(hive2), partition_cols=["day", "kind"])
    same("Hive partitions two levels deep", "hive2")
    _w(root / "Weight.csv", CLEAN_CSV.replace("src,dst,kind,weight,amount", "src,dst,Kind,Weight,Amount"))
    same("optional columns capitalised", "Weight.csv")
    _w(root / "spaces.csv", CLEAN_CSV.replace("src,dst,kind,weight,amount", "src,dst, kind ,WEIGHT,amount"))
    same("optional columns in upper case and with spaces", "spaces.csv")
    _w(root / "two_weights.csv", "src,dst,kind,weight,Weight,amount\nads,P,spend,1,1,100\na,P,click,2,2,\n")
    fails("two columns could be the weight", "two_weights.csv", expect=["two_weights.csv", "'weight' and 'Weight'", "could both be"])
    _w(root / "Source.csv", CLEAN_CSV.replace("src,dst,", "Source,Target,"))
    fails("ids as Source/Target", "Source.csv", expect=["Source.csv", "--src-col Source", "'src'"])
    same("ids as Source/Target with --src-col/--dst-col", "Source.csv", "--src-col", "Source", "--dst-col", "Target")
    _w(root / "SRC.csv", CLEAN_CSV.replace("src,dst,", "SRC,DST,"))
    fails("ids as SRC/DST", "SRC.csv", expect=["SRC.csv", "--src-col SRC"])
    _w(root / "empty0.csv", b"")
    fails("0-byte CSV", "empty0.csv", expect=["empty0.csv", "no edges", "--allow-empty"])
    _w(root / "header_only.csv", "src,dst,kind,weight,amount\n")
    fails("header-only CSV", "header_only.csv", expect=["header_only.csv", "no edges", "--allow-empty"])
    pq.write_table(table.slice(0, 0), root / "empty.parquet")
    fails("0-row Parquet", "empty.parquet", expect=["empty.parquet", "no edges"])
    _w(root / "hello.csv", "hello world")
    fails("a single line of junk", "hello.csv", expect=["hello.csv", "missing required column 'src'", "single column"])
    import json

    _w(root / "records.csv", json.dumps([dict(zip(COLUMNS, r)) for r in ROWS]))
    fails("a JSON array named .csv", "records.csv", expect=["records.csv", "JSON, not CSV"])
    _w(root / "no_revenue.csv", CLEAN_CSV.replace("spend", "purchase"))
    fails("no revenue kind", "no_revenue.csv", expect=["no value injected", "'purchase'", "'spend'", "--revenue-kinds"])
    _w(root / "no_kind.csv", "src,dst\na,P\nb,P\n")
    fails("no kind column, so no revenue", "no_kind.csv", expect=["no value injected", "'interaction'", "no 'kind' column"])
    _w(root / "UPPER.CSV.GZ", gzip.compress(CLEAN_CSV.encode()))
    same("upper-case .CSV.GZ", "UPPER.CSV.GZ")
    _w(root / "UPPER.CSV", CLEAN_CSV)
    same("upper-case .CSV", "UPPER.CSV")
    pq.write_table(table, root / "UPPER.PARQUET")
    same("upper-case .PARQUET", "UPPER.PARQUET")
    _w(root / "gz_named.csv", gzip.compress(CLEAN_CSV.encode()))
    same("gzip content named .csv", "gz_named.csv")

    # ---------------------------------------------------------------- several files read as one
    lines = CLEAN_CSV.split("\n")
    _w(root / "numeric_part.csv", lines[0] + "\n101,102,view,1,\n")
    _w(root / "text_part.csv", lines[0] + "\nads,P,spend,1,100\n101,P,click,2,\n102,P,click,1,\n")
    same("one file with numeric-looking ids, one with text ids", "numeric_part.csv", "text_part.csv", ids={"a": "101", "b": "102"})
    same("with a header-only part", "header_only.csv", "clean.csv")
    same("with a 0-byte part", "clean.csv", "empty0.csv")
    pq.write_table(pa.table({"src": [101], "dst": [102], "kind": ["view"], "weight": [1.0], "amount": pa.array([None], pa.float64())}), root / "int_part.parquet")
    same("Parquet integer ids next to CSV text ids", "int_part.parquet", "text_part.csv", ids={"a": "101", "b": "102"})
    _w(root / "int_ids.csv", CLEAN_CSV.replace("ads", "1").replace("P", "2").replace("a,", "3,").replace("b,", "4,"))
    same("--id-type text keeps integer-looking ids as text", "int_ids.csv", "--id-type", "text", ids={"ads": "1", "P": "2", "a": "3", "b": "4"})
    fails("--id-type int with text ids", "clean.csv", "--id-type", "int", expect=["clean.csv", "column 'src', row 0", "'ads'", "not an integer id"])

    # ---------------------------------------------------------------- messages
    pq.write_table(table, root / "parquet_named.csv")
    fails("Parquet bytes in a .csv", "parquet_named.csv", expect=["parquet_named.csv", "holds a Parquet file, not CSV"])
    feather.write_feather(table, root / "feather_named.csv")
    fails("Feather bytes in a .csv", "feather_named.csv", expect=["feather_named.csv", "Arrow IPC file, not CSV"])
    _w(root / "binary.csv", bytes(range(256)) * 4)
    fails("binary junk in a .csv", "binary.csv", expect=["binary.csv", "binary data"])
    _w(root / "latin1.csv", CLEAN_CSV.replace("ads", "caf\xe9").encode("latin-1"))
    fails("Latin-1 text", "latin1.csv", expect=["latin1.csv", "not valid UTF-8", "row 0"])
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        feather.write_feather(table, root / "v1.feather", version=1)
    same("Feather v1", "v1.feather")
    _w(root / "utf16.csv", CLEAN_CSV.encode("utf-16"))
    same("UTF-16 with a byte-order mark", "utf16.csv")
    _w(root / "utf16le.csv", CLEAN_CSV.encode("utf-16-le"))
    same("UTF-16 little-endian without a byte-order mark", "utf16le.csv")
    _w(root / "utf16be.csv", CLEAN_CSV.encode("utf-16-be"))
    same("UTF-16 big-endian without a byte-order mark", "utf16be.csv")
    _w(root / "nodes_dup.csv", "id,role\nP,platform\na,user\nb,user\na,user\n")
    fails("duplicate node id", "clean.csv", "--nodes", "nodes_dup.csv", expect=["nodes_dup.csv", "row 3", "'a'", "duplicate node id"])
    _w(root / "nodes_roles.csv", "id,role\nP, PLATFORM\na,User\nb,user \nads,Advertiser\n")
    same("roles in any letter case, with spaces", "clean.csv", "--nodes", "nodes_roles.csv")
    _w(root / "nodes_bad_role.csv", "id,role\nP,boss\n")
    fails("unknown role", "clean.csv", "--nodes", "nodes_bad_role.csv", expect=["nodes_bad_role.csv", "row 0", "'boss'", "unknown role"])
    pq.write_table(pa.table({"src": pa.array(["ads", "a", "b", "a"], pa.large_string()), "dst": pa.array([1, 2, 2, 3])}), root / "mixed_types.parquet")
    fails("text and integer id columns", "mixed_types.parquet", expect=["mixed_types.parquet", "text ids and integer ids"])
    pq.write_table(pa.table({"src": pa.array([r[0] for r in ROWS], pa.large_string()), "dst": pa.array([r[1] for r in ROWS], pa.large_string()),
                             "kind": [r[2] for r in ROWS], "weight": [r[3] for r in ROWS], "amount": [r[4] for r in ROWS]}), root / "large_string.parquet")
    same("large_string ids", "large_string.parquet")
    _w(root / "ragged.csv", CLEAN_CSV + "a,b,view\n")
    fails("a row with too few fields", "ragged.csv", expect=["ragged.csv", "row 4", "expected 5 fields"])
    _w(root / "nan.csv", CLEAN_CSV.replace("a,P,click,2,", "a,P,click,nan,"))
    fails("NaN weight", "nan.csv", expect=["nan.csv", "column 'weight', row 1", "NaN"])
    _w(root / "negative.csv", CLEAN_CSV.replace("a,P,click,2,", "a,P,click,-2,"))
    fails("negative weight", "negative.csv", expect=["negative.csv", "row 1", "negative"])
    _w(root / "inf.csv", CLEAN_CSV.replace("a,P,click,2,", "a,P,click,inf,"))
    fails("infinite weight", "inf.csv", expect=["inf.csv", "row 1", "infinite"])
    raw = (root / "clean.parquet").read_bytes()
    _w(root / "truncated.parquet", raw[: len(raw) // 2])
    fails("truncated Parquet", "truncated.parquet", expect=["truncated.parquet", "cannot read Parquet file"])
    _w(root / "missing_amount.csv", CLEAN_CSV.replace("ads,P,spend,1,100", "ads,P,spend,1,"))
    fails("revenue edge without amount", "missing_amount.csv", expect=["missing_amount.csv", "row 0", "needs an amount"])

    # ---------------------------------------------------------------- extreme but valid numbers
    _w(root / "subnormal.csv", CLEAN_CSV.replace("a,P,click,2,", "a,P,click,2e-310,").replace("b,P,click,1,", "b,P,click,1e-310,").replace("a,b,view,1,", "a,b,view,1e-310,"))
    same("subnormal weights", "subnormal.csv", rel=1e-9)
    _w(root / "huge.csv", CLEAN_CSV.replace("a,P,click,2,", "a,P,click,1.6e308,").replace("b,P,click,1,", "b,P,click,8e307,"))
    same("weights whose sum overflows", "huge.csv", rel=1e-12)
    fails("a weight times its kind weight overflows", "huge.csv", "--kind-weight", "click=10", expect=["overflows", "--kind-weight"])
    return cases


if __name__ == "__main__":  # pragma: no cover
    target = sys.argv[1] if len(sys.argv) > 1 else "corpus"
    for case in build(target):
        outcome = "same numbers as clean.csv" if case.same else "exit 2: " + " | ".join(case.expect)
        print(f"{case.name:55s} attribute {' '.join(case.args):60s} -> {outcome}")
