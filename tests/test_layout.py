"""The row-blocked, sender-sorted kernel (kernels/layout.py) against the pull kernel, scipy and brute force.

The blocked step promises the pull step's results bit for bit (same products,
added in the same order), so the strongest checks are exact equality with
``propagate_step`` / ``power_iteration``; scipy's sparse product and a dense
solve are the independent oracles for the values themselves.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from graphlabor.kernels import layout as L
from csr_checks import assert_same_bits, one_then_two_threads, random_cases

from graphlabor import kernels as K


def _random_T(n, m, seed, hub=False, empty_tail=0):
    """Canonical CSR of a random substochastic matrix (columns sum to <= 0.85)."""
    rng = np.random.default_rng(seed)
    live = max(n - empty_tail, 1)
    src = rng.integers(0, live, m)
    dst = rng.integers(0, live, m)
    if hub and m:
        dst[: m // 3] = 0  # one receiver with a third of the entries
        src[m // 3 : m // 2] = live - 1  # one sender with a sixth
    w = rng.uniform(0.5, 2.0, m)
    out_w = np.bincount(src, weights=w, minlength=n)
    data = 0.85 * w / out_w[src]
    return K.build_csr(dst.astype(np.uint32), src.astype(np.uint32), data, n)


def _scipy(T, n):
    indptr, indices, data = T
    return sp.csr_matrix((data, indices.astype(np.int64), indptr.astype(np.int64)), shape=(n, n))


def _step_both(T, n, x, s, **kw):
    ref = np.empty(n)
    r_ref = K.propagate_step(*T, x, s, ref)
    lay = L.blocked_layout(*T, **kw)
    out = np.full(n, np.nan)
    partials = np.empty(K.n_chunks(n))
    r = L.blocked_step(lay, x, s, out, partials)
    return ref, r_ref, out, r, lay


@pytest.mark.parametrize(
    "n, m, kw",
    [
        (1, 0, {}),
        (5, 7, {}),
        (2048, 9000, {}),
        (2049, 9000, {}),
        (10_000, 60_000, {"bin_rows": 2048}),
        (10_000, 60_000, {"bin_rows": 8192, "bin_nnz": 10**9}),
        (70_000, 50_000, {"bin_rows": 65536, "bin_nnz": 10**9}),
        (20_000, 100_000, {"sender_rows": 3}),
        (20_000, 100_000, {"sender_rows": 1, "bin_nnz": 1}),
    ],
)
@pytest.mark.parametrize("hub", [False, True])
def test_step_bit_identical_to_pull_and_close_to_scipy(n, m, kw, hub):
    T = _random_T(n, m, seed=n + m, hub=hub, empty_tail=n // 7)
    rng = np.random.default_rng(1)
    x = rng.random(n)
    s = np.where(rng.random(n) < 0.1, rng.random(n), 0.0)
    ref, r_ref, out, r, _ = _step_both(T, n, x, s, **kw)
    assert np.array_equal(out, ref)
    assert r == r_ref
    # independent oracle: scipy's product
    want = s + _scipy(T, n) @ x
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-15)
    assert r == pytest.approx(np.abs(want - x).sum(), rel=1e-12, abs=1e-15)


def test_layout_matches_brute_force_order():
    n, m = 9000, 40_000
    T = _random_T(n, m, seed=3, hub=True)
    indptr, indices, data = T
    rel, w, local, tiles, sbound, brow, bptr = L.blocked_layout(*T, bin_rows=4096, bin_nnz=5000, sender_rows=700)
    assert rel.dtype == np.uint16 and sbound[0] == 0 and sbound[-1] == n and np.all(np.diff(sbound.astype(np.int64)) <= 700)
    src = rel.astype(np.int64)
    for c in range(tiles.shape[0] - 1):
        for bb in range(tiles.shape[1]):
            src[tiles[c, bb] : tiles[c + 1, bb]] += int(sbound[c])
    rows = np.repeat(np.arange(n), np.diff(indptr).astype(np.int64))
    # bins: chunk-aligned row blocks of at most 4096 rows, closed near 5000 entries
    assert brow[0] == 0 and brow[-1] == n
    assert np.all(np.diff(brow) <= 4096) and np.all(brow[:-1] % K.CHUNK_ROWS == 0)
    assert np.array_equal(bptr, indptr[brow])
    # bin arrays: by (bin, sender block, receiver, sender)
    b = np.searchsorted(brow, rows, side="right") - 1
    blk = np.searchsorted(sbound, indices, side="right") - 1
    q = np.lexsort((indices, rows, blk, b))
    assert np.array_equal(src, indices[q])
    assert np.array_equal(w, data[q])
    assert np.array_equal(local, (rows[q] - brow[b[q]]).astype(np.uint16))
    # tiles: per bin, consecutive sender ranges shared by all bins
    assert np.array_equal(tiles[0], bptr[:-1]) and np.array_equal(tiles[-1], bptr[1:])
    assert np.all(np.diff(tiles.astype(np.int64), axis=0) >= 0)
    lo = np.full(tiles.shape[0] - 1, n)
    hi = np.full(tiles.shape[0] - 1, -1)
    for c in range(tiles.shape[0] - 1):
        for bb in range(tiles.shape[1]):
            seg = src[tiles[c, bb] : tiles[c + 1, bb]]
            if seg.size:
                lo[c] = min(lo[c], seg.min())
                hi[c] = max(hi[c], seg.max())
    used = hi >= 0
    assert np.all(hi[used][:-1] < lo[used][1:])
    assert np.all((lo[used] >= sbound[:-1][used]) & (hi[used] < sbound[1:][used]))


def test_layout_independent_of_threads():
    T = _random_T(30_000, 200_000, seed=5, hub=True)
    assert_same_bits(*one_then_two_threads(lambda: L.blocked_layout(*T), lambda: L.blocked_layout(*T)))


def test_power_iteration_bit_identical_and_matches_dense_solve():
    n, m = 6000, 40_000
    T = _random_T(n, m, seed=11, hub=True, empty_tail=100)
    s = np.zeros(n)
    s[::50] = 1.0
    a = K.power_iteration(*T, s, 1e-13, 10_000)
    b = L.blocked_power_iteration(L.blocked_layout(*T, bin_rows=2048), s, 1e-13, 10_000)
    assert np.array_equal(a[0], b[0]) and a[1:] == b[1:]
    x = np.linalg.solve(np.eye(n) - _scipy(T, n).toarray(), s)
    np.testing.assert_allclose(b[0], x, rtol=1e-9, atol=1e-12)


def test_same_bits_at_one_and_two_threads():
    T = _random_T(50_000, 400_000, seed=13, hub=True)
    s = np.random.default_rng(2).random(50_000)

    def solve():
        return L.blocked_power_iteration(L.blocked_layout(*T), s, 1e-12, 1000)

    one, two = one_then_two_threads(solve, solve)
    assert np.array_equal(one[0], two[0]) and one[1:] == two[1:]


def test_input_row_order_does_not_matter():
    rng = np.random.default_rng(17)
    n, m = 5000, 30_000
    src = rng.integers(0, n, m).astype(np.uint32)
    dst = rng.integers(0, n, m).astype(np.uint32)
    w = rng.uniform(0.1, 0.2, m) / 20
    s = rng.random(n)
    perm = rng.permutation(m)
    r = []
    for p in (np.arange(m), perm):
        T = K.build_csr(dst[p], src[p], w[p], n)
        r.append(L.blocked_power_iteration(L.blocked_layout(*T, bin_rows=2048), s, 1e-12, 1000))
    assert np.array_equal(r[0][0], r[1][0]) and r[0][1:] == r[1][1:]


@random_cases(40, n=(1, 5000), m=(0, 20_000), bin_rows=[2048, 4096, 65536], bin_nnz=[None, 1, 100, 10**9],
              sender_rows=[None, 1, 7, 1000, 65536])
def test_step_property(n, m, seed, bin_rows, bin_nnz, sender_rows):
    T = _random_T(n, m, seed=seed)
    rng = np.random.default_rng(seed)
    x = rng.random(n)
    s = rng.random(n)
    ref, r_ref, out, r, _ = _step_both(T, n, x, s, bin_rows=bin_rows, bin_nnz=bin_nnz, sender_rows=sender_rows)
    assert np.array_equal(out, ref) and r == r_ref


def test_bad_bin_rows():
    T = _random_T(10, 20, seed=0)
    for bad in (1000, 3000, 1 << 17):
        with pytest.raises(ValueError, match="bin_rows"):
            L.blocked_layout(*T, bin_rows=bad)
    for bad in (-1, (1 << 16) + 1):
        with pytest.raises(ValueError, match="sender_rows"):
            L.blocked_layout(*T, sender_rows=bad)
