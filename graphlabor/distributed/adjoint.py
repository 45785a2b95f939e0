"""``explain`` on the Dask engine: the adjoint solve ``y = c + T^T y`` over row blocks of ``T^T``.

The forward solve's row blocks (receiver rows of ``T``, :mod:`.blocks`) stay
on the cluster after the run (:class:`ClusterGraph`). An explanation
(:func:`graphlabor.explain.explain_node`) reads them through
:class:`DaskGraph`:

- the explained node's row of ``T`` comes from its block (pair entries after
  the others, pairs ascending, as the local engine lists them);
- ``T^T`` is cut the same way as ``T``, by rows, which are ``T``'s senders:
  every forward block sends each transposed block the entries whose sender
  is in its rows, with their receivers (``T`` cut by sender, the scatter
  form of the same blocks); a transposed block lays out its entries by
  sender, receivers ascending (a receiver's block comes after the blocks
  of smaller rows), which is the canonical CSR of
  :func:`graphlabor.kernels.transpose_csr`; the rows start on the forward
  blocks' bounds (multiples of ``CHUNK_ROWS``), and the pairs, senders
  only, are the last rows of the last block with rows, as they are the
  last rows of the local ``T^T`` (so every block still starts on a chunk
  boundary);
- the solve is :func:`.solve.bicgstab` or :func:`.solve.power_iteration` on
  those blocks with ``c`` as the injection: each iteration moves only the
  entries of ``y`` that a block's columns need (:func:`.blocks.needs`), and
  the residuals are added in chunk order, so ``y`` is the local engine's,
  bit for bit;
- the revenue edges stay on the workers: each partition sends its edges
  (once) to the block of ``y``'s rows holding the node each injected at;
  there, given that block's slice of ``y``, they are summed by that node,
  and their terms ``y[at] * amount * scale`` sent on to the block of the
  payer, where they are summed by payer, with
  :func:`graphlabor.kernels.group_sum` (whose sums do not depend on the
  order of the terms): the same bits as one machine;
- for ``--method shapley``, the engagement edges into the node come from the
  blocks of the engaging users, with those users' engagement totals.

Everything the client holds is a vector over the nodes (``c``, ``y``, the
sums), never an edge.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import kernels as K
from ..classify import Classified
from . import blocks as B
from . import pairs as CP
from .solve import BlockVectors, ExchangePlan, bicgstab, power_iteration

if TYPE_CHECKING:
    from ..methods import ModelRun
    from ..prepare import Prepared


@dataclass
class ClusterGraph:
    """A run's flow graph left on the cluster for explanations.

    ``blocks``: futures of the solved row blocks (:class:`.blocks.Block`, or
    :class:`.pairs.PairBlock` with contexts); ``revenue``: futures of each
    partition's revenue edges ``(payer, node injected at, amount)``
    (:func:`revenue_edges`); ``bounds``: the blocks' row bounds over the ``n``
    real nodes; ``k``: the pairs.
    """

    blocks: list[Any]
    revenue: list[Any]
    bounds: np.ndarray
    n: int
    k: int
    workers: list[str]


def revenue_edges(part: Classified, n: int, pair_node: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The partition's revenue edges: payer, the node each injected at, amount (row order).

    ``pair_node[q]``: where the revenue of pair ``q`` was injected (``n + q``,
    or its platform when unmatched revenue went to the pool), as
    ``PairRun.revenue_node``.
    """
    r = part.revenue
    at = r.dst.astype(np.int64)
    if pair_node is not None and r.pair is not None:
        at = np.where(r.pair >= 0, pair_node[np.maximum(r.pair, 0)], at)
    return r.src.astype(np.int64), at, r.value


def pair_nodes(n: int, k: int, platform: np.ndarray, unmatched: np.ndarray | None) -> np.ndarray:
    """Where each pair's revenue was injected: the pair (``n + q``), or its platform for pooled unmatched revenue.

    >>> pair_nodes(5, 2, np.array([1, 3]), np.array([False, True])).tolist()
    [5, 3]
    """
    at = n + np.arange(k, dtype=np.int64)
    if unmatched is not None and unmatched.any():
        at[unmatched] = platform[unmatched]
    return at


