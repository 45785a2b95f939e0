"""Canonical CSR construction in two cache-friendly passes (same output as :func:`build_csr`).

:func:`~graphlabor.kernels.csr.build_csr` places every entry at its final
position with one counting sort: a random write per entry into arrays of the
graph's size, which waits for memory once the graph leaves the cache.
:func:`build_csr_bucketed` first moves the entries into *row blocks* (a few
thousand consecutive rows, about 65,000 entries: one write stream per block,
written in order), then finishes each block on its own, in parallel, while
it sits in the core's cache: a radix sort by column and a counting sort by
row, equal columns put in weight order, duplicates counted. Rows are then exactly what
:func:`build_csr` makes (the per-row sort is a total order on the entries'
values, so the order in which entries arrive never shows), and duplicates
are merged by the same kernel.
"""

from __future__ import annotations

import numpy as np

from numpy.typing import ArrayLike

from ._jit import njit, pnjit, prange
from ._types import CSR, F64, U16, U32, U64
from .csr import INDEX_DTYPE, INDPTR_DTYPE
from .sortmerge import RADIX_BITS, finish_csr, radix_pass

#: Target number of entries per row block: about 1 MiB to sort in cache, and
#: few enough blocks that the first pass writes to few places at once
#: (the measured choice: benchmarks/NOTES.md).
BLOCK_NNZ = 1 << 16
#: Largest rows per block (local row numbers are uint16).
MAX_BLOCK_ROWS = 1 << 16


@pnjit
def block_counts(rows: U32, parts: U64, shift: int, counts: U64) -> None:
    """Count, for each input part ``p``, the entries of each row block ``rows >> shift`` into ``counts[p]``.

    The first pass of the bucketed builds (here and :mod:`.multiset`): one
    part a thread, so the counts and the scatter that follows are the same at
    any thread count.
    """
    n_parts = parts.shape[0] - 1
    one = np.uint64(1)
    for p in prange(n_parts):
        c = counts[p]
        for k in range(parts[p], parts[p + 1]):
            c[rows[k] >> shift] += one


@pnjit
def _block_scatter(
    rows: U32, cols: U32, weights: F64, parts: U64, shift: int, offsets: U64, t_row: U16, t_col: U32, t_w: F64
) -> None:
    n_parts = parts.shape[0] - 1
    mask = (np.uint32(1) << np.uint32(shift)) - np.uint32(1)
    one = np.uint64(1)
    for p in prange(n_parts):
        o = offsets[p]
        for k in range(parts[p], parts[p + 1]):
            r = rows[k]
            b = r >> shift
            q = o[b]
            t_row[q] = np.uint16(r & mask)
            t_col[q] = cols[k]
            t_w[q] = weights[k]
            o[b] = q + one


@njit
def _sort_run(data: F64, a: int | np.int64, b: int | np.int64) -> None:
    """Sort ``data[a:b]`` ascending: insertion sort for short runs (no allocation)."""
    if b - a > 32:
        data[a:b] = np.sort(data[a:b])
        return
    for i in range(a + 1, b):
        v = data[i]
        j = i - 1
        while j >= a and data[j] > v:
            data[j + 1] = data[j]
            j -= 1
        data[j + 1] = v


