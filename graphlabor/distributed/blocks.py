"""The flow graph by receiver row blocks, one block per worker.

Rows (receivers) are split into ranges whose starts are multiples of
:data:`~graphlabor.kernels.CHUNK_ROWS`. Each block holds the canonical CSR of
its rows, built with the local engine's kernels from the flow edges that all
partitions send it (canonical CSR does not depend on the order the pieces
arrive in), and the node vectors of its rows (injected value, pay).

Numbers equal to one machine's, bit for bit:

- ``out_weight[j]`` (what sender ``j`` passes, summed over its CSR entries in
  entry order, :func:`graphlabor.kernels.column_sums`) is summed by the owner
  of ``j``'s row range from the blocks' entries, block after block, which is
  the global entry order;
- each block scales its entries by the factors of their senders
  (:func:`graphlabor.kernels.scale_columns`: one product per entry);
- a step is :func:`graphlabor.kernels.propagate_step` on the block's rows,
  with the senders' values gathered into a local vector laid out so that the
  block's own rows start on a chunk boundary (so its residual partials are
  the global chunks').

Each block records which senders it needs from every other block (``need``)
and which of its rows every other block needs (``serve``): an iteration then
moves only those values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import kernels as K
from ..graph import pass_fractions
from ..kernels.blocksplit import block_order
from ..kernels.multiset import build_csr_counted, build_csr_labeled, collapse
from ..kernels.krylov import krylov_rows, update_p, update_s, update_xr
from ..kernels.propagate import csr_matvec, n_chunks, propagate_step

if TYPE_CHECKING:
    from ..classify import Classified
    from ..params import ModelParams


#: Flow entries per sub-block at most (collapsed flow edges, :func:`collapsed_flow`, or flow edges with
#: contexts): a worker builds its block's CSR sub-block by sub-block, each taking about 60 bytes per
#: entry at its peak.
BLOCK_EDGES = 2_000_000

#: Blocks of the solve a worker (each pair of blocks that exchange values is a task a pass).
BLOCKS_PER_WORKER = 1


def block_bounds(n: int, n_blocks: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Row bounds of ``n_blocks`` blocks over ``n`` rows, starts multiples of CHUNK_ROWS.

    With ``weights`` (entries per chunk of rows), blocks hold about equal
    numbers of entries; otherwise about equal numbers of rows. Blocks may be
    empty.

    >>> block_bounds(5000, 2).tolist()
    [0, 4096, 5000]
    """
    c = K.CHUNK_ROWS
    chunks = max(1, (n + c - 1) // c)
    if weights is not None and weights.sum() > 0:
        cum = np.cumsum(weights, dtype=np.float64)
        cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_blocks) / n_blocks, side="left") + 1
    else:
        cuts = np.round(np.arange(1, n_blocks) * chunks / n_blocks).astype(np.int64)
    cuts = np.minimum(np.maximum.accumulate(np.clip(cuts, 0, chunks)), chunks)
    bounds = np.concatenate([[0], cuts * c, [n]]).astype(np.int64)
    return np.minimum(bounds, n)


