"""Per-partition stages: read, validate, encode, classify, split by class.

A partition is one input file (or one slice of an in-memory table). Every
function here runs on a worker, on one partition, and calls the same stage
functions as the local engine (:func:`graphlabor.edges.load_edges`,
:func:`graphlabor.node_index.encode`, :func:`graphlabor.kernels.classify.node_evidence`,
:func:`graphlabor.kernels.classify.split_by_class`), so that errors name the
same file, column, row and value, and every array holds the same numbers.

Codes are first local to the partition (ranks among its own distinct ids);
the global id dictionary is the sorted union of the partitions' distinct ids,
built by a pairwise reduction (:func:`merge_ids`), and each partition then maps
its local codes to global ones (:func:`globalize`). The global codes are the
ranks in sorted order, exactly as :func:`graphlabor.node_index.encode` numbers
them on one machine.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..edges import KindClasses, load_edges
from ..errors import InputError
from ..kernels import INDEX_DTYPE, MAX_NODES
from ..kernels.classify import node_evidence, split_by_class
from ..node_index import encode
from ..encode import encode_kinds


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
        The partition's distinct node ids, sorted.
    src, dst : ndarray of uint32
        Codes local to the partition (ranks in ``ids``).
    kind_names : list of str
        The partition's distinct kinds, sorted.
    kind : ndarray of uint16
        Local kind codes.
    weight : ndarray of float64
    amount : ndarray of float64
        NaN where null.
    """

    name: str
    rows: int
    id_type: str
    ids: pa.Array
    src: np.ndarray
    dst: np.ndarray
    kind_names: list
    kind: np.ndarray
    weight: np.ndarray
    amount: np.ndarray


def read_partition(source, kinds: KindClasses, src_col=None, dst_col=None) -> LocalPart:
    """Read and validate one partition, encode its ids and kinds locally.

    ``source`` is a file path or an in-memory table already validated by the
    client (:func:`graphlabor.edges.load_edges` on the whole table).
    """
    if isinstance(source, pa.Table):
        table, name, id_type = source, "<edges>", "int" if pa.types.is_integer(source["src"].type) else "str"
    else:
        et = load_edges([source], src_col=src_col, dst_col=dst_col, kinds=kinds, need_time=False)
        table, name, id_type = et.table, et.origins[0][0], et.id_type
    index, (src, dst) = encode([table["src"], table["dst"]])
    kind_names, kind = encode_kinds(table["kind"])
    weight = table["weight"].to_numpy() if table.num_rows else np.empty(0)
    amount = pc.fill_null(table["amount"], np.nan).to_numpy() if table.num_rows else np.empty(0)
    return LocalPart(name, table.num_rows, id_type, index.ids, src, dst, kind_names, kind, weight, amount)


def part_header(part: LocalPart) -> tuple:
    """What the client needs of a partition: name, rows, id type, id type name, kinds."""
    return part.name, part.rows, part.id_type, str(part.ids.type), part.kind_names


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
    t = _text_type(a, b)
    u = pc.unique(pa.concat_arrays([a.cast(t), b.cast(t)]))
    return u.take(pc.sort_indices(u))


def check_dictionary(ids: pa.Array) -> pa.Array:
    if len(ids) > MAX_NODES:
        raise InputError(f"{len(ids)} distinct node ids: more than the {MAX_NODES} graphlabor supports")
    return ids


def globalize(part: LocalPart, ids: pa.Array, kind_names: list) -> LocalPart:
    """Replace the partition's local codes by global ones (ranks in the global dictionary)."""
    if len(part.ids):
        if pa.types.is_integer(ids.type):
            where = np.searchsorted(ids.to_numpy(), part.ids.to_numpy())
        else:
            where = pc.index_in(part.ids.cast(ids.type), value_set=ids).to_numpy(zero_copy_only=False)
        where = where.astype(INDEX_DTYPE)
        src, dst = where[part.src], where[part.dst]
    else:
        src, dst = part.src, part.dst
    kmap = np.array([kind_names.index(k) for k in part.kind_names], dtype=np.uint16)
    kind = kmap[part.kind] if part.kind_names else part.kind
    return LocalPart(part.name, part.rows, part.id_type, ids[:0], src, dst, kind_names, kind, part.weight, part.amount)


def evidence(part: LocalPart, class_of_kind: np.ndarray, n: int) -> np.ndarray:
    """The partition's role evidence flags over all ``n`` nodes (OR-reduced across partitions)."""
    edge_class = class_of_kind[part.kind] if len(class_of_kind) else np.empty(0, np.uint8)
    return node_evidence(part.src, part.dst, edge_class, n)


def or_flags(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.bitwise_or(a, b)


@dataclass
class ClassifiedPart:
    """A partition's edges split by class, as the local engine's :class:`~graphlabor.prepare.EdgeArrays` hold them."""

    c_src: np.ndarray
    c_dst: np.ndarray
    c_kind: np.ndarray
    c_value: np.ndarray
    r_dst: np.ndarray
    r_amount: np.ndarray
    p_src: np.ndarray
    p_dst: np.ndarray
    p_amount: np.ndarray

    @property
    def counts(self) -> tuple[int, int, int]:
        return int(self.c_src.shape[0]), int(self.r_dst.shape[0]), int(self.p_src.shape[0])


def classify(part: LocalPart, class_of_kind: np.ndarray, weight_of_kind: np.ndarray) -> ClassifiedPart:
    """Split by class with the local engine's kernel: contribution arrays, revenue and pay by row."""
    if not len(class_of_kind):
        e32, ef = np.empty(0, np.uint32), np.empty(0)
        return ClassifiedPart(e32, e32, np.empty(0, np.uint16), ef, e32, ef, e32, e32, ef)
    edge_class = class_of_kind[part.kind]
    (cs, cd, ck, cv, _), rrows, prows = split_by_class(part.src, part.dst, part.kind, edge_class, part.weight, weight_of_kind)
    return ClassifiedPart(cs, cd, ck, cv, part.dst[rrows], part.amount[rrows], part.src[prows], part.dst[prows], part.amount[prows])


def counts(part: ClassifiedPart) -> tuple[int, int, int]:
    return part.counts
