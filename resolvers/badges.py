"""Root fields of the badges area: the catalogue (``badges``), node lookups, defining and editing
badges, awarding and revoking them. Every write goes through the home's envelope
(``global_change`` for global definitions, ``territory_change`` otherwise; awards always in the
holder's territory)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, cast

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types.unset import UNSET, UnsetType

from db import badges as badge_db
from db.audit import AuditAction
from db.badges import AwardRecord, DefinitionPageKey, DefinitionRecord, ref_text
from domain.accounts import can_read_account
from domain.badges import (
    GLOBAL_HOME,
    AwardRule,
    BadgeContent,
    BadgeLevel,
    BadgeRef,
    MissingPrerequisites,
    Permission,
    PrerequisiteCycle,
    can_define,
    find_cycle,
    missing_prerequisites,
    recipient_allowed,
    validate_content,
    validate_prerequisites,
    validate_reason,
)
from domain.communities import CommunityRole
from domain.errors import BadUserInput, Forbidden, NotFound, input_field
from domain.events import REGISTRY, BadgeAwarded, BadgeRevoked, TerritoryRef
from domain.territories import validate_territory_id
from graph import badge_access, ids
from graph.context import Info
from graph.loaders.accounts import USER_BY_ID
from graph.loaders.badges import AWARD_BY_ID, DEFINITION_PAGE, GLOBAL_DEFINITION_PAGE
from graph.permissions import IsAuthenticated, Public
from graph.types.badges import Badge, BadgeAward, badge_id
from graph.types.communities import community_by_id, viewer_role
from graph.types.relay import After, Connection, First, Node, connection, page_size
from resolvers.common import global_change, key_of, person_of, territory_change

T = TypeVar("T")


async def badge_node(info: Info, key: ids.NodeKey) -> Node | None:
    """``node(id:)`` for a ``Badge``: definitions are a public catalogue."""
    found = await badge_access.definition(info, BadgeRef(key.territory_id, ids.parse_uuid(key.key)))
    return None if found is None else Badge.from_record(found)


async def award_by_id(info: Info, territory_id: str, award_id: uuid.UUID) -> BadgeAward | None:
    """An award if the caller may read its holder's account (oneself, the territory's managers
    and moderators, global admins); None otherwise, as for a missing one."""
    record = await info.context.loaders.get(AWARD_BY_ID, territory_id).load(award_id)
    if record is None or not can_read_account(info.context.caller, territory_id, record.user_id):
        return None
    return BadgeAward.from_record(record, info.context.clock())


async def award_node(info: Info, key: ids.NodeKey) -> Node | None:
    return await award_by_id(info, key.territory_id, ids.parse_uuid(key.key))


def community_key(value: str | None, territory_id: str | None) -> uuid.UUID | None:
    """The key of a ``Community`` id, which must belong to ``territory_id``."""
    if value is None:
        return None
    home, key = key_of(value, "Community", field="community")
    if home != territory_id:
        raise BadUserInput("The community is not in that territory.", field="community")
    return key


@strawberry.type
class BadgeQueries:
    @strawberry.field(
        description="Badge definitions of one level, oldest first: global ones (no "
        "`territory`), a territory's (`territory`), or community ones of a territory (`territory`, "
        "optionally one `community`). Anyone may read the catalogue. BAD_USER_INPUT for a "
        "missing or extra `territory`/`community`; NOT_FOUND for an unknown territory.",
        permission_classes=[Public],
    )
    async def badges(
        self,
        info: Info,
        *,
        level: Annotated[BadgeLevel, strawberry.argument(description="Which level to list.")],
        territory: Annotated[
            str | None,
            strawberry.argument(
                description="The territory (`Territory.code`) of territory and community "
                "badges; omitted for global ones."
            ),
        ] = None,
        community: Annotated[
            strawberry.ID | None,
            strawberry.argument(
                description="Only this community's badges (a `Community` id of `territory`)."
            ),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Badge]:
        limit = page_size(first)
        cursor = ids.decode_cursor(after)
        after_id = None if cursor is None else ids.parse_uuid(cursor)
        if level is BadgeLevel.GLOBAL:
            if territory is not None or community is not None:
                raise BadUserInput("Global badges belong to no territory.", field="territory")
            key: DefinitionPageKey = (level, None, after_id, limit + 1)
            rows = await info.context.loaders.get_global(GLOBAL_DEFINITION_PAGE).load(key)
        else:
            if territory is None:
                raise BadUserInput("Name the territory.", field="territory")
            with input_field("territory"):
                territory_id = validate_territory_id(territory)
            if territory_id == GLOBAL_HOME:
                raise BadUserInput("Name a territory, not `global`.", field="territory")
            if await info.context.loaders.active_territory(territory_id) is None:
                raise NotFound(f"No territory '{territory}'.", field="territory")
            if community is not None and level is not BadgeLevel.COMMUNITY:
                raise BadUserInput("Only community badges have a community.", field="community")
            key = (level, community_key(community, territory_id), after_id, limit + 1)
            rows = await info.context.loaders.get(DEFINITION_PAGE, territory_id).load(key)
        return connection(
            rows, limit, sort_key=lambda r: str(r.ref.id), node=Badge.from_record, after=after
        )


# --- who may: the definition's level decides


async def _may_manage(
    info: Info, level: BadgeLevel, home: str, community: uuid.UUID | None
) -> bool:
    """Define, edit, award and revoke at this level: global admins; a territory's managers; a
    community's admins (community badges)."""
    territory_id = None if home == GLOBAL_HOME else home
    admin = False
    if community is not None and territory_id is not None:
        admin = await viewer_role(info, territory_id, community) is CommunityRole.ADMIN
    return can_define(info.context.caller.roles, level, territory_id, community_admin=admin)


