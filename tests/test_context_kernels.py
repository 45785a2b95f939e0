"""The kernels behind contexts at scale (issue 10), against NumPy and scipy oracles.

- ``encode_contexts`` (the Numba path for integers, the np.unique path for
  sparse integers, text): against ``sorted(set(...))`` and ``list.index``;
  any chunking, slicing (Arrow offsets) and integer type.
- ``merge_contexts``: encoding a column in parts then merging gives the codes
  of the whole column, for any split.
- ``build_pairs``: against a Python set of ``(context, platform)`` pairs.
- ``table_order`` (the contexts table's rows): against Python's ``sorted``
  of the ``(platform, context)`` keys, pairs and lone keys together.
- ``kernels.pairflow`` (the pairs' entries, grouped by pair, outside the
  flow matrix): ``pair_entries`` against a brute-force grouping, any input
  order and thread count; ``scatter_pairs`` against scipy's ``s + P y`` and
  on row blocks against the whole; ``pair_users`` against Python sets; and
  ``solve`` with pairs (their passes folded into the users' injection)
  against a direct sparse solve of the whole system over nodes and pairs.
"""

from __future__ import annotations

import pickle

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.sparse.linalg import spsolve
from examples import HYPO, TIGHT

from graphlabor.contexts import build_pairs, encode_contexts, merge_contexts
from graphlabor.errors import InputError
from graphlabor.kernels.contexts import table_order
from graphlabor.kernels.pairflow import pair_entries, pair_users, scatter_pairs


def _oracle(values: list) -> tuple[list, list[int]]:
    distinct = sorted({v for v in values if v is not None})
    return distinct, [-1 if v is None else distinct.index(v) for v in values]


def _chunked(values: list, typ: pa.DataType, cuts: list[int], pad: int) -> pa.ChunkedArray:
    """``values`` in chunks cut at ``cuts``, each chunk a slice of a larger array (non-zero Arrow offsets)."""
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(values)), len(values)]
    chunks = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        filler = [None if typ != pa.string() else "zz"] * pad
        full = pa.array(filler + values[a:b] + filler, typ)
        chunks.append(full.slice(pad, b - a))
    return pa.chunked_array(chunks, typ)


@HYPO
@given(st.data())
def test_encode_integers_matches_sorted_set(data: st.DataObject) -> None:
    typ = data.draw(st.sampled_from([pa.int64(), pa.int32(), pa.int8(), pa.uint16(), pa.uint64()]))
    info = np.iinfo(typ.to_pandas_dtype())
    spread = data.draw(st.sampled_from([5, 100, 10**9]))  # dense (Numba path) and sparse (np.unique) ranges
    lo = data.draw(st.integers(max(int(info.min), -(10**12)), min(int(info.max), 10**12) - min(spread, int(info.max))))
    hi = min(lo + spread, int(info.max))
    values = data.draw(st.lists(st.one_of(st.none(), st.integers(lo, hi)), max_size=60))
    cuts = data.draw(st.lists(st.integers(0, 60), max_size=4))
    pad = data.draw(st.integers(0, 9))
    col = _chunked(values, typ, cuts, pad)
    got_values, codes = encode_contexts(col)
    want_values, want_codes = _oracle(values)
    assert got_values.to_pylist() == want_values
    assert got_values.type == pa.int64()
    assert codes.dtype == np.int32 and codes.tolist() == want_codes
    # row order does not change the dictionary; each row keeps its value
    perm = np.random.default_rng(len(values)).permutation(len(values))
    pv, pc_ = encode_contexts(pa.array([values[i] for i in perm], typ))
    assert pv.equals(got_values) and (pc_ == codes[perm]).all()


@HYPO
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "é", "ab", "", "z"])), max_size=40),
       st.lists(st.integers(0, 40), max_size=3))
def test_encode_text_matches_sorted_set(values: list, cuts: list[int]) -> None:
    got_values, codes = encode_contexts(_chunked(values, pa.string(), cuts, 2))
    want_values, want_codes = _oracle(values)
    assert got_values.to_pylist() == sorted(want_values, key=lambda s: s.encode())
    assert codes.tolist() == [-1 if v is None else got_values.to_pylist().index(v) for v in values]


