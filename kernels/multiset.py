"""Multisets of weighted entries: exact duplicates collapsed into counts, and canonical CSR from them.

A flow graph's edge list repeats the same ``(row, col, weight)`` triple many
times (a user who clicks the same platform every day): the 10^7-edge economy
has 8.3 million flow edges but 2.4 million distinct ones. The canonical CSR
of :func:`~graphlabor.kernels.csr.build_csr` adds the duplicates of a
``(row, col)`` pair in ascending order of weight, so equal weights are added
one after another: it depends only on the *multiset* of triples, which
``(row, col, weight, count)`` tuples describe exactly. Counts add exactly,
so a multiset can be collapsed piece by piece (per row group, per Dask
partition) and the pieces collapsed again after they move, with the same
final result.

- :func:`collapse`: triples (optionally already counted) -> distinct
  ``(row, col, weight, count)`` tuples, sorted by row, column and weight;
- :func:`build_csr_counted`: the same input -> the canonical CSR arrays,
  bit for bit those of :func:`~graphlabor.kernels.csr.build_csr` on the
  expanded triples (each weight added ``count`` times, in ascending order of
  weight);
- :func:`build_csr_labeled`: the same CSR and, from the same pass, its split
  by a label per triple (rows ``row * width + label``).

Both move the entries into cache-sized *row blocks* first (one write
stream per block, :func:`block_counts` then a scatter), then finish each block
on its own, in parallel: a small hash table collapses the block's exact
duplicates (same row, column and weight bits) before anything is sorted, so
the radix sort by column and the counting sort by row handle distinct tuples
only. Where the input has few duplicates the hash is skipped (a lane stops
hashing when its first 16k entries hold fewer than 5% duplicates, or after a
block that collapsed by less than a quarter); the output does not depend on
it, nor on the thread count or the input order.

Weights are ordered by value (``-0.0`` before ``0.0``, the only equal values
with different bits; their sum does not depend on their order).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._check import INDEX_DTYPE, INDPTR_DTYPE
from ._jit import njit, pnjit, prange
from ._types import CSR, F64, I64, U16, U32, U64, Arr

__all__ = ["COUNT_DTYPE", "Multiset", "build_csr_counted", "build_csr_labeled", "collapse", "collapse_with_csr"]

#: dtype of the counts
COUNT_DTYPE = np.uint32
#: Target number of entries per row block: about 1 MiB to sort in cache, and few enough blocks that the
#: first pass writes to few places at once (the measured choice: benchmarks/NOTES.md).
BLOCK_NNZ = 1 << 16
#: Largest rows per block (local row numbers are uint16).
MAX_BLOCK_ROWS = 1 << 16
#: Largest radix digit of the sort by column.
RADIX_BITS = 11
#: A lane stops hashing after a block that did not collapse to 3/4 of its entries, or at
#: once when the first PROBE entries it sees hold fewer than 5% duplicates.
PROBE = 1 << 14


class Multiset(NamedTuple):
    """Distinct ``(row, col, weight)`` triples and how often each occurs, sorted by row, column, weight."""

    rows: U32
    cols: U32
    weights: F64
    counts: U32


@pnjit
def block_counts(rows: U32, parts: U64, shift: int, counts: U64) -> None:
    """Count, for each input part ``p``, the entries of each row block ``rows >> shift`` into ``counts[p]``.

    The first pass of the bucketed builds: one part a thread, so the counts
    and the scatter that follows are the same at any thread count.

    >>> import numpy as np
    >>> counts = np.zeros((2, 2), np.uint64)
    >>> block_counts(np.array([0, 5, 1, 4], np.uint32), np.array([0, 2, 4], np.uint64), 2, counts)
    >>> counts.tolist()
    [[1, 1], [1, 1]]
    """
    n_parts = parts.shape[0] - 1
    one = np.uint64(1)
    for p in prange(n_parts):
        c = counts[p]
        for k in range(parts[p], parts[p + 1]):
            c[rows[k] >> shift] += one



@pnjit
def _block_scatter(
    rows: U32, cols: U32, wbits: U64, cnt: U32, labels: U16, parts: U64, shift: int, offsets: U64,
    t_row: Arr, t_col: U32, t_w: U64, t_cnt: U32,
) -> None:
    """Entries into their row blocks, in input order within a block.

    ``t_row`` gets the local row (uint16), or with labels the local row
    times 2**16 plus the label (uint32); ``t_cnt`` is left alone when
    ``cnt`` is empty.
    """
    n_parts = parts.shape[0] - 1
    mask = (np.uint32(1) << np.uint32(shift)) - np.uint32(1)
    one = np.uint64(1)
    counted = cnt.shape[0] > 0
    labeled = labels.shape[0] > 0
    for p in prange(n_parts):
        o = offsets[p]
        for k in range(parts[p], parts[p + 1]):
            r = rows[k]
            b = r >> shift
            q = o[b]
            if labeled:
                t_row[q] = ((r & mask) << np.uint32(16)) | np.uint32(labels[k])
            else:
                t_row[q] = np.uint16(r & mask)
            t_col[q] = cols[k]
            t_w[q] = wbits[k]
            if counted:
                t_cnt[q] = cnt[k]
            o[b] = q + one


@njit
def _order_key(bits: np.uint64) -> np.uint64:
    """An unsigned key in the order of the float64 whose bits these are (-0.0 < 0.0)."""
    if bits >> np.uint64(63):
        return ~bits
    return bits | (np.uint64(1) << np.uint64(63))


@njit
def _radix_pass4(
    k_in: U32, w_in: U64, r_in: Arr, c_in: U32, k_out: U32, w_out: U64, r_out: Arr, c_out: U32,
    shift: int, mask: int, cnt: I64, counts: bool,
) -> None:
    """Stable counting sort of (col, weight bits, row and label, count) tuples by the digit ``(col >> shift) & mask``.

    Without ``counts``, the counts are neither read nor written.
    """
    m = k_in.shape[0]
    cnt[: mask + 2] = 0
    for t in range(m):
        cnt[((k_in[t] >> shift) & mask) + 1] += 1
    for d in range(mask + 1):
        cnt[d + 1] += cnt[d]
    for t in range(m):
        k = k_in[t]
        d = (k >> shift) & mask
        p = cnt[d]
        k_out[p] = k
        w_out[p] = w_in[t]
        r_out[p] = r_in[t]
        if counts:
            c_out[p] = c_in[t]
        cnt[d] = p + 1


@njit
def _before(wa: np.uint64, la: np.uint32, wb: np.uint64, lb: np.uint32) -> bool:
    ka = _order_key(wa)
    kb = _order_key(wb)
    return bool(ka < kb or (ka == kb and la < lb))


@njit
def _sort_run(wb: U64, cn: U32, rl: Arr, a: int | np.int64, b: int | np.int64) -> None:
    """Sort ``wb[a:b]`` (weight bits) by weight, then by ``rl`` (row and label), counts moved along."""
    if b - a > 32:
        keys = np.empty(b - a, dtype=np.uint64)
        for i in range(a, b):
            keys[i - a] = _order_key(wb[i])
        by_label = np.argsort(rl[a:b], kind="mergesort")
        order = by_label[np.argsort(keys[by_label], kind="mergesort")]
        w2 = wb[a:b][order]
        c2 = cn[a:b][order]
        l2 = rl[a:b][order]
        wb[a:b] = w2
        cn[a:b] = c2
        rl[a:b] = l2
        return
    for i in range(a + 1, b):
        v = wb[i]
        c = cn[i]
        x = rl[i]
        j = i - 1
        while j >= a and _before(v, np.uint32(x), wb[j], np.uint32(rl[j])):
            wb[j + 1] = wb[j]
            cn[j + 1] = cn[j]
            rl[j + 1] = rl[j]
            j -= 1
        wb[j + 1] = v
        cn[j + 1] = c
        rl[j + 1] = x


@njit
def _slot(r: np.uint32, c: np.uint32, w: np.uint64, tbits: int) -> np.int64:
    x = (w * np.uint64(0x9E3779B97F4A7C15)) ^ ((np.uint64(r) << np.uint64(32)) | np.uint64(c))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(29)
    x = x * np.uint64(0x94D049BB133111EB)
    return np.int64(x >> np.uint64(64 - tbits))


@pnjit
def _collapse_blocks(
    bstart: U64, shift: int, n_rows: int, bits: int,
    t_row: Arr, t_col: U32, t_w: U64, t_cnt: U32,
    row_tuples: U32, row_cols: U32, block_u: U64,
    sk: U32, sw: U64, sr: Arr, sc: U32, table: U32, hashing: bool, counted: bool,
    width: int, label_cols: U32,
) -> None:
    """Per block, in cache: collapse exact duplicates, sort by (row, col, weight), write back in place.

    Block ``b``'s distinct tuples end up in ``t_col, t_w, t_cnt[bstart[b]:
    bstart[b] + block_u[b]]``, row after row; ``row_tuples`` and
    ``row_cols`` receive each row's tuples and distinct columns. Without
    ``counted``, ``t_cnt`` holds nothing yet and every count is 1. With
    labels (``label_cols`` not empty), ``t_row`` holds row and label
    (``row << 16 | label``), tuples with the same weight are ordered by
    label, and ``label_cols[row * width + label]`` receives the distinct
    columns of each (row, label).
    """
    labeled = label_cols.shape[0] > 0
    lshift = 16 if labeled else 0
    nb = bstart.shape[0] - 1
    lanes = sk.shape[0]
    n_pass = max(1, (bits + RADIX_BITS - 1) // RADIX_BITS)
    digit = (bits + n_pass - 1) // n_pass
    mask = (1 << digit) - 1
    for lane in prange(lanes):
        cnt = np.empty(mask + 2, dtype=np.int64)
        pos = np.empty((1 << shift) + 1, dtype=np.int64)
        tab = table[lane]
        use_hash = hashing
        probed = False
        seen = np.full(max(width, 1), -1, dtype=np.int64)
        run_id = 0
        for b in range(lane, nb, lanes):
            r0 = b << shift
            r1 = min(r0 + (1 << shift), n_rows)
            nr = r1 - r0
            a = np.int64(bstart[b])
            e = np.int64(bstart[b + 1])
            m = e - a
            if m == 0:
                row_tuples[r0:r1] = 0
                row_cols[r0:r1] = 0
                block_u[b] = 0
                continue
            ka = sk[lane, 0]
            wa = sw[lane, 0]
            ra = sr[lane, 0]
            ca = sc[lane, 0]
            kb = sk[lane, 1]
            wb = sw[lane, 1]
            rb = sr[lane, 1]
            cb = sc[lane, 1]
            u = 0
            hashed = False
            if use_hash:
                tbits = 4
                while (1 << tbits) < 2 * m:
                    tbits += 1
                tmask = (1 << tbits) - 1
                tab[: 1 << tbits] = 0
                hashed = True
                for q in range(a, e):
                    if not probed and q == a + PROBE and 20 * u > 19 * PROBE:
                        # the lane's first entries hold (almost) no duplicates: sort directly
                        use_hash = False
                        hashed = False
                        u = 0
                        break
                    r = t_row[q]
                    c = t_col[q]
                    w = t_w[q]
                    h = _slot(r, c, w, tbits)
                    while True:
                        s = tab[h]
                        if s == 0:
                            tab[h] = np.uint32(u + 1)
                            ka[u] = c
                            wa[u] = w
                            ra[u] = r
                            ca[u] = t_cnt[q] if counted else np.uint32(1)
                            u += 1
                            break
                        hit = np.int64(s) - 1
                        if ka[hit] == c and wa[hit] == w and ra[hit] == r:
                            ca[hit] += t_cnt[q] if counted else np.uint32(1)
                            break
                        h = (h + 1) & tmask
                probed = True
                if hashed and 4 * u > 3 * m:
                    use_hash = False  # few duplicates here: sort the next blocks directly
            implicit = not hashed and not counted  # every count 1, not stored until the scan below
            if hashed:
                first_pass = 0
            else:
                # the first radix pass reads the block where it is
                u = int(m)
                _radix_pass4(t_col[a:e], t_w[a:e], t_row[a:e], t_cnt[a:e], ka[:u], wa[:u], ra[:u], ca[:u], 0, mask,
                             cnt, counted)
                first_pass = 1
            # columns ascending (stable radix), then a stable counting sort by row, into place
            for p in range(first_pass, n_pass):
                _radix_pass4(ka[:u], wa[:u], ra[:u], ca[:u], kb[:u], wb[:u], rb[:u], cb[:u], p * digit, mask, cnt,
                             not implicit)
                ka, kb = kb, ka
                wa, wb = wb, wa
                ra, rb = rb, ra
                ca, cb = cb, ca
            pos[: nr + 1] = 0
            for t in range(u):
                pos[np.int64(ra[t] >> lshift) + 1] += 1
            pos[0] = a
            for i in range(nr):
                pos[i + 1] += pos[i]
            for t in range(u):
                row = np.int64(ra[t] >> lshift)
                q = pos[row]
                t_col[q] = ka[t]
                t_w[q] = wa[t]
                if not implicit:
                    t_cnt[q] = ca[t]
                if labeled:
                    t_row[q] = ra[t]
                pos[row] = q + 1
            # per row: equal columns by weight, exact duplicates merged (left by the direct sort), compacted
            start = a
            out = a
            for i in range(nr):
                end = pos[i]
                first = out
                n_cols_row = 0
                k = start
                while k < end:
                    col = t_col[k]
                    s0 = k
                    k += 1
                    while k < end and t_col[k] == col:
                        k += 1
                    if k - s0 > 1:
                        _sort_run(t_w, t_cnt, t_row, s0, k)
                    n_cols_row += 1
                    prev = out
                    run_id += 1
                    for j in range(s0, k):
                        if j > s0 and t_w[j] == t_w[prev] and (not labeled or t_row[j] == t_row[prev]):
                            t_cnt[prev] += np.uint32(1) if implicit else t_cnt[j]
                        else:
                            if implicit:
                                t_cnt[out] = 1
                            elif out != j:
                                t_cnt[out] = t_cnt[j]
                            if out != j:
                                t_col[out] = col
                                t_w[out] = t_w[j]
                                if labeled:
                                    t_row[out] = t_row[j]
                            prev = out
                            out += 1
                            if labeled:
                                lab = np.int64(t_row[j] & 0xFFFF)
                                if seen[lab] != run_id:
                                    seen[lab] = run_id
                                    label_cols[(r0 + i) * width + lab] += 1
                row_tuples[r0 + i] = np.uint32(out - first)
                row_cols[r0 + i] = np.uint32(n_cols_row)
                start = end
            block_u[b] = np.uint64(out - a)


@pnjit
def _compact(bstart: U64, ustart: U64, t_col: U32, t_w: U64, t_cnt: U32, cols: U32, wbits: U64, counts: U32) -> None:
    nb = bstart.shape[0] - 1
    for b in prange(nb):
        a = bstart[b]
        o = ustart[b]
        for k in range(ustart[b + 1] - o):
            cols[o + k] = t_col[a + k]
            wbits[o + k] = t_w[a + k]
            counts[o + k] = t_cnt[a + k]


@pnjit
def _sum_blocks(
    bstart: U64, shift: int, n_rows: int, row_tuples: U32, t_col: U32, t_w: F64, t_cnt: U32,
    indptr: U64, indices: U32, data: F64,
) -> None:
    """Per row: each column's weights added in ascending order, each ``count`` times (as build_csr)."""
    nb = bstart.shape[0] - 1
    for b in prange(nb):
        r0 = b << shift
        r1 = min(r0 + (1 << shift), n_rows)
        k = np.int64(bstart[b])
        for r in range(r0, r1):
            end = k + np.int64(row_tuples[r])
            p = np.int64(indptr[r])
            while k < end:
                col = t_col[k]
                acc = t_w[k]
                for _ in range(1, t_cnt[k]):
                    acc += t_w[k]
                k += 1
                while k < end and t_col[k] == col:
                    w = t_w[k]
                    for _ in range(t_cnt[k]):
                        acc += w
                    k += 1
                indices[p] = col
                data[p] = acc
                p += 1


