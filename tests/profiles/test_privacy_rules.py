"""Privacy rules one at a time. The visibility table is written out as text, not derived from
the code's enum values, so moving a circle's rank in domain/privacy.py fails here."""

from __future__ import annotations

import pytest

from domain.privacy import (
    DEFAULT_FIELD_VISIBILITY,
    DEFAULT_PRESET,
    NO_GRANTS,
    GroupGrants,
    ProfileField,
    Relation,
    Viewer,
    Visibility,
    can_see,
    effective_visibility,
    field_visible,
    parse_grants,
    parse_overrides,
    relation_of,
    visible_fields,
)

# Who sees what: rows are the viewer's relation, columns the visibility, Y = sees.
TABLE = """
                  only_me family friends community territory all_territories public
SELF              Y       Y      Y       Y         Y         Y               Y
FAMILY            -       Y      Y       Y         Y         Y               Y
FRIEND            -       -      Y       Y         Y         Y               Y
COMMUNITY         -       -      -       Y         Y         Y               Y
TERRITORY         -       -      -       -         Y         Y               Y
OTHER_TERRITORY   -       -      -       -         -         Y               Y
ANONYMOUS         -       -      -       -         -         -               Y
"""


def table() -> list[tuple[str, str, bool]]:
    header, *rows = TABLE.strip().splitlines()
    visibilities = header.split()
    return [
        (relation, visibility, mark == "Y")
        for relation, *marks in (row.split() for row in rows)
        for visibility, mark in zip(visibilities, marks, strict=True)
    ]


def test_table_covers_every_pair() -> None:
    assert len(table()) == 49
    assert {r for r, _, _ in table()} == {r.name for r in Relation}
    assert {v for _, v, _ in table()} == {v.value for v in Visibility}


@pytest.mark.parametrize(("relation", "visibility", "sees"), table())
def test_can_see(relation: str, visibility: str, sees: bool) -> None:
    assert can_see(Relation[relation], Visibility(visibility)) is sees


def test_defaults() -> None:
    assert DEFAULT_PRESET.value == "territory"
    assert {f.value: v.value for f, v in DEFAULT_FIELD_VISIBILITY.items()} == {
        "birthdate": "only_me"
    }


@pytest.mark.parametrize(
    ("viewer", "anonymous"),
    [
        (Viewer(), True),
        (Viewer("dk", None), True),
        (Viewer(None, "u1"), True),
        (Viewer("dk", "u1"), False),
    ],
)
def test_anonymous_viewers(viewer: Viewer, anonymous: bool) -> None:
    assert viewer.is_anonymous is anonymous


OWNER = {"owner_territory": "dk", "owner_id": "owner"}


@pytest.mark.parametrize(
    ("viewer", "groups", "community", "relation"),
    [
        (Viewer(), ("family",), True, "ANONYMOUS"),
        (Viewer("dk", None), (), False, "ANONYMOUS"),
        (Viewer("dk", "owner"), ("family",), True, "SELF"),
        (Viewer("se", "owner"), (), False, "OTHER_TERRITORY"),
        (Viewer("se", "v"), ("family",), False, "FAMILY"),
        (Viewer("dk", "v"), ("friends", "family"), True, "FAMILY"),
        (Viewer("se", "v"), ("friends",), False, "FRIEND"),
        (Viewer("dk", "v"), ("custom", "friends"), True, "FRIEND"),
        (Viewer("dk", "v"), ("custom",), True, "COMMUNITY"),
        (Viewer("dk", "v"), ("custom",), False, "TERRITORY"),
        (Viewer("dk", "v"), (), False, "TERRITORY"),
        (Viewer("se", "v"), (), True, "OTHER_TERRITORY"),
        (Viewer("se", "v"), ("custom",), False, "OTHER_TERRITORY"),
    ],
)
def test_relation_is_the_closest_that_holds(
    viewer: Viewer, groups: tuple[str, ...], community: bool, relation: str
) -> None:
    found = relation_of(
        viewer, **OWNER, owner_groups_holding_viewer=iter(groups), shares_community=community
    )
    assert found.name == relation


