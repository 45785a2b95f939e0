"""kernels.kindrows.merge_row_groups and the flow graph split by kind, against scipy.sparse."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from graphlabor.kernels import build_csr
from graphlabor.kernels.kindrows import merge_row_groups
from hypothesis import given, settings
from hypothesis import strategies as st

from graphlabor.graph import build_flow_graph
from graphlabor.params import ModelParams


@st.composite
def labelled_edges(draw):
    n = draw(st.integers(1, 9))
    width = draw(st.integers(1, 5))
    m = draw(st.integers(0, 60))
    def ints(hi):
        return st.lists(st.integers(0, hi), min_size=m, max_size=m)

    rows = np.array(draw(ints(n * width - 1)), dtype=np.uint32)
    cols = np.array(draw(ints(n - 1)), dtype=np.uint32)
    w = np.array(draw(st.lists(st.floats(0.01, 100), min_size=m, max_size=m)))
    return n, width, rows, cols, w


@settings(max_examples=300, deadline=None)
@given(labelled_edges())
def test_merge_row_groups_matches_scipy(e):
    n, width, rows, cols, w = e
    indptr, indices, data = build_csr(rows, cols, w, n * width)
    p, i, d = merge_row_groups(indptr, indices, data, width)
    want = sp.csr_matrix((w, (rows // width, cols)), shape=(n, n))
    want.sum_duplicates()
    want.sort_indices()
    assert p.tolist() == want.indptr.tolist()
    assert i.tolist() == want.indices.tolist()
    np.testing.assert_allclose(d, want.data, rtol=1e-12)
    # entries of one column are added in label order from 0.0
    for r in range(n):
        for k in range(int(p[r]), int(p[r + 1])):
            parts = [data[q] for lab in range(width)
                     for q in range(int(indptr[r * width + lab]), int(indptr[r * width + lab + 1])) if indices[q] == i[k]]
            acc = 0.0
            for v in parts:
                acc += v
            assert d[k] == acc


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 8), st.integers(0, 40), st.integers(1, 4), st.randoms(use_true_random=False))
def test_flow_graph_with_labels_is_the_same_matrix(n, m, n_labels, rnd):
    rng = np.random.default_rng(rnd.randint(0, 2**32 - 1))
    src = rng.integers(0, n, m).astype(np.uint32)
    dst = rng.integers(0, n, m).astype(np.uint32)
    w = rng.uniform(0.1, 3, m)
    role = rng.integers(0, 3, n).astype(np.int8)
    labels = rng.integers(0, n_labels, m).astype(np.uint16)
    params = ModelParams(damping=0.7, platform_share=0.2)
    plain = build_flow_graph(src, dst, w, role, params)
    split = build_flow_graph(src, dst, w, role, params, labels, n_labels)
    assert split.indptr.tolist() == plain.indptr.tolist() and split.indices.tolist() == plain.indices.tolist()
    np.testing.assert_allclose(split.data, plain.data, rtol=1e-13)
    np.testing.assert_allclose(split.keep, plain.keep, rtol=1e-13)
    kptr, kidx, kdat, width = split.by_label
    assert width == n_labels + 1
    # row i * width + k: weights of the flow edges into i with label k (scipy from the edges)
    # a user acting on a user passes to it; on a platform, receives from it
    dst_role = role[dst]
    flow = (role[src] == 0) & (dst_role <= 1) & (w > 0)
    snd = np.where(dst_role[flow] == 1, dst[flow], src[flow])
    rcv = np.where(dst_role[flow] == 1, src[flow], dst[flow])
    want = sp.csr_matrix((w[flow], (rcv.astype(np.int64) * width + labels[flow], snd)), shape=(n * width, n))
    want.sum_duplicates()
    want.sort_indices()
    assert kptr.tolist() == want.indptr.tolist() and kidx.tolist() == want.indices.tolist()
    np.testing.assert_allclose(kdat, want.data, rtol=1e-12)
