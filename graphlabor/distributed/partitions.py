"""Per-partition stages: read, validate, encode, classify, decay.

A partition is one input file (or one slice of an in-memory table). Every
function here runs on a worker, on one partition, and calls the stage
functions the local engine chains (:func:`graphlabor.edges.load_edges`,
:func:`graphlabor.encode.encode_ids`, :func:`graphlabor.encode.encode_kinds`,
:func:`graphlabor.encode.epoch_seconds`, :func:`graphlabor.classify.classify`,
:func:`graphlabor.decay.decay`), so errors name the same file, column, row and
value, and every array holds the same numbers.

Codes are first local to the partition (indices in its own distinct ids:
text ids in the order first met, integers sorted); the global id dictionary
is the sorted union of the partitions' distinct ids, built by key ranges for
text ids and by a pairwise reduction (:func:`merge_ids_mapped`) for integers
(:mod:`graphlabor.distributed.dictionary`), which tell each partition where
its ids are; it then maps its local codes to global ones (:func:`globalize`).
The global codes are the ranks in sorted order, exactly as
:func:`graphlabor.node_index.encode` numbers them on one machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .._types import PathLike
from ..classify import Classified, classify
from ..contexts import encode_contexts, merge_contexts
from ..decay import decay, newest_per_sender
from ..dictarrays import sorted_codes
from ..edges import KindClasses, load_edges
from ..encode import encode_ids, encode_kinds, epoch_seconds
from ..errors import InputError
from ..kernels import INDEX_DTYPE, MAX_NODES
from ..validate import is_text

if TYPE_CHECKING:
    from ..readers import Source


@dataclass
class LocalPart:
    """One partition after reading and local encoding (no strings but its distinct ids).

    Attributes
    ----------
    name : str
        The file (or ``<edges>``) the rows come from.
    rows : int
    id_type : {"int", "str"}
    ids : pyarrow.Array
        The partition's distinct node ids: integers sorted, text in the order first met.
    src, dst : ndarray of uint32
        Codes local to the partition (indices in ``ids``), then global ones.
    kind_names : list of str
        The partition's distinct kinds, sorted (then the global ones).
    kind : ndarray of uint16
    weight : ndarray of float64
    amount : pyarrow.ChunkedArray of float64
    seconds : ndarray of int64 or None
        Epoch seconds, when a time option needs them.
    contexts : pyarrow.Array or None
        With a context column: the partition's distinct context ids, sorted
        (:func:`graphlabor.contexts.encode_contexts`), then the global ones.
    context : ndarray of int32 or None
        Each row's context code (``-1`` for none), local then global.
    """

    name: str
    rows: int
    id_type: str
    ids: pa.Array
    src: np.ndarray
    dst: np.ndarray
    kind_names: list[str]
    kind: np.ndarray
    weight: np.ndarray
    amount: pa.ChunkedArray
    seconds: np.ndarray | None = None
    contexts: pa.Array | None = None
    context: np.ndarray | None = None


#: Row groups of a Parquet file are taken together into partitions of about this many rows
#: (a partition costs its worker about 100-150 bytes a row while it is read and encoded).
PARTITION_ROWS = 1_000_000

#: A partition of the input files: a whole file, or ``(Parquet file, first row group, end row group)``.
Partition: TypeAlias = "Source | str | tuple[Source | str, int, int]"


def plan(paths: PathLike | Sequence[PathLike], partition_rows: int | None = None) -> list[Partition]:
    """Partitions of the input files: a whole file, or a run of a Parquet file's row groups.

    Returns a list of file paths and ``(path, first row group, end row group)``
    tuples, in input order.
    """
    import pyarrow.parquet as pq

    from .. import readers

    partition_rows = partition_rows or PARTITION_ROWS
    out: list[Partition] = []
    for src in readers.resolve(paths):
        if src.format != "parquet":
            out.append(src)
            continue
        try:
            meta = pq.ParquetFile(src.path).metadata
        except (pa.ArrowException, OSError) as e:
            raise InputError(f"{src.path}: cannot read Parquet file: {' '.join(str(e).split())}") from None
        sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        if len(sizes) <= 1 or sum(sizes) <= partition_rows:
            out.append(src)
            continue
        first, rows = 0, 0
        for g, r in enumerate(sizes):
            rows += r
            if rows >= partition_rows or g == len(sizes) - 1:
                out.append((src, first, g + 1))
                first, rows = g + 1, 0
    return out


def _read_row_groups(src: Source | str, groups: range, kinds: KindClasses, src_col: str | None, dst_col: str | None,
                     need_time: bool, id_type: str | None = None,
                     context_col: str | None = None) -> tuple[pa.Table, str, str]:
    """Read and validate row groups of a Parquet source as the local engine reads a file (:mod:`graphlabor.edges`)."""
    from .. import readers

    if not isinstance(src, readers.Source):
        src = readers.resolve(src)[0]
    part = src.row_group_part(groups[0], groups[-1] + 1)
    try:
        et = load_edges([part], src_col=src_col, dst_col=dst_col, kinds=kinds, need_time=need_time, id_type=id_type,
                        context_col=context_col)
    except InputError:
        if len(groups) == 1:
            raise
        for g in groups:  # name the row group (and the row in it) that fails
            _read_row_groups(src, range(g, g + 1), kinds, src_col, dst_col, need_time, id_type, context_col)
        raise
    return et.table, part.name, et.id_type


def read_partition(source: Partition | pa.Table, kinds: KindClasses, src_col: str | None = None,
                   dst_col: str | None = None, need_time: bool = False, id_type: str | None = None,
                   context_col: str | None = None) -> LocalPart:
    """Read and validate one partition, encode its ids and kinds locally.

    ``source`` is a file path, a ``(Parquet file, first row group, end row
    group)`` tuple (see :func:`plan`), or an in-memory table already
    validated by the client (:func:`graphlabor.edges.load_edges` on the
    whole table). ``id_type`` forces the ids' type (``--id-type``); without
    it the partition's ids get their own type, and a run whose partitions
    disagree makes the integer ones text (:func:`as_text`), as
    :func:`graphlabor.edges.load_edges` does across files. ``context_col``
    names the context column (read when present); its ids are encoded
    locally (:func:`graphlabor.contexts.encode_contexts`), then mapped to the
    global dictionary (:func:`merge_context_ids`, :func:`globalize_contexts`).
    """
    if isinstance(source, tuple):
        path, a, b = source
        table, name, id_type = _read_row_groups(path, range(a, b), kinds, src_col, dst_col, need_time, id_type,
                                                context_col)
        origins = [(name, table.num_rows)]
    elif isinstance(source, pa.Table):
        table, name = source, "<edges>"
        id_type = "int" if pa.types.is_integer(source["src"].type) else "str"
        origins = [(name, table.num_rows)]
    else:
        et = load_edges([source], src_col=src_col, dst_col=dst_col, kinds=kinds, need_time=need_time, id_type=id_type,
                        context_col=context_col)
        table, name, id_type, origins = et.table, et.origins[0][0], et.id_type, et.origins
    if is_text(table["src"].type, dictionary=True):
        # text: numbered in first-met order (no sort per partition); the dictionary's key ranges sort each id once
        ids, (src, dst) = sorted_codes([table["src"], table["dst"]], INDEX_DTYPE, sort=False)
    else:
        index, src, dst, _ = encode_ids(table["src"], table["dst"])
        ids = index.ids
    kind_names, kind = encode_kinds(table["kind"])
    weight = table["weight"].to_numpy() if table.num_rows else np.empty(0)
    seconds = None
    if need_time:
        if "timestamp" not in table.column_names:
            raise InputError(f"{name}: no 'timestamp' column, which half_life and period need", param=("half_life", "period"))
        seconds = epoch_seconds(table["timestamp"], name, lambda r: (origins[0][0], r))
    contexts = context = None
    if "context" in table.column_names:
        contexts, context = encode_contexts(table["context"], name, context_col or "context")
    return LocalPart(name, table.num_rows, id_type, ids, src, dst, kind_names, kind, weight, table["amount"], seconds,
                     contexts, context)


def as_text(part: LocalPart) -> LocalPart:
    """A partition of integer ids in a run whose ids are text: each id becomes its decimal text.

    The local codes are re-ranked in the text order (what one machine does
    when it reads files whose ids differ in type).

    >>> import numpy as np, pyarrow as pa
    >>> p = LocalPart("f", 2, "int", pa.array([2, 10]), np.array([0, 1], np.uint32), np.array([1, 1], np.uint32),
    ...               [], np.zeros(2, np.uint16), np.ones(2), pa.chunked_array([[None, None]], pa.float64()))
    >>> t = as_text(p)
    >>> t.ids.to_pylist(), t.src.tolist(), t.dst.tolist(), t.id_type
    (['10', '2'], [1, 0], [0, 0], 'str')
    """
    from dataclasses import replace

    text = part.ids.cast(pa.string())
    order = pc.sort_indices(text).to_numpy()
    rank = np.empty(order.shape[0], dtype=INDEX_DTYPE)
    rank[order] = np.arange(order.shape[0], dtype=INDEX_DTYPE)
    return replace(part, id_type="str", ids=text.take(pa.array(order)), src=rank[part.src], dst=rank[part.dst])


#: Ids of each partition the client gets with its header, to place the dictionary's key ranges.
ID_SAMPLE = 256


def part_header(part: LocalPart) -> tuple[str, int, str, list[str], pa.Array, bool]:
    """What the client needs of a partition: name, rows, id type, kinds, a sample of its ids, whether it has contexts.

    The sample (up to :data:`ID_SAMPLE` ids, evenly spaced in the
    partition's order) places the bounds of the id dictionary's key ranges
    (:func:`graphlabor.distributed.dictionary.ranged_dictionary`).
    """
    from .dictionary import id_sample

    return part.name, part.rows, part.id_type, part.kind_names, id_sample(part.ids, ID_SAMPLE), part.contexts is not None


def distinct_ids(part: LocalPart) -> pa.Array:
    return part.ids


def _text_type(a: pa.Array, b: pa.Array) -> pa.DataType:
    return pa.large_string() if pa.types.is_large_string(a.type) or pa.types.is_large_string(b.type) else pa.string()


def merge_ids(a: pa.Array, b: pa.Array) -> pa.Array:
    """Sorted union of two sorted distinct id arrays (one step of the dictionary reduction).

    >>> import pyarrow as pa
    >>> merge_ids(pa.array(["a", "c"]), pa.array(["b", "c"])).to_pylist()
    ['a', 'b', 'c']
    >>> merge_ids(pa.array([3, 9]), pa.array([1, 3])).to_pylist()
    [1, 3, 9]
    """
    if len(a) == 0:
        return b
    if len(b) == 0:
        return a
    if pa.types.is_integer(a.type):
        return pa.array(np.union1d(a.to_numpy(), b.to_numpy()).astype(np.int64), pa.int64())
    from ..kernels.textmerge import sorted_union

    t = _text_type(a, b)
    a, b = a.cast(t), b.cast(t)
    both = pa.concat_arrays([a, b])
    if a.null_count or b.null_count:
        u = pc.unique(both)
        return u.take(pc.sort_indices(u))
    # one merge walk over the two sorted inputs (no hash, no sort)
    return both.take(pa.array(sorted_union(*_text_layout(a), *_text_layout(b))))


def merge_ids_mapped(a: pa.Array, b: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """:func:`merge_ids`, and where each value of ``a`` and of ``b`` is in the union (uint32 indices).

    One merge walk for text ids (:func:`graphlabor.kernels.textmerge.sorted_union_maps`);
    the maps of a tree of merges compose into each partition's global codes
    (:mod:`graphlabor.distributed.dictionary`).

    >>> import pyarrow as pa
    >>> u, in_a, in_b = merge_ids_mapped(pa.array(["a", "c"]), pa.array(["b", "c"]))
    >>> u.to_pylist(), in_a.tolist(), in_b.tolist()
    (['a', 'b', 'c'], [0, 2], [1, 2])
    >>> u, in_a, in_b = merge_ids_mapped(pa.array([3, 9]), pa.array([1, 3]))
    >>> u.to_pylist(), in_a.tolist(), in_b.tolist()
    ([1, 3, 9], [1, 2], [0, 1])
    """
    if len(a) and len(b) and not pa.types.is_integer(a.type) and not (a.null_count or b.null_count):
        from ..kernels.textmerge import sorted_union_maps

        t = _text_type(a, b)
        a, b = a.cast(t), b.cast(t)
        take, in_a, in_b = sorted_union_maps(*_text_layout(a), *_text_layout(b))
        return pa.concat_arrays([a, b]).take(pa.array(take)), in_a, in_b
    u = merge_ids(a, b)
    return u, _positions(a, u), _positions(b, u)


def union_maps(merged: tuple[pa.Array, np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The two maps of a :func:`merge_ids_mapped` result (without its union)."""
    return merged[1], merged[2]


def positions_in_union(maps: tuple[np.ndarray, np.ndarray], side: int, parent: np.ndarray | None) -> np.ndarray:
    """Where one input of a merge is in the final union: its map, through the merge's own positions (``parent``).

    ``parent`` None: the merge's union is the final one.

    >>> import numpy as np
    >>> positions_in_union((np.array([0, 2], np.uint32), np.array([1, 2], np.uint32)), 1, np.array([0, 2, 4], np.uint32)).tolist()
    [2, 4]
    """
    pos: np.ndarray = maps[side]
    if parent is None:
        return pos
    out: np.ndarray = parent[pos]
    return out


def _positions(sub: pa.Array, ids: pa.Array) -> np.ndarray:
    """Index in ``ids`` of each value of ``sub`` (both sorted and distinct, ``sub`` within ``ids``), uint32."""
    if len(sub) == 0:
        return np.empty(0, np.uint32)
    if pa.types.is_integer(ids.type):
        where: np.ndarray = np.searchsorted(ids.to_numpy(), sub.to_numpy())
    else:
        where = _text_positions(sub.cast(ids.type), ids)
    return where.astype(INDEX_DTYPE)


def check_dictionary(ids: pa.Array) -> pa.Array:
    if len(ids) > MAX_NODES:
        raise InputError(f"{len(ids)} distinct node ids: more than the {MAX_NODES} graphlabor supports")
    return ids


def _text_layout(a: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (int64, rebased to 0) and data bytes of a text array without nulls."""
    wide = pa.types.is_large_string(a.type)
    off = np.frombuffer(a.buffers()[1], np.int64 if wide else np.int32)[a.offset:a.offset + len(a) + 1].astype(np.int64)
    data = a.buffers()[2]
    raw = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    return off - off[0], raw[off[0]:off[-1]]


def _text_positions(sub: pa.Array, ids: pa.Array) -> np.ndarray:
    """Index in ``ids`` of each value of ``sub`` (both sorted byte-wise and distinct, ``sub`` within ``ids``).

    One merge walk (:func:`graphlabor.kernels.textmerge.sorted_positions`),
    not a hash of the whole dictionary for every partition.

    >>> _text_positions(pa.array(["b", "d"]), pa.array(["a", "b", "c", "d"])).tolist()
    [1, 3]
    """
    from ..kernels.textmerge import sorted_positions

    if sub.null_count == 0 and ids.null_count == 0:
        where = sorted_positions(*_text_layout(sub), *_text_layout(ids))
        if where is not None:
            return where
    out: np.ndarray = pc.index_in(sub, value_set=ids).to_numpy(zero_copy_only=False)
    return out


def globalize(part: LocalPart, ids: pa.Array, kind_names: list[str], where: np.ndarray | None = None) -> LocalPart:
    """Replace the partition's local codes by global ones (ranks in the global dictionary).

    ``where`` is the index in ``ids`` of each of the partition's distinct ids
    when known (:func:`graphlabor.distributed.dictionary.mapped_dictionary`);
    without it they are looked up.
    """
    if len(part.ids):
        if where is None:
            where = _positions(part.ids, ids)
        where = where.astype(INDEX_DTYPE)
        src, dst = where[part.src], where[part.dst]
    else:
        src, dst = part.src, part.dst
    kmap = np.array([kind_names.index(k) for k in part.kind_names], dtype=np.uint16)
    kind = kmap[part.kind] if part.kind_names else part.kind
    return LocalPart(part.name, part.rows, part.id_type, ids[:0], src, dst, kind_names, kind, part.weight, part.amount,
                     part.seconds, part.contexts, part.context)


def context_ids(part: LocalPart) -> pa.Array | None:
    """The partition's distinct context ids, sorted (None: the partition has no context column)."""
    return part.contexts


def has_contexts(part: LocalPart) -> bool:
    return part.contexts is not None


def merge_context_ids(a: pa.Array | None, b: pa.Array | None) -> pa.Array | None:
    """Sorted union of two partitions' context ids (one step of the context dictionary's reduction).

    The union is :func:`graphlabor.contexts.merge_contexts`' (the function
    the local engine's streamed reading uses), so the global dictionary is
    sorted exactly as one machine sorts it. None (no context column) is
    the neutral element.

    >>> import pyarrow as pa
    >>> merge_context_ids(pa.array(["b", "d"]), pa.array(["a", "b"])).to_pylist()
    ['a', 'b', 'd']
    >>> merge_context_ids(None, pa.array([3, 7])).to_pylist()
    [3, 7]
    """
    if a is None:
        return b
    if b is None:
        return a
    none = np.empty(0, np.int32)
    merged = merge_contexts([(a, none), (b, none)])[0]
    if pa.types.is_integer(merged.type):
        return merged
    return merged.cast(_text_type(a, b))  # the type one machine's dictionary has


def globalize_contexts(part: LocalPart, contexts: pa.Array | None) -> LocalPart:
    """The partition's context codes as ranks in the global context dictionary ``contexts``.

    A partition without the column gets code ``-1`` (none) on every row,
    as one machine gives the rows of a file without it.

    >>> import numpy as np, pyarrow as pa
    >>> p = LocalPart("f", 3, "int", pa.array([1]), np.zeros(3, np.uint32), np.zeros(3, np.uint32), [],
    ...               np.zeros(3, np.uint16), np.ones(3), pa.chunked_array([[None] * 3], pa.float64()),
    ...               contexts=pa.array(["b", "d"]), context=np.array([1, -1, 0], np.int32))
    >>> globalize_contexts(p, pa.array(["a", "b", "c", "d"])).context.tolist()
    [3, -1, 1]
    """
    from dataclasses import replace

    if contexts is None:
        return part
    if part.context is None or part.contexts is None:
        return replace(part, contexts=contexts[:0], context=np.full(part.rows, -1, np.int32))
    # the part's ids are a subset of the dictionary: merging maps its codes and leaves the dictionary as it is
    merged, (_, codes) = merge_contexts([(contexts, np.empty(0, np.int32)), (part.contexts, part.context)])
    assert len(merged) == len(contexts)
    return replace(part, contexts=contexts[:0], context=codes)


def classify_part(part: LocalPart, class_of_kind: np.ndarray, weight_of_kind: np.ndarray, n: int,
                  row_offset: int, self_loops: str = "drop") -> Classified:
    """The classify stage on one partition (its rows numbered from ``row_offset`` in the whole input)."""
    return classify(part.src, part.dst, part.kind, class_of_kind, part.weight, weight_of_kind, part.amount, n,
                    part.seconds, row_offset, context=part.context, self_loops=self_loops)


def evidence(part: Classified) -> np.ndarray:
    return part.evidence


def or_flags(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    flags: np.ndarray = np.bitwise_or(a, b)
    return flags


def counts(part: Classified) -> tuple[int, int, int]:
    return len(part.contribution), len(part.revenue), len(part.pay)


def self_loops(part: Classified) -> int:
    """Contribution self-loops the classify stage dropped from the partition."""
    return part.self_loops


def revenue_positive(part: Classified) -> bool:
    """Whether any revenue edge of the partition injects value (amounts are validated >= 0)."""
    return bool((part.revenue.value > 0).any())


def role_counts(part: Classified, nodes: np.ndarray) -> np.ndarray:
    """Edges per node of ``nodes``, shape (6, len(nodes)): revenue received and sent, pay sent and received,
    contributions sent and received (the counts of :func:`graphlabor.breakdowns.roles_report`)."""
    c, r, p = part.contribution, part.revenue, part.pay
    out = np.zeros((6, nodes.shape[0]), dtype=np.int64)
    if nodes.shape[0]:
        for i, a in enumerate((r.dst, r.src, p.src, p.dst, c.src, c.dst)):
            where = np.searchsorted(nodes, a)
            hit = (where < nodes.shape[0]) & (nodes[np.minimum(where, nodes.shape[0] - 1)] == a)
            out[i] = np.bincount(where[hit], minlength=nodes.shape[0])
    return out


def advertiser_contributions(part: Classified, role: np.ndarray) -> int:
    """Contribution edges the partition's advertisers send (they carry no value; the summary counts them)."""
    from ..codes import ADVERTISER

    return int(np.count_nonzero(role[part.contribution.src] == ADVERTISER))


def loop_edges(part: Classified, role: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The users' kept self-loops with positive weight: ``(node, weight)`` in row order (``--self-loops keep``)."""
    from ..codes import USER

    c = part.contribution
    loop = (c.src == c.dst) & (c.value > 0)
    loop &= role[c.src] == USER
    return c.src[loop], c.value[loop]


def weight_range(part: Classified) -> tuple[float, float, float]:
    """Largest, smallest and smallest positive contribution weight (``inf`` when there is none)."""
    w = part.contribution.value
    if w.shape[0] == 0:
        return -np.inf, np.inf, np.inf
    positive = w[w > 0]
    return float(w.max()), float(w.min()), float(positive.min()) if positive.size else np.inf


def _sender(part: Classified, role: np.ndarray) -> np.ndarray:
    from ..codes import PLATFORM, USER

    c = part.contribution
    sender: np.ndarray = np.where((role[c.src] == USER) & (role[c.dst] == PLATFORM), c.dst, c.src)
    return sender


def sender_max(part: Classified, role: np.ndarray) -> np.ndarray:
    """Largest weight of each sender among the partition's contribution edges (max-reduced over partitions)."""
    biggest = np.zeros(role.shape[0], dtype=np.float64)
    np.maximum.at(biggest, _sender(part, role), part.contribution.value)
    return biggest


def sender_scaled(part: Classified, role: np.ndarray, biggest: np.ndarray) -> Classified:
    """:func:`graphlabor.graph.sender_scaled` on one partition, with the largest weight per sender over all."""
    from dataclasses import replace

    c = part.contribution
    scale = biggest[_sender(part, role)]
    value = np.divide(c.value, scale, out=np.zeros_like(c.value), where=scale > 0)
    return replace(part, contribution=replace(c, value=value))


def money_edges(part: Classified) -> Classified:
    """The revenue and pay edges only (for the message on a declared advertiser that receives revenue)."""
    empty = part.contribution.take(np.empty(0, np.int64))
    return Classified(empty, part.revenue, part.pay, part.revenue_rows, part.pay_rows, part.evidence[:0])


def newest_seconds(part: Classified) -> int | None:
    """The latest timestamp of the partition's edges (the default ``as_of``)."""
    return max((int(e.seconds.max()) for e in (part.contribution, part.revenue, part.pay)
                if len(e) and e.seconds is not None), default=None)


def newest_senders(part: Classified, role: np.ndarray) -> np.ndarray:
    c = part.contribution
    assert c.seconds is not None  # read when a time option is given
    return newest_per_sender(c.src, c.dst, c.seconds, role)


def decayed(part: Classified, role: np.ndarray, half_life: float, as_of: int, newest: np.ndarray) -> Classified:
    """The time-decay stage on one partition, with the newest edge per sender over all partitions."""
    from dataclasses import replace

    c = part.contribution
    assert c.seconds is not None  # read when a time option is given
    value = decay(c.value, c.src, c.dst, c.seconds, role, half_life, as_of, newest)
    return replace(part, contribution=replace(c, value=value))


#: The name under which the workers record the kernels they call first (:func:`warm_worker`).
WORKER_KERNELS = "dask-worker"


def warm_worker() -> None:
    """On a worker, as a run starts: load the kernels the last run's workers called, in the background.

    The worker also records the kernels it calls first (:func:`save_worker_kernels`
    writes the record at the end of a run that went well), as the command
    line does for one machine (:func:`graphlabor.kernels._jit.warm_up`): a
    fresh worker then loads them from Numba's cache while it reads its
    first partitions, instead of at each kernel's first call (measured:
    the first ``classify_part`` of a fresh worker took 1.9-2.0 s, the others
    0.04-0.07 s).
    """
    from ..kernels import _jit

    _jit.remember_kernels(WORKER_KERNELS)
    _jit.warm_up()


def save_worker_kernels() -> None:
    """On a worker, after a run that went well: write the record of the kernels it called first (see :func:`warm_worker`)."""
    from ..kernels import _jit

    _jit.save_kernel_record()

