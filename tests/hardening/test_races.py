"""Limits under real parallel requests: lockouts and "at most N" counts hold however many race."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest

from db import profiles as profile_db
from db import social_groups as group_db
from db.engines import Database
from domain.profiles import MAX_LANGUAGES, MAX_SOCIAL_LINKS
from domain.social_groups import MAX_CUSTOM_GROUPS
from graph import ids
from graph.server.app import create_app
from tests.authkit import (
    PASSWORD,
    account,
    call,
    codes,
    invite,
    login,
    register,
    server_of,
    unique,
)
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


ADD_LINK = """
mutation($i: AddSocialLinkInput!) { addSocialLink(input: $i) { socialLink { id } } }"""
CREATE_GROUP = """
mutation($n: String!) { createSocialGroup(input: {name: $n}) { socialGroup { id } } }"""
SET_LANGUAGE = """
mutation($i: SetLanguageProficiencyInput!) {
  setLanguageProficiency(input: $i) { languages { language } }
}"""
SEEDED_REGIONS = "AT BE CH DE LI LU IT DK NL PL CZ FR ES PT SE NO FI IS EE LV LT SK SI HR HU"
RACING_REGIONS = "GB US IE AU NZ CA ZA IN SG MT NG KE GH PH JM BZ BS BB TT GY"


async def _race(
    client: httpx.AsyncClient, token: str, query: str, variables: list[dict[str, object]]
) -> Counter[str]:
    answers = await asyncio.gather(*(call(client, query, v, token) for v in variables))
    return Counter(codes(body)[0] if "errors" in body else "ok" for body in answers)


async def _person(client: httpx.AsyncClient, db: Database) -> tuple[str, uuid.UUID]:
    me = await account(client, db, "dk")
    return me["accessToken"], uuid.UUID(ids.decode(me["user"]["id"]).key)


async def test_parallel_links_never_exceed_the_limit(
    client: httpx.AsyncClient, db: Database
) -> None:
    token, user_id = await _person(client, db)
    async with db.transaction(server_of("dk"), "dk") as conn:
        for i in range(MAX_SOCIAL_LINKS - 5):
            await profile_db.add_link(conn, user_id, "custom", f"https://e.org/{i}", "mine")
    link = {"platform": "custom", "label": "mine"}
    links = [{"i": {**link, "url": f"https://x.org/{i}"}} for i in range(20)]
    seen = await _race(client, token, ADD_LINK, links)
    assert seen == {"ok": 5, "BAD_USER_INPUT": 15}, seen
    async with db.connect(server_of("dk"), "dk") as conn:
        assert await profile_db.link_count(conn, user_id) == MAX_SOCIAL_LINKS


async def test_parallel_groups_never_exceed_the_limit(
    client: httpx.AsyncClient, db: Database
) -> None:
    token, user_id = await _person(client, db)
    async with db.transaction(server_of("dk"), "dk") as conn:
        await group_db.ensure_defaults(conn, user_id)
        for i in range(MAX_CUSTOM_GROUPS - 5):
            await group_db.create(conn, user_id, f"seeded {i}")
    seen = await _race(client, token, CREATE_GROUP, [{"n": f"racing {i}"} for i in range(20)])
    assert seen == {"ok": 5, "BAD_USER_INPUT": 15}, seen
    async with db.connect(server_of("dk"), "dk") as conn:
        assert await group_db.custom_count(conn, user_id) == MAX_CUSTOM_GROUPS


async def test_parallel_languages_never_exceed_the_limit(
    client: httpx.AsyncClient, db: Database
) -> None:
    token, user_id = await _person(client, db)
    seeded = SEEDED_REGIONS.split()
    async with db.transaction(server_of("dk"), "dk") as conn:
        for region in seeded[: MAX_LANGUAGES - 5]:
            await profile_db.set_language(conn, user_id, f"de-{region}", "b1")
    racing = [{"i": {"language": f"en-{r}", "level": "A1"}} for r in RACING_REGIONS.split()]
    seen = await _race(client, token, SET_LANGUAGE, racing)
    assert seen == {"ok": 5, "BAD_USER_INPUT": 15}, seen
    async with db.connect(server_of("dk"), "dk") as conn:
        assert await profile_db.language_count(conn, user_id) == MAX_LANGUAGES
