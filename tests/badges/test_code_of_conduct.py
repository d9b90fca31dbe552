"""The Code of Conduct gate: a new account reads `me` and the Code of Conduct and accepts it,
nothing else; at expiry every other operation fails with CODE_OF_CONDUCT_REQUIRED over HTTP and
WebSocket (subscriptions too); accepting again restores access at once."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from db.engines import Database
from domain.tokens import private_pem
from graph.server.app import create_app
from tests.authkit import account, call, codes, fields, login
from unityplan.settings import Settings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "Using `httpx`", UserWarning)
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`:UserWarning")

ACCEPT = """
mutation($v: Int!) {
  acceptCodeOfConduct(input: {version: $v}) { renewed award { status validUntil awardedAt } }
}"""
COMMUNITIES = '{ communities(territory: "dk", first: 1) { nodes { id } } }'
UPDATE_PROFILE = 'mutation { updateProfile(input: {bio: "hi"}) { profile { id } } }'
ACTIVITY = "subscription($id: ID!) { communityActivity(communityId: $id) { id } }"
REQUIRED = ["CODE_OF_CONDUCT_REQUIRED"]


@dataclass
class MovableClock:
    """The app's clock, moved by the test instead of waiting."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def newcomer(client: httpx.AsyncClient, db: Database, territory: str) -> dict[str, Any]:
    return await account(client, db, territory, code_of_conduct=False)


@pytest.mark.parametrize("territory", ["dk", "se"])
async def test_a_new_account_may_only_read_me_and_accept(
    client: httpx.AsyncClient, db: Database, territory: str
) -> None:
    person = await newcomer(client, db, territory)
    token = person["accessToken"]
    me = await call(client, "{ me { id badges { nodes { id } } } }", token=token)
    assert me["data"]["me"]["badges"]["nodes"] == []
    text = await call(
        client, '{ codeOfConduct(language: "da") { version language text } }', token=token
    )
    assert text["data"]["codeOfConduct"]["language"] == "da"
    assert "adfærdskodeks" in text["data"]["codeOfConduct"]["text"]
    english = await call(client, '{ codeOfConduct(language: "fr") { language text } }')
    assert english["data"]["codeOfConduct"]["language"] == "en"
    assert codes(await call(client, COMMUNITIES, token=token)) == REQUIRED
    assert codes(await call(client, UPDATE_PROFILE, token=token)) == REQUIRED
    mixed = await call(client, "{ me { id } " + COMMUNITIES[1:], token=token)
    assert codes(mixed) == REQUIRED
    assert mixed.get("data") is None
    # Anonymous callers are not accounts: the gate is not theirs (the catalogue stays public).
    assert "errors" not in await call(client, COMMUNITIES)

    stale = await call(client, ACCEPT, {"v": 0}, token)
    assert codes(stale) == ["BAD_USER_INPUT"]
    assert fields(stale) == ["version"]
    accepted = await call(client, ACCEPT, {"v": 1}, token)
    assert "errors" not in accepted, accepted
    award = accepted["data"]["acceptCodeOfConduct"]
    assert award["renewed"] is False
    assert award["award"]["status"] == "VALID"
    until = datetime.fromisoformat(award["award"]["validUntil"])
    assert timedelta(days=364) < until - datetime.now(UTC) <= timedelta(days=365)
    # The same token works at once: the gate reads the award when the token has no claim.
    assert "errors" not in await call(client, COMMUNITIES, token=token)


async def test_the_token_carries_the_award_so_the_gate_reads_nothing(
    client: httpx.AsyncClient, db: Database, statements: Any
) -> None:
    person = await newcomer(client, db, "dk")
    assert "errors" not in await call(client, ACCEPT, {"v": 1}, person["accessToken"])
    statements.statements.clear()
    await call(client, COMMUNITIES, token=person["accessToken"])
    without_claim = statements.count
    fresh = await login(client, person["user"]["username"], territory="dk")
    statements.statements.clear()
    await call(client, COMMUNITIES, token=fresh["data"]["login"]["accessToken"])
    assert statements.count == without_claim - 1


# --- expiry and renewal with a moved clock, over HTTP and WebSocket


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def timed(settings: Settings, db: Database, clock: MovableClock) -> Any:
    app = create_app(settings, db, clock=clock)
    yield app
    await app.state.redis.aclose()


@pytest.fixture
async def timed_client(timed: Any) -> Any:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=timed), base_url="http://testserver"
    ) as c:
        yield c


def ws_twin(app: Any, settings: Settings, clock: MovableClock) -> Any:
    """Another app (own loop and pools, as the WebSocket test client needs) with the same
    signing key and the same clock."""
    keys = app.state.auth.config.keys
    kid = next(iter(keys._keys))
    pem = private_pem(keys._keys[kid])
    return create_app(settings.model_copy(update={"jwt_private_keys": {kid: pem}}), clock=clock)


def over_ws(app: Any, token: str, operations: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each operation's first answer (``next`` or ``error``), on ONE connection."""
    with (
        TestClient(app) as client,
        client.websocket_connect("/graphql", ["graphql-transport-ws"]) as ws,
    ):
        ws.send_json({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        assert ws.receive_json()["type"] == "connection_ack"
        for n, payload in enumerate(operations):
            ws.send_json({"id": str(n), "type": "subscribe", "payload": payload})
            message = ws.receive_json()
            while message["type"] == "complete":
                message = ws.receive_json()
            yield message


def ws_codes(message: dict[str, Any]) -> list[str]:
    errors = (
        message["payload"] if message["type"] == "error" else message["payload"].get("errors", [])
    )
    return [e.get("extensions", {}).get("code") for e in errors]


async def test_lockout_at_expiry_on_every_path_and_renewal_restores(
    timed: Any,
    timed_client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    clock: MovableClock,
) -> None:
    person = await account(timed_client, db, "dk")
    token = person["accessToken"]
    community = (await call(timed_client, COMMUNITIES, token=token))["data"]["communities"][
        "nodes"
    ][0]["id"]
    assert "errors" not in await call(timed_client, UPDATE_PROFILE, token=token)

    clock.offset = timedelta(days=365, seconds=-5)  # the last moments of validity
    assert "errors" not in await call(timed_client, COMMUNITIES, token=token)
    clock.offset = timedelta(days=365, seconds=1)  # expired
    assert codes(await call(timed_client, COMMUNITIES, token=token)) == REQUIRED
    assert codes(await call(timed_client, UPDATE_PROFILE, token=token)) == REQUIRED
    assert "errors" not in await call(timed_client, "{ me { id } }", token=token)
    twin = ws_twin(timed, settings, clock)
    answers = list(
        over_ws(
            twin,
            token,
            [
                {"query": COMMUNITIES},
                {"query": UPDATE_PROFILE},
                {"query": ACTIVITY, "variables": {"id": community}},
                {"query": "{ me { id } }"},
            ],
        )
    )
    assert [ws_codes(a) for a in answers] == [REQUIRED, REQUIRED, REQUIRED, []]

    renewed = await call(timed_client, ACCEPT, {"v": 1}, token)
    assert renewed["data"]["acceptCodeOfConduct"]["renewed"] is True
    assert "errors" not in await call(timed_client, COMMUNITIES, token=token)
    answers = list(over_ws(twin, token, [{"query": COMMUNITIES}, {"query": UPDATE_PROFILE}]))
    assert [ws_codes(a) for a in answers] == [[], []]
