"""Badges: the platform's permission currency, as pure rules.

A badge definition lives at one of three levels: global (in the ``global`` schema), a territory
or a community (in the territory's schema). It grants permissions from a CLOSED set
(:class:`Permission`) within its scope, and may require other badges first (prerequisites form a
DAG; a cycle is refused with ``PREREQUISITE_CYCLE``). An award records the definition version it
was given for; it is valid from ``valid_from`` until ``valid_until`` (none: forever) unless revoked.

What a person may do is the :func:`effective_permissions` rule: what their roles grant, plus the
permissions of every badge they hold that is valid now AND whose prerequisites are (recursively)
held and valid now. A revoked or expired prerequisite therefore switches off the dependent badge's
permissions without touching its award. A global badge grants everywhere, a territory badge within
its territory, a community badge within its community.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.communities import validate_name
from domain.errors import BadUserInput, input_field
from domain.files import validate_file_reference
from domain.profiles import clean_text
from domain.roles import Grant, Role

GLOBAL_HOME = "global"
"""The home of global-level definitions: the ``global`` schema."""

NAME_MAX = 120
TEXT_MAX = 4000
CATEGORY_MAX = 64
VALIDITY_DAYS_MAX = 3650
PREREQUISITES_MAX = 20
RULES_MAX = 5
THRESHOLD_MAX = 100_000


class Permission(StrEnum):
    """The closed set of permissions a badge (or a role) may grant; nothing else can be named."""

    FORUM_READ = "forum.read"
    FORUM_POST = "forum.post"
    FORUM_MODERATE = "forum.moderate"
    COURSE_ENROLL = "course.enroll"
    COURSE_CREATE = "course.create"
    CONTENT_CONTRIBUTE = "content.contribute"


PERMISSION_DESCRIPTIONS: Mapping[Permission, str] = {
    Permission.FORUM_READ: "Read the forums of the scope.",
    Permission.FORUM_POST: "Start topics and reply in the forums of the scope.",
    Permission.FORUM_MODERATE: "Hide, lock and move posts in the forums of the scope.",
    Permission.COURSE_ENROLL: "Enrol in the courses of the scope.",
    Permission.COURSE_CREATE: "Create and edit courses in the scope.",
    Permission.CONTENT_CONTRIBUTE: "Contribute learning content (articles, media) in the scope.",
}


class BadgeLevel(StrEnum):
    """Where a definition lives and how far its permissions reach."""

    GLOBAL = "global"
    TERRITORY = "territory"
    COMMUNITY = "community"


class PrerequisiteCycle(BadUserInput):
    """A prerequisite change that would make a badge require itself (through others)."""

    code = "PREREQUISITE_CYCLE"


class MissingPrerequisites(BadUserInput):
    """An award refused because the recipient lacks valid prerequisites; ``missing`` lists them
    (as the API's ids, filled in by the resolver: ``extensions.missing``)."""

    code = "MISSING_PREREQUISITES"


class AwardRevoked(BadUserInput):
    """A revoked award is not exported as a credential: a fresh credential would claim what the
    platform withdrew (the holder exports again once it is renewed)."""

    code = "AWARD_REVOKED"


@dataclass(frozen=True, slots=True)
class Scope:
    """Where something happens: the whole federation, a territory, or one of its communities."""

    level: BadgeLevel
    territory_id: str | None = None
    community_id: uuid.UUID | None = None

    def __post_init__(self) -> None:
        needs_territory = self.level is not BadgeLevel.GLOBAL
        needs_community = self.level is BadgeLevel.COMMUNITY
        if (self.territory_id is not None) != needs_territory or (
            self.community_id is not None
        ) != needs_community:
            raise ValueError(f"a {self.level} scope takes exactly its own keys")

    @classmethod
    def everywhere(cls) -> Scope:
        return cls(BadgeLevel.GLOBAL)

    @classmethod
    def territory(cls, territory_id: str) -> Scope:
        return cls(BadgeLevel.TERRITORY, territory_id)

    @classmethod
    def community(cls, territory_id: str, community_id: uuid.UUID) -> Scope:
        return cls(BadgeLevel.COMMUNITY, territory_id, community_id)

    def covers(self, target: Scope) -> bool:
        """Whether a grant in this scope reaches ``target``: global covers all, a territory its
        communities too, a community only itself."""
        if self.level is BadgeLevel.GLOBAL:
            return True
        if self.territory_id != target.territory_id:
            return False
        if self.level is BadgeLevel.TERRITORY:
            return True
        return target.level is BadgeLevel.COMMUNITY and self.community_id == target.community_id


@dataclass(frozen=True, slots=True, order=True)
class BadgeRef:
    """A definition at any level: its home (``global`` or a territory id) and its key."""

    home: str
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class HeldBadge:
    """One award of a person with the facts of its definition that decide what it grants."""

    ref: BadgeRef
    scope: Scope
    permissions: frozenset[Permission]
    prerequisites: frozenset[BadgeRef]
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None

    def in_force(self, now: datetime) -> bool:
        """Valid by itself: not revoked, started, not expired (prerequisites aside)."""
        return (
            self.revoked_at is None
            and self.valid_from <= now
            and (self.valid_until is None or now < self.valid_until)
        )


ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.GLOBAL_ADMIN: frozenset(Permission),
    Role.TERRITORY_MANAGER: frozenset(Permission),
    Role.MODERATOR: frozenset(
        {Permission.FORUM_READ, Permission.FORUM_POST, Permission.FORUM_MODERATE}
    ),
    Role.CONTENT_CREATOR: frozenset({Permission.CONTENT_CONTRIBUTE, Permission.COURSE_CREATE}),
    Role.MEMBER: frozenset(),
}
"""What each role grants in its scope (a territory; the federation for ``global_admin``)."""


