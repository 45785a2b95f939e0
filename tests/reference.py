"""Slow, obvious reference implementations, written from the model's specification (docs/model.md).

Nothing here imports graphlabor: this module is the one independent oracle
that the engine's results are compared with (test modules import oracles
from here and data from ``examples.py``, never from one another). The
oracles favour clarity over speed:

- :func:`attribute`: Python loops over edges, a dense ``numpy.linalg.solve``;
- :class:`Oracle`: the value-flow matrix built edge by edge and solved with
  ``scipy.sparse.linalg.spsolve``, with each node's value split by the kind
  of its last hop (:meth:`Oracle.via`);
- :func:`attribute_sparse`: the same model vectorized, for graphs too large
  for the others;
- :func:`one_hop` (``direct``) and :func:`shapley_oracle` (the Shapley value
  of the induced-subgraph game by brute force over every permutation);
- :func:`infer_roles`: the role rules, used by all of them except the
  vectorized one.

The model, as the spec states it:

- revenue edges (kinds in ``revenue_kinds``) inject their ``amount`` at ``dst``;
  the nodes file's ``value`` injects too;
- pay edges (kinds in ``pay_kinds``) add their ``amount`` to ``dst``'s ``paid``;
- every other edge ``a -> b`` ("a acted on b") is a contribution with weight
  ``weight * kind_weight[kind]``; it carries value ``b -> a`` when ``a`` is a
  user and ``b`` a platform, and ``a -> b`` when both are users;
- a platform keeps ``platform_share`` and passes the rest; a user keeps
  ``1 - damping`` and passes ``damping``; each in proportion to the weights
  of its flow edges; a node with no flow edge keeps everything;
- held value solves ``x = s + T x``; attributed (kept) value is ``keep * x``.
"""

from __future__ import annotations

import datetime
import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

USER, PLATFORM, ADVERTISER = "user", "platform", "advertiser"


@dataclass
class Edge:
    src: object
    dst: object
    kind: str = "interaction"
    weight: float = 1.0
    amount: float | None = None


@dataclass
class RefResult:
    """Per-node results keyed by original id, plus totals."""

    ids: list
    role: dict
    injected: dict
    attributed: dict
    paid: dict
    share: dict
    rank: dict
    totals: dict = field(default_factory=dict)

    def unpaid(self, v):
        return self.attributed[v] - self.paid[v]


def infer_roles(edges, node_ids, revenue_kinds, pay_kinds, declared=None):
    """Roles by the spec's rules; ``declared`` (id -> role or None) overrides."""
    receives_rev, sends_pay, sends_rev, acts, is_paid = set(), set(), set(), set(), set()
    for e in edges:
        if e.kind in revenue_kinds:
            receives_rev.add(e.dst)
            sends_rev.add(e.src)
        elif e.kind in pay_kinds:
            sends_pay.add(e.src)
            is_paid.add(e.dst)
        else:
            acts.add(e.src)
    role = {}
    for v in node_ids:
        if v in receives_rev or (v in sends_pay and v not in acts and v not in is_paid):
            role[v] = PLATFORM
        elif v in sends_rev:
            role[v] = ADVERTISER
        else:
            role[v] = USER
    for v, r in (declared or {}).items():
        if r is not None:
            role[v] = r
    return role