def _split_by_block(keys: np.ndarray, bounds: np.ndarray, *arrays: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """Rows of ``arrays`` grouped by the block of ``keys`` (input order kept within a block)."""
    ordered, starts = _by_block(keys, bounds, *arrays)
    return [tuple(a[starts[b]:starts[b + 1]] for a in ordered) for b in range(bounds.shape[0] - 1)]


def _by_block(keys: np.ndarray, bounds: np.ndarray, *arrays: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """``arrays`` ordered by the block of ``keys`` (stable), and where each block starts."""
    order, starts = block_order(keys, np.ascontiguousarray(bounds[1:-1], dtype=np.int64))
    return [a[order] for a in arrays], starts


def plan_blocks(n: int, n_workers: int, hist: np.ndarray | None, n_blocks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Row bounds of the solve's blocks and of the build's sub-blocks (a refinement of them).

    ``n_blocks`` solve blocks (default :data:`BLOCKS_PER_WORKER` a worker),
    each cut into the same number of sub-blocks so that a sub-block holds
    at most about :data:`BLOCK_EDGES` entries (``hist``: the partitions'
    collapsed flow entries per chunk of rows, :func:`collapsed_flow`, or
    flow edges, :func:`receiver_histogram`; blocks get about equal numbers). A worker builds its block's
    CSR one sub-block at a time, in bounded memory; the solve then runs one
    task a block per pass, whatever the graph's size.

    >>> b, sub = plan_blocks(5 * 2048, 2, np.full(5, 1_000_000))  # 5 chunks of rows, 10^6 flow edges each
    >>> b.tolist(), sub.tolist()
    ([0, 6144, 10240], [0, 4096, 6144, 8192, 10240])
    """
    if n_blocks is None:
        n_blocks = BLOCKS_PER_WORKER * n_workers
    n_flow = int(hist.sum()) if hist is not None else 0
    per = max(1, -(-n_flow // (BLOCK_EDGES * n_blocks)))
    fine = block_bounds(n, n_blocks * per, hist if n else None)
    return fine[::per].copy(), fine


def receiver_histogram(part: Classified, role: np.ndarray, n: int) -> np.ndarray:
    """Flow edges of a partition by chunk of receiving rows (summed over partitions: where to cut blocks).

    The same selection and orientation as :func:`graphlabor.kernels.flow_edges`,
    counted only.
    """
    c = part.contribution
    rs, rd = role[c.src], role[c.dst]
    user = (c.value > 0.0) & (rs == K.USER)
    to_user = user & (rd == K.USER)
    to_platform = user & (rd == K.PLATFORM)
    chunks = K.n_chunks(n)
    shift = K.CHUNK_ROWS.bit_length() - 1
    hist = np.bincount(c.dst[to_user] >> shift, minlength=chunks)
    hist += np.bincount(c.src[to_platform] >> shift, minlength=chunks)
    return hist.astype(np.int64)


def collapsed_flow(part: Classified, role: np.ndarray, width: int) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """A partition's flow edges collapsed, sorted by receiver, and its entries per chunk of rows.

    Returns ``((columns, receivers, weights, counts), hist)``: the exact
    duplicates (receiver, sender, kind, weight) as one entry with its count
    (:func:`graphlabor.kernels.multiset.collapse`); the kind goes with the
    sender (column ``sender * width + kind``, or the sender with ``width``
    0), which keeps the kernel's per-row work proportional to the nodes,
    not to nodes x kinds. ``hist`` counts the entries by chunk of receiving
    rows: summed over partitions, it is what a block builds and about what
    it holds (:func:`plan_blocks`), closer to both than the flow edges.
    """
    c = part.contribution
    n = int(role.shape[0])
    s, r, w, lab = K.flow_edges(c.src, c.dst, c.value, role, c.kind if width else None)
    if width:
        assert lab is not None
        cols = s * np.uint32(width)
        cols += lab.astype(np.uint32)
    else:
        cols = s
    del s, lab
    ms = collapse(r, cols, w, n)
    del r, cols, w
    shift = K.CHUNK_ROWS.bit_length() - 1
    hist = np.bincount(ms.rows >> shift, minlength=K.n_chunks(n)).astype(np.int64)
    return (ms.cols, ms.rows, ms.weights, ms.counts), hist


def flow_pieces(part: Classified, role: np.ndarray, bounds: np.ndarray, width: int,
                with_engagement: bool = False, sub_bounds: np.ndarray | None = None,
                collapsed: tuple[np.ndarray, ...] | None = None) -> list[dict[str, Any]]:
    """A partition's flow edges, revenue and pay, split by the block of the receiving row.

    ``part`` is the partition's :class:`graphlabor.classify.Classified`;
    ``width`` the number of kinds + 1 to keep the flow split by kind (the
    labels), or 0; ``sub_bounds`` the build's sub-blocks
    (:func:`plan_blocks`; default: one a block); ``collapsed`` the
    partition's :func:`collapsed_flow` when already made.

    The flow edges of a block travel collapsed: exact duplicates (receiver,
    label, sender, weight) as one entry with its count
    (:func:`graphlabor.kernels.multiset.collapse`; counts add exactly, so
    the block's build gives the bits of a build from every edge).

    Returns one dict per block: ``flow`` (columns, rows, weights, counts,
    sorted by row; a row is ``receiver - lo``, a column ``sender * width +
    label``, or the sender without labels), ``sub`` (the sub-blocks' row bounds
    and the piece's entries in each), ``revenue`` (dst, amount), ``paid``
    (dst, amount), ``paid_out`` (src, amount) and ``engage``.
    """
    c, rv, pay = part.contribution, part.revenue, part.pay
    cols, rows, weights, counts = collapsed if collapsed is not None else collapsed_flow(part, role, width)[0]
    fine = bounds if sub_bounds is None else sub_bounds
    per = (fine.shape[0] - 1) // (bounds.shape[0] - 1)  # bounds = fine[::per]
    cuts = np.searchsorted(rows, fine.astype(np.uint32))
    cuts[0], cuts[-1] = 0, rows.shape[0]
    flow, sub = [], []
    for b in range(bounds.shape[0] - 1):
        lo = int(bounds[b])
        a, z = int(cuts[b * per]), int(cuts[(b + 1) * per])
        flow.append((cols[a:z], rows[a:z] - np.uint32(lo), weights[a:z], counts[a:z]))
        sub.append((fine[b * per:(b + 1) * per + 1], np.diff(cuts[b * per:(b + 1) * per + 1])))
    rev = _split_by_block(rv.dst, bounds, rv.dst, rv.value)
    paid = _split_by_block(pay.dst, bounds, pay.dst, pay.value)
    paid_out = _split_by_block(pay.src, bounds, pay.src, pay.value)
    engage: list[tuple[np.ndarray, ...] | None] = [None] * (bounds.shape[0] - 1)
    if with_engagement:
        from types import SimpleNamespace
        from typing import cast

        from ..methods import engagement_edges
        from ..prepare import Prepared

        # engagement_edges reads only the roles of what it is given
        u, v, ew, ek = engagement_edges(cast(Prepared, SimpleNamespace(role=role)), c)
        engage = list(_split_by_block(u, bounds, u, v, ew, ek))
    return [
        {"flow": flow[b], "sub": sub[b], "revenue": rev[b], "paid": paid[b], "paid_out": paid_out[b],
         "engage": engage[b]}
        for b in range(bounds.shape[0] - 1)
    ]


@dataclass
class Block:
    """One block of receiver rows ``[lo, hi)`` of the flow matrix and its node vectors."""

    b: int
    lo: int
    hi: int
    indptr: np.ndarray
    indices: np.ndarray  # global sender codes (until :func:`localize`), then positions in the local vector
    data: np.ndarray
    injected: np.ndarray
    revenue_in: np.ndarray
    paid: np.ndarray
    paid_out: np.ndarray
    by_label: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None
    n_flow: int
    senders: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))  # sorted distinct senders outside [lo, hi)
    offset: int = 0  # where the block's own rows start in the local vector (a multiple of CHUNK_ROWS)
    need: dict[int, np.ndarray] = field(default_factory=dict)  # block q -> rows of q (relative to q's lo) this block reads
    serve: dict[int, np.ndarray] = field(default_factory=dict)  # block b -> own rows (relative to lo) block b reads
    out_weight: np.ndarray | None = None
    keep: np.ndarray | None = None
    factor: np.ndarray | None = None  # passed / out_weight of own rows
    engage: tuple[np.ndarray, ...] | None = None  # user-to-user engagement edges (u, v, w, kind) whose u is an own row (method shapley)

    @property
    def rows(self) -> int:
        return self.hi - self.lo

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])


def build_block(b: int, lo: int, hi: int, width: int, node_value: np.ndarray | None, *pieces: dict[str, Any]) -> Block:
    """Build block ``b``'s CSR and node vectors from every partition's pieces for it.

    ``width`` is the number of kinds + 1 to keep the flow split by kind (as
    :func:`graphlabor.graph.build_flow_graph` with labels), or 0 (as given
    to :func:`flow_pieces`). The CSR is built sub-block by sub-block (the
    pieces' ``sub``) from the pieces' counted entries
    (:func:`graphlabor.kernels.multiset.build_csr_labeled`, or
    :func:`~graphlabor.kernels.multiset.build_csr_counted` without labels:
    bit for bit the canonical CSR of every flow edge), and the rows put end to end: the
    same arrays as one build over the block (canonical CSR is row by row),
    at the memory peak of one sub-block.
    """
    nb = hi - lo
    sub = pieces[0]["sub"][0] if pieces else np.array([lo, hi], np.int64)
    at = [0] * len(pieces)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    kparts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    n_flow = 0
    for j in range(sub.shape[0] - 1):
        a, z = int(sub[j]), int(sub[j + 1])
        flows = []
        for i, p in enumerate(pieces):
            cnt = int(p["sub"][1][j])
            flows.append(tuple(x[at[i]:at[i] + cnt] for x in p["flow"]))
            at[i] += cnt
        s = np.concatenate([f[0] for f in flows]) if flows else np.empty(0, np.uint32)
        rows = np.concatenate([f[1] for f in flows]) - np.uint32(a - lo) if flows else np.empty(0, np.uint32)
        w = np.concatenate([f[2] for f in flows]) if flows else np.empty(0)
        count = np.concatenate([f[3] for f in flows]) if flows else np.empty(0, np.uint32)
        del flows
        n_flow += int(count.sum(dtype=np.uint64))
        if width:
            # T and its split by kind from one pass (build_csr_labeled, as the local engine's flow_csr):
            # every duplicate of a pair, whatever its kind, added in ascending order of weight (the bits of
            # the build without labels); the split's row node * width + kind adds that kind's alone
            (tcsr, kcsr) = build_csr_labeled(rows, s // np.uint32(width), w, (s % np.uint32(width)).astype(np.uint16),
                                             z - a, width, counts=count)
            del s, rows, w, count
            parts.append(tcsr)
            kparts.append(kcsr)
        else:
            parts.append(build_csr_counted(rows, s, w, z - a, count))
            del s, rows, w, count
    indptr, indices, data = _end_to_end(parts)
    del parts
    by_label: tuple[np.ndarray, np.ndarray, np.ndarray, int] | None = None
    if width:
        kptr, kidx, kdat = _end_to_end(kparts)
        by_label = (kptr, kidx, kdat, width)
    del kparts

    def gsum(name: str) -> np.ndarray:
        keys = np.concatenate([p[name][0] for p in pieces]).astype(np.int64) - lo
        vals = np.concatenate([p[name][1] for p in pieces])
        return K.group_sum(keys, vals, nb)

    revenue_in = gsum("revenue")
    injected = revenue_in if node_value is None else revenue_in + node_value
    engage = None
    if pieces and pieces[0]["engage"] is not None:
        engage = tuple(np.concatenate([p["engage"][k] for p in pieces]) for k in range(4))
    return Block(b, lo, hi, indptr, indices, data, injected, revenue_in, gsum("paid"), gsum("paid_out"), by_label, n_flow,
                 engage=engage)


def _end_to_end(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSR of consecutive row ranges' CSRs, put end to end."""
    if len(parts) == 1:
        return parts[0]
    rows = sum(p[0].shape[0] - 1 for p in parts)
    indptr = np.zeros(rows + 1, np.uint64)
    r = e = 0
    for p in parts:
        k = p[0].shape[0] - 1
        indptr[r + 1:r + k + 1] = p[0][1:] + np.uint64(e)
        r += k
        e += int(p[0][-1])
    return (indptr, np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.uint32),
            np.concatenate([p[2] for p in parts]) if parts else np.empty(0))


def column_pieces(block: Block, bounds: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The block's entries ``(sender, weight)`` in entry order, split by the block owning the sender."""
    blk = np.searchsorted(bounds[1:-1], block.indices, side="right")
    return [(block.indices[blk == q], block.data[blk == q]) for q in range(bounds.shape[0] - 1)]


def weights_and_factors(q: int, lo: int, hi: int, role_q: np.ndarray, params: ModelParams,
                        *pieces: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``out_weight`` of senders ``[lo, hi)`` summed in global entry order, their keep share and scale factor."""
    idx = np.concatenate([p[0] for p in pieces]) - np.uint32(lo) if pieces else np.empty(0, np.uint32)
    dat = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0)
    out_weight = K.column_sums(np.zeros(1, np.uint64), idx.astype(np.uint32), dat, hi - lo)
    passed = pass_fractions(role_q, out_weight, params)
    factor = np.divide(passed, out_weight, out=np.zeros(hi - lo), where=out_weight > 0)
    return out_weight, 1.0 - passed, factor


def needs(block: Block, bounds: np.ndarray) -> dict[int, np.ndarray]:
    """For each other block q: the rows of q (relative to q's start) this block's senders are."""
    mark = np.zeros(int(bounds[-1]), bool)
    mark[block.indices] = True
    senders = np.flatnonzero(mark)  # distinct, ascending (no sort of the entries)
    blk = np.searchsorted(bounds[1:-1], senders, side="right")
    return {
        int(q): (senders[blk == q].astype(np.int64) - int(bounds[q]))
        for q in np.unique(blk).tolist() if q != block.b
    }


def finish_block(block: Block, bounds: np.ndarray, weights: tuple[np.ndarray, np.ndarray, np.ndarray],
                 served: dict[int, np.ndarray], *factor_pieces: np.ndarray) -> Block:
    """Scale the block's entries by sender, and renumber senders into the local vector.

    ``served`` maps each block b to the rows of this block that b reads;
    ``factor_pieces`` are the scale factors of the senders this block reads
    from each other block, in block order (:attr:`Block.need`).
    """
    out_weight, keep, factor = weights
    need = needs(block, bounds)
    lo, nb = block.lo, block.rows
    ext = np.concatenate([need[q] + int(bounds[q]) for q in sorted(need)]).astype(np.uint32) if need else np.empty(0, np.uint32)
    ext_factor = np.concatenate(factor_pieces) if factor_pieces else np.empty(0)
    below = int(np.searchsorted(ext, lo))
    offset = -(-below // K.CHUNK_ROWS) * K.CHUNK_ROWS
    # each sender's place in the local vector and its factor, by global code (a lookup, not a search an entry)
    n_ext = ext.shape[0]
    where = np.zeros(int(bounds[-1]), np.uint32)
    fac = np.zeros(int(bounds[-1]))
    where[lo:block.hi] = np.arange(offset, offset + nb, dtype=np.uint32)
    fac[lo:block.hi] = factor
    where[ext[:below]] = np.arange(offset - below, offset, dtype=np.uint32)
    where[ext[below:]] = np.arange(offset + nb, offset + nb + n_ext - below, dtype=np.uint32)
    fac[ext] = ext_factor
    local = where[block.indices]
    # the factor of every entry's sender (one product per entry, as scale_columns)
    data = block.data * fac[block.indices]
    label = None
    if block.by_label is not None:
        kptr, kidx, kdat, width = block.by_label
        label = (kptr, where[kidx], kdat, width)
    out = Block(
        block.b, lo, block.hi, block.indptr, local, data, block.injected, block.revenue_in,
        block.paid, block.paid_out, label, block.n_flow, ext, offset, need, served, out_weight, keep, factor,
        block.engage,
    )
    if nb:
        # the one checked step (CSR arrays, senders within the local vector): the solver's steps skip the checks
        n_local = offset + nb + (ext.shape[0] - below)
        propagate_step(out.indptr, out.indices, out.data, np.zeros(n_local), np.zeros(nb), np.empty(nb), offset, check=True)
    return out


def local_vector(block: Block, own: np.ndarray, pieces: Sequence[np.ndarray | dict[int, np.ndarray]]) -> np.ndarray:
    """The values the block's entries read: its own rows at ``offset``, the senders it reads around them.

    A piece is the values of the senders read from one other block, in block
    order, or that block's whole :func:`served` dict (when this block is its
    only reader, the dict itself travels: one task fewer).
    """
    n_ext = block.senders.shape[0]
    below = int(np.searchsorted(block.senders, block.lo))
    x = np.zeros(block.offset + block.rows + (n_ext - below))
    arrays = [p[block.b] if isinstance(p, dict) else p for p in pieces]
    ext = np.concatenate(arrays) if arrays else np.empty(0)
    x[block.offset - below:block.offset] = ext[:below]
    x[block.offset:block.offset + block.rows] = own
    x[block.offset + block.rows:] = ext[below:]
    return x


def served(block: Block, values: np.ndarray | tuple[Any, ...]) -> dict[int, np.ndarray]:
    """The values of own rows each other block reads."""
    values = own_values(values)
    return {b: values[rows] for b, rows in block.serve.items()}


def own_values(v: np.ndarray | tuple[Any, ...]) -> np.ndarray:
    """The block's own values from a vector or from a :func:`step` result."""
    own: np.ndarray = v[0] if isinstance(v, tuple) else v
    return own


def step(block: Block, x_own: np.ndarray | tuple[Any, ...],
         *pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """One propagation step on the block: ``(new own values, residual partials per chunk, values to serve)``.

    ``x_own`` is the block's own values, or the previous step's result (kept
    on the block's worker: only the pieces travel).
    """
    x_own = own_values(x_own)
    out = np.empty(block.rows)
    partials = np.empty(n_chunks(block.rows))
    if block.rows:
        x = local_vector(block, x_own, pieces)
        # checked once by finish_block
        propagate_step(block.indptr, block.indices, block.data, x, block.injected, out, block.offset, partials, check=False)
    return out, partials, served(block, out)


# BiCGSTAB over the blocks (graphlabor.distributed.solve.bicgstab). A block's state is the tuple
# (x, r, p, v, t) of its own rows; each function returns a new state (inputs are never changed: a
# task may be recomputed), then the per-chunk partials of its reductions; the k_served_* functions
# return the rows other blocks read of a vector being updated, computed beside the block's own
# task. They run the very kernels of graphlabor.kernels.krylov.bicgstab on the block's rows, with
# the block's first row as the global row number: the partials are the whole vector's for these chunks.

KState = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def k_start(block: Block, x_src: Any, out_src: Any) -> tuple[KState, np.ndarray]:
    """Start a Krylov phase: ``x = 0, r = s`` (``x_src`` None) or ``x`` and ``r = out - x`` (a restart).

    Returns the state and the partials of ``(r_hat . r, ||r||_1)``.
    """
    nb = block.rows
    if x_src is None:
        x, r = np.zeros(nb), block.injected.copy()
    else:
        x = own_values(x_src).copy()
        r = np.subtract(own_values(out_src), x)
    p, v, t = np.zeros(nb), np.zeros(nb), np.zeros(nb)
    partials2 = np.empty((n_chunks(nb), 2))
    update_xr(x, p, r, r, 0.0, 0.0, block.lo, partials2)
    return (x, r, p, v, t), partials2


def k_apply(block: Block, res: tuple[Any, ...], which: int, shadow: bool,
            *pieces: np.ndarray | dict[int, np.ndarray]) -> tuple[KState, np.ndarray]:
    """``v = (I - T) p`` (``which`` 2, shadow partials) or ``t = (I - T) r`` (``which`` 1, ``(r . t, t . t)``)."""
    state = list(res[0])
    nb = block.rows
    out = np.empty(nb)
    partials2 = np.empty((n_chunks(nb), 2))
    if nb:
        y = local_vector(block, state[which], pieces)
        krylov_rows(block.indptr, block.indices, block.data, y, out, shadow, block.lo, block.offset, partials2)
    state[3 if which == 2 else 4] = out
    x, r, p, v, t = state
    return (x, r, p, v, t), partials2


def k_served_p(block: Block, res: tuple[Any, ...], beta: float, omega: float) -> dict[int, np.ndarray]:
    """The rows of ``p = r + beta (p - omega v)`` other blocks read, from the state before :func:`k_apply_p`.

    The update is row by row (the same kernel on the rows picked out, so the
    same bits as on the whole block): it runs beside the block's own
    :func:`k_apply_p` instead of before it.
    """
    x, r, p, v, t = res[0]
    out = {}
    for b, rows in block.serve.items():
        pb = p[rows]
        update_p(pb, r[rows], v[rows], beta, omega)
        out[b] = pb
    return out


def k_apply_p(block: Block, res: tuple[Any, ...], beta: float, omega: float,
              *pieces: np.ndarray | dict[int, np.ndarray]) -> tuple[KState, np.ndarray]:
    """``p = r + beta (p - omega v)``, then ``v = (I - T) p`` with the shadow partials (``pieces``: :func:`k_served_p`)."""
    x, r, p, v, t = res[0]
    p = p.copy()
    update_p(p, r, v, beta, omega)
    return k_apply(block, ((x, r, p, v, t),), 2, True, *pieces)


def k_served_s(block: Block, res: tuple[Any, ...], alpha: float) -> dict[int, np.ndarray]:
    """The rows of ``s = r - alpha v`` other blocks read (as :func:`k_served_p`, beside :func:`k_apply_s`)."""
    x, r, p, v, t = res[0]
    out = {}
    for b, rows in block.serve.items():
        rb = r[rows]
        update_s(rb, v[rows], alpha, np.empty(n_chunks(rb.shape[0])))
        out[b] = rb
    return out


def k_apply_s(block: Block, res: tuple[Any, ...], alpha: float,
              *pieces: np.ndarray | dict[int, np.ndarray]) -> tuple[KState, tuple[np.ndarray, np.ndarray]]:
    """``r = s = r - alpha v`` (``||s||_1`` partials), then ``t = (I - T) s`` (``(s . t, t . t)`` partials).

    ``pieces``: :func:`k_served_s`. Returns the state and both partials.
    """
    x, r, p, v, t = res[0]
    r = r.copy()
    snorm = np.empty(n_chunks(block.rows))
    update_s(r, v, alpha, snorm)
    state, tparts = k_apply(block, ((x, r, p, v, t),), 1, False, *pieces)
    return state, (snorm, tparts)


def k_update(block: Block, res: tuple[Any, ...], alpha: float, omega: float, with_t: bool) -> tuple[KState, np.ndarray]:
    """``x += alpha p + omega r``, ``r -= omega t`` (``r`` for ``t`` unless ``with_t``); ``(r_hat . r, ||r||_1)`` partials."""
    x, r, p, v, t = res[0]
    x, r = x.copy(), r.copy()
    partials2 = np.empty((n_chunks(block.rows), 2))
    update_xr(x, p, r, t if with_t else r, alpha, omega, block.lo, partials2)
    return (x, r, p, v, t), partials2


def k_finite(res: tuple[Any, ...]) -> bool:
    """Whether the block's ``x`` is finite."""
    return bool(np.isfinite(res[0][0]).all())


def k_clip(block: Block, res: tuple[Any, ...], finite: bool) -> np.ndarray:
    """``max(x, 0)``, or ``max(s, 0)`` when some block's ``x`` went astray (the power iteration starts afresh)."""
    x = res[0][0] if finite else block.injected
    clipped: np.ndarray = np.maximum(x, 0.0)
    return clipped


def via(block: Block, state_own: np.ndarray, *pieces: np.ndarray) -> np.ndarray:
    """The block's rows of the breakdown by kind (as the local engine's ``_via_propagate``)."""
    assert block.by_label is not None and block.keep is not None  # built with the breakdown, finished
    kptr, kidx, kdat, width = block.by_label
    y = local_vector(block, own_values(state_own), pieces)
    v = csr_matvec(kptr, kidx, kdat, y).reshape(block.rows, width)
    v[:, width - 1] = block.injected
    v *= block.keep[:, None]
    return v


def scaled(block: Block, values: np.ndarray | tuple[Any, ...]) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """What each own row passes per unit of flow weight given ``values``, and what to serve of it.

    As the local engine's breakdown: ``(1 - keep) / out_weight * values``
    (``1 - keep`` can differ from the pass fraction in its last bit).
    """
    values = own_values(values)
    assert block.keep is not None and block.out_weight is not None  # set by finish_block
    passed = 1.0 - block.keep
    y = np.divide(passed, block.out_weight, out=np.zeros(block.rows), where=block.out_weight > 0) * values
    return y, served(block, y)


def contributors(block: Block, n: int) -> np.ndarray:
    """Positive entries per sender among the block's rows, by global sender code (summed over blocks: distinct receivers)."""
    # counted by place in the local vector, then the places mapped to global codes (no global code an entry)
    below = int(np.searchsorted(block.senders, block.lo))
    cnt = np.bincount(block.indices[block.data > 0], minlength=block.offset + block.rows + block.senders.shape[0] - below)
    out = np.zeros(n, np.int64)
    out[block.lo:block.hi] = cnt[block.offset:block.offset + block.rows]
    out[block.senders[:below]] = cnt[block.offset - below:block.offset]
    out[block.senders[below:]] = cnt[block.offset + block.rows:]
    return out


def _global_senders(block: Block) -> np.ndarray:
    below = int(np.searchsorted(block.senders, block.lo))
    loc = block.indices.astype(np.int64)
    own = (loc >= block.offset) & (loc < block.offset + block.rows)
    g = np.empty(loc.shape[0], np.int64)
    g[own] = loc[own] - block.offset + block.lo
    ext_pos = np.where(loc < block.offset, loc - (block.offset - below), loc - block.offset - block.rows + below)
    g[~own] = block.senders[ext_pos[~own]]
    return g


def shapley_edges(block: Block, held: Any, role_own: np.ndarray, damping: float, bounds: np.ndarray) -> dict[str, Any]:
    """The engagement edges' halves (``methods._shapley``) for edges whose acting user is an own row.

    Returns ``engaged`` (own rows with an engagement edge) and, by the block
    of each edge's end, ``(ends, halves, kinds)`` for both ends (``u`` here, ``v`` where it lives).
    """
    held = own_values(held)
    nb, lo = block.rows, block.lo
    assert block.engage is not None and block.keep is not None
    u, v, w, kind = block.engage
    ul = u.astype(np.int64) - lo
    W = K.group_sum(ul, w, nb)
    kept = block.keep * held
    h = np.where(role_own == K.USER, kept, 0.0)
    edge_value = damping * h[ul] * w / W[ul]
    half = 0.5 * edge_value
    out = {b: p for b, p in enumerate(_split_by_block(v, bounds, v, half, kind))}
    return {"engaged": W > 0, "own": (u, half, kind), "out": out}


def shapley_finish(block: Block, held: Any, via_direct: np.ndarray | None, role_own: np.ndarray, damping: float, nk: int,
                   mine: dict[str, Any], *incoming: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray | None]:
    """Own rows' Shapley values and breakdown from the one-hop run (as ``methods._shapley``)."""
    held = own_values(held)
    nb, lo = block.rows, block.lo
    one_hop = block.keep * held
    users = role_own == K.USER
    engaged = mine["engaged"]
    h = np.where(users, one_hop, 0.0)
    vs = [p[0] for p in incoming]
    halves = [p[1] for p in incoming]
    received = K.group_sum(np.concatenate(vs).astype(np.int64) - lo if vs else np.empty(0, np.int64),
                           np.concatenate(halves) if halves else np.empty(0), nb)
    self_factor = np.where(engaged, 1.0 - damping, 1.0)
    kept = np.where(users, h * np.where(engaged, 1.0 - 0.5 * damping, 1.0) + received, one_hop)
    via = None
    if via_direct is not None:
        via = via_direct.copy()
        via[users] *= self_factor[users, None]
        u, uhalf, ukind = mine["own"]
        ends = np.concatenate([u.astype(np.int64) - lo] + [p[0].astype(np.int64) - lo for p in incoming])
        kinds = np.concatenate([ukind] + [p[2] for p in incoming]).astype(np.int64)
        vals = np.concatenate([uhalf] + halves)
        via += K.group_sum(ends * (nk + 1) + kinds, vals, nb * (nk + 1)).reshape(nb, nk + 1)
    return kept, via

