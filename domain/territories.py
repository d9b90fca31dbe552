"""Territory identifiers: the only user-supplied text that ever becomes part of a schema name.

Format (documented in the README, mirrored by a CHECK constraint on ``global.territories``):

* ``global``: the federation's own territory;
* a country: its ISO 3166-1 alpha-2 code in lower case (``dk``, ``no``, ``se``);
* a First Nation: ``fn_`` and a slug (``fn_sami``);
* a community: ``c_``, the parent territory's id and a slug (``c_dk_aarhus``).

A slug is lower-case ASCII letters and digits in groups joined by single underscores. The whole
id is at most 48 characters so that ``territory_<id>`` fits PostgreSQL's 63-byte identifier limit.
"""

from __future__ import annotations

import re
from enum import StrEnum

import pycountry

from domain.errors import BadUserInput

MAX_LENGTH = 48
SCHEMA_PREFIX = "territory_"


class TerritoryKind(StrEnum):
    GLOBAL = "global"
    COUNTRY = "country"
    FIRST_NATION = "first_nation"
    COMMUNITY = "community"


class TerritoryStatus(StrEnum):
    ACTIVE = "active"
    PROVISIONING = "provisioning"
    SUSPENDED = "suspended"


_SLUG = r"[a-z0-9]+(?:_[a-z0-9]+)*"
# The same pattern, in POSIX form, is the CHECK constraint in the global migration.
ID_PATTERN = rf"global|[a-z]{{2}}|fn_{_SLUG}|c_{_SLUG}"
_ID_RE = re.compile(ID_PATTERN, re.ASCII)
_COUNTRY_CODES = frozenset(c.alpha_2.lower() for c in pycountry.countries)


def kind_of(territory_id: str) -> TerritoryKind:
    """The kind an id's shape implies; assumes ``territory_id`` is valid."""
    if territory_id == "global":
        return TerritoryKind.GLOBAL
    if territory_id.startswith("fn_"):
        return TerritoryKind.FIRST_NATION
    if territory_id.startswith("c_"):
        return TerritoryKind.COMMUNITY
    return TerritoryKind.COUNTRY


def validate_territory_id(value: object) -> str:
    """Return ``value`` if it is a well-formed territory id, else raise ``BadUserInput``.

    Called on every id that arrives from outside before any SQL runs; nothing that has not passed
    here may be formatted into a schema name.
    """
    if not isinstance(value, str) or not value:
        raise BadUserInput("A territory id must be a non-empty string.")
    if len(value) > MAX_LENGTH:
        raise BadUserInput(f"A territory id is at most {MAX_LENGTH} characters long.")
    if _ID_RE.fullmatch(value) is None:
        raise BadUserInput(
            "Invalid territory id: use 'global', a lower-case ISO 3166-1 alpha-2 country code, "
            "'fn_<slug>' or 'c_<slug>' (lower-case ASCII letters, digits and single underscores)."
        )
    if kind_of(value) is TerritoryKind.COUNTRY and value not in _COUNTRY_CODES:
        raise BadUserInput(f"'{value}' is not an ISO 3166-1 alpha-2 country code.")
    return value


def validate_new_territory(territory_id: str, kind: TerritoryKind, parent_id: str | None) -> None:
    """Rules for registering a territory: the id's shape must agree with its kind and parent."""
    validate_territory_id(territory_id)
    if kind_of(territory_id) is not kind:
        raise BadUserInput(f"A {kind.value} territory's id must look like a {kind.value} id.")
    if kind is TerritoryKind.COMMUNITY:
        if parent_id is None:
            raise BadUserInput("A community territory needs a parent territory.")
        validate_territory_id(parent_id)
        if not territory_id.startswith(f"c_{parent_id}_"):
            raise BadUserInput(f"A community of '{parent_id}' is named 'c_{parent_id}_<slug>'.")
    elif parent_id is not None:
        validate_territory_id(parent_id)


def schema_name(territory_id: str) -> str:
    """The PostgreSQL schema holding one territory's data."""
    return SCHEMA_PREFIX + validate_territory_id(territory_id)
