"""Profiles, language proficiencies and social links of a territory's users.

Callers pass a connection routed to the owner's territory. A user without a ``profiles`` row has
the defaults the row would be created with, so reads never write; the first change creates it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    false,
    func,
    literal,
    null,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import (
    community_memberships,
    language_proficiencies,
    profiles,
    social_group_members,
    social_groups,
    social_links,
    users,
    visibility_grants,
)
from db.social_groups import GROUP_COLUMNS, GroupRecord
from db.users import lock_owner
from domain.privacy import (
    DEFAULT_FIELD_VISIBILITY,
    DEFAULT_PRESET,
    GroupGrants,
    ProfileField,
    Viewer,
    Visibility,
    parse_grants,
    parse_overrides,
)


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """One profile with the facts that decide the viewer's relation to its owner.

    ``viewer_group_kinds``, ``viewer_grants`` and ``shares_community`` are about the request's
    viewer: the row is only meaningful for the viewer it was read for.
    """

    user_id: uuid.UUID
    territory_id: str
    status: str
    display_name: str
    bio: str | None
    location: str | None
    birthdate: date | None
    avatar: str | None
    primary_language: str | None
    preferred_translation_language: str | None
    preset: Visibility
    overrides: Mapping[ProfileField, Visibility]
    notifications: Mapping[str, Any]
    viewer_group_kinds: frozenset[str]
    viewer_grants: GroupGrants
    shares_community: bool

    def __repr__(self) -> str:  # keep personal data out of any accidental log line
        return f"ProfileRow(user_id={self.user_id}, territory_id={self.territory_id!r})"


def _preset(value: object) -> Visibility:
    try:
        return Visibility(str(value)) if value is not None else DEFAULT_PRESET
    except ValueError:
        return Visibility.ONLY_ME


def view_columns(territory_id: str, viewer: Viewer) -> list[ColumnElement[Any]]:
    """The columns of a profile as ``viewer`` reads it, over ``users`` outer-joined with
    ``profiles``: the profile and the viewer's relation facts, for ``view_of`` to map.

    A statement that already reads people (a member page) selects these beside its own columns,
    so their profiles come in the same statement. Correlated subqueries per row find the kinds
    of the owner's social groups that hold the viewer, the scopes (``profile`` or a field) the
    owner shared with such groups and, for a viewer of the same territory, whether the two share
    a community. All start from indexes (``ix_social_group_members_member``, the grants' primary
    key, ``ix_community_memberships_user_id``).
    """
    kinds: ColumnElement[Any]
    scopes: ColumnElement[Any]
    shares: ColumnElement[Any]
    if viewer.is_anonymous:
        kinds, scopes, shares = null(), null(), false()
    else:
        viewer_id = uuid.UUID(str(viewer.user_id))
        kinds = (
            select(func.array_agg(social_groups.c.kind))
            .select_from(
                social_groups.join(
                    social_group_members, social_group_members.c.group_id == social_groups.c.id
                )
            )
            .where(
                social_groups.c.owner_id == users.c.id,
                social_group_members.c.member_territory == viewer.territory_id,
                social_group_members.c.member_user_id == viewer_id,
            )
            .correlate(users)
            .scalar_subquery()
        )
        scopes = (
            select(func.array_agg(visibility_grants.c.scope.distinct()))
            .select_from(
                social_group_members.join(
                    social_groups, social_groups.c.id == social_group_members.c.group_id
                ).join(
                    visibility_grants,
                    visibility_grants.c.group_id == social_group_members.c.group_id,
                )
            )
            .where(
                social_groups.c.owner_id == users.c.id,
                social_group_members.c.member_territory == viewer.territory_id,
                social_group_members.c.member_user_id == viewer_id,
            )
            .correlate(users)
            .scalar_subquery()
        )
        if viewer.territory_id == territory_id:
            mine = community_memberships.alias("mine")
            theirs = community_memberships.alias("theirs")
            shares = (
                exists()
                .where(
                    theirs.c.user_id == users.c.id,
                    mine.c.community_id == theirs.c.community_id,
                    mine.c.user_id == viewer_id,
                )
                .correlate(users)
            )
        else:
            shares = false()
    return [
        users.c.id,
        users.c.status,
        users.c.display_name,
        profiles.c.bio,
        profiles.c.location,
        profiles.c.birthdate,
        profiles.c.avatar_ref,
        profiles.c.primary_language,
        profiles.c.preferred_translation_language,
        profiles.c.visibility,
        profiles.c.field_visibility,
        profiles.c.notification_preferences,
        kinds.label("kinds"),
        scopes.label("scopes"),
        shares.label("shares"),
    ]


PEOPLE = users.outerjoin(profiles, profiles.c.user_id == users.c.id)
"""What ``view_columns`` read from: a person and their profile row, if they have one yet."""


def view_of(territory_id: str, row: Any) -> ProfileRow:
    """A row selected with ``view_columns`` as a ``ProfileRow``."""
    has_profile = row.visibility is not None
    return ProfileRow(
        user_id=row.id,
        territory_id=territory_id,
        status=str(row.status),
        display_name=str(row.display_name),
        bio=row.bio,
        location=row.location,
        birthdate=row.birthdate,
        avatar=row.avatar_ref,
        primary_language=row.primary_language,
        preferred_translation_language=row.preferred_translation_language,
        preset=_preset(row.visibility),
        overrides=(
            parse_overrides(row.field_visibility or {})
            if has_profile
            else dict(DEFAULT_FIELD_VISIBILITY)
        ),
        notifications=row.notification_preferences or {},
        viewer_group_kinds=frozenset(row.kinds or ()),
        viewer_grants=parse_grants(row.scopes or ()),
        shares_community=bool(row.shares),
    )


async def views(
    conn: AsyncConnection, territory_id: str, ids: Sequence[uuid.UUID], viewer: Viewer
) -> dict[uuid.UUID, ProfileRow]:
    """Profiles of ``ids`` and the viewer's relation facts, in ONE statement."""
    query = (
        select(*view_columns(territory_id, viewer))
        .select_from(PEOPLE)
        .where(users.c.id.in_(list(ids)))
    )
    return {row.id: view_of(territory_id, row) for row in await conn.execute(query)}


