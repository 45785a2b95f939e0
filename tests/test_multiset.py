"""kernels/multiset.py (collapse into counts, CSR from counted or labeled triples) against brute force and scipy.

Oracles: a Python dictionary of the expanded triples, whose weights are added
in ascending order one by one in Python floats (IEEE doubles, the canonical
rule of build_csr written out by hand); scipy's duplicate-summing COO -> CSR
for the structure and the values to rounding; ``build_csr`` on the expanded
triples (itself checked against brute force and scipy in test_kernels.py).
"""

from __future__ import annotations

import collections

import numpy as np
import pytest
import scipy.sparse as sp
from graphlabor.kernels import multiset as MS
from hypothesis import strategies as st
from csr_checks import N_PARTS, WEIGHTS, assert_same_bits, one_then_two_threads, random_cases, random_triples

from graphlabor import kernels as K


def _bits(w):
    return np.asarray(w, dtype=np.float64).view(np.uint64)


def _brute_multiset(rows, cols, w, counts=None):
    """Counter of (row, col, weight bits), expanded counts included."""
    c = collections.Counter()
    counts = np.ones(len(rows), np.int64) if counts is None else counts
    for r, k, b, n in zip(rows.tolist(), cols.tolist(), _bits(w).tolist(), np.asarray(counts).tolist()):
        c[(r, k, b)] += n
    return c


def _brute_collapse(rows, cols, w, counts=None):
    """Distinct triples sorted by row, column, weight value (-0.0 first), with counts."""
    c = _brute_multiset(rows, cols, w, counts)
    as_float = {b: float(np.uint64(b).view(np.float64)) for (_, _, b) in c}
    keys = sorted(c, key=lambda t: (t[0], t[1], as_float[t[2]], 0 if np.signbit(as_float[t[2]]) else 1))
    return ([k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys], [c[k] for k in keys])


def _brute_csr(rows, cols, w, n, counts=None):
    """Canonical CSR by hand: per (row, col), the expanded weights sorted, added left to right."""
    c = _brute_multiset(rows, cols, w, counts)
    per = collections.defaultdict(list)
    for (r, k, b), n_copies in c.items():
        per[(r, k)].extend([float(np.uint64(b).view(np.float64))] * n_copies)
    indptr = [0] * (n + 1)
    indices, data = [], []
    for r, k in sorted(per):
        vals = sorted(per[(r, k)])
        acc = vals[0]
        for v in vals[1:]:
            acc += v
        indptr[r + 1] += 1
        indices.append(k)
        data.append(acc)
    return np.cumsum(indptr).tolist(), indices, data


def _assert_csr(got, want):
    indptr, indices, data = got
    assert indptr.dtype == np.uint64 and indices.dtype == np.uint32 and data.dtype == np.float64
    assert indptr.tolist() == want[0]
    assert indices.tolist() == want[1]
    assert _bits(data).tolist() == _bits(np.array(want[2], dtype=np.float64)).tolist()


def _assert_collapse(got, want):
    assert got.rows.dtype == np.uint32 and got.cols.dtype == np.uint32
    assert got.weights.dtype == np.float64 and got.counts.dtype == np.uint32
    assert got.rows.tolist() == want[0]
    assert got.cols.tolist() == want[1]
    assert _bits(got.weights).tolist() == want[2]
    assert got.counts.tolist() == want[3]


@random_cases(60, n=(1, 400), m=(0, 3000), n_cols=(1, 5000), kind=sorted(WEIGHTS), counted=st.booleans(),
              n_parts=N_PARTS)
def test_collapse_and_build_equal_brute_force(n, m, n_cols, seed, kind, counted, n_parts):
    rng = np.random.default_rng(seed)
    rows, cols, w = random_triples(rng, n, m, n_cols, kind)
    counts = rng.integers(1, 5, m).astype(np.uint32) if counted else None
    _assert_collapse(MS.collapse(rows, cols, w, n, counts=counts, n_parts=n_parts),
                     _brute_collapse(rows, cols, w, counts))
    _assert_csr(MS.build_csr_counted(rows, cols, w, n, counts=counts, n_parts=n_parts),
                _brute_csr(rows, cols, w, n, counts))


