"""schema.graphql passes @graphql-eslint, so third parties and generated client types get a
documented API (issue 15).

tests/schema-lint/lint.mjs (pinned by its package-lock.json) runs the description rules (every
type, field, argument, input field and enum value), the Relay connection, edge, page-info and
pagination-argument rules, and the naming and casing rules; alphabetical order stays unlinted,
because order carries meaning. The failure message lists every gap with its line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import strawberry
import strawberry.federation

from graph.schema import schema
from graph.types.relay import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, After, Connection, First

LINT_DIR = Path(__file__).parent / "schema-lint"
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"

# Everything the rules ask for, in the shapes Strawberry prints (`first: Int = null`, block
# descriptions): the linter must find nothing here, so a rule that misfires on our SDL shows up.
DOCUMENTED = '''
"""An object with a global id."""
interface Node {
  """Opaque global id."""
  id: ID!
}

"""Where a page sits in its list."""
type PageInfo {
  """True when more items follow."""
  hasNextPage: Boolean!
  """True when asked for with `after`."""
  hasPreviousPage: Boolean!
  """The first item's cursor."""
  startCursor: String
  """The last item's cursor."""
  endCursor: String
}

"""A place."""
type Place implements Node {
  """Opaque global id."""
  id: ID!
  """Its name."""
  name: String!
  """How it is used."""
  kind: PlaceKind!
}

"""How a place is used."""
enum PlaceKind {
  """People live there."""
  HOME
  """People work there."""
  OFFICE
}

"""A page of places."""
type PlaceConnection {
  """Whether more follow."""
  pageInfo: PageInfo!
  """The places of this page."""
  nodes: [Place!]!
  """The places with their cursors."""
  edges: [PlaceEdge!]!
}

"""A place with its cursor."""
type PlaceEdge {
  """Its position."""
  cursor: String!
  """The place."""
  node: Place!
}

"""What can be read."""
type Query {
  """Places by name."""
  places(
    """How many."""
    first: Int = null
    """After this cursor."""
    after: String = null
  ): PlaceConnection!
}

"""A new place."""
input CreatePlaceInput {
  """Its name."""
  name: String!
}

"""What came of `createPlace`."""
type CreatePlacePayload {
  """The new place."""
  place: Place!
}

"""What can be changed."""
type Mutation {
  """Create a place."""
  createPlace(
    """The place."""
    input: CreatePlaceInput!
  ): CreatePlacePayload!
}
'''

# One gap of each kind the rules must catch, added to DOCUMENTED -> the message each one gets.
GAPS = {
    '"""A place."""\ntype Place implements Node {': (
        '"""A place."""\ntype Place implements Node {\n  undocumentedField: String'
    ),
    '"""What can be read."""\ntype Query {': (
        '"""What can be read."""\ntype Query {\n'
        '  """Lists."""\n  lists(unexplained: Int): [Place!]!\n'
        '  """A page without its arguments."""\n  unpaged: PlaceConnection!\n'
        '  """Snake case."""\n  snake_case: Int\n'
        '  """Gone."""\n  old: Int @deprecated\n'
        '  """Reaches the gaps below."""\n  gaps(\n    """Reaches Unexplained."""\n'
        "    filter: Unexplained\n  ): Undocumented\n"
        '  """Reaches the broken connection."""\n  broken(\n    """How many."""\n'
        '    first: Int\n    """After."""\n    after: String\n  ): BrokenConnection\n'
    ),
    '  """People work there."""\n  OFFICE': (
        '  """People work there."""\n  OFFICE\n  UNDOCUMENTED\n  """Lower."""\n  lower'
    ),
}
EXTRA = '''
type Undocumented {
  """A field."""
  field: Int
}

"""An input."""
input Unexplained {
  silent: Int
}

