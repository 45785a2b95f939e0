"""Codes of node roles and edge classes: the one place their names are defined.

The Numba kernels use the same codes as plain ``int`` constants
(:data:`graphlabor.kernels.USER`, :data:`graphlabor.kernels.classify.REVENUE`,
...), since compiled code cannot use an ``IntEnum``; ``tests/test_codes.py``
checks that the two agree. Python code compares arrays of codes with these
members (``role == Role.USER``) and turns codes into names with
:data:`ROLE_NAMES`.

Examples
--------
>>> Role.PLATFORM, Role(2).label, EdgeClass.PAY.label
(<Role.PLATFORM: 1>, 'advertiser', 'pay')
>>> ROLE_NAMES, ROLE_CODES["platform"]
(('user', 'platform', 'advertiser'), 1)
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ADVERTISER", "CONTRIBUTION", "PAY", "PLATFORM", "REVENUE", "ROLE_CODES", "ROLE_NAMES", "USER", "EdgeClass",
           "Role"]


class Role(IntEnum):
    """Role of a node (the ``role`` column, int8 codes in arrays)."""

    USER = 0
    PLATFORM = 1
    ADVERTISER = 2

    @property
    def label(self) -> str:
        """The name used in files and output (``"user"``)."""
        return self.name.lower()


class EdgeClass(IntEnum):
    """Class of an edge, decided by its kind (uint8 codes in arrays)."""

    CONTRIBUTION = 0
    REVENUE = 1
    PAY = 2

    @property
    def label(self) -> str:
        return self.name.lower()


USER, PLATFORM, ADVERTISER = Role.USER, Role.PLATFORM, Role.ADVERTISER
CONTRIBUTION, REVENUE, PAY = EdgeClass.CONTRIBUTION, EdgeClass.REVENUE, EdgeClass.PAY

#: Role names by code, as read from the nodes file and written to the output.
ROLE_NAMES: tuple[str, ...] = tuple(r.label for r in Role)
#: Role code by name.
ROLE_CODES: dict[str, int] = {r.label: int(r) for r in Role}
