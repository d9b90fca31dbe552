"""Profiles: read anyone's (privacy-governed), change one's own. Validate, authorize, delegate.

Every change is the caller's to their own profile, in their own territory, through ONE
``territory_change``; the payload is read after it, so it shows the committed state.
"""

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
from domain.errors import BadUserInput, NotFound, input_field
from domain.events import ProfileUpdated
from domain.privacy import PROFILE_SCOPE, ProfileField, Visibility
from domain.profiles import (
    BIO_MAX,
    LOCATION_MAX,
    MAX_LANGUAGES,
    MAX_SOCIAL_LINKS,
    Channel,
    LanguageLevel,
    NotificationEvent,
    NotificationPreferences,
    quiet_hours,
    validate_bio,
    validate_birthdate,
    validate_language,
    validate_location,
    validate_social_link,
)
from domain.social_groups import MAX_GROUPS
from graph import ids
from graph.context import Info
from graph.permissions import IsAuthenticated, Public
from graph.types.profiles import (
    LanguageProficiency,
    NotificationPreferencesType,
    PrivacySettings,
    Profile,
    SocialLink,
    SocialPlatform,
    languages_of,
    own_sight,
    privacy_settings,
    profile_view,
    social_link_view,
    social_platforms,
)
from graph.types.relay import Node
from resolvers.common import key_of, person_of, territory_change
from resolvers.files import avatar_ref, set_avatar

KEEP = "Omit to keep the current value; null clears it."
GROUPS = (
    f"Your social groups (any kind, at most {MAX_GROUPS}) whose members also see it, whatever "
    "their relation to you: they replace the current list. Omit to keep it; null or [] shares "
    "with no group."
)
SIGNED_IN = "UNAUTHENTICATED without a login. "


async def social_link_node(info: Info, key: ids.NodeKey) -> Node | None:
    """``node`` on a SocialLink id: shown as ``Profile.socialLinks`` would show it."""
    return await social_link_view(info, key.territory_id, ids.parse_uuid(key.key))


# --- inputs and payloads


@strawberry.input(description="Profile changes. " + KEEP)
class UpdateProfileInput:
    display_name: str | None = strawberry.field(
        default=UNSET, description=f"1-{DISPLAY_NAME_MAX} characters; cannot be cleared."
    )
    bio: str | None = strawberry.field(
        default=UNSET, description=f"At most {BIO_MAX} characters; line breaks allowed."
    )
    location: str | None = strawberry.field(
        default=UNSET, description=f"At most {LOCATION_MAX} characters, one line."
    )
    birthdate: date | None = strawberry.field(
        default=UNSET, description="Not in the future, not before 1900-01-01."
    )
    avatar: strawberry.ID | None = strawberry.field(
        default=UNSET,
        description="The id of a `File` you uploaded with purpose AVATAR (`uploadFile`).",
    )
    primary_language: str | None = strawberry.field(
        default=UNSET, description="BCP 47 tag, e.g. `se` or `pt-BR`."
    )
    preferred_translation_language: str | None = strawberry.field(
        default=UNSET, description="BCP 47 tag: the language to translate content into."
    )


@strawberry.type(description="The result of `updateProfile`.")
class UpdateProfilePayload:
    profile: Profile = strawberry.field(description="Your profile after the change.")


@strawberry.input(description="Your profile's visibility preset and the groups it is shared with.")
class SetProfileVisibilityInput:
    visibility: Visibility = strawberry.field(
        description="The preset: what applies to every field without a setting of its own."
    )
    groups: list[strawberry.ID] | None = strawberry.field(default=UNSET, description=GROUPS)


@strawberry.type(description="The result of `setProfileVisibility`.")
class SetProfileVisibilityPayload:
    privacy: PrivacySettings = strawberry.field(description="Your privacy settings now.")


