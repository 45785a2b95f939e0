"""The global id dictionary by a tree of merges, and each partition's positions in it from the merges' maps.

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
