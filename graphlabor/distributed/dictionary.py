"""The global id dictionary, and each partition's positions in it.

Text ids (:func:`ranged_dictionary`): cut into a few key ranges a worker, each
range's ids from every partition united and sorted by one task, the ranges
in parallel; a code is its range's offset plus its rank in the range.
Integer ids (:func:`mapped_dictionary`): a tree of merges, with the merges' maps.

A merge of two sorted distinct id arrays also says where each of its inputs'
values went in the union (:func:`~graphlabor.distributed.partitions.merge_ids_mapped`).
Composing those maps down the tree (an integer gather a level) gives every
partition the global code of each of its local ids, without walking the
whole dictionary once per partition. The codes are the ranks in the sorted
dictionary, as :func:`graphlabor.node_index.encode` numbers them on one machine.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import partitions as P


def mapped_dictionary(client: Any, leaves: list[Any]) -> tuple[Any, list[Any]]:
    """The sorted union of ``leaves`` (futures of sorted distinct id arrays) and each leaf's positions in it.

    Returns ``(union future, [positions future per leaf])``: a leaf's
    positions are a uint32 array (its values' indices in the union), or None
    when the leaf is the union itself (a single leaf). Merges pair
    neighbours, as the pairwise reduction of the local engine's streamed
    encoding does, so consecutive partitions on one worker merge in place.
    """
    level = [(f, i) for i, f in enumerate(leaves)]
    children: dict[int, tuple[int, int, Any]] = {}
    node = len(leaves)
    while len(level) > 1:
        nxt = []
        for i in range(0, len(level) - 1, 2):
            (ua, na), (ub, nb) = level[i], level[i + 1]
            m = client.submit(P.merge_ids_mapped, ua, ub, pure=True)
            # the union goes up the tree, the maps wait for the way down (m itself is let go)
            children[node] = (na, nb, client.submit(P.union_maps, m, pure=True))
            nxt.append((client.submit(operator.getitem, m, 0, pure=True), node))
            node += 1
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    union, root = level[0]
    where: dict[int, Any] = {root: None}
    todo = [root]
    while todo:
        q = todo.pop()
        if q in children:
            a, b, m = children[q]
            where[a] = client.submit(P.positions_in_union, m, 0, where[q], pure=True)
            where[b] = client.submit(P.positions_in_union, m, 1, where[q], pure=True)
            todo += [a, b]
    return union, [where[i] for i in range(len(leaves))]


def globalized(client: Any, parts: list[Any], leaves: list[Any], id_type: str, workers: list[str],
               samples: list[pa.Array] | None, kind_names: list[str]) -> tuple[pa.Array, list[Any]]:
    """The global id dictionary (on the client) and the partitions in global codes (futures).

    ``leaves`` are the partitions' distinct ids (futures), in the order of
    ``parts``, then possibly more (the nodes file's ids); ``samples`` some ids
    of each leaf (:func:`id_sample`), when the caller has them. Text ids by
    key ranges (:func:`ranged_dictionary`; each partition's positions are
    computed in its :func:`~graphlabor.distributed.partitions.globalize` task,
    on the worker that holds it), integer ids by the tree of merges
    (:func:`mapped_dictionary`). The dictionary is checked against
    :data:`graphlabor.kernels.MAX_NODES`.
    """
    if id_type == "str":
        ids, splits, offsets, unions = ranged_dictionary(client, leaves, workers, samples)
        P.check_dictionary(ids)
        empty = ids[:0]
        return ids, [client.submit(globalize_ranged, p, empty, kind_names, splits[i], offsets, i, *unions, pure=True)
                     for i, p in enumerate(parts)]
    union, wheres = mapped_dictionary(client, leaves)
    ids_future = client.submit(P.check_dictionary, union, pure=True)
    ids = ids_future.result()
    return ids, [client.submit(P.globalize, p, ids_future, kind_names, w, pure=True) for p, w in zip(parts, wheres)]


#: Key ranges of the text id dictionary per worker (placed round-robin). Smaller ranges are cheaper in
#: all (measured on 16 partitions of 10^6 rows at 10^8 edges, one thread: unions of 2 ranges 0.56 s,
#: 8 ranges 0.33 s, their splits 0.06 and 0.17 s) and even out ranges that hold more ids than others.
RANGES_PER_WORKER = 4


def ranged_dictionary(client: Any, leaves: list[Any], workers: list[str],
                      samples: list[pa.Array] | None = None) -> tuple[pa.Array, list[Any], list[int], list[Any]]:
    """The sorted union of text id arrays (any order within a leaf) by key ranges, and what places each leaf's ids in it.

    The ids are cut into key ranges (:data:`RANGES_PER_WORKER` a worker), at bounds taken from a
    sample of every leaf's ids (``samples``, gathered when not given); each leaf is split by range
    (:func:`split_ids`), and each range's pieces, from every leaf, are
    united and sorted by one task (:func:`range_union`, the local engine's
    :func:`graphlabor.dictarrays.sorted_codes`), the ranges in parallel on
    their workers. Ranges follow each other in the byte-wise order the
    sort uses, so the dictionary is the ranges' unions end to end, and a
    code is its range's offset (the sizes of the ranges before it) plus its
    rank in the range: the ranks in sorted order, as on one machine. No
    process but the client (which keeps the dictionary) holds every id,
    and no task walks more than its range's ids.

    Returns ``(ids, splits, offsets, unions)``: the union on the client; per
    leaf, a future of its :func:`split_ids`; each range's offset in the union;
    per range, a future of its :func:`range_union` (the ranks that
    :func:`range_positions_of` turns into a leaf's positions in the union).
    """
    ranges = RANGES_PER_WORKER * max(1, len(workers))
    if samples is None:
        samples = client.gather([client.submit(id_sample, f, P.ID_SAMPLE, pure=True) for f in leaves])
    cuts = range_bounds(samples, ranges)
    splits = [client.submit(split_ids, f, cuts, pure=True) for f in leaves]
    # (whole splits and unions as arguments: a few hundred tasks, not one a piece; the client's
    # submissions, about a millisecond each, were the encode stage's longest part with one a piece)
    unions = [client.submit(range_union_of, r, *splits, pure=True, workers=[workers[r % len(workers)]] if workers else None,
                            allow_other_workers=True) for r in range(len(cuts) + 1)]
    values = client.gather([client.submit(operator.getitem, u, 0, pure=True) for u in unions])
    text = pa.large_string() if any(pa.types.is_large_string(v.type) for v in values) else pa.string()
    ids = pa.concat_arrays([v.cast(text) for v in values])
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in values])]).astype(np.int64)[:-1].tolist()
    return ids, splits, offsets, unions


def id_sample(ids: pa.Array, k: int) -> pa.Array:
    """Up to ``k`` of ``ids``, evenly spaced (in a leaf's own order)."""
    if len(ids) <= k:
        return ids
    return ids.take(pa.array(np.linspace(0, len(ids) - 1, k).astype(np.int64)))


def range_bounds(samples: list[pa.Array], ranges: int) -> list[str]:
    """The first id of each key range but the first: ``ranges - 1`` quantiles of the pooled samples (fewer if they repeat).

    >>> range_bounds([pa.array(["d", "a", "c"]), pa.array(["b", "e", "f"])], 2)
    ['d']
    >>> range_bounds([pa.array(["a"])], 3)
    ['a']
    """
    got = [s.cast(pa.large_string()) for s in samples if len(s)]
    if not got or ranges <= 1:
        return []
    pooled = pa.concat_arrays(got)
    pooled = pooled.take(pc.sort_indices(pooled)).to_pylist()
    cuts = [pooled[len(pooled) * j // ranges] for j in range(1, ranges)]
    return sorted(set(cuts))


def split_ids(ids: pa.Array, cuts: list[str]) -> tuple[list[pa.Array], list[np.ndarray]]:
    """A leaf's ids cut by key range: the ids of each range and their indices in ``ids``.

    >>> parts, where = split_ids(pa.array(["q", "b", "x", "k"]), ["k", "r"])
    >>> [p.to_pylist() for p in parts], [w.tolist() for w in where]
    ([['b'], ['q', 'k'], ['x']], [[1], [0, 3], [2]])
    """
    if len(ids) == 0 or not pa.types.is_string(ids.type) and not pa.types.is_large_string(ids.type):
        ids = ids.cast(pa.string())  # (an empty leaf of integer type in a text run)
    which = np.zeros(len(ids), np.int64)
    for c in cuts:
        which += pc.greater_equal(ids, pa.scalar(c, ids.type)).to_numpy(zero_copy_only=False)
    where = [np.flatnonzero(which == r) for r in range(len(cuts) + 1)]
    return [ids.take(pa.array(w)) for w in where], where


def range_union(*pieces: pa.Array) -> tuple[pa.Array, list[np.ndarray]]:
    """Sorted union of one key range's pieces, and each piece's ranks in it (:func:`graphlabor.dictarrays.sorted_codes`).

    >>> u, (a, b) = range_union(pa.array(["m", "k"]), pa.array(["l", "k"]))
    >>> u.to_pylist(), a.tolist(), b.tolist()
    (['k', 'l', 'm'], [2, 0], [1, 0])
    """
    from ..dictarrays import sorted_codes
    from ..kernels import INDEX_DTYPE

    return sorted_codes(list(pieces), INDEX_DTYPE)


def range_positions(split: tuple[list[pa.Array], list[np.ndarray]], offsets: list[int], *maps: np.ndarray) -> np.ndarray:
    """Each id's index in the whole dictionary: its range's offset plus its rank in the range's union.

    >>> range_positions(([], [np.array([1]), np.array([0, 2])]), [0, 5], np.array([0], np.uint32), np.array([1, 0], np.uint32)).tolist()
    [6, 0, 5]
    """
    from ..kernels import INDEX_DTYPE

    where = split[1]
    out = np.empty(sum(w.shape[0] for w in where), INDEX_DTYPE)
    for w, off, m in zip(where, offsets, maps):
        out[w] = m.astype(np.int64) + off
    return out


def range_union_of(r: int, *splits: tuple[list[pa.Array], list[np.ndarray]]) -> tuple[pa.Array, list[np.ndarray]]:
    """:func:`range_union` of range ``r``'s pieces of the leaves' splits (:func:`split_ids`)."""
    return range_union(*[s[0][r] for s in splits])


def range_positions_of(split: tuple[list[pa.Array], list[np.ndarray]], offsets: list[int], i: int,
                       *unions: tuple[pa.Array, list[np.ndarray]]) -> np.ndarray:
    """:func:`range_positions` of leaf ``i``, its ranks read from every range's :func:`range_union`."""
    return range_positions(split, offsets, *[u[1][i] for u in unions])


def globalize_ranged(part: P.LocalPart, ids: pa.Array, kind_names: list[str], split: tuple[list[pa.Array], list[np.ndarray]],
                     offsets: list[int], i: int, *unions: tuple[pa.Array, list[np.ndarray]]) -> P.LocalPart:
    """:func:`~graphlabor.distributed.partitions.globalize` with the positions of partition ``i``'s ids from the range unions.

    One task with the partition (its positions were a task of their own,
    which the scheduler placed by the unions' bytes, away from the
    partition, which then travelled: 0.2-0.3 s a partition at 10^8).
    """
    return P.globalize(part, ids, kind_names, range_positions_of(split, offsets, i, *unions))

