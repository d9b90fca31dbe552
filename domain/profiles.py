"""Profile rules: text limits, language tags, social links, avatars, notification preferences.

Every function here validates one input and either returns its normal form or raises
``BadUserInput`` with a message a person can act on. Nothing here touches a database.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import pycountry

from domain.errors import BadUserInput, input_field

BIO_MAX = 2000
LOCATION_MAX = 200
LINK_LABEL_MAX = 64
URL_MAX = 2048
MAX_SOCIAL_LINKS = 50
MAX_LANGUAGES = 30
OLDEST_BIRTHDATE = date(1900, 1, 1)


# Bidirectional embeddings, overrides and isolates: in a one-line name they make text display as
# something else ("\u202egnp.exe" shows as "exe.png").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def clean_text(value: str, *, limit: int, what: str, multiline: bool) -> str | None:
    """NFC-normalised, trimmed text without control characters; empty means "cleared".

    Control characters (NUL, which PostgreSQL refuses, included) and lone surrogates are refused
    everywhere; a multi-line text allows line feeds, a one-line text no bidirectional controls.
    """
    text = unicodedata.normalize("NFC", value).strip()
    for c in text:
        category = unicodedata.category(c)
        if (
            (category == "Cc" and not (multiline and c == "\n"))
            or category == "Cs"
            or (not multiline and c in _BIDI_CONTROLS)
        ):
            raise BadUserInput(f"The {what} contains control characters.")
    if len(text) > limit:
        raise BadUserInput(f"The {what} has at most {limit} characters.")
    return text or None


def validate_bio(value: str) -> str | None:
    return clean_text(value, limit=BIO_MAX, what="bio", multiline=True)


def validate_location(value: str) -> str | None:
    return clean_text(value, limit=LOCATION_MAX, what="location", multiline=False)


def validate_birthdate(value: date, *, today: date) -> date:
    """Not in the future, not before 1900: anything else is a typo, not a person."""
    if value > today:
        raise BadUserInput("A birthdate cannot be in the future.")
    if value < OLDEST_BIRTHDATE:
        raise BadUserInput(f"A birthdate is on or after {OLDEST_BIRTHDATE.isoformat()}.")
    return value


# --- languages: BCP 47 tags limited to language[-Script][-REGION], checked against ISO lists.

_TAG = re.compile(r"([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?")


def validate_language(value: str) -> str:
    """A BCP 47 tag (``en``, ``se``, ``sma``, ``sr-Latn``, ``pt-BR``) in canonical case.

    The language is an ISO 639-1 or ISO 639-3 code, the script ISO 15924, the region ISO 3166-1
    alpha-2 or a UN M.49 number. Extensions and private use are not accepted: the tag only picks
    a language, it does not describe a locale.
    """
    match = _TAG.fullmatch(value.strip())
    if match is None:
        raise BadUserInput(
            f"'{value}' is not a language tag like 'en', 'sma', 'sr-Latn' or 'pt-BR'."
        )
    lang, script, region = match.groups()
    lang = lang.lower()
    key = "alpha_2" if len(lang) == 2 else "alpha_3"
    if pycountry.languages.get(**{key: lang}) is None:
        raise BadUserInput(f"'{lang}' is not an ISO 639 language code.")
    parts = [lang]
    if script:
        script = script.title()
        if pycountry.scripts.get(alpha_4=script) is None:
            raise BadUserInput(f"'{script}' is not an ISO 15924 script code.")
        parts.append(script)
    if region:
        region = region.upper()
        if region.isalpha() and pycountry.countries.get(alpha_2=region) is None:
            raise BadUserInput(f"'{region}' is not an ISO 3166-1 country code.")
        parts.append(region)
    return "-".join(parts)


class LanguageLevel(StrEnum):
    """CEFR levels, plus native: what a learning platform can match learners and teachers on."""

    A1 = "a1"
    A2 = "a2"
    B1 = "b1"
    B2 = "b2"
    C1 = "c1"
    C2 = "c2"
    NATIVE = "native"


# --- social links


@dataclass(frozen=True, slots=True)
class Platform:
    key: str
    name: str
    hosts: tuple[str, ...] = ()
    """Allowed hosts; a leading '.' allows any subdomain (``.substack.com``)."""
    federated: bool = False
    """Any public host (Mastodon, PeerTube...): the host cannot be allow-listed."""

    def allows(self, host: str) -> bool:
        if self.federated:
            return True
        for allowed in self.hosts:
            if allowed.startswith("."):
                if host.endswith(allowed) and len(host) > len(allowed):
                    return True
            elif host in (allowed, f"www.{allowed}", f"m.{allowed}"):
                return True
        return False


CUSTOM = "custom"

PLATFORMS: dict[str, Platform] = {
    p.key: p
    for p in (
        Platform("facebook", "Facebook", ("facebook.com", "fb.com")),
        Platform("instagram", "Instagram", ("instagram.com",)),
        Platform("x", "X (Twitter)", ("x.com", "twitter.com")),
        Platform("threads", "Threads", ("threads.net", "threads.com")),
        Platform("bluesky", "Bluesky", ("bsky.app",)),
        Platform("mastodon", "Mastodon", federated=True),
        Platform("pixelfed", "Pixelfed", federated=True),
        Platform("peertube", "PeerTube", federated=True),
        Platform("linkedin", "LinkedIn", ("linkedin.com",)),
        Platform("xing", "XING", ("xing.com",)),
        Platform("youtube", "YouTube", ("youtube.com", "youtu.be")),
        Platform("tiktok", "TikTok", ("tiktok.com",)),
        Platform("twitch", "Twitch", ("twitch.tv",)),
        Platform("vimeo", "Vimeo", ("vimeo.com",)),
        Platform("github", "GitHub", ("github.com",)),
        Platform("gitlab", "GitLab", ("gitlab.com",)),
        Platform("codeberg", "Codeberg", ("codeberg.org",)),
        Platform("stackoverflow", "Stack Overflow", ("stackoverflow.com",)),
        Platform("reddit", "Reddit", ("reddit.com",)),
        Platform("pinterest", "Pinterest", ("pinterest.com",)),
        Platform("tumblr", "Tumblr", ("tumblr.com", ".tumblr.com")),
        Platform("snapchat", "Snapchat", ("snapchat.com",)),
        Platform("telegram", "Telegram", ("t.me", "telegram.me")),
        Platform("whatsapp", "WhatsApp", ("wa.me",)),
        Platform("signal", "Signal", ("signal.me",)),
        Platform("matrix", "Matrix", ("matrix.to",)),
        Platform("discord", "Discord", ("discord.gg", "discord.com")),
        Platform("medium", "Medium", ("medium.com", ".medium.com")),
        Platform("substack", "Substack", (".substack.com",)),
        Platform("patreon", "Patreon", ("patreon.com",)),
        Platform("kofi", "Ko-fi", ("ko-fi.com",)),
        Platform("behance", "Behance", ("behance.net",)),
        Platform("dribbble", "Dribbble", ("dribbble.com",)),
        Platform("deviantart", "DeviantArt", ("deviantart.com",)),
        Platform("flickr", "Flickr", ("flickr.com",)),
        Platform("soundcloud", "SoundCloud", ("soundcloud.com",)),
        Platform("spotify", "Spotify", ("open.spotify.com",)),
        Platform("bandcamp", "Bandcamp", (".bandcamp.com",)),
        Platform("goodreads", "Goodreads", ("goodreads.com",)),
        Platform("strava", "Strava", ("strava.com",)),
        Platform("researchgate", "ResearchGate", ("researchgate.net",)),
        Platform("orcid", "ORCID", ("orcid.org",)),
        Platform("academia", "Academia.edu", (".academia.edu",)),
        Platform("vk", "VK", ("vk.com",)),
        Platform("weibo", "Weibo", ("weibo.com",)),
    )
}

_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")


def _is_ip_literal(host: str, last_label: str) -> bool:
    """An IP address in any spelling: browsers (WHATWG URL) read a host whose last label is a
    number (``127.1``, ``0x7f.1``, ``0177.0.0.1``) as IPv4, and no top-level domain is numeric."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return _NUMERIC_LABEL.fullmatch(last_label) is not None
    return True


