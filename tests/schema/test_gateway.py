"""A real federation gateway in front of the live API: composition, query plans, `_entities`.

Apollo's composition library (tests/schema/gateway, pinned by its package-lock.json) composes
schema.federation.graphql with a tiny second subgraph, `picks`, which only holds references to
UnityPlan's communities and territories; Apollo Gateway serves the supergraph. Whatever a query
asks of a pick beyond its key, the gateway fetches from UnityPlan through `_entities`, so these
tests compare gateway answers with the same data asked of the API directly, and count the SQL
statements one batch of 50 representations across dk (main server) and se (second server) costs.
There are no subscriptions in the schema yet, so none goes through the gateway here.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML
from sqlalchemy import delete, insert

from db.engines import Database
from db.models import communities
from graph import ids
from graph.server.app import create_app
from tests.authkit import LOGIN, PASSWORD, REGISTER, invite, unique
from tests.conftest import StatementCounter
from tests.live import serve
from unityplan.settings import Settings

GATEWAY_DIR = Path(__file__).parent / "gateway"
SUBGRAPH_SDL = Path(__file__).resolve().parents[2] / "schema.federation.graphql"
DOCKER = SUBGRAPH_SDL.parent / "docker"
PREFIX = "gw-"

PICKS = """query($ids: [ID!]!) { picks(ids: $ids) { id name territory { code name } } }"""
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { ... on Community { id name
  territory { code name } } } }"""


@dataclass
class Live:
    api: str
    gateway: str
    statements: StatementCounter


def _install() -> None:
    if not (GATEWAY_DIR / "node_modules" / "@apollo" / "gateway").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=GATEWAY_DIR,
            check=True,
            timeout=300,
        )


@contextmanager
def node_server(script: str, *args: str) -> Iterator[str]:
    """Run a Node server script of tests/schema/gateway until it prints its URL; yield the URL."""
    proc = subprocess.Popen(
        ["node", script, *args], cwd=GATEWAY_DIR, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server listens, or the process ends
        assert line, f"{script} exited with {proc.wait()} before it listened"
        yield str(json.loads(line)["url"]).rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def compose(api_url: str, picks_url: str | None = None) -> dict[str, Any]:
    """Compose with `picks` when its URL is given; the API's URL as given (no /graphql added)."""
    run = subprocess.run(
        ["node", "compose.mjs", str(SUBGRAPH_SDL), api_url, *([picks_url] if picks_url else [])],
        cwd=GATEWAY_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.stdout, run.stderr
    result: dict[str, Any] = json.loads(run.stdout)
    return result


@pytest.fixture(scope="module")
def composed(
    settings: Settings, db: Database, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    """The live API, `picks` and the gateway, for the module (db: the suite's databases exist)."""
    assert shutil.which("node"), "Node.js 20 is required"
    _install()
    # Engines of the live app's own (uvicorn's loop), with a statement counter on them.
    database = Database(settings.servers(), pool_size=2)
    counter = StatementCounter()
    database.add_statement_listener(counter)
    with serve(create_app(settings, database)) as api, node_server("picks.mjs") as picks:
        result = compose(f"{api}/graphql", picks)
        assert result["errors"] == []
        assert result["hints"] == []  # none to document
        supergraph = tmp_path_factory.mktemp("gateway") / "supergraph.graphql"
        supergraph.write_text(result["supergraphSdl"])
        with node_server("gateway.mjs", str(supergraph)) as gateway:
            yield Live(api, gateway, counter)


def test_docker_supergraph_is_the_composition_of_the_subgraph_sdl() -> None:
    """docker/supergraph.graphql (what compose's gateway serves) is not stale."""
    _install()
    config = YAML(typ="safe").load((DOCKER / "supergraph.yaml").read_text())
    result = compose(config["subgraphs"]["unityplan"]["routing_url"])
    assert result["errors"] == []
    assert result["hints"] == []
    assert (DOCKER / "supergraph.graphql").read_text() == result["supergraphSdl"], (
        "docker/supergraph.graphql is stale: compose it again (see docker/supergraph.yaml)"
    )


async def ask(url: str, query: str, variables: dict[str, Any] | None = None, **headers: str) -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            f"{url}/graphql" if not url.endswith("/graphql") else url,
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
async def made(db: Database) -> AsyncIterator[dict[str, list[str]]]:
    """25 public communities each in dk (main server) and se (second server): their global ids."""
    found: dict[str, list[str]] = {}
    for tid, server in (("dk", "main"), ("se", "second")):
        keys = [uuid.uuid4() for _ in range(25)]
        found[tid] = [ids.encode("Community", tid, str(key)) for key in keys]
        async with db.transaction(server, tid) as conn:
            await conn.execute(
                insert(communities),
                [
                    {"id": key, "slug": f"{PREFIX}{i:03d}", "name": f"{tid} gateway {i}"}
                    for i, key in enumerate(keys)
                ],
            )
    yield found
    for tid, server in (("dk", "main"), ("se", "second")):
        async with db.transaction(server, tid) as conn:
            await conn.execute(delete(communities).where(communities.c.slug.like(f"{PREFIX}%")))


async def test_gateway_answers_as_the_api_does(composed: Live) -> None:
    query = (
        "{ territories(first: 10) { nodes { code name kind communities(first: 5) "
        "{ nodes { name } } } } }"
    )
    assert await ask(composed.gateway, query) == await ask(composed.api, query)
    via = await ask(composed.gateway, '{ territoryPick(code: "se") { code name kind } }')
    direct = await ask(composed.api, '{ territory(id: "se") { code name kind } }')
    assert via["territoryPick"] == direct["territory"]


async def test_entities_through_the_gateway_equal_nodes_asked_directly(
    composed: Live, made: dict[str, list[str]]
) -> None:
    picked = made["dk"][:3] + made["se"][:3]
    via = await ask(composed.gateway, PICKS, {"ids": picked})
    direct = await ask(composed.api, NODES, {"ids": picked})
    assert via["picks"] == direct["nodes"]
    assert {p["territory"]["code"] for p in via["picks"]} == {"dk", "se"}


async def test_fifty_representations_on_two_servers_cost_a_bounded_number_of_statements(
    composed: Live, made: dict[str, list[str]]
) -> None:
    counts = []
    for picked in (made["dk"][:1] + made["se"][:1], made["dk"] + made["se"]):
        composed.statements.statements.clear()
        via = await ask(composed.gateway, PICKS, {"ids": picked})
        assert [p["id"] for p in via["picks"]] == picked
        counts.append(composed.statements.count)
    servers = {server for server, _ in composed.statements.statements}
    assert servers == {"main", "second"}
    # Communities by id in dk and in se, and their territories from the registry: 3 for 2 or 50.
    assert counts == [3, 3], composed.statements.statements


async def test_register_login_and_an_authorized_query_through_the_gateway(
    composed: Live, db: Database
) -> None:
    token = await invite(db, "dk")
    username = unique()
    variables = {
        "input": {
            "invitationToken": token,
            "username": username,
            "email": f"{username}@example.org",
            "password": PASSWORD,
        }
    }
    await ask(composed.gateway, REGISTER, variables)
    login = {"input": {"identifier": username, "password": PASSWORD, "territory": "dk"}}
    access = (await ask(composed.gateway, LOGIN, login))["login"]["accessToken"]
    me = "{ me { id username territory { code name } } }"
    bearer = {"authorization": f"Bearer {access}"}
    via = await ask(composed.gateway, me, **bearer)
    assert via["me"]["username"] == username
    assert via == await ask(composed.api, me, **bearer)
