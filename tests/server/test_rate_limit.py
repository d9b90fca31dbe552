"""Rate limits: a Redis token bucket per authenticated caller, else per client address."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.requests import Request

from db.engines import Database
from domain.tokens import private_pem
from graph.server.app import create_app
from graph.server.ratelimit import client_address, parse_networks
from tests.authkit import account
from tests.conftest import age_rate_buckets, delete_redis_keys
from unityplan.settings import Settings

PREFIX = f"unityplan-test-rl-{os.getpid()}:"
LIMITS = {
    "rate_limit": True,
    "redis_key_prefix": PREFIX,
    "rate_limit_anonymous_burst": 3,
    "rate_limit_anonymous_per_second": 1.0,
    "rate_limit_authenticated_burst": 4,
    "rate_limit_authenticated_per_second": 1.0,
}
QUERY = {"query": "{ __typename }"}


@pytest.fixture(autouse=True)
async def clean_redis(settings: Settings) -> AsyncIterator[None]:
    yield
    await delete_redis_keys(settings.redis_url, PREFIX)


@asynccontextmanager
async def limited_app(
    auth_app: Any, auth_settings: Settings, db: Database, **overrides: Any
) -> AsyncIterator[Any]:
    """The real app with small buckets, trusting the tokens ``auth_app`` signs."""
    keys = auth_app.state.auth.config.keys
    kid = next(iter(keys._keys))
    own = auth_settings.model_copy(
        update={"jwt_private_keys": {kid: private_pem(keys._keys[kid])}, **LIMITS, **overrides}
    )
    app = create_app(own, db)
    try:
        yield app
    finally:
        await app.state.redis.aclose()


def client_from(app: Any, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_request_after_the_burst_gets_429_and_others_are_unaffected(
    auth_client: httpx.AsyncClient, auth_app: Any, auth_settings: Settings, db: Database
) -> None:
    alice = (await account(auth_client, db, "dk"))["accessToken"]
    bob = (await account(auth_client, db, "dk"))["accessToken"]
    async with (
        limited_app(auth_app, auth_settings, db) as app,
        client_from(app, "198.51.100.1") as one,
        client_from(app, "198.51.100.2") as two,
    ):
        for _ in range(3):
            assert (await one.post("/graphql", json=QUERY)).status_code == 200
        refused = await one.post("/graphql", json=QUERY)
        assert refused.status_code == 429
        retry_after = refused.headers["retry-after"]
        assert retry_after.isdigit()
        assert int(retry_after) >= 1
        assert refused.headers["content-type"].startswith("application/json")
        [error] = refused.json()["errors"]
        assert error["extensions"] == {"code": "RATE_LIMITED"}
        assert error["message"].startswith(f"Too many requests; retry in {retry_after} second")
        # Another address, and authenticated callers (even from the limited address), have
        # buckets of their own.
        assert (await two.post("/graphql", json=QUERY)).status_code == 200
        for _ in range(4):
            assert (
                await one.post("/graphql", json=QUERY, headers=bearer(alice))
            ).status_code == 200
        assert (await one.post("/graphql", json=QUERY, headers=bearer(alice))).status_code == 429
        assert (await one.post("/graphql", json=QUERY, headers=bearer(bob))).status_code == 200
        # After Retry-After seconds the bucket has a token again (time passes for the buckets
        # only: see age_rate_buckets). Four buckets: two addresses, alice and bob.
        still = await one.post("/graphql", json=QUERY)
        assert still.status_code == 429
        waited = int(still.headers["retry-after"])
        assert await age_rate_buckets(auth_settings.redis_url, PREFIX, waited) == 4
        assert (await one.post("/graphql", json=QUERY)).status_code == 200


async def test_limits_apply_before_the_body_is_read_and_batches_pay_per_operation(
    auth_app: Any, auth_settings: Settings, db: Database
) -> None:
    async with (
        limited_app(auth_app, auth_settings, db, batch_requests=5) as app,
        client_from(app, "198.51.100.3") as client,
    ):
        batch = await client.post("/graphql", json=[QUERY, QUERY, QUERY])
        assert batch.status_code == 200
        # The bucket is empty: even a malformed request is refused before it is parsed.
        refused = await client.post(
            "/graphql", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert refused.status_code == 429


async def test_x_forwarded_for_counts_only_from_trusted_proxies(
    auth_app: Any, auth_settings: Settings, db: Database
) -> None:
    proxies = parse_networks(["10.0.0.0/8"])

    def request(peer: str, forwarded: str | None) -> Request:
        headers = [] if forwarded is None else [(b"x-forwarded-for", forwarded.encode())]
        return Request({"type": "http", "client": (peer, 1), "headers": headers})

    assert client_address(request("203.0.113.5", "192.0.2.1"), proxies) == "203.0.113.5"
    assert client_address(request("10.0.0.2", "192.0.2.1"), proxies) == "192.0.2.1"
    # The client may write anything to the left; the right-most untrusted hop is the client.
    assert client_address(request("10.0.0.2", "1.2.3.4, 192.0.2.1, 10.0.0.9"), proxies) == (
        "192.0.2.1"
    )
    assert client_address(request("10.0.0.2", None), proxies) == "10.0.0.2"
    assert client_address(request("10.0.0.2", "192.0.2.1"), ()) == "10.0.0.2"
    # A dual-stack socket reports an IPv4 proxy IPv4-mapped; an IPv6 client counts as its /64.
    assert client_address(request("::ffff:10.0.0.2", "192.0.2.1"), proxies) == "192.0.2.1"
    assert client_address(request("10.0.0.2", "2001:db8::7"), proxies) == "2001:db8::/64"

    # Through a trusted proxy, two clients have two buckets; a spoofed header from an untrusted
    # peer changes nothing.
    async with (
        limited_app(auth_app, auth_settings, db, trusted_proxies=["127.0.0.1"]) as app,
        client_from(app, "127.0.0.1") as proxy,
        client_from(app, "198.51.100.4") as direct,
    ):
        first = {"x-forwarded-for": "192.0.2.10"}
        for _ in range(3):
            assert (await proxy.post("/graphql", json=QUERY, headers=first)).status_code == 200
        assert (await proxy.post("/graphql", json=QUERY, headers=first)).status_code == 429
        second = {"x-forwarded-for": "192.0.2.11"}
        assert (await proxy.post("/graphql", json=QUERY, headers=second)).status_code == 200
        for n in range(4):
            spoofed = {"x-forwarded-for": f"192.0.2.{100 + n}"}
            status = (await direct.post("/graphql", json=QUERY, headers=spoofed)).status_code
            assert status == (200 if n < 3 else 429)


async def test_redis_down_fails_open_with_a_log_line(
    auth_app: Any, auth_settings: Settings, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="unityplan.ratelimit")
    async with (
        limited_app(auth_app, auth_settings, db, redis_url="redis://127.0.0.1:1/0") as app,
        client_from(app, "198.51.100.5") as client,
    ):
        for _ in range(5):
            response = await client.post("/graphql", json=QUERY)
            assert response.status_code == 200
            assert response.json() == {"data": {"__typename": "Query"}}
    warnings = [r for r in caplog.records if r.name == "unityplan.ratelimit"]
    assert len(warnings) == 1  # once a minute, not once a request
    assert "rate limiting is off while Redis is unreachable" in warnings[0].getMessage()


async def test_an_ipv6_client_cannot_escape_its_bucket_by_rotating_addresses(
    auth_app: Any, auth_settings: Settings, db: Database
) -> None:
    """One IPv6 subscriber is handed a whole /64 (2^64 addresses): a bucket per address would be
    no limit at all, so IPv6 addresses share their /64's bucket (IPv4-mapped ones are IPv4)."""
    async with limited_app(auth_app, auth_settings, db) as app:
        for n in range(3):
            async with client_from(app, f"2001:db8:1:2::{n + 1:x}") as rotating:
                assert (await rotating.post("/graphql", json=QUERY)).status_code == 200
        async with client_from(app, "2001:db8:1:2:ffff::9") as same_subnet:
            assert (await same_subnet.post("/graphql", json=QUERY)).status_code == 429
        async with client_from(app, "2001:db8:1:3::1") as other_subnet:
            assert (await other_subnet.post("/graphql", json=QUERY)).status_code == 200
        for n in range(3):
            async with client_from(app, "192.0.2.77" if n % 2 else "::ffff:192.0.2.77") as v4:
                assert (await v4.post("/graphql", json=QUERY)).status_code == 200
        async with client_from(app, "192.0.2.77") as v4:
            assert (await v4.post("/graphql", json=QUERY)).status_code == 429