"""Has no pageInfo."""
type BrokenConnection {
  """The edges."""
  edges: [PlaceEdge!]!
}
'''
DESCRIBE = "Description is required for "
EXPECTED_GAPS = {
    ("require-description", DESCRIBE + 'field "undocumentedField" in type "Place"'),
    ("require-description", DESCRIBE + 'input value "unexplained" in field "lists"'),
    ("require-description", DESCRIBE + 'enum value "UNDOCUMENTED" in enum "PlaceKind"'),
    ("require-description", DESCRIBE + 'type "Undocumented"'),
    ("require-description", DESCRIBE + 'input value "silent" in input "Unexplained"'),
    (
        "relay-arguments",
        "A field that returns a Connection type must include forward pagination arguments "
        "(`first` and `after`), backward pagination arguments (`last` and `before`), or both.",
    ),
    (
        "relay-connection-types",
        "Connection type must contain a field `pageInfo` that return a non-null `PageInfo` "
        "Object type.",
    ),
    ("naming-convention", 'Field "snake_case" should be in camelCase format'),
    ("naming-convention", 'Enum value "lower" should be in UPPER_CASE format'),
    (
        "require-deprecation-reason",
        'Deprecation reason is required for field "old" in type "Query".',
    ),
}


def _install() -> None:
    if not (LINT_DIR / "node_modules" / "@graphql-eslint" / "eslint-plugin").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=LINT_DIR,
            check=True,
            timeout=180,
        )


def lint(path: Path) -> list[dict[str, Any]]:
    """Every problem the linter finds in the SDL file at ``path``."""
    assert shutil.which("node"), "Node.js 20 is required"
    assert shutil.which("npm"), "npm is required"
    _install()
    run = subprocess.run(
        ["node", "lint.mjs", str(path)],
        cwd=LINT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    problems = [line for line in lines if "rule" in line]
    summaries = [line for line in lines if "summary" in line]
    assert summaries, f"the linter did not finish: {run.stderr}"
    assert summaries[0]["total"] == len(problems)
    assert run.returncode == (1 if problems else 0), run.stderr
    return problems


def _report(problems: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  line {p['line']}: {p['message']} ({p['rule'].removeprefix('@graphql-eslint/')})"
        for p in problems
    )


@pytest.mark.timeout(240)
def test_schema_graphql_passes_the_linter() -> None:
    problems = lint(SCHEMA_FILE)
    assert not problems, f"{len(problems)} problems in schema.graphql:\n{_report(problems)}"


@pytest.mark.timeout(240)
def test_linter_passes_a_documented_schema_and_catches_each_kind_of_gap(tmp_path: Path) -> None:
    documented = tmp_path / "documented.graphql"
    documented.write_text(DOCUMENTED)
    assert lint(documented) == []

    text = DOCUMENTED
    for anchor, replacement in GAPS.items():
        assert text.count(anchor) == 1, anchor
        text = text.replace(anchor, replacement)
    gappy = tmp_path / "gaps.graphql"
    gappy.write_text(text + EXTRA)
    found = {(p["rule"].removeprefix("@graphql-eslint/"), p["message"]) for p in lint(gappy)}
    assert found == EXPECTED_GAPS


def test_connections_edges_page_info_and_node_are_described() -> None:
    """The generic parts carry relay.py's descriptions in every specialisation."""
    graphql_schema = schema._schema
    generic = [
        t
        for name, t in graphql_schema.type_map.items()
        if name.endswith(("Connection", "Edge")) or name in ("PageInfo", "Node")
    ]
    assert {"PageInfo", "Node", "TerritoryConnection", "TerritoryEdge"} <= {t.name for t in generic}
    undocumented = [
        f"{t.name}.{field}"
        for t in generic
        for field, definition in getattr(t, "fields", {}).items()
        if not definition.description
    ] + [t.name for t in generic if not t.description]
    assert not undocumented


@strawberry.type(description="An item.")
class Item:
    name: str


@strawberry.type
class PagedQuery:
    @strawberry.field
    def items(self, first: First = None, after: After = None) -> Connection[Item]:
        raise AssertionError("never resolved")


def test_first_and_after_carry_their_description_and_limits() -> None:
    # A federation schema: PageInfo carries `@shareable` (graph/types/federation.py).
    arguments = strawberry.federation.Schema(PagedQuery)._schema.query_type.fields["items"].args
    first, after = arguments["first"], arguments["after"]
    assert str(first.type) == "Int"
    assert str(after.type) == "String"
    assert first.default_value is None
    assert after.default_value is None
    assert f"0 to {MAX_PAGE_SIZE}" in (first.description or "")
    assert f"absent: {DEFAULT_PAGE_SIZE}" in (first.description or "")
    assert "cursor" in (after.description or "")
