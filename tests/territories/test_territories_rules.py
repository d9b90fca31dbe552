"""Territory id rules one at a time, with the 48-character limit tried at 48 and 49."""

from __future__ import annotations

import pytest

from domain.errors import BadUserInput
from domain.territories import (
    TerritoryKind,
    kind_of,
    schema_name,
    validate_new_territory,
    validate_territory_id,
)

EMPTY = "A territory id must be a non-empty string."
TOO_LONG = "A territory id is at most 48 characters long."
SHAPE = (
    "Invalid territory id: use 'global', a lower-case ISO 3166-1 alpha-2 country code, "
    "'fn_<slug>' or 'c_<slug>' (lower-case ASCII letters, digits and single underscores)."
)

AT_LIMIT = "c_dk_" + "a" * 43  # 48 characters
PAST_LIMIT = "c_dk_" + "a" * 44  # 49 characters


def refusal(call: object, *args: object) -> str:
    with pytest.raises(BadUserInput) as refused:
        call(*args)  # type: ignore[operator]
    return refused.value.message


def test_the_limit_samples_are_what_they_claim() -> None:
    assert (len(AT_LIMIT), len(PAST_LIMIT)) == (48, 49)


@pytest.mark.parametrize(
    "value", ["global", "dk", "no", "se", "fn_sami", "fn_a1_b2", "c_dk_aarhus", "c_1", AT_LIMIT]
)
def test_accepted_ids(value: str) -> None:
    assert validate_territory_id(value) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, EMPTY),
        (48, EMPTY),
        (b"dk", EMPTY),
        ("", EMPTY),
        (PAST_LIMIT, TOO_LONG),
        ("DK", SHAPE),
        ("d", SHAPE),
        ("dnk", SHAPE),
        ("fn_", SHAPE),
        ("fn_sami_", SHAPE),
        ("c__dk", SHAPE),
        ("c_dk-aarhus", SHAPE),
        ("globalx", SHAPE),
        (" dk", SHAPE),
        ("dk\n", SHAPE),
        ("zz", "'zz' is not an ISO 3166-1 alpha-2 country code."),
        ("xk", "'xk' is not an ISO 3166-1 alpha-2 country code."),
    ],
)
def test_each_rule_refuses_its_own_input(value: object, message: str) -> None:
    assert refusal(validate_territory_id, value) == message


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("global", "global"),
        ("dk", "country"),
        ("fn_sami", "first_nation"),
        ("c_dk_aarhus", "community"),
        ("c_fn_sami_x", "community"),
    ],
)
def test_kind_follows_shape(value: str, kind: str) -> None:
    assert kind_of(value).value == kind


@pytest.mark.parametrize(
    ("territory", "kind", "parent"),
    [
        ("global", "global", None),
        ("dk", "country", None),
        ("no", "country", "global"),
        ("fn_sami", "first_nation", None),
        ("fn_sami", "first_nation", "no"),
        ("c_dk_aarhus", "community", "dk"),
        ("c_fn_sami_karasjok", "community", "fn_sami"),
    ],
)
def test_new_territories_accepted(territory: str, kind: str, parent: str | None) -> None:
    assert validate_new_territory(territory, TerritoryKind(kind), parent) is None


@pytest.mark.parametrize(
    ("territory", "kind", "parent", "message"),
    [
        ("DK", "country", None, SHAPE),
        (
            "dk",
            "first_nation",
            None,
            "A first_nation territory's id must look like a first_nation id.",
        ),
        ("fn_sami", "country", None, "A country territory's id must look like a country id."),
        ("c_dk_aarhus", "country", "dk", "A country territory's id must look like a country id."),
        ("c_dk_aarhus", "community", None, "A community territory needs a parent territory."),
        ("c_dk_aarhus", "community", "DK", SHAPE),
        ("c_dk_aarhus", "community", "se", "A community of 'se' is named 'c_se_<slug>'."),
        ("c_dkaarhus", "community", "dk", "A community of 'dk' is named 'c_dk_<slug>'."),
        ("c_dk", "community", "dk", "A community of 'dk' is named 'c_dk_<slug>'."),
        ("fn_sami", "first_nation", "ZZ", SHAPE),
        ("fn_sami", "first_nation", "zz", "'zz' is not an ISO 3166-1 alpha-2 country code."),
    ],
)
def test_new_territories_refused_by_one_rule(
    territory: str, kind: str, parent: str | None, message: str
) -> None:
    assert refusal(validate_new_territory, territory, TerritoryKind(kind), parent) == message


def test_schema_names() -> None:
    assert schema_name("dk") == "territory_dk"
    assert schema_name(AT_LIMIT) == "territory_" + AT_LIMIT
    assert len(schema_name(AT_LIMIT).encode()) <= 63
    assert refusal(schema_name, "dk;drop") == SHAPE
