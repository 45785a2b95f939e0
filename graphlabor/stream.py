"""Streamed ingestion: Parquet row groups through read -> validate -> encode -> classify, two at a time.

The whole-table path (:func:`graphlabor.edges.load_edges`, then
:func:`graphlabor.encode.encode_ids`, then :func:`graphlabor.classify.classify`)
holds every column of every row at once. Here each row group goes through
the same stage functions on its own, on a pool of threads (pyarrow's reads
and compute functions and graphlabor's Numba kernels release the GIL, so two
row groups are worked on at once on two cores):

1. read the columns the run uses (text columns dictionary-encoded);
2. check them (:func:`graphlabor.edges._normalize`, the checks of the whole-table path);
3. number the row group's ids among its own distinct values, unsorted, and
   its kinds (:func:`graphlabor.dictarrays.sorted_codes`: local codes);
4. classify its edges on those local codes (:func:`graphlabor.classify.classify`),
   keeping only compact arrays (codes, kinds, weights; amounts of revenue and pay rows).

Its Arrow buffers are then freed. Once every row group is in, the local id
dictionaries (and the nodes file's ids) are merged into the global
sorted dictionary, the very one the whole-table path builds (codes are ranks
among the distinct ids, which depend on the set of ids only), each row
group's local codes are replaced by global codes with one gather, and the
role evidence flags are OR-ed. The pieces are put together in row-group
order whatever order the threads finished in, so the result is
bit-identical to the whole-table path's for any thread count.

A context column (integers or text) goes the same way: each row group's
context ids get local codes while it is read
(:func:`graphlabor.contexts.local_contexts`: integers their offset from the
row group's smallest, text a local dictionary), carried with each class
of edges, and are ranked in the global sorted dictionary once every row
group is in (:func:`graphlabor.contexts.merge_local`), the very codes
:func:`graphlabor.contexts.encode_contexts` gives on the whole column.

Where it applies: every source a Parquet file (no partition folders) whose
id columns hold text, ids not forced to integers, the context column (when
read) of one type in every source (text, one integer type, or whole-number
floats), and when timestamps are read, one timestamp type in every source
(the other inputs take the whole-table path). A row group
that fails a check stops the stream and the run falls back to the
whole-table path, so the message (file, column, row in the file, value) is
exactly the whole-table path's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from . import readers
from .classify import Classified, classify, kind_table
from .contexts import LocalContexts, local_contexts, merge_local
from .dictarrays import sorted_codes
from .edges import EdgeTable, KindClasses, _empty_edges, _normalize, match_columns
from .errors import InputError, MemoryBudgetError
from .kernels import INDEX_DTYPE
from .kernels.classify import or_at, to_global
from .kernels.contexts import remap_codes
from .node_index import NodeIndex, _check_size
from .prepare import EdgeArrays
from .timeaxis import to_epoch_seconds
from .validate import is_text

__all__ = ["Merged", "Plan", "merge", "pieces", "plan"]

#: Threads working on row groups (each holds at most ``WINDOW`` row groups in flight).
THREADS = 2
WINDOW = 2


@dataclass
class _Task:
    """One row group to read: its source (restricted to the group), columns and first row in the whole input."""

    source: readers.Source
    cols: dict[str, str]
    text: list[str]
    row_offset: int


@dataclass
class Plan:
    """The row groups to stream (with rows, in input order) and which column plays which part."""

    tasks: list[_Task]
    columns: dict[str, str]


@dataclass
class _Piece:
    """One row group's result, in local codes."""

    ids: pa.Array
    kinds: list[str]
    part: Classified
    contexts: LocalContexts | None = None
    dropped: np.ndarray | None = None  # context codes of the self-loops classify dropped


