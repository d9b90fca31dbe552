"""The checked-in schema.graphql and schema.federation.graphql are the schema the code serves."""

from __future__ import annotations

from pathlib import Path

from graph.schema import public_sdl, subgraph_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
FEDERATION_FILE = SCHEMA_FILE.with_name("schema.federation.graphql")


def test_schema_graphql_matches_code() -> None:
    assert SCHEMA_FILE.read_text() == public_sdl() + "\n", (
        "schema.graphql is out of date: run `make schema` and commit it"
    )


def test_schema_federation_graphql_matches_code() -> None:
    assert FEDERATION_FILE.read_text() == subgraph_sdl() + "\n", (
        "schema.federation.graphql is out of date: run `make schema` and commit it"
    )
