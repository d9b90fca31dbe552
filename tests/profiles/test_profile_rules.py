"""The privacy and profile rules (domain/privacy.py, domain/profiles.py), without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from domain.errors import BadUserInput
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
    field_visible,
    parse_grants,
    parse_overrides,
    relation_of,
    visible_fields,
)
from domain.profiles import (
    PLATFORMS,
    Channel,
    NotificationEvent,
    NotificationPreferences,
    quiet_hours,
    validate_avatar,
    validate_birthdate,
    validate_language,
    validate_social_link,
    validate_time_zone,
)

R = Relation
# visibility -> relations that may see, written out (not derived from the code).
TABLE = {
    Visibility.ONLY_ME: {R.SELF},
    Visibility.FAMILY: {R.SELF, R.FAMILY},
    Visibility.FRIENDS: {R.SELF, R.FAMILY, R.FRIEND},
    Visibility.COMMUNITY: {R.SELF, R.FAMILY, R.FRIEND, R.COMMUNITY},
    Visibility.TERRITORY: {R.SELF, R.FAMILY, R.FRIEND, R.COMMUNITY, R.TERRITORY},
    Visibility.ALL_TERRITORIES: set(R) - {R.ANONYMOUS},
    Visibility.PUBLIC: set(R),
}


@pytest.mark.parametrize("visibility", list(Visibility))
@pytest.mark.parametrize("relation", list(Relation))
def test_can_see_table(visibility: Visibility, relation: Relation) -> None:
    assert can_see(relation, visibility) is (relation in TABLE[visibility])


def test_seven_presets() -> None:
    assert len(Visibility) == 7


ARGS = {"owner_territory": "dk", "owner_id": "b"}


def test_no_account_is_anonymous() -> None:
    assert relation_of(Viewer(), **ARGS) is R.ANONYMOUS


def test_the_owner_is_self() -> None:
    assert relation_of(Viewer("dk", "b"), **ARGS) is R.SELF


def test_family_is_closer_than_friends() -> None:
    me = Viewer("dk", "a")
    assert relation_of(me, **ARGS, owner_groups_holding_viewer=["friends", "family"]) is R.FAMILY


def test_a_custom_group_sets_no_relation() -> None:
    me = Viewer("dk", "a")
    assert relation_of(me, **ARGS, owner_groups_holding_viewer=["custom"]) is R.TERRITORY


def test_a_shared_community_counts_inside_the_territory_only() -> None:
    assert relation_of(Viewer("dk", "a"), **ARGS, shares_community=True) is R.COMMUNITY
    assert relation_of(Viewer("se", "a"), **ARGS) is R.OTHER_TERRITORY
    assert relation_of(Viewer("se", "a"), **ARGS, shares_community=True) is R.OTHER_TERRITORY


def test_friends_of_another_territory_are_friends() -> None:
    viewer = Viewer("se", "a")
    assert relation_of(viewer, **ARGS, owner_groups_holding_viewer=["friends"]) is R.FRIEND


def test_the_same_user_id_in_another_territory_is_another_person() -> None:
    assert relation_of(Viewer("se", "b"), **ARGS) is R.OTHER_TERRITORY


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


def test_stored_grant_scopes() -> None:
    assert parse_grants([]) == NO_GRANTS
    assert parse_grants(["profile", "bio", "bio", "nonsense", "social_links"]) == GroupGrants(
        profile=True, fields=frozenset({F.BIO, F.SOCIAL_LINKS})
    )
    assert parse_grants(["PROFILE", "Bio"]) == NO_GRANTS  # unknown scopes grant nothing


def test_defaults_and_damaged_settings_hide() -> None:
    assert DEFAULT_PRESET is Visibility.TERRITORY
    assert DEFAULT_FIELD_VISIBILITY == {ProfileField.BIRTHDATE: Visibility.ONLY_ME}
    parsed = parse_overrides({"bio": "nonsense", "unknown": "public", "location": "public"})
    assert parsed == {
        ProfileField.BIO: Visibility.ONLY_ME,
        ProfileField.LOCATION: Visibility.PUBLIC,
    }


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [
        ("en", "en"),
        ("SE", "se"),
        ("sma", "sma"),
        ("sr-latn", "sr-Latn"),
        ("pt-br", "pt-BR"),
        ("es-419", "es-419"),
        ("zh-Hant-TW", "zh-Hant-TW"),
    ],
)
def test_language_tags(tag: str, canonical: str) -> None:
    assert validate_language(tag) == canonical


@pytest.mark.parametrize(
    "tag", ["", "english", "xx", "en-XX", "en-Abcd", "en_GB", "en-GB-x-private"]
)
def test_bad_language_tags(tag: str) -> None:
    with pytest.raises(BadUserInput):
        validate_language(tag)


def test_thirty_plus_platforms() -> None:
    assert len(PLATFORMS) >= 30


@pytest.mark.parametrize(
    ("platform", "url"),
    [
        ("github", "https://github.com/someone"),
        ("x", "https://twitter.com/someone"),
        ("youtube", "https://youtu.be/abc"),
        ("substack", "https://someone.substack.com/"),
        ("mastodon", "https://mastodon.social/@someone"),
        ("linkedin", "https://www.linkedin.com/in/someone"),
        ("custom", "https://example.org/me"),
    ],
)
def test_good_links(platform: str, url: str) -> None:
    key, normalised, _ = validate_social_link(platform, url, "Me" if platform == "custom" else None)
    assert (key, normalised) == (platform, url)


@pytest.mark.parametrize(
    ("platform", "url", "label"),
    [
        ("github", "http://github.com/someone", None),  # not https
        ("github", "https://evil-github.com/someone", None),  # not the platform's host
        ("github", "https://github.com.evil.org/someone", None),
        ("github", "https://user:pw@github.com/x", None),
        ("github", "https://github.com:8443/x", None),
        ("substack", "https://substack.com.evil.org/", None),
        ("mastodon", "https://mastodon.social/", None),  # a server, not a profile
        ("custom", "https://example.org/me", None),  # custom needs a label
        ("custom", "javascript:alert(1)", "x"),
        ("custom", "https://127.0.0.1/", "x"),
        ("custom", "https://localhost/", "x"),
        ("custom", "https://exa mple.org/", "x"),
        ("myspace", "https://myspace.com/x", None),  # unknown platform
    ],
)
def test_bad_links(platform: str, url: str, label: str | None) -> None:
    with pytest.raises(BadUserInput):
        validate_social_link(platform, url, label)


def test_avatar_is_a_file_reference() -> None:
    assert validate_avatar("file:3f2b8c1e-1111-4a2b-9c3d-0123456789ab").startswith("file:")
    for bad in ("https://x.org/a.png", "file:../../etc/passwd", "ipfs://short"):
        with pytest.raises(BadUserInput):
            validate_avatar(bad)


def test_birthdate_between_1900_and_today() -> None:
    today = date(2026, 1, 1)
    assert validate_birthdate(date(1990, 5, 17), today=today) == date(1990, 5, 17)
    assert validate_birthdate(today, today=today) == today
    assert validate_birthdate(date(1900, 1, 1), today=today) == date(1900, 1, 1)
    for bad in (date(2026, 1, 2), date(1899, 12, 31)):
        with pytest.raises(BadUserInput):
            validate_birthdate(bad, today=today)


def test_quiet_hours_wrap_midnight_in_the_owners_zone() -> None:
    quiet = quiet_hours(time(22, 0), time(7, 0), "Europe/Copenhagen")
    # 21:30 UTC is 22:30 in Copenhagen in winter: quiet. 06:30 UTC is 07:30 there: not quiet.
    assert quiet.contains(datetime(2026, 1, 10, 21, 30, tzinfo=UTC))
    assert not quiet.contains(datetime(2026, 1, 10, 6, 30, tzinfo=UTC))
    day = quiet_hours(time(9, 0), time(17, 0), "America/New_York")
    assert day.contains(datetime(2026, 7, 1, 14, 0, tzinfo=UTC))  # 10:00 EDT


@pytest.mark.parametrize("bad_zone", ["Mars/Olympus", "../../etc/passwd", "", "UTC+2"])
def test_time_zones_are_iana_names(bad_zone: str) -> None:
    with pytest.raises(BadUserInput):
        validate_time_zone(bad_zone)


def test_quiet_hours_need_different_start_and_end() -> None:
    with pytest.raises(BadUserInput):
        quiet_hours(time(8, 0), time(8, 0), "UTC")


def test_notification_preferences_round_trip() -> None:
    changed = NotificationPreferences().with_changes(
        {
            (NotificationEvent.COMMUNITY_ACTIVITY, Channel.EMAIL): True,
            (NotificationEvent.MESSAGE_RECEIVED, Channel.PUSH): False,
        },
        quiet_hours(time(23, 0), time(6, 30), "Europe/Oslo"),
    )
    again = NotificationPreferences.from_json(changed.to_json())
    assert again == changed
    assert again.enabled(NotificationEvent.COMMUNITY_ACTIVITY, Channel.EMAIL)
    assert not again.enabled(NotificationEvent.MESSAGE_RECEIVED, Channel.PUSH)


def test_security_alerts_by_email_cannot_be_switched_off() -> None:
    prefs = NotificationPreferences()
    assert prefs.enabled(NotificationEvent.SECURITY_ALERT, Channel.EMAIL)
    with pytest.raises(BadUserInput):
        prefs.with_changes({(NotificationEvent.SECURITY_ALERT, Channel.EMAIL): False}, None)


@pytest.mark.parametrize(
    ("platform", "url", "label", "field"),
    [
        ("github", "http://github.com/someone", None, "url"),
        ("github", "https://gitlab.com/someone", None, "url"),
        ("mastodon", "https://mastodon.social/", None, "url"),
        ("myspace", "https://myspace.com/x", None, "platform"),
        ("custom", "https://example.org/me", None, "label"),
        ("custom", "https://example.org/me", "  ", "label"),
        ("github", "https://github.com/someone", "x" * 65, "label"),
        ("github", "https://github.com/someone", "a\x00b", "label"),
    ],
)
def test_a_refused_link_names_the_argument_at_fault(
    platform: str, url: str, label: str | None, field: str
) -> None:
    with pytest.raises(BadUserInput) as refused:
        validate_social_link(platform, url, label)
    assert refused.value.field == field
