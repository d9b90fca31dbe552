"""The role model on its own: who manages, who reads accounts, who may grant what."""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput
from domain.roles import Grant, Role, can_assign, can_manage_territory, can_read_accounts

ADMIN = ["global_admin"]
MANAGER = ["member:dk", "territory_manager:dk"]
MODERATOR = ["member:dk", "moderator:dk"]
MEMBER = ["member:dk"]


def test_who_manages_a_territory() -> None:
    assert can_manage_territory(ADMIN, "no")
    assert can_manage_territory(MANAGER, "dk")
    assert not can_manage_territory(MANAGER, "no")
    assert not can_manage_territory(MODERATOR, "dk")


def test_who_reads_accounts() -> None:
    assert can_read_accounts(MODERATOR, "dk")
    assert not can_read_accounts(MEMBER, "dk")


def test_who_may_assign() -> None:
    assert can_assign(MANAGER, Grant(Role.MODERATOR, "dk"))
    assert not can_assign(MANAGER, Grant(Role.MODERATOR, "no"))
    assert not can_assign(MANAGER, Grant(Role.TERRITORY_MANAGER, "dk"))
    assert not can_assign(MANAGER, Grant(Role.GLOBAL_ADMIN, None))
    assert can_assign(ADMIN, Grant(Role.TERRITORY_MANAGER, "no"))
    assert not can_assign(MEMBER, Grant(Role.MEMBER, "dk"))


def test_grants_encode_and_parse() -> None:
    assert Grant.parse("territory_manager:c_dk_aarhus") == Grant(
        Role.TERRITORY_MANAGER, "c_dk_aarhus"
    )
    assert Grant.parse("global_admin").encode() == "global_admin"
    for bad in ("emperor:dk", "member", "global_admin:dk", "member:DK"):
        with pytest.raises(BadUserInput):
            Grant.parse(bad)
