"""Territory ids: one validating function, mirrored by a CHECK constraint, checked before SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError

from db.engines import Database
from db.models import territories
from domain.errors import BadUserInput
from domain.territories import (
    TerritoryKind,
    kind_of,
    schema_name,
    validate_new_territory,
    validate_territory_id,
)
from tests.conftest import StatementCounter, error_codes, gql

VALID = ["global", "dk", "no", "se", "fn_sami", "fn_sami_north", "c_dk_aarhus", "c_fn_sami_duodji"]

INVALID = [
    "",
    "DK",
    "Dk",
    "dk ",
    " dk",
    "dk\n",
    "\x00dk",
    "dk;",
    "dk'; DROP SCHEMA global CASCADE; --",
    'dk"',
    "dk' OR '1'='1",
    "..",
    "../dk",
    "dk/..",
    "d.k",
    "d-k",
    "d\u043a",  # Cyrillic ka
    "\u0501k",  # Cyrillic komi de
    "\uff44\uff4b",  # fullwidth
    "dk\u200b",  # zero-width space
    "fn_",
    "fn_Sami",
    "fn__sami",
    "fn_sami_",
    "c_",
    "c_dk-aarhus",
    "xx",  # well-formed but not an ISO 3166-1 code
    "zz",
    "territory",
    "public",
    "pg_catalog",
    "a" * 200,
    "c_" + "a" * 47,
]


@pytest.mark.parametrize("value", VALID)
def test_valid_ids_pass(value: str) -> None:
    assert validate_territory_id(value) == value
    assert schema_name(value) == f"territory_{value}"
    assert len(schema_name(value).encode()) <= 63


@pytest.mark.parametrize("value", INVALID)
def test_invalid_ids_are_rejected(value: str) -> None:
    with pytest.raises(BadUserInput):
        validate_territory_id(value)
    with pytest.raises(BadUserInput):
        schema_name(value)


@pytest.mark.parametrize("value", [None, 12, b"dk", ["dk"]])
def test_non_strings_are_rejected(value: object) -> None:
    with pytest.raises(BadUserInput):
        validate_territory_id(value)


def test_kind_follows_shape() -> None:
    assert kind_of("global") is TerritoryKind.GLOBAL
    assert kind_of("dk") is TerritoryKind.COUNTRY
    assert kind_of("fn_sami") is TerritoryKind.FIRST_NATION
    assert kind_of("c_dk_aarhus") is TerritoryKind.COMMUNITY


@pytest.mark.parametrize(
    ("territory_id", "kind", "parent"),
    [
        ("dk", TerritoryKind.FIRST_NATION, None),
        ("fn_sami", TerritoryKind.COUNTRY, None),
        ("c_dk_aarhus", TerritoryKind.COMMUNITY, None),
        ("c_dk_aarhus", TerritoryKind.COMMUNITY, "no"),
        ("dk", TerritoryKind.COUNTRY, "DK"),
    ],
)
def test_new_territory_rules(territory_id: str, kind: TerritoryKind, parent: str | None) -> None:
    with pytest.raises(BadUserInput):
        validate_new_territory(territory_id, kind, parent)


@pytest.mark.parametrize("value", INVALID)
async def test_graphql_rejects_before_any_sql(
    client: object, statements: StatementCounter, value: str
) -> None:
    for query in (
        "query($t: String!) { territory(id: $t) { code } }",
        "query($t: String!) { communities(territory: $t) { nodes { name } } }",
    ):
        body = await gql(client, query, {"t": value})  # type: ignore[arg-type]
        assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert statements.count == 0, statements.statements


@pytest.mark.parametrize("value", ["DK", "dk;", "..", "xx_1", "a" * 200])
async def test_check_constraint_rejects_bad_ids(db: Database, value: str) -> None:
    """The database refuses what the function refuses, even when code bypasses the function."""
    with pytest.raises(DBAPIError):  # CHECK violation, or the column length for the long one
        async with db.transaction("main") as conn:
            await conn.execute(
                insert(territories).values(id=value, name="x", kind="country", db_server="main")
            )
