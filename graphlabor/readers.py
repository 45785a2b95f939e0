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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from pathlib import Path

import pyarrow as pa

from ._types import InMemoryTable, PathLike
from .errors import InputError, where

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


def resolve(paths: PathLike | Sequence[PathLike]) -> list[Source]:
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


def _one_line(exc: object) -> str:
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

        read, parse, convert = _csv_options([], {})
        with pacsv.open_csv(src.path, read_options=read, parse_options=parse, convert_options=convert) as reader:
            schema = reader.schema
        _ = schema.names  # column names are decoded lazily: fail here, not later
        return schema
    except InputError:
        raise
    except UnicodeError as e:
        raise InputError(f"{src.path}: cannot read CSV file: header line is not valid UTF-8 ({_one_line(e)}); save the file as UTF-8") from None
    except (pa.ArrowException, OSError, ValueError, EOFError) as e:
        if src.format == "csv" and "Empty CSV file" in str(e):
            return pa.schema([])
        if src.format == "csv" and "CSV parse error" in str(e):
            _raise_parse_error(src.path, [], {}, str(e))
        raise InputError(f"{src.path}: cannot read {_FORMAT_NAMES[src.format]} file: {_one_line(e)}") from None


_FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "ipc": "Arrow IPC/Feather"}


def _open_ipc(path: str) -> Any:
    try:
        return pa.ipc.open_file(pa.memory_map(path))
    except pa.ArrowInvalid:
        return pa.ipc.open_stream(pa.memory_map(path))


def read_table(
    src: Source,
    columns: Sequence[str],
    csv_types: dict[str, pa.DataType] | None = None,
    *,
    dictionary: Sequence[str] = (),
) -> pa.Table:
    """Read ``columns`` of a source into a table.

    Parameters
    ----------
    src : Source
    columns : sequence of str
        Columns to read (they must exist: check with :func:`read_schema`).
    csv_types : dict, optional
        Column types to force when reading CSV (for instance ids as strings).
    dictionary : sequence of str, optional
        Text columns to read dictionary-encoded from Parquet (each row
        group's dictionary as stored, without decoding every row).

    Raises
    ------
    InputError
        The file cannot be read. For CSV, the message names the first
        malformed record (0-based data row, header not counted, blank lines
        skipped) or the first value that is not valid UTF-8, with its column.

    Notes
    -----
    CSV is read as UTF-8 (a byte-order mark is skipped), quoted values may
    span lines, and only empty cells and the usual spellings of "missing"
    (``NA``, ``N/A``, ``NULL``, ``null``, ``#N/A``...) are read as null in
    numeric columns; ``nan`` and ``inf`` stay numbers, so that the checks can
    name them. Text columns never hold nulls: an empty cell is ``""``.
    """
    columns = list(columns)
    try:
        if src.format == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(src.path, columns=columns, read_dictionary=list(dictionary) or None)
        if src.format == "ipc":
            table = _open_ipc(src.path).read_all()
            return table.select(columns)
        return _read_csv(src.path, columns, dict(csv_types or {}))
    except InputError:
        raise
    except pa.ArrowMemoryError as e:
        from .errors import MemoryBudgetError

        raise MemoryBudgetError(
            f"{src.path}: ran out of memory while reading ({_one_line(e)}); "
            "split the edges into several runs (fewer edges per run)"
        ) from None
    except (pa.ArrowException, OSError, ValueError, UnicodeError, EOFError) as e:
        raise InputError(f"{src.path}: cannot read {_FORMAT_NAMES[src.format]} file: {_one_line(e)}") from None


#: Cells read as null in CSV: pyarrow's defaults without the spellings of NaN.
CSV_NULLS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "1.#IND", "N/A", "NA", "NULL", "n/a", "null"]


def _csv_options(
    columns: Iterable[str],
    types: dict[str, pa.DataType],
    *,
    use_threads: bool = True,
    handler: Callable[[Any], str] | None = None,
) -> tuple[Any, Any, Any]:
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(use_threads=use_threads)
    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=handler)
    convert = pacsv.ConvertOptions(
        include_columns=list(columns),
        column_types=types,
        null_values=CSV_NULLS,
        strings_can_be_null=False,
    )
    return read, parse, convert


def _read_csv(path: str, columns: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    import pyarrow.csv as pacsv

    if os.path.getsize(path) == 0:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    read, parse, convert = _csv_options(columns, types)
    try:
        table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as e:
        msg = str(e)
        if "Empty CSV file" in msg:
            return pa.table({c: pa.array([], pa.string()) for c in columns})
        if "CSV parse error" in msg:
            _raise_parse_error(path, columns, types, msg)
        if "invalid UTF8" in msg or "invalid UTF-8" in msg:
            # a column forced to text holds bytes that are not UTF-8: read
            # those columns as bytes to find the first bad value
            types = {c: (pa.binary() if pa.types.is_string(t) or pa.types.is_large_string(t) else t) for c, t in types.items()}
            read, parse, convert = _csv_options(columns, types)
            table = pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
        else:
            raise
    return check_utf8(table, path)


def _raise_parse_error(path: str, columns: list[str], types: dict[str, pa.DataType], msg: str) -> NoReturn:
    """Re-read serially to name the first malformed record, then raise."""
    import pyarrow.csv as pacsv

    bad: list[Any] = []

    def handler(row: Any) -> str:
        bad.append(row)
        return "error"

    read, parse, convert = _csv_options(columns, types, use_threads=False, handler=handler)
    try:
        pacsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowException, OSError, ValueError, UnicodeError, EOFError):
        pass
    if bad and bad[0].number is not None:
        row = bad[0]
        text = row.text if len(row.text) <= 80 else row.text[:77] + "..."
        raise InputError(
            f"{where(path, None, row.number - 2, text)}: expected {row.expected_columns} fields "
            f"(as in the header), found {row.actual_columns}"
        )
    raise InputError(f"{path}: cannot read CSV file: {_one_line(msg)}")


def first_invalid_utf8(arr: pa.Array | pa.ChunkedArray) -> int | None:
    """Index of the first value of a binary array that is not valid UTF-8, or None.

    >>> first_invalid_utf8(pa.array([b"ok", b"\\xc3\\xa9", b"\\xff"]))
    2
    """
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    offset = 0
    for chunk in chunks:
        if not _utf8_ok(chunk):
            lo, hi = 0, len(chunk)  # the first bad index is in [lo, hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if _utf8_ok(chunk.slice(lo, mid - lo)):
                    lo = mid
                else:
                    hi = mid
            return offset + lo
        offset += len(chunk)
    return None


def _utf8_ok(arr: pa.Array) -> bool:
    try:
        arr.cast(pa.string() if not pa.types.is_large_binary(arr.type) else pa.large_string())
        return True
    except pa.ArrowInvalid:
        return False


def check_utf8(table: pa.Table, name: str) -> pa.Table:
    """Reject binary columns of a CSV table (pyarrow's sign of text that is not UTF-8).

    Returns the table with any binary column that does decode cast to text.
    """
    for i, col_name in enumerate(table.column_names):
        col = table[col_name]
        if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            row = first_invalid_utf8(col)
            if row is not None:
                raise InputError(
                    f"{where(name, col_name, row, col[row].as_py())}: not valid UTF-8 text "
                    "(save the file with UTF-8 encoding)"
                )
            text = pa.large_string() if pa.types.is_large_binary(col.type) else pa.string()
            table = table.set_column(i, col_name, col.cast(text))
    return table


def from_memory(data: InMemoryTable, name: str) -> pa.Table:
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

