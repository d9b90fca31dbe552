"""The AsyncAPI 3.0 document of the event stream, generated from the registry (domain/events.py).

``unityplan asyncapi`` prints it; the checked-in ``asyncapi.yaml`` is that output (a test fails
when they drift, another validates it against the AsyncAPI 3.0 JSON schema).
"""

from __future__ import annotations

import copy
import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML

from domain.events import ENVELOPE_SCHEMA, REGISTRY, SUBJECT_PREFIX, EventType
from events.streams import StreamSpec

TITLE = "UnityPlan domain events"
DOCUMENT_VERSION = "1.0.0"


def _plain(value: object) -> Any:
    """Mappings and tuples as plain dicts and lists (what a YAML emitter knows)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _camel(name: str) -> str:
    head, *rest = name.replace(".", "_").split("_")
    return head + "".join(part.capitalize() for part in rest)


def _message_schema(event: EventType) -> dict[str, Any]:
    schema: dict[str, Any] = copy.deepcopy(_plain(ENVELOPE_SCHEMA))
    properties = schema["properties"]
    properties["type"] = {**properties["type"], "const": event.name}
    properties["version"] = {**properties["version"], "const": event.version}
    properties["payload"] = {**_plain(event.payload_schema), "description": "Ids and enums only."}
    subjects = [f.removesuffix("_id") for f in event.cls.SUBJECTS]
    properties["subjects"] = {
        **properties["subjects"],
        "required": subjects,
        "properties": {s: {"type": "string"} for s in subjects},
    }
    return schema


def document(stream: StreamSpec | None = None) -> dict[str, Any]:
    """The AsyncAPI document as plain data."""
    spec = stream or StreamSpec()
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    by_name: dict[str, list[EventType]] = {}
    for event in sorted(REGISTRY.values(), key=lambda e: (e.name, e.version)):
        by_name.setdefault(event.name, []).append(event)
    for name, versions in by_name.items():
        channel_id = _camel(name)
        channel_messages = {}
        for event in versions:
            message_id = f"{channel_id}V{event.version}"
            messages[message_id] = {
                "name": message_id,
                "title": f"{name} v{event.version}",
                "summary": event.description,
                "contentType": "application/json",
                "headers": {
                    "type": "object",
                    "required": ["Nats-Msg-Id"],
                    "properties": {
                        "Nats-Msg-Id": {
                            "type": "string",
                            "format": "uuid",
                            "description": "The event id: JetStream drops a re-publication "
                            "within the duplicate window; consumers de-duplicate on it.",
                        }
                    },
                },
                "payload": _message_schema(event),
                **({"x-person": event.person} if event.person else {}),
            }
            channel_messages[message_id] = {"$ref": f"#/components/messages/{message_id}"}
        channels[channel_id] = {
            "address": f"{SUBJECT_PREFIX}.{{territory}}.{name}",
            "title": name,
            "description": versions[-1].description,
            "parameters": {"territory": {"$ref": "#/components/parameters/territory"}},
            "messages": channel_messages,
        }
        operations[f"publish{channel_id[0].upper()}{channel_id[1:]}"] = {
            "action": "send",
            "title": f"The relay publishes {name}",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [
                {"$ref": f"#/channels/{channel_id}/messages/{m}"} for m in channel_messages
            ],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": TITLE,
            "version": DOCUMENT_VERSION,
            "description": (
                "Events published to the NATS JetStream stream "
                f"{spec.name} (subjects {', '.join(spec.subjects)}) by the outbox relay. "
                "Delivery: at-least-once publication, de-duplicated by the stream on "
                f"Nats-Msg-Id within {int(spec.duplicate_window.total_seconds())} s; retained "
                f"{int(spec.max_age.total_seconds() // 86400)} days or {spec.max_bytes} bytes. "
                "Consumers must be idempotent by event id. Payloads hold ids and enum values "
                "only, never personal data."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "127.0.0.1:4222",
                "protocol": "nats",
                "description": "The deployment's NATS (NATS_URL), JetStream enabled.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "parameters": {"territory": {"description": "Territory id where the change happened."}},
            "messages": messages,
        },
    }


def render(stream: StreamSpec | None = None) -> str:
    """The document as YAML (the text of asyncapi.yaml)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # one line per value: no wrapped scalars, no trailing spaces
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    out = io.StringIO()
    yaml.dump(document(stream), out)
    return out.getvalue()