async def ensure(conn: AsyncConnection, user_id: uuid.UUID) -> None:
    """Create the profile row with its defaults if the user has none yet."""
    await conn.execute(
        pg_insert(profiles)
        .values(user_id=user_id)
        .on_conflict_do_nothing(index_elements=["user_id"])
    )


async def update_fields(
    conn: AsyncConnection, user_id: uuid.UUID, values: Mapping[str, object]
) -> None:
    """Write profile columns (and ``display_name`` on the account); absent keys stay as they are."""
    values = dict(values)
    display_name = values.pop("display_name", None)
    if display_name is not None:
        await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(display_name=display_name, updated_at=func.now())
        )
    if values:
        await ensure(conn, user_id)
        await conn.execute(
            update(profiles)
            .where(profiles.c.user_id == user_id)
            .values(**values, updated_at=func.now())
        )


async def set_preset(conn: AsyncConnection, user_id: uuid.UUID, preset: Visibility) -> None:
    await update_fields(conn, user_id, {"visibility": preset.value})


async def set_field_visibility(
    conn: AsyncConnection,
    user_id: uuid.UUID,
    field: ProfileField,
    visibility: Visibility | None,
) -> None:
    """Override one field (``visibility``) or let it follow the preset again (``None``)."""
    await ensure(conn, user_id)
    column = profiles.c.field_visibility
    changed = (
        column.op("-", return_type=JSONB)(literal(field.value))
        if visibility is None
        else column.op("||", return_type=JSONB)(
            func.jsonb_build_object(literal(field.value), literal(visibility.value))
        )
    )
    await conn.execute(
        update(profiles)
        .where(profiles.c.user_id == user_id)
        .values(field_visibility=changed, updated_at=func.now())
    )


# --- visibility grants: settings shared with the owner's social groups


async def grants_of(
    conn: AsyncConnection, owner_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, GroupRecord]]]:
    """(scope, group) of every grant of each owner, groups in display order, in one statement."""
    rows = await conn.execute(
        select(visibility_grants.c.scope, *GROUP_COLUMNS)
        .select_from(
            visibility_grants.join(
                social_groups, social_groups.c.id == visibility_grants.c.group_id
            )
        )
        .where(social_groups.c.owner_id.in_(list(owner_ids)))
        .order_by(
            social_groups.c.owner_id,
            visibility_grants.c.scope,
            (social_groups.c.kind == "custom"),
            social_groups.c.kind,
            func.lower(social_groups.c.name),
        )
    )
    found: dict[uuid.UUID, list[tuple[str, GroupRecord]]] = {}
    for scope, *group in rows:
        record = GroupRecord(*group)
        found.setdefault(record.owner_id, []).append((str(scope), record))
    return found


