"""Propagation blocking: the same step as :func:`propagate_step`, with streaming memory access.

A pull step ``out[i] = s[i] + sum_j T[i, j] x[j]`` reads ``x`` at random.
Once ``x`` no longer fits in the core's cache every such read waits for
memory, and a step runs at the machine's random-gather rate, far below its
streaming bandwidth. Propagation blocking (Beamer, Asanovic and Patterson,
"Reducing PageRank communication via propagation blocking", IPDPS 2017)
splits the step in two streaming phases:

1. *scatter*: walk the senders in order, read each ``x[j]`` once, and write
   ``x[j] * T[i, j]`` for every out-entry into the *bin* of its receiver's
   row block, at a slot fixed once at layout time;
2. *gather*: for each bin (a block of rows small enough that its slice of
   ``out`` stays in the core's cache), add the bin's values into ``out`` and
   finish the rows: ``out[i] = s[i] + acc[i]``.

Within a bin the values sit in (sender, receiver) order, so every row's
products are added in ascending sender order starting from ``0.0``, the very
order of the pull loop over a canonical CSR row. The residual is added per
chunk of :data:`~graphlabor.kernels.propagate.CHUNK_ROWS` rows, as in
:func:`propagate_step`. The blocked step is therefore **bit-identical** to
:func:`propagate_step` (and :func:`blocked_power_iteration` to
:func:`power_iteration`) at every thread count: the layout only changes where
bytes live, never the arithmetic.

Nodes keep their numbering (no relabelling), so nothing has to be undone on
output.

Layout arrays (returned by :func:`blocked_layout`):

``cptr`` (uint64, n + 1)
    Sender pointers: sender ``j``'s entries are ``cptr[j]:cptr[j + 1]``.
``w`` (float64, nnz)
    ``T[i, j]`` in sender-major order (receivers ascending within a sender).
``slot`` (uint32 or uint64, nnz)
    Position in the bin array of each sender-major entry.
``local`` (uint16, nnz)
    Receiver row of each bin-array entry, relative to its bin's first row.
``bptr`` (uint64, n_bins + 1)
    Bin ``b``'s entries are ``bptr[b]:bptr[b + 1]`` in the bin array.
``brow`` (uint64, n_bins + 1)
    Bin ``b`` holds rows ``brow[b]:brow[b + 1]`` (at most 65536 rows, each
    bin starting on a chunk boundary).
``sunits`` (uint64, n_units + 1)
    Sender ranges of about equal entry counts, the parallel units of the
    scatter phase.
"""

from __future__ import annotations

import numpy as np

from ._jit import njit, pnjit, prange
from .propagate import CHUNK_ROWS, n_chunks

#: Largest number of rows in one bin (``local`` is uint16).
MAX_BIN_ROWS = 1 << 16
#: Number of scatter units (fixed, so the split never depends on the thread count).
SCATTER_UNITS = 256


# --------------------------------------------------------------------------- layout


@pnjit
def _col_hist(indptr, indices, parts, hist):
    """``hist[c, j]``: entries of column ``j`` among the rows of part ``c``."""
    n_parts = parts.shape[0] - 1
    for c in prange(n_parts):
        h = hist[c]
        for k in range(indptr[parts[c]], indptr[parts[c + 1]]):
            h[indices[k]] += np.uint64(1)


@pnjit
def _hist_to_offsets(hist, cptr):
    """Column pointers and, in place, each part's first position per column."""
    n_parts = hist.shape[0]
    n = hist.shape[1]
    for j in prange(n):
        t = np.uint64(0)
        for c in range(n_parts):
            h = hist[c, j]
            hist[c, j] = t
            t += h
        cptr[j + 1] = t


@pnjit
def _transpose_scatter(indptr, indices, data, parts, pos, w, recv):
    """Stable counting-sort scatter by column (sender): receivers stay ascending."""
    n_parts = parts.shape[0] - 1
    for c in prange(n_parts):
        p_c = pos[c]
        for i in range(parts[c], parts[c + 1]):
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                p = p_c[j]
                w[p] = data[k]
                recv[p] = i
                p_c[j] = p + np.uint64(1)


@njit
def _bin_rows(indptr, max_rows, target_nnz):
    """Bin boundaries on chunk boundaries: at most ``max_rows`` rows, about ``target_nnz`` entries."""
    n = indptr.shape[0] - 1
    n_ch = (n + CHUNK_ROWS - 1) // CHUNK_ROWS
    brow = np.zeros(n_ch + 1, dtype=np.uint64)
    nb = 0
    start = 0
    for c in range(n_ch):
        end = min((c + 1) * CHUNK_ROWS, n)
        nnz = np.int64(indptr[end] - indptr[start])
        next_rows = min((c + 2) * CHUNK_ROWS, n) - start
        if c == n_ch - 1 or next_rows > max_rows or nnz >= target_nnz:
            nb += 1
            brow[nb] = end
            start = end
    return brow[: nb + 1].copy()