def attribute(
    edges,
    nodes=None,
    *,
    damping=0.85,
    platform_share=0.0,
    kind_weights=None,
    revenue_kinds=("spend", "fee"),
    pay_kinds=("pay",),
):
    """Dense direct solve of the value-flow model.

    Parameters
    ----------
    edges : list of Edge (or tuples ``(src, dst, kind, weight, amount)``)
    nodes : dict of id -> dict with optional ``role`` and ``value``
    """
    edges = [e if isinstance(e, Edge) else Edge(*e) for e in edges]
    nodes = nodes or {}
    kind_weights = kind_weights or {}
    revenue_kinds, pay_kinds = set(revenue_kinds), set(pay_kinds)

    ids = set(nodes)
    for e in edges:
        ids.add(e.src)
        ids.add(e.dst)
    ids = sorted(ids)
    pos = {v: i for i, v in enumerate(ids)}
    n = len(ids)

    role = infer_roles(edges, ids, revenue_kinds, pay_kinds, {v: a.get("role") for v, a in nodes.items()})

    s = np.zeros(n)
    paid = np.zeros(n)
    for e in edges:
        if e.kind in revenue_kinds:
            s[pos[e.dst]] += e.amount
        elif e.kind in pay_kinds:
            paid[pos[e.dst]] += e.amount
    for v, a in nodes.items():
        if a.get("value") is not None:
            s[pos[v]] += a["value"]

    # flow weights W[receiver, sender], summed over (duplicate) edges
    W = np.zeros((n, n))
    for e in edges:
        if e.kind in revenue_kinds or e.kind in pay_kinds:
            continue
        w = e.weight * kind_weights.get(e.kind, 1.0)
        if w <= 0:
            continue
        a, b = e.src, e.dst
        if role[a] == USER and role[b] == PLATFORM:
            W[pos[a], pos[b]] += w  # platform b passes to user a
        elif role[a] == USER and role[b] == USER:
            W[pos[b], pos[a]] += w  # user a passes to user b

    T = np.zeros((n, n))
    keep = np.ones(n)
    for j, v in enumerate(ids):
        out = W[:, j].sum()
        if out <= 0:
            continue
        frac = damping if role[v] == USER else (1.0 - platform_share) if role[v] == PLATFORM else 0.0
        T[:, j] = frac * W[:, j] / out
        keep[j] = 1.0 - frac

    x = np.linalg.solve(np.eye(n) - T, s) if n else s
    kept = keep * x
    total = float(s.sum())

    users = [v for v in ids if role[v] == USER]
    order = sorted(users, key=lambda v: (-kept[pos[v]], pos[v]))
    rank = {v: None for v in ids}
    for r, v in enumerate(order, 1):
        rank[v] = r

    res = RefResult(
        ids=ids,
        role=role,
        injected={v: float(s[pos[v]]) for v in ids},
        attributed={v: float(kept[pos[v]]) for v in ids},
        paid={v: float(paid[pos[v]]) for v in ids},
        share={v: (float(kept[pos[v]]) / total if total > 0 else 0.0) for v in ids},
        rank=rank,
    )
    by = {r: sum(float(kept[pos[v]]) for v in ids if role[v] == r) for r in (USER, PLATFORM, ADVERTISER)}
    res.totals = {
        "total_injected": total,
        "attributed_users": by[USER],
        "kept_platforms": by[PLATFORM],
        "kept_elsewhere": by[ADVERTISER],
        "paid": sum(float(paid[pos[v]]) for v in users),
        "unpaid": sum(float(kept[pos[v]] - paid[pos[v]]) for v in users),
        "nodes": n,
        "users": len(users),
        "platforms": sum(1 for v in ids if role[v] == PLATFORM),
        "advertisers": sum(1 for v in ids if role[v] == ADVERTISER),
    }
    return res


def pagerank_absorbing(n, edges, damping, value):
    """Personalized PageRank by the absorbing-chain formula, dense.

    ``edges`` are ``(u, v, w)`` over nodes ``0..n-1``; a node without out-edges
    keeps everything. Returns kept / total (what networkx's pagerank gives on
    the graph with a self-loop at every node that has no out-edge).
    """
    W = np.zeros((n, n))
    for u, v, w in edges:
        W[v, u] += w
    out = W.sum(axis=0)
    T = np.zeros((n, n))
    keep = np.ones(n)
    for j in range(n):
        if out[j] > 0:
            T[:, j] = damping * W[:, j] / out[j]
            keep[j] = 1 - damping
    x = np.linalg.solve(np.eye(n) - T, np.asarray(value, float))
    kept = keep * x
    return kept / kept.sum()


def csr_reference(rows, cols, weights, n_rows, n_cols=None):
    """Canonical CSR by brute force: dict of (row, col) -> summed weight."""
    acc: dict = {}
    for r, c, w in zip(np.asarray(rows).tolist(), np.asarray(cols).tolist(), np.asarray(weights).tolist()):
        acc.setdefault((r, c), []).append(w)
    indptr = [0]
    indices, data = [], []
    keys = sorted(acc)
    k = 0
    for r in range(n_rows):
        while k < len(keys) and keys[k][0] == r:
            indices.append(keys[k][1])
            data.append(math.fsum(acc[keys[k]]))
            k += 1
        indptr.append(len(indices))
    return np.array(indptr), np.array(indices, dtype=np.int64), np.array(data, dtype=float)


