"""Stage "align nodes": nodes-file columns -> arrays indexed by node code.

Each nodes-file row lands at its node's code; nodes the file does not list
get 0 injected value and null extra columns. Chunks of the nodes file align
independently (each row goes to its own code).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["align_nodes"]


def align_nodes(
    node_codes: np.ndarray, n: int, value: pa.Array | None = None, extra: pa.Table | None = None
) -> tuple[np.ndarray | None, pa.Table | None]:
    """Injected value and extra columns of the nodes file, by node code.

    Parameters
    ----------
    node_codes : ndarray of uint32
        Code of each nodes-file row.
    n : int
        Number of nodes.
    value : pyarrow array of float64, optional
        The ``value`` column (nulls already 0).
    extra : pyarrow.Table, optional
        The other columns, row-aligned with ``node_codes``.

    Returns
    -------
    node_value : ndarray of float64, shape (n,) or None
    extra : pyarrow.Table or None
        One row per node code (null where the file has no row); None when
        there are no extra columns.

    Examples
    --------
    >>> import numpy as np, pyarrow as pa
    >>> v, x = align_nodes(np.array([2, 0], np.uint32), 3, pa.array([5.0, 1.0]), pa.table({"team": ["a", "b"]}))
    >>> v.tolist(), x["team"].to_pylist()
    ([1.0, 0.0, 5.0], ['b', None, 'a'])
    """
    node_value = None
    if value is not None:
        node_value = np.zeros(n)
        node_value[node_codes] = value.to_numpy()
    aligned = None
    if extra is not None and extra.num_columns:
        pos = np.full(n, -1, dtype=np.int64)
        pos[node_codes] = np.arange(node_codes.shape[0])
        aligned = extra.take(pa.array(pos, mask=pos < 0))
    return node_value, aligned