@strawberry.input(description="One field's own setting, or back to following the profile.")
class SetFieldVisibilityInput:
    field: ProfileField = strawberry.field(description="The profile field to set.")
    visibility: Visibility | None = strawberry.field(
        default=None,
        description="Its own visibility; null (the default) makes it follow the profile's preset "
        "and groups again, dropping its own groups.",
    )
    groups: list[strawberry.ID] | None = strawberry.field(
        default=UNSET,
        description=GROUPS + " Only with a visibility: naming groups for a field that follows "
        "the profile is BAD_USER_INPUT.",
    )


@strawberry.type(description="The result of `setFieldVisibility`.")
class SetFieldVisibilityPayload:
    privacy: PrivacySettings = strawberry.field(description="Your privacy settings now.")


@strawberry.input(description="A link to add: a known platform's URL, or `custom` with a label.")
class AddSocialLinkInput:
    platform: str = strawberry.field(description="A key of `socialPlatforms`, or `custom`.")
    url: str = strawberry.field(description="https only; a known platform's host must match it.")
    label: str | None = strawberry.field(
        default=None, description="Shown instead of the platform name; required for `custom`."
    )


@strawberry.type(description="The result of `addSocialLink`.")
class AddSocialLinkPayload:
    social_link: SocialLink = strawberry.field(description="The new link.")
    profile: Profile = strawberry.field(description="Your profile, the new link included.")


@strawberry.input(description="Which of your links to remove.")
class RemoveSocialLinkInput:
    id: strawberry.ID = strawberry.field(description="The `SocialLink` id.")


@strawberry.type(description="The result of `removeSocialLink`.")
class RemoveSocialLinkPayload:
    deleted_id: strawberry.ID = strawberry.field(description="The id of the removed link.")
    profile: Profile = strawberry.field(description="Your profile without the link.")


@strawberry.input(description="How well you speak a language, or null to remove it.")
class SetLanguageProficiencyInput:
    language: str = strawberry.field(description="BCP 47 tag, e.g. `sma` or `en-GB`.")
    level: LanguageLevel | None = strawberry.field(
        default=None, description="Your level; null (the default) removes the language."
    )


@strawberry.type(description="The result of `setLanguageProficiency`.")
class SetLanguageProficiencyPayload:
    languages: list[LanguageProficiency] = strawberry.field(
        description="All your languages after the change, best first."
    )
    profile: Profile = strawberry.field(description="Your profile after the change.")


@strawberry.input(description="Switch one event's channels; an omitted channel stays as it is.")
class NotificationToggleInput:
    event: NotificationEvent = strawberry.field(description="The event to switch.")
    email: bool | None = strawberry.field(
        default=None, description="True sends e-mails, false stops them; null keeps it."
    )
    push: bool | None = strawberry.field(
        default=None, description="True sends push notifications, false stops them; null keeps it."
    )


@strawberry.input(description="No push notifications between start and end (local time; may wrap).")
class QuietHoursInput:
    start: time = strawberry.field(description="Local time they begin; seconds are dropped.")
    end: time = strawberry.field(description="Local time they end; not equal to start.")
    time_zone: str = strawberry.field(description="IANA name, e.g. `Europe/Copenhagen`.")


@strawberry.input(description="Notification changes.")
class UpdateNotificationPreferencesInput:
    settings: list[NotificationToggleInput] = strawberry.field(
        default_factory=list, description="Channel switches, applied in order; [] changes none."
    )
    quiet_hours: QuietHoursInput | None = strawberry.field(default=UNSET, description=KEEP)


@strawberry.type(description="The result of `updateNotificationPreferences`.")
class UpdateNotificationPreferencesPayload:
    notification_preferences: NotificationPreferencesType = strawberry.field(
        description="Your notification settings now."
    )


# --- rules applied before a change


