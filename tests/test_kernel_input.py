"""The public kernels refuse bad arguments with a ValueError naming the argument.

A row index past ``n_rows`` used to write outside the arrays (a segmentation
fault), and negative indices or indices >= 2**32 wrapped silently into a
valid-looking graph.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from graphlabor import kernels as K

u32 = np.uint32
ONE = np.ones(1)


@pytest.mark.parametrize(
    ("rows", "cols", "weights", "n_rows", "name"),
    [
        (np.array([3], u32), np.array([0], u32), ONE, 3, "rows"),  # >= n_rows: used to crash the process
        (np.array([-1], np.int64), np.array([0], u32), ONE, 3, "rows"),
        (np.array([2**32], np.int64), np.array([0], u32), ONE, 3, "rows"),  # wrapped to 0
        (np.array([0.5]), np.array([0], u32), ONE, 3, "rows"),
        (np.array([[0]], u32), np.array([0], u32), ONE, 3, "rows"),
        (np.array([0], u32), np.array([-2], np.int64), ONE, 3, "cols"),
        (np.array([0], u32), np.array([2**32 + 1], np.int64), ONE, 3, "cols"),
        (np.array([0, 1], u32), np.array([0], u32), np.ones(2), 3, "cols"),
        (np.array([0], u32), np.array([0], u32), np.ones(2), 3, "weights"),
        (np.array([0], u32), np.array([0], u32), np.array(["a"]), 3, "weights"),
        (np.array([0], u32), np.array([0], u32), ONE, -1, "n_rows"),
        (np.array([0], u32), np.array([0], u32), ONE, 1.5, "n_rows"),
    ],
)
def test_build_csr_refuses(rows, cols, weights, n_rows, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        K.build_csr(rows, cols, weights, n_rows)


def test_build_csr_accepts_any_integer_dtype_in_range():
    rows = np.array([2, 0, 2], np.int64)
    cols = np.array([1, 4, 1], np.int16)
    got = K.build_csr(rows, cols, [1.0, 2.0, 0.5], 3)
    want = sp.csr_matrix(([1.0, 2.0, 0.5], (rows, cols)), shape=(3, 5))
    want.sum_duplicates()
    assert isinstance(got, K.CSR)
    assert got.indptr.tolist() == want.indptr.tolist()
    assert got.indices.tolist() == want.indices.tolist()
    assert got.data.tolist() == want.data.tolist()


def _csr():
    # [[0, 1.5], [2, 0], [0, 0]]
    return np.array([0, 1, 2, 2], np.uint64), np.array([1, 0], u32), np.array([1.5, 2.0])


@pytest.mark.parametrize(
    ("change", "n_cols", "name"),
    [
        ({}, 1, "indices"),  # column 1 >= n_cols
        ({"indices": np.array([1, -1], np.int64)}, 2, "indices"),
        ({"indptr": np.array([0, 2, 1, 2], np.uint64)}, 2, "indptr"),  # decreasing
        ({"indptr": np.array([1, 1, 2, 2], np.uint64)}, 2, "indptr"),
        ({"indptr": np.array([0, 1, 2, 3], np.uint64)}, 2, "indices"),  # indptr[-1] != nnz
        ({"data": np.ones(3)}, 2, "indices and data"),
        ({}, -1, "n_cols"),
    ],
)
def test_transpose_csr_refuses(change, n_cols, name):
    indptr, indices, data = _csr()
    args = dict(indptr=indptr, indices=indices, data=data) | change
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        K.transpose_csr(args["indptr"], args["indices"], args["data"], n_cols)


def test_transpose_csr_is_scipy_transpose():
    t = K.transpose_csr(*_csr(), 2)
    want = sp.csr_matrix(sp.csr_matrix((_csr()[2], _csr()[1], _csr()[0]), shape=(3, 2)).T)
    assert t.indptr.tolist() == want.indptr.tolist() and t.data.tolist() == want.data.tolist()


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"x": np.zeros(1)}, "indices"),  # sender 1 outside x
        ({"s": np.zeros(2)}, "s"),
        ({"out": np.zeros(3, np.float32)}, "out"),
        ({"out": np.zeros(2)}, "out"),
        ({"partials": np.zeros(2)}, "partials"),
        ({"row0": 2048}, "rows"),
        ({"row0": 1}, "row0"),
        ({"row0": -2048}, "row0"),
    ],
)
def test_propagate_step_refuses(change, name):
    indptr, indices, data = _csr()
    args = dict(x=np.ones(3), s=np.zeros(3), out=np.empty(3), row0=0, partials=None) | change
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        K.propagate_step(indptr, indices, data, args["x"], args["s"], args["out"], args["row0"], args["partials"])


def test_propagate_step_matches_scipy():
    indptr, indices, data = _csr()
    x = np.array([1.0, 2.0, 4.0])
    s = np.array([0.25, 0.5, 1.0])
    out = np.empty(3)
    res = K.propagate_step(indptr, indices, data, x, s, out)
    want = s + sp.csr_matrix((data, indices, indptr), shape=(3, 3)) @ x
    assert out.tolist() == want.tolist()
    assert res == float(np.abs(want - x).sum())


@pytest.mark.parametrize(
    ("s", "kwargs", "name"),
    [
        (np.zeros(2), {}, "indptr"),  # T is 3 x 3, s has 2 entries
        (np.zeros(3), {"x0": np.zeros(4)}, "x0"),
        (np.zeros(3), {"tol": -1.0}, "tol"),
        (np.zeros(3), {"max_iter": -1}, "max_iter"),
    ],
)
def test_power_iteration_refuses(s, kwargs, name):
    tol = kwargs.pop("tol", 1e-12)
    max_iter = kwargs.pop("max_iter", 10)
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        K.power_iteration(*_csr(), s, tol, max_iter, **kwargs)


def test_power_iteration_returns_named_fields():
    # node 0 passes half of what it holds to node 1, and node 1 half to node 0
    T = K.build_csr(np.array([0, 1], u32), np.array([1, 0], u32), np.array([0.5, 0.5]), 2)
    r = K.power_iteration(*T, np.array([1.0, 0.0]), 1e-13, 200)
    assert isinstance(r, K.PowerIterationResult)
    np.testing.assert_allclose(r.x, np.linalg.solve(np.array([[1, -0.5], [-0.5, 1]]), [1.0, 0.0]), rtol=1e-12)
    assert r.converged is True and r.residual < 1e-13 and 0 < r.n_iter < 200


@pytest.mark.parametrize(
    ("keys", "values", "n_groups", "name"),
    [
        (np.array([3]), ONE, 3, "keys"),
        (np.array([-1]), ONE, 3, "keys"),
        (np.array([1.0]), ONE, 3, "keys"),
        (np.array([0, 1]), ONE, 3, "values"),
        (np.array([0]), ONE, -3, "n_groups"),
    ],
)
def test_group_sum_refuses(keys, values, n_groups, name):
    with pytest.raises(ValueError, match=rf"^{name}\b"):
        K.group_sum(keys, values, n_groups)


def test_all_is_the_documented_api():
    documented = {"build_csr", "transpose_csr", "group_sum", "propagate_step", "power_iteration", "n_chunks"}
    types = {"CSR", "PowerIterationResult"}
    constants = {"INDEX_DTYPE", "INDPTR_DTYPE", "MAX_NODES", "CHUNK_ROWS"}
    assert set(K.__all__) == documented | types | constants
    for name in documented | types:
        assert getattr(K, name).__doc__, name