def attribute_sparse(
    src,
    dst,
    kind,
    weight,
    amount,
    *,
    damping=0.85,
    platform_share=0.0,
    kind_weights=None,
    revenue_kinds=("spend", "fee"),
    pay_kinds=("pay",),
    context=None,
    unmatched="pool",
):
    """The same model, vectorized with numpy and solved by ``scipy.sparse.linalg.spsolve``.

    For graphs too large for :func:`attribute`. Roles are inferred (no nodes
    file). Returns ``(ids, role_names, attributed, paid)`` in ascending id order.

    ``context`` (one value per edge, None or NaN for none) adds the contexts of
    docs/model.md section 2: each (platform, context) of a revenue edge is an
    extra sender that holds that revenue and passes it (minus
    ``platform_share``) only to the users whose contribution edges into the
    platform carry the context, in proportion to weight; the platform's pool
    keeps every contributor. A pair that no contribution carries gives its
    revenue to the pool (``unmatched="pool"``) or keeps it
    (``unmatched="keep"``); what a pair keeps is its platform's.
    """
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    src, dst = np.asarray(src), np.asarray(dst)
    kind = np.asarray(kind).astype(str)
    weight, amount = np.asarray(weight, float), np.asarray(amount, float)
    ids, codes = np.unique(np.concatenate([src, dst]), return_inverse=True)
    n = ids.size
    a, b = codes[: src.size], codes[src.size :]
    rev = np.isin(kind, list(revenue_kinds))
    pay = np.isin(kind, list(pay_kinds))
    con = ~rev & ~pay

    platform = np.zeros(n, bool)
    platform[b[rev]] = True
    platform[a[pay]] = True
    sends_rev = np.zeros(n, bool)
    sends_rev[a[rev]] = True
    other = np.zeros(n, bool)
    other[a[~rev]] = True
    other[b] = True
    role = np.zeros(n, np.int8)  # 0 user, 1 platform, 2 advertiser
    role[sends_rev & ~other] = 2
    role[platform] = 1

    s = np.bincount(b[rev], weights=amount[rev], minlength=n)
    paid = np.bincount(b[pay], weights=amount[pay], minlength=n)

    kw = kind_weights or {}
    w = weight * np.array([kw.get(k, 1.0) for k in kind])
    flow = con & (w > 0) & (role[a] == 0) & (role[b] != 2)
    to_platform = role[b] == 1
    sender = np.where(to_platform, b, a)[flow]
    receiver = np.where(to_platform, a, b)[flow]
    fw = w[flow]
    # contexts: pairs (platform, context) of revenue edges become senders n, n + 1, ...
    pair_of: dict = {}
    if context is not None:
        ctx = list(context)
        has = np.array([c is not None and not (isinstance(c, float) and np.isnan(c)) for c in ctx], bool)
        for i in np.flatnonzero(rev & has).tolist():
            pair_of.setdefault((int(b[i]), ctx[i]), n + len(pair_of))
        extra = [(pair_of[(int(b[i]), ctx[i])], int(a[i]), float(w[i]))
                 for i in np.flatnonzero(flow & to_platform & has).tolist() if (int(b[i]), ctx[i]) in pair_of]
        if extra:
            es, er, ew = (np.array(v) for v in zip(*extra))
            sender, receiver, fw = np.concatenate([sender, es]), np.concatenate([receiver, er]), np.concatenate([fw, ew])
    N = n + len(pair_of)
    out = np.bincount(sender, weights=fw, minlength=N)
    target = b.copy()  # where each edge's revenue is injected
    if pair_of:
        for i in np.flatnonzero(rev & has).tolist():
            j = pair_of[(int(b[i]), ctx[i])]
            if out[j] > 0 or unmatched == "keep":
                target[i] = j
    s = np.bincount(target[rev], weights=amount[rev], minlength=N)
    frac = np.where(role == 0, damping, np.where(role == 1, 1.0 - platform_share, 0.0))
    frac = np.concatenate([frac, np.full(len(pair_of), 1.0 - platform_share)])
    frac = np.where(out > 0, frac, 0.0)
    T = sp.csr_matrix((frac[sender] * fw / out[sender], (receiver, sender)), shape=(N, N))
    x = spla.spsolve((sp.identity(N, format="csc") - T.tocsc()), s)
    kept_all = (1.0 - frac) * x
    kept = kept_all[:n].copy()
    for (plat, _c), j in pair_of.items():
        kept[plat] += kept_all[j]
    names = np.array(["user", "platform", "advertiser"])[role]
    return ids, names, kept, paid


