"""Who may see which part of a profile: visibility presets, viewer relations and ``can_see``.

The model is a set of nested circles around the owner. A viewer stands in exactly ONE relation to
the owner, the closest that holds (``relation_of``); a visibility names the widest circle that may
see. So ``can_see`` is a comparison, and a wider preset never shows less than a narrower one:

====================  ===================================================================
relation (closest)    holds when
====================  ===================================================================
``SELF``              the viewer is the owner
``FAMILY``            the viewer is in the owner's "Family" social group
``FRIEND``            the viewer is in the owner's "Friends" social group
``COMMUNITY``         same territory, and both are members of at least one same community
``TERRITORY``         an account of the owner's territory
``OTHER_TERRITORY``   an account of any other territory of the federation
``ANONYMOUS``         no account (not logged in)
====================  ===================================================================

Family and friends are circles of the owner's choosing and may hold people from other
territories. Territory roles (managers, moderators) do not widen what a profile shows: they read
accounts, not private profile fields.

A profile has one preset (``DEFAULT_PRESET`` until changed); each field may override it
(``field_visibility``), and field settings always win over the preset. Birthdates start as
``ONLY_ME`` (``DEFAULT_FIELD_VISIBILITY``) because they are the field most often abused.

Groups widen a setting: the profile's setting and each field's own setting are a visibility AND
a list of the owner's social groups (any of them: Family, Friends or custom). A viewer sees a
field when the visibility admits their relation OR they are a member of one of the setting's
groups (``field_visible``). A field with its own setting replaces the profile's setting whole,
groups included, exactly as its own visibility replaces the preset; a field without one follows
both. So sharing the profile with "Neighbours" never reaches a field the owner narrowed on its
own (the birthdate by default), unless that field lists the group too. Groups only ever add
viewers; they never hide from anyone the visibility admits. Deleting a group deletes what it
granted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import Enum, StrEnum


class Visibility(StrEnum):
    """The seven presets, narrowest first; each also applies to a single field."""

    ONLY_ME = "only_me"
    FAMILY = "family"
    FRIENDS = "friends"
    COMMUNITY = "community"
    TERRITORY = "territory"
    ALL_TERRITORIES = "all_territories"
    PUBLIC = "public"


class Relation(Enum):
    """The viewer's closest relation to the owner; the value is the circle's rank (0 = self)."""

    SELF = 0
    FAMILY = 1
    FRIEND = 2
    COMMUNITY = 3
    TERRITORY = 4
    OTHER_TERRITORY = 5
    ANONYMOUS = 6


# The widest relation each visibility admits.
_WIDEST: dict[Visibility, Relation] = {
    Visibility.ONLY_ME: Relation.SELF,
    Visibility.FAMILY: Relation.FAMILY,
    Visibility.FRIENDS: Relation.FRIEND,
    Visibility.COMMUNITY: Relation.COMMUNITY,
    Visibility.TERRITORY: Relation.TERRITORY,
    Visibility.ALL_TERRITORIES: Relation.OTHER_TERRITORY,
    Visibility.PUBLIC: Relation.ANONYMOUS,
}


class ProfileField(StrEnum):
    """Profile fields whose visibility the owner controls one by one."""

    DISPLAY_NAME = "display_name"
    BIO = "bio"
    LOCATION = "location"
    BIRTHDATE = "birthdate"
    AVATAR = "avatar"
    PRIMARY_LANGUAGE = "primary_language"
    LANGUAGES = "languages"
    PREFERRED_TRANSLATION_LANGUAGE = "preferred_translation_language"
    SOCIAL_LINKS = "social_links"


DEFAULT_PRESET = Visibility.TERRITORY
DEFAULT_FIELD_VISIBILITY: Mapping[ProfileField, Visibility] = {
    ProfileField.BIRTHDATE: Visibility.ONLY_ME
}


def can_see(relation: Relation, visibility: Visibility) -> bool:
    """Whether a viewer in ``relation`` to the owner may see what has ``visibility``."""
    return relation.value <= _WIDEST[visibility].value


@dataclass(frozen=True, slots=True)
class Viewer:
    """The caller as privacy sees them: an account (territory, user id) or nobody."""

    territory_id: str | None = None
    user_id: str | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.territory_id is None or self.user_id is None


def relation_of(
    viewer: Viewer,
    *,
    owner_territory: str,
    owner_id: str,
    owner_groups_holding_viewer: Iterable[str] = (),
    shares_community: bool = False,
) -> Relation:
    """The closest relation, from facts one batched query gathered about (viewer, owner).

    ``owner_groups_holding_viewer`` are the kinds (``family``, ``friends``, ``custom``) of the
    owner's groups the viewer is in (a custom group sets no relation: it grants through
    ``GroupGrants``); ``shares_community`` only counts inside one territory.
    """
    if viewer.is_anonymous:
        return Relation.ANONYMOUS
    if viewer.territory_id == owner_territory and viewer.user_id == owner_id:
        return Relation.SELF
    kinds = frozenset(owner_groups_holding_viewer)
    if "family" in kinds:
        return Relation.FAMILY
    if "friends" in kinds:
        return Relation.FRIEND
    if viewer.territory_id == owner_territory:
        return Relation.COMMUNITY if shares_community else Relation.TERRITORY
    return Relation.OTHER_TERRITORY


PROFILE_SCOPE = "profile"
"""The scope of a grant to the profile's own setting; a field's grants carry the field's value."""


