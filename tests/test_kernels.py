"""graphlabor.kernels against scipy.sparse, numpy and brute force."""

from __future__ import annotations

import numpy as np
import pytest
import reference
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given, settings
from hypothesis import strategies as st

from graphlabor import kernels as K


def _random_coo(seed, n_rows, n_cols, m, *, dyadic=False):
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, n_rows, m).astype(np.uint32)
    cols = rng.integers(0, n_cols, m).astype(np.uint32)
    if dyadic:
        w = rng.integers(1, 64, m) / 8.0  # sums are exact in any order
    else:
        w = rng.uniform(0, 1, m)
    # plenty of duplicates: repeat a fifth of the triples
    k = m // 5
    return np.concatenate([rows, rows[:k]]), np.concatenate([cols, cols[:k]]), np.concatenate([w, w[:k]])


def _scipy_csr(rows, cols, w, n_rows, n_cols):
    a = sp.coo_matrix((w, (rows.astype(np.int64), cols.astype(np.int64))), shape=(n_rows, n_cols)).tocsr()
    a.sum_duplicates()
    a.sort_indices()
    return a


def _assert_csr_equal(got, a, *, exact):
    indptr, indices, data = got
    assert indptr.dtype == np.uint64 and indices.dtype == np.uint32 and data.dtype == np.float64
    np.testing.assert_array_equal(indptr, a.indptr)
    np.testing.assert_array_equal(indices, a.indices)
    if exact:
        np.testing.assert_array_equal(data, a.data)
    else:
        np.testing.assert_allclose(data, a.data, rtol=1e-14, atol=0)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("shape", [(1, 1, 5), (10, 7, 80), (500, 300, 5000), (3000, 3000, 200)])
def test_build_csr_equals_scipy(seed, shape):
    n_rows, n_cols, m = shape
    rows, cols, w = _random_coo(seed, n_rows, n_cols, m)
    a = _scipy_csr(rows, cols, w, n_rows, n_cols)
    got = K.build_csr(rows, cols, w, n_rows)
    _assert_csr_equal(got, a, exact=False)
    # strictly increasing columns within each row (duplicates merged)
    indptr, indices, _ = got
    for i in range(n_rows):
        seg = indices[indptr[i] : indptr[i + 1]].astype(np.int64)
        assert (np.diff(seg) > 0).all()


def test_build_csr_exact_with_dyadic_weights():
    rows, cols, w = _random_coo(9, 400, 400, 20000, dyadic=True)
    _assert_csr_equal(K.build_csr(rows, cols, w, 400), _scipy_csr(rows, cols, w, 400, 400), exact=True)


def test_build_csr_long_rows_and_brute_force():
    # a few rows with hundreds of entries (the sort path for long segments)
    rng = np.random.default_rng(3)
    rows = rng.integers(0, 4, 3000).astype(np.uint32)
    cols = rng.integers(0, 200, 3000).astype(np.uint32)
    w = rng.uniform(0, 1, 3000)
    indptr, indices, data = K.build_csr(rows, cols, w, 6)
    ref_indptr, ref_indices, ref_data = reference.csr_reference(rows, cols, w, 6)
    np.testing.assert_array_equal(indptr, ref_indptr)
    np.testing.assert_array_equal(indices, ref_indices)
    np.testing.assert_allclose(data, ref_data, rtol=1e-14)


def test_build_csr_empty_and_empty_rows():
    e = np.empty(0, np.uint32)
    indptr, indices, data = K.build_csr(e, e, np.empty(0), 3)
    assert indptr.tolist() == [0, 0, 0, 0] and indices.size == 0 and data.size == 0
    indptr, indices, data = K.build_csr(np.array([2], np.uint32), np.array([0], np.uint32), np.array([1.5]), 4)
    assert indptr.tolist() == [0, 0, 0, 1, 1] and indices.tolist() == [0] and data.tolist() == [1.5]


def test_build_csr_does_not_modify_inputs():
    rows, cols, w = _random_coo(1, 50, 50, 500)
    r0, c0, w0 = rows.copy(), cols.copy(), w.copy()
    for arr in (rows, cols, w):
        arr.flags.writeable = False  # arrays from Arrow are often read-only
    K.build_csr(rows, cols, w, 50)
    np.testing.assert_array_equal(rows, r0)
    np.testing.assert_array_equal(cols, c0)
    np.testing.assert_array_equal(w, w0)


@pytest.mark.parametrize("seed", range(3))
def test_build_csr_bit_identical_under_shuffles(seed):
    rows, cols, w = _random_coo(seed, 300, 300, 6000)
    base = K.build_csr(rows, cols, w, 300)
    rng = np.random.default_rng(100 + seed)
    for _ in range(3):
        p = rng.permutation(rows.size)
        got = K.build_csr(rows[p], cols[p], w[p], 300)
        for x, y in zip(base, got):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