def plan(sources: Sequence[readers.Source], *, src_col: str | None = None, dst_col: str | None = None,
         id_type: str | None = None, need_time: bool = False, context_col: str | None = None) -> Plan | None:
    """The row groups to stream, in input order, or None when the input takes the whole-table path."""
    if id_type not in (None, "text", "str"):
        return None
    tasks: list[_Task] = []
    columns: dict[str, list[str]] = {}
    roles: set[str] | None = None
    stamp: pa.DataType | None = None
    context: str | None = None
    offset = 0
    for src in sources:
        if src.format != "parquet" or src.partitions or src.part is not None or len(src.schema) == 0:
            return None
        try:
            cols = match_columns(src.schema.names, src.name, src_col, dst_col, need_time, context_col)
        except InputError:
            return None  # the whole-table path names the problem
        if context_col not in (None, "context") and context_col not in cols.values():
            return None  # the whole-table path says the named column is missing
        if "context" in cols:  # one type of context ids in every source (else the whole-table path unifies them)
            typ = _context_type(src.schema.field(cols["context"]).type)
            if typ is None or context not in (None, typ):
                return None
            context = typ
        if need_time:  # one timestamp type in every source (the whole-table path would promote them to one)
            if "timestamp" not in cols or stamp not in (None, src.schema.field(cols["timestamp"]).type):
                return None
            stamp = src.schema.field(cols["timestamp"]).type
        if not all(is_text(src.schema.field(cols[r]).type, dictionary=True) for r in ("src", "dst")):
            return None
        if roles is not None and set(cols) != roles:
            return None  # sources differ in their columns: the whole-table path says so
        roles = set(cols)
        text = [c for c in dict.fromkeys((cols["src"], cols["dst"], cols.get("kind"), cols.get("context")))
                if c is not None and is_text(src.schema.field(c).type, dictionary=True)]
        groups = _row_group_rows(src)
        if groups is None:
            return None
        for role, name in cols.items():
            if name not in columns.setdefault(role, []):
                columns[role].append(name)
        for g, n in enumerate(groups):
            if n:
                tasks.append(_Task(src.row_group_part(g, g + 1), cols, text, offset))
            offset += n
    return Plan(tasks, {r: "/".join(v) for r, v in columns.items()}) if tasks else None


def _context_type(typ: pa.DataType) -> str | None:
    """What a context column becomes once checked: ``"text"``, an integer type's name, or None (not streamed)."""
    if is_text(typ, dictionary=True):
        return "text"
    if pa.types.is_integer(typ):
        return str(typ)
    if pa.types.is_floating(typ):
        return "int64"  # whole numbers (pandas' integers with nulls), checked and cast row group by row group
    return None


def _row_group_rows(src: readers.Source) -> list[int] | None:
    """Rows of each row group of a Parquet source (from its footer)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(src.path).metadata
    except (pa.ArrowException, OSError):
        return None
    return [meta.row_group(g).num_rows for g in range(meta.num_row_groups)]


def _one(task: _Task, kinds: KindClasses, kind_weights: Mapping[str, float], self_loops: str) -> _Piece:
    """Read, check, encode (locally) and classify one row group."""
    raw = readers.read_table(task.source, list(task.cols.values()), dictionary=task.text)
    table = _normalize(raw, task.source.name, task.cols, kinds)
    del raw
    ids, (s, d) = sorted_codes([table["src"], table["dst"]], INDEX_DTYPE, sort=False)  # merge() sorts once
    knames, (k,) = sorted_codes([table["kind"]], np.uint16)
    names = knames.to_pylist()
    class_of_kind, weight_of_kind = kind_table(names, kinds, dict(kind_weights))
    weight = table["weight"].to_numpy()
    seconds = None
    if "timestamp" in table.column_names:
        if table["timestamp"].null_count:
            raise InputError("missing timestamp")  # (the whole-table path words it, with the row)
        seconds = to_epoch_seconds(table["timestamp"], task.source.name, lambda r: (task.source.name, r))
    local = codes = dropped = None
    if "context" in table.column_names:
        local, codes = local_contexts(table["context"])
    part = classify(s, d, k, class_of_kind, weight, weight_of_kind, table["amount"], len(ids), seconds,
                    row_offset=task.row_offset, context=codes, self_loops=self_loops)
    if codes is not None and part.self_loops and self_loops == "drop":
        dropped = codes[(s == d) & (codes >= 0)]  # their contexts are ids of the column all the same
    return _Piece(ids, names, part, local, dropped)


def _pieces(tasks: Sequence[_Task], kinds: KindClasses, kind_weights: Mapping[str, float], self_loops: str,
            threads: int, order: Sequence[int] | None) -> list[_Piece]:
    """Every row group's piece, in input order, worked on by ``threads`` threads (in ``order`` when given)."""
    n = len(tasks)
    todo = list(order) if order is not None else list(range(n))
    out: list[_Piece | None] = [None] * n
    if threads <= 1:
        for i in todo:
            out[i] = _one(tasks[i], kinds, kind_weights, self_loops)
    else:
        with ThreadPoolExecutor(threads) as pool:
            running: deque[tuple[int, Future[_Piece]]] = deque()
            try:
                for i in todo:
                    running.append((i, pool.submit(_one, tasks[i], kinds, kind_weights, self_loops)))
                    if len(running) >= threads * WINDOW:  # a bounded number of row groups in memory
                        j, f = running.popleft()
                        out[j] = f.result()
                while running:
                    j, f = running.popleft()
                    out[j] = f.result()
            finally:
                for _, f in running:
                    f.cancel()
    assert all(p is not None for p in out)
    return [p for p in out if p is not None]


