"""Profiles as a viewer may see them, and the owner-only settings behind them.

Every path to a profile (``node``, ``profile``, ``User.profile``, community members, social group
members, any territory) goes through ``profile_view``: ONE batched read per territory fetches the
profiles together with the facts that decide the viewer's relation to each owner and the owner's
settings shared with groups holding the viewer, the relation and the visible fields are decided
once per profile (``domain.privacy``), and fields the viewer may not see are null before any
resolver runs. Lists (languages, social links) are only loaded for profiles whose owner lets the
viewer see them.
"""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncConnection

from db import profiles as profile_db
from db.profiles import ProfileRow, SocialLinkRecord
from db.social_groups import GroupRecord
from domain.privacy import (
    PROFILE_SCOPE,
    ProfileField,
    Relation,
    Viewer,
    Visibility,
    effective_visibility,
    relation_of,
    visible_fields,
)
from domain.profiles import (
    PLATFORMS,
    Channel,
    LanguageLevel,
    NotificationEvent,
    NotificationPreferences,
)
from graph import ids
from graph.context import Info
from graph.loaders.spec import Scope, TerritoryLoader
from graph.types.relay import Node, PersonKey, hub_type

if TYPE_CHECKING:
    from graph.types.accounts import User
    from graph.types.social_groups import SocialGroup

ACCOUNTS = "graph.types.accounts"
SOCIAL_GROUPS = "graph.types.social_groups"

VisibilityEnum = strawberry.enum(
    Visibility,
    name="Visibility",
    description=(
        "Who may see a profile or one of its fields, narrowest first: ONLY_ME; FAMILY and "
        "FRIENDS (the owner's social groups of those names, any territory); COMMUNITY (accounts "
        "of the owner's territory sharing a community with them); TERRITORY (accounts of the "
        "owner's territory); ALL_TERRITORIES (any account); PUBLIC (anyone, logged in or not). "
        "Each preset includes the narrower circles. A setting may also list the owner's social "
        "groups: their members see it too, whatever their relation."
    ),
)
ProfileFieldEnum = strawberry.enum(
    ProfileField, name="ProfileField", description="A profile field with its own visibility."
)
LanguageLevelEnum = strawberry.enum(
    LanguageLevel, name="LanguageLevel", description="CEFR level, or native speaker."
)
NotificationEventEnum = strawberry.enum(
    NotificationEvent, name="NotificationEvent", description="What a person can be notified about."
)

HIDDEN = " Null when the owner's privacy settings do not show it to you."


@strawberry.type(description="A language the person speaks, and how well.")
class LanguageProficiency:
    language: str = strawberry.field(description="BCP 47 tag, e.g. `se`, `sma`, `pt-BR`.")
    level: LanguageLevel


@strawberry.type(description="A link to the person elsewhere on the web.")
class SocialLink:
    id: strawberry.ID
    platform: str = strawberry.field(
        description="A key of `socialPlatforms`, or `custom` for any other https site."
    )
    url: str
    label: str | None = strawberry.field(description="Shown instead of the platform name.")

    @classmethod
    def from_record(cls, territory_id: str, record: SocialLinkRecord) -> SocialLink:
        return cls(
            id=strawberry.ID(ids.encode("SocialLink", territory_id, str(record.id))),
            platform=record.platform,
            url=record.url,
            label=record.label,
        )


@strawberry.type(description="A platform `addSocialLink` knows, with the hosts its links may use.")
class SocialPlatform:
    key: str
    name: str
    hosts: list[str] = strawberry.field(
        description="Allowed hosts; '.example.com' allows subdomains. Empty when federated."
    )
    federated: bool = strawberry.field(
        description="Any public host (Mastodon, PeerTube...); the link must name a profile path."
    )


def social_platforms() -> list[SocialPlatform]:
    return [
        SocialPlatform(key=p.key, name=p.name, hosts=list(p.hosts), federated=p.federated)
        for p in PLATFORMS.values()
    ]


