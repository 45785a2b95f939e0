"""What the Dask test modules share: one real LocalCluster of 2 worker processes per module,
the bit-for-bit table comparison used against the local engine, and a generated economy written
as several Parquet files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from graphlabor.generate import generate_tables


def local_client():
    """A ``distributed.Client`` on a LocalCluster of 2 worker processes, 1 thread each: a test module
    makes it its fixture with ``client = pytest.fixture(scope="module")(local_client)`` (one cluster a module)."""
    distributed = pytest.importorskip("distributed")
    import dask

    from graphlabor.distributed.cluster import LOCAL_CLUSTER_CONFIG

    # as graphlabor's own local cluster: nannies whose workers the fault tests kill are never closed
    with dask.config.set(LOCAL_CLUSTER_CONFIG):
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
            env={"NUMBA_NUM_THREADS": "1"},
        )
        c = distributed.Client(cluster)
        c.wait_for_workers(2, timeout=120)
        yield c
        c.close()
        cluster.close()


def same_bits(a: pa.Table, b: pa.Table) -> None:
    """Equal schemas and every column bit for bit; a float NaN equals the same NaN (``Table.equals``
    says NaN != NaN, and a period in which nothing is injected has NaN shares)."""
    assert a.schema == b.schema
    for name in a.column_names:
        x, y = a[name], b[name]
        if pa.types.is_floating(x.type):
            assert x.is_null().equals(y.is_null()), name
            x, y = (pc.fill_null(c, 0.0).to_numpy() for c in (x, y))
            assert np.array_equal(x.view(np.int64), y.view(np.int64)), name
        else:
            assert x.equals(y), name


def economy_files(d: Path, seed: int, cuts: list[int], row_group_size: int, **generate) -> tuple[Path, Path, pa.Table]:
    """A generated economy (``generate_tables(seed=seed, **generate)``) written to ``d``: its
    edges cut at the row numbers ``cuts`` into ``d/edges/part-{i}.parquet`` (row groups of ``row_group_size``
    rows), its nodes to ``d/nodes.parquet``. Returns the edges folder, the nodes file and the edges table."""
    edges, nodes = generate_tables(seed=seed, **generate)
    (d / "edges").mkdir()
    bounds = [0, *cuts, edges.num_rows]
    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
        pq.write_table(edges.slice(a, b - a), d / "edges" / f"part-{i}.parquet", row_group_size=row_group_size)
    pq.write_table(nodes, d / "nodes.parquet")
    return d / "edges", d / "nodes.parquet", edges
