"""kernels.blocksplit.block_order against NumPy's searchsorted + stable argsort (the oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from graphlabor.kernels.blocksplit import block_order


@pytest.mark.parametrize("seed,m,cuts", [
    (0, 0, [5]),
    (1, 1000, []),
    (2, 5000, [100, 100, 2048, 4096]),  # an empty block between equal cuts
    (3, 20000, [0, 1, 7000, 9999, 10_000]),  # keys on the cuts, an empty first block
])
def test_block_order_is_a_stable_sort_by_block(seed, m, cuts):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 10_000, m).astype(np.uint32)
    cuts = np.array(cuts, np.int64)
    order, starts = block_order(keys, cuts)
    blk = np.searchsorted(cuts, keys, side="right")
    assert np.array_equal(order, np.argsort(blk, kind="stable"))
    assert np.array_equal(starts, np.concatenate([[0], np.cumsum(np.bincount(blk, minlength=cuts.shape[0] + 1))]))
