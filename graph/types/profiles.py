"""Profiles as a viewer may see them, and the owner-only settings behind them.

Every path to a profile (``node``, ``profile``, ``User.profile``, community members, social group
members, any territory) goes through ``profile_view``: ONE batched read per territory
(``PROFILE_VIEWS``) fetches the profiles together with the facts that decide the viewer's
relation to each owner and decides, once per profile, the fields the viewer may see; fields the
viewer may not see are null before any resolver runs. Lists (languages, social links) are only
loaded for profiles whose owner lets the viewer see them.
"""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from db.profiles import ProfileRow, SocialLinkRecord
from domain.privacy import (
    PROFILE_SCOPE,
    ProfileField,
    Relation,
    Visibility,
    effective_visibility,
)
from domain.profiles import (
    DEFAULT_CHANNELS,
    MANDATORY,
    PLATFORMS,
    Channel,
    LanguageLevel,
    NotificationEvent,
    NotificationPreferences,
)
from graph import ids
from graph.context import Info
from graph.loaders.profiles import (
    LANGUAGES_OF_USER,
    PROFILE_VIEWS,
    SOCIAL_LINK,
    SOCIAL_LINKS_OF_USER,
    VISIBILITY_GRANTS_OF_OWNER,
    ProfileSight,
)
from graph.types.enums import described_enum
from graph.types.relay import Node, PersonKey, hub_type

if TYPE_CHECKING:
    from graph.types.accounts import User
    from graph.types.files import File
    from graph.types.social_groups import SocialGroup

ACCOUNTS = "graph.types.accounts"
FILES = "graph.types.files"
SOCIAL_GROUPS = "graph.types.social_groups"

VisibilityEnum = described_enum(
    Visibility,
    name="Visibility",
    description=(
        "Who may see a profile or one of its fields, narrowest first; each preset includes the "
        "narrower circles. A setting may also list the owner's social groups: their members see "
        "it too, whatever their relation."
    ),
    values={
        Visibility.ONLY_ME: "Only the owner.",
        Visibility.FAMILY: "The owner and the members of their Family group (any territory).",
        Visibility.FRIENDS: "FAMILY, and the members of the owner's Friends group (any territory).",
        Visibility.COMMUNITY: "FRIENDS, and accounts of the owner's territory that share a "
        "community with them.",
        Visibility.TERRITORY: "COMMUNITY, and every account of the owner's territory.",
        Visibility.ALL_TERRITORIES: "TERRITORY, and every account of any territory.",
        Visibility.PUBLIC: "Anyone, logged in or not.",
    },
)
ProfileFieldEnum = described_enum(
    ProfileField,
    name="ProfileField",
    description="A profile field with a visibility setting of its own.",
    values={
        ProfileField.DISPLAY_NAME: "`Profile.displayName`.",
        ProfileField.BIO: "`Profile.bio`.",
        ProfileField.LOCATION: "`Profile.location`.",
        ProfileField.BIRTHDATE: "`Profile.birthdate`; ONLY_ME until the owner sets it.",
        ProfileField.AVATAR: "`Profile.avatar`.",
        ProfileField.PRIMARY_LANGUAGE: "`Profile.primaryLanguage`.",
        ProfileField.LANGUAGES: "`Profile.languages`.",
        ProfileField.PREFERRED_TRANSLATION_LANGUAGE: "`Profile.preferredTranslationLanguage`.",
        ProfileField.SOCIAL_LINKS: "`Profile.socialLinks` (and `node` on a `SocialLink` id).",
    },
)
LanguageLevelEnum = described_enum(
    LanguageLevel,
    name="LanguageLevel",
    description="How well a person speaks a language: a CEFR level, or native speaker.",
    values={
        LanguageLevel.A1: "CEFR A1: beginner.",
        LanguageLevel.A2: "CEFR A2: elementary.",
        LanguageLevel.B1: "CEFR B1: intermediate.",
        LanguageLevel.B2: "CEFR B2: upper intermediate.",
        LanguageLevel.C1: "CEFR C1: advanced.",
        LanguageLevel.C2: "CEFR C2: proficient.",
        LanguageLevel.NATIVE: "A native speaker; ranks above C2.",
    },
)


def _defaults(event: NotificationEvent) -> str:
    """The event's default channels, read from the rules so the description cannot drift."""
    on = [c.value.replace("email", "e-mail") for c in Channel if c in DEFAULT_CHANNELS[event]]
    always = [c.value.replace("email", "e-mail") for c in Channel if (event, c) in MANDATORY]
    text = f" Default: {' and '.join(on) if on else 'off'}."
    if always:
        text += f" {' and '.join(always).capitalize()} cannot be switched off."
    return text


