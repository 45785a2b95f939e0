"""The plan: small per-node arrays that fix how many edges of which kind every node emits.

:class:`Plan` is drawn from the parameters and the seed before any edge is
made; the edges are then produced block by block from it
(:mod:`graphlabor.generate.tables`).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import DTypeLike

from ..errors import ParameterError
from .calibration import (
    ACTIVITY_CAP, ACTIVITY_MEAN, ACTIVITY_MEDIAN, ACTIVITY_SIGMA, ADVERTISER, ARPU_QUARTER, BLOCK, CLIENT,
    COMMISSION, COUNTRIES, COUNTRY_MIX, DAYS_PER_MONTH, DRIVER, DRIVER_SHARE, DRIVER_WEEK_HOURS, EPOCH, FAMILIES, FAMILY_OF_TYPE,
    FARE_MEDIAN, FARE_SIGMA, FEE_EDGES_SIGMA, K, MEMBER, MEMBERS_PER_ADVERTISER, MICRO_MIX,
    MINUTES_PER_INTERACTION, MONEY_MAX, PARETO_ALPHA, PLATFORM, PLATFORMS, REGION_OF, REWARD_MAX,
    REWARD_MEDIAN, REWARD_MIN, REWARD_TASK_SIGMA, REWARD_WORKER_SIGMA, RIDE_HOURS, RIDER, RIDER_SIGMA,
    RIDES_PER_DRIVER_WEEK, RIDES_PER_RIDER, ROUNDS, SHIFT_OF_TYPE, SIGMA_OF_TYPE, SOCIAL_MIX, SPEND_EDGES_MEDIAN,
    SPEND_EDGES_SIGMA, TASKS_PER_BATCH, TYPES, USER_SHARE, UTIL_A, UTIL_B, UU_HI, UU_LO, WAGE_MEDIAN, WAGE_SIGMA, WORKER,
    WORKERS_PER_CLIENT,
)

# ---------------------------------------------------------------------------
# The plan: per-node arrays that fix every node's edges
# ---------------------------------------------------------------------------


def _allocate(total: int, weights: np.ndarray, minimum: int = 0) -> np.ndarray:
    """Split ``total`` into integer counts proportional to ``weights``, each >= ``minimum``.

    Cumulative rounding: each count is the floor or ceiling of its ideal share,
    and the counts add up to ``total`` exactly.

    >>> _allocate(10, np.array([1.0, 1.0, 2.0]), 1).tolist()
    [3, 3, 4]
    """
    n = len(weights)
    rest = int(total) - minimum * n
    if n == 0:
        return np.zeros(0, np.int64)
    if rest < 0:
        raise ValueError("total below the minimum")
    cw = np.cumsum(weights, dtype=np.float64)
    if cw[-1] <= 0:
        cw = np.arange(1, n + 1, dtype=np.float64)
    bounds = np.rint(cw * (rest / cw[-1])).astype(np.int64)
    bounds[-1] = rest
    counts: np.ndarray = np.diff(bounds, prepend=0) + minimum
    return counts


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n))


def _pareto(rng: np.random.Generator, alpha: float, n: int) -> np.ndarray:
    return (1.0 - rng.random(n)) ** (-1.0 / alpha)


def _draw_bins(rng: np.random.Generator, bins: Sequence[tuple[float, float, float]], n: int) -> np.ndarray:
    """``n`` draws from a histogram: bin ``(lo, hi, share)`` with probability ``share``, uniform within it.

    >>> x = _draw_bins(np.random.default_rng(0), [(0.0, 1.0, 0.25), (1.0, 3.0, 0.75)], 100_000)
    >>> round(float((x < 1).mean()), 2), bool(x.min() >= 0 and x.max() < 3)
    (0.25, True)
    """
    lo, hi, p = (np.array(c, np.float64) for c in zip(*bins))
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    k = np.searchsorted(cum, rng.random(n), side="right")
    out: np.ndarray = lo[k] + (hi[k] - lo[k]) * rng.random(n)
    return out


def _draw_countries(rng: np.random.Generator, family: str, n: int) -> np.ndarray:
    mix = COUNTRY_MIX[family]
    codes = np.array([COUNTRIES.index(c) for c in mix], np.uint8)
    p = np.array(list(mix.values()), np.float64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    drawn: np.ndarray = codes[np.searchsorted(cum, rng.random(n), side="right")]
    return drawn


def _coprime_multiplier(n: int) -> int:
    """A multiplier ``a`` with gcd(a, n) = 1, so ``r -> (a r + b) mod n`` permutes [0, n)."""
    if n <= 2:
        return 1
    a = int(n * 0.6180339887498949) | 1
    while math.gcd(a, n) != 1:
        a += 1
    return a


@dataclass
class _Group:
    """Nodes of one type in one family, before global numbering."""

    type: int
    platform: np.ndarray      # local platform index within the family
    count: np.ndarray         # edges emitted (slots)
    contrib: np.ndarray       # slots < contrib are contributions / revenue; the rest pay
    split: np.ndarray         # drivers: slots < split are rides, the rest of the contributions rates
    scale: np.ndarray         # amount scale (installment, typical reward, fare median)
    country: np.ndarray
    hours: np.ndarray | None


class Plan:
    """How many edges each node emits, and everything else fixed per node.

    Built once from the parameters; memory is about 100 bytes per node. Node
    int ids are payers (``a...``), then platforms (``p...``), then users
    (``u...``), so ascending int ids and ascending string ids give the same order.
    """

    def __init__(self, edges: int, users: int | None, seed: int, families: Sequence[str],
                 start: str | _dt.date | _dt.datetime, span_days: float):
        self.n_edges = _check_edges(edges)
        self.families = _check_families(families)
        self.seed = _check_seed(seed)
        self.start_s, self.span_s = _check_time(start, span_days)
        fams = self.families
        shares = np.array([USER_SHARE[f] for f in fams])
        shares = shares / shares.sum()
        mult = {"social": 1.0, "microwork": 2.0, "ondemand": 2.0}
        # each family's edges: a fixed share of the total (its share of users times the edges a
        # unit of activity makes: one for members, a task and its pay for workers, a ride and its
        # rating for drivers); the on-demand share fixes the rides, hence the drivers (at their
        # calibrated rides per week), and the default users give members and workers their
        # calibrated activity
        budgets = _allocate(self.n_edges, shares * np.array([mult[f] for f in fams]))
        others = [i for i, f in enumerate(fams) if f != "ondemand"]
        drivers = self._drivers(int(budgets[fams.index("ondemand")])) if "ondemand" in fams else 0
        if users is None:
            other = sum(int(budgets[i]) / (ACTIVITY_MEAN * mult[fams[i]]) for i in others)
            users = max(len(fams), int(round(other)) + drivers)
        self.n_users = _check_users(users, len(fams))
        if "ondemand" in fams:
            # with users given, drivers keep their calibrated number if the users allow it; with the
            # on-demand family alone, the drivers are the users asked for
            drivers = min(drivers, self.n_users - len(others)) if others else self.n_users
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(0,))))

        n_f = np.zeros(len(fams), np.int64)
        if others:
            n_f[others] = _allocate(self.n_users - drivers, shares[others], 1)
        if "ondemand" in fams:
            n_f[fams.index("ondemand")] = drivers
        # user activity weights, all families at once (one stream: independent of chunking; drivers'
        # rides follow their hours instead, drawn in _ondemand)
        w_all = np.minimum(_lognormal(rng, ACTIVITY_MEDIAN, ACTIVITY_SIGMA, self.n_users), ACTIVITY_CAP)
        w_split = np.split(w_all, np.cumsum(n_f)[:-1])
        if others:
            # the other families share the rest in proportion to their users' drawn activity, so that
            # with the default users every member and worker keeps its drawn activity (and the cap)
            rest = self.n_edges - sum(int(budgets[i]) for i, f in enumerate(fams) if f == "ondemand")
            budgets[others] = _allocate(rest, np.array([w_split[i].sum() * mult[fams[i]] for i in others]))

        self.platform_family: list[int] = []
        self.platform_lo: list[int] = []   # first user (local to the user numbering) on the platform
        self.platform_n: list[int] = []
        payer_groups: list[tuple[_Group, int]] = []
        user_groups: list[tuple[_Group, int]] = []
        user_offset = 0
        for fam, n, w, budget in zip(fams, n_f.tolist(), w_split, budgets.tolist()):
            fi = FAMILIES.index(fam)
            n_plat = int(min(PLATFORMS[fam], n))
            share = 1.0 / np.arange(1, n_plat + 1)
            per_plat = _allocate(n, share, 1)
            user_plat = np.repeat(np.arange(n_plat), per_plat)
            plat_base = len(self.platform_family)
            lo = user_offset + np.concatenate([[0], np.cumsum(per_plat)[:-1]])
            self.platform_family += [fi] * n_plat
            self.platform_lo += lo.tolist()
            self.platform_n += per_plat.tolist()
            build = {"social": self._social, "microwork": self._micro, "ondemand": self._ondemand}[fam]
            try:
                payers, members = build(rng, int(budget), w, user_plat, per_plat, share)
            except ValueError:
                raise ParameterError(
                    f"edges={self.n_edges} is too few for {self.n_users} users: the {fam} family's "
                    f"{n} users would get {budget} edges; give more edges or fewer users "
                    f"(about {int(ACTIVITY_MEAN)} edges per user are expected)"
                ) from None
            payer_groups.append((payers, plat_base))
            user_groups.append((members, plat_base))
            user_offset += n
        self._assemble(rng, payer_groups, user_groups)

    # -- families ----------------------------------------------------------

    def _social(self, rng: np.random.Generator, budget: int, w: np.ndarray, user_plat: np.ndarray, per_plat: np.ndarray,
                share: np.ndarray) -> tuple[_Group, _Group]:
        n, n_plat = len(w), len(per_plat)
        n_adv = max(n_plat, int(round(n / MEMBERS_PER_ADVERTISER)))
        adv_plat = np.repeat(np.arange(n_plat), _allocate(n_adv, share, 1))
        spend = np.maximum(1, np.rint(_lognormal(rng, SPEND_EDGES_MEDIAN, SPEND_EDGES_SIGMA, n_adv))).astype(np.int64)
        if budget - spend.sum() < n:
            spend[:] = 1
        contrib = _allocate(budget - int(spend.sum()), w, 1)
        country = _draw_countries(rng, "social", n)
        arpu_month = np.array([ARPU_QUARTER[REGION_OF[c]] / 3.0 for c in COUNTRIES])
        months = self.span_s / 86400.0 / DAYS_PER_MONTH
        revenue = np.bincount(user_plat, weights=arpu_month[country] * months, minlength=n_plat)
        budgets = _pareto(rng, PARETO_ALPHA, n_adv)
        budgets *= revenue[adv_plat] / np.bincount(adv_plat, weights=budgets, minlength=n_plat)[adv_plat]
        hours = contrib * _lognormal(rng, MINUTES_PER_INTERACTION, 0.5, n) / 60.0
        adv = _Group(ADVERTISER, adv_plat, spend, spend, spend, budgets / spend,
                     _draw_countries(rng, "social", n_adv), None)
        mem = _Group(MEMBER, user_plat, contrib, contrib, contrib, np.zeros(n), country, hours)
        return adv, mem

    def _micro(self, rng: np.random.Generator, budget: int, w: np.ndarray, user_plat: np.ndarray, per_plat: np.ndarray,
               share: np.ndarray) -> tuple[_Group, _Group]:
        n, n_plat = len(w), len(per_plat)
        n_cl = max(n_plat, int(round(n / WORKERS_PER_CLIENT)))
        cl_plat = np.repeat(np.arange(n_plat), _allocate(n_cl, share, 1))
        # one fee edge per task batch: a platform's batches number its tasks / TASKS_PER_BATCH (tasks
        # are about budget / 2 and are shared by platforms as the workers' weights are), at least one
        # per client, shared among its clients in proportion to lognormal weights
        cl_w = _lognormal(rng, 1.0, FEE_EDGES_SIGMA, n_cl)
        n_clients = np.bincount(cl_plat, minlength=n_plat)
        batches = np.maximum(n_clients, np.rint(np.bincount(user_plat, weights=w, minlength=n_plat) / w.sum()
                                                * budget / (2.0 * TASKS_PER_BATCH + 1.0)).astype(np.int64))
        if budget - int(batches.sum()) < 2 * n:
            batches = n_clients
        fees = np.concatenate([_allocate(int(batches[k]), cl_w[cl_plat == k], 1) for k in range(n_plat)])
        rest = budget - int(fees.sum())
        tasks = _allocate(rest - rest // 2, w, 1)
        pays = tasks.copy()
        if rest % 2:                      # one task more than pays: the largest worker has one unpaid task
            pays[int(np.argmax(tasks))] -= 1
        reward = np.clip(_lognormal(rng, REWARD_MEDIAN, REWARD_WORKER_SIGMA, n), REWARD_MIN, REWARD_MAX)
        expected_reward = reward * math.exp(REWARD_TASK_SIGMA ** 2 / 2)
        expected_pay = pays * expected_reward
        wage = _lognormal(rng, WAGE_MEDIAN, WAGE_SIGMA, n)
        hours = expected_pay / wage
        revenue = (1.0 + COMMISSION) * np.bincount(user_plat, weights=expected_pay, minlength=n_plat)
        # every batch of a platform holds as many tasks (plus or minus one) drawn from all its workers, so
        # its fee is the platform's revenue per batch; a client's spend is its batches times that fee
        per_batch = revenue / np.maximum(np.bincount(cl_plat, weights=fees, minlength=n_plat), 1)
        cl = _Group(CLIENT, cl_plat, fees, fees, fees, per_batch[cl_plat], _draw_countries(rng, "microwork", n_cl), None)
        wk = _Group(WORKER, user_plat, tasks + pays, tasks, tasks, reward, _draw_countries(rng, "microwork", n), hours)
        return cl, wk

    def _drivers(self, budget: int) -> int:
        """Drivers for the on-demand family's ``budget`` edges: its rides at ``RIDES_PER_DRIVER_WEEK`` over the span.

        A ride makes four edges (fare, ride, rating, pay), so ``budget // 4``
        rides; at least one driver, at most one per ride.
        """
        rides = budget // 4
        weeks = self.span_s / (7 * 86400.0)
        return max(1, min(rides, int(round(rides / (RIDES_PER_DRIVER_WEEK * weeks)))))

    def _ondemand(self, rng: np.random.Generator, budget: int, w: np.ndarray, user_plat: np.ndarray, per_plat: np.ndarray,
                  share: np.ndarray) -> tuple[_Group, _Group]:
        n, n_plat = len(w), len(per_plat)
        rides_total = budget // 4
        if rides_total < n:
            raise ValueError("too few edges")
        # a driver's rides follow its weekly hours (Hall and Krueger's Table 3) times its utilisation
        util = rng.beta(UTIL_A, UTIL_B, n)
        pace = _draw_bins(rng, DRIVER_WEEK_HOURS, n) * util
        rides = _allocate(rides_total, pace, 1)
        rates = _allocate(budget - 3 * rides_total, pace, 0)
        hours = rides * RIDE_HOURS / util
        rides_per_plat = np.bincount(user_plat, weights=rides, minlength=n_plat).astype(np.int64)
        riders_per_plat = np.clip(np.rint(rides_per_plat / RIDES_PER_RIDER).astype(np.int64), 1, rides_per_plat)
        rider_plat = np.repeat(np.arange(n_plat), riders_per_plat)
        rw = _lognormal(rng, 1.0, RIDER_SIGMA, len(rider_plat))
        fares = np.concatenate([_allocate(int(rides_per_plat[k]), rw[rider_plat == k], 1) for k in range(n_plat)])
        rd = _Group(RIDER, rider_plat, fares, fares, fares, np.full(len(fares), FARE_MEDIAN),
                    _draw_countries(rng, "ondemand", len(fares)), None)
        dr = _Group(DRIVER, user_plat, 2 * rides + rates, rides + rates, rides,
                    np.full(n, FARE_MEDIAN * DRIVER_SHARE), _draw_countries(rng, "ondemand", n), hours)
        return rd, dr

    # -- global numbering --------------------------------------------------

    def _assemble(self, rng: np.random.Generator, payer_groups: list[tuple[_Group, int]],
                  user_groups: list[tuple[_Group, int]]) -> None:
        n_pay = sum(len(g.count) for g, _ in payer_groups)
        n_plat = len(self.platform_family)
        n_usr = self.n_users
        self.n_payers, self.n_platforms = n_pay, n_plat
        self.n_nodes = n_pay + n_plat + n_usr
        self.user_base = n_pay + n_plat
        groups = [(g, b, 0) for g, b in payer_groups] + [(g, b, self.user_base) for g, b in user_groups]
        def cat(f: Callable[[_Group, int], Any], dt: DTypeLike) -> np.ndarray:
            return np.concatenate([np.asarray(f(g, b), dt) for g, b, _ in groups])

        a_type = cat(lambda g, b: np.full(len(g.count), g.type), np.uint8)
        a_plat = cat(lambda g, b: g.platform + b, np.int16)
        count = cat(lambda g, b: g.count, np.int64)
        if int(count.sum()) != self.n_edges:           # pragma: no cover - a bug, not a user error
            raise AssertionError(f"plan has {int(count.sum())} edges, expected {self.n_edges}")
        contrib = cat(lambda g, b: g.contrib, np.int64)
        split = cat(lambda g, b: g.split, np.int64)
        scale = cat(lambda g, b: g.scale, np.float64)
        # node ids: payers 0..n_pay-1, users user_base.. in group order
        a_node = np.concatenate([np.arange(n_pay, dtype=np.int64),
                                 self.user_base + np.arange(n_usr, dtype=np.int64)])
        # per-node attributes in id order
        self.node_type = np.empty(self.n_nodes, np.uint8)
        self.node_type[:n_pay] = a_type[:n_pay]
        self.node_type[n_pay:self.user_base] = PLATFORM
        self.node_type[self.user_base:] = a_type[n_pay:]
        fam_of_type = np.array(FAMILY_OF_TYPE, np.int8)
        self.node_family = fam_of_type[self.node_type]
        self.node_family[n_pay:self.user_base] = np.array(self.platform_family, np.int8)
        self.node_country = np.concatenate(
            [g.country for g, _ in payer_groups]
            + [np.full(n_plat, COUNTRIES.index("US"), np.uint8)]
            + [g.country for g, _ in user_groups]).astype(np.uint8)
        self.node_hours = np.full(self.n_nodes, np.nan)
        self.node_hours[self.user_base:] = np.concatenate([g.hours for g, _ in user_groups])
        # contexts (campaigns, task batches, rides): each actor's first context unit on its platform
        # (payers: spend, fee and fare edges; users: contributions, tasks, rides), numbered per platform
        # and side in actor order; no random draw, so every other column is unchanged
        is_user = np.arange(len(count)) >= n_pay
        units = np.where(is_user & (a_type != MEMBER), split, np.where(is_user, contrib, count)).astype(np.int64)
        key = a_plat.astype(np.int64) * 2 + is_user
        korder = np.argsort(key, kind="stable")
        csum = np.cumsum(units[korder]) - units[korder]
        first = np.searchsorted(key[korder], key[korder], side="left")
        base = np.empty(len(count), np.int64)
        base[korder] = csum - csum[first]
        self.plat_contexts = np.bincount(a_plat[:n_pay].astype(np.int64), weights=units[:n_pay],
                                         minlength=n_plat).astype(np.int64)
        self.plat_ctx_mul = np.array([_coprime_multiplier(int(m)) for m in self.plat_contexts], np.int64)
        self.plat_ctx_add = np.array([(7919 * k) % max(int(m), 1) for k, m in enumerate(self.plat_contexts)], np.int64)
        # layout: actors (payers and users) in one random order, used by every round
        order = rng.permutation(len(count))
        self.a_ctx_base = base[order]
        self.a_type = a_type[order]
        self.a_plat = a_plat[order]
        self.a_node = a_node[order]
        self.a_contrib = contrib[order]
        self.a_split = split[order]
        # amounts: exp(mu + sigma z), rounded to cents, clipped to [0.01, hi]
        a_t = self.a_type.astype(np.intp)
        self.a_sigma = SIGMA_OF_TYPE[a_t]
        with np.errstate(divide="ignore"):
            self.a_mu = np.log(scale[order]) + SHIFT_OF_TYPE[a_t]
        self.a_hi = np.where(a_t == WORKER, REWARD_MAX, np.inf)
        self.a_type3 = (a_t * 3).astype(np.int32)
        self.a_count = count[order]
        # rows of each round: node a has (count_a + ROUNDS - 1 - r) // ROUNDS slots in round r
        self.round_rows = np.array([int(((self.a_count + (ROUNDS - 1 - r)) // ROUNDS).sum())
                                    for r in range(ROUNDS)], np.int64)
        self.round_blocks = -(-self.round_rows // BLOCK)
        self.first_block = np.concatenate([[0], np.cumsum(self.round_blocks)])
        self._round: tuple[int, np.ndarray | None] = (-1, None)
        # platforms: node id, member range and popularity permutation
        self.plat_node = n_pay + np.arange(n_plat, dtype=np.int64)
        self.plat_lo = self.user_base + np.array(self.platform_lo, np.int64)
        self.plat_n = np.array(self.platform_n, np.int64)
        self.plat_mul = np.array([_coprime_multiplier(int(m)) for m in self.plat_n], np.int64)
        self.plat_add = np.array([int(rng.integers(0, max(int(m), 1))) for m in self.plat_n], np.int64)
        # kind by (actor type, slot class, 10 random bits): class 0 draws from the
        # type's mixture, class 1 is a rating (drivers), class 2 a pay edge
        mix = np.zeros((len(TYPES), 3, 1024), np.uint8)
        mix[ADVERTISER, 0] = K["spend"]
        mix[CLIENT, 0] = K["fee"]
        mix[RIDER, 0] = K["fee"]
        mix[MEMBER, 0] = _mix_table(SOCIAL_MIX)
        mix[WORKER, 0] = _mix_table(MICRO_MIX)
        mix[DRIVER, 0] = K["ride"]
        mix[:, 1] = K["rate"]
        mix[:, 2] = K["pay"]
        self.mix = mix.ravel()
        self._ids = None
        self._perms: dict[int, np.ndarray] = {}

    @property
    def n_blocks(self) -> int:
        return int(self.first_block[-1])

    def _round_ends(self, r: int) -> np.ndarray:
        """End row (within round ``r``) of each node's part, in layout order (cached for one round)."""
        if self._round[0] != r:
            self._round = (r, np.cumsum((self.a_count + (ROUNDS - 1 - r)) // ROUNDS))
        ends = self._round[1]
        assert ends is not None  # set just above
        return ends

    # -- edges ---------------------------------------------------------------

    def block(self, b: int, with_contexts: bool = False) -> tuple[np.ndarray, ...]:
        """Edges of block ``b`` as numpy arrays.

        Returns ``src``, ``dst`` (int64 node ids), ``kind`` (uint8 codes into
        :data:`KINDS`), ``amount`` (float64, 0 where not money), ``is_money``
        (bool) and ``timestamp`` (int64 epoch seconds); with
        ``with_contexts``, also ``context`` (int64, -1 for none; see
        :meth:`_contexts`).

        Each actor (payer or user) has ``count`` slots numbered ``j = 0 ..
        count - 1``: contributions (for drivers: rides, then ratings), then
        pay edges. The slots are dealt over :data:`ROUNDS` rounds (slot ``j``
        goes to round ``j % ROUNDS``); within a round, actors come in a fixed
        random order, each with its slots of that round. A block is a stretch
        of ``BLOCK`` rows of one round: its slots are labelled (actor, class)
        in order, then shuffled (:meth:`_shuffle`), and every column is then
        computed in row order from small per-actor arrays. So a node's edges
        are spread over the whole file, and any row group mixes many nodes,
        as in an event log.
        """
        r = int(np.searchsorted(self.first_block, b, side="right")) - 1
        ends = self._round_ends(r)
        o0 = (b - int(self.first_block[r])) * BLOCK
        o1 = min(int(self.round_rows[r]), o0 + BLOCK)
        n = o1 - o0
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(1, b))))
        first = int(np.searchsorted(ends, o0, side="right"))
        last = int(np.searchsorted(ends, o1 - 1, side="right"))
        acts = slice(first, last + 1)
        m = last + 1 - first
        # node a's part in round r holds its slots j = r, r + ROUNDS, r + 2 ROUNDS, ...
        # (k-th element: j = r + k ROUNDS); slots j < split are class 0, j < contrib class 1, the rest 2
        e = ends[acts]
        st = e - (self.a_count[acts] + (ROUNDS - 1 - r)) // ROUNDS
        k0 = np.maximum(st, o0) - st
        k1 = np.minimum(e, o1) - st
        c0 = np.clip((self.a_split[acts] + (ROUNDS - 1 - r)) // ROUNDS, k0, k1)
        c1 = np.clip((self.a_contrib[acts] + (ROUNDS - 1 - r)) // ROUNDS, k0, k1)
        seg = np.stack([c0 - k0, c1 - c0, k1 - c1], axis=1).ravel()
        # (actor, class) of every slot in one int32 (actor * 4 + class), shuffled
        code: np.ndarray = np.arange(0, 4 * m, 4, dtype=np.int32)[:, None] + np.arange(3, dtype=np.int32)
        code = np.repeat(code.ravel(), seg).take(self._shuffle(n))
        act = (code >> 2).astype(np.intp)
        # the slot number j of every row (its k-th slot of round r: j = r + k ROUNDS), in the same shuffle
        kstart = np.stack([k0, c0, c1], axis=1).ravel()
        segstart = np.cumsum(seg) - seg
        slot = (np.repeat(kstart - segstart, seg) + np.arange(n)).take(self._shuffle(n)) * ROUNDS + r

        raw = rng.bit_generator.random_raw(n)
        # kind: lookup by ((type * 3 + class) << 10) | 10 random bits
        idx = self.a_type3[acts].take(act)
        idx += code & 3
        idx <<= 10
        idx |= raw.astype(np.int32) & 1023
        kind = self.mix.take(idx)
        ts = ((raw >> np.uint64(32)) * np.uint64(self.span_s)) >> np.uint64(32)
        ts = ts.view(np.int64)
        ts += self.start_s
        del raw, idx, code

        src = self.a_node[acts].take(act)
        dst = self.plat_node[self.a_plat[acts]].take(act)
        pay = np.flatnonzero(kind == K["pay"])
        src[pay], dst[pay] = dst[pay], src[pay]

        uu = np.flatnonzero((kind >= UU_LO) & (kind <= UU_HI))
        if uu.size:
            kk = self.a_plat[acts].take(act[uu])
            first_user = self.plat_lo[kk]
            nk = self.plat_n[kk]
            u = rng.random(uu.size)
            r = (nk * (u * u * u)).astype(np.int64)          # TARGET_GAMMA = 3
            tgt = (r * self.plat_mul[kk] + self.plat_add[kk]) % nk
            me = src[uu] - first_user
            tgt[tgt == me] += 1
            tgt[tgt == nk] = 0
            dst[uu] = first_user + tgt

        is_money = kind <= MONEY_MAX
        money = np.flatnonzero(is_money)
        amount = np.zeros(n)
        if money.size:
            am = act[money]
            z = rng.standard_normal(money.size)
            z *= self.a_sigma[acts].take(am)
            z += self.a_mu[acts].take(am)
            val = np.rint(np.exp(z) * 100) / 100
            amount[money] = np.clip(val, 0.01, self.a_hi[acts].take(am))
        self._rides(acts, act, slot, amount, ts)
        if not with_contexts:
            return src, dst, kind, amount, is_money, ts
        context = self._contexts(acts, act, slot, kind)
        return src, dst, kind, amount, is_money, ts, context

    def _rides(self, acts: slice, act: np.ndarray, slot: np.ndarray, amount: np.ndarray, ts: np.ndarray) -> None:
        """Fares, ride pay and the time of every ride's rows, from the ride's number.

        A rider's i-th fare on platform ``P``, the driver's ``ride`` edge
        for ride ``i``, its ``rate`` edge rating that ride and its ``pay``
        edge for it (numbered as in :meth:`_contexts`) are in different rows,
        usually in different blocks. All take what they share from a hash of
        ``(seed, P, ride)``: the fare (lognormal: median ``FARE_MEDIAN``,
        sigma ``FARE_SIGMA``; the pay is ``DRIVER_SHARE`` of it, in cents)
        and the instant (uniform over the span, like every timestamp), so a
        ride's four rows fall in the same period. Nothing depends on the
        context column being written.
        """
        a_type = self.a_type[acts].take(act)
        rows = np.flatnonzero((a_type == RIDER) | (a_type == DRIVER))
        if not rows.size:
            return
        aa = act[rows]
        s = slot[rows].astype(np.int64)
        split = self.a_split[acts].take(aa)
        contrib = self.a_contrib[acts].take(aa)
        drv = a_type[rows] == DRIVER
        unit = np.where(drv & (s >= split) & (s < contrib), (s - split) % np.maximum(split, 1), s)
        is_pay = drv & (s >= contrib)
        unit = np.where(is_pay, s - contrib, unit)
        key = (self.a_plat[acts].take(aa).astype(np.int64) << 40) + self.a_ctx_base[acts].take(aa) + unit
        money = ~drv | is_pay
        fare = np.clip(np.rint(FARE_MEDIAN * np.exp(FARE_SIGMA * _hash_normal(self.seed, key[money])) * 100) / 100,
                       0.01, None)
        amount[rows[money]] = np.where(is_pay[money], np.rint(fare * (DRIVER_SHARE * 100)) / 100, fare)
        h = _splitmix64(key.view(np.uint64) ^ _splitmix64(np.array([self.seed ^ 0x5A5A5A5A], np.uint64)))
        ts[rows] = (((h >> np.uint64(32)) * np.uint64(self.span_s)) >> np.uint64(32)).view(np.int64) + self.start_s

    def _contexts(self, acts: slice, act: np.ndarray, slot: np.ndarray, kind: np.ndarray) -> np.ndarray:
        """The context of every row (-1: none): a campaign, task batch or ride, unique over platforms.

        Payers: their i-th spend, fee or fare edge on platform ``P`` is ``P``'s
        context ``base + i`` (one campaign per spend edge, one batch per fee,
        one ride per fare). Drivers: ride ``i`` is ride ``base + i``; their
        rating edges rate their rides in turn and their pay edge ``i`` pays
        ride ``i``. Workers: task ``i`` (and the pay for it) belongs to batch
        ``(base + i) * mul + add`` modulo the platform's batches, a
        permutation that spreads every worker's tasks over batches and gives
        every batch the same number of tasks (plus or minus one). Members:
        their views and clicks of the platform go to campaigns the same way;
        other kinds carry no context.
        """
        a_type = self.a_type[acts].take(act)
        plat = self.a_plat[acts].take(act).astype(np.int64)
        base = self.a_ctx_base[acts].take(act)
        split = self.a_split[acts].take(act)
        contrib = self.a_contrib[acts].take(act)
        n_ctx = self.plat_contexts[plat]
        unit = slot.astype(np.int64)
        drv = a_type == DRIVER
        rides = np.maximum(split, 1)
        unit = np.where(drv & (slot >= split) & (slot < contrib), (slot - split) % rides, unit)
        unit = np.where(drv & (slot >= contrib), slot - contrib, unit)
        wk = a_type == WORKER
        unit = np.where(wk & (slot >= contrib), slot - contrib, unit)
        number = base + unit
        spread = (a_type == WORKER) | (a_type == MEMBER)
        number = np.where(spread, (number * self.plat_ctx_mul[plat] + self.plat_ctx_add[plat]) % np.maximum(n_ctx, 1),
                          number)
        ctx = (plat << 40) + number
        none = (a_type == MEMBER) & (kind != K["view"]) & (kind != K["click"])
        none |= n_ctx == 0
        ctx[none] = -1
        return ctx

    def _shuffle(self, n: int) -> np.ndarray:
        """Row order within a block of ``n`` rows: one fixed random permutation per block length."""
        p = self._perms.get(n)
        if p is None:
            rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(2, n))))
            p = self._perms[n] = rng.permutation(n)
        return p

    # -- ids -------------------------------------------------------------------

    def id_strings(self) -> pa.Array:
        """All node ids as strings, in int-id order (``a....``, ``p..``, ``u......``)."""
        if self._ids is None:
            parts = [
                _fixed_ids(b"a", self.n_payers, 4),
                _fixed_ids(b"p", self.n_platforms, 2),
                _fixed_ids(b"u", self.n_users, 6),
            ]
            data = np.concatenate([p[0] for p in parts])
            lens = np.concatenate([np.full(p[1], p[2], np.int64) for p in parts])
            offsets = np.zeros(len(lens) + 1, np.int64)
            np.cumsum(lens, out=offsets[1:])
            typ = pa.string() if offsets[-1] < 2**31 else pa.large_string()
            off = offsets.astype(np.int32 if typ == pa.string() else np.int64)
            self._ids = pa.Array.from_buffers(typ, len(lens), [None, pa.py_buffer(off), pa.py_buffer(data)])
        return self._ids



