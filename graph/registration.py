"""Read the React app's operations for ``unityplan documents register`` and verify them.

Why verify before registering: a registered document is trusted (anonymous callers may run it in
production), so only texts that parse, validate against this schema and fit ``MAX_DOCUMENT_BYTES``
are stored, and a whole run is refused if any file is wrong (nothing half-registered).

Accepted inputs:

* ``.graphql``/``.gql`` files: each operation becomes its own document, together with the
  fragments it uses, printed by graphql-core (the normalised form codegen tools hash too; a client
  that sends other whitespace still needs its own manifest);
* ``.json`` manifests as build tools emit them: ``{"<sha256>": "<text>", ...}`` (graphql-codegen's
  persisted documents; keys may carry a ``sha256:`` prefix) or Apollo's persisted query manifest
  ``{"format": "apollo-persisted-query-manifest", "operations": [{"id", "name", "body"}]}``. The
  texts are registered byte for byte, and each key must be the SHA-256 of its text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    validate,
    visit,
)

from graph.server.documents import sha256_hex


class RegistrationError(Exception):
    """A file or document that cannot be registered; the message names it."""


@dataclass(frozen=True, slots=True)
class Candidate:
    sha256: str
    text: str
    name: str
    source: str


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: object) -> None:
        self.names.append(node.name.value)


def _fragments_used(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> list[FragmentDefinitionNode]:
    """Every fragment ``operation`` needs, transitively, in the order the file defines them."""
    needed: set[str] = set()
    pending: list[OperationDefinitionNode | FragmentDefinitionNode] = [operation]
    while pending:
        spreads = _Spreads()
        visit(pending.pop(), spreads)
        for name in spreads.names:
            if name not in needed and name in fragments:
                needed.add(name)
                pending.append(fragments[name])
    return [f for f in fragments.values() if f.name.value in needed]


def split_operations(text: str, source: str) -> list[Candidate]:
    """One printed document per operation of ``text``, with the fragments it uses."""
    try:
        document = parse(text)
    except GraphQLError as error:
        raise RegistrationError(f"{source}: {error.message}") from None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    candidates = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        single = DocumentNode(definitions=(definition, *_fragments_used(definition, fragments)))
        printed = print_ast(single)
        name = definition.name.value if definition.name else "(anonymous)"
        candidates.append(Candidate(sha256_hex(printed), printed, name, source))
    if not candidates:
        raise RegistrationError(f"{source}: no operation in this file")
    return candidates


def _from_manifest(data: object, source: str) -> list[Candidate]:
    entries: list[tuple[str, str, str]] = []  # (hash, text, name)
    if isinstance(data, dict) and isinstance(data.get("operations"), list):
        for operation in data["operations"]:
            if not (
                isinstance(operation, dict)
                and isinstance(operation.get("id"), str)
                and isinstance(operation.get("body"), str)
            ):
                raise RegistrationError(f"{source}: every operation needs a string id and body")
            entries.append((operation["id"], operation["body"], str(operation.get("name") or "")))
    elif isinstance(data, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        entries = [(key, value, "") for key, value in data.items()]
    else:
        raise RegistrationError(
            f"{source}: expected {{hash: text}} or an Apollo persisted query manifest"
        )
    candidates = []
    for key, text, name in entries:
        wanted = key.removeprefix("sha256:").lower()
        if sha256_hex(text) != wanted:
            raise RegistrationError(f"{source}: {key} is not the SHA-256 of its text")
        candidates.append(Candidate(wanted, text, name or _first_name(text), source))
    return candidates


def _first_name(text: str) -> str:
    try:
        document = parse(text)
    except GraphQLError:
        return "(unparsable)"  # verify() reports it
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.name:
            return definition.name.value
    return "(anonymous)"


def read_file(path: Path) -> list[Candidate]:
    """The candidates of one file, by its suffix (``.json``: a manifest, else GraphQL)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RegistrationError(f"{path}: {error}") from None
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as error:
            raise RegistrationError(f"{path}: not JSON ({error})") from None
        return _from_manifest(data, str(path))
    return split_operations(raw, str(path))


def verify(candidate: Candidate, schema: GraphQLSchema, max_bytes: int) -> None:
    """Raise unless the text parses, has an operation, validates and fits the size limit."""
    where = f"{candidate.source} ({candidate.name})"
    if len(candidate.text.encode()) > max_bytes:
        raise RegistrationError(f"{where}: larger than MAX_DOCUMENT_BYTES ({max_bytes})")
    try:
        document = parse(candidate.text)
    except GraphQLError as error:
        raise RegistrationError(f"{where}: {error.message}") from None
    if not any(isinstance(d, OperationDefinitionNode) for d in document.definitions):
        raise RegistrationError(f"{where}: no operation")
    errors = validate(schema, document)
    if errors:
        raise RegistrationError(f"{where}: {'; '.join(e.message for e in errors)}")


def collect(paths: list[Path], schema: GraphQLSchema, max_bytes: int) -> list[Candidate]:
    """Every verified candidate of ``paths``, once per hash; the first error stops the run."""
    seen: dict[str, Candidate] = {}
    for path in paths:
        for candidate in read_file(path):
            verify(candidate, schema, max_bytes)
            seen.setdefault(candidate.sha256, candidate)
    return list(seen.values())