@strawberry.type(
    description=(
        "A person's profile as YOU may see it. Every field but `id` and `territory` is null when "
        "the owner's privacy settings (preset, or the field's own setting) do not show it to "
        "you; a profile showing you nothing at all is itself null (or NOT_FOUND through `node`)."
    )
)
class Profile(Node):
    territory: str = strawberry.field(description="Code of the territory holding the account.")
    display_name: str | None = strawberry.field(description="The person's name." + HIDDEN)
    bio: str | None = strawberry.field(description="About the person." + HIDDEN)
    location: str | None = strawberry.field(description="Free-text location." + HIDDEN)
    birthdate: date | None = strawberry.field(
        description="Only the owner sees it unless they choose otherwise." + HIDDEN
    )
    avatar: str | None = strawberry.field(
        description="File reference (`ipfs://<CID>` or `file:<uuid>`)." + HIDDEN
    )
    primary_language: str | None = strawberry.field(description="BCP 47 tag." + HIDDEN)
    preferred_translation_language: str | None = strawberry.field(
        description="Language to translate content into (BCP 47)." + HIDDEN
    )
    user_id: strawberry.Private[uuid.UUID]
    visible: strawberry.Private[frozenset[ProfileField]]
    relation: strawberry.Private[Relation]

    @classmethod
    def build(
        cls, row: ProfileRow, visible: frozenset[ProfileField], relation: Relation
    ) -> Profile:
        """The profile with every hidden field already null: resolvers never see hidden values."""

        def shown(field: ProfileField, value: object) -> object:
            return value if field in visible else None

        return cls(
            id=strawberry.ID(ids.encode("Profile", row.territory_id, str(row.user_id))),
            territory=row.territory_id,
            display_name=shown(ProfileField.DISPLAY_NAME, row.display_name),  # type: ignore[arg-type]
            bio=shown(ProfileField.BIO, row.bio),  # type: ignore[arg-type]
            location=shown(ProfileField.LOCATION, row.location),  # type: ignore[arg-type]
            birthdate=shown(ProfileField.BIRTHDATE, row.birthdate),  # type: ignore[arg-type]
            avatar=shown(ProfileField.AVATAR, row.avatar),  # type: ignore[arg-type]
            primary_language=shown(ProfileField.PRIMARY_LANGUAGE, row.primary_language),  # type: ignore[arg-type]
            preferred_translation_language=shown(  # type: ignore[arg-type]
                ProfileField.PREFERRED_TRANSLATION_LANGUAGE, row.preferred_translation_language
            ),
            user_id=row.user_id,
            visible=visible,
            relation=relation,
        )

    @strawberry.field(description="Languages the person speaks, best first." + HIDDEN)
    async def languages(self, info: Info) -> list[LanguageProficiency] | None:
        if ProfileField.LANGUAGES not in self.visible:
            return None
        found = await languages_loader(info, self.territory).load(self.user_id)
        return [LanguageProficiency(language=lang, level=LanguageLevel(lvl)) for lang, lvl in found]

    @strawberry.field(description="Links to the person's other profiles." + HIDDEN)
    async def social_links(self, info: Info) -> list[SocialLink] | None:
        if ProfileField.SOCIAL_LINKS not in self.visible:
            return None
        found = await links_loader(info, self.territory).load(self.user_id)
        return [SocialLink.from_record(self.territory, r) for r in found]

    @strawberry.field(
        description="The account behind the profile: only for the owner and the territory's "
        "managers and moderators; null for everyone else."
    )
    async def user(self, info: Info) -> Annotated[User, strawberry.lazy(ACCOUNTS)] | None:
        user: Any = hub_type(ACCOUNTS, "User")
        found: User | None = await user.by_id(info, self.territory, self.user_id)
        return found


# --- the one path to a profile


def viewer_of(info: Info) -> Viewer:
    caller = info.context.caller
    return Viewer(caller.territory_id, caller.user_id)


async def _views(
    conn: AsyncConnection, scope: Scope, keys: list[uuid.UUID]
) -> list[ProfileRow | None]:
    caller = scope.caller
    found = await profile_db.views(
        conn, scope.territory_id, keys, Viewer(caller.territory_id, caller.user_id)
    )
    return [found.get(k) for k in keys]


