"""Profile rules one at a time: text limits at and past each limit, birthdates at their edges,
language tags, social links (each refusal by its own message), time zones, quiet hours
on a given instant, notification preferences. Expected values are literals."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from domain.errors import BadUserInput
from domain.profiles import (
    PLATFORMS,
    Channel,
    NotificationEvent,
    NotificationPreferences,
    QuietHours,
    clean_text,
    quiet_hours,
    validate_bio,
    validate_birthdate,
    validate_language,
    validate_location,
    validate_social_link,
    validate_time_zone,
)


def refusal(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(BadUserInput) as refused:
        call(*args, **kwargs)  # type: ignore[operator]
    return refused.value.message


# --- text


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("  two\nlines  ", "two\nlines"),
        ("", None),
        (" \n ", None),
        ("Cafe\u0301", "Caf\u00e9"),
        ("\u202eright to left\u202c", "\u202eright to left\u202c"),
        ("b" * 2000, "b" * 2000),
        ("  " + "b" * 2000 + "  ", "b" * 2000),
        ("e\u0301" * 2000, "\u00e9" * 2000),  # 4000 code points, 2000 once composed
    ],
)
def test_bios_accepted(given: str, stored: str | None) -> None:
    assert validate_bio(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("b" * 2001, "The bio has at most 2000 characters."),
        ("tab\there", "The bio contains control characters."),
        ("nul\x00", "The bio contains control characters."),
        ("cr\rlf", "The bio contains control characters."),
        ("lone \ud800 surrogate", "The bio contains control characters."),
        ("del\x7f", "The bio contains control characters."),
    ],
)
def test_bios_refused(given: str, message: str) -> None:
    assert refusal(validate_bio, given) == message


@pytest.mark.parametrize(
    ("given", "stored"),
    [("  Aarhus, Denmark ", "Aarhus, Denmark"), ("", None), ("l" * 200, "l" * 200)],
)
def test_locations_accepted(given: str, stored: str | None) -> None:
    assert validate_location(given) == stored


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("l" * 201, "The location has at most 200 characters."),
        ("two\nlines", "The location contains control characters."),
        ("\u202egnp.exe", "The location contains control characters."),
        ("x\u2066y", "The location contains control characters."),
        ("x\u2069y", "The location contains control characters."),
        ("x\u202ay", "The location contains control characters."),
        ("lone \udfff", "The location contains control characters."),
    ],
)
def test_locations_refused(given: str, message: str) -> None:
    assert refusal(validate_location, given) == message


def test_clean_text_names_what_it_cleans() -> None:
    assert clean_text(" x ", limit=1, what="motto", multiline=False) == "x"
    assert refusal(clean_text, "xy", limit=1, what="motto", multiline=False) == (
        "The motto has at most 1 characters."
    )


# --- birthdates

TODAY = date(2026, 11, 27)


@pytest.mark.parametrize("value", [TODAY, date(1900, 1, 1), date(1985, 6, 15)])
def test_birthdates_accepted(value: date) -> None:
    assert validate_birthdate(value, today=TODAY) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (date(2026, 11, 28), "A birthdate cannot be in the future."),
        (date(1899, 12, 31), "A birthdate is on or after 1900-01-01."),
    ],
)
def test_birthdates_refused(value: date, message: str) -> None:
    assert refusal(validate_birthdate, value, today=TODAY) == message


# --- languages


@pytest.mark.parametrize(
    ("tag", "canonical"),
    [
        ("en", "en"),
        (" EN ", "en"),
        ("sma", "sma"),
        ("SMA", "sma"),
        ("SE", "se"),
        ("zh-Hant-TW", "zh-Hant-TW"),
        ("sr-latn", "sr-Latn"),
        ("pt-br", "pt-BR"),
        ("es-419", "es-419"),
        ("zh-hant-tw", "zh-Hant-TW"),
    ],
)
def test_language_tags(tag: str, canonical: str) -> None:
    assert validate_language(tag) == canonical


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        ("english", "'english' is not a language tag like 'en', 'sma', 'sr-Latn' or 'pt-BR'."),
        (
            "de-x-private",
            "'de-x-private' is not a language tag like 'en', 'sma', 'sr-Latn' or 'pt-BR'.",
        ),
        ("en-1234", "'en-1234' is not a language tag like 'en', 'sma', 'sr-Latn' or 'pt-BR'."),
        ("QQ", "'qq' is not an ISO 639 language code."),
        ("qqq", "'qqq' is not an ISO 639 language code."),
        ("en-abcd", "'Abcd' is not an ISO 15924 script code."),
        ("en-qq", "'QQ' is not an ISO 3166-1 country code."),
        ("", "'' is not a language tag like 'en', 'sma', 'sr-Latn' or 'pt-BR'."),
        ("xx", "'xx' is not an ISO 639 language code."),
        ("en-XX", "'XX' is not an ISO 3166-1 country code."),
        ("en_GB", "'en_GB' is not a language tag like 'en', 'sma', 'sr-Latn' or 'pt-BR'."),
        (
            "en-GB-x-private",
            "'en-GB-x-private' is not a language tag like 'en', 'sma', 'sr-Latn' or 'pt-BR'.",
        ),
    ],
)
def test_bad_language_tags(tag: str, message: str) -> None:
    assert refusal(validate_language, tag) == message


# --- social links


def test_platforms_offered() -> None:
    assert len(PLATFORMS) >= 30
    assert {"github", "mastodon", "substack", "linkedin"} <= set(PLATFORMS)


@pytest.mark.parametrize(
    ("platform", "host", "allowed"),
    [
        ("facebook", "facebook.com", True),
        ("facebook", "www.facebook.com", True),
        ("facebook", "m.facebook.com", True),
        ("facebook", "fb.com", True),
        ("facebook", "mbasic.facebook.com", False),
        ("facebook", "evilfacebook.com", False),
        ("facebook", "facebook.com.evil.io", False),
        ("substack", "kari.substack.com", True),
        ("substack", "substack.com", False),
        ("substack", ".substack.com", False),
        ("substack", "evilsubstack.com", False),
        ("tumblr", "tumblr.com", True),
        ("tumblr", "kari.tumblr.com", True),
        ("mastodon", "any.host.example", True),
    ],
)
def test_platform_hosts(platform: str, host: str, allowed: bool) -> None:
    assert PLATFORMS[platform].allows(host) is allowed


@pytest.mark.parametrize(
    ("platform", "url", "label", "stored"),
    [
        ("github", "https://github.com/kari", None, ("github", "https://github.com/kari", None)),
        (
            " GitHub ",
            " https://www.github.com/kari ",
            "  Code ",
            ("github", "https://www.github.com/kari", "Code"),
        ),
        (
            "github",
            "https://github.com:443/kari",
            "",
            ("github", "https://github.com:443/kari", None),
        ),
        ("github", "HTTPS://GitHub.com./kari", None, ("github", "HTTPS://GitHub.com./kari", None)),
        (
            "mastodon",
            "https://mastodon.social/@kari",
            None,
            ("mastodon", "https://mastodon.social/@kari", None),
        ),
        (
            "substack",
            "https://kari.substack.com/",
            None,
            ("substack", "https://kari.substack.com/", None),
        ),
        (
            "pixelfed",
            "https://pixelfed.social/X",
            None,
            ("pixelfed", "https://pixelfed.social/X", None),
        ),
        ("custom", "https://kari.dk/about", "Me", ("custom", "https://kari.dk/about", "Me")),
        ("x", "https://twitter.com/kari", None, ("x", "https://twitter.com/kari", None)),
        ("youtube", "https://youtu.be/abc", None, ("youtube", "https://youtu.be/abc", None)),
        (
            "linkedin",
            "https://www.linkedin.com/in/kari",
            None,
            ("linkedin", "https://www.linkedin.com/in/kari", None),
        ),
        (" Custom ", "https://münchen.de/x", " Home ", ("custom", "https://münchen.de/x", "Home")),
        ("custom", "https://a.b0/", "x" * 64, ("custom", "https://a.b0/", "x" * 64)),
        (
            "custom",
            "https://" + "a" * 63 + ".io/",
            "L",
            ("custom", "https://" + "a" * 63 + ".io/", "L"),
        ),
    ],
)
def test_good_links(
    platform: str, url: str, label: str | None, stored: tuple[str, str, str | None]
) -> None:
    assert validate_social_link(platform, url, label) == stored


LONG_URL = "https://kari.dk/" + "p" * (2048 - len("https://kari.dk/"))


def test_url_length_limit() -> None:
    assert len(LONG_URL) == 2048
    assert validate_social_link("custom", LONG_URL, "L")[1] == LONG_URL
    assert refusal(validate_social_link, "custom", LONG_URL + "p", "L") == (
        "A link is an https URL of at most 2048 characters."
    )


HOST = "That link's host name is not valid."
IP = "A link names a host, not an IP address."
PRIVATE = "That link's host is not on the public internet."


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "A link is an https URL of at most 2048 characters."),
        ("   ", "A link is an https URL of at most 2048 characters."),
        ("https://kari.dk/a b", "A link cannot contain spaces or control characters."),
        ("https://kari.dk/a\x00", "A link cannot contain spaces or control characters."),
        ("https://kari.dk/a\u00a0b", "A link cannot contain spaces or control characters."),
        ("https://kari.dk:abc/", "That link is not a valid URL."),
        ("https://[::1", "That link is not a valid URL."),
        ("http://kari.dk/", "Links must start with https://."),
        ("javascript:alert(1)", "Links must start with https://."),
        ("https://kari@kari.dk/", "A link cannot carry a user name or password."),
        ("https://:secret@kari.dk/", "A link cannot carry a user name or password."),
        ("https://kari.dk:8443/", "A link cannot name a port."),
        ("https://kari.dk:0/", "A link cannot name a port."),
        ("https://127.0.0.1/", IP),
        ("https://[::1]/", IP),
        ("https://127.1/", IP),
        ("https://0x7f.1/", IP),
        ("https://a.0x/", IP),
        ("https://a.0x1f/", IP),
        ("https://localhost/", HOST),
        ("https://a_b.io/", HOST),
        ("https://-a.io/", HOST),
        ("https://a-.io/", HOST),
        ("https://a..io/", HOST),
        ("https://" + "a" * 64 + ".io/", HOST),
        ("https:///path", HOST),
        ("https://kari.localhost/", PRIVATE),
        ("https://printer.local/", PRIVATE),
        ("https://db.internal/", PRIVATE),
        ("https://x.invalid/", PRIVATE),
        ("https://x.test/", PRIVATE),
        ("https://kari.example/", PRIVATE),
    ],
)
def test_each_url_rule(url: str, message: str) -> None:
    assert refusal(validate_social_link, "custom", url, "Label") == message


@pytest.mark.parametrize(
    ("platform", "url", "label", "message"),
    [
        ("custom", "https://kari.dk/", None, "A custom link needs a label."),
        ("custom", "https://kari.dk/", "   ", "A custom link needs a label."),
        ("custom", "https://kari.dk/", "x" * 65, "The label has at most 64 characters."),
        ("custom", "https://kari.dk/", "a\u202eb", "The label contains control characters."),
        ("github", "https://github.com/k", "x" * 65, "The label has at most 64 characters."),
        ("github", "https://github.com/k", "two\nlines", "The label contains control characters."),
        (
            "MySpace",
            "https://myspace.com/k",
            None,
            "Unknown platform 'MySpace'; use 'custom' for any other site.",
        ),
        ("github", "https://gitlab.com/kari", None, "A GitHub link points to github.com."),
        ("x", "https://facebook.com/k", None, "A X (Twitter) link points to x.com, twitter.com."),
        (
            "mastodon",
            "https://mastodon.social/",
            None,
            "A Mastodon link points to a profile, not to a server.",
        ),
        (
            "mastodon",
            "https://mastodon.social",
            None,
            "A Mastodon link points to a profile, not to a server.",
        ),
        (
            "peertube",
            "https://video.example.org//",
            None,
            "A PeerTube link points to a profile, not to a server.",
        ),
    ],
)
def test_each_link_rule(platform: str, url: str, label: str | None, message: str) -> None:
    assert refusal(validate_social_link, platform, url, label) == message


# --- time zones and quiet hours


def test_time_zones() -> None:
    assert validate_time_zone(" Europe/Oslo ") == "Europe/Oslo"
    assert validate_time_zone("UTC") == "UTC"
    for bad in ("europe/oslo", "Mars/Olympus", "", "../../etc/passwd", "UTC+2"):
        assert refusal(validate_time_zone, bad) == (
            f"'{bad}' is not an IANA time zone like 'Europe/Copenhagen'."
        )


def at(hour: int, minute: int = 0) -> datetime:
    """An instant on 2026-11-27 in UTC (Copenhagen is UTC+1 then)."""
    return datetime(2026, 11, 27, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (at(7, 59), False),  # 08:59 local
        (at(8), True),  # 09:00 local: the start is inside
        (at(15, 59), True),
        (at(16), False),  # 17:00 local: the end is outside
    ],
)
def test_daytime_quiet_hours(moment: datetime, quiet: bool) -> None:
    hours = quiet_hours(time(9), time(17), "Europe/Copenhagen")
    assert hours.contains(moment) is quiet


@pytest.mark.parametrize(
    ("moment", "quiet"),
    [
        (at(20, 59), False),  # 21:59 local
        (at(21), True),  # 22:00 local
        (at(23, 30), True),  # 00:30 local, the next day
        (at(5, 59), True),  # 06:59 local
        (at(6), False),  # 07:00 local
        (at(12), False),
    ],
)
def test_quiet_hours_wrap_midnight(moment: datetime, quiet: bool) -> None:
    hours = quiet_hours(time(22), time(7), "Europe/Copenhagen")
    assert hours.contains(moment) is quiet


def test_quiet_hours_read_the_instant_in_the_owners_zone() -> None:
    hours = quiet_hours(time(22), time(7), "Europe/Copenhagen")
    assert hours.contains(datetime(2026, 11, 27, 22, 30, tzinfo=timezone(timedelta(hours=1))))
    assert not hours.contains(datetime(2026, 11, 27, 23, tzinfo=timezone(timedelta(hours=9))))
    with pytest.raises(ValueError, match=r"^moment must be timezone-aware$"):
        hours.contains(datetime(2026, 11, 27, 22, 30))


def test_quiet_hours_follow_summer_time() -> None:
    day = quiet_hours(time(9, 0), time(17, 0), "America/New_York")
    assert day.contains(datetime(2026, 7, 1, 14, 0, tzinfo=UTC))  # 10:00 EDT
    assert not day.contains(datetime(2026, 7, 1, 21, 0, tzinfo=UTC))  # 17:00 EDT


def test_an_empty_window_is_never_quiet() -> None:
    """Stored rows are not re-validated; start == end silences nothing rather than everything."""
    hours = QuietHours(time(22), time(22), "UTC")
    assert [hours.contains(at(h)) for h in (21, 22, 23)] == [False, False, False]


def test_quiet_hours_are_whole_minutes_of_local_time() -> None:
    hours = quiet_hours(time(22, 0, 30, 5), time(6, 59, 59, 7), " Europe/Oslo ")
    assert (hours.start, hours.end, hours.time_zone) == (time(22), time(6, 59), "Europe/Oslo")


@pytest.mark.parametrize(
    ("start", "end", "zone", "message"),
    [
        (time(22), time(22), "UTC", "Quiet hours need different start and end times."),
        (
            time(22, 0, 10),
            time(22, 0, 50),
            "UTC",
            "Quiet hours need different start and end times.",
        ),
        (
            time(22, tzinfo=UTC),
            time(7),
            "UTC",
            "Quiet hours are local times; give the zone as timeZone.",
        ),
        (
            time(22),
            time(7, tzinfo=UTC),
            "UTC",
            "Quiet hours are local times; give the zone as timeZone.",
        ),
        (
            time(22),
            time(7),
            "Nowhere/Else",
            "'Nowhere/Else' is not an IANA time zone like 'Europe/Copenhagen'.",
        ),
    ],
)
def test_quiet_hours_refused(start: time, end: time, zone: str, message: str) -> None:
    assert refusal(quiet_hours, start, end, zone) == message


# --- notification preferences

DEFAULTS = {
    "message_received": ["push"],
    "mentioned": ["push"],
    "community_activity": [],
    "community_membership": ["email", "push"],
    "social_group_added": ["push"],
    "course_update": ["email"],
    "badge_awarded": ["email", "push"],
    "event_reminder": ["email", "push"],
    "security_alert": ["email", "push"],
}
E, P = Channel.EMAIL, Channel.PUSH


def test_defaults() -> None:
    assert NotificationPreferences().to_json() == {"channels": DEFAULTS, "quiet_hours": None}
    assert NotificationPreferences.from_json(None).to_json()["channels"] == DEFAULTS
    assert NotificationPreferences.from_json({}).to_json()["channels"] == DEFAULTS


def test_enabled() -> None:
    prefs = NotificationPreferences()
    assert prefs.enabled(NotificationEvent.MESSAGE_RECEIVED, P) is True
    assert prefs.enabled(NotificationEvent.MESSAGE_RECEIVED, E) is False
    nothing = NotificationPreferences(channels={})
    assert nothing.enabled(NotificationEvent.SECURITY_ALERT, E) is True  # mandatory
    assert nothing.enabled(NotificationEvent.SECURITY_ALERT, P) is False
    assert nothing.enabled(NotificationEvent.BADGE_AWARDED, E) is False


def test_changes_toggle_only_what_they_name() -> None:
    before = NotificationPreferences()
    quiet = quiet_hours(time(22), time(7), "Europe/Oslo")
    after = before.with_changes(
        {
            (NotificationEvent.MESSAGE_RECEIVED, P): False,
            (NotificationEvent.MESSAGE_RECEIVED, E): True,
            (NotificationEvent.COURSE_UPDATE, E): True,
            (NotificationEvent.SECURITY_ALERT, E): True,
        },
        quiet,
    )
    assert after.to_json() == {
        "channels": {**DEFAULTS, "message_received": ["email"]},
        "quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Europe/Oslo"},
    }
    assert before.to_json()["channels"] == DEFAULTS
    assert after.with_changes({}, None).to_json()["quiet_hours"] is None


def test_changes_fill_events_never_stored() -> None:
    sparse = NotificationPreferences(channels={NotificationEvent.MENTIONED: frozenset({E})})
    changed = sparse.with_changes({(NotificationEvent.COURSE_UPDATE, P): True}, None)
    assert changed.to_json()["channels"] == {
        **{event: [] for event in DEFAULTS},
        "mentioned": ["email"],
        "course_update": ["push"],
    }


def test_security_alert_by_email_cannot_be_switched_off() -> None:
    prefs = NotificationPreferences()
    message = refusal(prefs.with_changes, {(NotificationEvent.SECURITY_ALERT, E): False}, None)
    assert message == "security_alert by email cannot be switched off: it protects the account."
    toggles = {
        (NotificationEvent.MENTIONED, E): True,
        (NotificationEvent.SECURITY_ALERT, E): False,
    }
    assert refusal(prefs.with_changes, toggles, None) == message
    assert prefs.with_changes({(NotificationEvent.SECURITY_ALERT, P): False}, None).to_json()[
        "channels"
    ]["security_alert"] == ["email"]


def test_stored_preferences_are_read_leniently() -> None:
    stored = {
        "channels": {
            "retired_event": ["email"],
            "mentioned": ["sms", "email"],
            "community_activity": ["push", "push"],
        },
        "quiet_hours": {"start": "23:15", "end": "06:00", "time_zone": "Europe/Copenhagen"},
    }
    prefs = NotificationPreferences.from_json(stored)
    assert prefs.to_json() == {
        "channels": {**DEFAULTS, "mentioned": ["email"], "community_activity": ["push"]},
        "quiet_hours": {"start": "23:15", "end": "06:00", "time_zone": "Europe/Copenhagen"},
    }
    assert NotificationPreferences.from_json({"channels": None, "quiet_hours": None}).quiet is None


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