@asynccontextmanager
async def _home_change(info: Info, home: str) -> AsyncIterator[HomeChange]:
    """The write envelope of a definition's home: ``global_change`` or ``territory_change``."""
    if home == GLOBAL_HOME:
        async with global_change(info) as change:
            yield HomeChange(
                change.conn,
                lambda action, target, details: change.audit(
                    action, territory_id=None, target=target, details=details
                ),
            )
    else:
        async with territory_change(info, home) as territory:
            yield HomeChange(
                territory.conn,
                lambda action, target, details: territory.audit(
                    action, target=target, details=details
                ),
            )


@dataclass
class HomeChange:
    conn: AsyncConnection
    audit: Callable[[AuditAction, str, dict[str, Any]], None]


def _badge_ref(value: str, *, field: str) -> BadgeRef:
    home, key = key_of(value, "Badge", field=field)
    return BadgeRef(home, key)


async def _prerequisites(
    info: Info, level: BadgeLevel, home: str, values: list[strawberry.ID]
) -> tuple[BadgeRef, ...]:
    refs = [_badge_ref(v, field="prerequisites") for v in values]
    wanted = validate_prerequisites(level, home, refs)
    found = await badge_access.definitions(info, wanted)
    if len(found) != len(wanted):
        raise NotFound("No such prerequisite badge.", field="prerequisites")
    return wanted


def _known_events() -> set[str]:
    return {name for name, _ in REGISTRY}


# --- definitions


@strawberry.input(description="An automatic-award rule.")
class BadgeRuleInput:
    event: str = strawberry.field(
        description="A registered event type, `<area>.<event>` (e.g. `course.completed`), "
        "caused by the person (its actor)."
    )
    threshold: int = strawberry.field(
        default=1, description="How many such events it takes, 1 to 100000."
    )