def roles_of_frame(df, extra_ids=(), revenue=("spend", "fee"), pay=("pay",)) -> dict:
    """:func:`infer_roles` on the rows of a DataFrame (``src``, ``dst``, ``kind``), plus ``extra_ids``."""
    edges = [Edge(a, b, k) for a, b, k in zip(df["src"], df["dst"], df["kind"])]
    ids = set(df["src"]) | set(df["dst"]) | set(extra_ids)
    return infer_roles(edges, sorted(ids), set(revenue), set(pay))


@dataclass
class Oracle:
    """Direct sparse solve of the value flow, from the spec.

    Parameters are those of :func:`graphlabor.attribute`; ``roles`` (id ->
    role) overrides inference, ``value`` (id -> number) injects at nodes.
    """

    ids: list
    pos: dict
    role: dict
    s: np.ndarray
    x: np.ndarray
    keep: np.ndarray
    kept: np.ndarray
    T: sp.csr_matrix
    flows: list  # (sender code, receiver code, weight, kind)
    out_weight: np.ndarray
    frac: np.ndarray
    paid: np.ndarray
    paid_out: np.ndarray
    revenue_in: np.ndarray

    @classmethod
    def run(cls, df, *, roles=None, value=None, damping=0.85, platform_share=0.0, kind_weights=None,
            revenue=("spend", "fee"), pay=("pay",), weights=None, self_loops="drop"):
        kw = kind_weights or {}
        value = value or {}
        role = roles_of_frame(df, list(value) + list(roles or {}), revenue, pay)
        role.update({k: v for k, v in (roles or {}).items() if v is not None})
        ids = sorted(role)
        pos = {v: i for i, v in enumerate(ids)}
        n = len(ids)
        s = np.zeros(n)
        paid = np.zeros(n)
        paid_out = np.zeros(n)
        revenue_in = np.zeros(n)
        flows = []
        w_col = df["weight"].to_numpy(float) if weights is None else np.asarray(weights, float)
        for (a, b, k, amt), w in zip(df[["src", "dst", "kind", "amount"]].itertuples(index=False), w_col):
            if k in revenue:
                s[pos[b]] += amt
                revenue_in[pos[b]] += amt
            elif k in pay:
                paid[pos[b]] += amt
                paid_out[pos[a]] += amt
            else:
                w = w * kw.get(k, 1.0)
                if not w > 0 or (a == b and self_loops == "drop"):
                    continue  # (self-loops are dropped unless kept: docs/model.md, section 2)
                if role[a] == "user" and role[b] == "platform":
                    flows.append((pos[b], pos[a], w, k))
                elif role[a] == "user" and role[b] == "user":
                    flows.append((pos[a], pos[b], w, k))
        for v, a in value.items():
            s[pos[v]] += a
        out_weight = np.zeros(n)
        for snd, _, w, _ in flows:
            out_weight[snd] += w
        frac = np.zeros(n)
        for v, i in pos.items():
            if out_weight[i] > 0:
                frac[i] = damping if role[v] == "user" else (1.0 - platform_share) if role[v] == "platform" else 0.0
        rows = [r for _, r, _, _ in flows]
        cols = [c for c, _, _, _ in flows]
        data = [frac[c] * w / out_weight[c] for c, _, w, _ in flows]
        T = sp.csr_matrix((data, (rows, cols)), shape=(n, n))  # duplicates add up
        A = (sp.identity(n, format="csc") - T.tocsc()).tocsc()
        x = np.atleast_1d(spsolve(A, s)) if n else s
        keep = 1.0 - frac
        return cls(ids, pos, role, s, x, keep, keep * x, T, flows, out_weight, frac, paid, paid_out, revenue_in)

    def by_id(self, arr) -> dict:
        return {v: float(arr[i]) for v, i in self.pos.items()}

    def users(self) -> list:
        return [v for v in self.ids if self.role[v] == "user"]

    def via(self) -> dict:
        """{id: {kind or 'injected': value}}: what each node keeps, by the kind of its last hop."""
        out = {v: {} for v in self.ids}
        for snd, rcv, w, k in self.flows:
            v = self.ids[rcv]
            part = self.keep[rcv] * self.frac[snd] * w / self.out_weight[snd] * self.x[snd]
            out[v][k] = out[v].get(k, 0.0) + part
        for v, i in self.pos.items():
            out[v]["injected"] = self.keep[i] * self.s[i]
        return out


