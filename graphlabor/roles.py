"""Node roles: inferred from the edges, overridden by the nodes file.

Inference: a node that receives a revenue edge or sends a pay edge is a
``platform``; a node whose only edges are revenue edges it sends is an
``advertiser``; every other node (nodes-file-only nodes included) is a
``user``. A role declared in the nodes file wins, except that a declared
``advertiser`` may not receive revenue or send pay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError, where
from .codes import ADVERTISER, CONTRIBUTION, PAY, PLATFORM, REVENUE, ROLE_CODES, ROLE_NAMES, USER
from .kernels.classify import OTHER_ENDPOINT, RECEIVES_REVENUE_OR_SENDS_PAY, SENDS_REVENUE, node_evidence

if TYPE_CHECKING:
    import pyarrow as pa

    from .prepare import EdgeArrays

__all__ = ["CONTRIBUTION", "PAY", "REVENUE", "ROLE_CODES", "ROLE_NAMES", "assign_roles", "check_declared", "infer_roles", "platform_evidence",
           "roles_from_evidence"]
# CONTRIBUTION, REVENUE, PAY and the role codes are defined in graphlabor.codes (imported here for older callers)



def infer_roles(n: int, src: np.ndarray, dst: np.ndarray, edge_class: np.ndarray) -> np.ndarray:
    """Infer each node's role from its edges.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : ndarray of uint32
        Edge endpoints (codes).
    edge_class : ndarray of uint8
        ``CONTRIBUTION``, ``REVENUE`` or ``PAY`` per edge.

    Returns
    -------
    role : ndarray of int8, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> infer_roles(3, np.array([0, 2], np.uint32), np.array([1, 1], np.uint32),
    ...             np.array([REVENUE, CONTRIBUTION], np.uint8)).tolist()
    [2, 1, 0]
    """
    return roles_from_evidence(node_evidence(src, dst, edge_class, n))


def roles_from_evidence(flags: np.ndarray) -> np.ndarray:
    """Roles from :func:`graphlabor.kernels.classify.node_evidence` flags."""
    role = np.full(flags.shape[0], USER, dtype=np.int8)
    role[(flags & (SENDS_REVENUE | OTHER_ENDPOINT)) == SENDS_REVENUE] = ADVERTISER
    role[platform_evidence(flags)] = PLATFORM
    return role


def apply_declared(role: np.ndarray, node_codes: np.ndarray, declared: list[str | None]) -> np.ndarray:
    """Overwrite inferred roles with the nodes file's (None keeps the inferred one)."""
    role = role.copy()
    for code, name in zip(node_codes.tolist(), declared):
        if name is not None:
            role[code] = ROLE_CODES[name]
    return role


def assign_roles(
    evidence: np.ndarray, node_codes: np.ndarray | None = None, declared: list[str | None] | None = None
) -> np.ndarray:
    """Stage "infer roles": roles from the evidence flags, with the nodes file's declared roles on top.

    Parameters
    ----------
    evidence : ndarray of uint8, shape (n,)
        :func:`graphlabor.kernels.classify.node_evidence` flags, OR-ed over
        all edges (chunks combine by OR).
    node_codes : ndarray of uint32, optional
        Code of each nodes-file row.
    declared : list of str or None, optional
        Declared role of each nodes-file row (None: infer).

    Returns
    -------
    role : ndarray of int8, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> assign_roles(np.array([2, 5, 4], np.uint8)).tolist()
    [2, 1, 0]
    >>> assign_roles(np.array([2, 5, 4], np.uint8), np.array([2], np.uint32), ["platform"]).tolist()
    [2, 1, 1]
    """
    role = roles_from_evidence(evidence)
    if declared is not None and node_codes is not None:
        role = apply_declared(role, node_codes, declared)
    return role


def check_declared(
    role: np.ndarray,
    evidence: np.ndarray,
    ids: pa.Array,
    revenue: EdgeArrays,
    revenue_rows: np.ndarray,
    pay: EdgeArrays,
    pay_rows: np.ndarray,
    locate: Callable[[int], tuple[str, int]],
    kind_names: Sequence[str],
    source: str,
    node_codes: np.ndarray | None = None,
) -> None:
    """Reject a declared advertiser that receives revenue or sends pay.

    ``evidence`` holds the :func:`~graphlabor.kernels.classify.node_evidence`
    flags; ``revenue`` and ``pay`` are the edges of those classes
    (:class:`~graphlabor.prepare.EdgeArrays`) and ``revenue_rows``,
    ``pay_rows`` their input rows, which ``locate(row)`` turns into ``(file,
    row in file)``; ``node_codes`` (the code of each nodes-file row) lets the
    message name the first offending row of the nodes file.
    """
    bad = (role == ADVERTISER) & platform_evidence(evidence)
    if not bad.any():
        return
    nrow = None
    if node_codes is not None and bad[node_codes].any():
        nrow = int(np.flatnonzero(bad[node_codes])[0])
        node = int(node_codes[nrow])
    else:
        node = int(np.flatnonzero(bad)[0])
    candidates = [(int(rows[e.dst == node][0]) if cls == REVENUE else int(rows[e.src == node][0]), cls, e, rows)
                  for cls, e, rows in ((REVENUE, revenue, revenue_rows), (PAY, pay, pay_rows))
                  if ((e.dst if cls == REVENUE else e.src) == node).any()]
    row, cls, e, rows = min(candidates, key=lambda t: t[0])
    file, local = locate(row)
    what = "receives revenue" if cls == REVENUE else "sends pay"
    kind = kind_names[int(e.kind[np.flatnonzero(rows == row)[0]])]
    raise InputError(
        f"{where(source, 'role', nrow, 'advertiser')}: node {ids[node].as_py()!r} is declared an advertiser but {what} "
        f"({file}: row {local}, kind {kind!r}); only platforms receive revenue or send pay"
    )


def platform_evidence(flags: np.ndarray) -> np.ndarray:
    """Nodes that receive a revenue edge or send a pay edge, from :func:`node_evidence` flags."""
    found: np.ndarray = (flags & RECEIVES_REVENUE_OR_SENDS_PAY) != 0
    return found