@pnjit
def _sum_blocks_labeled(
    bstart: U64, shift: int, n_rows: int, row_tuples: U32, t_col: U32, t_w: F64, t_cnt: U32, t_row: U32,
    width: int, indptr: U64, indices: U32, data: F64, kpos: U64, kidx: U32, kdat: F64,
) -> None:
    """:func:`_sum_blocks`, and the same sums label by label into rows ``row * width + label``.

    A column's tuples are in ascending order of weight, so those of one label are too.
    """
    nb = bstart.shape[0] - 1
    for b in prange(nb):
        acc_k = np.empty(max(width, 1), dtype=np.float64)
        seen = np.full(max(width, 1), -1, dtype=np.int64)
        touched = np.empty(max(width, 1), dtype=np.int64)
        run_id = 0
        r0 = b << shift
        r1 = min(r0 + (1 << shift), n_rows)
        k = np.int64(bstart[b])
        for r in range(r0, r1):
            end = k + np.int64(row_tuples[r])
            p = np.int64(indptr[r])
            while k < end:
                col = t_col[k]
                run_id += 1
                n_touched = 0
                first = True
                acc = 0.0
                while k < end and t_col[k] == col:
                    w = t_w[k]
                    c = np.int64(t_cnt[k])
                    lab = np.int64(t_row[k] & 0xFFFF)
                    if first:
                        acc = w
                        c0 = 1
                        first = False
                    else:
                        c0 = 0
                    for _ in range(c0, c):
                        acc += w
                    if seen[lab] != run_id:
                        seen[lab] = run_id
                        touched[n_touched] = lab
                        n_touched += 1
                        a_k = w
                        c0 = 1
                    else:
                        a_k = acc_k[lab]
                        c0 = 0
                    for _ in range(c0, c):
                        a_k += w
                    acc_k[lab] = a_k
                    k += 1
                indices[p] = col
                data[p] = acc
                p += 1
                base = r * width
                for t in range(n_touched):
                    lab = touched[t]
                    q = kpos[base + lab]
                    kidx[q] = col
                    kdat[q] = acc_k[lab]
                    kpos[base + lab] = q + np.uint64(1)


