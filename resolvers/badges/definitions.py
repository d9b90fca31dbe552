"""Defining and editing badges: ``createBadge`` and ``updateBadge``, through the envelope of the
definition's home (``global_change`` for global badges, ``territory_change`` otherwise)."""

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
from domain.badges import (
    GLOBAL_HOME,
    AwardRule,
    BadgeContent,
    BadgeLevel,
    BadgeRef,
    Permission,
    PrerequisiteCycle,
    find_cycle,
    validate_content,
    validate_prerequisites,
)
from domain.errors import BadUserInput, Forbidden, NotFound, input_field
from domain.events import person_fields
from domain.territories import validate_territory_id
from graph import badge_access
from graph.context import Info
from graph.permissions import IsAuthenticated
from graph.types.badges import Badge, badge_id
from graph.types.communities import community_by_id
from resolvers.badges.common import badge_ref, community_key, may_manage
from resolvers.common import global_change, territory_change

T = TypeVar("T")


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


async def _prerequisites(
    info: Info, level: BadgeLevel, home: str, values: list[strawberry.ID]
) -> tuple[BadgeRef, ...]:
    refs = [badge_ref(v, field="prerequisites") for v in values]
    wanted = validate_prerequisites(level, home, refs)
    found = await badge_access.definitions(info, wanted)
    if len(found) != len(wanted):
        raise NotFound("No such prerequisite badge.", field="prerequisites")
    return wanted


def _known_events() -> set[str]:
    """Event types a rule may name: those that name the person they count for."""
    return set(person_fields())


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
        if not await may_manage(info, input.level, home, community):
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
        ref = badge_ref(input.id, field="id")
        current = await badge_access.definition(info, ref)
        if current is None:
            raise NotFound("No such badge.", field="id")
        if not await may_manage(info, current.level, ref.home, current.community_id):
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
