"""The flow graph split by kind: the same matrix ``T`` as without labels, and the split against scipy.sparse."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from graphlabor.graph import build_flow_graph
from graphlabor.params import ModelParams


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
    # bit for bit: the attributed values must not depend on whether a breakdown is asked for
    assert split.indptr.tolist() == plain.indptr.tolist() and split.indices.tolist() == plain.indices.tolist()
    assert split.data.tobytes() == plain.data.tobytes()
    assert split.keep.tobytes() == plain.keep.tobytes()
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
