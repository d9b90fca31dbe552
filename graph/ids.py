"""Relay global ids: ``base64url("<Type>:<territory>:<key>")``, validated completely on decode.

The territory is part of the id so a node lookup routes to the right schema without asking the
registry where a key lives; it is validated by the same function as every other territory id, and
the key by its type, before any SQL runs. A forged id is either rejected here or resolves to
NOT_FOUND through the ordinary, authorized loaders.
"""

from __future__ import annotations

import base64
import binascii
import unicodedata
import uuid
from dataclasses import dataclass

from domain.errors import BadUserInput
from domain.territories import validate_territory_id

MAX_ID_LENGTH = 200


@dataclass(frozen=True, slots=True)
class NodeKey:
    type_name: str
    territory_id: str
    key: str


_URL_SAFE = bytes.maketrans(b"+/", b"-_")


def encode(type_name: str, territory_id: str, key: str) -> str:
    # binascii directly: base64.urlsafe_b64encode's two Python wrappers cost as much again, and
    # a forum page encodes some 4,000 ids.
    raw = f"{type_name}:{territory_id}:{key}".encode()
    return binascii.b2a_base64(raw, newline=False).translate(_URL_SAFE).rstrip(b"=").decode()


def decode(value: object) -> NodeKey:
    """Split a global id into its parts, or raise ``BadUserInput`` saying what is wrong."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise BadUserInput("Malformed node id.")
    try:
        padded = value + "=" * (-len(value) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput("Malformed node id.") from None
    if not _printable(raw):
        raise BadUserInput("Malformed node id.")
    parts = raw.split(":")
    if len(parts) != 3 or not all(parts):
        raise BadUserInput("Malformed node id.")
    type_name, territory_id, key = parts
    validate_territory_id(territory_id)
    return NodeKey(type_name, territory_id, key)


def parse_uuid(key: str) -> uuid.UUID:
    try:
        parsed = uuid.UUID(key)
    except ValueError:
        raise BadUserInput("Malformed node id.") from None
    if str(parsed) != key:
        raise BadUserInput("Malformed node id.")
    return parsed


def _printable(text: str) -> bool:
    """No control characters (NUL above all: PostgreSQL refuses it in text, as a 500) and no
    lone surrogates: nothing a client may smuggle through base64 into a SQL parameter."""
    return not any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(f"c:{value}".encode()).decode("ascii").rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The key inside an ``after`` cursor: the one decoder of every connection, so every
    connection refuses the same malformed cursors as ``BAD_USER_INPUT`` on ``after``."""
    if cursor is None:
        return None
    if len(cursor) > MAX_ID_LENGTH:
        raise BadUserInput("Malformed cursor.", field="after")
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput("Malformed cursor.", field="after") from None
    if not text.startswith("c:") or not _printable(text):
        raise BadUserInput("Malformed cursor.", field="after")
    return text[2:]
