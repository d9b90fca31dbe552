"""The checked-in schema.graphql and schema.federation.graphql are the schema the code serves."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.schema import public_sdl, subgraph_sdl
from unityplan.cli import app

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


@pytest.mark.parametrize(
    ("arguments", "path"),
    [(["schema"], SCHEMA_FILE), (["schema", "--federation"], FEDERATION_FILE)],
)
def test_cli_prints_each_checked_in_file(arguments: list[str], path: Path) -> None:
    """`make schema` writes both files with these commands."""
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code == 0, result.output
    assert result.stdout == path.read_text()