PROFILE_VIEWS = TerritoryLoader("profiles.views", _views, missing=None)


def _row_loader(info: Info, territory_id: str) -> DataLoader[uuid.UUID, ProfileRow | None]:
    return info.context.loaders.get(PROFILE_VIEWS, territory_id)


async def profile_row(info: Info, territory_id: str, user_id: uuid.UUID) -> ProfileRow | None:
    """The active user's profile row as read for this request's viewer, or None."""
    row: ProfileRow | None = await _row_loader(info, territory_id).load(user_id)
    return None if row is None or row.status != "active" else row


def decide(info: Info, row: ProfileRow) -> tuple[Relation, frozenset[ProfileField]]:
    """The viewer's relation to the owner and the fields it may see: once per profile."""
    relation = relation_of(
        viewer_of(info),
        owner_territory=row.territory_id,
        owner_id=str(row.user_id),
        owner_groups_holding_viewer=row.viewer_group_kinds,
        shares_community=row.shares_community,
    )
    return relation, visible_fields(relation, row.preset, row.overrides, row.viewer_grants)


async def profile_view(info: Info, territory_id: str, user_id: uuid.UUID) -> Profile | None:
    """The profile as the caller may see it; None when it shows the caller nothing."""
    row = await profile_row(info, territory_id, user_id)
    if row is None:
        return None
    relation, visible = decide(info, row)
    if not visible:
        return None
    return Profile.build(row, visible, relation)


def forget(info: Info, territory_id: str, user_id: uuid.UUID) -> None:
    """Drop the request's cached reads of a profile after a mutation changed it."""
    _row_loader(info, territory_id).clear(user_id)
    languages_loader(info, territory_id).clear(user_id)
    links_loader(info, territory_id).clear(user_id)
    grants_loader(info, territory_id).clear(user_id)