def _row(block: B.Block, code: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row ``code`` of ``T``: global senders (pairs ``n + q``, after the others) and fractions."""
    i = code - block.lo
    g = B._global_senders(block)
    a, z = int(block.indptr[i]), int(block.indptr[i + 1])
    senders, data = g[a:z], block.data[a:z]
    if isinstance(block, CP.PairBlock) and block.pairs is not None:  # as explain.LocalGraph.row
        pe = block.pairs
        e = np.flatnonzero(pe.user == code)
        q = np.searchsorted(pe.ptr.astype(np.int64), e, side="right") - 1
        senders = np.concatenate([senders, n + q])
        data = np.concatenate([data, pe.weight[e] * block.factor_pair[q]])
    return senders.astype(np.int64), data


def transpose_pieces(block: B.Block, tbounds: np.ndarray, n: int) -> list[tuple[np.ndarray, ...]]:
    """The block's entries of ``T`` as ``(sender, receiver, fraction)``, cut by the transposed block of the sender.

    Within a piece the entries keep the block's CSR order (receivers ascending).
    """
    length: np.ndarray = np.diff(block.indptr.astype(np.int64))
    rows = np.repeat(np.arange(block.lo, block.hi, dtype=np.int64), length)
    senders, data = B._global_senders(block), block.data
    if isinstance(block, CP.PairBlock) and block.pairs is not None:
        # the pairs' entries into the own rows, pair by pair (each pair's in the local order): the pairs' rows
        # of T^T are these, block after block, as explain.pair_rows lays them out
        pe = block.pairs
        k = int(pe.ptr.shape[0]) - 1
        plength: np.ndarray = np.diff(pe.ptr.astype(np.int64))
        q = np.repeat(np.arange(k, dtype=np.int64), plength)
        rows = np.concatenate([rows, pe.user.astype(np.int64)])
        senders = np.concatenate([senders, n + q])
        data = np.concatenate([data, pe.weight * block.factor_pair[q]])
    return B._split_by_block(senders, tbounds, senders, rows, data)


def transpose_block(q: int, lo: int, hi: int, *pieces: tuple[np.ndarray, ...]) -> B.Block:
    """Rows ``[lo, hi)`` of ``T^T`` (global receivers of ``T`` as columns) from every forward block's piece, in block order."""
    nb = hi - lo
    s = np.concatenate([p[0] for p in pieces]) - lo if pieces else np.empty(0, np.int64)
    r = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0, np.int64)
    d = np.concatenate([p[2] for p in pieces]) if pieces else np.empty(0)
    # by sender; within a sender, pieces in block order and each in CSR order: receivers ascending (canonical)
    order = np.argsort(s, kind="stable")
    indptr = np.zeros(nb + 1, np.uint64)
    np.cumsum(np.bincount(s, minlength=nb), out=indptr[1:])
    zeros = np.zeros(nb)
    return B.Block(q, lo, hi, indptr, r[order].astype(np.uint32), d[order], zeros, zeros, zeros, zeros, None,
                   int(s.shape[0]))


def finish_transposed(block: B.Block, tbounds: np.ndarray, served: dict[int, np.ndarray]) -> B.Block:
    """:func:`.blocks.finish_block` with unit factors (the entries are ``T``'s, already scaled): local columns, exchange plan."""
    nb = block.rows
    need = B.needs(block, tbounds)
    ones = np.ones(nb)
    return B.finish_block(block, tbounds, (ones, np.zeros(nb), ones), served,
                          *[np.ones(need[q].shape[0]) for q in sorted(need)])