def pieces(work: Plan, *, kinds: KindClasses | None = None, kind_weights: Mapping[str, float] | None = None,
           self_loops: str = "drop", threads: int = THREADS, order: Sequence[int] | None = None) -> list[_Piece] | None:
    """Read, check, encode and classify every row group of ``work`` in local codes; None when one fails a check.

    Parameters
    ----------
    work : Plan
        From :func:`plan`.
    threads : int, default 2
    order : sequence of int, optional
        The order row groups are worked on (the result does not depend on it).

    Returns
    -------
    list of pieces (in input order) or None
        None: some row group failed a check; the caller runs the whole-table
        path, whose message names the file, column, row and value.
    """
    try:
        return _pieces(work.tasks, kinds or KindClasses(), kind_weights or {}, self_loops, threads, order)
    except MemoryBudgetError:
        raise
    except (InputError, OverflowError):
        return None


@dataclass
class Merged:
    """The row groups' pieces with the global dictionaries of ids and kinds (:func:`merge`).

    Attributes
    ----------
    edges : EdgeTable
        Origins, columns used and the id type (its ``table`` is empty: the
        rows were never held as one table).
    index : NodeIndex
    node_codes : ndarray of uint32 or None
        Code of each nodes-file row.
    kind_names : list of str
    num_rows : int
    """

    edges: EdgeTable
    index: NodeIndex
    node_codes: np.ndarray | None
    kind_names: list[str]
    num_rows: int
    _pieces: list[_Piece]
    _maps: list[np.ndarray]
    _kmaps: list[np.ndarray]
    _cmaps: list[tuple[np.ndarray, int]] | None = None

    def contexts(self, source: str = "edges", name: str = "context") -> pa.Array | None:
        """The global sorted context ids (None without a context column), as :func:`graphlabor.contexts.encode_contexts` gives on all rows.

        Call before :meth:`classify`, which then gives every edge its global context code.
        """
        if not self._pieces or self._pieces[0].contexts is None:
            return None
        local: list[LocalContexts] = []
        codes: list[list[np.ndarray]] = []
        for p in self._pieces:
            assert p.contexts is not None
            local.append(p.contexts)
            cs = [getattr(p.part, cls).context for cls in ("contribution", "revenue", "pay")]
            codes.append([c for c in cs if c is not None] + ([] if p.dropped is None else [p.dropped]))
            p.dropped = None
        values, self._cmaps = merge_local(local, codes, source, name)
        return values

    def classify(self, threads: int = THREADS) -> Classified:
        """The classification of all rows in global codes, as :func:`graphlabor.classify.classify` on the whole table.

        Each piece's arrays of each class are copied to their rows of the
        output by one pass of :func:`graphlabor.kernels.classify.to_global`
        (local codes made global), ``threads`` pieces at a time
        (:func:`to_global_codes`): each output row is written once, whatever
        the order, so the result does not depend on the thread count. The
        role flags are OR-ed piece after piece on one of the threads. Each
        piece's arrays are dropped once copied.
        """
        parts = [p.part for p in self._pieces]
        self._pieces = []
        outs, evidence = to_global_codes(parts, self._maps, self._kmaps, len(self.index), threads, cmaps=self._cmaps)
        return Classified(
            outs["contribution"], outs["revenue"], outs["pay"],
            np.concatenate([c.revenue_rows for c in parts]), np.concatenate([c.pay_rows for c in parts]),
            evidence, sum(c.self_loops for c in parts),
        )


