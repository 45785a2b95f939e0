"""Row-blocked pull in sender tiles: the step of :func:`propagate_step`, with cache-resident memory access.

A pull step ``out[i] = s[i] + sum_j T[i, j] x[j]`` over a CSR matrix reads
``x`` at random: once ``x`` no longer fits in the core's cache every read
waits for memory, and each row's additions wait for one another. Here the
rows are cut into *bins* (consecutive row blocks whose slice of ``out``
stays in the core's L2 cache, 512 KiB at most), and each bin's entries are
grouped into *tiles* by *sender block* (consecutive senders whose slice of
``x`` stays in cache, a few thousand). A step walks each bin's tiles in
sender-block order:

``out[r0 + local[q]] += w[q] * x[base + src[q]]``

so ``x`` is read a cache-resident slice at a time (the slices in ascending
order), the entries are streamed (12 bytes each), and the read-modify-writes
land in the cache-resident slice of ``out``. This is the cache-blocking
layout of Beamer, Asanovic and Patterson ("Reducing PageRank communication
via propagation blocking", IPDPS 2017) with one dimension of blocks, not
their two-phase propagation blocking, which moves 36 bytes an entry against
12 (measurements: benchmarks/NOTES.md, "Measurement history").

Within a tile the entries keep their CSR order (receiver, then sender), and
tiles follow the sender blocks in ascending order, so every row's products
are added in ascending sender order starting from ``0.0``: the very order of
the pull loop over a canonical CSR row. The residual is added per
chunk of :data:`~graphlabor.kernels.propagate.CHUNK_ROWS` rows as
:func:`propagate_step` adds it. The blocked step is therefore **bit-identical**
to :func:`propagate_step` (and :func:`blocked_power_iteration` to
:func:`power_iteration`) at every thread count: the layout changes where
bytes live, never the arithmetic. Nodes keep their numbering (nothing is
relabelled, nothing to undo on output).

Bins are consecutive row ranges, so bin ``b`` occupies the same positions
``indptr[brow[b]]:indptr[brow[b + 1]]`` in the layout arrays as in the CSR;
the layout is the CSR's entries grouped within each bin by sender block,
built bin by bin (in parallel) with one stable counting sort (one pass over
the entries; sorting each bin fully by sender, as an earlier version did,
made the step up to 10% faster but the layout 2.8x slower: benchmarks/NOTES.md).
Senders are stored relative to their sender block (at most 65536 senders)
in 2 bytes.

Layout arrays (returned by :func:`blocked_layout`):

``src`` (uint16, nnz)
    Sender of each entry, bin order, relative to the first sender of its
    sender block (blocks hold at most 65536 senders): 2 bytes an entry
    instead of 4, streamed at every step.
``w`` (float64, nnz)
    ``T[i, j]`` of each entry, bin order.
``local`` (uint16, nnz)
    Receiver row of each entry relative to its bin's first row.
``tiles`` (uint64, (n_blocks + 1, n_bins))
    ``tiles[c, b]:tiles[c + 1, b]``: the entries of bin ``b`` whose sender is
    in sender block ``c``.
``sbound`` (uint64, n_blocks + 1)
    Sender block ``c`` holds senders ``sbound[c]:sbound[c + 1]``.
``brow`` (uint64, n_bins + 1)
    Bin ``b`` holds rows ``brow[b]:brow[b + 1]`` (at most 65536, starting on
    a chunk boundary).
``bptr`` (uint64, n_bins + 1)
    ``indptr[brow]``: where each bin's entries start.
"""

from __future__ import annotations

import numpy as np

from numpy.typing import ArrayLike

from ._jit import njit, pnjit, prange
from ._types import F64, U16, U32, U64
from .propagate import CHUNK_ROWS, PowerIterationResult, chunk_total, iterate, shadow_value

#: ``(src, w, local, tiles, sbound, brow, bptr)`` from :func:`blocked_layout`
Layout = tuple[U16, F64, U16, U64, U64, U64, U64]

