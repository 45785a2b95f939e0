"""Contexts on the Dask engine: the ``(platform, context)`` pairs, per partition and per block of rows.

The local engine (:func:`graphlabor.methods.run_model`) keeps the pairs'
entries out of the flow matrix, grouped by pair
(:func:`graphlabor.kernels.pairflow.pair_entries`), and since pairs receive
nothing, folds their passes into the users' injection
(:func:`graphlabor.solve.fold_pairs`) and solves on the real nodes' matrix.
Here the same numbers are built where the edges are:

1. the pairs: the sorted distinct ``(context, platform)`` keys of the revenue
   edges, unioned over partitions (:func:`revenue_keys`), numbered on the
   client with :func:`graphlabor.contexts.build_pairs`; each partition then
   matches its edges (:func:`match_part`);
2. per pair: the matched contribution weight (any order: only whether it is
   zero matters) and the revenue, added in row order in one task
   (:func:`pair_revenue`), as ``K.group_sum`` adds it on one machine;
3. per block of receiver rows: the real nodes' injection (revenue without a
   pair, node values, unmatched revenue moved to the pool, each added in the
   local engine's order), the pair entries into its rows (:func:`pair_block`,
   the local kernel on the block's users: each pair's entries in the local
   order), the pairs' out-weights summed block after block (users ascending,
   the local order), and the folded injection (:func:`with_pairs`, the local
   kernel: each user's terms pair after pair);
4. after the solve, the last step is the plain one on the folded injection,
   and the breakdown by kind adds the pairs' passes with the same kernel
   (:func:`pair_via`).

Every number equals the local engine's bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np

from .. import kernels as K
from ..classify import Classified
from ..contexts import Pairs
from ..kernels.pairflow import PairEntries
from ..kernels.propagate import csr_matvec
from . import blocks as B


def revenue_keys(part: Classified, role: np.ndarray) -> np.ndarray:
    """Sorted distinct keys ``context << 32 | platform`` of the partition's revenue edges with a context into a platform."""
    r = part.revenue
    if r.context is None:
        return np.empty(0, np.int64)
    sel = (r.context >= 0) & (role[r.dst] == K.PLATFORM)
    keys = np.unique(r.context[sel].astype(np.int64) * (1 << 32) + r.dst[sel].astype(np.int64))
    return keys