@pytest.mark.parametrize("kind", sorted(WEIGHTS))
@pytest.mark.parametrize("n, m, n_cols", [(300, 40_000, 30), (5000, 50_000, 5000), (70_000, 200_000, 2**32 - 1)])
def test_heavy_and_no_duplicates_equal_build_csr_and_scipy(kind, n, m, n_cols):
    """Heavy duplicates (few columns), few, none; counts > 1 with distinct weights."""
    rng = np.random.default_rng(n + m)
    rows, cols, w = random_triples(rng, n, m, n_cols, kind)
    rows[: m // 5] = 7  # a heavy row
    counts = rng.integers(1, 4, m).astype(np.uint32)
    got = MS.build_csr_counted(rows, cols, w, n, counts=counts)
    expanded = [np.repeat(a, counts) for a in (rows, cols, w)]
    want = K.build_csr(*expanded, n)
    assert_same_bits(got, want)
    ij = (expanded[0].astype(np.int64), expanded[1].astype(np.int64))
    A = sp.coo_matrix((expanded[2], ij), shape=(n, int(cols.max()) + 1)).tocsr()
    A.sum_duplicates()
    size = sp.coo_matrix((np.abs(expanded[2]), ij), shape=A.shape).tocsr()  # sum of |w|: the rounding's scale
    size.sum_duplicates()
    assert np.array_equal(got[0], A.indptr) and np.array_equal(got[1], A.indices)
    assert np.all(np.abs(got[2] - A.data) <= 1e-12 * size.data)
    # the uncounted triples too, and the collapse of them holds the expanded multiset
    assert_same_bits(MS.build_csr_counted(*expanded, n), want)
    ms = MS.collapse(*expanded, n)
    assert int(ms.counts.sum(dtype=np.int64)) == int(counts.sum(dtype=np.int64))
    if kind == "distinct":
        assert len(ms.rows) == m  # random doubles: no two triples alike
    _assert_collapse(ms, _brute_collapse(rows, cols, w, counts))


@random_cases(40, n=(1, 300), m=(0, 3000), n_cols=(1, 3000), width=(1, 20), kind=sorted(WEIGHTS),
              counted=st.booleans(), n_parts=N_PARTS)
def test_labeled_build_equals_brute_force(n, m, n_cols, width, seed, kind, counted, n_parts):
    """T ignores the labels; the split's row ``row * width + label`` holds that label's triples alone."""
    rng = np.random.default_rng(seed)
    n_label_rows = int(rng.integers(1, n + 1))
    rows, cols, w = random_triples(rng, n_label_rows, m, n_cols, kind)
    labels = rng.integers(0, width, m).astype(np.uint16)
    counts = rng.integers(1, 5, m).astype(np.uint32) if counted else None
    T, split = MS.build_csr_labeled(rows, cols, w, labels, n, width, n_label_rows=n_label_rows, counts=counts,
                                    n_parts=n_parts)
    _assert_csr(T, _brute_csr(rows, cols, w, n, counts))
    _assert_csr(split, _brute_csr(rows * np.uint32(width) + labels, cols, w, n_label_rows * width, counts))


def test_labeled_build_large_equals_build_csr():
    rng = np.random.default_rng(8)
    n, m, width = 20_000, 300_000, 16
    rows, cols, w = random_triples(rng, n, m, 3000, "few")
    rows[: m // 5] = 3  # a heavy row
    labels = rng.integers(0, width, m).astype(np.uint16)
    perm = rng.permutation(m)
    one, two = one_then_two_threads(
        lambda: MS.build_csr_labeled(rows, cols, w, labels, n, width),
        lambda: MS.build_csr_labeled(rows[perm], cols[perm], w[perm], labels[perm], n, width))
    want = (K.build_csr(rows, cols, w, n), K.build_csr(rows * np.uint32(width) + labels, cols, w, n * width))
    for got in (one, two):
        assert len(got) == len(want)
        for a, b in zip(got, want):
            assert_same_bits(a, b)


def test_labeled_errors():
    one = np.zeros(1, np.uint32)
    with pytest.raises(ValueError, match="below width=2"):
        MS.build_csr_labeled(one, one, np.ones(1), np.array([2], np.uint16), 1, 2)
    with pytest.raises(ValueError, match="n_label_rows=1"):
        MS.build_csr_labeled(np.array([1], np.uint32), one, np.ones(1), np.zeros(1, np.uint16), 2, 2, n_label_rows=1)
    with pytest.raises(ValueError, match="labels must have the same length"):
        MS.build_csr_labeled(one, one, np.ones(1), np.zeros(2, np.uint16), 1, 2)


def test_pieces_collapse_to_the_whole():
    """Counts add exactly: collapsing pieces, then their concatenation, equals collapsing everything."""
    rng = np.random.default_rng(11)
    n, m = 2000, 120_000
    rows, cols, w = random_triples(rng, n, m, 300, "few")
    whole = MS.collapse(rows, cols, w, n)
    pieces = [MS.collapse(rows[a:b], cols[a:b], w[a:b], n) for a, b in [(0, 1000), (1000, 70_000), (70_000, m)]]
    again = MS.collapse(*(np.concatenate([getattr(p, f) for p in pieces]) for f in ("rows", "cols", "weights")), n,
                        counts=np.concatenate([p.counts for p in pieces]))
    assert_same_bits(whole, again)
    assert_same_bits(MS.build_csr_counted(again.rows, again.cols, again.weights, n, counts=again.counts),
                     K.build_csr(rows, cols, w, n))


def test_blocks_with_and_without_duplicates():
    """A lane stops hashing after a block with few duplicates; later blocks full of duplicates still collapse."""
    rng = np.random.default_rng(5)
    n = 1 << 14
    m_half = 200_000
    # rows below n/2: distinct random weights (no duplicates); above: 20 columns, 3 weights
    r1 = rng.integers(0, n // 2, m_half).astype(np.uint32)
    c1 = rng.integers(0, 10**6, m_half).astype(np.uint32)
    w1 = rng.random(m_half)
    r2 = rng.integers(n // 2, n, m_half).astype(np.uint32)
    c2 = rng.integers(0, 20, m_half).astype(np.uint32)
    w2 = rng.choice([0.5, 1.0, 2.0], m_half)
    rows, cols, w = (np.concatenate(p) for p in ((r1, r2), (c1, c2), (w1, w2)))
    perm = rng.permutation(len(rows))
    one, two = one_then_two_threads(lambda: MS.collapse(rows, cols, w, n),
                                    lambda: MS.collapse(rows[perm], cols[perm], w[perm], n, n_parts=3))
    _assert_collapse(one, _brute_collapse(rows, cols, w))
    assert_same_bits(one, two)
    assert_same_bits(MS.build_csr_counted(one.rows, one.cols, one.weights, n, counts=one.counts),
                     K.build_csr(rows, cols, w, n))


def test_input_order_and_threads():
    rng = np.random.default_rng(3)
    n, m = 50_000, 400_000
    rows, cols, w = random_triples(rng, n, m, n, "few")
    perm = rng.permutation(m)
    assert_same_bits(*one_then_two_threads(lambda: MS.build_csr_counted(rows, cols, w, n),
                                           lambda: MS.build_csr_counted(rows[perm], cols[perm], w[perm], n)))


def test_empty_and_errors():
    e32 = np.zeros(0, np.uint32)
    indptr, indices, data = MS.build_csr_counted(e32, e32, np.zeros(0), 3)
    assert indptr.tolist() == [0, 0, 0, 0] and indices.size == 0 and data.size == 0
    assert all(a.size == 0 for a in MS.collapse(e32, e32, np.zeros(0), 0))
    one = np.zeros(1, np.uint32)
    with pytest.raises(ValueError, match="same length"):
        MS.collapse(np.zeros(3, np.uint32), np.zeros(2, np.uint32), np.ones(3), 1)
    with pytest.raises(ValueError, match="out of range for n_rows=1"):
        MS.build_csr_counted(np.array([1], np.uint32), one, np.ones(1), 1)
    with pytest.raises(ValueError, match="counts must be at least 1"):
        MS.collapse(one, one, np.ones(1), 1, counts=np.zeros(1, np.uint32))
    with pytest.raises(ValueError, match="counts must have the same length"):
        MS.collapse(one, one, np.ones(1), 1, counts=np.ones(2, np.uint32))
