"""Contexts on the Dask engine: the ``(platform, context)`` pairs, per partition and per block of rows.

The local engine (:func:`graphlabor.methods.run_model`) gives each pair a
column of the flow matrix after the real nodes' and, since pairs receive
nothing, folds their passes into the users' injection
(:func:`graphlabor.kernels.contexts.fold_sources`) and solves on the real
nodes' matrix. Here the same numbers are built where the edges are:

1. the pairs: the sorted distinct ``(context, platform)`` keys of the revenue
   edges, unioned over partitions (:func:`revenue_keys`), numbered on the
   client with :func:`graphlabor.contexts.build_pairs`; each partition then
   matches its edges (:func:`match_part`);
2. per pair: the matched contribution weight (any order: only whether it is
   zero matters) and the revenue, added in row order in one task
   (:func:`pair_revenue`), as ``K.group_sum`` adds it on one machine;
3. per block of receiver rows: the real nodes' injection (revenue without a
   pair, node values, unmatched revenue moved to the pool, each added in the
   local engine's order), the pair columns' CSR (:func:`pair_block`, the
   local kernels on the block's rows: the same entries and duplicate sums),
   their out-weights summed block after block (the global entry order), and
   the folded injection ``s + T[:, pairs] s_pairs`` (:func:`with_pairs`);
4. after the solve, the last step and the breakdown by kind run on the rows
   merged with their pair entries (:func:`pair_step`, :func:`pair_via`), so
   that each row adds its entries in the same order as one machine.

Every number equals the local engine's bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from .. import kernels as K
from ..classify import Classified
from ..contexts import Pairs
from ..kernels.multiset import build_csr_counted
from ..kernels.propagate import csr_matvec, propagate_step
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
class PairCSR:
    """A block's entries from pair senders: CSR by own row (columns: pairs), and split by (row, kind)."""

    indptr: np.ndarray
    indices: np.ndarray
    weight: np.ndarray  # unscaled (what the split by kind reads)
    by_label: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    n_flow: int = 0  # flow edges before duplicates are added together


def pair_block(lo: int, hi: int, width: int, *pieces: tuple[np.ndarray, ...]) -> PairCSR:
    """The block's pair entries with the local engine's kernel: duplicates added in row order, columns sorted."""
    nb = hi - lo
    r = (np.concatenate([p[0] for p in pieces]) - np.uint32(lo)).astype(np.uint32) if pieces else np.empty(0, np.uint32)
    q = np.concatenate([p[1] for p in pieces]).astype(np.uint32) if pieces else np.empty(0, np.uint32)
    w = np.concatenate([p[2] for p in pieces]) if pieces else np.empty(0)
    indptr, indices, data = build_csr_counted(r, q, w, nb)
    by_label = None
    if width:
        lab = np.concatenate([p[3] for p in pieces]) if pieces else np.empty(0, np.uint16)
        rows = r * np.uint32(width)
        rows += lab.astype(np.uint32)
        by_label = build_csr_counted(rows, q, w, nb * width)
    return PairCSR(indptr, indices, data, by_label, int(r.shape[0]))


def pair_entries(pc: PairCSR) -> tuple[np.ndarray, np.ndarray]:
    return pc.indices, pc.weight


def pair_out_weight(k: int, *entries: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Out-weight of each pair, summed over the blocks' entries block after block (the global entry order)."""
    idx = np.concatenate([e[0] for e in entries]).astype(np.uint32) if entries else np.empty(0, np.uint32)
    dat = np.concatenate([e[1] for e in entries]) if entries else np.empty(0)
    out: np.ndarray = K.column_sums(np.zeros(1, np.uint64), idx, dat, k)
    return out


def pair_contributors(k: int, *entries: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Entries per pair (distinct users it passes to), summed over blocks."""
    idx = np.concatenate([e[0] for e in entries]).astype(np.int64) if entries else np.empty(0, np.int64)
    return np.bincount(idx, minlength=k).astype(np.int64)


@dataclass
class PairBlock(B.Block):
    """A finished block whose ``injected`` is the folded one, with its pair entries (scaled) and the pairs' values."""

    s_real: np.ndarray = field(default_factory=lambda: np.empty(0))  # injection of the own rows (unfolded)
    p_indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, np.uint64))
    p_indices: np.ndarray = field(default_factory=lambda: np.empty(0, np.uint32))
    p_data: np.ndarray = field(default_factory=lambda: np.empty(0))  # scaled
    p_label: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    s_pair: np.ndarray = field(default_factory=lambda: np.empty(0))  # injection (= held value) of every pair
    y_pair: np.ndarray = field(default_factory=lambda: np.empty(0))  # what every pair passes per unit of flow weight


