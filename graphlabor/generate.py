"""A calibrated synthetic platform economy, written as Parquet in bounded memory.

Three families of digital labor are generated, each with its platforms, the
payers whose money reaches them and the users whose activity produces it:

``social``
    An ad-funded social platform. Advertisers send ``spend`` edges (revenue)
    to a platform; members send ``view``, ``click`` and ``post`` edges to the
    platform and ``like``, ``comment`` and ``share`` edges to other members
    (engagement with their posts). Members are not paid.
``microwork``
    A micro-task platform. Clients send ``fee`` edges (revenue); workers send
    ``annotate``, ``train``, ``verify`` and ``imitate`` edges (the trainer,
    verifier and imitator roles of Tubaro, Casilli and Coville) to the
    platform, which sends each worker one ``pay`` edge per task (the piece
    rate).
``ondemand``
    A ride-hailing platform. Riders send ``fee`` edges (the fare, a revenue
    kind under graphlabor's defaults); drivers send ``ride`` and ``rate`` edges
    to the platform, which sends one ``pay`` edge per ride.

Every figure behind the distributions (activity, advertiser spend, ad revenue
per user by region, task rewards and hourly pay, driver utilisation) is listed
with its source in ``docs/generator.md`` and in the constants below.

How it scales: a small plan (a few arrays with one entry per node: about 100
bytes per node) fixes how many edges each node emits; the edges themselves
are produced in fixed blocks of ``BLOCK`` rows, each from its own random
stream (``numpy.random.SeedSequence(seed, spawn_key=(1, block))``), and
written to Parquet as they are made (the encoding in a background thread).
Memory therefore depends on the number of nodes and on ``row_group_size``,
never on the number of edges, and the output depends only on the parameters
and the seed: not on ``row_group_size``, not on how many blocks were written
before. Each node's edges are dealt over ``ROUNDS`` passes through all nodes
and shuffled within blocks, so any stretch of the file mixes many nodes.

Examples
--------
>>> import tempfile, os, pyarrow.parquet as pq
>>> d = tempfile.mkdtemp()
>>> info = generate(os.path.join(d, "e.parquet"), edges=2000, seed=1)
>>> info["edges"], os.path.basename(info["nodes_path"])
(2000, 'e_nodes.parquet')
>>> pq.read_schema(os.path.join(d, "e.parquet")).names
['src', 'dst', 'kind', 'weight', 'amount', 'timestamp']
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import sys
import time
import types
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from .errors import ParameterError

# ---------------------------------------------------------------------------
# Vocabulary
# ---------------------------------------------------------------------------

FAMILIES = ("social", "microwork", "ondemand")

#: Edge kinds; codes are positions. Money kinds come first.
KINDS = (
    "spend", "fee", "pay",                                   # money
    "view", "click", "post", "like", "comment", "share",     # social
    "annotate", "train", "verify", "imitate",                # microwork
    "ride", "rate",                                          # ondemand
)
K = {k: i for i, k in enumerate(KINDS)}
_MONEY_MAX = K["pay"]                 # kind codes <= this carry an amount
_UU_LO, _UU_HI = K["like"], K["share"]  # member -> member engagement

#: Node types (the ``type`` column); codes are positions.
TYPES = ("advertiser", "client", "rider", "member", "worker", "driver", "platform")
ADVERTISER, CLIENT, RIDER, MEMBER, WORKER, DRIVER, PLATFORM = range(7)
_ROLE_OF_TYPE = ("advertiser", "advertiser", "advertiser", "user", "user", "user", "platform")
_FAMILY_OF_TYPE = (0, 1, 2, 0, 1, 2, -1)

#: Rows generated from one random stream (small enough for the caches: 2^16
#: ran faster than 2^14 or 2^18-2^20 here).
BLOCK = 1 << 16
#: Rounds: each node's edges are dealt over this many passes through all
#: nodes, so that any stretch of the file mixes many nodes (see Plan.block).
ROUNDS = 16

# ---------------------------------------------------------------------------
# Calibration (sources in docs/generator.md)
# ---------------------------------------------------------------------------

#: User activity (contribution edges a user emits): lognormal with the median
#: and mean of Facebook's friend counts in 2011 (Ugander, Karrer, Backstrom and
#: Marlow 2011: median 99, mean about 190) and Facebook's 5,000-friend cap.
ACTIVITY_MEDIAN = 99.0
ACTIVITY_MEAN = 190.0
ACTIVITY_SIGMA = math.sqrt(2.0 * math.log(ACTIVITY_MEAN / ACTIVITY_MEDIAN))
ACTIVITY_CAP = 5000

#: Share of users in each family (illustrative).
USER_SHARE = {"social": 0.8, "microwork": 0.1, "ondemand": 0.1}
#: Platforms per family and their market shares (Zipf: 1, 1/2, 1/3 ...).
PLATFORMS = {"social": 3, "microwork": 2, "ondemand": 2}

#: Countries: (code, region, share of the family's users).
#: Social: regions weighted by Facebook monthly active users, Q3 2021
#: (US & Canada 261 M, Europe 423 M, Asia-Pacific 1,278 M, rest of world 949 M);
#: the split of a region among its countries is illustrative.
COUNTRIES = ("US", "CA", "FR", "DE", "GB", "IN", "ID", "PH", "BR", "MX", "NG", "VE", "MG", "KE")
REGION_OF = {"US": "US&Canada", "CA": "US&Canada", "FR": "Europe", "DE": "Europe", "GB": "Europe",
             "IN": "Asia-Pacific", "ID": "Asia-Pacific", "PH": "Asia-Pacific",
             "BR": "Rest of world", "MX": "Rest of world", "NG": "Rest of world",
             "VE": "Rest of world", "MG": "Rest of world", "KE": "Rest of world"}
_MAU = {"US&Canada": 261, "Europe": 423, "Asia-Pacific": 1278, "Rest of world": 949}
_WITHIN = {"US": .88, "CA": .12, "FR": .30, "DE": .37, "GB": .33, "IN": .55, "ID": .30, "PH": .15,
           "BR": .45, "MX": .35, "NG": .20}
COUNTRY_MIX = {
    "social": {c: _MAU[REGION_OF[c]] * w for c, w in _WITHIN.items()},
    # illustrative: MTurk's workforce is mostly in the US and India; French,
    # Venezuelan, Malagasy and Kenyan micro-workers appear in the digital-labor literature
    "microwork": {"US": .40, "IN": .25, "PH": .10, "VE": .10, "FR": .05, "MG": .05, "KE": .05},
    # illustrative
    "ondemand": {"US": .45, "BR": .25, "IN": .15, "FR": .10, "CA": .05},
}

#: Facebook average revenue per user, Q4 2021, per quarter (Meta's Q4 2021
#: earnings): US & Canada $60.57, Europe $19.68, Asia-Pacific $4.89, rest of
#: world $3.43; divided by 3 for a monthly figure.
ARPU_QUARTER = {"US&Canada": 60.57, "Europe": 19.68, "Asia-Pacific": 4.89, "Rest of world": 3.43}
DAYS_PER_MONTH = 365.25 / 12

#: Social: one advertiser per 250 members; spend edges (payments) per
#: advertiser lognormal (median 6); budgets Pareto with alpha = log(5)/log(4)
#: (the 80/20 rule: a fifth of advertisers pay four fifths of the spend).
MEMBERS_PER_ADVERTISER = 250
SPEND_EDGES_MEDIAN, SPEND_EDGES_SIGMA = 6.0, 1.0
PARETO_ALPHA = math.log(5) / math.log(4)
SOCIAL_MIX = {"view": .50, "click": .06, "post": .06, "like": .20, "comment": .12, "share": .06}
#: Popularity of engagement targets: a member's rank among its platform's
#: n members is n * U**3 (density ~ rank**(-2/3), a Zipf law), mapped to ids
#: by a fixed affine permutation so that popularity is unrelated to the id.
TARGET_GAMMA = 3
MINUTES_PER_INTERACTION = 1.5        # illustrative (members' hours)

#: Micro-work: task rewards in cents from $0.01 to $0.39, a worker's typical
#: reward lognormal around $0.05; hourly pay lognormal with median $2/h and 4%
#: above $7.25/h (Hara et al., CHI 2018); 20% platform commission on rewards
#: (Amazon Mechanical Turk's fee since 2015).
REWARD_MIN, REWARD_MAX = 0.01, 0.39
REWARD_MEDIAN, REWARD_WORKER_SIGMA, REWARD_TASK_SIGMA = 0.05, 0.6, 0.4
WAGE_MEDIAN = 2.0
WAGE_SIGMA = math.log(7.25 / 2.0) / 1.7507     # P(wage > 7.25) = 4%
COMMISSION = 0.20
WORKERS_PER_CLIENT = 20
FEE_EDGES_MEDIAN, FEE_EDGES_SIGMA = 4.0, 1.0
MICRO_MIX = {"annotate": .55, "train": .20, "verify": .17, "imitate": .08}

#: Ride-hailing: fares lognormal (median $12, illustrative), a 25% service fee
#: (driver gets 75%), rides of 15 minutes on average, and utilisation (share of
#: logged-in time with a passenger, as measured by Cramer and Krueger 2016)
#: Beta(9, 11): mean 0.45, under one half for about two drivers in three.
FARE_MEDIAN, FARE_SIGMA = 12.0, 0.5
DRIVER_SHARE = 0.75
RIDE_HOURS = 0.25
UTIL_A, UTIL_B = 9.0, 11.0
RIDERS_PER_DRIVER = 5
RIDER_SIGMA = 1.0

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

#: Parameters of the bundled example (``graphlabor/data/example_*.parquet``,
#: written by ``scripts/make_example.py``): 4,000 edges, 60 users, all families.
EXAMPLE = dict(edges=4000, users=60, seed=7, families=FAMILIES, ids="str", start="2024-01-01", span_days=365)


def default_nodes_path(out: str | os.PathLike) -> str:
    """Nodes file next to the edges file: ``_nodes`` inserted before the extension.

    >>> default_nodes_path("data/economy.parquet")
    'data/economy_nodes.parquet'
    >>> default_nodes_path("economy")
    'economy_nodes'
    """
    root, ext = os.path.splitext(os.fspath(out))
    return f"{root}_nodes{ext}"


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
    return np.diff(bounds, prepend=0) + minimum


def _lognormal(rng, median, sigma, n):
    return median * np.exp(sigma * rng.standard_normal(n))


def _pareto(rng, alpha, n):
    return (1.0 - rng.random(n)) ** (-1.0 / alpha)


def _draw_countries(rng, family: str, n: int) -> np.ndarray:
    mix = COUNTRY_MIX[family]
    codes = np.array([COUNTRIES.index(c) for c in mix], np.uint8)
    p = np.array(list(mix.values()), np.float64)
    cum = np.cumsum(p / p.sum())
    cum[-1] = 1.0
    return codes[np.searchsorted(cum, rng.random(n), side="right")]


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
        if users is None:
            per_user = ACTIVITY_MEAN * float(sum(s * mult[f] for s, f in zip(shares, fams)))
            users = max(len(fams), int(round(self.n_edges / per_user)))
        self.n_users = _check_users(users, len(fams))
        rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(0,))))

        n_f = _allocate(self.n_users, shares, 1)
        # user activity weights, all families at once (one stream: independent of chunking)
        w_all = np.minimum(_lognormal(rng, ACTIVITY_MEDIAN, ACTIVITY_SIGMA, self.n_users), ACTIVITY_CAP)
        w_split = np.split(w_all, np.cumsum(n_f)[:-1])
        budgets = _allocate(self.n_edges, np.array([w.sum() * mult[f] for w, f in zip(w_split, fams)]))

        self.platform_family: list[int] = []
        self.platform_lo: list[int] = []   # first user (local to the user numbering) on the platform
        self.platform_n: list[int] = []
        payer_groups: list[tuple[_Group, int]] = []
        user_groups: list[tuple[_Group, int]] = []
        user_offset = 0
        for fam, n, w, budget in zip(fams, n_f, w_split, budgets):
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

    def _social(self, rng, budget, w, user_plat, per_plat, share):
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

    def _micro(self, rng, budget, w, user_plat, per_plat, share):
        n, n_plat = len(w), len(per_plat)
        n_cl = max(n_plat, int(round(n / WORKERS_PER_CLIENT)))
        cl_plat = np.repeat(np.arange(n_plat), _allocate(n_cl, share, 1))
        fees = np.maximum(1, np.rint(_lognormal(rng, FEE_EDGES_MEDIAN, FEE_EDGES_SIGMA, n_cl))).astype(np.int64)
        if budget - fees.sum() < 2 * n:
            fees[:] = 1
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
        budgets = _pareto(rng, PARETO_ALPHA, n_cl)
        budgets *= revenue[cl_plat] / np.bincount(cl_plat, weights=budgets, minlength=n_plat)[cl_plat]
        cl = _Group(CLIENT, cl_plat, fees, fees, fees, budgets / fees, _draw_countries(rng, "microwork", n_cl), None)
        wk = _Group(WORKER, user_plat, tasks + pays, tasks, tasks, reward, _draw_countries(rng, "microwork", n), hours)
        return cl, wk

    def _ondemand(self, rng, budget, w, user_plat, per_plat, share):
        n, n_plat = len(w), len(per_plat)
        rides_total = budget // 4
        if rides_total < n:
            raise ValueError("too few edges")
        rides = _allocate(rides_total, w, 1)
        rates = _allocate(budget - 3 * rides_total, w, 0)
        util = rng.beta(UTIL_A, UTIL_B, n)
        hours = rides * RIDE_HOURS / util
        rides_per_plat = np.bincount(user_plat, weights=rides, minlength=n_plat).astype(np.int64)
        riders_per_plat = np.minimum(np.rint(RIDERS_PER_DRIVER * per_plat).astype(np.int64), rides_per_plat)
        rider_plat = np.repeat(np.arange(n_plat), riders_per_plat)
        rw = _lognormal(rng, 1.0, RIDER_SIGMA, len(rider_plat))
        fares = np.concatenate([_allocate(int(rides_per_plat[k]), rw[rider_plat == k], 1) for k in range(n_plat)])
        rd = _Group(RIDER, rider_plat, fares, fares, fares, np.full(len(fares), FARE_MEDIAN),
                    _draw_countries(rng, "ondemand", len(fares)), None)
        dr = _Group(DRIVER, user_plat, 2 * rides + rates, rides + rates, rides,
                    np.full(n, FARE_MEDIAN * DRIVER_SHARE), _draw_countries(rng, "ondemand", n), hours)
        return rd, dr

    # -- global numbering --------------------------------------------------

    def _assemble(self, rng, payer_groups, user_groups):
        n_pay = sum(len(g.count) for g, _ in payer_groups)
        n_plat = len(self.platform_family)
        n_usr = self.n_users
        self.n_payers, self.n_platforms = n_pay, n_plat
        self.n_nodes = n_pay + n_plat + n_usr
        self.user_base = n_pay + n_plat
        groups = [(g, b, 0) for g, b in payer_groups] + [(g, b, self.user_base) for g, b in user_groups]
        cat = lambda f, dt: np.concatenate([np.asarray(f(g, b), dt) for g, b, _ in groups])  # noqa: E731
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
        fam_of_type = np.array(_FAMILY_OF_TYPE, np.int8)
        self.node_family = fam_of_type[self.node_type]
        self.node_family[n_pay:self.user_base] = np.array(self.platform_family, np.int8)
        self.node_country = np.concatenate(
            [g.country for g, _ in payer_groups]
            + [np.full(n_plat, COUNTRIES.index("US"), np.uint8)]
            + [g.country for g, _ in user_groups]).astype(np.uint8)
        self.node_hours = np.full(self.n_nodes, np.nan)
        self.node_hours[self.user_base:] = np.concatenate([g.hours for g, _ in user_groups])
        # layout: actors (payers and users) in one random order, used by every round
        order = rng.permutation(len(count))
        self.a_type = a_type[order]
        self.a_plat = a_plat[order]
        self.a_node = a_node[order]
        self.a_contrib = contrib[order]
        self.a_split = split[order]
        # amounts: exp(mu + sigma z), rounded to cents, clipped to [0.01, hi]
        a_t = self.a_type.astype(np.intp)
        self.a_sigma = _SIGMA_OF_TYPE[a_t]
        with np.errstate(divide="ignore"):
            self.a_mu = np.log(scale[order]) + _SHIFT_OF_TYPE[a_t]
        self.a_hi = np.where(a_t == WORKER, REWARD_MAX, np.inf)
        self.a_type3 = (a_t * 3).astype(np.int32)
        self.a_count = count[order]
        # rows of each round: node a has (count_a + ROUNDS - 1 - r) // ROUNDS slots in round r
        self.round_rows = np.array([int(((self.a_count + (ROUNDS - 1 - r)) // ROUNDS).sum())
                                    for r in range(ROUNDS)], np.int64)
        self.round_blocks = -(-self.round_rows // BLOCK)
        self.first_block = np.concatenate([[0], np.cumsum(self.round_blocks)])
        self._round = (-1, None)
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
        return self._round[1]

    # -- edges ---------------------------------------------------------------

    def block(self, b: int):
        """Edges of block ``b`` as numpy arrays.

        Returns ``src``, ``dst`` (int64 node ids), ``kind`` (uint8 codes into
        :data:`KINDS`), ``amount`` (float64, 0 where not money), ``is_money``
        (bool) and ``timestamp`` (int64 epoch seconds).

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
        code = np.arange(0, 4 * m, 4, dtype=np.int32)[:, None] + np.arange(3, dtype=np.int32)
        code = np.repeat(code.ravel(), seg).take(self._shuffle(n))
        act = (code >> 2).astype(np.intp)

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

        uu = np.flatnonzero((kind >= _UU_LO) & (kind <= _UU_HI))
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

        is_money = kind <= _MONEY_MAX
        money = np.flatnonzero(is_money)
        amount = np.zeros(n)
        if money.size:
            am = act[money]
            z = rng.standard_normal(money.size)
            z *= self.a_sigma[acts].take(am)
            z += self.a_mu[acts].take(am)
            val = np.rint(np.exp(z) * 100) / 100
            amount[money] = np.clip(val, 0.01, self.a_hi[acts].take(am))
        return src, dst, kind, amount, is_money, ts

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


