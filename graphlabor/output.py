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
import socket
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

import pyarrow as pa

from .errors import OutputError
from .validate import is_text

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
    """Fail early, before any work, if ``path`` cannot be written.

    The check is real, not ``os.access`` (which says yes to root on a
    read-only file system or an immutable directory): a temporary file is
    created in the target directory and removed again.

    Raises
    ------
    OutputError
        Unknown extension (for tables), missing directory, a directory at
        ``path``, or a directory where files cannot be created.
    """
    path = os.fspath(path)
    if table:
        output_format(path)
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise OutputError(f"{path}: output directory {d} does not exist")
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".graphlabor-probe.", dir=d)
    except OSError as e:
        raise OutputError(f"{path}: cannot create files in output directory {d}: {e.strerror or e}") from None
    os.close(fd)
    os.unlink(probe)


_TMP_SUFFIX = ".graphlabor-tmp"


def _tmp_prefix(base: str) -> str:
    return f".{base}.{socket.gethostname()}.{os.getpid()}."


def remove_stale_temps(path: str) -> list[str]:
    """Remove temporary files left next to ``path`` by killed runs on this host.

    A run that is killed (SIGKILL, power loss) while writing leaves its
    hidden temporary file ``.<name>.<host>.<pid>.<random>.graphlabor-tmp``
    behind; the target itself is untouched. Such a file is removed here
    when it was made on this host by a process that no longer runs.

    Returns
    -------
    list of str
        The files removed.
    """
    d, base = os.path.split(os.path.abspath(os.fspath(path)))
    head = f".{base}."
    host = socket.gethostname()
    removed: list[str] = []
    try:
        names = os.listdir(d)
    except OSError:
        return removed
    for name in names:
        if not (name.startswith(head) and name.endswith(_TMP_SUFFIX)):
            continue
        middle = name[len(head) : -len(_TMP_SUFFIX)]
        parts = middle.rsplit(".", 2)
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid() or _alive(pid):
            continue
        try:
            os.unlink(os.path.join(d, name))
            removed.append(os.path.join(d, name))
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path next to ``path``; rename it into place on success.

    The temporary file is hidden (``.<name>.<host>.<pid>.<random>.graphlabor-tmp``),
    lives in the target's directory (so the rename never crosses file
    systems), is flushed to disk before the rename, and is removed if the
    body raises (including ``KeyboardInterrupt``). After a SIGKILL it stays
    behind, the target untouched; the next write to the same target removes
    it (:func:`remove_stale_temps`).

    Raises
    ------
    OutputError
        The file cannot be created, written or renamed (disk full, read-only
        file system...).
    """
    path = os.fspath(path)
    check_writable(path, table=False)
    remove_stale_temps(path)
    d, base = os.path.split(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=_tmp_prefix(base), suffix=_TMP_SUFFIX, dir=d)
    except OSError as e:
        raise OutputError(f"{path}: cannot create a file in {d}: {e.strerror or e}") from None
    os.close(fd)
    try:
        try:
            os.chmod(tmp, _mode_for(path))
            yield tmp
            _fsync(tmp)
            os.replace(tmp, path)
        except OSError as e:
            if isinstance(e, OutputError):
                raise
            raise OutputError(f"{path}: cannot write: {e.strerror or ' '.join(str(e).split())}") from None
        except pa.ArrowException as e:
            raise OutputError(f"{path}: cannot write: {' '.join(str(e).split())}") from None
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(d)


def _mode_for(path: str) -> int:
    """Permissions of the new file: those of the file it replaces, else 0o666 minus the umask."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        mask = os.umask(0o022)
        os.umask(mask)
        return 0o666 & ~mask


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(d: str) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _json_value(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _json_column(col: pa.Array) -> list[str]:
    """Encode one column as a list of JSON texts, one per value.

    Integers keep every digit (int64 ids at the type's limits included),
    floats use Python's shortest round-trip form, NaN and infinities become
    ``null``, and text is written as UTF-8 (not ``\\u`` escapes).
    """
    t = col.type
    values = col.to_pylist()
    if pa.types.is_integer(t):
        return ["null" if v is None else str(v) for v in values]
    if pa.types.is_floating(t):
        frepr = float.__repr__
        isfinite = math.isfinite
        return ["null" if v is None or not isfinite(v) else frepr(v) for v in values]
    if is_text(t):
        enc = json.encoder.encode_basestring
        return ["null" if v is None else enc(v) for v in values]
    if pa.types.is_boolean(t):
        return ["null" if v is None else ("true" if v else "false") for v in values]
    return [json.dumps(_json_value(v), ensure_ascii=False, default=str) for v in values]


def _write_json_rows(table: pa.Table, f: TextIO, *, array: bool) -> None:
    names = table.column_names
    # each row: {"name": value, ...}, as json.dumps(dict) writes it
    template = "{" + ", ".join(json.encoder.encode_basestring(k).replace("%", "%%") + ": %s" for k in names) + "}"
    fill = template.__mod__
    if array:
        f.write("[")
    first = True
    for batch in table.to_batches(max_chunksize=65536):
        if batch.num_rows == 0:
            continue
        cols = [_json_column(c) for c in batch.columns]
        rows = map(fill, zip(*cols)) if names else ("{}" for _ in range(batch.num_rows))
        if array:
            f.write(("\n" if first else ",\n") + ",\n".join(rows))
        else:
            f.write("\n".join(rows) + "\n")
        first = False
    if array:
        f.write("\n]\n" if not first else "]\n")


def write_table(table: pa.Table, path: str) -> None:
    """Write ``table`` to ``path`` atomically, in the format its extension names.

    Parquet and CSV are written by pyarrow (CSV: a header line, text quoted,
    nulls as empty fields); JSON is an array of one object per row and JSON
    Lines one object per line, with exact integers and ``null`` for missing,
    NaN or infinite values.
    """
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
                _write_json_rows(table, f, array=fmt == "json")


def write_json(obj: Any, path: str) -> None:
    """Write a JSON document atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")


def is_dataset_path(path: str | os.PathLike[str]) -> bool:
    """True for an output that is a directory: a path ending in a slash, or an existing directory.

    >>> is_dataset_path("out/"), is_dataset_path("out.parquet")
    (True, False)
    """
    p = os.fspath(path)
    return p.endswith(("/", os.sep)) or os.path.isdir(p)


def check_dataset_writable(path: str | os.PathLike[str]) -> None:
    """Fail early if a Parquet dataset cannot be written at directory ``path``."""
    p = os.fspath(path).rstrip("/" + os.sep) or os.sep
    if os.path.exists(p) and not os.path.isdir(p):
        raise OutputError(f"{path}: exists and is not a directory")
    ext = os.path.splitext(p)[1].lower()
    if FORMATS.get(ext, "parquet") != "parquet":
        raise OutputError(
            f"{path}: is a directory, and a directory output is a Parquet dataset, not {ext}; "
            f"name a {ext} file, or a directory without the {ext} extension"
        )
    if os.path.isdir(p):
        stray = [f for f in os.listdir(p) if not (f.startswith("part-") and f.endswith(".parquet"))]
        if stray:
            raise OutputError(f"{path}: directory holds other files ({stray[0]}...); give a new or empty directory, or a graphlabor dataset")
    check_writable(os.path.join(p, "part-00000.parquet"), table=True) if os.path.isdir(p) else check_writable(p + ".parquet")


def write_part(table: pa.Table, path: str) -> str:
    """Write one file of a dataset (Parquet) and flush it to disk; returns ``path``."""
    import pyarrow.parquet as pq

    pq.write_table(table, path)
    _fsync(path)
    return path


def write_dataset(table: pa.Table, path: str | os.PathLike[str], bounds: Sequence[int] | None = None,
                  writer: Callable[[list[tuple[pa.Table, str]]], None] | None = None) -> list[str]:
    """Write ``table`` as a Parquet dataset: one file per row range, atomically.

    The files (``part-00000.parquet``...) are written in a hidden temporary
    directory next to ``path`` and the directory is renamed into place once
    all are complete; a dataset already at ``path`` is replaced. On failure or
    interruption nothing is left at ``path`` that was not there before.

    Parameters
    ----------
    table : pyarrow.Table
    path : directory to write
    bounds : sequence of int, optional
        Row bounds of the files (default one file).
    writer : callable, optional
        Writes every ``(slice, file path)`` it is given with
        :func:`write_part` (the Dask engine's writes them on its workers);
        default here, one after the other.

    Returns
    -------
    list of str
        The file names, in row order.
    """
    import shutil

    check_dataset_writable(path)
    p = os.fspath(path).rstrip("/" + os.sep)
    d, base = os.path.split(os.path.abspath(p))
    bounds = list(bounds) if bounds is not None else [0, table.num_rows]
    tmp = tempfile.mkdtemp(prefix=_tmp_prefix(base), suffix=_TMP_SUFFIX, dir=d)
    names = []
    try:
        try:
            names = [f"part-{i:05d}.parquet" for i in range(len(bounds) - 1)]
            parts = [(table.slice(a, b - a), os.path.join(tmp, name)) for (a, b), name in zip(zip(bounds[:-1], bounds[1:]), names)]
            if writer is None:
                for t, f in parts:
                    write_part(t, f)
            else:
                writer(parts)
            if os.path.isdir(p):
                old = tempfile.mkdtemp(prefix=_tmp_prefix(base), suffix=_TMP_SUFFIX, dir=d)
                os.replace(p, os.path.join(old, "old"))
                os.replace(tmp, p)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, p)
        except OSError as e:
            raise OutputError(f"{path}: cannot write: {e.strerror or ' '.join(str(e).split())}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(d)
    return names