async def owned_groups(
    conn: AsyncConnection, owner_id: uuid.UUID, group_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``group_ids`` are the owner's; key-share locked so none is deleted under us."""
    rows = await conn.execute(
        select(social_groups.c.id)
        .where(social_groups.c.id.in_(list(group_ids)), social_groups.c.owner_id == owner_id)
        .with_for_update(read=True, key_share=True)
    )
    return set(rows.scalars())


async def replace_grants(
    conn: AsyncConnection, owner_id: uuid.UUID, scope: str, group_ids: Sequence[uuid.UUID]
) -> None:
    """Share ``scope`` with exactly ``group_ids`` (the caller checked they are the owner's)."""
    await conn.execute(
        delete(visibility_grants).where(
            visibility_grants.c.scope == scope,
            visibility_grants.c.group_id.in_(
                select(social_groups.c.id).where(social_groups.c.owner_id == owner_id)
            ),
        )
    )
    if group_ids:
        await conn.execute(
            visibility_grants.insert().values([{"group_id": g, "scope": scope} for g in group_ids])
        )


async def set_notifications(
    conn: AsyncConnection, user_id: uuid.UUID, stored: Mapping[str, Any]
) -> None:
    await update_fields(conn, user_id, {"notification_preferences": dict(stored)})


# --- language proficiencies


async def languages_of(
    conn: AsyncConnection, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """(language tag, level) per user, most proficient first, in one statement."""
    rows = await conn.execute(
        select(
            language_proficiencies.c.user_id,
            language_proficiencies.c.language,
            language_proficiencies.c.level,
        )
        .where(language_proficiencies.c.user_id.in_(list(user_ids)))
        .order_by(
            language_proficiencies.c.user_id,
            language_proficiencies.c.level.desc(),
            language_proficiencies.c.language,
        )
    )
    found: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for user_id, language, level in rows:
        found.setdefault(user_id, []).append((str(language), str(level)))
    return found


async def set_language(
    conn: AsyncConnection, user_id: uuid.UUID, language: str, level: str | None
) -> None:
    if level is None:
        await conn.execute(
            delete(language_proficiencies).where(
                language_proficiencies.c.user_id == user_id,
                language_proficiencies.c.language == language,
            )
        )
        return
    statement = pg_insert(language_proficiencies).values(
        user_id=user_id, language=language, level=level
    )
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "language"],
            set_={"level": statement.excluded.level, "updated_at": func.now()},
        )
    )


async def language_count(conn: AsyncConnection, user_id: uuid.UUID) -> int:
    """How many languages the person lists, counted under their row lock (``lock_owner``), so
    the limit checked against it holds under concurrency until the transaction ends."""
    await lock_owner(conn, user_id)
    query = select(func.count()).where(language_proficiencies.c.user_id == user_id)
    return int((await conn.execute(query)).scalar_one())


# --- social links


@dataclass(frozen=True, slots=True)
class SocialLinkRecord:
    id: uuid.UUID
    user_id: uuid.UUID
    platform: str
    url: str
    label: str | None
    created_at: datetime


_LINK_COLUMNS = (
    social_links.c.id,
    social_links.c.user_id,
    social_links.c.platform,
    social_links.c.url,
    social_links.c.label,
    social_links.c.created_at,
)


async def links_of(
    conn: AsyncConnection, user_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[SocialLinkRecord]]:
    rows = await conn.execute(
        select(*_LINK_COLUMNS)
        .where(social_links.c.user_id.in_(list(user_ids)))
        .order_by(social_links.c.user_id, social_links.c.created_at, social_links.c.id)
    )
    found: dict[uuid.UUID, list[SocialLinkRecord]] = {}
    for row in rows:
        found.setdefault(row.user_id, []).append(SocialLinkRecord(*row))
    return found


async def links_by_ids(
    conn: AsyncConnection, link_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, SocialLinkRecord]:
    rows = await conn.execute(select(*_LINK_COLUMNS).where(social_links.c.id.in_(list(link_ids))))
    return {row.id: SocialLinkRecord(*row) for row in rows}


async def link_count(conn: AsyncConnection, user_id: uuid.UUID) -> int:
    """How many links the person has, counted under their row lock (``lock_owner``)."""
    await lock_owner(conn, user_id)
    query = select(func.count()).where(social_links.c.user_id == user_id)
    return int((await conn.execute(query)).scalar_one())


async def add_link(
    conn: AsyncConnection, user_id: uuid.UUID, platform: str, url: str, label: str | None
) -> SocialLinkRecord:
    row = (
        await conn.execute(
            social_links.insert()
            .values(id=uuid.uuid4(), user_id=user_id, platform=platform, url=url, label=label)
            .returning(*_LINK_COLUMNS)
        )
    ).one()
    return SocialLinkRecord(*row)


async def remove_link(conn: AsyncConnection, user_id: uuid.UUID, link_id: uuid.UUID) -> bool:
    """Delete one of the user's links; False when it is not theirs or does not exist."""
    result = await conn.execute(
        delete(social_links).where(social_links.c.id == link_id, social_links.c.user_id == user_id)
    )
    return bool(result.rowcount)


async def notifications_for_update(conn: AsyncConnection, user_id: uuid.UUID) -> dict[str, Any]:
    """The stored notification settings, row locked until the transaction ends."""
    await ensure(conn, user_id)
    found = (
        await conn.execute(
            select(profiles.c.notification_preferences)
            .where(profiles.c.user_id == user_id)
            .with_for_update()
        )
    ).scalar_one()
    return dict(found or {})
