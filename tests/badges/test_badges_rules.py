"""The pure badge rules: scopes, validity, prerequisites switching permissions off, cycles."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.badges import (
    BadgeLevel,
    BadgeRef,
    HeldBadge,
    Permission,
    Scope,
    can_define,
    effective_permissions,
    find_cycle,
    missing_prerequisites,
    prerequisite_allowed,
    recipient_allowed,
    validate_permissions,
    validate_validity_days,
)
from domain.errors import BadUserInput

NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
DK = Scope.territory("dk")
AARHUS = uuid.uuid4()


def ref(home: str = "dk") -> BadgeRef:
    return BadgeRef(home, uuid.uuid4())


def held(
    badge: BadgeRef,
    *permissions: Permission,
    scope: Scope = DK,
    requires: tuple[BadgeRef, ...] = (),
    until: datetime | None = None,
    revoked: bool = False,
    start: datetime = NOW - timedelta(days=1),
) -> HeldBadge:
    return HeldBadge(
        ref=badge,
        scope=scope,
        permissions=frozenset(permissions),
        prerequisites=frozenset(requires),
        valid_from=start,
        valid_until=until,
        revoked_at=NOW if revoked else None,
    )


def test_scope_reach() -> None:
    community = Scope.community("dk", AARHUS)
    assert Scope.everywhere().covers(community)
    assert DK.covers(community)
    assert DK.covers(DK)
    assert not DK.covers(Scope.territory("se"))
    assert not DK.covers(Scope.everywhere())
    assert community.covers(community)
    assert not community.covers(DK)
    assert not community.covers(Scope.community("dk", uuid.uuid4()))
    assert not Scope.community("se", AARHUS).covers(community)


def test_scope_takes_exactly_its_keys() -> None:
    with pytest.raises(ValueError, match="exactly"):
        Scope(BadgeLevel.GLOBAL, "dk")
    with pytest.raises(ValueError, match="exactly"):
        Scope(BadgeLevel.TERRITORY)
    with pytest.raises(ValueError, match="exactly"):
        Scope(BadgeLevel.COMMUNITY, "dk")


def test_a_valid_badge_grants_within_its_scope_only() -> None:
    badge = ref()
    perms = effective_permissions([], [held(badge, Permission.FORUM_POST)], NOW)
    assert perms.allows(Permission.FORUM_POST, DK)
    assert perms.allows(Permission.FORUM_POST, Scope.community("dk", AARHUS))
    assert not perms.allows(Permission.FORUM_POST, Scope.territory("se"))
    assert not perms.allows(Permission.FORUM_READ, DK)
    assert perms.holds(badge)


def test_global_badge_grants_everywhere() -> None:
    badge = held(ref("global"), Permission.FORUM_READ, scope=Scope.everywhere())
    perms = effective_permissions([], [badge], NOW)
    assert perms.allows(Permission.FORUM_READ, Scope.territory("se"))


def test_validity_window_edges() -> None:
    badge = ref()
    at_end = held(badge, Permission.FORUM_POST, until=NOW)
    assert not effective_permissions([], [at_end], NOW).holds(badge)
    just_before = held(badge, Permission.FORUM_POST, until=NOW + timedelta(seconds=1))
    assert effective_permissions([], [just_before], NOW).holds(badge)
    not_started = held(badge, Permission.FORUM_POST, start=NOW + timedelta(seconds=1))
    assert not effective_permissions([], [not_started], NOW).holds(badge)
    starts_now = held(badge, Permission.FORUM_POST, start=NOW)
    assert effective_permissions([], [starts_now], NOW).holds(badge)


def test_revoked_badge_grants_nothing() -> None:
    badge = ref()
    perms = effective_permissions([], [held(badge, Permission.FORUM_POST, revoked=True)], NOW)
    assert not perms.allows(Permission.FORUM_POST, DK)
    assert not perms.holds(badge)


@pytest.mark.parametrize("lapse", ["revoked", "expired", "absent"])
def test_a_lapsed_prerequisite_switches_the_dependent_badge_off(lapse: str) -> None:
    base, dependent = ref("global"), ref()
    prerequisite = held(
        base,
        scope=Scope.everywhere(),
        revoked=lapse == "revoked",
        until=NOW - timedelta(seconds=1) if lapse == "expired" else None,
    )
    badges = [held(dependent, Permission.FORUM_MODERATE, requires=(base,))]
    if lapse != "absent":
        badges.append(prerequisite)
    perms = effective_permissions([], badges, NOW)
    assert not perms.allows(Permission.FORUM_MODERATE, DK)
    assert not perms.holds(dependent)
    valid = effective_permissions(
        [], [held(dependent, Permission.FORUM_MODERATE, requires=(base,)), held(base)], NOW
    )
    assert valid.allows(Permission.FORUM_MODERATE, DK)


def test_prerequisites_count_transitively() -> None:
    a, b, c = ref(), ref(), ref()
    chain = [held(a, requires=(b,)), held(b, requires=(c,)), held(c, revoked=True)]
    assert effective_permissions([], chain, NOW).held == frozenset()


def test_a_looping_chain_counts_as_invalid_without_hanging() -> None:
    a, b = ref(), ref()
    perms = effective_permissions([], [held(a, requires=(b,)), held(b, requires=(a,))], NOW)
    assert perms.held == frozenset()


def test_roles_grant_within_their_territory() -> None:
    perms = effective_permissions(["moderator:dk"], [], NOW)
    assert perms.allows(Permission.FORUM_MODERATE, DK)
    assert not perms.allows(Permission.FORUM_MODERATE, Scope.territory("se"))
    assert not perms.allows(Permission.COURSE_CREATE, DK)
    admin = effective_permissions(["global_admin"], [], NOW)
    assert all(admin.allows(p, Scope.territory("se")) for p in Permission)
    assert effective_permissions(["member:dk", "nonsense"], [], NOW).grants == frozenset()


def test_missing_prerequisites_lists_only_the_missing() -> None:
    a, b, c = ref(), ref(), ref()
    holding = [held(a), held(b, revoked=True)]
    assert missing_prerequisites([a, b, c], holding, NOW) == sorted([b, c])
    assert missing_prerequisites([a], holding, NOW) == []


def test_find_cycle() -> None:
    a, b, c = ref(), ref(), ref()
    assert find_cycle(a, {a: [b], b: [c]}) is None
    assert find_cycle(a, {a: [b], b: [c], c: [a]}) == [a, b, c, a]
    assert find_cycle(a, {a: [a]}) == [a, a]
    assert find_cycle(a, {b: [c], c: [b]}) is None


def test_prerequisites_point_to_global_or_the_same_territory() -> None:
    assert prerequisite_allowed(BadgeLevel.TERRITORY, "dk", ref("global"))
    assert prerequisite_allowed(BadgeLevel.COMMUNITY, "dk", ref("dk"))
    assert not prerequisite_allowed(BadgeLevel.TERRITORY, "dk", ref("se"))
    assert not prerequisite_allowed(BadgeLevel.GLOBAL, "global", ref("dk"))
    assert prerequisite_allowed(BadgeLevel.GLOBAL, "global", ref("global"))


def test_recipients_of_a_territory_badge_are_its_accounts() -> None:
    assert recipient_allowed("dk", "dk")
    assert recipient_allowed("global", "se")
    assert not recipient_allowed("dk", "se")


def test_who_may_define() -> None:
    assert can_define(["global_admin"], BadgeLevel.GLOBAL, None)
    assert not can_define(["territory_manager:dk"], BadgeLevel.GLOBAL, None)
    assert can_define(["territory_manager:dk"], BadgeLevel.TERRITORY, "dk")
    assert not can_define(["territory_manager:dk"], BadgeLevel.TERRITORY, "se")
    assert not can_define(["moderator:dk"], BadgeLevel.TERRITORY, "dk")
    assert can_define([], BadgeLevel.COMMUNITY, "dk", community_admin=True)
    assert not can_define([], BadgeLevel.TERRITORY, "dk", community_admin=True)
    assert can_define(["territory_manager:dk"], BadgeLevel.COMMUNITY, "dk")


def test_permissions_are_a_closed_set() -> None:
    assert validate_permissions(["forum.read", "forum.read"]) == {Permission.FORUM_READ}
    with pytest.raises(BadUserInput) as refused:
        validate_permissions(["forum.delete"])
    assert refused.value.field == "permissions"


def test_validity_days_limits() -> None:
    assert validate_validity_days(None) is None
    assert validate_validity_days(1) == 1
    assert validate_validity_days(3650) == 3650
    for bad in (0, 3651):
        with pytest.raises(BadUserInput):
            validate_validity_days(bad)
