"""Vocabulary and calibration of the generated economy: every figure with its source.

The sources are also listed in ``docs/generator.md``. Figures marked
"illustrative" have none: they set a plausible scale.
"""

from __future__ import annotations

import datetime as _dt
import math

import numpy as np

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
MONEY_MAX = K["pay"]                 # kind codes <= this carry an amount
UU_LO, UU_HI = K["like"], K["share"]  # member -> member engagement

#: Node types (the ``type`` column); codes are positions.
TYPES = ("advertiser", "client", "rider", "member", "worker", "driver", "platform")
ADVERTISER, CLIENT, RIDER, MEMBER, WORKER, DRIVER, PLATFORM = range(7)
ROLE_OF_TYPE = ("advertiser", "advertiser", "advertiser", "user", "user", "user", "platform")
FAMILY_OF_TYPE = (0, 1, 2, 0, 1, 2, -1)

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
MAU = {"US&Canada": 261, "Europe": 423, "Asia-Pacific": 1278, "Rest of world": 949}
WITHIN = {"US": .88, "CA": .12, "FR": .30, "DE": .37, "GB": .33, "IN": .55, "ID": .30, "PH": .15,
           "BR": .45, "MX": .35, "NG": .20}
COUNTRY_MIX = {
    "social": {c: MAU[REGION_OF[c]] * w for c, w in WITHIN.items()},
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

#: Social: one advertiser per 250 members; spend edges per advertiser
#: lognormal (median 6), each paying for one campaign, so 6 campaigns per
#: advertiser is the median (illustrative: we found no published count of
#: campaigns per advertiser); budgets Pareto with alpha = log(5)/log(4) (the
#: 80/20 rule: a fifth of advertisers pay four fifths of the spend).
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
WORKERS_PER_CLIENT = 20                        # illustrative
#: Task batches: a client's ``fee`` edge pays for one batch, and a platform's
#: batches hold 52 tasks each on average: Difallah, Catasta, Demartini,
#: Ipeirotis and Cudre-Mauroux (WWW 2015) tracked about 130 million HITs in
#: 2.5 million batches on Amazon Mechanical Turk from 2009 to 2014 (130 / 2.5
#: = 52). Their batch sizes are heavy-tailed (a "power law"); here every batch
#: of a platform has the same size, plus or minus one (an assumption: only the
#: mean is calibrated). How a client's batches compare with other clients'
#: (lognormal, sigma 1) is illustrative.
TASKS_PER_BATCH = 52.0
FEE_EDGES_SIGMA = 1.0
MICRO_MIX = {"annotate": .55, "train": .20, "verify": .17, "imitate": .08}

#: Ride-hailing: fares lognormal (median $12, illustrative), a 25% service fee
#: (driver gets 75%; illustrative), rides of 15 minutes on average
#: (illustrative), and utilisation (share of logged-in time with a passenger,
#: as measured by Cramer and Krueger 2016) Beta(9, 11): mean 0.45, under one
#: half for about two drivers in three.
FARE_MEDIAN, FARE_SIGMA = 12.0, 0.5
DRIVER_SHARE = 0.75
RIDE_HOURS = 0.25
UTIL_A, UTIL_B = 9.0, 11.0
#: Rides a rider takes over the span, like a member's activity a sample
#: whatever the span (illustrative: we know no published figure; 19 is what
#: five riders per driver gave before drivers' rides were calibrated, so the
#: generated economies keep their number of payers).
RIDES_PER_RIDER = 19.0
RIDER_SIGMA = 1.0

#: Drivers' logged-in hours a week: Hall and Krueger (ILR Review 2018; Table 3
#: of NBER working paper 22843, 2016: uberX driver-partners in the 20 markets of the 2014 BSG survey, October
#: 2015) find 53% of drivers on the app 1-15 hours a week, 30% 16-34, 12%
#: 35-49 and 5% 50 or more. Each bin is (low, high, share) in hours; uniform
#: within a bin and the open bin closed at 60 hours (both illustrative).
DRIVER_WEEK_HOURS = ((1.0, 16.0, 0.53), (16.0, 35.0, 0.30), (35.0, 50.0, 0.12), (50.0, 60.0, 0.05))
MEAN_DRIVER_WEEK_HOURS = sum((lo + hi) / 2.0 * p for lo, hi, p in DRIVER_WEEK_HOURS)
#: Rides a week of the mean driver: its hours times its utilisation, over the
#: length of a ride (20 h x 0.45 / 0.25 h = 36 rides; the median driver, about
#: 15 hours a week, gives about 27). The number of drivers is the family's
#: rides divided by this rate over the time span, so that rides per driver per
#: week match the published hours whatever the span and the edge count.
RIDES_PER_DRIVER_WEEK = MEAN_DRIVER_WEEK_HOURS * (UTIL_A / (UTIL_A + UTIL_B)) / RIDE_HOURS

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)

#: Parameters of the bundled example (``graphlabor/data/example_*.parquet``,
#: written by ``scripts/make_example.py``): 4,000 edges, 60 users, all
#: families, over one week (2024-01-01, a Monday, to 2024-01-07): a span short
#: enough for its 166 rides to need five drivers at the calibrated rides per
#: driver per week (over a year they would be one driver's three rides a week).
EXAMPLE = dict(edges=4000, users=60, seed=7, families=FAMILIES, ids="str", start="2024-01-01", span_days=7)

SIGMA_OF_TYPE = np.array([0.3, 0.3, FARE_SIGMA, 0.0, REWARD_TASK_SIGMA, FARE_SIGMA, 0.0])
# installments (advertiser, client) keep their mean; the others keep their median
SHIFT_OF_TYPE = np.array([-0.045, -0.045, 0.0, 0.0, 0.0, 0.0, 0.0])
