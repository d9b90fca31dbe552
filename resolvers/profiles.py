"""Profiles: read anyone's (privacy-governed), change one's own. Validate, authorize, delegate."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types.unset import UNSET

from db import profiles as profile_db
from db import social_groups as group_db
from domain.accounts import DISPLAY_NAME_MAX, validate_display_name
from domain.communities import MAX_CUSTOM_GROUPS
from domain.errors import BadUserInput, NotFound
from domain.privacy import PROFILE_SCOPE, ProfileField, Visibility
from domain.profiles import (
    MAX_LANGUAGES,
    MAX_SOCIAL_LINKS,
    Channel,
    LanguageLevel,
    NotificationEvent,
    NotificationPreferences,
    quiet_hours,
    validate_avatar,
    validate_bio,
    validate_birthdate,
    validate_language,
    validate_location,
    validate_social_link,
)
from graph.context import Info
from graph.permissions import IsAuthenticated, Public
from graph.types.profiles import (
    LanguageProficiency,
    NotificationPreferencesType,
    PrivacySettings,
    Profile,
    SocialLink,
    SocialPlatform,
    forget,
    languages_loader,
    own_row,
    privacy_settings,
    profile_view,
    social_platforms,
)
from resolvers.common import key_of, person_of, territory_transaction

KEEP = "Omit to keep the current value; null clears it."
MAX_SHARED_GROUPS = len(group_db.DEFAULT_GROUPS) + MAX_CUSTOM_GROUPS
GROUPS = (
    "Your social groups (any kind) whose members also see it, whatever their relation to you: "
    "they replace the current list. Omit to keep it; null or [] shares with no group. Another "
    "person's group is NOT_FOUND."
)


@strawberry.input(description="Profile changes. " + KEEP)
class UpdateProfileInput:
    display_name: str | None = strawberry.field(
        default=UNSET, description=f"1-{DISPLAY_NAME_MAX} characters; cannot be cleared."
    )
    bio: str | None = strawberry.field(default=UNSET, description="At most 2000 characters.")
    location: str | None = strawberry.field(default=UNSET, description="At most 200 characters.")
    birthdate: date | None = strawberry.field(default=UNSET, description="Not in the future.")
    avatar: str | None = strawberry.field(
        default=UNSET, description="A file reference: `ipfs://<CID>` or `file:<uuid>`."
    )
    primary_language: str | None = strawberry.field(default=UNSET, description="BCP 47 tag.")
    preferred_translation_language: str | None = strawberry.field(
        default=UNSET, description="BCP 47 tag."
    )


@strawberry.input(description="A link to add: a known platform's URL, or `custom` with a label.")
class SocialLinkInput:
    platform: str = strawberry.field(description="A key of `socialPlatforms`, or `custom`.")
    url: str = strawberry.field(description="https only; a known platform's host must match it.")
    label: str | None = strawberry.field(default=None, description="Required for `custom`.")


@strawberry.input(description="Switch one event's channels; an omitted channel stays as it is.")
class NotificationToggleInput:
    event: NotificationEvent
    email: bool | None = None
    push: bool | None = None


@strawberry.input(description="No push notifications between start and end (local time; may wrap).")
class QuietHoursInput:
    start: time
    end: time
    time_zone: str = strawberry.field(description="IANA name, e.g. `Europe/Copenhagen`.")


@strawberry.input(description="Notification changes.")
class NotificationPreferencesInput:
    settings: list[NotificationToggleInput] = strawberry.field(default_factory=list)
    quiet_hours: QuietHoursInput | None = strawberry.field(default=UNSET, description=KEEP)


def _profile_changes(input: UpdateProfileInput) -> dict[str, object]:
    """Validated column values of the fields the input names (``None`` clears)."""
    changes: dict[str, object] = {}
    if input.display_name is not UNSET:
        changes["display_name"] = validate_display_name(input.display_name)
    text_fields = (
        ("bio", input.bio, validate_bio),
        ("location", input.location, validate_location),
    )
    for column, value, check in text_fields:
        if value is not UNSET:
            changes[column] = None if value is None else check(value)
    if input.birthdate is not UNSET:
        changes["birthdate"] = (
            None
            if input.birthdate is None
            else validate_birthdate(input.birthdate, today=datetime.now(UTC).date())
        )
    if input.avatar is not UNSET:
        changes["avatar_ref"] = None if input.avatar is None else validate_avatar(input.avatar)
    languages = (
        ("primary_language", input.primary_language),
        ("preferred_translation_language", input.preferred_translation_language),
    )
    for column, tag in languages:
        if tag is not UNSET:
            changes[column] = None if tag is None else validate_language(tag)
    if not changes:
        raise BadUserInput("Name at least one field to change.")
    return changes


async def _own_profile(info: Info, territory_id: str, user_id: uuid.UUID) -> Profile:
    forget(info, territory_id, user_id)
    found = await profile_view(info, territory_id, user_id)
    assert found is not None, "an owner always sees their own profile"
    return found


async def _own_settings(info: Info, territory_id: str, user_id: uuid.UUID) -> PrivacySettings:
    forget(info, territory_id, user_id)
    row = await own_row(info, territory_id, user_id)
    assert row is not None, "the caller is the owner"
    return await privacy_settings(info, row)


def _group_keys(territory_id: str, groups: list[strawberry.ID] | None) -> list[uuid.UUID]:
    """Distinct group keys of the caller's territory, in order; NOT_FOUND for another's."""
    keys: list[uuid.UUID] = []
    for value in groups or []:
        group_territory, key = key_of(value, "SocialGroup")
        if group_territory != territory_id:
            raise NotFound("No such group.")
        if key not in keys:
            if len(keys) == MAX_SHARED_GROUPS:
                raise BadUserInput(f"Name at most {MAX_SHARED_GROUPS} groups.")
            keys.append(key)
    return keys


async def _share(
    conn: AsyncConnection, owner: uuid.UUID, scope: str, keys: list[uuid.UUID]
) -> None:
    """Share ``scope`` with exactly these groups, every one the owner's (else NOT_FOUND)."""
    if keys:
        await group_db.ensure_defaults(conn, owner)  # Family and Friends may be named unwritten
        if await profile_db.owned_groups(conn, owner, keys) != set(keys):
            raise NotFound("No such group.")
    await profile_db.replace_grants(conn, owner, scope, keys)