@njit
def _bin_of_row(brow, n):
    bin_of = np.empty(n, dtype=np.uint32)
    for b in range(brow.shape[0] - 1):
        for i in range(brow[b], brow[b + 1]):
            bin_of[i] = b
    return bin_of


@pnjit
def _bin_hist(cptr, recv, bin_of, sparts, hist):
    n_parts = sparts.shape[0] - 1
    for c in prange(n_parts):
        h = hist[c]
        for p in range(cptr[sparts[c]], cptr[sparts[c + 1]]):
            h[bin_of[recv[p]]] += np.uint64(1)


@pnjit
def _assign_slots(cptr, recv, bin_of, brow, sparts, cur, slot, local):
    """Bin-array slot of each sender-major entry: bin-major, then (sender, receiver)."""
    n_parts = sparts.shape[0] - 1
    for c in prange(n_parts):
        cu = cur[c]
        for p in range(cptr[sparts[c]], cptr[sparts[c + 1]]):
            i = recv[p]
            b = bin_of[i]
            q = cu[b]
            slot[p] = q
            local[q] = np.uint16(i - brow[b])
            cu[b] = q + np.uint64(1)


def _balanced(ptr, n_units):
    """``n_units + 1`` boundaries splitting ``ptr``'s ranges into about equal entry counts."""
    n = ptr.shape[0] - 1
    nnz = int(ptr[-1])
    targets = (np.arange(n_units + 1, dtype=np.float64) * (nnz / max(n_units, 1))).astype(np.uint64)
    b = np.searchsorted(ptr, targets, side="left").astype(np.uint64)
    b[0] = 0
    b[-1] = n
    return np.maximum.accumulate(b)


def default_bin_rows(n):
    """Rows per bin for ``n`` nodes: the bin's slice of ``out`` stays in a core's L2 cache.

    16384 rows (128 KiB of float64) for every size measured here; bins are
    also closed early at about 1/64 of the entries so that heavy rows spread
    over several bins for the threads.
    """
    return 1 << 14


