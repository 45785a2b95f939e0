"""The kernels behind contexts at scale (issue 10), against NumPy and scipy oracles.

- ``encode_contexts`` (the Numba path for integers, the np.unique path for
  sparse integers, text): against ``sorted(set(...))`` and ``list.index``;
  any chunking, slicing (Arrow offsets) and integer type.
- ``merge_contexts``: encoding a column in parts then merging gives the codes
  of the whole column, for any split.
- ``build_pairs``: against a Python set of ``(context, platform)`` pairs.
- ``fold_sources`` and ``solve(receivers=...)``: the folded injection against
  ``s + T[:, n:] s[n:]`` by scipy, and the solution against a direct sparse
  solve of the whole system.
"""

from __future__ import annotations

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
from graphlabor.kernels.contexts import fold_sources


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


def _random_flow(seed: int, n: int, k: int) -> tuple[sp.csr_matrix, np.ndarray]:
    """A sub-stochastic ``T`` over ``n + k`` nodes whose last ``k`` rows are empty, and an injection."""
    rng = np.random.default_rng(seed)
    m = 6 * (n + k)
    snd = rng.integers(0, n + k, m)
    rcv = rng.integers(0, n, m)
    w = rng.random(m)
    T = sp.csr_matrix((w, (rcv, snd)), shape=(n + k, n + k))
    col = np.asarray(T.sum(axis=0)).ravel()
    T = sp.csr_matrix(T @ sp.diags(np.divide(0.8, col, out=np.zeros_like(col), where=col > 0)))
    T.sort_indices()
    s = rng.random(n + k) * (rng.random(n + k) < 0.5)
    return T, s


@HYPO
@given(st.integers(0, 10**6), st.integers(1, 30), st.integers(0, 30))
def test_fold_sources_against_scipy(seed: int, n: int, k: int) -> None:
    T, s = _random_flow(seed, n, k)
    ip, ix, dt, s2 = fold_sources(T.indptr.astype(np.uint64), T.indices.astype(np.uint32), T.data, s, n)
    want_T = T[:n, :n].tocsr()
    want_T.sort_indices()
    got = sp.csr_matrix((dt, ix, ip), shape=(n, n))
    assert abs(got - want_T).sum() == 0
    np.testing.assert_allclose(s2, s[:n] + T[:n, n:] @ s[n:], rtol=1e-14, atol=1e-300)
    # the folded system has the full system's solution
    x = spsolve(sp.identity(n + k, format="csc") - T.tocsc(), s)
    x_folded = spsolve(sp.identity(n, format="csc") - got.tocsc(), s2) if n else np.empty(0)
    np.testing.assert_allclose(x_folded, x[:n], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(x[n:], s[n:])


def test_fold_sources_refuses_a_receiving_source() -> None:
    T = sp.csr_matrix(np.array([[0.0, 0.5], [0.5, 0.0]]))
    assert fold_sources(T.indptr.astype(np.uint64), T.indices.astype(np.uint32), T.data, np.ones(2), 1) is None


@pytest.mark.parametrize("solver", ["bicgstab", "jacobi"])
def test_solve_with_receivers_matches_direct_solve(solver: str) -> None:
    from graphlabor.graph import FlowGraph
    from graphlabor.params import ModelParams
    from graphlabor.solve import solve

    n, k = 40, 25
    T, s = _random_flow(7, n, k)
    keep = np.full(n + k, 0.2)
    g = FlowGraph(n + k, T.indptr.astype(np.uint64), T.indices.astype(np.uint32), T.data, keep,
                  np.ones(n + k), T.nnz)
    params = ModelParams(solver=solver, tol=1e-13, max_iter=10_000)
    x = spsolve(sp.identity(n + k, format="csc") - T.tocsc(), s)
    folded = solve(g, s, params, receivers=n)
    np.testing.assert_allclose(folded.held, x, rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(folded.held[n:], s[n:])
    # the same bits at any thread count
    import numba

    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = solve(g, s, params, receivers=n)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one.held, folded.held)


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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_concat_columns_against_scipy_hstack(seed: int) -> None:
    from graphlabor.kernels.contexts import concat_columns

    rows, na, nb, extra = 50, 20, 30, 7
    a = sp.random(rows, na, density=0.2, format="csr", random_state=seed)
    b = sp.random(rows, nb, density=0.1, format="csr", random_state=seed + 10)
    a.sort_indices()
    b.sort_indices()
    csr = lambda m: (m.indptr.astype(np.uint64), m.indices.astype(np.uint32), m.data)  # noqa: E731
    p, i, d = concat_columns(csr(a), csr(b), na, rows + extra)
    want = sp.vstack([sp.hstack([a, b]), sp.csr_matrix((extra, na + nb))]).tocsr()
    want.sort_indices()
    assert p.tolist() == want.indptr.tolist() and i.tolist() == want.indices.tolist()
    assert np.array_equal(d, want.data)