#: Largest number of rows in one bin (``local`` is uint16).
MAX_BIN_ROWS = 1 << 16
#: Default rows per bin: 512 KiB of ``out`` per bin, inside a core's L2 (2 MiB
#: here); smaller and larger bins were slower (benchmarks/NOTES.md).
BIN_ROWS = 1 << 16
#: Default largest sender block: 256 KiB of ``x``.
SENDER_ROWS = 1 << 15
#: Largest sender block (``src`` is uint16).
MAX_SENDER_ROWS = 1 << 16
#: Bins are also closed at about ``nnz / PARTS`` entries (sender blocks at
#: ``nnz / SENDER_PARTS``) so that heavy rows spread over units the threads share.
PARTS = 16
SENDER_PARTS = 256


# --------------------------------------------------------------------------- layout


@njit
def _bin_rows(indptr: U64, max_rows: int, target_nnz: int) -> U64:
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
def _coarse_out_degrees(indices: U32, shift: int, n_units: int) -> U64:
    """Entries per unit of ``2**shift`` consecutive senders (a small array: no cache misses)."""
    deg = np.zeros(n_units, dtype=np.uint64)
    one = np.uint64(1)
    for k in range(indices.shape[0]):
        deg[indices[k] >> shift] += one
    return deg


@njit
def _sender_blocks(deg: U64, unit: int, n: int, max_units: int, target: int) -> U64:
    """Sender block boundaries on multiples of ``unit`` senders: at most ``max_units`` units, about ``target`` entries."""
    n_units = deg.shape[0]
    bounds = np.empty(n_units + 2, dtype=np.uint64)
    bounds[0] = 0
    c = 0
    start = 0
    acc = np.uint64(0)
    for u in range(n_units):
        acc += deg[u]
        if u + 1 - start >= max_units or acc >= target or u == n_units - 1:
            c += 1
            bounds[c] = min((u + 1) * unit, n)
            start = u + 1
            acc = np.uint64(0)
    return bounds[: c + 1].copy()