_CLASSES = ("contribution", "revenue", "pay")


def to_global_codes(parts: list[Classified], maps: list[np.ndarray], kmaps: list[np.ndarray], n: int, threads: int = THREADS,
                    free: bool = True, cmaps: list[tuple[np.ndarray, int]] | None = None
                    ) -> tuple[dict[str, EdgeArrays], np.ndarray]:
    """Each class's edges of every piece, in global codes and row order, and the role flags of the ``n`` nodes.

    ``maps[i]`` (``kmaps[i]``) gives the global code of each local node (kind)
    code of piece ``i``, ``cmaps[i]`` the table and shift of its context codes
    (:func:`graphlabor.kernels.contexts.remap_codes`; None: no contexts). With
    ``free``, each piece's arrays are dropped once copied (the pieces' class
    attributes become None).
    """
    evidence = np.zeros(n, np.uint8)
    outs = {cls: _empty_class(parts, cls, cmaps is not None) for cls in _CLASSES}
    jobs = []
    for cls in _CLASSES:
        a = 0
        for i, (c, mp, kmp) in enumerate(zip(parts, maps, kmaps)):
            jobs.append((c, cls, mp, kmp, None if cmaps is None else cmaps[i], a))
            a += len(getattr(c, cls))

    def flags() -> None:
        for c, mp in zip(parts, maps):
            or_at(evidence, mp, c.evidence)  # pieces share ids: one piece at a time

    def copy(job: tuple[Classified, str, np.ndarray, np.ndarray, tuple[np.ndarray, int] | None, int]) -> None:
        c, cls, mp, kmp, cmap, start = job
        p, o = getattr(c, cls), outs[cls]
        to_global(mp, kmp, (p.src, p.dst, p.kind, p.value, p.seconds), (o.src, o.dst, o.kind, o.value, o.seconds), start)
        if cmap is not None and len(p):
            assert p.context is not None and o.context is not None
            remap_codes(p.context, cmap[0], cmap[1], o.context[start:start + len(p)])
        if free:
            setattr(c, cls, None)  # free the piece's arrays as soon as they are copied

    if threads <= 1:
        flags()
        for job in jobs:
            copy(job)
    else:
        with ThreadPoolExecutor(threads) as pool:
            done = pool.submit(flags)
            for _ in pool.map(copy, jobs):
                pass
            done.result()
    return outs, evidence


def _empty_class(parts: list[Classified], cls: str, contexts: bool) -> EdgeArrays:
    """Uninitialized arrays for one class's edges of every piece."""
    m = sum(len(getattr(c, cls)) for c in parts)
    timed = bool(parts) and getattr(parts[0], cls).seconds is not None
    return EdgeArrays(_empty(m, INDEX_DTYPE), _empty(m, INDEX_DTYPE), _empty(m, np.uint16), _empty(m, np.float64),
                      _empty(m, np.int64) if timed else None, context=_empty(m, np.int32) if contexts else None)


def _empty(m: int, dtype: type) -> np.ndarray:
    return np.empty(m, dtype)


def merge(sources: Sequence[readers.Source], work: Plan, parts: list[_Piece],
          node_ids: pa.ChunkedArray | None = None) -> Merged:
    """The global sorted dictionaries of ids (with the nodes file's) and kinds, and each piece's map to them.

    Codes are ranks among the distinct ids, as :func:`graphlabor.encode.encode_ids`
    gives on the whole table: the local dictionaries hold exactly the ids
    some row uses, so their union is the whole table's set of ids.
    """
    cols = [p.ids for p in parts]
    if node_ids is not None:
        cols.append(node_ids)
    values, maps = sorted_codes(cols, INDEX_DTYPE)
    _check_size(len(values))
    node_codes = maps.pop() if node_ids is not None else None
    knames, kmaps = sorted_codes([pa.array(p.kinds, pa.string()) for p in parts], np.uint16)
    origins = [(s.name, int(s.num_rows or 0)) for s in sources]
    et = EdgeTable(_empty_edges("str"), "str", origins, dict(work.columns))
    return Merged(et, NodeIndex(values), node_codes, knames.to_pylist(), sum(n for _, n in origins),
                  parts, maps, kmaps)