_SIGMA_OF_TYPE = np.array([0.3, 0.3, FARE_SIGMA, 0.0, REWARD_TASK_SIGMA, FARE_SIGMA, 0.0])
# installments (advertiser, client) keep their mean; the others keep their median
_SHIFT_OF_TYPE = np.array([-0.045, -0.045, 0.0, 0.0, 0.0, 0.0, 0.0])


def _mix_table(mix: dict[str, float]) -> np.ndarray:
    p = np.array(list(mix.values()), np.float64)
    bounds = np.rint(np.cumsum(p / p.sum()) * 1024).astype(np.int64)
    return np.repeat(np.array([K[k] for k in mix], np.uint8), np.diff(bounds, prepend=0))


def _fixed_ids(prefix: bytes, n: int, min_width: int):
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


def _check_edges(edges) -> int:
    if isinstance(edges, float) and edges.is_integer():
        edges = int(edges)
    if isinstance(edges, bool) or not isinstance(edges, (int, np.integer)):
        raise ParameterError(f"edges must be a whole number, got {edges!r}")
    if edges < 1:
        raise ParameterError(f"edges must be at least 1, got {edges}")
    return int(edges)


def _check_users(users, n_families: int) -> int:
    if isinstance(users, float) and users.is_integer():
        users = int(users)
    if isinstance(users, bool) or not isinstance(users, (int, np.integer)):
        raise ParameterError(f"users must be a whole number, got {users!r}")
    if users < n_families:
        raise ParameterError(f"users must be at least the number of families ({n_families}), got {users}")
    return int(users)