def _shift_for(n_rows: int, nnz: int) -> int:
    rows_per_block = max(1, int(n_rows * BLOCK_NNZ / max(nnz, 1)))
    shift = max(8, (rows_per_block - 1).bit_length())
    return min(shift, MAX_BLOCK_ROWS.bit_length() - 1)


class _Blocks(NamedTuple):
    bstart: U64
    shift: int
    row_tuples: U32
    row_cols: U32
    block_u: U64
    t_col: U32
    t_w: U64
    t_cnt: U32
    t_row: Arr
    label_cols: U32
    counted: bool


def _blocks(
    rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, n_rows: int, counts: ArrayLike | None, n_parts: int | None,
    labels: ArrayLike | None = None, width: int = 1, n_label_rows: int = 0,
) -> _Blocks:
    import numba

    rows = np.ascontiguousarray(rows, dtype=INDEX_DTYPE)
    cols = np.ascontiguousarray(cols, dtype=INDEX_DTYPE)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if not (rows.shape == cols.shape == weights.shape) or rows.ndim != 1:
        raise ValueError("rows, cols and weights must be 1-d and have the same length")
    m = int(rows.shape[0])
    if counts is None:
        cnt = np.empty(0, dtype=COUNT_DTYPE)
    else:
        cnt = np.ascontiguousarray(counts)
        if cnt.shape != rows.shape:
            raise ValueError("counts must have the same length as rows")
        if m and (int(cnt.min()) < 1 or int(cnt.sum(dtype=np.uint64)) > np.iinfo(COUNT_DTYPE).max):
            raise ValueError("counts must be at least 1 and add up to less than 2**32")
        cnt = cnt.astype(COUNT_DTYPE, copy=False)
    n_rows = int(n_rows)
    if m and int(rows.max()) >= n_rows:
        raise ValueError(f"rows holds index {int(rows.max())}, out of range for n_rows={n_rows}")
    if labels is None:
        lab = np.empty(0, dtype=np.uint16)
        label_cols = np.empty(0, dtype=np.uint32)
    else:
        lab = np.ascontiguousarray(labels, dtype=np.uint16)
        if lab.shape != rows.shape:
            raise ValueError("labels must have the same length as rows")
        if not 1 <= width <= 1 << 16 or (m and int(lab.max()) >= width):
            raise ValueError(f"labels must be below width={width}, at most 2**16")
        if m and int(rows.max()) >= n_label_rows:
            raise ValueError(f"rows holds index {int(rows.max())}, out of range for n_label_rows={n_label_rows}")
        label_cols = np.zeros(max(n_label_rows * width, 1), dtype=np.uint32)
    n_cols = int(cols.max()) + 1 if m else 1
    shift = _shift_for(n_rows, m)
    nb = max(1, (n_rows + (1 << shift) - 1) >> shift)
    p = max(1, int(n_parts or numba.get_num_threads()))
    parts = np.linspace(0, m, p + 1).astype(np.uint64)

    bcounts = np.zeros((p, nb), dtype=np.uint64)
    block_counts(rows, parts, shift, bcounts)
    per_block = bcounts.sum(axis=0, dtype=np.uint64)
    bstart = np.zeros(nb + 1, dtype=np.uint64)
    np.cumsum(per_block, out=bstart[1:])
    offsets = np.cumsum(bcounts, axis=0, dtype=np.uint64) - bcounts + bstart[:nb]
    t_row = np.empty(m, dtype=np.uint16 if labels is None else np.uint32)
    t_col = np.empty(m, dtype=INDEX_DTYPE)
    t_w = np.empty(m, dtype=np.uint64)
    t_cnt = np.empty(m, dtype=COUNT_DTYPE)
    _block_scatter(rows, cols, weights.view(np.uint64), cnt, lab, parts, shift, offsets, t_row, t_col, t_w, t_cnt)
    del offsets, bcounts
    return bucketed_blocks(bstart, shift, n_rows, n_cols, t_row, t_col, t_w, t_cnt, cnt.shape[0] > 0, p,
                           width, label_cols)