@dataclass(frozen=True, slots=True)
class EffectivePermissions:
    """What a person may do, per scope, and which badges count as held (valid, prerequisites
    valid). Built by :func:`effective_permissions`; asked with ``allows`` and ``holds``."""

    grants: frozenset[tuple[Permission, Scope]] = frozenset()
    held: frozenset[BadgeRef] = frozenset()
    valid_until: Mapping[BadgeRef, datetime | None] = field(default_factory=dict)

    def allows(self, permission: Permission, scope: Scope) -> bool:
        return any(p is permission and s.covers(scope) for p, s in self.grants)

    def holds(self, ref: BadgeRef) -> bool:
        return ref in self.held


def valid_badges(held: Iterable[HeldBadge], now: datetime) -> dict[BadgeRef, HeldBadge]:
    """The held badges that count now: in force themselves and every prerequisite (recursively)
    held and counting. A prerequisite chain that loops (refused at definition time, but rows
    could be edited by hand) counts as not valid rather than looping forever."""
    by_ref = {h.ref: h for h in held}
    decided: dict[BadgeRef, bool] = {}

    def counts(ref: BadgeRef, path: frozenset[BadgeRef]) -> bool:
        if ref in decided:
            return decided[ref]
        badge = by_ref.get(ref)
        ok = (
            badge is not None
            and ref not in path
            and badge.in_force(now)
            and all(counts(p, path | {ref}) for p in badge.prerequisites)
        )
        decided[ref] = ok
        return ok

    return {ref: by_ref[ref] for ref in by_ref if counts(ref, frozenset())}


def role_grants(roles: Iterable[str]) -> set[tuple[Permission, Scope]]:
    grants: set[tuple[Permission, Scope]] = set()
    for value in roles:
        try:
            grant = Grant.parse(value)
        except BadUserInput:
            continue
        scope = (
            Scope.everywhere()
            if grant.territory_id is None
            else Scope.territory(grant.territory_id)
        )
        grants.update((p, scope) for p in ROLE_PERMISSIONS[grant.role])
    return grants


def effective_permissions(
    roles: Iterable[str], held: Iterable[HeldBadge], now: datetime
) -> EffectivePermissions:
    """Roles plus the permissions of the badges that count now, each within its badge's scope."""
    valid = valid_badges(held, now)
    grants = role_grants(roles)
    for badge in valid.values():
        grants.update((p, badge.scope) for p in badge.permissions)
    return EffectivePermissions(
        grants=frozenset(grants),
        held=frozenset(valid),
        valid_until={ref: badge.valid_until for ref, badge in valid.items()},
    )


def missing_prerequisites(
    required: Iterable[BadgeRef], held: Iterable[HeldBadge], now: datetime
) -> list[BadgeRef]:
    """The prerequisites the recipient does not validly hold: an award without them is refused."""
    valid = valid_badges(held, now)
    return sorted(ref for ref in set(required) if ref not in valid)