def _served(b: int, *needs: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Rows of block ``b`` each other block reads."""
    return {c: nd[b] for c, nd in enumerate(needs) if b in nd}


def with_injection(block: B.Block, c: np.ndarray) -> B.Block:
    """The transposed block with ``c`` (its rows) as the injection of the solve."""
    return replace(block, injected=c)


def _injected(block: B.Block) -> np.ndarray:
    return block.injected


def engaged_into(block: B.Block, code: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float | None]:
    """The block's engagement edges into ``code`` (acting users, weights, the users' totals) and, if ``code`` is
    an own row, its own total (``None`` otherwise); totals as ``methods.engagement_edges`` gives them."""
    assert block.engage is not None  # method shapley
    u, v, w, _ = block.engage
    ul = u.astype(np.int64) - block.lo
    W = K.group_sum(ul, w, block.rows)
    sel = np.flatnonzero(v == code)
    own = float(W[code - block.lo]) if block.lo <= code < block.hi else None
    return u[sel].astype(np.int64), w[sel], W[ul[sel]], own


def revenue_by_block(edges: tuple[np.ndarray, np.ndarray, np.ndarray], tbounds: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """A partition's revenue edges ``(payer, at, amount)`` split by the block of ``at`` (the row of ``y`` they read)."""
    src, at, value = edges
    return B._split_by_block(at, tbounds, src, at, value)


def revenue_terms(y: np.ndarray, lo: int, scale: float, bounds: np.ndarray,
                  *pieces: tuple[np.ndarray, ...]) -> tuple[np.ndarray, list[tuple[np.ndarray, ...]]]:
    """On the block of rows ``[lo, lo + len(y))`` of ``y``: its revenue edges' ``y[at] * amount`` summed by ``at``,
    and the terms ``y[at] * amount * scale`` split by the block of the payer."""
    src = np.concatenate([p[0] for p in pieces]) if pieces else np.empty(0, np.int64)
    at = np.concatenate([p[1] for p in pieces]) - lo if pieces else np.empty(0, np.int64)
    value = np.concatenate([p[2] for p in pieces]) if pieces else np.empty(0)
    reached = y[at] * value
    return K.group_sum(at, reached, y.shape[0]), B._split_by_block(src, bounds, src, reached * scale)


def block_sums(lo: int, hi: int, *pieces: tuple[np.ndarray, ...]) -> np.ndarray:
    """The sums of the block's rows from every partition's terms (:func:`graphlabor.kernels.group_sum`)."""
    keys = np.concatenate([p[0] for p in pieces]) - lo if pieces else np.empty(0, np.int64)
    vals = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0)
    out: np.ndarray = K.group_sum(keys, vals, hi - lo)
    return out