def bucketed_blocks(
    bstart: U64, shift: int, n_rows: int, n_cols: int, t_row: Arr, t_col: U32, t_w: U64, t_cnt: U32,
    counted: bool, lanes: int, width: int = 1, label_cols: U32 | None = None,
) -> _Blocks:
    """Finish entries already moved into row blocks (``bstart``, ``1 << shift`` rows a block): collapse and sort.

    For kernels that write the row blocks themselves (the flow graph's
    build, :mod:`.flowbuild`), in the layout of :func:`_block_scatter`;
    ``label_cols`` (zeros, ``n_label_rows * width``) when labeled.
    """
    nb = bstart.shape[0] - 1
    m = int(bstart[-1])
    if label_cols is None:
        label_cols = np.empty(0, dtype=np.uint32)
    row_tuples = np.zeros(n_rows, dtype=np.uint32)
    row_cols = np.zeros(n_rows, dtype=np.uint32)
    block_u = np.zeros(nb, dtype=np.uint64)
    if n_rows and m:
        bits = max(1, int(n_cols - 1).bit_length())
        lanes = max(1, min(lanes, nb))
        biggest = int(np.diff(bstart).max())
        sk = np.empty((lanes, 2, biggest), dtype=INDEX_DTYPE)
        sw = np.empty((lanes, 2, biggest), dtype=np.uint64)
        sr = np.empty((lanes, 2, biggest), dtype=t_row.dtype)
        sc = np.empty((lanes, 2, biggest), dtype=COUNT_DTYPE)
        table = np.empty((lanes, max(16, 1 << (2 * biggest - 1).bit_length())), dtype=np.uint32)
        _collapse_blocks(bstart, shift, n_rows, bits, t_row, t_col, t_w, t_cnt, row_tuples, row_cols, block_u,
                         sk, sw, sr, sc, table, True, counted, width, label_cols)
        del sk, sw, sr, sc, table
    return _Blocks(bstart, shift, row_tuples, row_cols, block_u, t_col, t_w, t_cnt, t_row, label_cols, counted)


