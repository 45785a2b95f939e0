"""Reading tables from Parquet, CSV and Arrow IPC files.

:func:`resolve` turns the paths a user gives into :class:`Source` objects,
once: each knows its format, schema, row count and row groups, so that the
memory check and the reader use the same facts without opening files twice.
:func:`read_table` then reads only the columns asked for. Errors are
:class:`~graphlabor.errors.InputError` with the file's name.

What is accepted
----------------
- The format follows the extension, in any letter case: ``.parquet``/``.pq``,
  ``.csv``/``.csv.gz``, ``.arrow``/``.feather``/``.ipc`` (Feather v1 and v2).
- A directory is read as a Parquet dataset: its ``*.parquet`` files, found
  recursively, sorted by path, skipping names that start with ``.`` or ``_``
  (Spark's ``_SUCCESS``, ``.crc`` files). Folders named ``key=value`` (Hive
  partitioning, what Spark and ``pyarrow.parquet.write_to_dataset`` write)
  become a text column ``key`` holding ``value`` for every row of the files
  below them (``__HIVE_DEFAULT_PARTITION__`` is null).
- CSV content is sniffed before it is parsed: UTF-8 (with or without a
  byte-order mark) and UTF-16 (with a byte-order mark, or recognised by its
  NUL bytes) are read; gzip-compressed content is decompressed whatever the
  name; Parquet, Arrow, JSON and other binary content in a ``.csv`` file is
  named as such, not parsed.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, TypeGuard
from urllib.parse import unquote

import pyarrow as pa

from ._types import InMemoryTable, PathLike
from .errors import InputError, where
from .validate import is_text

PARQUET_EXT = (".parquet", ".pq")
CSV_EXT = (".csv", ".csv.gz")
IPC_EXT = (".arrow", ".feather", ".ipc")

#: Hive's spelling of a null partition value
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"

_FORMAT_NAMES = {"parquet": "Parquet", "csv": "CSV", "ipc": "Arrow IPC/Feather", "feather1": "Feather v1"}

#: Bytes of a CSV file looked at to recognise its content
SNIFF_BYTES = 1 << 16


@dataclass(frozen=True)
class Source:
    """One data file, resolved once: where it is, what it holds and how to read it.

    Attributes
    ----------
    path : str
        The file, as found (for messages).
    format : {"parquet", "csv", "ipc", "feather1"}
    schema : pyarrow.Schema
        Column names and types, partition columns included. For CSV every
        column is listed as text (types are decided when the data is read).
    num_rows : int or None
        Exact for Parquet (footer) and Arrow IPC (record batch headers); None
        for CSV, which is not counted before it is read.
    row_groups : int
        Parquet row groups, IPC record batches; 1 for CSV.
    size : int
        Bytes on disk.
    compression : str or None
        ``"gzip"`` for compressed CSV.
    encoding : str
        Text encoding of CSV (``"utf-8"``, ``"utf-16-le"``...).
    partitions : tuple of (str, str or None)
        Hive partition columns and their values, from the folder names.
    part : (int, int) or None
        Read only Parquet row groups ``[first, end)`` (a partition of a
        distributed run); :attr:`name` then says which.
    """

    path: str
    format: str
    schema: pa.Schema
    num_rows: int | None
    row_groups: int = 1
    size: int = 0
    compression: str | None = None
    encoding: str = "utf-8"
    partitions: tuple[tuple[str, str | None], ...] = ()
    part: tuple[int, int] | None = None

    @property
    def name(self) -> str:
        if self.part is None:
            return self.path
        a, b = self.part
        return f"{self.path}, row group {a}" if b == a + 1 else f"{self.path}, row groups {a}-{b - 1}"

    def row_group_part(self, first: int, end: int) -> Source:
        """This Parquet source restricted to row groups ``[first, end)``."""
        from dataclasses import replace

        return replace(self, num_rows=None, row_groups=end - first, part=(first, end))

    @property
    def is_empty(self) -> bool:
        """True if the source is known to hold no data rows (no columns, or 0 rows)."""
        return len(self.schema) == 0 or self.num_rows == 0

    @property
    def file_columns(self) -> list[str]:
        """The columns stored in the file itself (not from partition folders)."""
        part = {k for k, _ in self.partitions}
        return [n for n in self.schema.names if n not in part]


def detect_format(path: str) -> str:
    """Return ``"parquet"``, ``"csv"`` or ``"ipc"`` from a file name (any letter case).

    >>> detect_format("x/edges.CSV.GZ")
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