@dataclass(frozen=True, slots=True)
class GroupGrants:
    """Which settings the owner shared with a group the viewer belongs to (for one viewer)."""

    profile: bool = False
    fields: frozenset[ProfileField] = frozenset()


NO_GRANTS = GroupGrants()


def parse_grants(scopes: Iterable[str]) -> GroupGrants:
    """Stored grant scopes (``profile`` or a field's value) to ``GroupGrants``.

    An unknown scope grants nothing: a damaged row can only ever hide more.
    """
    fields: set[ProfileField] = set()
    profile = False
    for scope in scopes:
        if scope == PROFILE_SCOPE:
            profile = True
            continue
        try:
            fields.add(ProfileField(scope))
        except ValueError:
            continue
    return GroupGrants(profile=profile, fields=frozenset(fields))


def effective_visibility(
    field: ProfileField, preset: Visibility, overrides: Mapping[ProfileField, Visibility]
) -> Visibility:
    """A field's own setting if it has one, else the profile's preset."""
    return overrides.get(field, preset)


def field_visible(
    field: ProfileField,
    relation: Relation,
    preset: Visibility,
    overrides: Mapping[ProfileField, Visibility],
    grants: GroupGrants = NO_GRANTS,
) -> bool:
    """The rule: the setting that applies (the field's own, else the profile's) admits the
    viewer's relation, or shares with one of the owner's groups the viewer is in."""
    own = overrides.get(field)
    if own is not None:
        return can_see(relation, own) or field in grants.fields
    return can_see(relation, preset) or grants.profile


def visible_fields(
    relation: Relation,
    preset: Visibility,
    overrides: Mapping[ProfileField, Visibility],
    grants: GroupGrants = NO_GRANTS,
) -> frozenset[ProfileField]:
    """Every field the viewer may see: decided once per (viewer, profile)."""
    return frozenset(
        f for f in ProfileField if field_visible(f, relation, preset, overrides, grants)
    )


def parse_overrides(stored: Mapping[str, object]) -> dict[ProfileField, Visibility]:
    """Stored field settings (JSON) to enums.

    Unknown fields are ignored; an unreadable value for a known field becomes ``ONLY_ME``, so a
    damaged row can only ever hide more, never show more.
    """
    found: dict[ProfileField, Visibility] = {}
    for key, value in stored.items():
        try:
            field = ProfileField(key)
        except ValueError:
            continue
        try:
            found[field] = Visibility(str(value))
        except ValueError:
            found[field] = Visibility.ONLY_ME
    return found