class DaskGraph:
    """:class:`graphlabor.explain.GraphAccess` on the row blocks a Dask run left on the cluster.

    ``T^T``'s blocks are built on the first adjoint solve and reused for the
    next nodes.
    """

    def __init__(self, client: Any, prep: Prepared, run: ModelRun) -> None:
        cluster = getattr(run.graph, "cluster", None)
        assert cluster is not None  # attribute_dask_periods(..., keep_graph=True)
        self.client, self.prep, self.run, self.g = client, prep, run, cluster
        n, k = cluster.n, cluster.k
        # the pairs are the last rows of the last block with rows (whose start is on a chunk boundary,
        # unlike n): the blocks after it, empty, start after them
        self.tbounds = np.where(cluster.bounds >= n, n + k, cluster.bounds).astype(np.int64)
        self.tbounds[0] = 0
        self._transposed: tuple[list[Any], ExchangePlan] | None = None
        self._revenue: list[list[Any]] | None = None  # by block of rows of y: every partition's revenue edges read there

    def _block_of(self, code: int) -> int:
        return int(np.searchsorted(self.g.bounds[1:-1], code, side="right"))

    def row(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        f = self.client.submit(_row, self.g.blocks[self._block_of(code)], code, self.g.n, pure=True)
        senders, data = f.result()
        return senders, data

    def shapley_weights(self, code: int) -> dict[int, float]:
        got = self.client.gather([self.client.submit(engaged_into, f, code, pure=True) for f in self.g.blocks])
        d = self.run.params.damping
        own = next(o for *_, o in got if o is not None)
        weights = {code: (1.0 - 0.5 * d) if own > 0 else 1.0}
        for u, w, W, _ in got:  # as explain._shapley_weights: each user's edges in row order
            for j, ww, Wj in zip(u.tolist(), w.tolist(), W.tolist()):
                weights[j] = weights.get(j, 0.0) + 0.5 * d * ww / Wj
        return weights

    def _transpose(self) -> tuple[list[Any], ExchangePlan]:
        if self._transposed is None:
            client, tb, nq = self.client, self.tbounds, len(self.g.blocks)
            workers = self.g.workers
            pieces = [client.submit(transpose_pieces, f, tb, self.g.n, pure=True) for f in self.g.blocks]
            raw = []
            for q in range(nq):
                mine = [client.submit(operator.getitem, p, q, pure=True) for p in pieces]
                raw.append(client.submit(transpose_block, q, int(tb[q]), int(tb[q + 1]), *mine, pure=True,
                                         workers=[workers[q % len(workers)]], allow_other_workers=True))
            need = [client.submit(B.needs, f, tb, pure=True) for f in raw]
            need_keys = client.gather([client.submit(sorted, nd, pure=True) for nd in need])
            finished = [client.submit(finish_transposed, raw[q], tb, client.submit(_served, q, *need, pure=True), pure=True,
                                      workers=[workers[q % len(workers)]], allow_other_workers=True) for q in range(nq)]
            served = client.gather([client.submit(_served_bytes, f, pure=True) for f in finished])
            self._transposed = finished, ExchangePlan(need_keys, served)
        return self._transposed

    def adjoint(self, c: np.ndarray, tol: float, max_iter: int, solver: str) -> tuple[np.ndarray, int, float, bool]:
        client, tb = self.client, self.tbounds
        finished, plan = self._transpose()
        blocks = [client.submit(with_injection, f, c[int(tb[q]):int(tb[q + 1])], pure=True)
                  for q, f in enumerate(finished)]
        if solver == "jacobi":
            x0 = BlockVectors(client, blocks, [client.submit(_injected, f, pure=True) for f in blocks])
            state, n_iter, residual, ok = power_iteration(client, blocks, plan, x0, tol, max_iter)
        else:
            state, n_iter, residual, ok = bicgstab(client, blocks, plan, tol, max_iter)
        y = np.concatenate(client.gather([client.submit(B.own_values, x, pure=True) for x in state.own]))
        return y, n_iter, residual, ok

    def revenue_sums(self, y: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
        client, b, tb = self.client, self.g.bounds, self.tbounds
        nq = len(tb) - 1
        if self._revenue is None:  # each partition's revenue edges, sent once to the blocks of the rows they read
            split = [client.submit(revenue_by_block, r, tb, pure=True) for r in self.g.revenue]
            self._revenue = [[client.submit(operator.getitem, p, q, pure=True) for p in split] for q in range(nq)]
        # each block of rows gets its slice of y (in the task: rebuilt if its worker is lost)
        terms = [client.submit(revenue_terms, y[int(tb[q]):int(tb[q + 1])], int(tb[q]), scale, b, *self._revenue[q],
                               pure=True) for q in range(nq)]
        by_payer = [client.submit(operator.getitem, t, 1, pure=True) for t in terms]
        payer = [client.submit(block_sums, int(b[q]), int(b[q + 1]),
                               *[client.submit(operator.getitem, p, q, pure=True) for p in by_payer], pure=True)
                 for q in range(len(b) - 1)]
        at = [client.submit(operator.getitem, t, 0, pure=True) for t in terms]
        n_all = self.g.n + self.g.k
        payer_part = np.concatenate(client.gather(payer)) if self.g.n else np.zeros(0)
        at_sum = np.concatenate(client.gather(at)) if n_all else np.zeros(0)
        return payer_part, at_sum


def _served_bytes(block: B.Block) -> int:
    return 8 * int(sum(len(r) for r in block.serve.values()))