def find_cycle(
    start: BadgeRef, prerequisites: Mapping[BadgeRef, Iterable[BadgeRef]]
) -> list[BadgeRef] | None:
    """A path from ``start`` back to itself through ``prerequisites`` (the edges after the
    change), or None: such a change is refused."""
    stack: list[tuple[BadgeRef, list[BadgeRef]]] = [(start, [start])]
    seen: set[BadgeRef] = set()
    while stack:
        node, path = stack.pop()
        for nxt in prerequisites.get(node, ()):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def prerequisite_allowed(level: BadgeLevel, home: str, prerequisite: BadgeRef) -> bool:
    """A prerequisite is a global badge or one of the same territory: a global badge requires
    global ones only, so no badge depends on another territory's data."""
    if prerequisite.home == GLOBAL_HOME:
        return True
    return level is not BadgeLevel.GLOBAL and prerequisite.home == home


CATEGORY = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*", re.ASCII)


@dataclass(frozen=True, slots=True)
class BadgeContent:
    """What a definition version says about the badge (its prerequisites aside)."""

    name: str
    description: str = ""
    criteria: str = ""
    image: str | None = None
    category: str = "general"
    permissions: frozenset[Permission] = frozenset()
    validity_days: int | None = None
    rules: tuple[AwardRule, ...] = ()

    def columns(self) -> dict[str, object]:
        """The version row's columns."""
        return {
            "name": self.name,
            "description": self.description,
            "criteria": self.criteria,
            "image": self.image,
            "category": self.category,
            "permissions": sorted(p.value for p in self.permissions),
            "validity_days": self.validity_days,
            "rules": [{"event": r.event, "threshold": r.threshold} for r in self.rules],
        }


def validate_content(content: BadgeContent, known_events: Iterable[str]) -> BadgeContent:
    """Every field of a version checked, each refusal naming its input field."""
    with input_field("name"):
        name = validate_name(content.name, what="badge name", limit=NAME_MAX)
    with input_field("description"):
        description = clean_text(
            content.description, limit=TEXT_MAX, what="description", multiline=True
        )
    with input_field("criteria"):
        criteria = clean_text(content.criteria, limit=TEXT_MAX, what="criteria", multiline=True)
    with input_field("image"):
        image = None if content.image is None else validate_file_reference(content.image)
    category = content.category.strip().lower()
    if len(category) > CATEGORY_MAX or CATEGORY.fullmatch(category) is None:
        raise BadUserInput(
            f"A category is lower-case letters and digits joined by '-' or '_', at most "
            f"{CATEGORY_MAX} characters.",
            field="category",
        )
    return BadgeContent(
        name=name,
        description=description or "",
        criteria=criteria or "",
        image=image,
        category=category,
        permissions=content.permissions,
        validity_days=validate_validity_days(content.validity_days),
        rules=validate_rules(content.rules, known_events),
    )


def validate_prerequisites(
    level: BadgeLevel, home: str, prerequisites: Sequence[BadgeRef]
) -> tuple[BadgeRef, ...]:
    unique = tuple(dict.fromkeys(prerequisites))
    if len(unique) > PREREQUISITES_MAX:
        raise BadUserInput(f"At most {PREREQUISITES_MAX} prerequisites.", field="prerequisites")
    for ref in unique:
        if not prerequisite_allowed(level, home, ref):
            raise BadUserInput(
                "A prerequisite is a global badge or one of the same territory (a global badge "
                "requires global ones only).",
                field="prerequisites",
            )
    return unique


REASON_MAX = 500


def validate_reason(value: str) -> str:
    """Why an award was given or revoked: one line, 1 to 500 characters."""
    return validate_name(value, what="reason", limit=REASON_MAX)


def validate_permissions(values: Sequence[str]) -> frozenset[Permission]:
    found: set[Permission] = set()
    for value in values:
        try:
            found.add(Permission(value))
        except ValueError:
            raise BadUserInput(f"Unknown permission '{value}'.", field="permissions") from None
    return frozenset(found)


