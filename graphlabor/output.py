"""Writing tables atomically: Parquet, CSV or JSON by the file's extension.

Every output is written to a hidden temporary file in the target directory
and renamed over the target only once complete (``os.replace`` is atomic on
POSIX), so an interrupted run leaves either the old file or the new one,
never a partial one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from contextlib import contextmanager

import pyarrow as pa

from .errors import OutputError

FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def output_format(path: str) -> str:
    """Format from the extension.

    >>> output_format("out/nodes.csv")
    'csv'
    """
    ext = os.path.splitext(path)[1].lower()
    try:
        return FORMATS[ext]
    except KeyError:
        raise OutputError(f"{path}: unknown output extension {ext!r} (use .parquet, .csv, .json or .jsonl)") from None


def check_writable(path: str, *, table: bool = True) -> None:
    """Fail early, before any work, if ``path`` cannot be written."""
    path = os.fspath(path)
    if table:
        output_format(path)
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise OutputError(f"{path}: output directory {d} does not exist")
    if not os.access(d, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: output directory {d} is not writable")
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a directory")


@contextmanager
def atomic_path(path: str):
    """Yield a temporary path next to ``path``; rename it into place on success."""
    path = os.fspath(path)
    check_writable(path, table=False)
    d, base = os.path.split(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=d)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _json_value(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def write_table(table: pa.Table, path: str) -> None:
    """Write ``table`` to ``path`` atomically, in the format its extension names."""
    fmt = output_format(path)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        elif fmt == "csv":
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                names = table.column_names
                if fmt == "json":
                    f.write("[")
                first = True
                for batch in table.to_batches(max_chunksize=65536):
                    cols = [c.to_pylist() for c in batch.columns]
                    for row in zip(*cols):
                        rec = {k: _json_value(v) for k, v in zip(names, row)}
                        text = json.dumps(rec, ensure_ascii=False)
                        if fmt == "json":
                            f.write(("\n" if first else ",\n") + text)
                        else:
                            f.write(text + "\n")
                        first = False
                if fmt == "json":
                    f.write("\n]\n")


def write_json(obj, path: str) -> None:
    """Write a JSON document atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")