def _profile_changes(input: UpdateProfileInput, territory_id: str) -> dict[str, object]:
    """Validated column values of the fields the input names (``None`` clears)."""
    changes: dict[str, object] = {}
    if input.display_name is not UNSET:
        with input_field("displayName"):
            changes["display_name"] = validate_display_name(input.display_name)
    text_fields = (
        ("bio", input.bio, validate_bio),
        ("location", input.location, validate_location),
    )
    for column, value, check in text_fields:
        if value is not UNSET:
            with input_field(column):
                changes[column] = None if value is None else check(value)
    if input.birthdate is not UNSET:
        with input_field("birthdate"):
            changes["birthdate"] = (
                None
                if input.birthdate is None
                else validate_birthdate(input.birthdate, today=datetime.now(UTC).date())
            )
    if input.avatar is not UNSET:
        changes["avatar_ref"] = (
            None if input.avatar is None else avatar_ref(input.avatar, territory_id)
        )
    languages = (
        ("primary_language", "primaryLanguage", input.primary_language),
        (
            "preferred_translation_language",
            "preferredTranslationLanguage",
            input.preferred_translation_language,
        ),
    )
    for column, name, tag in languages:
        if tag is not UNSET:
            with input_field(name):
                changes[column] = None if tag is None else validate_language(tag)
    if not changes:
        raise BadUserInput("Name at least one field to change.")
    return changes


def _group_keys(territory_id: str, groups: list[strawberry.ID] | None) -> list[uuid.UUID]:
    """Distinct group keys of the caller's territory, in order; NOT_FOUND for another's."""
    keys: list[uuid.UUID] = []
    for value in groups or []:
        group_territory, key = key_of(value, "SocialGroup", field="groups")
        if group_territory != territory_id:
            raise NotFound("No such group.", field="groups")
        if key not in keys:
            if len(keys) == MAX_GROUPS:
                raise BadUserInput(f"Name at most {MAX_GROUPS} groups.", field="groups")
            keys.append(key)
    return keys


def _updated(territory_id: str, user_id: uuid.UUID, field: ProfileField) -> ProfileUpdated:
    return ProfileUpdated(territory_id=territory_id, user_id=user_id, fields=(field,))


async def _share(
    conn: AsyncConnection, owner: uuid.UUID, scope: str, keys: list[uuid.UUID]
) -> None:
    """Share ``scope`` with exactly these groups, every one the owner's (else NOT_FOUND)."""
    if keys:
        await group_db.ensure_defaults(conn, owner)  # Family and Friends may be named unwritten
        if await profile_db.owned_groups(conn, owner, keys) != set(keys):
            raise NotFound("No such group.", field="groups")
    await profile_db.replace_grants(conn, owner, scope, keys)


async def _own_profile(info: Info, territory_id: str, user_id: uuid.UUID) -> Profile:
    found = await profile_view(info, territory_id, user_id)
    assert found is not None, "an owner always sees their own profile"
    return found


async def _own_settings(info: Info, territory_id: str, user_id: uuid.UUID) -> PrivacySettings:
    sight = await own_sight(info, territory_id, user_id)
    assert sight is not None, "the caller is the owner"
    return await privacy_settings(info, sight.row)