def is_paths(data: object) -> TypeGuard[PathLike | Sequence[PathLike | Source]]:
    """True for a path or a non-empty list of paths (as opposed to an in-memory table)."""
    return isinstance(data, (str, os.PathLike)) or (
        isinstance(data, (list, tuple)) and bool(data) and all(isinstance(e, (str, os.PathLike, Source)) for e in data)
    )


def hive_partitions(relative: Path) -> tuple[tuple[str, str | None], ...]:
    """``key=value`` folders of a path relative to a dataset root.

    >>> hive_partitions(Path("kind=spend/day=2024-01-01/part-0.parquet"))
    (('kind', 'spend'), ('day', '2024-01-01'))
    >>> hive_partitions(Path("kind=__HIVE_DEFAULT_PARTITION__/x=a%2Fb/p.parquet"))
    (('kind', None), ('x', 'a/b'))
    """
    out = []
    for part in relative.parts[:-1]:
        key, sep, value = part.partition("=")
        if sep and key:
            value = unquote(value)
            out.append((unquote(key), None if value == HIVE_NULL else value))
    return tuple(out)


def resolve(paths: PathLike | Source | Sequence[PathLike | Source]) -> list[Source]:
    """Expand paths (files, or directories of Parquet files) into resolved sources.

    Each file's format, schema and row count are read here, once (see
    :class:`Source`); a :class:`Source` given in ``paths`` is kept as it is.

    Raises
    ------
    InputError
        A path does not exist, has an unknown extension, a directory holds no
        Parquet files, or a file cannot be read or is not what its name says.
    """
    if isinstance(paths, (str, os.PathLike, Source)):
        paths = [paths]
    sources: list[Source] = []
    for p in paths:
        if isinstance(p, Source):
            sources.append(p)
            continue
        p = os.fspath(p)
        if os.path.isdir(p):
            root = Path(p)
            files = sorted(
                f
                for f in root.rglob("*")
                if f.is_file()
                and f.name.lower().endswith(PARQUET_EXT)
                and not any(part.startswith((".", "_")) for part in f.relative_to(root).parts)
            )
            if not files:
                raise InputError(f"{p}: directory holds no Parquet data files (*.parquet)")
            sources.extend(_resolve_file(str(f), "parquet", hive_partitions(f.relative_to(root))) for f in files)
        elif os.path.exists(p):
            sources.append(_resolve_file(p, detect_format(p)))
        else:
            raise InputError(f"{p}: no such file or directory")
    return sources