def _check_families(families) -> tuple[str, ...]:
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


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"seed must be a whole number >= 0, got {seed!r}")
    return int(seed)


def _check_time(start, span_days) -> tuple[int, int]:
    if isinstance(start, _dt.datetime):
        dt = start if start.tzinfo else start.replace(tzinfo=_dt.UTC)
    elif isinstance(start, _dt.date):
        dt = _dt.datetime(start.year, start.month, start.day, tzinfo=_dt.UTC)
    else:
        try:
            dt = _dt.datetime.fromisoformat(str(start))
        except ValueError:
            raise ParameterError(f"start {start!r} is not a date (use YYYY-MM-DD)") from None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=_dt.UTC)
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
    return int((dt - _EPOCH).total_seconds()), span_s


# ---------------------------------------------------------------------------
# Arrow tables
# ---------------------------------------------------------------------------

_TS = pa.timestamp("s", tz="UTC")


def edge_schema(ids: str = "str") -> pa.Schema:
    """Schema of the generated edges.

    >>> edge_schema("int").field("src").type
    DataType(int64)
    """
    idt = pa.string() if ids == "str" else pa.int64()
    return pa.schema([("src", idt), ("dst", idt), ("kind", pa.string()), ("weight", pa.float64()),
                      ("amount", pa.float64()), ("timestamp", _TS)])


