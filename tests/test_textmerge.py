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
