"""The registry admits ids and enums only; envelopes carry global ids and time-ordered ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import jsonschema
import pytest

from domain.communities import CommunityRole
from domain.errors import BadUserInput
from domain.events import (
    ENVELOPE_SCHEMA,
    REGISTRY,
    CommunityMemberJoined,
    Envelope,
    Event,
    EventArea,
    ProfileUpdated,
    register,
    seal,
    subject_pattern,
)
from domain.privacy import ProfileField
from graph import ids

EXPECTED = {
    "account.registered",
    "community.created",
    "community.member_joined",
    "community.member_left",
    "community.member_role_changed",
    "role.granted",
    "role.revoked",
    "profile.updated",
    "notification.created",
    "badge.awarded",
    "badge.revoked",
    "badge.expired",
    "badge.renewal_needed",
    "file.uploaded",
    "file.deleted",
    "forum.topic_created",
    "forum.comment_added",
    "forum.content_flagged",
    "forum.moderated",
}


def test_the_events_of_what_exists_now_are_registered() -> None:
    assert {name for name, _ in REGISTRY} == EXPECTED
    assert all(version == 1 for _, version in REGISTRY)


def test_a_payload_with_text_is_refused() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Renamed(Event):
        TYPE = "community.renamed"
        VERSION = 1
        DESCRIPTION = "carries a name: personal data must not travel in events"
        community_id: uuid.UUID
        name: str

    with pytest.raises(TypeError, match=r"Renamed\.name: payload fields hold ids and enums only"):
        register(Renamed)
    assert ("community.renamed", 1) not in REGISTRY


def test_a_version_is_registered_once() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Again(Event):
        TYPE = "community.created"
        VERSION = 1
        DESCRIPTION = "a second class for the same version"
        community_id: uuid.UUID

    with pytest.raises(TypeError, match="registered twice"):
        register(Again)
    assert REGISTRY["community.created", 1].cls is not Again


def test_an_unknown_area_is_refused() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Odd(Event):
        TYPE = "weather.changed"
        VERSION = 1
        DESCRIPTION = "no such area"

    with pytest.raises(TypeError, match="known area"):
        register(Odd)


def test_subjects_are_global_ids_and_the_payload_fits_its_schema() -> None:
    community, user = uuid.uuid4(), uuid.uuid4()
    event = CommunityMemberJoined(
        territory_id="dk", community_id=community, user_id=user, role=CommunityRole.MODERATOR
    )
    envelope = seal(event, actor=ids.encode("User", "no", str(user)), node_id=ids.encode)
    assert envelope.subject == "unityplan.dk.community.member_joined"
    assert dict(envelope.subjects) == {
        "community": ids.encode("Community", "dk", str(community)),
        "user": ids.encode("User", "dk", str(user)),
    }
    assert dict(envelope.payload) == {
        "community_id": str(community),
        "user_id": str(user),
        "role": "moderator",
    }
    assert envelope.id.version == 7
    jsonschema.validate(envelope.to_json(), ENVELOPE_SCHEMA)
    jsonschema.validate(
        dict(envelope.payload), REGISTRY["community.member_joined", 1].payload_schema
    )
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {**envelope.payload, "role": "owner"},
            REGISTRY["community.member_joined", 1].payload_schema,
        )


def test_lists_of_enums_travel_as_lists() -> None:
    event = ProfileUpdated(
        territory_id="dk",
        user_id=uuid.uuid4(),
        fields=(ProfileField.BIO, ProfileField.AVATAR),
    )
    envelope = seal(event, actor=None, node_id=ids.encode)
    assert envelope.payload["fields"] == ["bio", "avatar"]
    jsonschema.validate(dict(envelope.payload), REGISTRY["profile.updated", 1].payload_schema)


def test_the_envelope_survives_json() -> None:
    event = CommunityMemberJoined(
        territory_id="se", community_id=uuid.uuid4(), user_id=uuid.uuid4(), role=CommunityRole.ADMIN
    )
    envelope = seal(event, actor=None, node_id=ids.encode)
    again = Envelope.from_json(envelope.to_json())
    assert again == envelope
    assert isinstance(again.occurred_at, datetime)
    assert again.occurred_at.utcoffset() is not None


def test_ids_are_time_ordered() -> None:
    event = ProfileUpdated(territory_id="dk", user_id=uuid.uuid4(), fields=())
    made = [seal(event, actor=None, node_id=ids.encode).id for _ in range(200)]
    assert made == sorted(made)
    assert len(set(made)) == 200


def test_a_malformed_territory_never_becomes_a_subject() -> None:
    event = ProfileUpdated(territory_id="DK.>", user_id=uuid.uuid4(), fields=())
    with pytest.raises(BadUserInput):
        seal(event, actor=None, node_id=ids.encode)


def test_an_unregistered_event_cannot_be_sealed() -> None:
    @dataclass(frozen=True, slots=True, kw_only=True)
    class Unlisted(Event):
        TYPE = "community.unlisted"
        VERSION = 1
        DESCRIPTION = "never registered"

    with pytest.raises(TypeError, match="not registered"):
        seal(Unlisted(territory_id="dk"), actor=None, node_id=ids.encode)


def test_subject_patterns_name_a_territory_and_an_area() -> None:
    assert subject_pattern("dk", EventArea.COMMUNITY) == "unityplan.dk.community.*"
    assert subject_pattern() == "unityplan.*.*.*"
    with pytest.raises(BadUserInput):
        subject_pattern("dk.>")