@strawberry.input(description="A new badge definition.")
class CreateBadgeInput:
    level: BadgeLevel = strawberry.field(description="Where it is defined and how far it reaches.")
    territory: str | None = strawberry.field(
        default=None,
        description="The territory (`Territory.code`) of a territory or community badge; null "
        "for a global one.",
    )
    community: strawberry.ID | None = strawberry.field(
        default=None, description="The `Community` of a community badge (in `territory`)."
    )
    name: str = strawberry.field(description="Display name, one line, 1 to 120 characters.")
    description: str = strawberry.field(default="", description="Up to 4000 characters.")
    criteria: str = strawberry.field(
        default="", description="What it takes to earn it; up to 4000 characters."
    )
    image: str | None = strawberry.field(
        default=None, description="A file reference: `ipfs://<CID>` or `file:<uuid>`."
    )
    category: str = strawberry.field(
        default="general",
        description="Lower-case letters and digits joined by `-` or `_`, up to 64 characters.",
    )
    permissions: list[Permission] = strawberry.field(
        default_factory=list, description="What holding it grants within its scope."
    )
    prerequisites: list[strawberry.ID] = strawberry.field(
        default_factory=list,
        description="`Badge` ids a recipient must validly hold first: global badges, or badges "
        "of the same territory (at most 20).",
    )
    validity_days: int | None = strawberry.field(
        default=None, description="Days an award stays valid (1 to 3650); null: no expiry."
    )
    rules: list[BadgeRuleInput] = strawberry.field(
        default_factory=list, description="Automatic-award rules (at most 5)."
    )


@strawberry.type(description="The result of `createBadge`.")
class CreateBadgePayload:
    badge: Badge = strawberry.field(description="The new badge, at version 1.")


@strawberry.input(
    description="A new version of a badge: omitted fields keep their value, given ones replace it."
)
class UpdateBadgeInput:
    id: strawberry.ID = strawberry.field(description="The `Badge` to edit.")
    name: str | None = strawberry.field(default=UNSET, description="New display name.")
    description: str | None = strawberry.field(default=UNSET, description="New description.")
    criteria: str | None = strawberry.field(default=UNSET, description="New criteria.")
    image: str | None = strawberry.field(
        default=UNSET, description="New image reference; null removes it."
    )
    category: str | None = strawberry.field(default=UNSET, description="New category.")
    permissions: list[Permission] | None = strawberry.field(
        default=UNSET, description="The new set of permissions (replaces the old one)."
    )
    prerequisites: list[strawberry.ID] | None = strawberry.field(
        default=UNSET,
        description="The new prerequisites (replace the old ones); a change that makes the "
        "badge require itself is PREREQUISITE_CYCLE.",
    )
    validity_days: int | None = strawberry.field(
        default=UNSET, description="New validity in days; null: no expiry."
    )
    rules: list[BadgeRuleInput] | None = strawberry.field(
        default=UNSET, description="The new automatic-award rules (replace the old ones)."
    )


@strawberry.type(description="The result of `updateBadge`.")
class UpdateBadgePayload:
    badge: Badge = strawberry.field(description="The badge at its new version.")


def _rules(values: list[BadgeRuleInput]) -> tuple[AwardRule, ...]:
    return tuple(AwardRule(r.event, r.threshold) for r in values)


def _given(value: T | UnsetType | None, current: T) -> T:
    """An edit's field: omitted keeps ``current``; null is refused where null means nothing."""
    if value is UNSET:
        return current
    if value is None:
        raise BadUserInput("This field cannot be null; omit it to keep its value.")
    return cast("T", value)


async def _home_of(
    info: Info, level: BadgeLevel, territory: str | None, community: strawberry.ID | None
) -> tuple[str, uuid.UUID | None]:
    if level is BadgeLevel.GLOBAL:
        if territory is not None or community is not None:
            raise BadUserInput("A global badge belongs to no territory.", field="territory")
        return GLOBAL_HOME, None
    if territory is None:
        raise BadUserInput("Name the territory.", field="territory")
    with input_field("territory"):
        home = validate_territory_id(territory)
    if home == GLOBAL_HOME or await info.context.loaders.active_territory(home) is None:
        raise NotFound(f"No territory '{territory}'.", field="territory")
    if level is BadgeLevel.TERRITORY:
        if community is not None:
            raise BadUserInput("Only community badges have a community.", field="community")
        return home, None
    if community is None:
        raise BadUserInput("Name the community.", field="community")
    key = community_key(community, home)
    assert key is not None
    if await community_by_id(info, home, key) is None:
        raise NotFound("No such community.", field="community")
    return home, key