def _https_url(value: str) -> tuple[str, str]:
    """(normalised url, host) of an https URL to a public DNS name; the common checks."""
    url = value.strip()
    if not url or len(url) > URL_MAX:
        raise BadUserInput(f"A link is an https URL of at most {URL_MAX} characters.")
    if any(c.isspace() or unicodedata.category(c) == "Cc" for c in url):
        raise BadUserInput("A link cannot contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise BadUserInput("That link is not a valid URL.") from None
    if parts.scheme.lower() != "https":
        raise BadUserInput("Links must start with https://.")
    if parts.username is not None or parts.password is not None:
        raise BadUserInput("A link cannot carry a user name or password.")
    if port not in (None, 443):
        raise BadUserInput("A link cannot name a port.")
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise BadUserInput("That link's host name is not valid.") from None
    labels = host.split(".")
    if _is_ip_literal(host, labels[-1]):
        raise BadUserInput("A link names a host, not an IP address.")
    if len(labels) < 2 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise BadUserInput("That link's host name is not valid.")
    if labels[-1] in ("localhost", "local", "internal", "invalid", "test", "example"):
        raise BadUserInput("That link's host is not on the public internet.")
    return url, host


def validate_social_link(platform: str, url: str, label: str | None) -> tuple[str, str, str | None]:
    """(platform key, url, label) of a link; a known platform's host must be on its allow-list.

    Custom links (``platform='custom'``) may point to any public https host and need a label.
    Each refusal names the argument at fault (``platform``, ``url`` or ``label``).
    """
    key = platform.strip().lower()
    with input_field("url"):
        normalised, host = _https_url(url)
    known = PLATFORMS.get(key)
    if key != CUSTOM and known is None:
        raise BadUserInput(
            f"Unknown platform '{platform}'; use 'custom' for any other site.", field="platform"
        )
    with input_field("url"):
        if known is not None and not known.allows(host):
            raise BadUserInput(f"A {known.name} link points to {', '.join(known.hosts)}.")
        if known is not None and known.federated and not urlsplit(normalised).path.strip("/"):
            raise BadUserInput(f"A {known.name} link points to a profile, not to a server.")
    with input_field("label"):
        if key == CUSTOM and (label is None or not label.strip()):
            raise BadUserInput("A custom link needs a label.")
        clean_label = (
            None
            if label is None
            else clean_text(label, limit=LINK_LABEL_MAX, what="label", multiline=False)
        )
    return key, normalised, clean_label


# --- notifications


class NotificationEvent(StrEnum):
    """What a person can be notified about; the channels are e-mail and push."""

    MESSAGE_RECEIVED = "message_received"
    MENTIONED = "mentioned"
    COMMUNITY_ACTIVITY = "community_activity"
    COMMUNITY_MEMBERSHIP = "community_membership"
    SOCIAL_GROUP_ADDED = "social_group_added"
    COURSE_UPDATE = "course_update"
    BADGE_AWARDED = "badge_awarded"
    EVENT_REMINDER = "event_reminder"
    SECURITY_ALERT = "security_alert"


class Channel(StrEnum):
    EMAIL = "email"
    PUSH = "push"


# Opt-out by default for what a person asked for; e-mail stays quiet for chatter.
DEFAULT_CHANNELS: Mapping[NotificationEvent, frozenset[Channel]] = {
    NotificationEvent.MESSAGE_RECEIVED: frozenset({Channel.PUSH}),
    NotificationEvent.MENTIONED: frozenset({Channel.PUSH}),
    NotificationEvent.COMMUNITY_ACTIVITY: frozenset(),
    NotificationEvent.COMMUNITY_MEMBERSHIP: frozenset({Channel.EMAIL, Channel.PUSH}),
    NotificationEvent.SOCIAL_GROUP_ADDED: frozenset({Channel.PUSH}),
    NotificationEvent.COURSE_UPDATE: frozenset({Channel.EMAIL}),
    NotificationEvent.BADGE_AWARDED: frozenset({Channel.EMAIL, Channel.PUSH}),
    NotificationEvent.EVENT_REMINDER: frozenset({Channel.EMAIL, Channel.PUSH}),
    NotificationEvent.SECURITY_ALERT: frozenset({Channel.EMAIL, Channel.PUSH}),
}
# Security alerts by e-mail cannot be switched off: they are how a person learns of a takeover.
MANDATORY = frozenset({(NotificationEvent.SECURITY_ALERT, Channel.EMAIL)})


@cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> str:
    """An IANA time zone name (``Europe/Copenhagen``), checked against the tz database."""
    name = value.strip()
    if name not in _time_zones():
        raise BadUserInput(f"'{value}' is not an IANA time zone like 'Europe/Copenhagen'.")
    return name


@dataclass(frozen=True, slots=True)
class QuietHours:
    """No push notifications from ``start`` to ``end`` local time; may wrap past midnight."""

    start: time
    end: time
    time_zone: str

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) falls inside the quiet hours, in the person's zone."""
        if moment.tzinfo is None:
            raise ValueError("moment must be timezone-aware")
        local = moment.astimezone(zoneinfo.ZoneInfo(self.time_zone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def quiet_hours(start: time, end: time, time_zone: str) -> QuietHours:
    # Compared as stored (whole minutes): 22:00:10 to 22:00:50 would be an empty window.
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if start == end:
        raise BadUserInput("Quiet hours need different start and end times.")
    if start.tzinfo is not None or end.tzinfo is not None:
        raise BadUserInput("Quiet hours are local times; give the zone as timeZone.")
    return QuietHours(start, end, validate_time_zone(time_zone))


@dataclass(frozen=True, slots=True)
class NotificationPreferences:
    channels: Mapping[NotificationEvent, frozenset[Channel]] = field(
        default_factory=lambda: dict(DEFAULT_CHANNELS)
    )
    quiet: QuietHours | None = None

    def enabled(self, event: NotificationEvent, channel: Channel) -> bool:
        return (event, channel) in MANDATORY or channel in self.channels.get(event, frozenset())

    def with_changes(
        self,
        toggles: Mapping[tuple[NotificationEvent, Channel], bool],
        quiet: QuietHours | None,
    ) -> NotificationPreferences:
        for (event, channel), on in toggles.items():
            if not on and (event, channel) in MANDATORY:
                raise BadUserInput(
                    f"{event.value} by {channel.value} cannot be switched off: it protects the "
                    "account."
                )
        channels = {e: set(self.channels.get(e, frozenset())) for e in NotificationEvent}
        for (event, channel), on in toggles.items():
            (channels[event].add if on else channels[event].discard)(channel)
        return NotificationPreferences({e: frozenset(c) for e, c in channels.items()}, quiet)

    def to_json(self) -> dict[str, Any]:
        return {
            "channels": {e.value: sorted(c.value for c in cs) for e, cs in self.channels.items()},
            "quiet_hours": None
            if self.quiet is None
            else {
                "start": self.quiet.start.isoformat(timespec="minutes"),
                "end": self.quiet.end.isoformat(timespec="minutes"),
                "time_zone": self.quiet.time_zone,
            },
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any] | None) -> NotificationPreferences:
        """Stored JSON to preferences; events never stored keep their defaults."""
        channels: dict[NotificationEvent, frozenset[Channel]] = dict(DEFAULT_CHANNELS)
        quiet = None
        if stored:
            for key, values in (stored.get("channels") or {}).items():
                try:
                    event = NotificationEvent(key)
                except ValueError:
                    continue
                channels[event] = frozenset(Channel(v) for v in values if v in set(Channel))
            q = stored.get("quiet_hours")
            if q:
                quiet = QuietHours(
                    time.fromisoformat(q["start"]), time.fromisoformat(q["end"]), q["time_zone"]
                )
        return cls(channels, quiet)