@njit
def _unit_blocks(sbound: U64, ushift: int, n_units: int) -> U32:
    """Sender block of each unit of ``2**ushift`` senders (block bounds fall on unit multiples)."""
    ublock = np.zeros(max(n_units, 1), dtype=np.uint32)
    step = np.uint64(1 << ushift)
    for c in range(sbound.shape[0] - 1):
        u0 = sbound[c] // step
        u1 = min((sbound[c + 1] + step - np.uint64(1)) // step, np.uint64(n_units))
        for u in range(u0, u1):
            ublock[u] = np.uint32(c)
    return ublock


@pnjit
def _fill_tiles(
    indptr: U64, indices: U32, data: F64, brow: U64, sbound: U64, ublock: U32, ushift: int, rel: U16, w: F64, local: U16, tiles: U64
) -> None:
    """Each bin's CSR entries grouped by sender block: one stable counting sort per bin, in parallel.

    Entries keep their CSR order within a tile (by receiver, then sender),
    so each row's entries still come in ascending sender order. Senders are
    stored relative to their block; ``tiles[:, b]`` gets the bin's tile bounds.
    """
    nb = brow.shape[0] - 1
    n_blocks = sbound.shape[0] - 1
    one = np.uint64(1)
    sh = np.uint32(ushift)
    for b in prange(nb):
        pos = np.zeros(n_blocks + 1, dtype=np.uint64)
        r0 = brow[b]
        r1 = brow[b + 1]
        a = indptr[r0]
        for k in range(a, indptr[r1]):
            pos[ublock[indices[k] >> sh] + 1] += one
        pos[0] = a
        for c in range(n_blocks):
            pos[c + 1] += pos[c]
        for c in range(n_blocks + 1):
            tiles[c, b] = pos[c]
        for i in range(r0, r1):
            li = np.uint16(i - r0)
            for k in range(indptr[i], indptr[i + 1]):
                j = indices[k]
                c = ublock[j >> sh]
                p = pos[c]
                rel[p] = np.uint16(j - sbound[c])
                w[p] = data[k]
                local[p] = li
                pos[c] = p + one


def blocked_layout(
    indptr: ArrayLike,
    indices: ArrayLike,
    data: ArrayLike,
    bin_rows: int | None = None,
    sender_rows: int | None = None,
    bin_nnz: int | None = None,
) -> Layout:
    """Arrange a receiver-major CSR matrix in row blocks of sender tiles.

    Parameters
    ----------
    indptr : ndarray of uint64, shape (n + 1,)
    indices : ndarray of uint32, shape (nnz,)
        Canonical: strictly increasing within each row.
    data : ndarray of float64, shape (nnz,)
    bin_rows : int, optional
        Largest number of rows per bin, a multiple of ``CHUNK_ROWS`` in
        ``[CHUNK_ROWS, 65536]`` (default :data:`BIN_ROWS`).
    sender_rows : int, optional
        Largest number of senders per sender block, at most 65536 (default
        :data:`SENDER_ROWS`).
    bin_nnz : int, optional
        A bin is closed once it holds this many entries (default
        ``nnz // 16``).

    Returns
    -------
    tuple
        ``(src, w, local, tiles, sbound, brow, bptr)``; see the module notes. The
        layout depends only on the matrix and these parameters, never on the
        number of threads.

    Examples
    --------
    >>> import numpy as np
    >>> from graphlabor.kernels import build_csr
    >>> T = build_csr(np.array([1, 1, 0], np.uint32), np.array([2, 0, 1], np.uint32),
    ...               np.array([0.5, 0.25, 0.5]), 3)
    >>> src, w, local, tiles, sbound, brow, bptr = blocked_layout(*T)
    >>> w.tolist(), local.tolist(), brow.tolist()    # one bin, one tile: CSR order
    ([0.5, 0.25, 0.5], [0, 1, 1], [0, 3])
    >>> sbound.tolist(), src.tolist()                 # one sender block
    ([0, 3], [1, 0, 2])
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.uint64)
    indices = np.ascontiguousarray(indices, dtype=np.uint32)
    data = np.ascontiguousarray(data, dtype=np.float64)
    n = indptr.shape[0] - 1
    nnz = int(indices.shape[0])
    rows = int(bin_rows or BIN_ROWS)
    if rows % CHUNK_ROWS or not (CHUNK_ROWS <= rows <= MAX_BIN_ROWS):
        raise ValueError(f"bin_rows={rows} must be a multiple of {CHUNK_ROWS} in [{CHUNK_ROWS}, {MAX_BIN_ROWS}]")
    senders = int(sender_rows or SENDER_ROWS)
    if not (1 <= senders <= MAX_SENDER_ROWS):
        raise ValueError(f"sender_rows={senders} must be in [1, {MAX_SENDER_ROWS}]")

    brow = _bin_rows(indptr, rows, max(int(bin_nnz) if bin_nnz else nnz // PARTS, 1))
    # sender blocks from entry counts per unit of up to 1024 senders
    ushift = min(10, max(senders.bit_length() - 1, 0))
    unit = 1 << ushift
    n_units = max((n + unit - 1) >> ushift, 1)
    deg = _coarse_out_degrees(indices, ushift, n_units)
    sbound = _sender_blocks(deg, unit, n, max(senders >> ushift, 1), max(nnz // SENDER_PARTS, 1))
    ublock = _unit_blocks(sbound, ushift, n_units)
    rel = np.empty(nnz, dtype=np.uint16)
    w = np.empty(nnz, dtype=np.float64)
    local = np.empty(nnz, dtype=np.uint16)
    tiles = np.empty((sbound.shape[0], brow.shape[0] - 1), dtype=np.uint64)
    _fill_tiles(indptr, indices, data, brow, sbound, ublock, ushift, rel, w, local, tiles)
    bptr = indptr[brow].copy()
    return rel, w, local, tiles, sbound, brow, bptr


# --------------------------------------------------------------------------- step


@pnjit
def _step(
    tiles: U64, sbound: U64, src: U16, w: F64, local: U16, brow: U64, x: F64, s: F64, out: F64, partials: F64
) -> None:
    nb = brow.shape[0] - 1
    n_blocks = tiles.shape[0] - 1
    for b in prange(nb):
        r0 = brow[b]
        for i in range(r0, brow[b + 1]):
            out[i] = 0.0
        for c in range(n_blocks):
            base = sbound[c]
            for q in range(tiles[c, b], tiles[c + 1, b]):
                out[r0 + local[q]] += w[q] * x[base + src[q]]
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


def blocked_step(layout: Layout, x: F64, s: F64, out: F64, partials: F64) -> float:
    """One step ``out = s + T x`` on a blocked layout (bit-identical to :func:`propagate_step`).

    Parameters
    ----------
    layout : tuple
        From :func:`blocked_layout`.
    x : ndarray of float64, shape (n,)
    s : ndarray of float64, shape (n,)
    out : ndarray of float64, shape (n,)
        Filled with the new values (must not be ``x``).
    partials : ndarray of float64, shape (n_chunks(n),)
        Filled with the L1 change of each chunk of rows.

    Returns
    -------
    residual : float
        ``sum(|out - x|)``, added as :func:`propagate_step` adds it.
    """
    src, w, local, tiles, sbound, brow, _ = layout
    _step(tiles, sbound, src, w, local, brow, x, s, out, partials)
    return chunk_total(partials)


@pnjit
def _kstep(tiles: U64, sbound: U64, src: U16, w: F64, local: U16, brow: U64, x: F64, out: F64, shadow: bool, partials: F64) -> None:
    """``out = x - T x`` with per-chunk ``(z . out, out . out)`` (see :class:`~graphlabor.kernels.propagate.PullOperator`)."""
    nb = brow.shape[0] - 1
    n_blocks = tiles.shape[0] - 1
    for b in prange(nb):
        r0 = brow[b]
        for i in range(r0, brow[b + 1]):
            out[i] = 0.0
        for c in range(n_blocks):
            base = sbound[c]
            for q in range(tiles[c, b], tiles[c + 1, b]):
                out[r0 + local[q]] += w[q] * x[base + src[q]]
        a = np.int64(r0)
        end = np.int64(brow[b + 1])
        while a < end:
            e = min(a + CHUNK_ROWS, end)
            dz = 0.0
            dd = 0.0
            for i in range(a, e):
                v = x[i] - out[i]
                out[i] = v
                if shadow:
                    dz += shadow_value(i) * v
                else:
                    dz += x[i] * v
                dd += v * v
            partials[a // CHUNK_ROWS, 0] = dz
            partials[a // CHUNK_ROWS, 1] = dd
            a = e


class BlockedOperator:
    """:class:`~graphlabor.kernels.propagate.PullOperator` on a blocked layout: same methods, same bits."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.n = int(layout[5][-1]) if layout[5].shape[0] else 0

    def step(self, x: F64, s: F64, out: F64, partials: F64) -> float:
        return blocked_step(self.layout, x, s, out, partials)

    def krylov(self, x: F64, out: F64, partials2: F64, shadow: bool) -> tuple[float, float]:
        src, w, local, tiles, sbound, brow, _ = self.layout
        _kstep(tiles, sbound, src, w, local, brow, x, out, bool(shadow), partials2)
        return chunk_total(partials2[:, 0]), chunk_total(partials2[:, 1])


def blocked_power_iteration(
    layout: Layout, s: ArrayLike, tol: float, max_iter: int, x0: ArrayLike | None = None
) -> PowerIterationResult:
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
    return iterate(BlockedOperator(layout), s, tol, max_iter, x0)