async def _check_cycle(
    conn: AsyncConnection, ref: BadgeRef, prerequisites: tuple[BadgeRef, ...]
) -> None:
    """Global badges never require territory ones, so a cycle through ``ref`` stays in its
    home's graph: read it (locked against concurrent edits) with the new edges in place."""
    await badge_db.lock_prerequisite_graph(conn, ref.home)
    edges = await badge_db.prerequisite_edges(conn, ref.home)
    edges[ref] = list(prerequisites)
    cycle = find_cycle(ref, edges)
    if cycle is not None:
        error = PrerequisiteCycle(
            "These prerequisites would make the badge require itself.", field="prerequisites"
        )
        error.extra["cycle"] = [badge_id(r) for r in cycle]
        raise error


@strawberry.type
class BadgeMutations:
    @strawberry.mutation(
        description="Define a badge: global ones by global admins, territory ones by the "
        "territory's managers, community ones by the community's admins (and the territory's "
        "managers). FORBIDDEN otherwise; NOT_FOUND for an unknown territory, community or "
        "prerequisite; BAD_USER_INPUT (with `extensions.field`) for a field breaking its rule, "
        "a prerequisite of another territory, an unknown rule event.",
        permission_classes=[IsAuthenticated],
    )
    async def create_badge(
        self,
        info: Info,
        input: Annotated[CreateBadgeInput, strawberry.argument(description="The badge to define.")],
    ) -> CreateBadgePayload:
        home, community = await _home_of(info, input.level, input.territory, input.community)
        if not await _may_manage(info, input.level, home, community):
            raise Forbidden("You may not define badges here.")
        content = validate_content(
            BadgeContent(
                name=input.name,
                description=input.description,
                criteria=input.criteria,
                image=input.image,
                category=input.category,
                permissions=frozenset(input.permissions),
                validity_days=input.validity_days,
                rules=_rules(input.rules),
            ),
            _known_events(),
        )
        prerequisites = await _prerequisites(info, input.level, home, input.prerequisites)
        async with _home_change(info, home) as change:
            key = await badge_db.create_definition(
                change.conn,
                home,
                level=input.level,
                community_id=community,
                content=content.columns(),
                prerequisites=prerequisites,
            )
            change.audit(AuditAction.BADGE_DEFINED, str(key), {"level": input.level.value})
            record = (await badge_db.definitions_by_ids(change.conn, home, [key]))[key]
        return CreateBadgePayload(badge=Badge.from_record(record))

    @strawberry.mutation(
        description="Edit a badge: a new version (awards keep the version they were given "
        "for). Who may: as `createBadge`. NOT_FOUND for an unknown badge; PREREQUISITE_CYCLE "
        "(with `extensions.cycle`) when the prerequisites would loop back to it; "
        "BAD_USER_INPUT as for `createBadge`.",
        permission_classes=[IsAuthenticated],
    )
    async def update_badge(
        self,
        info: Info,
        input: Annotated[
            UpdateBadgeInput, strawberry.argument(description="The badge and the fields to change.")
        ],
    ) -> UpdateBadgePayload:
        ref = _badge_ref(input.id, field="id")
        current = await badge_access.definition(info, ref)
        if current is None:
            raise NotFound("No such badge.", field="id")
        if not await _may_manage(info, current.level, ref.home, current.community_id):
            raise Forbidden("You may not edit this badge.")
        with input_field("name"):
            name = _given(input.name, current.name)
        with input_field("description"):
            description = _given(input.description, current.description)
        with input_field("criteria"):
            criteria = _given(input.criteria, current.criteria)
        with input_field("category"):
            category = _given(input.category, current.category)
        with input_field("permissions"):
            permissions = frozenset(_given(input.permissions, sorted(current.permissions)))
        rules = current.rules
        if input.rules is not UNSET:
            with input_field("rules"):
                rules = _rules(_given(input.rules, []))
        content = validate_content(
            BadgeContent(
                name=name,
                description=description,
                criteria=criteria,
                image=current.image if input.image is UNSET else input.image,
                category=category,
                permissions=permissions,
                validity_days=(
                    current.validity_days if input.validity_days is UNSET else input.validity_days
                ),
                rules=rules,
            ),
            _known_events(),
        )
        if input.prerequisites is UNSET:
            prerequisites = current.prerequisites
        else:
            with input_field("prerequisites"):
                given = _given(input.prerequisites, [])
            prerequisites = await _prerequisites(info, current.level, ref.home, given)
        async with _home_change(info, ref.home) as change:
            locked = await badge_db.lock_definition(change.conn, ref.home, ref.id)
            if locked is None:
                raise NotFound("No such badge.", field="id")
            await _check_cycle(change.conn, ref, prerequisites)
            version = locked.version + 1
            await badge_db.add_version(
                change.conn,
                ref.home,
                ref.id,
                version=version,
                content=content.columns(),
                prerequisites=prerequisites,
            )
            change.audit(AuditAction.BADGE_EDITED, str(ref.id), {"version": version})
            record = (await badge_db.definitions_by_ids(change.conn, ref.home, [ref.id]))[ref.id]
        return UpdateBadgePayload(badge=Badge.from_record(record))