def _resolve_file(path: str, fmt: str, partitions: tuple[tuple[str, str | None], ...] = ()) -> Source:
    size = os.path.getsize(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            meta = pq.read_metadata(path)
            schema = meta.schema.to_arrow_schema()
            src = Source(path, fmt, schema, meta.num_rows, meta.num_row_groups, size)
        elif fmt == "ipc":
            with open(path, "rb") as f:
                magic = f.read(6)
            if magic[:4] == b"FEA1":
                table = _read_feather1(path)
                src = Source(path, "feather1", table.schema, table.num_rows, 1, size)
            else:
                schema, rows, batches = _ipc_metadata(path)
                src = Source(path, fmt, schema, rows, batches, size)
        else:
            src = _resolve_csv(path, size)
    except InputError:
        raise
    except (pa.ArrowException, OSError, ValueError, EOFError) as e:
        raise InputError(f"{path}: cannot read {_FORMAT_NAMES[fmt]} file: {one_line(e)}") from None
    if partitions:
        clash = [k for k, _ in partitions if k in src.schema.names]
        if clash:
            raise InputError(f"{path}: column {clash[0]!r} is both in the file and a partition folder ({clash[0]}=...)")
        schema = src.schema
        for k, _ in partitions:
            schema = schema.append(pa.field(k, pa.string()))
        src = Source(src.path, src.format, schema, src.num_rows, src.row_groups, src.size, partitions=partitions)
    return src


def _read_feather1(path: str, columns: list[str] | None = None) -> pa.Table:
    import pyarrow.feather as feather

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # v1 is deprecated to write, still read
        return feather.read_table(path, columns=columns, memory_map=True)


def _open_ipc(path: str) -> Any:
    try:
        return pa.ipc.open_file(pa.memory_map(path))
    except pa.ArrowInvalid:
        return pa.ipc.open_stream(pa.memory_map(path))


def _ipc_metadata(path: str) -> tuple[pa.Schema, int, int]:
    """Schema, rows and record batches of an Arrow IPC file (memory-mapped: headers only)."""
    reader = _open_ipc(path)
    if hasattr(reader, "num_record_batches"):
        n = reader.num_record_batches
        return reader.schema, sum(reader.get_batch(i).num_rows for i in range(n)), n
    rows = batches = 0
    for batch in reader:
        rows += batch.num_rows
        batches += 1
    return reader.schema, rows, batches


# ------------------------------------------------------------------------------------------- CSV

_JSON_START = re.compile(rb"^\s*(\[\s*[\[{\"\]\-\d]|\[\s*$|\{\s*\")")


def _resolve_csv(path: str, size: int) -> Source:
    compression = "gzip" if path.lower().endswith(".gz") else None
    head = _head(path, compression)
    if compression is None and head[:2] == b"\x1f\x8b":
        compression = "gzip"  # gzip content under a plain .csv name: read it as such
        head = _head(path, compression)
    encoding = sniff_csv(head, path)
    empty = Source(path, "csv", pa.schema([]), 0, 1, size, compression, encoding)
    if not head.strip(b"\r\n\t \xef\xbb\xbf\x00\xff\xfe"):
        return empty  # no bytes, or only blank lines: no header, no rows
    import pyarrow.csv as pacsv

    src = Source(path, "csv", pa.schema([]), None, 1, size, compression, encoding)
    stream, encoding = _stream(src, head)
    read, parse, convert = _csv_options([], {}, encoding=encoding)
    try:
        with _silent_unraisable(), pacsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert) as reader:
            schema = reader.schema
            names = schema.names  # column names are decoded lazily: fail here, not later
    except UnicodeError as e:
        raise InputError(f"{path}: cannot read CSV file: header line is not valid UTF-8 ({one_line(e)}); save the file as UTF-8") from None
    except pa.ArrowInvalid as e:
        msg = str(e)
        if "Empty CSV file" in msg:
            return empty
        if "CSV parse error" in msg:
            _raise_parse_error(src, [], {}, msg)
        raise
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{path}: header names column {dup[0]!r} more than once")
    text = pa.schema([(n, pa.string()) for n in names])
    return Source(path, "csv", text, None, 1, size, compression, src.encoding)


def _head(path: str, compression: str | None, n: int = SNIFF_BYTES) -> bytes:
    import gzip
    import zlib

    try:
        if compression == "gzip":
            with gzip.open(path, "rb") as f:
                return f.read(n)
        with open(path, "rb") as f:
            return f.read(n)
    except (EOFError, OSError, zlib.error) as e:
        raise InputError(f"{path}: cannot read CSV file: {one_line(e)}") from None


def sniff_csv(head: bytes, path: str) -> str:
    """The text encoding of a CSV file from its first bytes, or an error naming what it holds.

    Parameters
    ----------
    head : bytes
        The file's first bytes (decompressed).
    path : str
        For messages.

    Returns
    -------
    str
        ``"utf-8"`` (a byte-order mark is skipped), or a UTF-16/UTF-32
        codec when a byte-order mark or the pattern of NUL bytes says so.

    Raises
    ------
    InputError
        The bytes are a Parquet, Arrow or Feather file, JSON, or binary.

    Examples
    --------
    >>> sniff_csv(b"src,dst\\na,b\\n", "e.csv")
    'utf-8'
    >>> sniff_csv("src,dst\\n".encode("utf-16"), "e.csv")
    'utf-16'
    >>> sniff_csv("src,dst\\n".encode("utf-16-le"), "e.csv")
    'utf-16-le'
    >>> sniff_csv(b'[{"src":"a","dst":"b"}]', "e.csv")
    Traceback (most recent call last):
    ...
    graphlabor.errors.InputError: e.csv: holds JSON, not CSV (a CSV file starts with a header line of column names); write it with to_csv, or convert it
    """
    for magic, what, ext in (
        (b"PAR1", "a Parquet file", ".parquet"),
        (b"ARROW1", "an Arrow IPC file", ".arrow"),
        (b"FEA1", "a Feather v1 file", ".feather"),
        (b"\xff\xff\xff\xff", "an Arrow IPC stream", ".arrow"),
    ):
        if head.startswith(magic):
            raise InputError(f"{path}: holds {what}, not CSV; rename it to {ext}")
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if head.startswith(bom):
            return codec
    if b"\x00" in head:
        even, odd = head[0::2], head[1::2]
        if len(head) >= 4 and odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if len(head) >= 4 and even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
            return "utf-16-be"
        raise InputError(f"{path}: holds binary data (NUL bytes), not CSV text")
    if _JSON_START.match(head.lstrip(b"\xef\xbb\xbf")):
        raise InputError(
            f"{path}: holds JSON, not CSV (a CSV file starts with a header line of column names); "
            "write it with to_csv, or convert it"
        )
    return "utf-8"