NotificationEventEnum = described_enum(
    NotificationEvent,
    name="NotificationEvent",
    description="What a person can be notified about, by e-mail and by push.",
    values={
        e: what + _defaults(e)
        for e, what in {
            NotificationEvent.MESSAGE_RECEIVED: "Someone sent you a message.",
            NotificationEvent.MENTIONED: "Someone mentioned you.",
            NotificationEvent.COMMUNITY_ACTIVITY: "Something new in one of your communities.",
            NotificationEvent.COMMUNITY_MEMBERSHIP: "Your membership or role in a community "
            "changed.",
            NotificationEvent.SOCIAL_GROUP_ADDED: "Someone added you to one of their social "
            "groups.",
            NotificationEvent.COURSE_UPDATE: "A course you take changed.",
            NotificationEvent.BADGE_AWARDED: "You were awarded a badge.",
            NotificationEvent.EVENT_REMINDER: "An event you attend is coming up.",
            NotificationEvent.SECURITY_ALERT: "Something happened to your account's security "
            "(a login, a password change).",
        }.items()
    },
)

HIDDEN = " Null when the owner's privacy settings do not show it to you."


@strawberry.type(description="A language the person speaks, and how well.")
class LanguageProficiency:
    language: str = strawberry.field(description="BCP 47 tag, e.g. `se`, `sma`, `pt-BR`.")
    level: LanguageLevel = strawberry.field(description="How well they speak it.")


@strawberry.type(
    description="A link to a person elsewhere on the web. Shown (also through `node`) to whoever "
    "the owner's privacy settings let see `Profile.socialLinks`."
)
class SocialLink(Node):
    platform: str = strawberry.field(
        description="A key of `socialPlatforms`, or `custom` for any other https site."
    )
    url: str = strawberry.field(description="The https URL, as the owner gave it.")
    label: str | None = strawberry.field(
        description="Shown instead of the platform name; null shows the platform's name. Always "
        "set for `custom` links."
    )

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
    key: str = strawberry.field(description="What `AddSocialLinkInput.platform` names it by.")
    name: str = strawberry.field(description="Its name, for display.")
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
    primary_language: str | None = strawberry.field(description="BCP 47 tag." + HIDDEN)
    preferred_translation_language: str | None = strawberry.field(
        description="Language to translate content into (BCP 47)." + HIDDEN
    )
    avatar_ref: strawberry.Private[str | None]
    user_id: strawberry.Private[uuid.UUID]
    visible: strawberry.Private[frozenset[ProfileField]]
    relation: strawberry.Private[Relation]

    @classmethod
    def build(cls, sight: ProfileSight) -> Profile:
        """The profile with every hidden field already null: resolvers never see hidden values."""
        row, visible = sight.row, sight.visible

        def shown(field: ProfileField, value: object) -> object:
            return value if field in visible else None

        return cls(
            id=strawberry.ID(ids.encode("Profile", row.territory_id, str(row.user_id))),
            territory=row.territory_id,
            display_name=shown(ProfileField.DISPLAY_NAME, row.display_name),  # type: ignore[arg-type]
            bio=shown(ProfileField.BIO, row.bio),  # type: ignore[arg-type]
            location=shown(ProfileField.LOCATION, row.location),  # type: ignore[arg-type]
            birthdate=shown(ProfileField.BIRTHDATE, row.birthdate),  # type: ignore[arg-type]
            avatar_ref=shown(ProfileField.AVATAR, row.avatar),  # type: ignore[arg-type]
            primary_language=shown(ProfileField.PRIMARY_LANGUAGE, row.primary_language),  # type: ignore[arg-type]
            preferred_translation_language=shown(  # type: ignore[arg-type]
                ProfileField.PREFERRED_TRANSLATION_LANGUAGE, row.preferred_translation_language
            ),
            user_id=row.user_id,
            visible=visible,
            relation=sight.relation,
        )

    @strawberry.field(
        description="The person's picture (a `File`: its `url` and 64/256 px `variants`)." + HIDDEN
    )
    async def avatar(self, info: Info) -> Annotated[File, strawberry.lazy(FILES)] | None:
        file: Any = hub_type(FILES, "File")
        found: File | None = await file.for_avatar(info, self.territory, self.avatar_ref)
        return found

    @strawberry.field(description="Languages the person speaks, best first." + HIDDEN)
    async def languages(self, info: Info) -> list[LanguageProficiency] | None:
        if ProfileField.LANGUAGES not in self.visible:
            return None
        return await languages_of(info, self.territory, self.user_id)

    @strawberry.field(description="Links to the person's other profiles, oldest first." + HIDDEN)
    async def social_links(self, info: Info) -> list[SocialLink] | None:
        if ProfileField.SOCIAL_LINKS not in self.visible:
            return None
        loader = info.context.loaders.get(SOCIAL_LINKS_OF_USER, self.territory)
        return [SocialLink.from_record(self.territory, r) for r in await loader.load(self.user_id)]

    @strawberry.field(
        description="The account behind the profile: only for the owner and the territory's "
        "managers and moderators; null for everyone else."
    )
    async def user(self, info: Info) -> Annotated[User, strawberry.lazy(ACCOUNTS)] | None:
        user: Any = hub_type(ACCOUNTS, "User")
        found: User | None = await user.by_id(info, self.territory, self.user_id)
        return found