# --- awards


@strawberry.input(description="A badge to award (or renew) to a person.")
class AwardBadgeInput:
    badge: strawberry.ID = strawberry.field(description="The `Badge`.")
    recipient: strawberry.ID = strawberry.field(
        description="The person's `User` (or `Profile`) id; a territory's (or its communities') "
        "badges go only to that territory's accounts."
    )
    reason: str = strawberry.field(description="Why: 1 to 500 characters, kept in its history.")


@strawberry.type(description="The result of `awardBadge`.")
class AwardBadgePayload:
    award: BadgeAward = strawberry.field(description="The award, valid from now.")
    renewed: bool = strawberry.field(
        description="True when the person already had it (valid, expired or revoked): it was "
        "renewed, keeping `awardedAt`."
    )


@strawberry.input(description="An award to revoke.")
class RevokeBadgeAwardInput:
    award: strawberry.ID = strawberry.field(description="The `BadgeAward`.")
    reason: str = strawberry.field(description="Why: 1 to 500 characters, shown to the holder.")


@strawberry.type(description="The result of `revokeBadgeAward`.")
class RevokeBadgeAwardPayload:
    award: BadgeAward = strawberry.field(description="The award, revoked.")
    revoked_now: bool = strawberry.field(
        description="False when it was revoked already (nothing changed)."
    )


def _reason(value: str) -> str:
    with input_field("reason"):
        return validate_reason(value)


async def award(
    info: Info,
    definition: DefinitionRecord,
    holder: tuple[str, uuid.UUID],
    *,
    source: str,
    reason: str,
) -> tuple[AwardRecord, bool]:
    """Award or renew ``definition`` to ``holder`` in one change of the holder's territory:
    history, audit and ``badge.awarded`` commit with it. Prerequisites are checked first."""
    territory_id, user_id = holder
    awards, found = await badge_access.held_awards(info, holder)
    held = [a.held(found[a.badge]) for a in awards if a.badge in found]
    now = info.context.clock()
    missing = missing_prerequisites(definition.prerequisites, held, now)
    if missing:
        error = MissingPrerequisites(
            "The recipient lacks valid prerequisites of this badge.", field="badge"
        )
        error.extra["missing"] = [badge_id(r) for r in missing]
        raise error
    async with territory_change(info, territory_id) as change:
        record, action = await badge_db.grant(
            change.conn,
            territory_id,
            user_id=user_id,
            definition=definition,
            now=now,
            source=source,
            reason=reason,
            actor=change.actor,
        )
        change.audit(
            AuditAction.BADGE_AWARDED if action == "awarded" else AuditAction.BADGE_RENEWED,
            target=str(record.id),
            details={"badge": ref_text(definition.ref), "version": definition.version},
        )
        change.emit(
            BadgeAwarded(
                territory_id=territory_id,
                award_id=record.id,
                user_id=user_id,
                badge_id=definition.ref.id,
                badge_home=TerritoryRef(definition.ref.home),
            )
        )
    return record, action == "renewed"