def node_schema(ids: str = "str") -> pa.Schema:
    """Schema of the generated nodes file."""
    idt = pa.string() if ids == "str" else pa.int64()
    return pa.schema([("id", idt), ("role", pa.string()), ("type", pa.string()), ("family", pa.string()),
                      ("country", pa.string()), ("hours", pa.float64())])


_KIND_ARRAY = pa.array(KINDS, pa.string())


class _Tables:
    """Arrow tables from a plan's blocks.

    With ``for_file=True`` the ``kind`` column is a dictionary array (written
    to Parquet without hashing every string; the file stores the same
    dictionary-encoded strings either way, and is written without the Arrow
    schema, so it reads back as plain strings).
    """

    def __init__(self, plan: Plan, ids: str, for_file: bool = False):
        self.plan = plan
        self.ids = ids
        self.for_file = for_file
        self.schema = edge_schema(ids)
        if for_file:
            self.schema = self.schema.set(2, pa.field("kind", pa.dictionary(pa.int8(), pa.string())))
        self._ones = None
        self.id_array = plan.id_strings() if ids == "str" else None

    def edges(self, b: int) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        src, dst, kind, amount, is_money, ts = self.plan.block(b)
        n = len(src)
        if self._ones is None or len(self._ones) < n:
            self._ones = pa.array(np.ones(n))
        if self.id_array is not None:
            s = self.id_array.take(pa.array(src))
            d = self.id_array.take(pa.array(dst))
        else:
            s, d = pa.array(src), pa.array(dst)
        cols = [
            s, d,
            (pa.DictionaryArray.from_arrays(pa.array(kind.view(np.int8)), _KIND_ARRAY) if self.for_file
             else _KIND_ARRAY.take(pa.array(kind))),
            self._ones.slice(0, n),
            pa.array(amount, mask=~is_money),
            pa.array(ts, type=pa.int64()).view(_TS),
        ]
        return pa.Table.from_arrays(cols, schema=self.schema), kind, amount

    def nodes(self, lo: int, hi: int) -> pa.Table:
        p = self.plan
        idx = np.arange(lo, hi, dtype=np.int64)
        ids = self.id_array.slice(lo, hi - lo) if self.id_array is not None else pa.array(idx)
        t = p.node_type[lo:hi]
        fam = p.node_family[lo:hi]
        hours = p.node_hours[lo:hi]
        cols = [
            ids,
            pa.array(_ROLE_OF_TYPE, pa.string()).take(pa.array(t)),
            pa.array(TYPES, pa.string()).take(pa.array(t)),
            pa.array(FAMILIES, pa.string()).take(pa.array(fam.astype(np.int64), mask=fam < 0)),
            pa.array(COUNTRIES, pa.string()).take(pa.array(p.node_country[lo:hi])),
            pa.array(hours, mask=np.isnan(hours)),
        ]
        return pa.Table.from_arrays(cols, schema=node_schema(self.ids))


