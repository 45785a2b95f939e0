"""kernels/flowbuild.py (flow edges selected while they move into row blocks) against flow_edges + build_csr.

Oracle: the flow edges written out by ``flow_edges`` (its rule is checked by
hand in test_kernels.py and the model tests), then ``build_csr`` (checked
against brute force and scipy in test_kernels.py), on the unsplit edges and
on rows ``receiver * width + label``: equal bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from graphlabor.kernels.flowbuild import flow_csr
from hypothesis import strategies as st
from csr_checks import N_PARTS, assert_same_bits, one_then_two_threads, random_cases, random_triples

from graphlabor import kernels as K


def _economy(rng, n, m, k, kind):
    role = rng.choice(np.array([0, 0, 0, 1, 2], np.int8), n)
    role = np.concatenate([role, np.full(k, K.PLATFORM, np.int8)])
    src = rng.integers(0, n, m).astype(np.uint32)
    dst = rng.integers(0, n, m).astype(np.uint32)
    if kind == "few":
        w = rng.choice([0.0, 1.0, 2.0, 0.5, -1.0], m)
    else:
        w = rng.random(m) - 0.1
    pairs = np.where(rng.random(m) < 0.3, rng.integers(0, max(k, 1), m), -1).astype(np.int32) if k else None
    return role, src, dst, w, pairs


@random_cases(50, n=(1, 2000), m=(0, 20_000), k=(0, 30), width=(1, 17), kind=["few", "distinct"],
              with_idle=st.booleans(), n_parts=N_PARTS)
def test_flow_csr_equals_flow_edges_then_build_csr(n, m, k, width, seed, kind, with_idle, n_parts):
    rng = np.random.default_rng(seed)
    role, src, dst, w, pairs = _economy(rng, n, m, k, kind)
    labels = rng.integers(0, width, m).astype(np.uint16)
    idle = (rng.random(n + k) < 0.2).astype(np.uint8) if with_idle else None
    nt = n + k
    s, r, fw, lab = K.flow_edges(src, dst, w, role, labels, pairs, n, idle)
    n_flow, T, split = flow_csr(src, dst, w, role, labels, width, n, pairs, n, idle, n_parts=n_parts)
    assert n_flow == len(s)
    assert_same_bits(T, K.build_csr(r, s, fw, nt))
    assert_same_bits(split, K.build_csr(r * np.uint32(width) + lab.astype(np.uint32), s, fw, n * width))
    n_flow, T1, none = flow_csr(src, dst, w, role, None, 1, 0, pairs, n, idle, n_parts=n_parts)
    assert none is None and n_flow == len(s)
    assert_same_bits(T1, T)


def test_flow_csr_threads_and_order():
    rng = np.random.default_rng(4)
    n, m, width = 30_000, 600_000, 16
    role, src, dst, w, pairs = _economy(rng, n, m, 0, "few")
    role[:200] = K.PLATFORM  # few platforms: heavy duplication, as in an economy
    dst[: m // 2] = rng.integers(0, 200, m // 2).astype(np.uint32)
    labels = rng.integers(0, width, m).astype(np.uint16)
    perm = rng.permutation(m)
    (_, a, sa), (_, b, sb) = one_then_two_threads(
        lambda: flow_csr(src, dst, w, role, labels, width, n),
        lambda: flow_csr(src[perm], dst[perm], w[perm], role, labels[perm], width, n))
    assert_same_bits(a, b)
    assert_same_bits(sa, sb)
    s, r, fw, lab = K.flow_edges(src, dst, w, role, labels)
    assert_same_bits(a, K.build_csr(r, s, fw, n))


def test_flow_csr_errors():
    role = np.array([0, 1], np.int8)
    one = np.array([0], np.uint32)
    with pytest.raises(ValueError, match="below width=2"):
        flow_csr(one, np.array([1], np.uint32), np.ones(1), role, np.array([2], np.uint16), 2, 2)
    with pytest.raises(ValueError, match="n_label_rows=0"):
        flow_csr(one, np.array([1], np.uint32), np.ones(1), role, np.array([1], np.uint16), 2, 0)


@pytest.mark.parametrize("n_labels", [3, 70_000])
def test_build_flow_graph_split_by_many_labels(n_labels):
    """More kinds than the 16-bit label field: the split is built on its own, with the same T."""
    from graphlabor.graph import build_flow_graph
    from graphlabor.params import ModelParams

    rng = np.random.default_rng(6)
    role, src, dst, w, _ = _economy(rng, 300, 5000, 0, "few")
    labels = rng.integers(0, 3, 5000).astype(np.uint32) * (n_labels // 3)
    g = build_flow_graph(src, dst, w, role, ModelParams(), labels=labels, n_labels=n_labels)
    plain = build_flow_graph(src, dst, w, role, ModelParams())
    assert_same_bits((g.indptr, g.indices, g.data), (plain.indptr, plain.indices, plain.data))
    width = n_labels + 1
    s, r, fw, lab = K.flow_edges(src, dst, w, role, labels)
    assert g.by_label is not None and g.by_label[3] == width
    assert_same_bits(g.by_label[:3], K.build_csr(r * np.uint32(width) + lab.astype(np.uint32), s, fw, 300 * width))
    # with (platform, context) pairs: the same T and pair entries as without labels
    role, src, dst, w, pairs = _economy(rng, 300, 5000, 20, "few")
    g = build_flow_graph(src, dst, w, role, ModelParams(), labels=labels, n_labels=n_labels, pairs=pairs, first_pair=300)
    plain = build_flow_graph(src, dst, w, role, ModelParams(), pairs=pairs, first_pair=300)
    assert_same_bits((g.indptr, g.indices, g.data, g.out_weight), (plain.indptr, plain.indices, plain.data,
                                                                   plain.out_weight))
    assert_same_bits(g.pairs[:3], plain.pairs[:3])
    assert g.by_label is not None and g.by_label[3] == width


def test_flow_csr_all_users():
    """Every node a user and every weight positive: every edge flows as given (the PageRank case)."""
    rng = np.random.default_rng(9)
    n, m = 5000, 80_000
    src, dst, w = random_triples(rng, n, m, n, "few")  # every weight positive
    role = np.zeros(n, np.int8)
    n_flow, T, split = flow_csr(src, dst, w, role)
    assert n_flow == m and split is None
    assert_same_bits(T, K.build_csr(dst, src, w, n))
    w[0] = 0.0  # one edge carries nothing: the general path
    n_flow, T, _ = flow_csr(src, dst, w, role)
    assert n_flow == m - 1
    assert_same_bits(T, K.build_csr(dst[1:], src[1:], w[1:], n))


@random_cases(40, n=(1, 400), m=(0, 6000), k=(1, 30), n_labels=(1, 16), kind=["few", "distinct"],
              with_idle=st.booleans())
def test_flow_graph_pairs_apart_equals_build_csr_and_brute_force(n, m, k, n_labels, seed, kind, with_idle):
    """With contexts, build_flow_graph builds T over the real senders only (build_csr of flow_edges' real
    senders' entries, its split by kind too) and keeps the pairs' entries apart, grouped by pair, each pair's
    by user then weight (a brute-force sort), W_q their sum in that order, contributors the distinct users."""
    from graphlabor.graph import build_flow_graph
    from graphlabor.params import ModelParams

    rng = np.random.default_rng(seed)
    role, src, dst, w, pairs = _economy(rng, n, m, k, kind)
    labels = rng.integers(0, n_labels, m).astype(np.uint16)
    idle = (rng.random(n) < 0.2).astype(np.uint8) if with_idle else None
    width = n_labels + 1
    s, r, fw, lab = K.flow_edges(src, dst, w, role, labels, pairs, n, idle)
    real, pe = s < n, s >= n
    T = K.build_csr(r[real], s[real], fw[real], n)
    split = K.build_csr(r[real] * np.uint32(width) + lab[real].astype(np.uint32), s[real], fw[real], n * width)
    ow = np.zeros(n + k)
    np.add.at(ow, T[1], T[2])  # per column, rows in order (as column_sums)
    q, u, pw, pl = (s[pe] - np.uint32(n)).astype(np.int64), r[pe], fw[pe], lab[pe]
    order = np.lexsort((pw, u, q))
    q, u, pw, pl = q[order], u[order], pw[order], pl[order]
    contributors = np.zeros(k, np.int64)
    for j in range(k):
        mine = q == j
        total = 0.0
        for x in pw[mine]:
            total += x  # each pair's weights in entry order
        ow[n + j] = total
        contributors[j] = np.unique(u[mine]).size
    params = ModelParams()
    rl = np.concatenate([role[:n], np.full(k, K.PLATFORM, np.int8)])
    passed = np.where(ow > 0, np.where(rl == K.USER, params.damping,
                                       np.where(rl == K.PLATFORM, 1.0 - params.platform_share, 0.0)), 0.0)
    factor = np.divide(passed, ow, out=np.zeros(n + k), where=ow > 0)
    for with_labels in (True, False):
        g = build_flow_graph(src, dst, w, rl, params, labels=labels if with_labels else None, n_labels=n_labels,
                             pairs=pairs, first_pair=n, idle=idle)
        assert g.n_flow_edges == len(s) and g.rows == n and g.n == n + k
        assert_same_bits((g.indptr, g.indices, g.out_weight, g.data), (T[0], T[1], ow, T[2] * factor[T[1]]))
        e = g.pairs
        assert np.array_equal(np.repeat(np.arange(k), np.diff(e.ptr.astype(np.int64))), q)
        assert_same_bits((e.user, e.weight, e.contributors), (u, pw, contributors))
        assert_same_bits((g.pair_factor,), (factor[n:],))
        if with_labels:
            assert_same_bits(g.by_label[:3], split)
            # labels travel with their entries (ties of user and weight in any order)
            got = sorted(zip(np.repeat(np.arange(k), np.diff(e.ptr.astype(np.int64))).tolist(), e.user.tolist(),
                             e.weight.tolist(), e.label.tolist()))
            assert got == sorted(zip(q.tolist(), u.tolist(), pw.tolist(), pl.tolist()))
        else:
            assert g.by_label is None and e.label.shape[0] == 0