def collapse(
    rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, n_rows: int, counts: ArrayLike | None = None,
    n_parts: int | None = None,
) -> Multiset:
    """Distinct ``(row, col, weight)`` triples with their counts, sorted by row, column and weight.

    Parameters
    ----------
    rows, cols : ndarray of uint32, shape (m,)
        Rows in ``[0, n_rows)``.
    weights : ndarray of float64, shape (m,)
        Triples are equal when their weights have the same bits.
    n_rows : int
    counts : ndarray of int, shape (m,), optional
        How often each triple occurs (at least 1; default 1 each), for
        instance from an earlier :func:`collapse`: pieces of one multiset
        can be collapsed separately and their concatenation collapsed again.
    n_parts : int, optional
        Input slices of the first pass (default: the number of Numba
        threads); the result does not depend on it.

    Returns
    -------
    Multiset
        ``(rows, cols, weights, counts)``: uint32, uint32, float64, uint32.
        The result depends only on the multiset the input describes (not on
        its order, its slicing into counts, or the thread count).

    Examples
    --------
    >>> import numpy as np
    >>> ms = collapse(np.array([1, 0, 1, 1], np.uint32), np.array([2, 1, 0, 2], np.uint32),
    ...               np.array([0.5, 3.0, 2.0, 0.5]), 3)
    >>> [a.tolist() for a in ms]
    [[0, 1, 1], [1, 0, 2], [3.0, 2.0, 0.5], [1, 1, 2]]
    >>> again = collapse(np.concatenate([ms.rows, ms.rows]), np.concatenate([ms.cols, ms.cols]),
    ...                  np.concatenate([ms.weights, ms.weights]), 3, counts=np.concatenate([ms.counts, ms.counts]))
    >>> again.counts.tolist()
    [2, 2, 4]
    """
    return _compacted(_blocks(rows, cols, weights, n_rows, counts, n_parts))