def test_relation_defaults_to_no_groups_and_no_community() -> None:
    assert relation_of(Viewer("dk", "v"), **OWNER).name == "TERRITORY"


@pytest.mark.parametrize(
    ("scopes", "profile", "fields"),
    [
        ([], False, set()),
        (["profile"], True, set()),
        (["profile", "bio"], True, {"bio"}),
        (["bio", "birthdate"], False, {"bio", "birthdate"}),
        (["nonsense", "bio"], False, {"bio"}),
        (["bio", "nonsense", "profile"], True, {"bio"}),
        (["profile", "bio", "bio", "nonsense", "social_links"], True, {"bio", "social_links"}),
        (["PROFILE", "Bio"], False, set()),  # scopes are case-sensitive; unknown ones grant nothing
    ],
)
def test_stored_grant_scopes(scopes: list[str], profile: bool, fields: set[str]) -> None:
    grants = parse_grants(iter(scopes))  # any iterable, read once
    assert (grants.profile, {f.value for f in grants.fields}) == (profile, fields)


def test_no_grants_grant_nothing() -> None:
    assert (NO_GRANTS.profile, NO_GRANTS.fields) == (False, frozenset())


def test_effective_visibility() -> None:
    overrides = {ProfileField.BIO: Visibility.PUBLIC}
    assert effective_visibility(ProfileField.BIO, Visibility.FAMILY, overrides).value == "public"
    assert effective_visibility(ProfileField.LOCATION, Visibility.FAMILY, overrides).value == (
        "family"
    )


BIO, LOCATION = ProfileField.BIO, ProfileField.LOCATION
OWN_BIO_FRIENDS = {BIO: Visibility.FRIENDS}


@pytest.mark.parametrize(
    ("field", "relation", "preset", "grants", "sees"),
    [
        # the field's own setting applies: the preset and the profile's groups do not
        (BIO, "FRIEND", "only_me", NO_GRANTS, True),
        (BIO, "COMMUNITY", "public", NO_GRANTS, False),
        (BIO, "COMMUNITY", "public", GroupGrants(profile=True), False),
        (BIO, "COMMUNITY", "only_me", GroupGrants(fields=frozenset({BIO})), True),
        (BIO, "COMMUNITY", "only_me", GroupGrants(fields=frozenset({LOCATION})), False),
        # no own setting: the preset and the profile's groups apply, a field's grant does not
        (LOCATION, "COMMUNITY", "community", NO_GRANTS, True),
        (LOCATION, "TERRITORY", "community", NO_GRANTS, False),
        (LOCATION, "TERRITORY", "community", GroupGrants(profile=True), True),
        (LOCATION, "TERRITORY", "community", GroupGrants(fields=frozenset({LOCATION})), False),
    ],
)
def test_field_visible(
    field: ProfileField, relation: str, preset: str, grants: GroupGrants, sees: bool
) -> None:
    visible = field_visible(field, Relation[relation], Visibility(preset), OWN_BIO_FRIENDS, grants)
    assert visible is sees


def test_field_visible_defaults_to_no_grants() -> None:
    assert field_visible(LOCATION, Relation.TERRITORY, Visibility.COMMUNITY, {}) is False
    assert field_visible(LOCATION, Relation.COMMUNITY, Visibility.COMMUNITY, {}) is True


def test_visible_fields() -> None:
    overrides = {ProfileField.BIRTHDATE: Visibility.ONLY_ME, BIO: Visibility.PUBLIC}
    seen = visible_fields(Relation.OTHER_TERRITORY, Visibility.TERRITORY, overrides)
    assert {f.value for f in seen} == {"bio"}
    seen = visible_fields(Relation.TERRITORY, Visibility.TERRITORY, overrides)
    assert {f.value for f in seen} == {
        "display_name",
        "bio",
        "location",
        "avatar",
        "primary_language",
        "languages",
        "preferred_translation_language",
        "social_links",
    }
    granted = GroupGrants(fields=frozenset({ProfileField.BIRTHDATE}))
    seen = visible_fields(Relation.ANONYMOUS, Visibility.ONLY_ME, overrides, granted)
    assert {f.value for f in seen} == {"bio", "birthdate"}