@strawberry.type
class ProfileQueries:
    @strawberry.field(
        description="A person's profile by their User or Profile id, as their privacy settings "
        "let you see it; null when it shows you nothing (or there is no such person). "
        "BAD_USER_INPUT for an id of another type.",
        permission_classes=[Public],
    )
    async def profile(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A `User` or `Profile` id.")],
    ) -> Profile | None:
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
        description="Change your profile. "
        + SIGNED_IN
        + "BAD_USER_INPUT (`extensions.field` names the field) for an invalid value, and for an "
        "input naming no field.",
        permission_classes=[IsAuthenticated],
    )
    async def update_profile(
        self,
        info: Info,
        input: Annotated[UpdateProfileInput, strawberry.argument(description="What to change.")],
    ) -> UpdateProfilePayload:
        territory_id, user_id = info.context.caller.account()
        changes = _profile_changes(input, territory_id)
        async with territory_change(info, territory_id) as change:
            if "avatar_ref" in changes:
                await set_avatar(change.conn, territory_id, user_id, changes["avatar_ref"])
            await profile_db.update_fields(change.conn, user_id, changes)
            if changes:
                fields = tuple(ProfileField(column.removesuffix("_ref")) for column in changes)
                change.emit(
                    ProfileUpdated(territory_id=territory_id, user_id=user_id, fields=fields)
                )
        return UpdateProfilePayload(profile=await _own_profile(info, territory_id, user_id))

    @strawberry.mutation(
        description="Set your profile's visibility preset and, optionally, the groups it is also "
        "shared with; fields with their own setting keep theirs. "
        + SIGNED_IN
        + "BAD_USER_INPUT for a `groups` entry that is not a group id, or too many; NOT_FOUND "
        "for another person's group (nothing changes then).",
        permission_classes=[IsAuthenticated],
    )
    async def set_profile_visibility(
        self,
        info: Info,
        input: Annotated[
            SetProfileVisibilityInput, strawberry.argument(description="The new setting.")
        ],
    ) -> SetProfileVisibilityPayload:
        territory_id, user_id = info.context.caller.account()
        keys = None if input.groups is UNSET else _group_keys(territory_id, input.groups)
        async with territory_change(info, territory_id) as change:
            await profile_db.set_preset(change.conn, user_id, input.visibility)
            if keys is not None:
                await _share(change.conn, user_id, PROFILE_SCOPE, keys)
        return SetProfileVisibilityPayload(privacy=await _own_settings(info, territory_id, user_id))

    @strawberry.mutation(
        description="Give one field its own setting: a visibility and, optionally, groups. The "
        "field then ignores the profile's preset AND groups. Null visibility makes it follow the "
        "profile again (its own groups are dropped). "
        + SIGNED_IN
        + "BAD_USER_INPUT for groups named with a null visibility, a `groups` entry that is not a "
        "group id, or too many; NOT_FOUND for another person's group (nothing changes then).",
        permission_classes=[IsAuthenticated],
    )
    async def set_field_visibility(
        self,
        info: Info,
        input: Annotated[
            SetFieldVisibilityInput, strawberry.argument(description="The field and its setting.")
        ],
    ) -> SetFieldVisibilityPayload:
        territory_id, user_id = info.context.caller.account()
        keys: list[uuid.UUID] | None
        if input.visibility is None:
            if input.groups:
                raise BadUserInput(
                    "A field that follows the profile follows its groups too; give it a "
                    "visibility to share it with groups of its own.",
                    field="groups",
                )
            keys = []
        else:
            keys = None if input.groups is UNSET else _group_keys(territory_id, input.groups)
        async with territory_change(info, territory_id) as change:
            await profile_db.set_field_visibility(
                change.conn, user_id, input.field, input.visibility
            )
            if keys is not None:
                await _share(change.conn, user_id, input.field.value, keys)
        return SetFieldVisibilityPayload(privacy=await _own_settings(info, territory_id, user_id))

    @strawberry.mutation(
        description=f"Add a link to your profile (at most {MAX_SOCIAL_LINKS}). "
        + SIGNED_IN
        + "BAD_USER_INPUT (`extensions.field`: platform, url or label) for an unknown platform, "
        "a URL that is not https, not public or not the platform's, a custom link without a "
        "label; BAD_USER_INPUT without a field when you have as many links as allowed.",
        permission_classes=[IsAuthenticated],
    )
    async def add_social_link(
        self,
        info: Info,
        input: Annotated[AddSocialLinkInput, strawberry.argument(description="The link.")],
    ) -> AddSocialLinkPayload:
        territory_id, user_id = info.context.caller.account()
        platform, url, label = validate_social_link(input.platform, input.url, input.label)
        async with territory_change(info, territory_id) as change:
            if await profile_db.link_count(change.conn, user_id) >= MAX_SOCIAL_LINKS:
                raise BadUserInput(f"A profile has at most {MAX_SOCIAL_LINKS} links.")
            record = await profile_db.add_link(change.conn, user_id, platform, url, label)
            change.emit(_updated(territory_id, user_id, ProfileField.SOCIAL_LINKS))
        return AddSocialLinkPayload(
            social_link=SocialLink.from_record(territory_id, record),
            profile=await _own_profile(info, territory_id, user_id),
        )

    @strawberry.mutation(
        description="Remove one of your links. "
        + SIGNED_IN
        + "BAD_USER_INPUT for an id that is not a SocialLink id; NOT_FOUND for a link that is "
        "not yours (or no longer exists).",
        permission_classes=[IsAuthenticated],
    )
    async def remove_social_link(
        self,
        info: Info,
        input: Annotated[RemoveSocialLinkInput, strawberry.argument(description="The link.")],
    ) -> RemoveSocialLinkPayload:
        territory_id, user_id = info.context.caller.account()
        link_territory, link_id = key_of(input.id, "SocialLink", field="id")
        if link_territory != territory_id:
            raise NotFound("No such link.", field="id")
        async with territory_change(info, territory_id) as change:
            if not await profile_db.remove_link(change.conn, user_id, link_id):
                raise NotFound("No such link.", field="id")
            change.emit(_updated(territory_id, user_id, ProfileField.SOCIAL_LINKS))
        return RemoveSocialLinkPayload(
            deleted_id=input.id, profile=await _own_profile(info, territory_id, user_id)
        )

    @strawberry.mutation(
        description="Set how well you speak a language, or remove it (null level). "
        + SIGNED_IN
        + f"BAD_USER_INPUT (`extensions.field`: language) for a tag that is not BCP 47; "
        f"BAD_USER_INPUT without a field for a new language beyond {MAX_LANGUAGES}.",
        permission_classes=[IsAuthenticated],
    )
    async def set_language_proficiency(
        self,
        info: Info,
        input: Annotated[
            SetLanguageProficiencyInput, strawberry.argument(description="The language and level.")
        ],
    ) -> SetLanguageProficiencyPayload:
        territory_id, user_id = info.context.caller.account()
        with input_field("language"):
            tag = validate_language(input.language)
        level = input.level
        async with territory_change(info, territory_id) as change:
            conn = change.conn
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
            change.emit(_updated(territory_id, user_id, ProfileField.LANGUAGES))
        return SetLanguageProficiencyPayload(
            languages=await languages_of(info, territory_id, user_id),
            profile=await _own_profile(info, territory_id, user_id),
        )

    @strawberry.mutation(
        description="Switch notification channels per event and set or clear quiet hours. "
        + SIGNED_IN
        + "BAD_USER_INPUT (`extensions.field`: settings) for switching off security alerts by "
        "e-mail; (`quietHours`) for equal start and end, times with an offset or an unknown "
        "time zone.",
        permission_classes=[IsAuthenticated],
    )
    async def update_notification_preferences(
        self,
        info: Info,
        input: Annotated[
            UpdateNotificationPreferencesInput, strawberry.argument(description="What to change.")
        ],
    ) -> UpdateNotificationPreferencesPayload:
        territory_id, user_id = info.context.caller.account()
        toggles: dict[tuple[NotificationEvent, Channel], bool] = {}
        for toggle in input.settings:
            for channel, on in ((Channel.EMAIL, toggle.email), (Channel.PUSH, toggle.push)):
                if on is not None:
                    toggles[(toggle.event, channel)] = on
        quiet_input = input.quiet_hours
        with input_field("quietHours"):
            new_quiet = (
                None
                if quiet_input is None or quiet_input is UNSET
                else quiet_hours(quiet_input.start, quiet_input.end, quiet_input.time_zone)
            )
        async with territory_change(info, territory_id) as change:
            current = NotificationPreferences.from_json(
                await profile_db.notifications_for_update(change.conn, user_id)
            )
            quiet = current.quiet if quiet_input is UNSET else new_quiet
            with input_field("settings"):
                updated = current.with_changes(toggles, quiet)
            await profile_db.set_notifications(change.conn, user_id, updated.to_json())
        return UpdateNotificationPreferencesPayload(
            notification_preferences=NotificationPreferencesType.from_domain(updated)
        )
