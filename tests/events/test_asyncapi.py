"""asyncapi.yaml is generated from the registry, checked in, and a valid AsyncAPI 3.0 document.

asyncapi-3.0.0.schema.json is the AsyncAPI Initiative's JSON Schema of AsyncAPI 3.0.0
(github.com/asyncapi/spec-json-schemas, schemas/3.0.0.json, Apache-2.0), shipped here so the
tests need no network; its $refs resolve inside the file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from domain.events import REGISTRY
from events.asyncapi import document, render

HERE = Path(__file__).resolve().parent
ASYNCAPI_FILE = HERE.parent.parent / "asyncapi.yaml"
META_SCHEMA = json.loads((HERE / "asyncapi-3.0.0.schema.json").read_text())


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(META_SCHEMA)


def test_asyncapi_yaml_matches_the_registry() -> None:
    assert ASYNCAPI_FILE.read_text() == render(), (
        "asyncapi.yaml is out of date: run `unityplan asyncapi > asyncapi.yaml` and commit it"
    )


def test_asyncapi_yaml_is_a_valid_asyncapi_3_document() -> None:
    loaded: dict[str, Any] = YAML(typ="safe").load(ASYNCAPI_FILE.read_text())
    errors = [f"{list(e.path)}: {e.message}" for e in validator().iter_errors(loaded)]
    assert errors == []


def test_the_validator_rejects_a_broken_document() -> None:
    broken = document()
    broken["channels"]["communityCreated"]["address"] = 42
    del broken["info"]["version"]
    assert len(list(validator().iter_errors(broken))) >= 2


def test_every_event_version_has_a_message() -> None:
    messages = document()["components"]["messages"]
    assert len(messages) == len(REGISTRY)
    joined = messages["communityMemberJoinedV1"]["payload"]
    assert joined["properties"]["type"]["const"] == "community.member_joined"
    assert joined["properties"]["payload"]["properties"]["role"]["enum"] == [
        "member",
        "moderator",
        "admin",
    ]
    assert joined["properties"]["subjects"]["required"] == ["community", "user"]


@pytest.mark.parametrize("name", sorted({n for n, _ in REGISTRY}))
def test_each_channel_address_is_the_subject(name: str) -> None:
    addresses = {c["address"] for c in document()["channels"].values()}
    assert f"unityplan.{{territory}}.{name}" in addresses