def test_stored_overrides_ignore_unknown_fields_and_hide_damaged_values() -> None:
    found = parse_overrides(
        {
            "nonsense": "public",
            "bio": "public",
            "location": "everyone",
            "avatar": 3,
            "languages": "family",
        }
    )
    assert {f.value: v.value for f, v in found.items()} == {
        "bio": "public",
        "location": "only_me",
        "avatar": "only_me",
        "languages": "family",
    }
    assert parse_overrides({}) == {}


R = Relation


def test_field_settings_override_the_preset() -> None:
    overrides = {ProfileField.BIO: Visibility.PUBLIC, ProfileField.LOCATION: Visibility.ONLY_ME}
    seen = visible_fields(R.ANONYMOUS, Visibility.ONLY_ME, overrides)
    assert seen == {ProfileField.BIO}
    seen = visible_fields(R.TERRITORY, Visibility.PUBLIC, overrides)
    assert seen == set(ProfileField) - {ProfileField.LOCATION}
    assert visible_fields(R.SELF, Visibility.ONLY_ME, overrides) == set(ProfileField)


F = ProfileField
V = Visibility


# (field has its own setting?, that setting admits the relation?, a field grant?, a profile
# grant?) -> visible. Written out: the setting that applies admits the viewer OR names their group.
GROUP_RULE = [
    # follows the profile: the preset, or the profile's groups
    (False, False, False, False, False),
    (False, True, False, False, True),
    (False, False, False, True, True),
    (False, False, True, False, False),  # a field grant without a field setting grants nothing
    (False, True, False, True, True),
    # its own setting: its visibility, or its own groups; the profile's groups do not reach it
    (True, False, False, False, False),
    (True, True, False, False, True),
    (True, False, True, False, True),
    (True, False, False, True, False),
    (True, True, False, True, True),
]


@pytest.mark.parametrize(("own", "admits", "field_grant", "profile_grant", "visible"), GROUP_RULE)
def test_groups_widen_the_setting_that_applies(
    own: bool, admits: bool, field_grant: bool, profile_grant: bool, visible: bool
) -> None:
    relation = R.TERRITORY
    setting = V.TERRITORY if admits else V.COMMUNITY
    preset = setting if not own else V.PUBLIC if not admits else V.ONLY_ME
    # A preset that would answer the other way proves the field's own setting is the one used.
    overrides = {F.BIO: setting} if own else {}
    grants = GroupGrants(
        profile=profile_grant, fields=frozenset({F.BIO}) if field_grant else frozenset()
    )
    assert field_visible(F.BIO, relation, preset, overrides, grants) is visible


def test_groups_only_ever_add_viewers() -> None:
    everything = [NO_GRANTS, GroupGrants(profile=True), GroupGrants(True, frozenset(F))]
    overrides = {F.BIO: V.ONLY_ME, F.LOCATION: V.PUBLIC}
    for relation in Relation:
        for preset in Visibility:
            without = visible_fields(relation, preset, overrides)
            for grants in everything:
                assert without <= visible_fields(relation, preset, overrides, grants)


def test_a_custom_group_member_sees_what_is_shared_with_it() -> None:
    """Same relation, member or not: the member sees the shared field, the other does not."""
    overrides = {F.BIRTHDATE: V.ONLY_ME, F.BIO: V.ONLY_ME}
    member = GroupGrants(fields=frozenset({F.BIO}))
    assert visible_fields(R.TERRITORY, V.ONLY_ME, overrides, member) == {F.BIO}
    assert visible_fields(R.TERRITORY, V.ONLY_ME, overrides) == set()
    # Shared at profile level: every field that follows the preset, never the birthdate.
    profile = GroupGrants(profile=True)
    assert visible_fields(R.OTHER_TERRITORY, V.ONLY_ME, overrides, profile) == (
        set(F) - {F.BIRTHDATE, F.BIO}
    )
    # A custom group sets no relation.
    me = Viewer("dk", "a")
    relation = relation_of(
        me, owner_territory="dk", owner_id="b", owner_groups_holding_viewer=["custom"]
    )
    assert relation is R.TERRITORY