def with_pairs(block: B.Block, pc: PairCSR, s_real: np.ndarray, s_pair: np.ndarray, factor_pair: np.ndarray,
               y_pair: np.ndarray) -> PairBlock:
    """The block with its folded injection ``s + T[rows, pairs] s_pairs`` (as ``fold_sources``: added in row order)."""
    data = pc.weight.copy()
    data *= factor_pair[pc.indices]  # one product per entry, as scale_columns
    acc = csr_matvec(pc.indptr, pc.indices, data, s_pair) if block.rows else np.zeros(0)
    folded = s_real + acc
    base = {f.name: getattr(block, f.name) for f in fields(B.Block)}
    base["injected"] = folded
    return PairBlock(**base, s_real=s_real, p_indptr=pc.indptr, p_indices=pc.indices, p_data=data,
                     p_label=pc.by_label, s_pair=s_pair, y_pair=y_pair)


def _merged(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, pptr: np.ndarray, pidx: np.ndarray,
            pdat: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's entries, then its pair entries (columns ``first + q``): the local CSR's order (pairs last)."""
    rows = indptr.shape[0] - 1
    a: np.ndarray = np.diff(indptr.astype(np.int64)).astype(np.int64)
    b: np.ndarray = np.diff(pptr.astype(np.int64)).astype(np.int64)
    key = np.concatenate([np.repeat(np.arange(rows, dtype=np.int64) * 2, a), np.repeat(np.arange(rows, dtype=np.int64) * 2 + 1, b)])
    order = np.argsort(key, kind="stable")
    idx = np.concatenate([indices.astype(np.int64), pidx.astype(np.int64) + first])[order].astype(np.uint32)
    dat = np.concatenate([data, pdat])[order]
    ptr = np.zeros(rows + 1, np.uint64)
    np.cumsum(a + b, out=ptr[1:])
    return ptr, idx, dat


def pair_step(block: PairBlock, x_own: Any, *pieces: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[int, np.ndarray]]:
    """The last step ``held = s + T x`` on the block's rows with their pair entries (pairs hold their injection)."""
    x_own = B.own_values(x_own)
    out = np.empty(block.rows)
    if block.rows:
        x = B.local_vector(block, x_own, pieces)
        ptr, idx, dat = _merged(block.indptr, block.indices, block.data, block.p_indptr, block.p_indices, block.p_data,
                                x.shape[0])
        propagate_step(ptr, idx, dat, np.concatenate([x, block.s_pair]), block.s_real, out, block.offset)
    return out, np.zeros(0), B.served(block, out)


def pair_via(block: PairBlock, y_own: np.ndarray, *pieces: np.ndarray) -> np.ndarray:
    """The block's rows of the breakdown by kind, pair entries included (as ``methods._via_propagate``)."""
    assert block.by_label is not None and block.keep is not None and block.p_label is not None
    kptr, kidx, kdat, width = block.by_label
    y = B.local_vector(block, B.own_values(y_own), pieces)
    pptr, pidx, pdat = block.p_label
    ptr, idx, dat = _merged(kptr, kidx, kdat, pptr, pidx, pdat, y.shape[0])
    v = csr_matvec(ptr, idx, dat, np.concatenate([y, block.y_pair])).reshape(block.rows, width)
    v[:, width - 1] = block.s_real
    v *= block.keep[:, None]
    return v


def owner_counts(block: PairBlock, n: int, owner: np.ndarray) -> np.ndarray:
    """Per platform, the distinct own rows it passes value to through its pool or any of its pairs."""
    from ..kernels.contexts import owner_contributors

    g = B._global_senders(block)
    ptr, idx, _ = _merged(block.indptr, g, block.data, block.p_indptr, block.p_indices, block.p_data, n)
    out: np.ndarray = owner_contributors(ptr, idx, owner, n)
    return out


def pay_with_context(part: Classified) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The partition's pay edges with a context: ``(src, context, amount)`` in row order (for the contexts table)."""
    p = part.pay
    if p.context is None:
        return np.empty(0, np.uint32), np.empty(0, np.int32), np.empty(0)
    sel = p.context >= 0
    return p.src[sel], p.context[sel], p.value[sel]
