"""Limits under real parallel requests: lockouts and "at most N" counts hold however many race."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from db.engines import Database
from graph.server.app import create_app
from tests.authkit import PASSWORD, codes, invite, login, register, unique
from tests.conftest import delete_redis_keys
from unityplan.settings import Settings

PREFIX = f"unityplan-races-{os.getpid()}:"


@pytest.fixture(scope="module")
async def throttled_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A limit of 5 failures per account (the address limit out of the way)."""
    app_settings = settings.model_copy(
        update={
            "redis_key_prefix": PREFIX,
            "login_max_failures_per_account": 5,
            "login_max_failures_per_ip": 1000,
        }
    )
    app = create_app(app_settings, db)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.redis.aclose()
        await delete_redis_keys(settings.redis_url, PREFIX)


async def test_parallel_guesses_never_exceed_the_account_allowance(
    throttled_client: httpx.AsyncClient, db: Database
) -> None:
    name = unique()
    assert "errors" not in await register(throttled_client, await invite(db, "dk"), name)
    answers = await asyncio.gather(
        *(login(throttled_client, name, f"wrong password number {i}") for i in range(20))
    )
    seen = Counter(code for body in answers for code in codes(body))
    assert seen["INVALID_CREDENTIALS"] == 5, seen  # exactly the allowance was checked
    assert seen["ACCOUNT_LOCKED"] == 15, seen
    assert codes(await login(throttled_client, name, PASSWORD)) == ["ACCOUNT_LOCKED"]


async def test_parallel_guesses_never_exceed_the_address_allowance(
    settings: Settings, db: Database
) -> None:
    app_settings = settings.model_copy(
        update={
            "redis_key_prefix": PREFIX + "ip:",
            "login_max_failures_per_account": 1000,
            "login_max_failures_per_ip": 4,
        }
    )
    app = create_app(app_settings, db)
    transport = httpx.ASGITransport(app=app, client=("198.51.100.77", 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            answers = await asyncio.gather(
                *(login(c, unique(), "some wrong password") for _ in range(20))
            )
    finally:
        await app.state.redis.aclose()
    seen = Counter(code for body in answers for code in codes(body))
    assert seen == {"INVALID_CREDENTIALS": 4, "RATE_LIMITED": 16}, seen


async def test_a_success_gives_its_claim_back(
    throttled_client: httpx.AsyncClient, db: Database
) -> None:
    """Claiming before the check must not turn successful logins into failures."""
    name = unique()
    assert "errors" not in await register(throttled_client, await invite(db, "dk"), name)
    for _ in range(8):  # more than the allowance of 5, all right
        assert "errors" not in await login(throttled_client, name, PASSWORD)
    for _ in range(4):
        assert codes(await login(throttled_client, name, "a wrong password!")) == [
            "INVALID_CREDENTIALS"
        ]
    assert "errors" not in await login(throttled_client, name, PASSWORD)