@strawberry.type
class BadgeAwardMutations:
    @strawberry.mutation(
        description="Award a badge to a person, or renew theirs (valid from now for the "
        "badge's validity; `awardedAt` kept). Who may: global admins for global badges, the "
        "territory's managers for its badges, a community's admins for its badges; FORBIDDEN "
        "otherwise. NOT_FOUND for an unknown badge or recipient; MISSING_PREREQUISITES (with "
        "`extensions.missing`, the `Badge` ids) when the recipient lacks valid prerequisites; "
        "BAD_USER_INPUT (recipient) for another territory's account, (reason) for an empty or "
        "long reason.",
        permission_classes=[IsAuthenticated],
    )
    async def award_badge(
        self,
        info: Info,
        input: Annotated[
            AwardBadgeInput, strawberry.argument(description="The badge, the recipient and why.")
        ],
    ) -> AwardBadgePayload:
        ref = _badge_ref(input.badge, field="badge")
        holder = person_of(input.recipient, field="recipient")
        reason = _reason(input.reason)
        definition = await badge_access.definition(info, ref)
        if definition is None:
            raise NotFound("No such badge.", field="badge")
        if not await _may_manage(info, definition.level, ref.home, definition.community_id):
            raise Forbidden("You may not award this badge.")
        if not recipient_allowed(ref.home, holder[0]):
            raise BadUserInput(
                "A territory's badges go only to that territory's accounts.", field="recipient"
            )
        user = await info.context.loaders.get(USER_BY_ID, holder[0]).load(holder[1])
        if user is None or user.status != "active":
            raise NotFound("No such account.", field="recipient")
        record, renewed = await award(info, definition, holder, source="manual", reason=reason)
        return AwardBadgePayload(
            award=BadgeAward.from_record(record, info.context.clock()), renewed=renewed
        )

    @strawberry.mutation(
        description="Revoke an award, with a reason; its permissions end at once (and those "
        "of badges requiring it). Who may: as `awardBadge`. NOT_FOUND for an award you cannot "
        "see; FORBIDDEN for one you see but may not revoke; BAD_USER_INPUT (reason).",
        permission_classes=[IsAuthenticated],
    )
    async def revoke_badge_award(
        self,
        info: Info,
        input: Annotated[
            RevokeBadgeAwardInput, strawberry.argument(description="The award and why.")
        ],
    ) -> RevokeBadgeAwardPayload:
        territory_id, award_id = key_of(input.award, "BadgeAward", field="award")
        reason = _reason(input.reason)
        record = await info.context.loaders.get(AWARD_BY_ID, territory_id).load(award_id)
        definition = None if record is None else await badge_access.definition(info, record.badge)
        caller = info.context.caller
        if record is None or definition is None:
            raise NotFound("No such award.", field="award")
        may = await _may_manage(info, definition.level, record.badge.home, definition.community_id)
        if not may:
            if can_read_account(caller, territory_id, record.user_id):
                raise Forbidden("You may not revoke this award.")
            raise NotFound("No such award.", field="award")
        async with territory_change(info, territory_id) as change:
            locked = await badge_db.lock_award(change.conn, territory_id, award_id)
            if locked is None:
                raise NotFound("No such award.", field="award")
            if locked.revoked_at is not None:
                return RevokeBadgeAwardPayload(
                    award=BadgeAward.from_record(locked, info.context.clock()), revoked_now=False
                )
            revoked = await badge_db.revoke(
                change.conn, locked, now=info.context.clock(), reason=reason, actor=change.actor
            )
            change.audit(AuditAction.BADGE_REVOKED, target=str(award_id), details={})
            change.emit(
                BadgeRevoked(
                    territory_id=territory_id,
                    award_id=award_id,
                    user_id=locked.user_id,
                    badge_id=locked.badge.id,
                    badge_home=TerritoryRef(locked.badge.home),
                )
            )
        return RevokeBadgeAwardPayload(
            award=BadgeAward.from_record(revoked, info.context.clock()), revoked_now=True
        )