@pnjit
def _finish_blocks(
    bstart: U64,
    shift: int,
    n_rows: int,
    bits: int,
    t_row: U16,
    t_col: U32,
    t_w: F64,
    indptr: U64,
    indices: U32,
    data: F64,
    unique_counts: U64,
    sk: U32,
    sw: F64,
    sr: U16,
) -> None:
    """Per block, in cache: entries by (row, column), equal columns by weight; unique counts.

    A stable LSD radix sort by column (digits of at most ``RADIX_BITS`` bits,
    columns, weights and rows moved together), then a stable counting sort by
    row into the final arrays. Lane ``l`` finishes blocks ``l, l + L, ...`` in
    its own scratch (allocated once); a block's result does not depend on
    its lane.
    """
    nb = bstart.shape[0] - 1
    lanes = sk.shape[0]
    n_pass = max(1, (bits + RADIX_BITS - 1) // RADIX_BITS)
    digit = (bits + n_pass - 1) // n_pass
    mask = (1 << digit) - 1
    for lane in prange(lanes):
        cnt = np.empty(mask + 2, dtype=np.int64)
        pos = np.empty((1 << shift) + 1, dtype=np.int64)
        for b in range(lane, nb, lanes):
            r0 = b << shift
            r1 = min(r0 + (1 << shift), n_rows)
            nr = r1 - r0
            a = np.int64(bstart[b])
            e = np.int64(bstart[b + 1])
            m = e - a
            # rows: counts and starts
            pos[: nr + 1] = 0
            for q in range(a, e):
                pos[np.int64(t_row[q]) + 1] += 1
            pos[0] = a
            for i in range(nr):
                pos[i + 1] += pos[i]
            for i in range(nr):
                indptr[r0 + i + 1] = pos[i + 1]
            if m == 0:
                unique_counts[r0:r1] = 0
                continue
            # columns ascending (stable radix)
            ka = sk[lane, 0, :m]
            wa = sw[lane, 0, :m]
            ra = sr[lane, 0, :m]
            kb = sk[lane, 1, :m]
            wb = sw[lane, 1, :m]
            rb = sr[lane, 1, :m]
            radix_pass(t_col[a:e], t_w[a:e], t_row[a:e], ka, wa, ra, 0, mask, cnt)
            for p in range(1, n_pass):
                radix_pass(ka, wa, ra, kb, wb, rb, p * digit, mask, cnt)
                ka, kb = kb, ka
                wa, wb = wb, wa
                ra, rb = rb, ra
            # then a stable counting sort by row, into place
            for t in range(m):
                row = np.int64(ra[t])
                q = pos[row]
                indices[q] = ka[t]
                data[q] = wa[t]
                pos[row] = q + 1
            # equal columns: by weight (as build_csr); count unique columns
            start = a
            for i in range(nr):
                hi_k = pos[i]  # now the row's end
                u = 0
                k = start
                while k < hi_k:
                    u += 1
                    c = indices[k]
                    s0 = k
                    k += 1
                    while k < hi_k and indices[k] == c:
                        k += 1
                    if k - s0 > 1:
                        _sort_run(data, s0, k)
                unique_counts[r0 + i] = u
                start = hi_k


def _shift_for(n_rows: int, nnz: int) -> int:
    rows_per_block = max(1, int(n_rows * BLOCK_NNZ / max(nnz, 1)))
    shift = max(8, (rows_per_block - 1).bit_length())
    return min(shift, MAX_BLOCK_ROWS.bit_length() - 1)


def build_csr_bucketed(
    rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, n_rows: int, n_parts: int | None = None
) -> CSR:
    """Canonical CSR arrays, bit for bit those of :func:`build_csr`, built in cache-sized row blocks.

    Parameters
    ----------
    rows, cols : ndarray of uint32, shape (m,)
    weights : ndarray of float64, shape (m,)
    n_rows : int
    n_parts : int, optional
        Input slices of the first pass (default: the number of Numba
        threads); the result does not depend on it.

    Returns
    -------
    indptr : ndarray of uint64, shape (n_rows + 1,)
    indices : ndarray of uint32, shape (nnz,)
    data : ndarray of float64, shape (nnz,)

    Examples
    --------
    >>> import numpy as np
    >>> indptr, indices, data = build_csr_bucketed(
    ...     np.array([1, 0, 1, 1], dtype=np.uint32),
    ...     np.array([2, 1, 0, 2], dtype=np.uint32),
    ...     np.array([1.0, 3.0, 2.0, 0.5]), 3)
    >>> indptr.tolist(), indices.tolist(), data.tolist()
    ([0, 1, 3, 3], [1, 0, 2], [3.0, 2.0, 1.5])
    """
    import numba

    rows = np.ascontiguousarray(rows, dtype=INDEX_DTYPE)
    cols = np.ascontiguousarray(cols, dtype=INDEX_DTYPE)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if not (rows.shape == cols.shape == weights.shape):
        raise ValueError("rows, cols and weights must have the same length")
    n_rows = int(n_rows)
    m = int(rows.shape[0])
    n_cols = int(cols.max()) + 1 if m else 1
    shift = _shift_for(n_rows, m)
    nb = max(1, (n_rows + (1 << shift) - 1) >> shift)
    p = max(1, int(n_parts or numba.get_num_threads()))
    parts = np.linspace(0, m, p + 1).astype(np.uint64)

    counts = np.zeros((p, nb), dtype=np.uint64)
    block_counts(rows, parts, shift, counts)
    per_block = counts.sum(axis=0, dtype=np.uint64)
    bstart = np.zeros(nb + 1, dtype=np.uint64)
    np.cumsum(per_block, out=bstart[1:])
    offsets = np.cumsum(counts, axis=0, dtype=np.uint64) - counts + bstart[:nb]
    t_row = np.empty(m, dtype=np.uint16)
    t_col = np.empty(m, dtype=INDEX_DTYPE)
    t_w = np.empty(m, dtype=np.float64)
    _block_scatter(rows, cols, weights, parts, shift, offsets, t_row, t_col, t_w)
    del offsets, counts

    indptr = np.zeros(n_rows + 1, dtype=INDPTR_DTYPE)
    indices = np.empty(m, dtype=INDEX_DTYPE)
    data = np.empty(m, dtype=np.float64)
    unique_counts = np.empty(n_rows, dtype=np.uint64)
    if n_rows:
        bits = max(1, int(max(n_cols, 1) - 1).bit_length())
        lanes = max(1, min(p, nb))
        biggest = int(per_block.max()) if m else 0
        sk = np.empty((lanes, 2, biggest), dtype=INDEX_DTYPE)
        sw = np.empty((lanes, 2, biggest), dtype=np.float64)
        sr = np.empty((lanes, 2, biggest), dtype=np.uint16)
        _finish_blocks(bstart, shift, n_rows, bits, t_row, t_col, t_w, indptr, indices, data, unique_counts, sk, sw, sr)
        del sk, sw, sr
    del t_row, t_col, t_w
    return finish_csr(indptr, indices, data, unique_counts)