def collapse_with_csr(
    rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, n_rows: int, counts: ArrayLike | None = None,
    n_parts: int | None = None,
) -> tuple[CSR, Multiset]:
    """:func:`build_csr_counted` and :func:`collapse` of the same input, from one pass of bucketing and sorting.

    For a CSR whose rows are later merged into coarser ones (the flow split
    by kind, whose rows ``node * width + kind`` add up to ``T``'s rows): the
    multiset builds the coarser CSR with ``rows // width``, far smaller than
    the input.

    Examples
    --------
    >>> import numpy as np
    >>> (indptr, indices, data), ms = collapse_with_csr(
    ...     np.array([1, 0, 1, 1], np.uint32), np.array([2, 1, 2, 2], np.uint32), np.array([0.5, 3.0, 0.5, 1.0]), 2)
    >>> indptr.tolist(), indices.tolist(), data.tolist(), ms.counts.tolist()
    ([0, 1, 2], [1, 2], [3.0, 2.0], [1, 2, 1])
    """
    blk = _blocks(rows, cols, weights, n_rows, counts, n_parts)
    return _finish(blk), _compacted(blk)


def _compacted(blk: _Blocks) -> Multiset:
    nb = blk.block_u.shape[0]
    ustart = np.zeros(nb + 1, dtype=np.uint64)
    np.cumsum(blk.block_u, out=ustart[1:])
    u = int(ustart[-1])
    out_cols = np.empty(u, dtype=INDEX_DTYPE)
    out_w = np.empty(u, dtype=np.uint64)
    out_cnt = np.empty(u, dtype=COUNT_DTYPE)
    _compact(blk.bstart, ustart, blk.t_col, blk.t_w, blk.t_cnt, out_cols, out_w, out_cnt)
    out_rows = np.repeat(np.arange(blk.row_tuples.shape[0], dtype=INDEX_DTYPE), blk.row_tuples)
    return Multiset(out_rows, out_cols, out_w.view(np.float64), out_cnt)


