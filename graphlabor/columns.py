"""The names of the per-node output columns, in one place.

The node table holds, in order: :data:`CORE` columns, ``period`` (with a
period option), one ``via_<kind>`` column per contribution kind and
``via_injected`` (with the breakdown), ``attributed_per_hour``,
``paid_per_hour`` and ``below_min_wage`` (with ``hours``), then the nodes
file's other columns unchanged. A name cannot appear twice: a nodes-file
column with one of our names (or any name starting with ``via_``) and a
contribution kind named ``injected`` (whose column would be
``via_injected``) are input errors.

>>> via_name("click")
'via_click'
>>> clashes(["family", "paid_per_hour", "via_x", "country"])
['paid_per_hour', 'via_x']
"""

from __future__ import annotations

from collections.abc import Iterable

NODE = "node"
ROLE = "role"
ATTRIBUTED = "attributed"
PAID = "paid"
UNPAID = "unpaid"
SHARE = "share"
RANK = "rank"
#: Always present, in this order.
CORE = (NODE, ROLE, ATTRIBUTED, PAID, UNPAID, SHARE, RANK)

PERIOD = "period"

VIA_PREFIX = "via_"
#: The part of a node's attributed value that it kept of the value injected at it.
VIA_INJECTED = VIA_PREFIX + "injected"

ATTRIBUTED_PER_HOUR = "attributed_per_hour"
PAID_PER_HOUR = "paid_per_hour"
BELOW_MIN_WAGE = "below_min_wage"
HOURS_COLUMNS = (ATTRIBUTED_PER_HOUR, PAID_PER_HOUR, BELOW_MIN_WAGE)

#: Every fixed output name (``via_*`` names are reserved by prefix).
RESERVED = (*CORE, PERIOD, *HOURS_COLUMNS)


def via_name(kind: str) -> str:
    """The breakdown column of a contribution kind."""
    return VIA_PREFIX + kind


def clashes(names: Iterable[str]) -> list[str]:
    """The names, among a nodes file's carried columns, that an output column of ours also uses."""
    return [c for c in names if c in RESERVED or c.startswith(VIA_PREFIX)]


def kind_clashes(contribution_kinds: Iterable[str]) -> list[str]:
    """Contribution kinds whose ``via_`` column would be ``via_injected``.

    >>> kind_clashes(["click", "injected"])
    ['injected']
    """
    return [k for k in contribution_kinds if via_name(k) == VIA_INJECTED]