async def languages_of(
    info: Info, territory_id: str, user_id: uuid.UUID
) -> list[LanguageProficiency]:
    """Every language of the person, unfiltered: callers decide visibility first."""
    found = await info.context.loaders.get(LANGUAGES_OF_USER, territory_id).load(user_id)
    return [LanguageProficiency(language=lang, level=LanguageLevel(lvl)) for lang, lvl in found]


# --- the one path to a profile


async def profile_sight(info: Info, territory_id: str, user_id: uuid.UUID) -> ProfileSight | None:
    """The active person's profile and what the caller may see of it; None for no such person."""
    sight: ProfileSight | None = await info.context.loaders.get(PROFILE_VIEWS, territory_id).load(
        user_id
    )
    return sight


async def profile_view(info: Info, territory_id: str, user_id: uuid.UUID) -> Profile | None:
    """The profile as the caller may see it; None when it shows the caller nothing."""
    sight = await profile_sight(info, territory_id, user_id)
    return None if sight is None or not sight.visible else Profile.build(sight)


async def social_link_view(info: Info, territory_id: str, link_id: uuid.UUID) -> SocialLink | None:
    """A link, if the owner's settings show the caller their links (as ``Profile.socialLinks``)."""
    record = await info.context.loaders.get(SOCIAL_LINK, territory_id).load(link_id)
    if record is None:
        return None
    sight = await profile_sight(info, territory_id, record.user_id)
    if sight is None or ProfileField.SOCIAL_LINKS not in sight.visible:
        return None
    return SocialLink.from_record(territory_id, record)


# --- owner-only settings


@strawberry.type(description="One field's visibility: its own setting, or the profile's.")
class FieldVisibility:
    field: ProfileField = strawberry.field(description="The profile field.")
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
    preset: Visibility = strawberry.field(
        description="The profile's visibility: what applies to every field without its own."
    )
    groups: list[Annotated[SocialGroup, strawberry.lazy(SOCIAL_GROUPS)]] = strawberry.field(
        description="Your groups whose members see every field that follows the preset, "
        "whatever their relation."
    )
    fields: list[FieldVisibility] = strawberry.field(
        description="Every profile field, in `ProfileField` order, with what applies to it."
    )


async def privacy_settings(info: Info, row: ProfileRow) -> PrivacySettings:
    """The owner's settings with the groups each one is shared with (one batched read)."""
    group: type[SocialGroup] = hub_type(SOCIAL_GROUPS, "SocialGroup")
    by_scope: dict[str, list[SocialGroup]] = {}
    grants = info.context.loaders.get(VISIBILITY_GRANTS_OF_OWNER, row.territory_id)
    for scope, record in await grants.load(row.user_id):
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
    event: NotificationEvent = strawberry.field(description="What happened.")
    email: bool = strawberry.field(description="True when it sends an e-mail.")
    push: bool = strawberry.field(
        description="True when it sends a push notification (not during quiet hours)."
    )


@strawberry.type(
    name="QuietHours",
    description="No push notifications between start and end, local time; wraps past midnight "
    "when end is before start.",
)
class QuietHoursType:
    start: time = strawberry.field(description="Local time they begin (minutes precision).")
    end: time = strawberry.field(description="Local time they end (minutes precision).")
    time_zone: str = strawberry.field(description="IANA name, e.g. `Europe/Copenhagen`.")


@strawberry.type(name="NotificationPreferences", description="The owner's notification settings.")
class NotificationPreferencesType:
    settings: list[NotificationSetting] = strawberry.field(
        description="Every event, in `NotificationEvent` order, with its channels."
    )
    quiet_hours: QuietHoursType | None = strawberry.field(description="Null: no quiet hours.")

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


async def own_sight(info: Info, territory_id: str, user_id: uuid.UUID) -> ProfileSight | None:
    """The profile when the caller IS its owner; None for anyone else (managers included)."""
    if not info.context.caller.is_account(territory_id, user_id):
        return None
    return await profile_sight(info, territory_id, user_id)


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
        sight = await own_sight(info, self.territory_code, self.user_id)
        return None if sight is None else await privacy_settings(info, sight.row)

    @strawberry.field(description="E-mail and push settings, quiet hours. Null unless you own it.")
    async def notification_preferences(self, info: Info) -> NotificationPreferencesType | None:
        sight = await own_sight(info, self.territory_code, self.user_id)
        if sight is None:
            return None
        prefs = NotificationPreferences.from_json(sight.row.notifications)
        return NotificationPreferencesType.from_domain(prefs)
