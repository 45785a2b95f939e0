"""Role and edge-class codes: the IntEnums of graphlabor.codes mirror the kernels' plain int constants."""

from __future__ import annotations

from graphlabor import kernels as K
from graphlabor.codes import ROLE_CODES, ROLE_NAMES, EdgeClass, Role
from graphlabor.kernels import classify as kc


def test_role_codes_match_the_kernels():
    assert (Role.USER, Role.PLATFORM, Role.ADVERTISER) == (K.USER, K.PLATFORM, K.ADVERTISER)
    assert [type(c) for c in (K.USER, K.PLATFORM, K.ADVERTISER)] == [int, int, int]  # plain ints for Numba


def test_edge_class_codes_match_the_kernels():
    assert (EdgeClass.CONTRIBUTION, EdgeClass.REVENUE, EdgeClass.PAY) == (kc.CONTRIBUTION, kc.REVENUE, kc.PAY)


def test_names_are_the_ones_files_use():
    assert ROLE_NAMES == ("user", "platform", "advertiser")
    assert ROLE_CODES == {"user": 0, "platform": 1, "advertiser": 2}
    assert [c.label for c in EdgeClass] == ["contribution", "revenue", "pay"]