def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser (a bijection of uint64), elementwise; wraps around like C."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    out: np.ndarray = x ^ (x >> np.uint64(31))
    return out


def _hash_normal(seed: int, key: np.ndarray) -> np.ndarray:
    """A standard normal per key, a pure function of ``(seed, key)`` (Box-Muller on two hashed uniforms).

    >>> z = _hash_normal(1, np.arange(100_000, dtype=np.int64))
    >>> bool(abs(z.mean()) < 0.02 and abs(z.std() - 1) < 0.02)
    True
    >>> bool((_hash_normal(1, np.array([5, 7])) == _hash_normal(1, np.array([7, 5]))[::-1]).all())
    True
    """
    k = key.astype(np.int64).view(np.uint64) ^ _splitmix64(np.array([seed], np.uint64))
    h1 = _splitmix64(k)
    h2 = _splitmix64(h1 ^ np.uint64(0xD1B54A32D192ED03))
    u1 = ((h1 >> np.uint64(11)).astype(np.float64) + 1.0) * 2.0 ** -53     # (0, 1]
    u2 = (h2 >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    z: np.ndarray = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return z


def _mix_table(mix: dict[str, float]) -> np.ndarray:
    p = np.array(list(mix.values()), np.float64)
    bounds = np.rint(np.cumsum(p / p.sum()) * 1024).astype(np.int64)
    return np.repeat(np.array([K[k] for k in mix], np.uint8), np.diff(bounds, prepend=0))


def _fixed_ids(prefix: bytes, n: int, min_width: int) -> tuple[np.ndarray, int, int]:
    """``n`` ids ``prefix`` + zero-padded number, as (bytes, n, length)."""
    width = max(min_width, len(str(max(n - 1, 0))))
    m = np.empty((n, 1 + width), np.uint8)
    m[:, 0] = prefix[0]
    x = np.arange(n, dtype=np.int64)
    for j in range(width, 0, -1):
        m[:, j] = 48 + x % 10
        x //= 10
    return m.ravel(), n, 1 + width


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def _check_edges(edges: object) -> int:
    if isinstance(edges, float) and edges.is_integer():
        edges = int(edges)
    if isinstance(edges, bool) or not isinstance(edges, (int, np.integer)):
        raise ParameterError(f"edges must be a whole number, got {edges!r}")
    if edges < 1:
        raise ParameterError(f"edges must be at least 1, got {edges}")
    return int(edges)


def _check_users(users: object, n_families: int) -> int:
    if isinstance(users, float) and users.is_integer():
        users = int(users)
    if isinstance(users, bool) or not isinstance(users, (int, np.integer)):
        raise ParameterError(f"users must be a whole number, got {users!r}")
    if users < n_families:
        raise ParameterError(f"users must be at least the number of families ({n_families}), got {users}")
    return int(users)


def _check_families(families: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(families, str):
        families = [f.strip() for f in families.split(",") if f.strip()]
    fams = tuple(families)
    bad = [f for f in fams if f not in FAMILIES]
    if bad:
        raise ParameterError(f"unknown family {bad[0]!r} (expected some of {', '.join(FAMILIES)})")
    if not fams:
        raise ParameterError(f"families is empty (expected some of {', '.join(FAMILIES)})")
    if len(set(fams)) != len(fams):
        raise ParameterError(f"families {list(fams)} names a family twice")
    return tuple(f for f in FAMILIES if f in fams)


def _check_seed(seed: object) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def _check_time(start: str | _dt.date, span_days: float) -> tuple[int, int]:
    from ..timeaxis import parse_instant  # the one ISO parser

    start_s = parse_instant(start, "start")
    try:
        span = float(span_days)
    except (TypeError, ValueError):
        raise ParameterError(f"span_days must be a number, got {span_days!r}") from None
    if not (span > 0 and math.isfinite(span)):
        raise ParameterError(f"span_days must be > 0, got {span_days!r}")
    span_s = int(round(span * 86400))
    if span_s < 1:
        raise ParameterError(f"span_days={span_days!r} is shorter than a second")
    if span_s >= 2**32:
        raise ParameterError(f"span_days={span_days!r} is too long (at most 49,710 days)")
    return start_s - int(EPOCH.timestamp()), span_s

