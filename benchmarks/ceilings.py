"""Machine ceilings for propagation, measured with Numba kernels in the same run.

- *Streaming bandwidth*: a triad ``a = b + q c`` over float64 arrays of the
  graph's edge-array size (24 bytes moved per element; 32 with the write's
  read-for-ownership, which is what the hardware does and what we count).
- *Random gathers*: ``sum x[idx[k]]`` with ``idx`` uniform over a float64
  vector of the graph's node count, four independent accumulators so that the
  floating-point add latency does not cap the rate; the index stream (4 bytes
  per gather) is read as propagation reads it. Reported as gathers per
  second: a pull loop over a graph without locality cannot beat it.

Work is split into a fixed number of chunks, so both kernels run at 1 or 2
threads without changing what they compute.
"""

from __future__ import annotations

import time

import numba
import numpy as np
from numba import njit, prange

CHUNKS = 256


@njit(parallel=True, nogil=True, cache=True)
def _triad(a, b, c, q):
    m = a.shape[0]
    cs = (m + CHUNKS - 1) // CHUNKS
    for ch in prange(CHUNKS):
        for k in range(ch * cs, min(m, (ch + 1) * cs)):
            a[k] = b[k] + q * c[k]


@njit(parallel=True, nogil=True, cache=True)
def _gather(x, idx, partial):
    m = idx.shape[0]
    cs = (m + CHUNKS - 1) // CHUNKS
    cs = cs - cs % 4
    for ch in prange(CHUNKS):
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        lo = ch * cs
        hi = m if ch == CHUNKS - 1 else min(m, lo + cs)
        k = lo
        while k + 4 <= hi:
            a0 += x[idx[k]]
            a1 += x[idx[k + 1]]
            a2 += x[idx[k + 2]]
            a3 += x[idx[k + 3]]
            k += 4
        while k < hi:
            a0 += x[idx[k]]
            k += 1
        partial[ch] = (a0 + a1) + (a2 + a3)


def _median_time(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


def stream_bandwidth(n_elems: int, threads: int, reps: int = 5) -> float:
    """Triad bandwidth in bytes per second (32 bytes per element)."""
    a = np.zeros(n_elems)
    b = np.ones(n_elems)
    c = np.ones(n_elems)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        dt = _median_time(lambda: _triad(a, b, c, 1.5), reps)
    finally:
        numba.set_num_threads(before)
    return 32.0 * n_elems / dt


def random_gathers(n_nodes: int, n_gathers: int, threads: int, reps: int = 5, seed: int = 0) -> float:
    """Random 8-byte gathers per second over a float64 vector of ``n_nodes``."""
    rng = np.random.default_rng(seed)
    x = rng.random(n_nodes)
    idx = rng.integers(0, n_nodes, n_gathers, dtype=np.uint32)
    partial = np.empty(CHUNKS)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        dt = _median_time(lambda: _gather(x, idx, partial), reps)
    finally:
        numba.set_num_threads(before)
    return n_gathers / dt
