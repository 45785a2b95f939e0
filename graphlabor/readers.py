"""Reading tables from Parquet, CSV and Arrow IPC files.

The format follows the file name: ``.parquet``/``.pq`` (or a directory of
Parquet files, read as one dataset), ``.csv``/``.csv.gz``, ``.arrow``,
``.feather``, ``.ipc``. Every function here reads the schema first, so a
missing column is reported before any data is read, and reads only the
columns asked for. Errors are :class:`~graphlabor.errors.InputError` with the
file's name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from .errors import InputError

PARQUET_EXT = (".parquet", ".pq")
CSV_EXT = (".csv", ".csv.gz")
IPC_EXT = (".arrow", ".feather", ".ipc")


@dataclass(frozen=True)
class Source:
    """One data file: its path (as the user wrote it) and its format."""

    path: str
    format: str  # "parquet" | "csv" | "ipc"

    @property
    def name(self) -> str:
        return self.path


def detect_format(path: str) -> str:
    """Return ``"parquet"``, ``"csv"`` or ``"ipc"`` from a file name.

    >>> detect_format("x/edges.csv.gz")
    'csv'
    """
    low = path.lower()
    if low.endswith(PARQUET_EXT):
        return "parquet"
    if low.endswith(CSV_EXT):
        return "csv"
    if low.endswith(IPC_EXT):
        return "ipc"
    raise InputError(
        f"{path}: unknown file extension (expected one of "
        f"{', '.join(PARQUET_EXT + CSV_EXT + IPC_EXT)}, or a directory of Parquet files)"
    )


def resolve(paths: str | os.PathLike | Sequence[str | os.PathLike]) -> list[Source]:
    """Expand paths (files, or directories of Parquet files) into sources.

    A directory is read as a Parquet dataset: its ``*.parquet`` files, found
    recursively and sorted by path; files whose names start with ``.`` or
    ``_`` are ignored, as Spark and pyarrow do.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    sources: list[Source] = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            files = sorted(
                str(f)
                for f in Path(p).rglob("*")
                if f.is_file()
                and f.name.lower().endswith(PARQUET_EXT)
                and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts)
            )
            if not files:
                raise InputError(f"{p}: directory holds no Parquet data files (*.parquet)")
            sources.extend(Source(f, "parquet") for f in files)
        elif os.path.exists(p):
            sources.append(Source(p, detect_format(p)))
        else:
            raise InputError(f"{p}: no such file or directory")
    return sources


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def read_schema(src: Source) -> pa.Schema:
    """Read only the schema (column names and types) of a source."""
    try:
        if src.format == "parquet":
            import pyarrow.parquet as pq

            return pq.read_schema(src.path)
        if src.format == "ipc":
            return _open_ipc(src.path).schema
        import pyarrow.csv as pacsv

        with pacsv.open_csv(src.path) as reader:
            return reader.schema
    except InputError:
        raise
    except (pa.ArrowException, OSError, ValueError, UnicodeError) as e:
        raise InputError(f"{src.path}: cannot read {_FORMAT_NAMES[src.format]} file: {_one_line(e)}") from None


_FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "ipc": "Arrow IPC/Feather"}


def _open_ipc(path: str):
    try:
        return pa.ipc.open_file(pa.memory_map(path))
    except pa.ArrowInvalid:
        return pa.ipc.open_stream(pa.memory_map(path))


def read_table(
    src: Source,
    columns: Sequence[str],
    csv_types: dict[str, pa.DataType] | None = None,
) -> pa.Table:
    """Read ``columns`` of a source into a table.

    Parameters
    ----------
    src : Source
    columns : sequence of str
        Columns to read (they must exist: check with :func:`read_schema`).
    csv_types : dict, optional
        Column types to force when reading CSV (for instance ids as strings).
    """
    columns = list(columns)
    try:
        if src.format == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(src.path, columns=columns)
        if src.format == "ipc":
            table = _open_ipc(src.path).read_all()
            return table.select(columns)
        import pyarrow.csv as pacsv

        convert = pacsv.ConvertOptions(include_columns=columns, column_types=csv_types or {})
        return pacsv.read_csv(src.path, convert_options=convert)
    except (pa.ArrowException, OSError, ValueError, UnicodeError) as e:
        raise InputError(f"{src.path}: cannot read {_FORMAT_NAMES[src.format]} file: {_one_line(e)}") from None


def from_memory(data, name: str) -> pa.Table:
    """Turn a pyarrow Table, a pandas DataFrame or a dict of columns into a Table."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    mod = type(data).__module__
    if mod.startswith("pandas"):
        try:
            return pa.Table.from_pandas(data, preserve_index=False)
        except (pa.ArrowException, ValueError, TypeError) as e:
            raise InputError(f"{name}: cannot convert DataFrame to Arrow: {_one_line(e)}") from None
    if isinstance(data, dict):
        try:
            return pa.table(data)
        except (pa.ArrowException, ValueError, TypeError) as e:
            raise InputError(f"{name}: cannot convert columns to Arrow: {_one_line(e)}") from None
    raise TypeError(
        f"{name}: expected a path, a list of paths, a pyarrow Table or a pandas DataFrame, "
        f"got {type(data).__name__}"
    )


TableLoader = Callable[[Sequence[str]], pa.Table]