@strawberry.type
class ProfileQueries:
    @strawberry.field(
        description="A person's profile by their User or Profile id, as their privacy settings "
        "let you see it; null when it shows you nothing (or there is no such person).",
        permission_classes=[Public],
    )
    async def profile(self, info: Info, id: strawberry.ID) -> Profile | None:
        territory_id, user_id = person_of(id)
        return await profile_view(info, territory_id, user_id)

    @strawberry.field(
        description="Platforms `addSocialLink` accepts, with their allowed hosts.",
        permission_classes=[Public],
    )
    def social_platforms(self) -> list[SocialPlatform]:
        return social_platforms()


@strawberry.type
class ProfileMutations:
    @strawberry.mutation(
        description="Change your profile; returns it as you see it.",
        permission_classes=[IsAuthenticated],
    )
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> Profile:
        territory_id, user_id = info.context.caller.account()
        changes = _profile_changes(input)
        async with territory_transaction(info, territory_id) as conn:
            await profile_db.update_fields(conn, user_id, changes)
        return await _own_profile(info, territory_id, user_id)

    @strawberry.mutation(
        description="Set your profile's visibility preset and, optionally, the groups it is also "
        "shared with; fields with their own setting keep theirs.",
        permission_classes=[IsAuthenticated],
    )
    async def set_profile_visibility(
        self,
        info: Info,
        visibility: Visibility,
        groups: Annotated[list[strawberry.ID] | None, strawberry.argument(description=GROUPS)] = (
            UNSET
        ),
    ) -> PrivacySettings:
        territory_id, user_id = info.context.caller.account()
        keys = None if groups is UNSET else _group_keys(territory_id, groups)
        async with territory_transaction(info, territory_id) as conn:
            await profile_db.set_preset(conn, user_id, visibility)
            if keys is not None:
                await _share(conn, user_id, PROFILE_SCOPE, keys)
        return await _own_settings(info, territory_id, user_id)

    @strawberry.mutation(
        description="Give one field its own setting: a visibility and, optionally, groups. The "
        "field then ignores the profile's preset AND groups. Null visibility makes it follow the "
        "profile again (its own groups are dropped; naming groups then is BAD_USER_INPUT).",
        permission_classes=[IsAuthenticated],
    )
    async def set_field_visibility(
        self,
        info: Info,
        field: ProfileField,
        visibility: Visibility | None = None,
        groups: Annotated[list[strawberry.ID] | None, strawberry.argument(description=GROUPS)] = (
            UNSET
        ),
    ) -> PrivacySettings:
        territory_id, user_id = info.context.caller.account()
        if visibility is None:
            if groups:
                raise BadUserInput(
                    "A field that follows the profile follows its groups too; give it a "
                    "visibility to share it with groups of its own."
                )
            keys: list[uuid.UUID] | None = []
        else:
            keys = None if groups is UNSET else _group_keys(territory_id, groups)
        async with territory_transaction(info, territory_id) as conn:
            await profile_db.set_field_visibility(conn, user_id, field, visibility)
            if keys is not None:
                await _share(conn, user_id, field.value, keys)
        return await _own_settings(info, territory_id, user_id)

    @strawberry.mutation(
        description=f"Add a link to your profile (at most {MAX_SOCIAL_LINKS}).",
        permission_classes=[IsAuthenticated],
    )
    async def add_social_link(self, info: Info, input: SocialLinkInput) -> SocialLink:
        territory_id, user_id = info.context.caller.account()
        platform, url, label = validate_social_link(input.platform, input.url, input.label)
        async with territory_transaction(info, territory_id) as conn:
            if await profile_db.link_count(conn, user_id) >= MAX_SOCIAL_LINKS:
                raise BadUserInput(f"A profile has at most {MAX_SOCIAL_LINKS} links.")
            record = await profile_db.add_link(conn, user_id, platform, url, label)
        forget(info, territory_id, user_id)
        return SocialLink.from_record(territory_id, record)

    @strawberry.mutation(
        description="Remove one of your links; NOT_FOUND if it is not yours.",
        permission_classes=[IsAuthenticated],
    )
    async def remove_social_link(self, info: Info, id: strawberry.ID) -> bool:
        territory_id, user_id = info.context.caller.account()
        link_territory, link_id = key_of(id, "SocialLink")
        if link_territory != territory_id:
            raise NotFound("No such link.")
        async with territory_transaction(info, territory_id) as conn:
            if not await profile_db.remove_link(conn, user_id, link_id):
                raise NotFound("No such link.")
        forget(info, territory_id, user_id)
        return True

    @strawberry.mutation(
        description="Set how well you speak a language, or null to remove it; returns them all.",
        permission_classes=[IsAuthenticated],
    )
    async def set_language_proficiency(
        self, info: Info, language: str, level: LanguageLevel | None = None
    ) -> list[LanguageProficiency]:
        territory_id, user_id = info.context.caller.account()
        tag = validate_language(language)
        async with territory_transaction(info, territory_id) as conn:
            if (
                level is not None
                and await profile_db.language_count(conn, user_id) >= MAX_LANGUAGES
            ):
                known = {
                    t for t, _ in (await profile_db.languages_of(conn, [user_id])).get(user_id, [])
                }
                if tag not in known:
                    raise BadUserInput(f"A profile lists at most {MAX_LANGUAGES} languages.")
            await profile_db.set_language(
                conn, user_id, tag, None if level is None else level.value
            )
        forget(info, territory_id, user_id)
        found = await languages_loader(info, territory_id).load(user_id)
        return [LanguageProficiency(language=t, level=LanguageLevel(lv)) for t, lv in found]

    @strawberry.mutation(
        description="Switch notification channels per event and set or clear quiet hours.",
        permission_classes=[IsAuthenticated],
    )
    async def update_notification_preferences(
        self, info: Info, input: NotificationPreferencesInput
    ) -> NotificationPreferencesType:
        territory_id, user_id = info.context.caller.account()
        toggles: dict[tuple[NotificationEvent, Channel], bool] = {}
        for toggle in input.settings:
            for channel, on in ((Channel.EMAIL, toggle.email), (Channel.PUSH, toggle.push)):
                if on is not None:
                    toggles[(toggle.event, channel)] = on
        quiet_input = input.quiet_hours
        new_quiet = (
            None
            if quiet_input is None or quiet_input is UNSET
            else quiet_hours(quiet_input.start, quiet_input.end, quiet_input.time_zone)
        )
        async with territory_transaction(info, territory_id) as conn:
            current = NotificationPreferences.from_json(
                await profile_db.notifications_for_update(conn, user_id)
            )
            quiet = current.quiet if quiet_input is UNSET else new_quiet
            updated = current.with_changes(toggles, quiet)
            await profile_db.set_notifications(conn, user_id, updated.to_json())
        forget(info, territory_id, user_id)
        return NotificationPreferencesType.from_domain(updated)
