"""The BiCGSTAB solver (kernels/krylov.py) against scipy, brute force and the power iteration.

Oracles: ``scipy.sparse.linalg.spsolve`` of ``(I - T) x = s`` for the values,
the true residual recomputed with scipy for the guarantee, the Neumann
series (value still in flight, computed with scipy) for Jacobi's stopping
rule, and fresh processes at 1 and 2 Numba threads for bit-identity.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from hypothesis import given, settings
from hypothesis import strategies as st

from graphlabor import kernels as K
from graphlabor.errors import ConvergenceError
from graphlabor.graph import build_flow_graph
from graphlabor.kernels import krylov
from graphlabor.kernels import layout as L
from graphlabor.kernels.propagate import PullOperator
from graphlabor.params import ModelParams
from graphlabor.solve import propagate, solve


def _economy_T(n, m, seed, n_platforms=0, damping=0.85, order=None):
    """Random flow matrix: users pass ``damping``, platforms (the first ``n_platforms`` nodes) pass all to users."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(n_platforms, n, m)  # nothing flows into a platform
    w = rng.uniform(0.1, 2.0, m)
    out_w = np.bincount(src, weights=w, minlength=n)
    share = np.where(np.arange(n) < n_platforms, 1.0, damping)
    data = share[src] * w / out_w[src]
    if order is not None:
        src, dst, data = src[order], dst[order], data[order]
    T = K.build_csr(dst.astype(np.uint32), src.astype(np.uint32), data, n)
    A = sp.csr_matrix((T[2], T[1].astype(np.int64), T[0].astype(np.int64)), shape=(n, n))
    return T, A


