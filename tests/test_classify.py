"""kernels.classify against plain NumPy masks (the way the classes were split before the kernel)."""

from __future__ import annotations

import numpy as np
import pytest
from graphlabor.kernels.classify import (
    CONTRIBUTION,
    PAY,
    REVENUE,
    node_evidence,
    or_at,
    split_by_class,
    to_global,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from graphlabor.roles import infer_roles


@st.composite
def edges(draw):
    n = draw(st.integers(1, 12))
    m = draw(st.integers(0, 40))
    ints = st.lists(st.integers(0, n - 1), min_size=m, max_size=m)
    src = np.array(draw(ints), dtype=np.uint32)
    dst = np.array(draw(ints), dtype=np.uint32)
    n_kinds = draw(st.integers(1, 4))
    kind = np.array(draw(st.lists(st.integers(0, n_kinds - 1), min_size=m, max_size=m)), dtype=np.uint32)
    class_of_kind = np.array(draw(st.lists(st.sampled_from([CONTRIBUTION, REVENUE, PAY]), min_size=n_kinds, max_size=n_kinds)), np.uint8)
    weight = np.array(draw(st.lists(st.floats(0, 10), min_size=m, max_size=m)))
    weight_of_kind = np.array(draw(st.lists(st.floats(0, 3), min_size=n_kinds, max_size=n_kinds)))
    seconds = np.array(draw(st.lists(st.integers(-10**9, 10**9), min_size=m, max_size=m)), dtype=np.int64)
    return n, src, dst, kind, class_of_kind[kind] if m else np.empty(0, np.uint8), weight, weight_of_kind, seconds


@settings(max_examples=300, deadline=None)
@given(edges(), st.booleans())
def test_split_matches_masks(e, timed):
    _, src, dst, kind, edge_class, weight, weight_of_kind, seconds = e
    (s, d, k, v, t), rev, pay = split_by_class(src, dst, kind, edge_class, weight, weight_of_kind, seconds if timed else None)
    c = edge_class == CONTRIBUTION
    assert s.tolist() == src[c].tolist() and d.tolist() == dst[c].tolist() and k.tolist() == kind[c].tolist()
    assert k.dtype == np.uint16
    np.testing.assert_array_equal(v, weight[c] * weight_of_kind[kind[c]])
    assert (t is None) if not timed else t.tolist() == seconds[c].tolist()
    assert rev.tolist() == np.flatnonzero(edge_class == REVENUE).tolist()
    assert pay.tolist() == np.flatnonzero(edge_class == PAY).tolist()


def _roles_by_masks(n, src, dst, edge_class):
    """The role rules of docs/model.md section 1, written with boolean masks."""
    def ends(mask, col):
        out = np.zeros(n, bool)
        out[col[mask]] = True
        return out

    revenue, pay, contribution = edge_class == REVENUE, edge_class == PAY, edge_class == CONTRIBUTION
    receives_revenue, sends_revenue = ends(revenue, dst), ends(revenue, src)
    sends_pay, receives_pay = ends(pay, src), ends(pay, dst)
    acts = ends(contribution, src)
    role = np.zeros(n, np.int8)
    role[sends_revenue] = 2
    role[sends_pay & ~acts & ~receives_pay] = 1
    role[receives_revenue] = 1
    return role, receives_revenue | sends_pay


@settings(max_examples=300, deadline=None)
@given(edges())
def test_roles_match_masks(e):
    n, src, dst, _, edge_class, *_ = e
    role, platform = _roles_by_masks(n, src, dst, edge_class)
    assert infer_roles(n, src, dst, edge_class).tolist() == role.tolist()
    assert ((node_evidence(src, dst, edge_class, n) & 5) != 0).tolist() == platform.tolist()


@pytest.mark.parametrize("threads", [1, 2])
def test_split_large_input(threads):
    """A larger input at 1 and 2 threads: the same rows in input order as the masks."""
    import numba

    rng = np.random.default_rng(11)
    m, n = 2 * 65536 + 77, 500
    src = rng.integers(0, n, m).astype(np.uint32)
    dst = rng.integers(0, n, m).astype(np.uint32)
    kind = rng.integers(0, 5, m).astype(np.uint16)
    edge_class = np.array([0, 0, 1, 2, 0], np.uint8)[kind]
    weight = rng.random(m)
    seconds = rng.integers(0, 10**9, m)
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        (s, d, k, v, t), rev, pay = split_by_class(src, dst, kind, edge_class, weight, np.arange(5.0), seconds)
    finally:
        numba.set_num_threads(before)
    c = edge_class == 0
    assert s.tolist() == src[c].tolist() and d.tolist() == dst[c].tolist() and t.tolist() == seconds[c].tolist()
    assert k.tolist() == kind[c].tolist()
    assert v.tolist() == (weight[c] * np.arange(5.0)[kind[c]]).tolist()
    assert rev.tolist() == np.flatnonzero(edge_class == 1).tolist() and pay.tolist() == np.flatnonzero(edge_class == 2).tolist()


@pytest.mark.parametrize("timed", [False, True])
def test_to_global_is_a_gather_into_place(timed):
    """to_global against np.take through the maps, into rows start.. of a larger output; rows around untouched."""
    rng = np.random.default_rng(5)
    m, n_local, n_global = 5000, 300, 1000
    codes = rng.choice(n_global, n_local, replace=False).astype(np.uint32)
    kind_codes = np.array([3, 0, 2], np.uint16)
    src, dst = (rng.integers(0, n_local, m).astype(np.uint32) for _ in range(2))
    kind = rng.integers(0, 3, m).astype(np.uint16)
    value, seconds = rng.random(m), rng.integers(-10**9, 10**9, m)
    out = (np.full(m + 10, 7, np.uint32), np.full(m + 10, 7, np.uint32), np.full(m + 10, 7, np.uint16),
           np.full(m + 10, -1.0), np.full(m + 10, 7, np.int64) if timed else None)
    to_global(codes, kind_codes, (src, dst, kind, value, seconds if timed else None), out, 4)
    want = (np.take(codes, src), np.take(codes, dst), np.take(kind_codes, kind), value, seconds)
    for o, w in zip(out, want):
        if o is None:
            continue
        assert o[4:4 + m].tolist() == w.tolist()
        assert (o[:4] == o.dtype.type(7 if o.dtype.kind != "f" else -1)).all() and (o[4 + m:] == o[0]).all()


def test_to_global_refuses_codes_past_the_maps():
    out = (np.zeros(2, np.uint32), np.zeros(2, np.uint32), np.zeros(2, np.uint16), np.zeros(2), None)
    chunk = (np.array([0, 2], np.uint32), np.array([0, 1], np.uint32), np.zeros(2, np.uint16), np.zeros(2), None)
    with pytest.raises(ValueError, match="1 edges hold a local code past the end"):
        to_global(np.array([5, 6], np.uint32), np.array([0], np.uint16), chunk, out, 0)
    with pytest.raises(ValueError, match="do not fit"):
        to_global(np.array([5, 6, 7], np.uint32), np.array([0], np.uint16), chunk, out, 1)
    with pytest.raises(ValueError, match="uint32 ids"):
        to_global(np.array([5, 6, 7], np.int64), np.array([0], np.uint16), chunk, out, 0)


def test_or_at_matches_fancy_indexing():
    rng = np.random.default_rng(6)
    flags = rng.integers(0, 64, 500).astype(np.uint8)
    at = rng.choice(500, 200, replace=False).astype(np.uint32)
    values = rng.integers(0, 64, 200).astype(np.uint8)
    want = flags.copy()
    want[at] |= values
    or_at(flags, at, values)
    assert flags.tolist() == want.tolist()
    with pytest.raises(ValueError, match="past the end"):
        or_at(flags, np.array([500], np.uint32), np.array([1], np.uint8))