def test_encode_edge_cases() -> None:
    v, c = encode_contexts(pa.chunked_array([], pa.int64()))
    assert len(v) == 0 and c.size == 0
    v, c = encode_contexts(pa.array([None, None], pa.int64()))
    assert len(v) == 0 and c.tolist() == [-1, -1]
    v, c = encode_contexts(pa.array([-(2**63), 2**63 - 1, -(2**63)], pa.int64()))  # widest range: np.unique
    assert v.to_pylist() == [-(2**63), 2**63 - 1] and c.tolist() == [0, 1, 0]
    with pytest.raises(InputError, match="column 'ctx' must hold integers or text"):
        encode_contexts(pa.array([1.5]), "e.parquet", "ctx")


@HYPO
@given(st.data())
def test_merge_equals_encoding_the_whole_column(data: st.DataObject) -> None:
    text = data.draw(st.booleans())
    elem = st.sampled_from(["x", "y", "w", "q"]) if text else st.integers(-5, 10**6 if data.draw(st.booleans()) else 20)
    values = data.draw(st.lists(st.one_of(st.none(), elem), max_size=50))
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(values)), max_size=4))))
    bounds = [0, *cuts, len(values)]
    typ = pa.string() if text else pa.int64()
    parts = [encode_contexts(pa.array(values[a:b], typ)) for a, b in zip(bounds[:-1], bounds[1:])]
    merged_values, codes = merge_contexts(parts)
    whole_values, whole_codes = encode_contexts(pa.array(values, typ))
    assert merged_values.to_pylist() == whole_values.to_pylist()
    assert np.concatenate([np.empty(0, np.int32), *codes]).tolist() == whole_codes.tolist()


@HYPO
@given(st.lists(st.tuples(st.integers(-1, 6), st.integers(0, 7)), max_size=40))
def test_build_pairs_matches_set(rows: list[tuple[int, int]]) -> None:
    ctx = np.array([c for c, _ in rows], np.int32)
    dst = np.array([d for _, d in rows], np.uint32)
    is_platform = np.array([True, False, True, True, False, True, True, True])
    p = build_pairs(pa.array(range(7)), dst, ctx, is_platform)
    want = sorted({(c, d) for c, d in rows if c >= 0 and is_platform[d]})
    assert list(zip(p.context.tolist(), p.platform.tolist())) == want
    for c in range(7):
        assert p.context[p.ptr[c]:p.ptr[c + 1]].tolist() == [c] * sum(1 for cc, _ in want if cc == c)
    q = p.match(dst, ctx)
    assert [want[i] if i >= 0 else None for i in q.tolist()] == [
        (c, d) if (c, d) in want else None for c, d in rows]
    # pickled (to Dask workers) without the lookup table match made, and matching the same
    p2 = pickle.loads(pickle.dumps(p))
    assert "_single_pairs" not in p2.__dict__
    assert p2.match(dst, ctx).tolist() == q.tolist()


@HYPO
@given(st.sets(st.tuples(st.integers(0, 6), st.integers(0, 9)), max_size=40), st.data())
def test_table_order_sorts_rows_by_platform_then_context(keys: set[tuple[int, int]], data: st.DataObject) -> None:
    keys_ = sorted(keys)
    lone = data.draw(st.lists(st.booleans(), min_size=len(keys_), max_size=len(keys_)))
    pairs = sorted((c, p) for (p, c), is_lone in zip(keys_, lone) if not is_lone)  # by (context, platform)
    lone_keys = [k for k, is_lone in zip(keys_, lone) if is_lone]  # by (platform, context)
    order = table_order(np.array([p for _, p in pairs], np.uint32), np.array([c for c, _ in pairs], np.int32),
                        np.array([p for p, _ in lone_keys], np.int64), np.array([c for _, c in lone_keys], np.int64), 7)
    rows = [(p, c) for c, p in pairs] + lone_keys
    assert [rows[i] for i in order.tolist()] == sorted(rows)