def build_csr_counted(
    rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, n_rows: int, counts: ArrayLike | None = None,
    n_parts: int | None = None,
) -> CSR:
    """Canonical CSR arrays of a multiset of triples, bit for bit :func:`build_csr` on the expanded triples.

    Each row's columns ascending; the weights of a ``(row, col)`` pair added
    in ascending order, each as many times as it occurs (so the sum has the
    bits of :func:`~graphlabor.kernels.csr.build_csr` given every copy).
    Exact duplicates are collapsed before anything is sorted (see the
    module's description), which is what makes it fast on repetitive input.

    Parameters
    ----------
    rows, cols, weights, n_rows, counts, n_parts
        As for :func:`collapse`.

    Returns
    -------
    indptr : ndarray of uint64, shape (n_rows + 1,)
    indices : ndarray of uint32, shape (nnz,)
    data : ndarray of float64, shape (nnz,)

    Examples
    --------
    >>> import numpy as np
    >>> indptr, indices, data = build_csr_counted(
    ...     np.array([1, 0, 1], dtype=np.uint32), np.array([2, 1, 0], dtype=np.uint32),
    ...     np.array([0.5, 3.0, 2.0]), 3, counts=np.array([3, 1, 1]))
    >>> indptr.tolist(), indices.tolist(), data.tolist()
    ([0, 1, 3, 3], [1, 0, 2], [3.0, 2.0, 1.5])
    """
    blk = _blocks(rows, cols, weights, n_rows, counts, n_parts)
    return _finish(blk)


