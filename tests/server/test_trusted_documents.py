"""Trusted documents: APQ and `documentId`, the four modes, and `unityplan documents register`."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, print_ast
from sqlalchemy import select

from db.engines import Database
from db.models import trusted_documents
from domain.tokens import private_pem
from graph.server.app import create_app
from graph.server.policy import policy
from tests.authkit import account, cli
from unityplan.settings import Settings

GRAPHQL_RESPONSE = "application/graphql-response+json"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def unique_query() -> str:
    """A document no other test registered: an alias with a fresh name."""
    return f"{{ t{uuid.uuid4().hex[:12]}: __typename }}"


@asynccontextmanager
async def api(
    auth_app: Any, auth_settings: Settings, db: Database, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app with ``overrides``, trusting the tokens ``auth_app`` signs."""
    keys = auth_app.state.auth.config.keys
    kid = next(iter(keys._keys))
    own = auth_settings.model_copy(
        update={"jwt_private_keys": {kid: private_pem(keys._keys[kid])}, **overrides}
    )
    app = create_app(own, db)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.redis.aclose()


async def post(
    client: httpx.AsyncClient, body: dict[str, Any], token: str | None = None, accept: str = ""
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if accept:
        headers["accept"] = accept
    return await client.post("/graphql", json=body, headers=headers)


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def apq(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}


async def registered(db: Database, digest: str) -> str | None:
    async with db.connect("main") as conn:
        body: str | None = await conn.scalar(
            select(trusted_documents.c.body).where(trusted_documents.c.sha256 == digest)
        )
        return body


def test_production_runs_only_registered_documents_for_anonymous_callers() -> None:
    assert policy(Settings(unityplan_env="development")).trusted_documents == "allow"
    production = Settings(unityplan_env="production", identity_hash_key="k")
    assert policy(production).trusted_documents == "anonymous-registered-only"
    overridden = production.model_copy(update={"trusted_documents": "off"})
    assert policy(overridden).trusted_documents == "off"


async def test_automatic_persisted_queries_in_allow_mode(
    auth_app: Any, auth_settings: Settings, db: Database
) -> None:
    text = unique_query()
    alias = text[2:15]
    async with api(auth_app, auth_settings, db, trusted_documents="allow") as client:
        # Hash alone, unknown: the Apollo client retries with the text.
        missing = await post(client, {"extensions": apq(text)})
        assert missing.status_code == 200
        assert codes(missing) == ["PERSISTED_QUERY_NOT_FOUND"]
        assert "data" not in missing.json()
        strict = await post(client, {"extensions": apq(text)}, accept=GRAPHQL_RESPONSE)
        assert strict.status_code == 400
        assert codes(strict) == ["PERSISTED_QUERY_NOT_FOUND"]
        # A wrong hash with the text is refused and registers nothing.
        wrong = await post(client, {"query": text, "extensions": apq(text + " ")})
        assert codes(wrong) == ["PERSISTED_QUERY_HASH_MISMATCH"]
        assert await registered(db, sha(text + " ")) is None
        # Hash and text: runs, and registers the text.
        first = await post(client, {"query": text, "extensions": apq(text)})
        assert first.json() == {"data": {alias: "Query"}}
        assert await registered(db, sha(text)) == text
        # Hash alone now, and the draft's documentId form: the registered text runs.
        again = await post(client, {"extensions": apq(text)})
        assert again.json() == {"data": {alias: "Query"}}
        by_id = await post(client, {"documentId": f"sha256:{sha(text)}"})
        assert by_id.json() == {"data": {alias: "Query"}}
        # A document that fails validation is never registered.
        invalid = "{ noSuchField }"
        refused = await post(client, {"query": invalid, "extensions": apq(invalid)})
        assert codes(refused) == ["GRAPHQL_VALIDATION_FAILED"]
        assert await registered(db, sha(invalid)) is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"documentId": "md5:abc"}, "BAD_REQUEST"),
        ({"documentId": "sha256:XYZ"}, "BAD_REQUEST"),
        ({"documentId": 7}, "BAD_REQUEST"),
        ({"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}}}, "BAD_REQUEST"),
        ({"query": "{ __typename }", "documentId": f"sha256:{'0' * 64}"}, "BAD_REQUEST"),
    ],
)
async def test_malformed_persisted_requests_are_400(
    auth_client: httpx.AsyncClient, body: dict[str, Any], code: str
) -> None:
    response = await post(auth_client, body)
    assert response.status_code == 400
    assert codes(response) == [code]