def _injection(n, seed, n_platforms=0):
    rng = np.random.default_rng(seed + 100)
    s = np.zeros(n)
    if n_platforms:
        s[:n_platforms] = rng.uniform(1, 100, n_platforms)  # revenue enters at platforms only
    else:
        s[rng.integers(0, n, max(n // 10, 1))] = rng.uniform(0, 5, max(n // 10, 1))
    return s


def _true_residual(A, s, x):
    return float(np.abs(s + A @ x - x).sum())


@pytest.mark.parametrize("kernel", ["pull", "blocked"])
@pytest.mark.parametrize("n, m, n_platforms, seed", [(50, 200, 0, 1), (3000, 20_000, 0, 2), (5000, 40_000, 40, 3), (2049, 4000, 5, 4)])
def test_bicgstab_equals_spsolve(kernel, n, m, n_platforms, seed):
    T, A = _economy_T(n, m, seed, n_platforms)
    s = _injection(n, seed, n_platforms)
    S = s.sum()
    x, passes, res, ok = propagate(*T, s, 1e-12 * S, 1000, kernel=kernel, solver="bicgstab")
    assert ok and res < 1e-12 * S
    direct = spla.spsolve((sp.identity(n, format="csc") - A.tocsc()), s)
    np.testing.assert_allclose(x, direct, rtol=0, atol=1e-11 * S)
    assert (x >= 0).all()
    # the returned x is one step past the checked iterate: its own true residual is no larger
    assert _true_residual(A, s, x) <= res * (1 + 1e-9) + 1e-300


@pytest.mark.parametrize("n_platforms", [0, 60])
def test_bicgstab_needs_3x_fewer_passes_than_jacobi(n_platforms):
    T, A = _economy_T(20_000, 200_000, 7, n_platforms)
    s = _injection(20_000, 7, n_platforms)
    tol = 1e-10 * s.sum()
    _, jac, jres, jok = propagate(*T, s, tol, 1000, solver="jacobi")
    x, bic, bres, bok = propagate(*T, s, tol, 1000, solver="bicgstab")
    assert jok and bok
    assert 3 * bic <= jac, (bic, jac)
    # at the same guarantee: the true residuals, recomputed by scipy
    assert _true_residual(A, s, x) < tol


def test_jacobi_stops_when_value_in_flight_is_below_tol():
    T, A = _economy_T(400, 2000, 9, 4)
    s = _injection(400, 9, 4)
    tol = 1e-9 * s.sum()
    # the first k with ||T^k s||_1 < tol (nothing cancels: all terms are >= 0)
    v, k = s.copy(), 0
    while True:
        v = A @ v
        k += 1
        if np.abs(v).sum() < tol:
            break
    for kernel in ("pull", "blocked"):
        _, n_iter, res, ok = propagate(*T, s, tol, 1000, kernel=kernel, solver="jacobi")
        assert ok and n_iter == k
        assert res == pytest.approx(np.abs(v).sum(), rel=1e-9)


def test_pull_and_blocked_give_the_same_bits_and_input_order_does_not_matter():
    n, m = 30_000, 250_000
    T, _ = _economy_T(n, m, 11, 30)
    Tp, _ = _economy_T(n, m, 11, 30, order=np.random.default_rng(5).permutation(m))
    s = _injection(n, 11, 30)
    lay = L.blocked_layout(*T, bin_rows=4096)
    a = krylov.bicgstab(PullOperator(*T), s, 1e-10 * s.sum(), 1000)
    b = krylov.bicgstab(L.BlockedOperator(lay), s, 1e-10 * s.sum(), 1000)
    c = krylov.bicgstab(PullOperator(*Tp), s, 1e-10 * s.sum(), 1000)
    for other in (b, c):
        assert np.array_equal(a[0], other[0]) and a[1:] == other[1:]


_BITS = """
import hashlib, json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from test_krylov import _economy_T, _injection
from graphlabor.kernels import krylov, layout as L
from graphlabor.kernels.propagate import PullOperator
import numba
T, _ = _economy_T(50_000, 400_000, 13, 50)
s = _injection(50_000, 13, 50)
out = {{"threads": numba.get_num_threads()}}
for name, op in (("pull", PullOperator(*T)), ("blocked", L.BlockedOperator(L.blocked_layout(*T, bin_rows=4096)))):
    x, k, res, ok = krylov.bicgstab(op, s, 1e-10 * s.sum(), 1000)
    out[name] = [hashlib.sha256(x.tobytes()).hexdigest(), k, res.hex(), ok]
print(json.dumps(out))
"""


def test_same_bits_at_1_and_2_threads():
    code = _BITS.format(tests=os.path.dirname(__file__))
    got = {}
    for t in (1, 2):
        env = dict(os.environ, NUMBA_NUM_THREADS=str(t))
        p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        got[t] = json.loads(p.stdout)
    assert got[1]["threads"] == 1
    assert got[1]["pull"] == got[1]["blocked"] == got[2]["pull"] == got[2]["blocked"]
    assert got[1]["pull"][3] is True


def test_failed_check_restarts_and_still_meets_the_guarantee(monkeypatch):
    """A Krylov phase stopped far too early: the true-residual check catches it and the solve still converges."""
    T, A = _economy_T(3000, 20_000, 17, 20)
    s = _injection(3000, 17, 20)
    tol = 1e-11 * s.sum()
    monkeypatch.setattr(krylov, "SAFETY", 1e5)
    x, passes, res, ok = krylov.bicgstab(PullOperator(*T), s, tol, 1000)
    assert ok and res < tol and _true_residual(A, s, x) < tol and (x >= 0).all()
    monkeypatch.setattr(krylov, "MAX_RESTARTS", 0)  # straight to the power iteration after the first check
    x2, passes2, res2, ok2 = krylov.bicgstab(PullOperator(*T), s, tol, 1000)
    assert ok2 and _true_residual(A, s, x2) < 2 * tol and (x2 >= 0).all()


@pytest.mark.parametrize("solver", ["bicgstab", "jacobi"])
def test_convergence_failure_is_a_typed_error_with_the_residual(solver):
    T, A = _economy_T(2000, 10_000, 19, 10)
    rng = np.random.default_rng(0)
    src = rng.integers(0, 2000, 10_000).astype(np.uint32)
    dst = rng.integers(0, 2000, 10_000).astype(np.uint32)
    params = ModelParams(damping=0.85, tol=1e-12, max_iter=3, solver=solver)
    g = build_flow_graph(src, dst, rng.uniform(0.5, 2, 10_000), np.zeros(2000, np.int8), params)
    with pytest.raises(ConvergenceError) as info:
        solve(g, np.ones(2000), params)
    assert info.value.n_iter == 3 and info.value.residual > 1e-12


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    m=st.integers(0, 300),
    n_platforms=st.integers(0, 5),
    damping=st.sampled_from([0.0, 0.5, 0.85, 0.99]),
    seed=st.integers(0, 2**31),
)
def test_never_negative_and_conserves(n, m, n_platforms, damping, seed):
    n_platforms = min(n_platforms, n - 1)
    T, A = _economy_T(n, m, seed, n_platforms, damping)
    rng = np.random.default_rng(seed)
    s = rng.uniform(0, 1, n) * (rng.uniform(0, 1, n) < 0.4)
    S = s.sum()
    tol = 1e-10 * S
    x, passes, res, ok = propagate(*T, s, tol, 20_000, solver="bicgstab")
    assert ok
    assert (x >= 0).all()
    if S == 0:
        return
    assert res < tol
    # conservation: keep = 1 - column sum; what is kept of h = s + T x adds up to S within tol
    keep = 1.0 - np.asarray(A.sum(axis=0)).ravel()
    h = s + A @ x
    assert abs(float((keep * h).sum()) - S) <= tol * (1 + 1e-6) + 1e-12 * S