def one_hop(orc: Oracle, platform_share=0.0) -> dict:
    """``direct`` by hand: each platform splits (1 - platform_share) of what it
    receives among the users who acted on it, by weight; users keep all."""
    kept = {v: 0.0 for v in orc.ids}
    for v, i in orc.pos.items():
        kept[v] += orc.s[i]
    for v, i in orc.pos.items():
        if orc.role[v] == "platform" and orc.out_weight[i] > 0:
            kept[v] -= (1.0 - platform_share) * orc.s[i]
    for snd, rcv, w, _ in orc.flows:
        if orc.role[orc.ids[snd]] == "platform":
            kept[orc.ids[rcv]] += (1.0 - platform_share) * orc.s[snd] * w / orc.out_weight[snd]
    return kept


def engagement_edges(orc: Oracle) -> list:
    """User -> user flow edges ``(u, v, w, kind)`` as ids."""
    return [(orc.ids[a], orc.ids[b], w, k) for a, b, w, k in orc.flows
            if orc.role[orc.ids[a]] == "user" and orc.role[orc.ids[b]] == "user"]


def induced_subgraph_game(h: dict, edges: list, damping: float):
    """The game of docs/model.md: ``v(S)`` = self parts of S's members + values
    of the engagement edges with both ends in S.

    Returns ``(v, self_part, edge_values)``.
    """
    W: dict = {}
    for u, _, w, _ in edges:
        W[u] = W.get(u, 0.0) + w
    self_part = {u: ((1.0 - damping) * hu if W.get(u, 0.0) > 0 else hu) for u, hu in h.items()}
    edge_values = [(u, v, damping * h[u] * w / W[u]) for u, v, w, _ in edges]

    cache: dict = {}

    def v(S: frozenset) -> float:
        if S not in cache:
            cache[S] = sum(self_part[u] for u in S) + sum(val for a, b, val in edge_values if a in S and b in S)
        return cache[S]

    return v, self_part, edge_values


def shapley_bruteforce(players: list, v) -> dict:
    """Shapley value by its definition: the average marginal contribution over
    every order of the players."""
    phi = {p: 0.0 for p in players}
    count = 0
    for order in itertools.permutations(players):
        before = frozenset()
        for p in order:
            after = before | {p}
            phi[p] += v(after) - v(before)
            before = after
        count += 1
    return {p: val / count for p, val in phi.items()}


def shapley_oracle(df, *, damping=0.85, platform_share=0.0, kind_weights=None, roles=None, value=None,
                   self_loops="drop") -> dict:
    """Brute-force ``shapley`` attribution: users get their Shapley value of the
    induced-subgraph game; other nodes keep their one-hop value."""
    orc = Oracle.run(df, damping=0.0, platform_share=platform_share, kind_weights=kind_weights, roles=roles, value=value,
                     self_loops=self_loops)
    h_all = one_hop(orc, platform_share)
    users = orc.users()
    h = {u: h_all[u] for u in users}
    edges = engagement_edges(orc)
    v, _, _ = induced_subgraph_game(h, edges, damping)
    phi = shapley_bruteforce(users, v)
    return {u: phi.get(u, h_all[u]) for u in orc.ids}


def period_start(ts: datetime.datetime, period: str) -> datetime.date:
    """First day (UTC) of the calendar period holding ``ts``; weeks start on Monday."""
    d = ts.astimezone(datetime.UTC).date()
    if period == "day":
        return d
    if period == "week":
        return d - datetime.timedelta(days=d.weekday())
    if period == "month":
        return d.replace(day=1)
    if period == "quarter":
        return datetime.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)
    return datetime.date(d.year, 1, 1)