def _stream(src: Source, head: bytes) -> tuple[Any, str]:
    """The bytes of a CSV file to parse and their encoding.

    A file without any line break is read from memory with one appended
    (pyarrow reads a lone header line without a line break as an empty file).
    """
    if len(head) < SNIFF_BYTES:
        text = head.decode(src.encoding, errors="surrogateescape")
        if "\n" not in text and "\r" not in text:
            return pa.BufferReader((text + "\n").encode("utf-8", errors="surrogateescape")), "utf-8"
    return pa.input_stream(src.path, compression=src.compression), src.encoding


class _silent_unraisable:
    """Keep pyarrow's "Exception ignored in ..." (an undecodable row in a callback) off stderr."""

    def __enter__(self) -> _silent_unraisable:
        self._hook = sys.unraisablehook
        sys.unraisablehook = lambda unraisable: None
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        sys.unraisablehook = self._hook


def one_line(exc: BaseException | str) -> str:
    """An exception's message as one line of printable text, at most 300 characters.

    >>> one_line(ValueError("bad\\nbyte \\x00 here"))
    'bad byte \\\\x00 here'
    """
    text = " ".join(str(exc).split())
    text = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
    return text[:300] + ("..." if len(text) > 300 else "")


# kept for callers that used the private name
_one_line = one_line