async def test_unknown_document_id(auth_client: httpx.AsyncClient) -> None:
    response = await post(auth_client, {"documentId": f"sha256:{'0' * 64}"})
    assert codes(response) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_modes_decide_who_may_send_text(
    auth_client: httpx.AsyncClient, auth_app: Any, auth_settings: Settings, db: Database
) -> None:
    user = await account(auth_client, db, "dk")
    token = user["accessToken"]
    known = unique_query()
    assert (await post(auth_client, {"query": known, "extensions": apq(known)})).status_code == 200
    assert await registered(db, sha(known)) == known
    unknown = unique_query()

    async with api(
        auth_app, auth_settings, db, trusted_documents="anonymous-registered-only"
    ) as client:
        refused = await post(client, {"query": unknown})
        assert codes(refused) == ["TRUSTED_DOCUMENT_REQUIRED"]
        assert "data" not in refused.json()
        with_hash = await post(client, {"query": unknown, "extensions": apq(unknown)})
        assert codes(with_hash) == ["TRUSTED_DOCUMENT_REQUIRED"]
        assert await registered(db, sha(unknown)) is None  # no registration outside `allow`
        # Registered documents run for anyone, by hash, by id or as their exact text.
        for body in (
            {"documentId": f"sha256:{sha(known)}"},
            {"extensions": apq(known)},
            {"query": known},
        ):
            assert "errors" not in (await post(client, body)).json(), body
        # Authenticated callers may send any text.
        assert "errors" not in (await post(client, {"query": unknown}, token)).json()

    async with api(auth_app, auth_settings, db, trusted_documents="registered-only") as client:
        refused = await post(client, {"query": unknown}, token)
        assert codes(refused) == ["TRUSTED_DOCUMENT_REQUIRED"]
        assert "errors" not in (await post(client, {"query": known}, token)).json()

    async with api(auth_app, auth_settings, db, trusted_documents="off") as client:
        by_id = await post(client, {"documentId": f"sha256:{sha(known)}"})
        assert codes(by_id) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
        hash_only = await post(client, {"extensions": apq(known)})
        assert codes(hash_only) == ["PERSISTED_QUERY_NOT_SUPPORTED"]
        # Text with its hash simply runs (and is not registered).
        both = await post(client, {"query": unknown, "extensions": apq(unknown)})
        assert "errors" not in both.json()
        assert await registered(db, sha(unknown)) is None


OPERATIONS = """
query Territories { territories(first: 2) { nodes { ...TerritoryBits } } }
mutation Logout { logout(allSessions: false) { endedSessions } }
fragment TerritoryBits on Territory { id code }
fragment Unused on Territory { name }
"""


async def test_cli_registers_operations_and_manifests(
    tmp_path: Path,
    auth_app: Any,
    auth_settings: Settings,
    db: Database,
) -> None:
    marker = uuid.uuid4().hex[:8]
    graphql_file = tmp_path / "operations.graphql"
    graphql_file.write_text(OPERATIONS.replace("Territories", f"Territories{marker}"))
    manifest_text = f"query Manifest{marker} {{ __typename }}"
    codegen = tmp_path / "persisted-documents.json"
    codegen.write_text(json.dumps({sha(manifest_text): manifest_text}))
    apollo_text = f"query Apollo{marker} {{ __typename }}"
    apollo = tmp_path / "persisted-query-manifest.json"
    apollo.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [
                    {"id": sha(apollo_text), "name": f"Apollo{marker}", "body": apollo_text}
                ],
            }
        )
    )

    code, out, err = await cli(
        db, "documents", "register", str(graphql_file), str(codegen), str(apollo)
    )
    assert code == 0, err
    lines = [line.split("\t") for line in out.strip().splitlines()]
    assert [(name, state) for _, name, state in lines] == [
        (f"Territories{marker}", "registered"),
        ("Logout", lines[1][2]),  # another run may have registered the same text already
        (f"Manifest{marker}", "registered"),
        (f"Apollo{marker}", "registered"),
    ]
    territories_id = lines[0][0]
    stored = await registered(db, territories_id.removeprefix("sha256:"))
    assert stored is not None
    assert "fragment TerritoryBits" in stored
    assert "Unused" not in stored
    assert "mutation" not in stored
    assert await registered(db, sha(manifest_text)) == manifest_text  # byte for byte

    code, out, _ = await cli(db, "documents", "register", str(graphql_file), str(codegen))
    assert code == 0
    assert all(line.endswith("\talready registered") for line in out.strip().splitlines())

    # Anonymous callers in production mode run what the CLI registered.
    async with api(
        auth_app, auth_settings, db, trusted_documents="anonymous-registered-only"
    ) as client:
        ran = await post(client, {"documentId": territories_id})
        assert len(ran.json()["data"]["territories"]["nodes"]) == 2

    # One invalid document: nothing of the run is registered, exit code 2, the file named.
    fresh = f"query Fresh{marker} {{ __typename }}"
    bad = tmp_path / "bad.graphql"
    bad.write_text(f"{fresh}\nquery Broken{marker} {{ noSuchField }}")
    code, out, err = await cli(db, "documents", "register", str(bad))
    assert code == 2
    assert "bad.graphql" in err
    assert "noSuchField" in err
    assert out == ""
    assert await registered(db, sha(print_ast(parse(fresh)))) is None
    lying = tmp_path / "lying.json"
    lying.write_text(json.dumps({"0" * 64: fresh}))
    code, _, err = await cli(db, "documents", "register", str(lying))
    assert code == 2
    assert "not the SHA-256" in err