def _finish(blk: _Blocks) -> CSR:
    n_rows = blk.row_cols.shape[0]
    indptr = np.zeros(n_rows + 1, dtype=INDPTR_DTYPE)
    np.cumsum(blk.row_cols, out=indptr[1:])
    nnz = int(indptr[-1])
    if not blk.counted and nnz == blk.t_col.shape[0]:
        # no two entries share a row and column: the sorted blocks are the CSR arrays (each sum one weight)
        return indptr, blk.t_col, blk.t_w.view(np.float64)
    indices = np.empty(nnz, dtype=INDEX_DTYPE)
    data = np.empty(nnz, dtype=np.float64)
    if nnz:
        _sum_blocks(blk.bstart, blk.shift, n_rows, blk.row_tuples, blk.t_col, blk.t_w.view(np.float64), blk.t_cnt,
                    indptr, indices, data)
    return indptr, indices, data


def build_csr_labeled(
    rows: ArrayLike, cols: ArrayLike, weights: ArrayLike, labels: ArrayLike, n_rows: int, width: int,
    n_label_rows: int | None = None, counts: ArrayLike | None = None, n_parts: int | None = None,
) -> tuple[CSR, CSR]:
    """:func:`build_csr_counted`, and the same matrix split by label, from one pass of bucketing and sorting.

    Parameters
    ----------
    rows, cols, weights, n_rows, counts, n_parts
        As for :func:`build_csr_counted`.
    labels : ndarray of uint16, shape (m,)
        A label per triple, below ``width``.
    width : int
        Labels per row of the split (at most 2**16).
    n_label_rows : int, optional
        Rows of the split (default ``n_rows``); every row below it.

    Returns
    -------
    csr : CSR
        :func:`build_csr_counted` of the triples, labels ignored: each
        pair's weights, of every label, added in ascending order.
    split : CSR
        Of ``n_label_rows * width`` rows: row ``row * width + label`` holds
        the triples with that row and label, as :func:`build_csr_counted` of
        them alone would (bit for bit ``build_csr(rows * width + labels,
        cols, weights, n_label_rows * width)``).

    Examples
    --------
    >>> import numpy as np
    >>> (p, i, d), (kp, ki, kd) = build_csr_labeled(
    ...     np.array([0, 0, 1, 0], np.uint32), np.array([2, 2, 0, 2], np.uint32),
    ...     np.array([0.5, 1.0, 2.0, 0.5]), np.array([1, 0, 1, 1], np.uint16), 2, 2)
    >>> p.tolist(), i.tolist(), d.tolist()
    ([0, 1, 2], [2, 0], [2.0, 2.0])
    >>> kp.tolist(), ki.tolist(), kd.tolist()
    ([0, 1, 2, 2, 3], [2, 2, 0], [1.0, 1.0, 2.0])
    """
    n_label_rows = int(n_rows if n_label_rows is None else n_label_rows)
    width = int(width)
    blk = _blocks(rows, cols, weights, n_rows, counts, n_parts, labels=labels, width=width,
                  n_label_rows=n_label_rows)
    return finish_labeled(blk, width, n_label_rows)


def finish_labeled(blk: _Blocks, width: int, n_label_rows: int) -> tuple[CSR, CSR]:
    """The CSR and its split by label, from labeled blocks (:func:`build_csr_labeled`'s last step)."""
    n_rows = blk.row_cols.shape[0]
    indptr = np.zeros(n_rows + 1, dtype=INDPTR_DTYPE)
    np.cumsum(blk.row_cols, out=indptr[1:])
    nnz = int(indptr[-1])
    indices = np.empty(nnz, dtype=INDEX_DTYPE)
    data = np.empty(nnz, dtype=np.float64)
    kptr = np.zeros(n_label_rows * width + 1, dtype=INDPTR_DTYPE)
    np.cumsum(blk.label_cols[: n_label_rows * width], out=kptr[1:])
    knnz = int(kptr[-1])
    kidx = np.empty(knnz, dtype=INDEX_DTYPE)
    kdat = np.empty(knnz, dtype=np.float64)
    if nnz:
        kpos = kptr[:-1].copy()
        _sum_blocks_labeled(blk.bstart, blk.shift, n_rows, blk.row_tuples, blk.t_col, blk.t_w.view(np.float64),
                            blk.t_cnt, blk.t_row, width, indptr, indices, data, kpos, kidx, kdat)
    return (indptr, indices, data), (kptr, kidx, kdat)
