"""The same attribution as ``graphlabor attribute``, written the way a competent user would: DuckDB + scipy, polars + scipy.

Usage::

    python benchmarks/peers.py duckdb EDGES.parquet NODES.parquet OUT.parquet
    python benchmarks/peers.py polars EDGES.parquet NODES.parquet OUT.parquet
    python benchmarks/peers.py check OUT.parquet GRAPHLABOR_OUT.parquet   # L1 distance of `attributed`, relative

Both read the edges (``src, dst, kind, weight, amount``) and the nodes file
(``id, role``), give every id a dense code (DuckDB: a SQL table of distinct
ids and joins; polars: the same with a lazy query and joins), take each
node's role from the nodes file (inferred as in docs/model.md when a node is
not declared), aggregate the flow edges (user -> platform edges flow from the
platform to the user, user -> user edges from the first to the second;
duplicates added up) in the query engine, build ``T`` with scipy.sparse and
solve ``x = s + T x`` by power iteration to the same tolerance as graphlabor
(L1 change < 1e-10 x S), then write ``node, role, attributed, paid`` as
Parquet, where ``attributed = keep * (s + T x)`` as in graphlabor. Default
model: damping 0.85, platform share 0, every kind weight 1, revenue kinds
``spend, fee``, pay kind ``pay``.
"""

from __future__ import annotations

import sys
import time

import numpy as np

DAMPING = 0.85
PLATFORM_SHARE = 0.0
TOL = 1e-10
REVENUE = ("spend", "fee")
PAY = ("pay",)


def solve(n, snd, rcv, w, role_code, s):
    """Flow matrix from aggregated flow edges, then scipy power iteration; ``attributed`` per code."""
    import scipy.sparse as sp

    W = np.bincount(snd, weights=w, minlength=n)
    p = np.where(W > 0, np.where(role_code == 1, 1.0 - PLATFORM_SHARE, np.where(role_code == 0, DAMPING, 0.0)), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        data = p[snd] * w / W[snd]
    T = sp.csr_matrix((data, (rcv, snd)), shape=(n, n))
    S = s.sum()
    x = s.copy()
    iters = 0
    while iters < 10_000:
        iters += 1
        y = s + T @ x
        change = np.abs(y - x).sum()
        x = y
        if change < TOL * S:
            break
    held = s + T @ x
    return (1.0 - p) * held, iters


def _write(path, ids, roles, attributed, paid):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"node": ids, "role": roles, "attributed": attributed, "paid": paid}), path)


ROLE_SQL = """
CASE
  WHEN n.role IS NOT NULL THEN n.role
  WHEN i.receives_revenue OR i.sends_pay THEN 'platform'
  WHEN i.only_revenue_sender THEN 'advertiser'
  ELSE 'user'
END
"""


def duckdb_pipeline(edges, nodes, out):
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads TO {2}")
    con.execute(f"CREATE TEMP VIEW e AS SELECT src, dst, kind, coalesce(weight, 1.0) AS w, amount FROM read_parquet('{edges}')")
    con.execute(f"CREATE TEMP TABLE n AS SELECT id, role FROM read_parquet('{nodes}')")
    # one row per id with the evidence of its role, coded densely in id order
    con.execute(f"""
        CREATE TEMP TABLE ids AS
        WITH ends AS (
            SELECT src AS id, kind IN {REVENUE} AS rev_out, kind IN {PAY} AS pay_out, false AS rev_in, true AS edge FROM e
            UNION ALL
            SELECT dst, false, false, kind IN {REVENUE}, true FROM e
            UNION ALL
            SELECT id, false, false, false, false FROM n
        ), ev AS (
            SELECT id, bool_or(rev_in) AS receives_revenue, bool_or(pay_out) AS sends_pay,
                   coalesce(bool_and(rev_out) FILTER (WHERE edge), false) AS only_revenue_sender
            FROM ends GROUP BY id
        )
        SELECT (row_number() OVER (ORDER BY i.id) - 1)::UINTEGER AS code, i.id,
               {ROLE_SQL} AS role
        FROM ev i LEFT JOIN n ON n.id = i.id
    """)
    ids = con.sql("SELECT id, role FROM ids ORDER BY code").to_arrow_table()
    n = ids.num_rows
    role_code = np.select([np.asarray(ids["role"]) == "user", np.asarray(ids["role"]) == "platform"], [0, 1], 2)
    flow = con.execute(f"""
        WITH c AS (
            SELECT a.code AS sc, b.code AS dc, a.role AS sr, b.role AS dr, e.w
            FROM e JOIN ids a ON e.src = a.id JOIN ids b ON e.dst = b.id
            WHERE e.kind NOT IN {REVENUE + PAY} AND e.w > 0 AND a.role = 'user' AND b.role IN ('user', 'platform')
        )
        SELECT CASE WHEN dr = 'platform' THEN dc ELSE sc END AS snd,
               CASE WHEN dr = 'platform' THEN sc ELSE dc END AS rcv, sum(w) AS w
        FROM c GROUP BY ALL
    """).fetchnumpy()
    money = con.execute(f"""
        SELECT b.code, sum(e.amount) FILTER (WHERE e.kind IN {REVENUE}) AS injected,
               sum(e.amount) FILTER (WHERE e.kind IN {PAY}) AS paid
        FROM e JOIN ids b ON e.dst = b.id WHERE e.kind IN {REVENUE + PAY} GROUP BY b.code
    """).fetchnumpy()
    s = np.zeros(n)
    paid = np.zeros(n)
    s[money["code"]] = np.nan_to_num(np.asarray(money["injected"], dtype=np.float64))
    paid[money["code"]] = np.nan_to_num(np.asarray(money["paid"], dtype=np.float64))
    attributed, iters = solve(n, flow["snd"].astype(np.int64), flow["rcv"].astype(np.int64), flow["w"], role_code, s)
    _write(out, ids["id"], ids["role"], attributed, paid)
    return iters