def validate_validity_days(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= VALIDITY_DAYS_MAX:
        raise BadUserInput(
            f"Validity is 1 to {VALIDITY_DAYS_MAX} days, or none.", field="validityDays"
        )
    return days


@dataclass(frozen=True, slots=True)
class CoreBadge:
    """A badge every territory has (the Code of Conduct: the federation, once), provisioned."""

    key: str
    level: BadgeLevel
    name: str
    description: str
    criteria: str
    category: str
    permissions: frozenset[Permission]
    requires: tuple[str, ...] = ()
    validity_days: int | None = None


CODE_OF_CONDUCT = CoreBadge(
    key="code_of_conduct",
    level=BadgeLevel.GLOBAL,
    name="Code of Conduct",
    description="Accepted the platform's Code of Conduct; every active account holds it.",
    criteria="Read and accept the current Code of Conduct (acceptCodeOfConduct); yearly.",
    category="core",
    permissions=frozenset(),
    validity_days=365,
)

CORE_NAMESPACE = uuid.UUID("5b1f2d0e-8c4e-4e0b-9a55-6f0c1c0b0ad9")


def core_badge_ref(home: str, key: str) -> BadgeRef:
    """A core badge's reference, the same in every database: its id derives from home and key,
    so provisioning is idempotent and the Code of Conduct is known without a lookup."""
    return BadgeRef(home, uuid.uuid5(CORE_NAMESPACE, f"{home}:{key}"))


CODE_OF_CONDUCT_REF = core_badge_ref(GLOBAL_HOME, CODE_OF_CONDUCT.key)

TERRITORY_CORE_BADGES: tuple[CoreBadge, ...] = (
    CoreBadge(
        key="basic_learner",
        level=BadgeLevel.TERRITORY,
        name="Basic Learner",
        description="May enrol in the territory's courses.",
        criteria="Hold the Code of Conduct badge; given on joining.",
        category="learning",
        permissions=frozenset({Permission.COURSE_ENROLL}),
        requires=("code_of_conduct",),
    ),
    CoreBadge(
        key="forum_participant",
        level=BadgeLevel.TERRITORY,
        name="Forum Participant",
        description="May read and post in the territory's forums.",
        criteria="Hold the Code of Conduct badge.",
        category="forum",
        permissions=frozenset({Permission.FORUM_READ, Permission.FORUM_POST}),
        requires=("code_of_conduct",),
    ),
    CoreBadge(
        key="content_contributor",
        level=BadgeLevel.TERRITORY,
        name="Content Contributor",
        description="May contribute learning content in the territory.",
        criteria="Hold Basic Learner and Forum Participant; awarded by a territory manager.",
        category="content",
        permissions=frozenset({Permission.CONTENT_CONTRIBUTE}),
        requires=("basic_learner", "forum_participant"),
    ),
    CoreBadge(
        key="community_member",
        level=BadgeLevel.TERRITORY,
        name="Community Member",
        description="Takes part in the territory's communities: reads their forums.",
        criteria="Hold the Code of Conduct badge and belong to a community.",
        category="community",
        permissions=frozenset({Permission.FORUM_READ}),
        requires=("code_of_conduct",),
    ),
)
"""Provisioned into every territory (db/provisioning.py); ``requires`` names core keys (the
Code of Conduct's is global, the others of the same territory)."""


@dataclass(frozen=True, slots=True)
class AwardRule:
    """Award the badge automatically once a person caused ``threshold`` events of ``event``
    (e.g. ``course.completed`` x 1, ``forum.post_created`` x 10)."""

    event: str
    threshold: int


def validate_rules(
    rules: Sequence[AwardRule], known_events: Iterable[str]
) -> tuple[AwardRule, ...]:
    """Rules name registered event types (areas that land later register theirs) and a positive
    threshold."""
    known = set(known_events)
    if len(rules) > RULES_MAX:
        raise BadUserInput(f"At most {RULES_MAX} rules.", field="rules")
    for rule in rules:
        if rule.event not in known:
            raise BadUserInput(f"Unknown event '{rule.event}'.", field="rules")
        if not 1 <= rule.threshold <= THRESHOLD_MAX:
            raise BadUserInput(f"A threshold is 1 to {THRESHOLD_MAX}.", field="rules")
    return tuple(rules)


def can_define(
    roles: Iterable[str],
    level: BadgeLevel,
    territory_id: str | None,
    *,
    community_admin: bool = False,
) -> bool:
    """Create or edit definitions: global ones take a global admin, territory ones a manager of
    the territory, community ones an admin of the community (or the territory's managers)."""
    held = frozenset(roles)
    if Role.GLOBAL_ADMIN.value in held:
        return True
    if level is BadgeLevel.GLOBAL or territory_id is None:
        return False
    if f"{Role.TERRITORY_MANAGER}:{territory_id}" in held:
        return True
    return level is BadgeLevel.COMMUNITY and community_admin


def can_award(
    roles: Iterable[str],
    level: BadgeLevel,
    territory_id: str | None,
    *,
    community_admin: bool = False,
) -> bool:
    """Award or revoke by hand: whoever may define badges at that level."""
    return can_define(roles, level, territory_id, community_admin=community_admin)


def recipient_allowed(badge_home: str, recipient_territory: str) -> bool:
    """A territory's (or its communities') badges go only to that territory's accounts; global
    badges to anyone."""
    return badge_home in (GLOBAL_HOME, recipient_territory)