def _random_pairs(seed: int, n: int, k: int, m: int, ties: bool = True):
    """Random pair edges: users ``src`` in ``[0, n)``, pairs in ``[-1, k)``, weights (some 0, ties), labels."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m).astype(np.uint32)
    pair = rng.integers(-1, k, m).astype(np.int32)
    w = rng.choice([0.0, 0.5, 1.0, 2.0], m) if ties else rng.random(m) * (rng.random(m) < 0.9)
    lab = rng.integers(0, 4, m).astype(np.uint16)
    return src, pair, w, lab


@HYPO
@given(st.integers(0, 10**6), st.integers(1, 40), st.integers(1, 30), st.integers(0, 400), st.booleans())
def test_pair_entries_against_brute_force(seed: int, n: int, k: int, m: int, ties: bool) -> None:
    src, pair, w, lab = _random_pairs(seed, n, k, m, ties)
    # roles: the last node a platform (the target of every edge); one user in five an advertiser (not counted)
    role = np.where(np.arange(n + 1) % 5 == 4, 2, 0).astype(np.int8)
    role[n] = 1
    dst = np.full(m, n, np.uint32)
    got = pair_entries(src, dst, w, role, pair, k, lab, n_parts=3)
    keep = [e for e in range(m) if pair[e] >= 0 and w[e] > 0 and role[src[e]] == 0]
    want = sorted((int(pair[e]), int(src[e]), float(w[e])) for e in keep)
    q = np.repeat(np.arange(k), np.diff(got.ptr.astype(np.int64)))
    assert list(zip(q.tolist(), got.user.tolist(), got.weight.tolist())) == want
    assert sorted(zip(q.tolist(), got.user.tolist(), got.weight.tolist(), got.label.tolist())) == \
        sorted((int(pair[e]), int(src[e]), float(w[e]), int(lab[e])) for e in keep)
    for j in range(k):
        mine = [x for x in want if x[0] == j]
        total = 0.0
        for x in mine:
            total += x[2]
        assert got.out_weight[j] == total
        assert got.contributors[j] == len({x[1] for x in mine})
    # already selected edges (role None): the same entries
    sel = np.array(keep, dtype=np.int64)
    other = pair_entries(src[sel], np.empty(0, np.uint32), w[sel], None, pair[sel], k, lab[sel])
    for a, b in zip(got, other):
        assert np.array_equal(a, b) or a is got.label  # labels of equal (user, weight) may come in any order


@pytest.mark.parametrize("n_users", [300, 100_000, 2**31])
def test_pair_entries_any_order_and_threads(n_users: int) -> None:
    """Large pairs (a radix sort by user of one, two or three passes, then equal users by weight) and small ones
    (an insertion sort): a brute-force lexsort's order, at any input order and thread count."""
    import numba

    src, pair, w, lab = _random_pairs(5, n_users, 2000, 200_000, ties=False)
    pair[:50_000] = 7  # a large pair
    src[:20_000:3] = 12  # one user's many entries in it
    perm = np.random.default_rng(1).permutation(src.shape[0])
    a = pair_entries(src, src, w, None, pair, 2000, lab)
    sel = (pair >= 0) & (w > 0)
    order = np.lexsort((w[sel], src[sel], pair[sel]))
    assert np.array_equal(a.user, src[sel][order]) and np.array_equal(a.weight, w[sel][order])
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b = pair_entries(src[perm], src[perm], w[perm], None, pair[perm], 2000, lab[perm])
    finally:
        numba.set_num_threads(before)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scatter_pairs_against_scipy_and_blocks(seed: int) -> None:
    n, k, m, width = 60, 25, 3000, 5
    src, pair, w, lab = _random_pairs(seed, n, k, m, ties=False)
    e = pair_entries(src, src, w, None, pair, k, lab)
    y = np.random.default_rng(seed).random(k) * (np.arange(k) % 4 != 0)
    s = np.random.default_rng(seed + 1).random(n)
    q = np.repeat(np.arange(k), np.diff(e.ptr.astype(np.int64)))
    P = sp.csr_matrix((e.weight, (e.user.astype(np.int64), q)), shape=(n, k))
    out = s.copy()
    scatter_pairs(e.ptr, e.user, e.weight, np.empty(0, np.uint16), y, 0, 1, out)
    np.testing.assert_allclose(out, s + P @ y, rtol=1e-13)
    # by label: rows user * width + label
    PL = sp.csr_matrix((e.weight, (e.user.astype(np.int64) * width + e.label, q)), shape=(n * width, k))
    via = np.zeros(n * width)
    scatter_pairs(e.ptr, e.user, e.weight, e.label, y, 0, width, via)
    np.testing.assert_allclose(via, PL @ y, rtol=1e-13, atol=1e-300)
    # a block of rows gets the whole's bits there
    for lo, hi in ((0, 17), (17, 41), (41, n)):
        part = s[lo:hi].copy()
        scatter_pairs(e.ptr, e.user, e.weight, np.empty(0, np.uint16), y, lo, 1, part)
        assert part.tobytes() == out[lo:hi].tobytes()
        vpart = np.zeros((hi - lo) * width)
        scatter_pairs(e.ptr, e.user, e.weight, e.label, y, lo, width, vpart)
        assert vpart.tobytes() == via[lo * width:hi * width].tobytes()