def read_schema(src: Source) -> pa.Schema:
    """The schema of a source (resolved when the source was): column names and types."""
    return src.schema


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
        Columns to read (they must be in ``src.schema``); partition columns
        are filled from the folder names.
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
    CSV is read in the encoding :func:`sniff_csv` found (a byte-order mark
    is skipped), quoted values may span lines, and only empty cells and the
    usual spellings of "missing" (``NA``, ``N/A``, ``NULL``, ``null``,
    ``#N/A``...) are read as null in numeric columns; ``nan`` and ``inf``
    stay numbers, so that the checks can name them. Text columns never hold
    nulls: an empty cell is ``""``.
    """
    columns = list(columns)
    part = dict(src.partitions)
    stored = [c for c in columns if c not in part]
    try:
        if src.format == "parquet":
            import pyarrow.parquet as pq

            read_dictionary = [c for c in dictionary if c in stored] or None
            # ParquetFile, not pq.read_table: that one imports pyarrow.dataset, which imports pandas (0.5 s)
            pf = pq.ParquetFile(src.path, read_dictionary=read_dictionary, pre_buffer=True)
            if src.part is not None:
                table = pf.read_row_groups(list(range(*src.part)), columns=stored)
            else:
                table = pf.read(columns=stored)
        elif src.format == "ipc":
            table = _open_ipc(src.path).read_all().select(stored)
        elif src.format == "feather1":
            table = _read_feather1(src.path, stored)
        elif src.is_empty:
            table = pa.table({c: pa.array([], pa.string()) for c in stored})
        else:
            table = _read_csv(src, stored, dict(csv_types or {}))
    except InputError:
        raise
    except pa.ArrowMemoryError as e:
        from .errors import MemoryBudgetError

        raise MemoryBudgetError(
            f"{src.path}: ran out of memory while reading ({one_line(e)}); "
            "split the edges into several runs (fewer edges per run)"
        ) from None
    except (pa.ArrowException, OSError, ValueError, UnicodeError, EOFError) as e:
        raise InputError(f"{src.path}: cannot read {_FORMAT_NAMES[src.format]} file: {one_line(e)}") from None
    if part:
        n = table.num_rows
        for c in columns:
            if c in part:
                value = part[c]
                if value is None:
                    col = pa.nulls(n, pa.string())
                else:
                    col = pa.DictionaryArray.from_arrays(pa.array(_zeros(n), pa.int32()), pa.array([value]))
                    if c not in dictionary:
                        col = col.cast(pa.string())
                table = table.append_column(c, pa.chunked_array([col]))
        table = table.select(columns)
    return table


def _zeros(n: int) -> Any:
    import numpy as np

    return np.zeros(n, dtype=np.int32)


#: Cells read as null in CSV: pyarrow's defaults without the spellings of NaN.
CSV_NULLS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "1.#IND", "N/A", "NA", "NULL", "n/a", "null"]


def _csv_options(
    columns: Iterable[str],
    types: dict[str, pa.DataType],
    *,
    use_threads: bool = True,
    handler: Callable[[Any], str] | None = None,
    encoding: str = "utf-8",
) -> tuple[Any, Any, Any]:
    import pyarrow.csv as pacsv

    read = pacsv.ReadOptions(use_threads=use_threads, encoding=encoding)
    parse = pacsv.ParseOptions(newlines_in_values=True, invalid_row_handler=handler)
    convert = pacsv.ConvertOptions(
        include_columns=list(columns),
        column_types=types,
        null_values=CSV_NULLS,
        strings_can_be_null=False,
    )
    return read, parse, convert


def _read_csv(src: Source, columns: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    import pyarrow.csv as pacsv

    head = _head(src.path, src.compression)

    def read(types: dict[str, pa.DataType]) -> pa.Table:
        stream, encoding = _stream(src, head)
        r, p, c = _csv_options(columns, types, encoding=encoding)
        with _silent_unraisable():
            return pacsv.read_csv(stream, read_options=r, parse_options=p, convert_options=c)

    try:
        table = read(types)
    except pa.ArrowInvalid as e:
        msg = str(e)
        if "Empty CSV file" in msg:
            return pa.table({c: pa.array([], pa.string()) for c in columns})
        if "CSV parse error" in msg:
            _raise_parse_error(src, columns, types, msg)
        if "invalid UTF8" in msg or "invalid UTF-8" in msg:
            # a column forced to text holds bytes that are not UTF-8: read
            # those columns as bytes to find the first bad value
            table = read({c: (pa.binary() if is_text(t) else t) for c, t in types.items()})
        else:
            raise
    return check_utf8(table, src.path)


def _raise_parse_error(src: Source, columns: list[str], types: dict[str, pa.DataType], msg: str) -> NoReturn:
    """Re-read serially to name the first malformed record, then raise."""
    import pyarrow.csv as pacsv

    bad: list[Any] = []

    def handler(row: Any) -> str:
        bad.append(row)
        return "error"

    stream, encoding = _stream(src, _head(src.path, src.compression))
    read, parse, convert = _csv_options(columns, types, use_threads=False, handler=handler, encoding=encoding)
    try:
        with _silent_unraisable():
            pacsv.read_csv(stream, read_options=read, parse_options=parse, convert_options=convert)
    except (pa.ArrowException, OSError, ValueError, UnicodeError, EOFError):
        pass
    if bad and bad[0].number is not None:
        row = bad[0]
        text = row.text if len(row.text) <= 80 else row.text[:77] + "..."
        raise InputError(
            f"{where(src.path, None, row.number - 2, text)}: expected {row.expected_columns} fields "
            f"(as in the header), found {row.actual_columns}"
        )
    raise InputError(f"{src.path}: cannot read CSV file: {one_line(msg)}")


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
            raise InputError(f"{name}: cannot convert DataFrame to Arrow: {one_line(e)}") from None
    if isinstance(data, dict):
        try:
            return pa.table(data)
        except (pa.ArrowException, ValueError, TypeError) as e:
            raise InputError(f"{name}: cannot convert columns to Arrow: {one_line(e)}") from None
    raise TypeError(
        f"{name}: expected a path, a list of paths, a pyarrow Table or a pandas DataFrame, "
        f"got {type(data).__name__}"
    )
