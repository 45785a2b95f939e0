"""Same bits at 1 and 2 threads: the CLI in subprocesses on a ~200k-edge graph."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import reference
from conftest import cli


def _economy(seed=0, n_users=30_000, n_platforms=60, n_adv=300, m=200_000):
    """Random platform economy with ids scattered over a large range."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(10**12, n_users + n_platforms + n_adv, replace=False).astype(np.int64)
    users, platforms, adv = ids[:n_users], ids[n_users : n_users + n_platforms], ids[n_users + n_platforms :]
    n_rev, n_pay = 3_000, 2_000
    n_up = (m - n_rev - n_pay) * 6 // 10
    n_uu = m - n_rev - n_pay - n_up
    # skewed popularity among users and platforms
    pop_u = rng.zipf(1.8, n_users).astype(float)
    pop_u /= pop_u.sum()
    pop_p = rng.zipf(1.5, n_platforms).astype(float)
    pop_p /= pop_p.sum()
    src = np.concatenate([
        rng.choice(adv, n_rev),
        rng.choice(users, n_up),
        rng.choice(users, n_uu),
        rng.choice(platforms, n_pay),
    ])
    dst = np.concatenate([
        rng.choice(platforms, n_rev, p=pop_p),
        rng.choice(platforms, n_up, p=pop_p),
        rng.choice(users, n_uu, p=pop_u),
        rng.choice(users, n_pay),
    ])
    kind = np.concatenate([
        np.array(["spend"] * n_rev),
        rng.choice(np.array(["click", "view", "post"]), n_up),
        rng.choice(np.array(["like", "view", "comment"]), n_uu),
        np.array(["pay"] * n_pay),
    ])
    weight = rng.uniform(0.0, 4.0, m)
    amount = np.concatenate([rng.uniform(1, 1000, n_rev), np.full(n_up + n_uu, np.nan), rng.uniform(1, 50, n_pay)])
    p = rng.permutation(m)
    return src[p], dst[p], kind[p], weight[p], amount[p]


@pytest.fixture(scope="module")
def economy_file(tmp_path_factory):
    src, dst, kind, weight, amount = _economy()
    path = tmp_path_factory.mktemp("threads") / "edges.parquet"
    pq.write_table(
        pa.table({"src": src, "dst": dst, "kind": kind, "weight": weight, "amount": pa.array(amount, mask=np.isnan(amount))}),
        path,
        row_group_size=50_000,
    )
    return path, (src, dst, kind, weight, amount)


OPTS = ["--damping", "0.85", "--platform-share", "0.1", "--kind-weight", "post=3", "--kind-weight", "view=0.5", "--tol", "1e-13"]


def test_same_bits_at_1_and_2_threads(economy_file, tmp_path):
    path, (src, dst, kind, weight, amount) = economy_file
    tables, docs = {}, {}
    for t in (1, 2):
        out, summ = tmp_path / f"out{t}.parquet", tmp_path / f"summary{t}.json"
        cli("attribute", path, *OPTS, "-o", out, "--summary-json", summ, env={"NUMBA_NUM_THREADS": str(t)})
        tables[t] = pq.read_table(out)
        docs[t] = json.loads(summ.read_text())
    a, b = tables[1], tables[2]
    assert a.column_names == b.column_names
    assert a.num_rows == b.num_rows > 20_000
    for name in a.column_names:
        x, y = a[name], b[name]
        if pa.types.is_floating(x.type):
            assert np.array_equal(x.to_numpy(), y.to_numpy()), name
        else:
            assert x.equals(y), name
    for key in ("iterations", "residual", "total_injected", "attributed_users", "kept_platforms", "kept_elsewhere", "paid", "unpaid"):
        assert docs[1][key] == docs[2][key], key

    # and the numbers are right: scipy's sparse direct solve of the spec
    ids, role, kept, paid = reference.attribute_sparse(
        src, dst, kind, weight, np.nan_to_num(amount),
        damping=0.85, platform_share=0.1, kind_weights={"post": 3.0, "view": 0.5},
    )
    total = float(np.nansum(amount[kind == "spend"]))
    assert a["node"].to_numpy().tolist() == ids.tolist()
    assert a["role"].to_pylist() == role.tolist()
    np.testing.assert_allclose(a["attributed"].to_numpy(), kept, rtol=0, atol=1e-9 * total)
    np.testing.assert_allclose(a["paid"].to_numpy(), paid, rtol=1e-12, atol=1e-9)
    assert abs(a["attributed"].to_numpy().sum() - total) <= 1e-9 * total