def union_keys(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.union1d(a, b)
    return out


def match_part(part: Classified, pairs: Pairs) -> Classified:
    """The partition's contribution and revenue edges with their pair (``-1``: none), as ``match_contexts`` sets them."""
    c, r = part.contribution, part.revenue
    cp = pairs.match(c.dst, c.context) if c.context is not None else np.full(len(c), -1, np.int32)
    rp = pairs.match(r.dst, r.context) if r.context is not None else np.full(len(r), -1, np.int32)
    return replace(part, contribution=replace(c, pair=cp), revenue=replace(r, pair=rp))


def matched_weight(part: Classified, role: np.ndarray, k: int) -> np.ndarray:
    """Per pair, the weight of the partition's contributions that can carry its value (summed over partitions)."""
    from ..kernels.contexts import pair_weights

    c = part.contribution
    assert c.pair is not None
    out: np.ndarray = pair_weights(c.pair, c.value, c.src, role, k)
    return out


def revenue_by_pair(part: Classified) -> tuple[np.ndarray, np.ndarray]:
    """The partition's revenue edges that inject at a pair: ``(pair, amount)`` in row order."""
    r = part.revenue
    assert r.pair is not None
    sel = r.pair >= 0
    return r.pair[sel].astype(np.int64), r.value[sel]


def pair_revenue(k: int, *pieces: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Revenue per pair, added in row order (partitions in input order), as one machine adds it."""
    keys = np.concatenate([p[0] for p in pieces]) if pieces else np.empty(0, np.int64)
    vals = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0)
    out: np.ndarray = K.group_sum(keys, vals, k)
    return out


def pool_pieces(part: Classified, bounds: np.ndarray) -> list[tuple[np.ndarray, ...]]:
    """The partition's revenue edges without a pair (they inject at their platform), split by block of ``dst``."""
    r = part.revenue
    assert r.pair is not None
    sel = r.pair < 0
    return B._split_by_block(r.dst[sel], bounds, r.dst[sel], r.value[sel])


def real_injection(lo: int, hi: int, node_value: np.ndarray | None, moved: np.ndarray | None,
                   *pieces: tuple[np.ndarray, ...]) -> np.ndarray:
    """The injection of rows ``[lo, hi)``: revenue without a pair, plus node values, plus unmatched revenue moved in."""
    keys = np.concatenate([p[0] for p in pieces]).astype(np.int64) - lo if pieces else np.empty(0, np.int64)
    vals = np.concatenate([p[1] for p in pieces]) if pieces else np.empty(0)
    s: np.ndarray = K.group_sum(keys, vals, hi - lo)
    if node_value is not None:
        s += node_value
    if moved is not None:
        s += moved
    return s


def drop_idle(part: Classified, role: np.ndarray, idle: np.ndarray) -> Classified:
    """Without the contributions to platforms whose pool receives nothing (their pool passes nothing)."""
    c = part.contribution
    gone = (role[c.dst] == K.PLATFORM) & idle[c.dst]
    if not gone.any():
        return part
    return replace(part, contribution=c.take(np.flatnonzero(~gone)))


def pair_flow(part: Classified, role: np.ndarray, bounds: np.ndarray, with_labels: bool) -> list[tuple[np.ndarray, ...]]:
    """The partition's flow edges from pairs (:func:`graphlabor.kernels.flow_edges`): ``(receiver, pair, w, label)`` by block."""
    c = part.contribution
    assert c.pair is not None
    n = role.shape[0]
    sel = np.flatnonzero(c.pair >= 0)
    s, r, w, lab = K.flow_edges(c.src[sel], c.dst[sel], c.value[sel], role, c.kind[sel] if with_labels else None,
                                c.pair[sel], n)
    mine = s >= n
    s, r, w = s[mine], r[mine], w[mine]
    lab = lab[mine] if lab is not None else np.zeros(s.shape[0], np.uint16)
    q = (s.astype(np.int64) - n).astype(np.uint32)
    return B._split_by_block(r, bounds, r, q, w, lab)


@dataclass
class PairPart:
    """A block's entries from pair senders, pair by pair (:func:`graphlabor.kernels.pairflow.pair_entries`)."""

    entries: PairEntries
    n_flow: int = 0  # flow edges (each one entry: pair entries are not merged)


def pair_block(lo: int, hi: int, k: int, width: int, *pieces: tuple[np.ndarray, ...]) -> PairPart:
    """The block's pair entries with the local engine's kernel: grouped by pair, each pair's by user then weight.

    The local engine's entries of every pair restricted to the block's users,
    in the same order (``lo``, ``hi``: the block's rows, for the record).
    """
    from ..kernels.pairflow import pair_entries

    r = np.concatenate([p[0] for p in pieces]).astype(np.uint32) if pieces else np.empty(0, np.uint32)
    q = np.concatenate([p[1] for p in pieces]).astype(np.int32) if pieces else np.empty(0, np.int32)
    w = np.concatenate([p[2] for p in pieces]) if pieces else np.empty(0)
    lab = None
    if width:
        lab = np.concatenate([p[3] for p in pieces]).astype(np.uint16) if pieces else np.empty(0, np.uint16)
    pe = pair_entries(r, np.empty(0, np.uint32), w, None, q, k, lab)
    return PairPart(pe, int(r.shape[0]))


def pair_entries_of(pc: PairPart) -> tuple[np.ndarray, np.ndarray]:
    """The block's entries as ``(pair, weight)``, pair by pair."""
    pe = pc.entries
    k = int(pe.ptr.shape[0]) - 1
    length: np.ndarray = np.diff(pe.ptr.astype(np.int64))
    q = np.repeat(np.arange(k, dtype=np.uint32), length)
    return q, pe.weight


def pair_out_weight(k: int, *entries: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Out-weight of each pair: its entries added block after block, as one machine adds them (users ascending)."""
    idx = np.concatenate([e[0] for e in entries]).astype(np.uint32) if entries else np.empty(0, np.uint32)
    dat = np.concatenate([e[1] for e in entries]) if entries else np.empty(0)
    out: np.ndarray = K.column_sums(np.zeros(1, np.uint64), idx, dat, k)
    return out


def pair_contributors(pc: PairPart) -> np.ndarray:
    """Distinct users per pair among the block's (summed over blocks: the users are the blocks' own rows)."""
    out: np.ndarray = pc.entries.contributors
    return out


@dataclass
class PairBlock(B.Block):
    """A finished block whose ``injected`` is the folded one, with its pair entries and the pairs' values."""

    s_real: np.ndarray = field(default_factory=lambda: np.empty(0))  # injection of the own rows (unfolded)
    pairs: PairEntries | None = None  # the entries into the own rows, pair by pair (unscaled)
    s_pair: np.ndarray = field(default_factory=lambda: np.empty(0))  # injection (= held value) of every pair
    factor_pair: np.ndarray = field(default_factory=lambda: np.empty(0))  # what every pair passes per unit of weight held

    def pair_y(self) -> np.ndarray:
        """What each pair passes per unit of flow weight (as :meth:`graphlabor.graph.FlowGraph.pair_y`)."""
        out: np.ndarray = self.factor_pair * self.s_pair
        return out


def with_pairs(block: B.Block, pc: PairPart, s_real: np.ndarray, s_pair: np.ndarray,
               factor_pair: np.ndarray) -> PairBlock:
    """The block with its folded injection (as :func:`graphlabor.solve.fold_pairs`, on the own rows)."""
    from ..kernels.pairflow import scatter_pairs

    base = {f.name: getattr(block, f.name) for f in fields(B.Block)}
    out = PairBlock(**base, s_real=s_real, pairs=pc.entries, s_pair=s_pair, factor_pair=factor_pair)
    folded = np.array(s_real, dtype=np.float64)
    pe = pc.entries
    scatter_pairs(pe.ptr, pe.user, pe.weight, np.empty(0, np.uint16), out.pair_y(), block.lo, 1, folded)
    out.injected = folded
    return out


def pair_via(block: PairBlock, y_own: np.ndarray, *pieces: np.ndarray) -> np.ndarray:
    """The block's rows of the breakdown by kind, the pairs' passes included (as ``methods._via_propagate``)."""
    from ..kernels.pairflow import scatter_pairs

    assert block.by_label is not None and block.keep is not None and block.pairs is not None
    kptr, kidx, kdat, width = block.by_label
    y = B.local_vector(block, B.own_values(y_own), pieces)
    v = csr_matvec(kptr, kidx, kdat, y).reshape(block.rows, width)
    pe = block.pairs
    scatter_pairs(pe.ptr, pe.user, pe.weight, pe.label, block.pair_y(), block.lo, width, v.reshape(-1))
    v[:, width - 1] = block.s_real
    v *= block.keep[:, None]
    return v


def owner_counts(block: PairBlock, n: int, platform: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sender, its entries in the block's rows; per platform, the distinct own rows its pairs reach.

    Summed over blocks, a platform's contributors through its pool or any of
    its pairs are the larger of the two (as ``breakdowns.platform_table``).
    """
    from ..kernels.pairflow import pair_users

    pool = np.bincount(B._global_senders(block), minlength=n)[:n]
    assert block.pairs is not None
    return pool, pair_users(block.pairs.ptr, block.pairs.user, platform, block.lo, block.rows, n, np.empty(0, np.uint8))


def pay_with_context(part: Classified) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The partition's pay edges with a context: ``(src, context, amount)`` in row order (for the contexts table)."""
    p = part.pay
    if p.context is None:
        return np.empty(0, np.uint32), np.empty(0, np.int32), np.empty(0)
    sel = p.context >= 0
    return p.src[sel], p.context[sel], p.value[sel]