async def _languages(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[list[tuple[str, str]]]:
    found = await profile_db.languages_of(conn, keys)
    return [found.get(k, []) for k in keys]


async def _links(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[list[SocialLinkRecord]]:
    found = await profile_db.links_of(conn, keys)
    return [found.get(k, []) for k in keys]


def languages_loader(info: Info, territory_id: str) -> DataLoader[uuid.UUID, list[tuple[str, str]]]:
    none: list[tuple[str, str]] = []
    return info.context.loaders.in_territory(territory_id, "languages", _languages, missing=none)


def links_loader(info: Info, territory_id: str) -> DataLoader[uuid.UUID, list[SocialLinkRecord]]:
    none: list[SocialLinkRecord] = []
    return info.context.loaders.in_territory(territory_id, "social_links", _links, missing=none)


# --- owner-only settings


@strawberry.type(description="One field's visibility: its own setting, or the profile's.")
class FieldVisibility:
    field: ProfileField
    visibility: Visibility = strawberry.field(description="What applies to the field now.")
    overridden: bool = strawberry.field(
        description="True when the field has its own setting (visibility and groups); false when "
        "it follows the profile's preset and groups."
    )
    groups: list[Annotated[SocialGroup, strawberry.lazy(SOCIAL_GROUPS)]] = strawberry.field(
        description="Your groups whose members see the field now, whatever their relation: "
        "its own groups, or the profile's when it follows the profile."
    )


@strawberry.type(description="The owner's privacy settings (only the owner ever sees them).")
class PrivacySettings:
    preset: Visibility
    groups: list[Annotated[SocialGroup, strawberry.lazy(SOCIAL_GROUPS)]] = strawberry.field(
        description="Your groups whose members see every field that follows the preset, "
        "whatever their relation."
    )
    fields: list[FieldVisibility]


async def _grants(
    conn: AsyncConnection, territory_id: str, keys: list[uuid.UUID]
) -> list[list[tuple[str, GroupRecord]]]:
    found = await profile_db.grants_of(conn, keys)
    return [found.get(k, []) for k in keys]


def grants_loader(
    info: Info, territory_id: str
) -> DataLoader[uuid.UUID, list[tuple[str, GroupRecord]]]:
    none: list[tuple[str, GroupRecord]] = []
    return info.context.loaders.in_territory(
        territory_id, "visibility_grants", _grants, missing=none
    )


async def privacy_settings(info: Info, row: ProfileRow) -> PrivacySettings:
    """The owner's settings with the groups each one is shared with (one batched read)."""
    group: type[SocialGroup] = hub_type(SOCIAL_GROUPS, "SocialGroup")
    by_scope: dict[str, list[SocialGroup]] = {}
    for scope, record in await grants_loader(info, row.territory_id).load(row.user_id):
        by_scope.setdefault(scope, []).append(group.from_record(row.territory_id, record))
    profile_groups = by_scope.get(PROFILE_SCOPE, [])
    return PrivacySettings(
        preset=row.preset,
        groups=profile_groups,
        fields=[
            FieldVisibility(
                field=f,
                visibility=effective_visibility(f, row.preset, row.overrides),
                overridden=f in row.overrides,
                groups=by_scope.get(f.value, []) if f in row.overrides else profile_groups,
            )
            for f in ProfileField
        ],
    )


@strawberry.type(description="Whether an event notifies by e-mail and by push.")
class NotificationSetting:
    event: NotificationEvent
    email: bool
    push: bool


@strawberry.type(
    name="QuietHours", description="No push notifications between start and end, local time."
)
class QuietHoursType:
    start: time
    end: time
    time_zone: str = strawberry.field(description="IANA name, e.g. `Europe/Copenhagen`.")


@strawberry.type(name="NotificationPreferences", description="The owner's notification settings.")
class NotificationPreferencesType:
    settings: list[NotificationSetting]
    quiet_hours: QuietHoursType | None

    @classmethod
    def from_domain(cls, prefs: NotificationPreferences) -> NotificationPreferencesType:
        quiet = prefs.quiet
        return cls(
            settings=[
                NotificationSetting(
                    event=e,
                    email=prefs.enabled(e, Channel.EMAIL),
                    push=prefs.enabled(e, Channel.PUSH),
                )
                for e in NotificationEvent
            ],
            quiet_hours=None
            if quiet is None
            else QuietHoursType(start=quiet.start, end=quiet.end, time_zone=quiet.time_zone),
        )


async def own_row(info: Info, territory_id: str, user_id: uuid.UUID) -> ProfileRow | None:
    """The profile row when the caller IS its owner; None for anyone else (managers included)."""
    caller = info.context.caller
    if caller.territory_id != territory_id or caller.user_id != str(user_id):
        return None
    return await profile_row(info, territory_id, user_id)


@strawberry.type
class PersonProfile(PersonKey):
    """A ``profile`` field for anything that names a person (members, group members, users)."""

    @strawberry.field(description="Their profile as they let you see it; null if nothing.")
    async def profile(self, info: Info) -> Profile | None:
        return await profile_view(info, self.territory_code, self.user_id)


@strawberry.type
class UserProfiles(PersonKey):
    """``User.profile``, ``User.privacy`` and ``User.notificationPreferences``."""

    @strawberry.field(
        description="The profile as its owner's privacy settings let you see it (all of it for "
        "the owner). Null when it shows you nothing."
    )
    async def profile(self, info: Info) -> Profile | None:
        return await profile_view(info, self.territory_code, self.user_id)

    @strawberry.field(
        description="Privacy preset, per-field settings and the groups they are shared with. "
        "Null unless you own it."
    )
    async def privacy(self, info: Info) -> PrivacySettings | None:
        row = await own_row(info, self.territory_code, self.user_id)
        return None if row is None else await privacy_settings(info, row)

    @strawberry.field(description="E-mail and push settings, quiet hours. Null unless you own it.")
    async def notification_preferences(self, info: Info) -> NotificationPreferencesType | None:
        row = await own_row(info, self.territory_code, self.user_id)
        if row is None:
            return None
        prefs = NotificationPreferences.from_json(row.notifications)
        return NotificationPreferencesType.from_domain(prefs)
