"""Node roles: inferred from the edges, overridden by the nodes file.

Rules, in order of precedence (the first that applies decides):

1. a role declared in the nodes file wins (a declared ``advertiser`` may not
   receive revenue or send pay);
2. a node that receives a revenue edge is a ``platform``;
3. a node that sends a pay edge is a ``platform``, unless it also sends a
   contribution edge or receives pay: then it is a user who tips or
   transfers, and stays a ``user``;
4. a node that sends a revenue edge is an ``advertiser`` (any payer), even
   if it also sends contribution edges (they then carry no value);
5. every other node (nodes-file-only nodes included) is a ``user``.

A node has *conflicting evidence* when its edges support more than one
role: platform evidence (receives revenue, sends pay), advertiser evidence
(sends revenue), user evidence (sends a contribution, receives pay).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError, where
from .codes import ADVERTISER, CONTRIBUTION, PAY, PLATFORM, REVENUE, ROLE_CODES, ROLE_NAMES, USER
from .kernels.classify import (
    ADVERTISER_EVIDENCE,
    PLATFORM_EVIDENCE,
    RECEIVES_PAY,
    RECEIVES_REVENUE,
    SENDS_CONTRIBUTION,
    SENDS_PAY,
    SENDS_REVENUE,
    USER_EVIDENCE,
    node_evidence,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from .prepare import EdgeArrays

__all__ = ["CONTRIBUTION", "PAY", "REVENUE", "ROLE_CODES", "ROLE_NAMES", "assign_roles", "check_declared", "check_strict", "conflicting",
           "evidence_names", "infer_roles", "platform_evidence",
           "roles_from_evidence"]
# CONTRIBUTION, REVENUE, PAY and the role codes are defined in graphlabor.codes (imported here for older callers)


#: evidence flags and the words the roles report uses for them
EVIDENCE = (
    (RECEIVES_REVENUE, "receives revenue"),
    (SENDS_PAY, "sends pay"),
    (SENDS_REVENUE, "sends revenue"),
    (SENDS_CONTRIBUTION, "sends contributions"),
    (RECEIVES_PAY, "receives pay"),
)


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

    A tip from a user who also posts keeps it a user:

    >>> infer_roles(3, np.array([0, 0], np.uint32), np.array([2, 1], np.uint32),
    ...             np.array([CONTRIBUTION, PAY], np.uint8)).tolist()
    [0, 0, 0]
    """
    return roles_from_evidence(node_evidence(src, dst, edge_class, n))


def roles_from_evidence(flags: np.ndarray) -> np.ndarray:
    """Roles from :func:`graphlabor.kernels.classify.node_evidence` flags."""
    role = np.full(flags.shape[0], USER, dtype=np.int8)
    role[(flags & SENDS_REVENUE) != 0] = ADVERTISER
    role[((flags & SENDS_PAY) != 0) & ((flags & USER_EVIDENCE) == 0)] = PLATFORM
    role[(flags & RECEIVES_REVENUE) != 0] = PLATFORM
    return role


def conflicting(flags: np.ndarray) -> np.ndarray:
    """Nodes whose edges give evidence for more than one role.

    >>> import numpy as np
    >>> conflicting(np.array([RECEIVES_REVENUE | SENDS_PAY, SENDS_PAY | SENDS_CONTRIBUTION], np.uint8)).tolist()
    [False, True]
    """
    count = (
        ((flags & PLATFORM_EVIDENCE) != 0).astype(np.int8)
        + ((flags & ADVERTISER_EVIDENCE) != 0)
        + ((flags & USER_EVIDENCE) != 0)
    )
    found: np.ndarray = count > 1
    return found


def evidence_names(flag: int) -> str:
    """The evidence a flag byte holds, in words.

    >>> evidence_names(SENDS_PAY | SENDS_CONTRIBUTION)
    'sends pay; sends contributions'
    """
    return "; ".join(name for bit, name in EVIDENCE if flag & bit)


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
    >>> assign_roles(np.array([2, 33, 16], np.uint8)).tolist()
    [2, 1, 0]
    >>> assign_roles(np.array([2, 33, 16], np.uint8), np.array([2], np.uint32), ["platform"]).tolist()
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
    # only a declaration can make an advertiser of a node with platform evidence;
    # an inferred advertiser may send pay (rule 3 yields to rule 4 for a tipping payer)
    bad = (role == ADVERTISER) & platform_evidence(evidence) & (roles_from_evidence(evidence) != ADVERTISER)
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
    found: np.ndarray = (flags & PLATFORM_EVIDENCE) != 0
    return found


def check_strict(declared: np.ndarray | None, ids: pa.Array, n: int, source: str | None) -> None:
    """``--roles strict``: every node needs a role from the nodes file; one line naming how many lack one.

    >>> import numpy as np, pyarrow as pa
    >>> check_strict(np.array([True, False, False]), pa.array(["a", "b", "c"]), 3, "nodes.csv")
    Traceback (most recent call last):
    ...
    graphlabor.errors.InputError: nodes.csv: --roles strict: 2 of 3 nodes lack a declared role; first: 'b', 'c'
    """
    missing = np.flatnonzero(~declared) if declared is not None else np.arange(n)
    if missing.size == 0:
        return
    first = ", ".join(repr(ids[int(i)].as_py()) for i in missing[:5])
    if source is None:
        head, why = "", " (no nodes file)"
    else:
        head, why = f"{source}: ", " (no 'role' column)" if declared is None else ""
    raise InputError(f"{head}--roles strict: {missing.size} of {n} nodes lack a declared role{why}; first: {first}",
                     param="roles")