def _write_options(ids: str) -> dict:
    """Parquet options for the edges file.

    Timestamps (random within a row group, so dictionary encoding fails) are
    delta-encoded, which halves both their size and their encoding time; int
    ids are delta-encoded too (a third faster to write and to read than
    dictionary pages, 10% larger) and left uncompressed (snappy gained nothing
    on them); string ids are dictionary-encoded, with snappy (10% smaller).
    Statistics (min/max) are written for the timestamp only: on random ids,
    kinds and amounts they prune nothing, and string statistics cost a third
    of the encoding time. No Arrow schema is stored: the Parquet types alone
    read back as string, int64, double and timestamp[ms, tz=UTC] (Parquet has
    no seconds unit; pyarrow would read a stored timestamp[s] back as [ms]
    anyway).
    """
    encoding = {"timestamp": "DELTA_BINARY_PACKED"}
    dictionary = ["kind", "weight", "amount"]
    if ids == "int":
        encoding.update(src="DELTA_BINARY_PACKED", dst="DELTA_BINARY_PACKED")
        compression = "none"
    else:
        dictionary += ["src", "dst"]
        compression = "snappy"
    return dict(store_schema=False, compression=compression, use_dictionary=dictionary,
                column_encoding=encoding, write_statistics=["timestamp"])