def blocked_layout(indptr, indices, data, bin_rows=None, n_parts=None, bin_nnz=None):
    """Arrange a receiver-major CSR matrix for propagation blocking.

    Parameters
    ----------
    indptr : ndarray of uint64, shape (n + 1,)
    indices : ndarray of uint32, shape (nnz,)
        Canonical: strictly increasing within each row.
    data : ndarray of float64, shape (nnz,)
    bin_rows : int, optional
        Largest number of rows per bin (a multiple of ``CHUNK_ROWS``, at most
        65536); default :func:`default_bin_rows`.
    n_parts : int, optional
        Parallel parts used to *build* the layout (default: the number of
        Numba threads). The layout does not depend on it.
    bin_nnz : int, optional
        A bin is closed once it holds this many entries (default ``nnz //
        64``), so that heavy rows spread over bins that the threads share.

    Returns
    -------
    tuple
        ``(cptr, w, slot, local, bptr, brow, sunits)``; see the module notes.

    Examples
    --------
    >>> import numpy as np
    >>> from graphlabor.kernels import build_csr
    >>> T = build_csr(np.array([1, 2, 0], np.uint32), np.array([0, 1, 2], np.uint32),
    ...               np.array([0.5, 0.5, 0.5]), 3)
    >>> cptr, w, slot, local, bptr, brow, sunits = blocked_layout(*T)
    >>> cptr.tolist(), local.tolist(), bptr.tolist(), brow.tolist()
    ([0, 1, 2, 3], [1, 2, 0], [0, 3], [0, 3])
    """
    import numba

    indptr = np.ascontiguousarray(indptr, dtype=np.uint64)
    indices = np.ascontiguousarray(indices, dtype=np.uint32)
    data = np.ascontiguousarray(data, dtype=np.float64)
    n = indptr.shape[0] - 1
    nnz = int(indices.shape[0])
    rows = int(bin_rows or default_bin_rows(n))
    if rows % CHUNK_ROWS or not (CHUNK_ROWS <= rows <= MAX_BIN_ROWS):
        raise ValueError(f"bin_rows={rows} must be a multiple of {CHUNK_ROWS} in [{CHUNK_ROWS}, {MAX_BIN_ROWS}]")
    parts_n = int(n_parts or numba.get_num_threads())
    parts = _balanced(indptr, parts_n)

    # 1. transpose: sender-major entries, receivers ascending within a sender
    hist = np.zeros((parts_n, n), dtype=np.uint64)
    _col_hist(indptr, indices, parts, hist)
    cptr = np.zeros(n + 1, dtype=np.uint64)
    _hist_to_offsets(hist, cptr)
    np.cumsum(cptr, out=cptr)
    hist += cptr[:n]
    w = np.empty(nnz, dtype=np.float64)
    recv = np.empty(nnz, dtype=np.uint32)
    _transpose_scatter(indptr, indices, data, parts, hist, w, recv)
    del hist

    # 2. bins: row blocks, and each entry's slot in the bin array
    target = max(int(bin_nnz) if bin_nnz else nnz // 64, 1)
    brow = _bin_rows(indptr, rows, target)
    nb = brow.shape[0] - 1
    bin_of = _bin_of_row(brow, n)
    bptr = np.zeros(nb + 1, dtype=np.uint64)
    bptr[1:] = indptr[brow[1:]]
    sparts = _balanced(cptr, parts_n)
    bhist = np.zeros((parts_n, nb), dtype=np.uint64)
    _bin_hist(cptr, recv, bin_of, sparts, bhist)
    cur = np.cumsum(bhist, axis=0) - bhist + bptr[:nb]
    slot_dtype = np.uint32 if nnz <= np.iinfo(np.uint32).max else np.uint64
    slot = np.empty(nnz, dtype=slot_dtype)
    local = np.empty(nnz, dtype=np.uint16)
    _assign_slots(cptr, recv, bin_of, brow, sparts, cur.astype(slot_dtype), slot, local)
    del recv, bin_of
    sunits = _balanced(cptr, SCATTER_UNITS)
    return cptr, w, slot, local, bptr, brow, sunits


# --------------------------------------------------------------------------- step


@pnjit
def _scatter(cptr, w, slot, sunits, x, bins):
    n_units = sunits.shape[0] - 1
    for u in prange(n_units):
        for j in range(sunits[u], sunits[u + 1]):
            v = x[j]
            for p in range(cptr[j], cptr[j + 1]):
                bins[slot[p]] = v * w[p]


@pnjit
def _gather(local, bptr, brow, bins, x, s, out, partials):
    nb = bptr.shape[0] - 1
    for b in prange(nb):
        r0 = brow[b]
        for i in range(r0, brow[b + 1]):
            out[i] = 0.0
        for q in range(bptr[b], bptr[b + 1]):
            out[r0 + local[q]] += bins[q]
        # finish the rows, residual per chunk (bins start on chunk boundaries)
        a = np.int64(r0)
        end = np.int64(brow[b + 1])
        while a < end:
            e = min(a + CHUNK_ROWS, end)
            diff = 0.0
            for i in range(a, e):
                v = s[i] + out[i]
                diff += abs(v - x[i])
                out[i] = v
            partials[a // CHUNK_ROWS] = diff
            a = e


def blocked_step(layout, x, s, out, bins, partials):
    """One step ``out = s + T x`` on a blocked layout (bit-identical to :func:`propagate_step`).

    Parameters
    ----------
    layout : tuple
        From :func:`blocked_layout`.
    x : ndarray of float64, shape (n,)
    s : ndarray of float64, shape (n,)
    out : ndarray of float64, shape (n,)
        Filled with the new values.
    bins : ndarray of float64, shape (nnz,)
        Scratch space.
    partials : ndarray of float64, shape (n_chunks(n),)
        Filled with the L1 change of each chunk of rows.

    Returns
    -------
    residual : float
        ``sum(|out - x|)``, added as :func:`propagate_step` adds it.
    """
    cptr, w, slot, local, bptr, brow, sunits = layout
    _scatter(cptr, w, slot, sunits, x, bins)
    _gather(local, bptr, brow, bins, x, s, out, partials)
    return float(partials.sum())


def blocked_power_iteration(layout, s, tol, max_iter, x0=None):
    """:func:`power_iteration` on a blocked layout; same results bit for bit.

    Parameters
    ----------
    layout : tuple
        From :func:`blocked_layout`.
    s, tol, max_iter, x0
        As for :func:`power_iteration`.

    Returns
    -------
    x, n_iter, residual, converged
        As for :func:`power_iteration`.

    Examples
    --------
    >>> import numpy as np
    >>> from graphlabor.kernels import build_csr, power_iteration
    >>> T = build_csr(np.array([0, 1], dtype=np.uint32),
    ...               np.array([1, 0], dtype=np.uint32), np.array([0.5, 0.5]), 2)
    >>> s = np.array([1.0, 0.0])
    >>> a = blocked_power_iteration(blocked_layout(*T), s, 1e-12, 100)
    >>> b = power_iteration(*T, s, 1e-12, 100)
    >>> bool(np.array_equal(a[0], b[0])), a[1] == b[1], a[2] == b[2]
    (True, True, True)
    """
    s = np.ascontiguousarray(s, dtype=np.float64)
    x = s.copy() if x0 is None else np.array(x0, dtype=np.float64)
    out = np.empty_like(x)
    bins = np.empty(layout[1].shape[0], dtype=np.float64)
    partials = np.empty(n_chunks(x.shape[0]), dtype=np.float64)
    residual = np.inf
    for it in range(1, int(max_iter) + 1):
        residual = blocked_step(layout, x, s, out, bins, partials)
        x, out = out, x
        if residual < tol:
            return x, it, residual, True
    return x, int(max_iter), float(residual), False