def polars_pipeline(edges, nodes, out):
    import polars as pl

    e = pl.scan_parquet(edges).select("src", "dst", "kind", pl.col("weight").fill_null(1.0).alias("w"), "amount")
    nd = pl.read_parquet(nodes, columns=["id", "role"])
    ends = pl.concat([
        e.select(pl.col("src").alias("id"), pl.col("kind").is_in(REVENUE).alias("rev_out"),
                 pl.col("kind").is_in(PAY).alias("pay_out"), pl.lit(False).alias("rev_in"), pl.lit(True).alias("edge")),
        e.select(pl.col("dst").alias("id"), pl.lit(False).alias("rev_out"), pl.lit(False).alias("pay_out"),
                 pl.col("kind").is_in(REVENUE).alias("rev_in"), pl.lit(True).alias("edge")),
        nd.lazy().select("id", pl.lit(False).alias("rev_out"), pl.lit(False).alias("pay_out"), pl.lit(False).alias("rev_in"),
                         pl.lit(False).alias("edge")),
    ])
    ev = ends.group_by("id").agg(
        pl.col("rev_in").any().alias("receives_revenue"), pl.col("pay_out").any().alias("sends_pay"),
        (pl.col("rev_out").filter(pl.col("edge")).all() & pl.col("edge").any()).alias("only_revenue_sender"),
    )
    ids = (
        ev.join(nd.lazy(), on="id", how="left")
        .with_columns(
            pl.when(pl.col("role").is_not_null()).then(pl.col("role"))
            .when(pl.col("receives_revenue") | pl.col("sends_pay")).then(pl.lit("platform"))
            .when(pl.col("only_revenue_sender")).then(pl.lit("advertiser"))
            .otherwise(pl.lit("user")).alias("role")
        )
        .select("id", "role").sort("id").with_row_index("code").collect()
    )
    n = ids.height
    role_code = ids.select(pl.when(pl.col("role") == "user").then(0).when(pl.col("role") == "platform").then(1).otherwise(2)).to_series().to_numpy()
    coded = (
        e.join(ids.lazy().select(pl.col("id").alias("src"), pl.col("code").alias("sc"), pl.col("role").alias("sr")), on="src")
        .join(ids.lazy().select(pl.col("id").alias("dst"), pl.col("code").alias("dc"), pl.col("role").alias("dr")), on="dst")
        .select("sc", "dc", "sr", "dr", "kind", "w", "amount")
    )
    flow = (
        coded.filter(~pl.col("kind").is_in(REVENUE + PAY) & (pl.col("w") > 0) & (pl.col("sr") == "user")
                     & pl.col("dr").is_in(["user", "platform"]))
        .select(pl.when(pl.col("dr") == "platform").then(pl.col("dc")).otherwise(pl.col("sc")).alias("snd"),
                pl.when(pl.col("dr") == "platform").then(pl.col("sc")).otherwise(pl.col("dc")).alias("rcv"), "w")
        .group_by("snd", "rcv").agg(pl.col("w").sum())
    )
    money = (
        coded.filter(pl.col("kind").is_in(REVENUE + PAY))
        .group_by("dc").agg(pl.col("amount").filter(pl.col("kind").is_in(REVENUE)).sum().alias("injected"),
                            pl.col("amount").filter(pl.col("kind").is_in(PAY)).sum().alias("paid"))
    )
    flow, money = pl.collect_all([flow, money])
    s = np.zeros(n)
    paid = np.zeros(n)
    mc = money["dc"].to_numpy().astype(np.int64)
    s[mc] = money["injected"].fill_null(0.0).to_numpy()
    paid[mc] = money["paid"].fill_null(0.0).to_numpy()
    attributed, iters = solve(n, flow["snd"].to_numpy().astype(np.int64), flow["rcv"].to_numpy().astype(np.int64),
                              flow["w"].to_numpy(), role_code, s)
    _write(out, ids["id"].to_arrow(), ids["role"].to_arrow(), attributed, paid)
    return iters


def check(out, reference) -> float:
    """L1 distance of ``attributed`` between two outputs, joined on ``node``, relative to the total."""
    import pyarrow.parquet as pq

    a = pq.read_table(out, columns=["node", "attributed"]).to_pandas().set_index("node")["attributed"]
    b = pq.read_table(reference, columns=["node", "attributed"]).to_pandas().set_index("node")["attributed"]
    if len(a) != len(b) or not a.index.sort_values().equals(b.index.sort_values()):
        return float("inf")
    return float((a - b.reindex(a.index)).abs().sum() / b.sum())


def main(argv):
    what = argv[0]
    if what == "check":
        print(check(argv[1], argv[2]))
        return
    t0 = time.perf_counter()
    iters = {"duckdb": duckdb_pipeline, "polars": polars_pipeline}[what](*argv[1:4])
    print(f"{what}: {time.perf_counter() - t0:.2f} s, {iters} iterations", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
