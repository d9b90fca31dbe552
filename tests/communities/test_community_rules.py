"""The community membership rules (domain/communities.py), without a database."""

from __future__ import annotations

import pytest

from domain.communities import CommunityRole, can_manage_members, check_admins_remain
from domain.errors import BadUserInput


def test_community_rules() -> None:
    assert can_manage_members([], "dk", CommunityRole.ADMIN)
    assert not can_manage_members([], "dk", CommunityRole.MODERATOR)
    assert can_manage_members(["territory_manager:dk"], "dk", None)
    assert not can_manage_members(["territory_manager:no"], "dk", None)
    check_admins_remain(2, losing_admin=True)
    check_admins_remain(1, losing_admin=False)
    with pytest.raises(BadUserInput):
        check_admins_remain(1, losing_admin=True)