_NODE_WRITE_OPTIONS = dict(compression="snappy")


def _check_ids(ids) -> str:
    if ids not in ("str", "int"):
        raise ParameterError(f"ids must be 'str' or 'int', got {ids!r}")
    return ids


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def generate(
    edges_path: str | os.PathLike,
    nodes_path: str | os.PathLike | None = None,
    *,
    edges: int = 1_000_000,
    users: int | None = None,
    seed: int = 0,
    families: Sequence[str] | str = FAMILIES,
    ids: str = "str",
    start: str | _dt.date = "2024-01-01",
    span_days: float = 365,
    row_group_size: int = 1_000_000,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write a synthetic platform economy: an edges file and a nodes file (Parquet).

    Parameters
    ----------
    edges_path : path
        The edges file to write (Parquet, whatever its extension). Columns
        ``src``, ``dst`` (string ids ``a0042`` for payers, ``p01`` for
        platforms, ``u000123`` for users, or int64 with ``ids="int"``),
        ``kind`` (string), ``weight`` (float64, 1.0), ``amount`` (float64 on
        ``spend``, ``fee`` and ``pay`` edges, null on contribution edges) and
        ``timestamp`` (timestamp[s, tz=UTC]). Written atomically: a temporary
        file renamed into place when complete.
    nodes_path : path, optional
        The nodes file to write; by default ``edges_path`` with ``_nodes``
        inserted before the extension (:func:`default_nodes_path`). Columns
        ``id``, ``role`` (``user``, ``platform``, ``advertiser``), ``type``
        (``member``, ``worker``, ``driver``, ``advertiser``, ``client``,
        ``rider``, ``platform``), ``family`` (the family of the platform the
        node works for, pays or is; never null), ``country`` (ISO code) and
        ``hours`` (users' time spent: logged-in hours for drivers, working
        hours including unpaid time for workers; null for other nodes).
    edges : int
        Exact number of edge rows. Any size: edges are produced and written
        block by block, so 10^9 edges need no more memory than 10^7 (only the
        per-node plan grows, about 70 bytes per node).
    users : int, optional
        Number of users (members, workers and drivers together; payers and
        platforms come on top). By default ``edges`` divided by the expected
        edges per user (about 228), so that user activity has its calibrated
        median of 99 contribution edges; with more edges per user than that,
        every user's activity (and the 5,000 cap) scales up in proportion.
    seed : int
        Random seed (>= 0). The same parameters and seed give the same files,
        value for value, whatever ``row_group_size``.
    families : sequence of str or comma-separated str
        Which of ``social``, ``microwork``, ``ondemand`` to generate. Users are
        split 80/10/10 among them (renormalised over those chosen).
    ids : {"str", "int"}
        String ids (readable, the common case in real exports) or int64 ids
        (payers first, then platforms, then users: the same order as the
        string ids sort in).
    start : str or date
        First day of the timestamps, ISO format (``YYYY-MM-DD``, UTC unless a
        zone is given).
    span_days : float
        Timestamps are uniform over ``[start, start + span_days)``, in whole
        seconds. Ad revenue scales with it (monthly revenue per user times the
        number of months).
    row_group_size : int
        Rows per Parquet row group (the last one may be shorter). Memory holds
        about two row groups (one being filled, one being encoded by the
        background writer) plus one block of ``BLOCK`` rows and the plan.
    progress : callable, optional
        Called as ``progress(edges_written, edges_total)`` after each block.

    Returns
    -------
    dict
        ``edges``, ``nodes``, ``users``, ``platforms``, ``payers``,
        ``families``, ``ids``, ``seed``, ``edges_path``, ``nodes_path``,
        ``revenue`` (total amount on revenue edges), ``pay`` (total on pay
        edges), ``row_groups``, ``seconds`` (wall clock), ``edges_per_second``,
        ``cpu_seconds`` (process CPU time, all threads),
        ``edges_per_cpu_second`` and ``kinds`` (a dict: edges per kind).

    Raises
    ------
    ParameterError
        A parameter out of range, or too few edges for the users.
    OutputError
        A file cannot be written.

    Notes
    -----
    Money flows: advertisers' ``spend``, clients' ``fee`` and riders' ``fee``
    are revenue under graphlabor's default ``--revenue-kinds spend,fee``;
    ``pay`` is the default pay kind. So ``graphlabor attribute OUT --nodes
    NODES`` needs no option.
    """
    import pyarrow.parquet as pq

    from .output import atomic_path

    t0 = time.perf_counter()
    c0 = time.process_time()
    ids = _check_ids(ids)
    if isinstance(row_group_size, bool) or not isinstance(row_group_size, (int, np.integer)) or row_group_size < 1:
        raise ParameterError(f"row_group_size must be a whole number >= 1, got {row_group_size!r}")
    edges_path = os.fspath(edges_path)
    nodes_path = os.fspath(nodes_path) if nodes_path is not None else default_nodes_path(edges_path)
    if os.path.abspath(edges_path) == os.path.abspath(nodes_path):
        raise ParameterError(f"the edges and nodes files are the same path: {edges_path}")
    plan = Plan(edges, users, seed, families, start, span_days)
    tabs = _Tables(plan, ids, for_file=True)
    kinds = np.zeros(len(KINDS), np.int64)
    money = np.zeros(len(KINDS))
    row_groups = 0
    opts = _write_options(ids)
    with atomic_path(edges_path) as tmp, pq.ParquetWriter(tmp, tabs.schema, **opts) as w, \
            ThreadPoolExecutor(1, thread_name_prefix="graphlabor-write") as pool:
        # Parquet encoding runs in one background thread (it releases the GIL)
        # while the next block is generated; at most one write is in flight.
        def write(table: pa.Table) -> int:
            for off in range(0, table.num_rows, row_group_size):
                w.write_table(table.slice(off, row_group_size), row_group_size=row_group_size)
            return -(-table.num_rows // row_group_size)

        inflight = None
        pending: list[pa.Table] = []
        n_pending = done = 0
        for b in range(plan.n_blocks):
            table, kind, amount = tabs.edges(b)
            kinds += np.bincount(kind, minlength=len(KINDS))
            money += np.bincount(kind, weights=amount, minlength=len(KINDS))
            pending.append(table)
            n_pending += table.num_rows
            last = b == plan.n_blocks - 1
            if n_pending >= row_group_size or last:
                whole = pa.concat_tables(pending)
                k = n_pending if last else (n_pending // row_group_size) * row_group_size
                pending = [whole.slice(k)] if k < n_pending else []
                n_pending -= k
                if inflight is not None:
                    row_groups += inflight.result()
                inflight = pool.submit(write, whole.slice(0, k))
            done += table.num_rows
            if progress is not None:
                progress(done, plan.n_edges)
        if inflight is not None:
            row_groups += inflight.result()
    with atomic_path(nodes_path) as tmp:
        with pq.ParquetWriter(tmp, node_schema(ids), **_NODE_WRITE_OPTIONS) as w:
            step = max(1, min(row_group_size, 1 << 20))
            for lo in range(0, plan.n_nodes, step):
                w.write_table(tabs.nodes(lo, min(plan.n_nodes, lo + step)), row_group_size=step)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {
        "edges": plan.n_edges,
        "nodes": plan.n_nodes,
        "users": plan.n_users,
        "platforms": plan.n_platforms,
        "payers": plan.n_payers,
        "families": ",".join(plan.families),
        "ids": ids,
        "seed": plan.seed,
        "edges_path": edges_path,
        "nodes_path": nodes_path,
        "revenue": round(float(money[K["spend"]] + money[K["fee"]]), 2),
        "pay": round(float(money[K["pay"]]), 2),
        "row_groups": row_groups,
        "seconds": round(seconds, 3),
        "edges_per_second": round(plan.n_edges / seconds) if seconds > 0 else None,
        "cpu_seconds": round(cpu, 3),
        "edges_per_cpu_second": round(plan.n_edges / cpu) if cpu > 0 else None,
        "kinds": {k: int(c) for k, c in zip(KINDS, kinds) if c},
    }


def generate_tables(
    *,
    edges: int = 10_000,
    users: int | None = None,
    seed: int = 0,
    families: Sequence[str] | str = FAMILIES,
    ids: str = "str",
    start: str | _dt.date = "2024-01-01",
    span_days: float = 365,
) -> tuple[pa.Table, pa.Table]:
    """The same economy as :func:`generate`, as in-memory ``(edges, nodes)`` tables.

    Row for row what :func:`generate` writes with the same parameters; meant
    for tests and small examples (everything is held in memory).

    >>> e, n = generate_tables(edges=1000, seed=3)
    >>> e.num_rows, set(n.column("role").to_pylist()) == {"user", "platform", "advertiser"}
    (1000, True)
    """
    ids = _check_ids(ids)
    plan = Plan(edges, users, seed, families, start, span_days)
    tabs = _Tables(plan, ids)
    blocks = [tabs.edges(b)[0] for b in range(plan.n_blocks)]
    return pa.concat_tables(blocks).combine_chunks(), tabs.nodes(0, plan.n_nodes)


class _CallableModule(types.ModuleType):
    """This module, callable: ``graphlabor.generate(...)`` runs :func:`generate`.

    The package exports the function ``generate`` under the name of this
    module; whichever of the two ``graphlabor.generate`` is bound to, calling
    it writes an economy.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return generate(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