def test_pair_users_against_sets() -> None:
    n, k, m, n_plat = 80, 30, 2000, 6
    src, pair, w, _ = _random_pairs(3, n, k, m)
    platform = np.random.default_rng(3).integers(0, n_plat, k).astype(np.uint32)
    e = pair_entries(src, src, w, None, pair, k)
    want = np.zeros(n_plat, np.int64)
    for p in range(n_plat):
        want[p] = len({int(src[j]) for j in range(m) if pair[j] >= 0 and w[j] > 0 and platform[pair[j]] == p})
    every = np.empty(0, np.uint8)
    assert pair_users(e.ptr, e.user, platform, 0, n, n_plat, every).tolist() == want.tolist()
    # counted by blocks of users, the sums are the whole's
    blocks = sum(pair_users(e.ptr, e.user, platform, lo, hi - lo, n_plat, every) for lo, hi in ((0, 30), (30, 55), (55, n)))
    assert blocks.tolist() == want.tolist()
    only = (np.arange(n_plat) % 2).astype(np.uint8)
    assert pair_users(e.ptr, e.user, platform, 0, n, n_plat, only).tolist() == (want * only).tolist()


@pytest.mark.parametrize("solver", ["bicgstab", "jacobi"])
def test_solve_with_pairs_matches_direct_solve(solver: str) -> None:
    """T over the real nodes plus the pairs' entries apart: the solution of the whole (n + k) system (scipy)."""
    import numba

    from graphlabor.graph import FlowGraph
    from graphlabor.params import ModelParams
    from graphlabor.solve import solve

    n, k, m = 40, 25, 600
    rng = np.random.default_rng(7)
    snd, rcv = rng.integers(0, n, 6 * n), rng.integers(0, n, 6 * n)
    T = sp.csr_matrix((rng.random(6 * n), (rcv, snd)), shape=(n, n))
    col = np.asarray(T.sum(axis=0)).ravel()
    T = sp.csr_matrix(T @ sp.diags(np.divide(0.8, col, out=np.zeros_like(col), where=col > 0)))
    T.sort_indices()
    src, pair, w, _ = _random_pairs(8, n, k, m, ties=False)
    e = pair_entries(src, src, w, None, pair, k)
    factor = np.divide(0.9, e.out_weight, out=np.zeros(k), where=e.out_weight > 0)
    q = np.repeat(np.arange(k), np.diff(e.ptr.astype(np.int64)))
    P = sp.csr_matrix((e.weight * factor[q], (e.user.astype(np.int64), q)), shape=(n, k))
    full = sp.bmat([[T, P], [None, sp.csr_matrix((k, k))]]).tocsc()
    s = rng.random(n + k) * (rng.random(n + k) < 0.5)
    keep = np.full(n + k, 0.2)
    g = FlowGraph(n + k, T.indptr.astype(np.uint64), T.indices.astype(np.uint32), T.data, keep, np.ones(n + k),
                  m, None, e, factor)
    params = ModelParams(solver=solver, tol=1e-13, max_iter=10_000)
    x = spsolve(sp.identity(n + k, format="csc") - full, s)
    got = solve(g, s, params)
    np.testing.assert_allclose(got.held, x, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(got.held[n:], s[n:])
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = solve(g, s, params)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.held, got.held)


@HYPO
@given(st.integers(0, 10**6), st.booleans())
def test_attribute_with_contexts_same_bits_any_row_order_and_threads(seed: int, text: bool) -> None:
    """With many contexts (the pairs folded out of the solve): any row order, any thread count, the same bits."""
    import numba
    from examples import random_economy

    import graphlabor

    df = random_economy(seed, n_users=12, n_platforms=3, n_adv=3, p_uu=0.3)
    rng = np.random.default_rng(seed)
    ctx = rng.integers(0, 8, len(df)).astype(object)
    ctx[rng.random(len(df)) < 0.3] = None
    df = df.assign(context=[None if c is None else (f"c{c}" if text else int(c)) for c in ctx])
    base = graphlabor.attribute(df, **TIGHT)
    perm = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        other = graphlabor.attribute(perm, **TIGHT)
    finally:
        numba.set_num_threads(before)
    assert base.nodes.equals(other.nodes)
    assert base.contexts is not None and base.contexts.equals(other.contexts)
