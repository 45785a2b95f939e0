"""Node roles: inferred from the edges, overridden by the nodes file.

Inference: a node that receives a revenue edge or sends a pay edge is a
``platform``; a node whose only edges are revenue edges it sends is an
``advertiser``; every other node (nodes-file-only nodes included) is a
``user``. A role declared in the nodes file wins, except that a declared
``advertiser`` may not receive revenue or send pay.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError, where
from .kernels import ADVERTISER, PLATFORM, USER
from .kernels.classify import (
    CONTRIBUTION,
    OTHER_ENDPOINT,
    PAY,
    RECEIVES_REVENUE_OR_SENDS_PAY,
    REVENUE,
    SENDS_REVENUE,
    node_evidence,
)

ROLE_NAMES = ("user", "platform", "advertiser")
ROLE_CODES = {name: code for code, name in enumerate(ROLE_NAMES)}
assert (ROLE_CODES["user"], ROLE_CODES["platform"], ROLE_CODES["advertiser"]) == (USER, PLATFORM, ADVERTISER)

__all__ = ["CONTRIBUTION", "PAY", "REVENUE", "infer_roles", "platform_evidence", "roles_from_evidence"]


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


def apply_declared(role: np.ndarray, node_codes: np.ndarray, declared: list, source: str) -> np.ndarray:
    """Overwrite inferred roles with the nodes file's (None keeps the inferred one)."""
    role = role.copy()
    for code, name in zip(node_codes.tolist(), declared):
        if name is not None:
            role[code] = ROLE_CODES[name]
    return role


def check_declared(role, evidence, ids, locate, src, dst, edge_class, kind_of_row, source: str, node_codes=None) -> None:
    """Reject a declared advertiser that receives revenue or sends pay.

    ``evidence`` marks the nodes that receive revenue or send pay
    (:func:`platform_evidence`); ``locate(row)`` turns an edge row into
    ``(file, row in file)`` and ``kind_of_row(row)`` gives its kind;
    ``node_codes`` (the code of each nodes-file row) lets the message name
    the first offending row of the nodes file.
    """
    bad = (role == ADVERTISER) & evidence
    if not bad.any():
        return
    nrow = None
    if node_codes is not None and bad[node_codes].any():
        nrow = int(np.flatnonzero(bad[node_codes])[0])
        node = int(node_codes[nrow])
    else:
        node = int(np.flatnonzero(bad)[0])
    rows = np.flatnonzero(((edge_class == REVENUE) & (dst == node)) | ((edge_class == PAY) & (src == node)))
    row = int(rows[0])
    file, local = locate(row)
    what = "receives revenue" if edge_class[row] == REVENUE else "sends pay"
    raise InputError(
        f"{where(source, 'role', nrow, 'advertiser')}: node {ids[node].as_py()!r} is declared an advertiser but {what} "
        f"({file}: row {local}, kind {kind_of_row(row)!r}); only platforms receive revenue or send pay"
    )


def platform_evidence(flags: np.ndarray) -> np.ndarray:
    """Nodes that receive a revenue edge or send a pay edge, from :func:`node_evidence` flags."""
    return (flags & RECEIVES_REVENUE_OR_SENDS_PAY) != 0