@settings(deadline=None, max_examples=40)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0, 10, allow_nan=False)), max_size=120),
        )
    ),
    st.randoms(use_true_random=False),
)
def test_build_csr_property(case, rnd):
    n, triples = case
    rows = np.array([t[0] for t in triples], np.uint32)
    cols = np.array([t[1] for t in triples], np.uint32)
    w = np.array([t[2] for t in triples], np.float64)
    got = K.build_csr(rows, cols, w, n)
    ref = reference.csr_reference(rows, cols, w, n)
    np.testing.assert_array_equal(got[0], ref[0])
    np.testing.assert_array_equal(got[1], ref[1])
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-13, atol=0)
    perm = list(range(len(triples)))
    rnd.shuffle(perm)
    p = np.array(perm, dtype=np.int64)
    shuffled = K.build_csr(rows[p], cols[p], w[p], n)
    for x, y in zip(got, shuffled):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("shape", [(10, 7, 80), (500, 300, 5000), (1, 40, 30), (40, 1, 30)])
def test_transpose_csr_equals_scipy(shape):
    n_rows, n_cols, m = shape
    rows, cols, w = _random_coo(4, n_rows, n_cols, m)
    a = _scipy_csr(rows, cols, w, n_rows, n_cols)
    t = K.transpose_csr(*K.build_csr(rows, cols, w, n_rows), n_cols)
    at = a.T.tocsr()
    at.sort_indices()
    assert t[0].shape == (n_cols + 1,)
    _assert_csr_equal(t, at, exact=False)
    # transposing twice gives back the canonical CSR, bit for bit
    back = K.transpose_csr(*t, n_rows)
    for x, y in zip(back, K.build_csr(rows, cols, w, n_rows)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("key_dtype", [np.uint32, np.int64, np.int32])
def test_group_sum_equals_bincount(key_dtype):
    rng = np.random.default_rng(2)
    keys = rng.integers(0, 1000, 50_000).astype(key_dtype)
    vals = rng.uniform(0, 10, 50_000)
    np.testing.assert_allclose(K.group_sum(keys, vals, 1200), np.bincount(keys, weights=vals, minlength=1200), rtol=1e-12, atol=0)
    ints = rng.integers(0, 1000, 50_000).astype(np.float64)  # exact sums
    np.testing.assert_array_equal(K.group_sum(keys, ints, 1200), np.bincount(keys, weights=ints, minlength=1200))


def test_group_sum_order_independent_and_empty():
    rng = np.random.default_rng(8)
    keys = rng.integers(0, 50, 5000)
    vals = rng.standard_normal(5000) * 10.0 ** rng.integers(-8, 8, 5000)
    base = K.group_sum(keys, vals, 50)
    for _ in range(3):
        p = rng.permutation(5000)
        np.testing.assert_array_equal(K.group_sum(keys[p], vals[p], 50), base)
    assert K.group_sum(np.empty(0, np.uint32), np.empty(0), 4).tolist() == [0.0] * 4


def test_group_sum_long_groups_bit_for_bit():
    """Groups past NUMPY_SORT (sorted by NumPy first) add up as Python's sorted-then-summed values, bit for bit."""
    from graphlabor.kernels.segment import NUMPY_SORT

    rng = np.random.default_rng(11)
    m = 20 * NUMPY_SORT
    keys = np.concatenate([np.zeros(m // 2, np.int64), rng.integers(1, 6, m // 2), [6]])  # one huge group, a single value
    vals = np.concatenate([rng.choice(np.array([0.0, -0.0, 1e-300, 1e16, 3.5, 0.1, -2.0]), m // 2),
                           rng.standard_normal(m // 2) * 10.0 ** rng.integers(-8, 8, m // 2), [-0.0]])
    p = rng.permutation(keys.shape[0] - 1)
    keys[:-1], vals[:-1] = keys[p], vals[p]
    want = np.zeros(8)
    for g in range(7):
        v = sorted(vals[keys == g].tolist())
        acc = 0.0
        for x in v:
            acc += x
        want[g] = v[0] if len(v) == 1 else acc
    got = K.group_sum(keys, vals, 8)
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64))
    assert np.signbit(got[6]) and got[7] == 0.0


def _substochastic(seed, n, m, damping=0.85):
    """Receiver-major CSR of a column-substochastic T (column sums = damping or 0)."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    w = rng.uniform(0.1, 2, m)
    out = np.bincount(src, weights=w, minlength=n)
    frac = damping * w / out[src]
    T = K.build_csr(dst.astype(np.uint32), src.astype(np.uint32), frac, n)
    A = sp.csr_matrix((T[2], T[1].astype(np.int64), T[0].astype(np.int64)), shape=(n, n))
    return T, A


@pytest.mark.parametrize("n", [5, 2048, 5000])
def test_propagate_step_equals_scipy_matvec(n):
    T, A = _substochastic(1, n, 8 * n)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, n)
    s = rng.uniform(0, 1, n)
    out = np.empty(n)
    res = K.propagate_step(*T, x, s, out)
    expect = s + A @ x
    np.testing.assert_allclose(out, expect, rtol=1e-14, atol=0)
    assert res == pytest.approx(np.abs(expect - x).sum(), rel=1e-12)


def test_propagate_step_on_row_blocks():
    n = 3 * K.CHUNK_ROWS + 100
    T, A = _substochastic(2, n, 6 * n)
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, n)
    s = rng.uniform(0, 1, n)
    full = np.empty(n)
    full_res = K.propagate_step(*T, x, s, full)
    indptr, indices, data = T
    total = 0.0
    for a in range(0, n, K.CHUNK_ROWS * 2):
        b = min(a + 2 * K.CHUNK_ROWS, n)
        p0, p1 = int(indptr[a]), int(indptr[b])
        block_indptr = (indptr[a : b + 1] - indptr[a]).astype(np.uint64)
        out = np.empty(b - a)
        total += K.propagate_step(block_indptr, indices[p0:p1], data[p0:p1], x, s[a:b], out, row0=a)
        # a block gives exactly the rows of the whole step
        np.testing.assert_array_equal(out, full[a:b])
        np.testing.assert_allclose(out, (s + A @ x)[a:b], rtol=1e-14)
    assert total == pytest.approx(full_res, rel=1e-12)
    with pytest.raises(ValueError):
        K.propagate_step(indptr[:3] - indptr[0], indices, data, x, s[1:3], np.empty(2), row0=1)


@pytest.mark.parametrize("n", [50, 3000])
def test_power_iteration_equals_direct_solve(n):
    T, A = _substochastic(5, n, 5 * n, damping=0.85)
    rng = np.random.default_rng(3)
    s = rng.uniform(0, 1, n)
    x, n_iter, res, ok = K.power_iteration(*T, s, 1e-13 * s.sum(), 10_000)
    assert ok and res < 1e-13 * s.sum() and 0 < n_iter < 10_000
    direct = spla.spsolve((sp.identity(n, format="csc") - A.tocsc()), s)
    np.testing.assert_allclose(x, direct, rtol=0, atol=1e-10 * s.sum())
    # not converging within max_iter is reported, not hidden
    x2, n2, res2, ok2 = K.power_iteration(*T, s, 1e-300, 5)
    assert not ok2 and n2 == 5 and res2 > 0


def test_flow_edges_orientation():
    # users 0, 1, 3; platform 2; advertiser 4
    role = np.array([K.USER, K.USER, K.PLATFORM, K.USER, K.ADVERTISER], dtype=np.int8)
    src = np.array([0, 1, 0, 2, 3, 3, 4, 1], np.uint32)
    dst = np.array([2, 0, 1, 0, 4, 2, 2, 2], np.uint32)
    w = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 0.0])
    s, r, fw, e = K.flow_edges(src, dst, w, role, np.arange(8, dtype=np.int64))  # labels: edge positions
    got = sorted(zip(s.tolist(), r.tolist(), fw.tolist(), e.tolist()))
    s2, r2, fw2, _ = K.flow_edges(src, dst, w, role)
    assert sorted(zip(s2.tolist(), r2.tolist(), fw2.tolist())) == [g[:3] for g in got]
    # user->platform: platform sends to user; user->user: same direction;
    # platform->user, user->advertiser, advertiser->platform and zero weights carry nothing
    assert got == sorted([(2, 0, 1.0, 0), (1, 0, 2.0, 1), (0, 1, 3.0, 2), (2, 3, 6.0, 5)])


@pytest.mark.parametrize("threads", [1, 2])
def test_flow_edges_across_blocks_match_masks(threads):
    """Several parallel blocks (and a partial last one): the same rows, in input order, as NumPy masks."""
    import numba
    from graphlabor.kernels.flow import FLOW_BLOCK

    rng = np.random.default_rng(5)
    n, m = 1000, 3 * FLOW_BLOCK + 123
    src = rng.integers(0, n, m).astype(np.uint32)
    dst = rng.integers(0, n, m).astype(np.uint32)
    w = np.where(rng.random(m) < 0.1, 0.0, rng.random(m))
    role = rng.choice(np.array([0, 0, 0, 1, 2], np.int8), n)
    labels = rng.integers(0, 7, m).astype(np.uint16)
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        s, r, fw, lab = K.flow_edges(src, dst, w, role, labels)
    finally:
        numba.set_num_threads(before)
    uu = (w > 0) & (role[src] == 0) & (role[dst] == 0)
    up = (w > 0) & (role[src] == 0) & (role[dst] == 1)
    keep = uu | up
    assert s.tolist() == np.where(up, dst, src)[keep].tolist()
    assert r.tolist() == np.where(up, src, dst)[keep].tolist()
    assert fw.tolist() == w[keep].tolist() and lab.tolist() == labels[keep].tolist()
