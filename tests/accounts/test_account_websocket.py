"""WebSocket clients authenticate with the access token in the `connection_init` payload."""

from __future__ import annotations

import uuid
import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from db.engines import Database
from domain.tokens import private_pem
from graph.server import auth as server_auth
from graph.server.app import create_app
from tests.authkit import account, call
from unityplan.settings import Settings

with warnings.catch_warnings():
    # Starlette 1.x prefers httpx2 for its TestClient; httpx still drives its WebSocket session.
    warnings.filterwarnings("ignore", "Using `httpx`", UserWarning)
    from starlette.testclient import TestClient

pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx`:UserWarning")

PROTOCOL = "graphql-transport-ws"


def ws_app(auth_app: Any, auth_settings: Settings) -> Any:
    """A second app instance (its own loop, pools) that trusts the same signing key."""
    keys = auth_app.state.auth.config.keys
    kid = next(iter(keys._keys))
    pem = private_pem(keys._keys[kid])
    return create_app(auth_settings.model_copy(update={"jwt_private_keys": {kid: pem}}))


def run(app: Any, init: dict[str, object] | None, query: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    with TestClient(app) as client, client.websocket_connect("/graphql", [PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": init or {}})
        ack = ws.receive_json()
        messages.append(ack)
        if ack["type"] != "connection_ack":
            return messages
        ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": query}})
        while True:
            message = ws.receive_json()
            messages.append(message)
            if message["type"] in ("complete", "error"):
                return messages


async def test_connection_init_token_authenticates(
    auth_client: httpx.AsyncClient, auth_app: Any, auth_settings: Settings, db: Database
) -> None:
    user = await account(auth_client, db, "dk")
    app = ws_app(auth_app, auth_settings)
    me = "{ me { username } }"

    messages = run(app, {"Authorization": f"Bearer {user['accessToken']}"}, me)
    nxt = next(m for m in messages if m["type"] == "next")
    assert nxt["payload"]["data"]["me"]["username"] == user["user"]["username"]

    messages = run(app, {"accessToken": user["accessToken"]}, me)
    assert next(m for m in messages if m["type"] == "next")["payload"]["data"]["me"]

    anonymous = run(app, None, me)
    payload = next(m for m in anonymous if m["type"] == "next")["payload"]
    assert payload["data"] is None
    # Coded over WebSocket too (ErrorCodes.on_stream_result; more in tests/test_websocket.py).
    assert payload["errors"][0]["message"] == "Log in first."
    assert payload["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_bad_token_closes_the_connection(auth_app: Any, auth_settings: Settings) -> None:
    from starlette.websockets import WebSocketDisconnect

    app = ws_app(auth_app, auth_settings)
    with TestClient(app) as client, client.websocket_connect("/graphql", [PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"Authorization": "Bearer x.y.z"}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403


@pytest.mark.parametrize("access", [5, ["a"], {"t": "x"}, "", None])
async def test_malformed_access_token_closes_the_connection(
    auth_app: Any, auth_settings: Settings, access: object
) -> None:
    from starlette.websockets import WebSocketDisconnect

    app = ws_app(auth_app, auth_settings)
    with TestClient(app) as client, client.websocket_connect("/graphql", [PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"accessToken": access}})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4403


async def test_logout_reaches_an_open_connection(
    auth_client: httpx.AsyncClient, auth_app: Any, auth_settings: Settings, db: Database
) -> None:
    """The caller is fixed at connection_init; each later operation re-checks its session."""
    user = await account(auth_client, db, "dk")
    app = ws_app(auth_app, auth_settings)
    me = {"query": "{ me { username } }"}
    with TestClient(app) as client, client.websocket_connect("/graphql", [PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"accessToken": user["accessToken"]}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json({"id": "1", "type": "subscribe", "payload": me})
        first = ws.receive_json()
        assert first["type"] == "next"
        assert first["payload"]["data"]["me"]["username"] == user["user"]["username"]
        assert ws.receive_json()["type"] == "complete"

        logout = await call(
            auth_client, "mutation { logout { endedSessions } }", token=user["accessToken"]
        )
        assert "errors" not in logout, logout

        ws.send_json({"id": "2", "type": "subscribe", "payload": me})
        refused = ws.receive_json()
        assert refused["type"] == "error"
        assert refused["id"] == "2"
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        # The connection stays open.
        ws.send_json({"id": "3", "type": "ping"})
        assert ws.receive_json()["type"] == "pong"


class AuthClock:
    """What "now" is for graph/server/auth.py's expiry check of an open connection's caller."""

    def __init__(self, instant: datetime) -> None:
        self.instant = instant
        clock = self

        class Frozen(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Frozen:
                local = clock.instant.astimezone(tz)
                return local if tz is not None else local.replace(tzinfo=None)  # type: ignore[return-value]

        self.datetime = Frozen


async def test_an_expired_token_stops_working_on_an_open_connection(
    auth_client: httpx.AsyncClient,
    auth_app: Any,
    auth_settings: Settings,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The token is checked again before each operation, on a clock the test sets (no sleep).

    connection_init verifies the token on the real clock; only the recheck's clock moves: one
    second before ``exp`` the operation runs, at ``exp`` it is refused and the connection stays.
    """
    user = await account(auth_client, db, "dk")
    claims = jwt.decode(user["accessToken"], options={"verify_signature": False})
    keys = auth_app.state.auth.config.keys
    short, expires = keys.issue(
        user_id=uuid.UUID(claims["sub"]),
        territory_id="dk",
        roles=claims["roles"],
        session_id=uuid.UUID(claims["sid"]),
        ttl=timedelta(minutes=5),
    )
    clock = AuthClock(datetime.now(UTC))
    monkeypatch.setattr(server_auth, "datetime", clock.datetime)
    app = ws_app(auth_app, auth_settings)
    me = {"query": "{ me { username } }"}
    with TestClient(app) as client, client.websocket_connect("/graphql", [PROTOCOL]) as ws:
        ws.send_json({"type": "connection_init", "payload": {"accessToken": short}})
        assert ws.receive_json()["type"] == "connection_ack"
        clock.instant = expires - timedelta(seconds=1)
        ws.send_json({"id": "1", "type": "subscribe", "payload": me})
        assert ws.receive_json()["type"] == "next"
        assert ws.receive_json()["type"] == "complete"
        clock.instant = expires
        ws.send_json({"id": "2", "type": "subscribe", "payload": me})
        refused = ws.receive_json()
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert refused["payload"][0]["message"] == (
            "The access token has expired; refresh the session."
        )
        ws.send_json({"id": "3", "type": "ping"})
        assert ws.receive_json()["type"] == "pong"
