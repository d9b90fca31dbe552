"""The client libraries of the React app and of third parties, against a live server.

tests/server/clients/client.mjs (pinned by its package-lock.json) configures Apollo Client 4 and
graphql-ws as docs/clients.md says and runs: a query; the same query from a second client by its
SHA-256 alone (automatic persisted queries, which development and test allow); the login mutation
with the CSRF preflight header; an authorized query; the error codes the client reads; and a query
over the WebSocket link; a subscription (`communityActivity`) fed through NATS while the client
joins and leaves a community.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from db.engines import Database
from graph.server.app import create_app
from tests.authkit import PASSWORD, REGISTER, accept_code_of_conduct, invite, unique
from tests.live import serve
from unityplan.settings import Settings

CLIENT_DIR = Path(__file__).parent / "clients"
CASES = {
    "query",
    "persisted-document-by-hash",
    "mutation-with-preflight-header",
    "authorized-query",
    "error-codes",
    "csrf-refusal-is-coded",
    "websocket-query",
    "subscription",
}


@pytest.fixture(scope="module")
def base_url(settings: Settings, db: Database) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield url


def _install() -> None:
    if not (CLIENT_DIR / "node_modules" / "@apollo" / "client").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=CLIENT_DIR,
            check=True,
            timeout=300,
        )


@pytest.mark.timeout(240)
async def test_apollo_client_and_graphql_ws_work_as_documented(base_url: str, db: Database) -> None:
    assert shutil.which("node"), "Node.js 20 is required"
    _install()
    username = unique()
    async with httpx.AsyncClient(base_url=base_url) as http:
        registered = await http.post(
            "/graphql",
            json={
                "query": REGISTER,
                "variables": {
                    "input": {
                        "invitationToken": await invite(db, "dk"),
                        "username": username,
                        "email": f"{username}@example.org",
                        "password": PASSWORD,
                    }
                },
            },
        )
    assert "errors" not in registered.json(), registered.text
    # The client logs in afterwards: its token then carries the accepted Code of Conduct.
    await accept_code_of_conduct(db, registered.json()["data"]["register"]["id"])
    env = {
        **os.environ,
        "API_URL": base_url,
        "USERNAME": username,
        "PASSWORD": PASSWORD,
        "TERRITORY": "dk",
    }
    proc = await asyncio.create_subprocess_exec(
        "node",
        "client.mjs",
        cwd=CLIENT_DIR,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    stdout, stderr = out.decode(), err.decode()
    print(stdout)  # visible with -s, and in CI logs on failure
    cases = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    assert {c["case"] for c in cases} == CASES, stdout + stderr
    failed = [c for c in cases if not c["ok"]]
    assert failed == [], json.dumps(failed, indent=1) + stderr
    assert proc.returncode == 0, stderr
