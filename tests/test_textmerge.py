"""The merge walk that maps a partition's sorted ids into the global dictionary, against pyarrow's hash lookup."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from graphlabor.distributed.partitions import _text_positions


def _sorted_distinct(values: list[str], typ: pa.DataType) -> pa.Array:
    a = pc.unique(pa.array(values, typ))
    return a.take(pc.sort_indices(a))


@pytest.mark.parametrize("sub_type,all_type", [(pa.string(), pa.string()), (pa.string(), pa.large_string()),
                                                (pa.large_string(), pa.large_string())])
def test_positions_equal_index_in(sub_type: pa.DataType, all_type: pa.DataType) -> None:
    rng = np.random.default_rng(7)
    alphabet = ["a", "b", "é", "z", "\u4e2d", "", "0"]
    words = ["".join(rng.choice(alphabet, rng.integers(0, 9))) for _ in range(3000)]
    everything = _sorted_distinct(words, all_type)
    pick = np.sort(rng.choice(len(everything), 700, replace=False))
    sub = everything.take(pa.array(pick)).cast(sub_type).slice(3, 600)  # a sliced array: offsets not at 0
    got = _text_positions(sub, everything)
    want = pc.index_in(sub, value_set=everything).to_numpy(zero_copy_only=False)
    assert got.tolist() == want.tolist() == pick[3:603].tolist()


def test_missing_value_is_reported() -> None:
    # a value not in the dictionary cannot happen in the engine; the walk must say so rather than guess
    from graphlabor.distributed.partitions import _text_layout
    from graphlabor.kernels.textmerge import sorted_positions

    assert sorted_positions(*_text_layout(pa.array(["b", "q"])), *_text_layout(pa.array(["a", "b", "c"]))) is None
    assert sorted_positions(*_text_layout(pa.array(["b", "c"])), *_text_layout(pa.array(["a", "b", "c"]))).tolist() == [1, 2]


@pytest.mark.parametrize("typ", [pa.string(), pa.large_string()])
def test_merge_ids_is_the_bytewise_sorted_union(typ: pa.DataType) -> None:
    from graphlabor.distributed.partitions import merge_ids

    rng = np.random.default_rng(3)
    alphabet = ["a", "B", "é", "z", "\u4e2d", "0"]
    words = ["".join(rng.choice(alphabet, rng.integers(0, 7))) for _ in range(4000)]
    a = _sorted_distinct(words[:2500], typ).slice(1)
    b = _sorted_distinct(words[1500:], pa.string())
    got = merge_ids(a, b).to_pylist()
    want = sorted(set(a.to_pylist()) | set(b.to_pylist()), key=lambda s: s.encode())
    assert got == want


@pytest.mark.parametrize("typ", [pa.string(), pa.large_string(), pa.int64()])
def test_composed_merge_maps_are_the_positions_in_the_union(typ: pa.DataType) -> None:
    """A tree of merge_ids_mapped: each leaf's composed maps equal pyarrow's lookup of its ids in the final union."""
    from graphlabor.distributed.partitions import merge_ids, merge_ids_mapped, positions_in_union, union_maps

    rng = np.random.default_rng(5)
    if typ == pa.int64():
        words = rng.integers(-50, 3000, 6000).tolist()
    else:
        alphabet = ["a", "B", "é", "z", "\u4e2d", "0"]
        words = ["".join(rng.choice(alphabet, rng.integers(0, 6))) for _ in range(6000)]
    cuts = [0, 900, 900, 2500, 3100, 6000]  # five leaves, one empty
    leaves = [_sorted_distinct(words[a:b], typ) for a, b in zip(cuts[:-1], cuts[1:])]
    # the tree mapped_dictionary builds for five leaves: ((0 1) (2 3)) 4
    m01, m23 = merge_ids_mapped(leaves[0], leaves[1]), merge_ids_mapped(leaves[2], leaves[3])
    m0123 = merge_ids_mapped(m01[0], m23[0])
    root = merge_ids_mapped(m0123[0], leaves[4])
    union = root[0]
    top = positions_in_union(union_maps(root), 0, None)
    where = [positions_in_union(union_maps(m01), 0, positions_in_union(union_maps(m0123), 0, top)),
             positions_in_union(union_maps(m01), 1, positions_in_union(union_maps(m0123), 0, top)),
             positions_in_union(union_maps(m23), 0, positions_in_union(union_maps(m0123), 1, top)),
             positions_in_union(union_maps(m23), 1, positions_in_union(union_maps(m0123), 1, top)),
             positions_in_union(union_maps(root), 1, None)]
    flat = merge_ids(merge_ids(merge_ids(leaves[0], leaves[1]), merge_ids(leaves[2], leaves[3])), leaves[4])
    assert union.equals(flat)
    key = (lambda s: s.encode()) if typ != pa.int64() else None
    assert union.to_pylist() == sorted(set(words), key=key)
    for leaf, w in zip(leaves, where):
        assert w.dtype == np.uint32
        want = pc.index_in(leaf.cast(union.type), value_set=union).to_numpy(zero_copy_only=False)
        assert w.tolist() == want.tolist()
