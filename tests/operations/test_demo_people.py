"""Demo people of ``make run``: created in development, loggable-in, never in production.

Each test starts and ends with no demo people (``no_demo_people``), so the rest of the suite, which
counts members of the demo communities, never meets them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import delete, select

from db.demo import DEMO_PASSWORD, DEMO_PEOPLE, seed_development
from db.engines import Database
from db.models import user_identities, users
from domain.accounts import identity_hash
from graph.server.graphiql import LOGIN_EXAMPLE, ME_EXAMPLE
from tests.authkit import LOGIN, call, server_of
from tests.conftest import ON_SECOND
from unityplan.cli import demo_logins
from unityplan.settings import MAIN_SERVER, Settings

TERRITORIES = sorted({p.territory for p in DEMO_PEOPLE})
ME = """{ me { username territory { code } roles { role territory } privacy { preset }
  communities { role community { slug } } badges { nodes { badge { coreKey } } } } }"""
BEYOND_ME = '{ communities(territory: "dk", first: 1) { nodes { id } } }'


async def demo_usernames(db: Database) -> set[str]:
    """Demo usernames found in any of their territories."""
    names = [p.username for p in DEMO_PEOPLE]
    found: set[str] = set()
    for territory in TERRITORIES:
        async with db.connect(server_of(territory), territory) as conn:
            rows = await conn.execute(select(users.c.username).where(users.c.username.in_(names)))
            found |= {row[0] for row in rows}
    return found


async def demo_identities(db: Database, settings: Settings) -> int:
    hashes = [identity_hash(settings.identity_key(), p.territory, p.user_id) for p in DEMO_PEOPLE]
    async with db.connect(MAIN_SERVER) as conn:
        rows = await conn.execute(
            select(user_identities.c.identity_hash).where(
                user_identities.c.identity_hash.in_(hashes)
            )
        )
        return len(rows.all())


async def remove_demo_people(db: Database, settings: Settings) -> None:
    for territory in TERRITORIES:
        async with db.transaction(server_of(territory), territory) as conn:
            await conn.execute(
                delete(users).where(users.c.username.in_([p.username for p in DEMO_PEOPLE]))
            )
    hashes = [identity_hash(settings.identity_key(), p.territory, p.user_id) for p in DEMO_PEOPLE]
    async with db.transaction(MAIN_SERVER) as conn:
        await conn.execute(
            delete(user_identities).where(user_identities.c.identity_hash.in_(hashes))
        )


@pytest.fixture
async def no_demo_people(db: Database, settings: Settings) -> AsyncIterator[None]:
    await remove_demo_people(db, settings)
    yield
    await remove_demo_people(db, settings)


@pytest.mark.usefixtures("no_demo_people")
async def test_production_start_up_creates_no_demo_people(db: Database, settings: Settings) -> None:
    production = settings.model_copy(
        update={"unityplan_env": "production", "identity_hash_key": "a production key"}
    )
    seed = await seed_development(db, production, server_for=ON_SECOND)
    assert seed.people == ()
    assert await demo_usernames(db) == set()
    assert await demo_identities(db, production) == 0
    assert "no demo people" in demo_logins(seed)
    assert DEMO_PASSWORD not in demo_logins(seed)


@pytest.mark.usefixtures("no_demo_people")
async def test_development_start_up_creates_people_to_log_in_as(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    seed = await seed_development(db, settings, server_for=ON_SECOND)
    assert await demo_usernames(db) == {p.username for p in DEMO_PEOPLE}
    # A second start-up finds them and changes nothing.
    again = await seed_development(db, settings, server_for=ON_SECOND)
    assert again.people == seed.people
    assert await demo_identities(db, settings) == len(DEMO_PEOPLE)
    banner = demo_logins(seed)
    assert "DEVELOPMENT ONLY" in banner
    assert DEMO_PASSWORD in banner
    assert {p.territory for p in DEMO_PEOPLE} == {"dk", "se", "fn_sami"}
    assert len({p.preset for p in DEMO_PEOPLE}) >= 5  # the privacy presets differ
    for person in DEMO_PEOPLE:
        assert person.username in banner
        logged = await call(
            client,
            LOGIN,
            {
                "input": {
                    "identifier": person.username,
                    "password": DEMO_PASSWORD,
                    "territory": person.territory,
                }
            },
        )
        assert "errors" not in logged, logged
        me = await call(client, ME, token=logged["data"]["login"]["accessToken"])
        assert "errors" not in me, me
        found = me["data"]["me"]
        assert found["territory"]["code"] == person.territory
        assert {"role": person.role.name, "territory": person.territory} in found["roles"]
        assert found["privacy"]["preset"] == person.preset.name
        assert sorted((m["community"]["slug"], m["role"]) for m in found["communities"]) == sorted(
            (slug, role.name) for slug, role in person.communities
        )
        held = {n["badge"]["coreKey"] for n in found["badges"]["nodes"]}
        assert held == {"code_of_conduct", *person.badges}
        # The Code of Conduct is accepted: more than `me` is open to them.
        beyond = await call(client, BEYOND_ME, token=logged["data"]["login"]["accessToken"])
        assert "errors" not in beyond, beyond


@pytest.mark.usefixtures("no_demo_people")
async def test_graphiql_default_document_logs_in_as_a_demo_person(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    """The Login and Me examples GraphiQL opens with work as written, token in the header."""
    await seed_development(db, settings, server_for=ON_SECOND)
    login = await client.post("/graphql", json={"query": LOGIN_EXAMPLE})
    assert "errors" not in login.json(), login.text
    token = login.json()["data"]["login"]["accessToken"]
    me = await client.post(
        "/graphql",
        json={"query": ME_EXAMPLE},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert me.json()["data"]["me"]["username"] == "dk.astrid", me.text


DEMO_FORUMS_QUERY = """query($t: String!) { forums(territory: $t) { nodes { name level
  topics { nodes { title author { userId } comments { nodes { body score replyCount
    thread { body depth } } } } } } } }"""


@pytest.mark.usefixtures("no_demo_people")
async def test_development_start_up_seeds_forums_with_threads_and_votes(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    await seed_development(db, settings, server_for=ON_SECOND)
    await seed_development(db, settings, server_for=ON_SECOND)  # a second start: no duplicates
    logged = await call(
        client,
        LOGIN,
        {"input": {"identifier": "dk.astrid", "password": DEMO_PASSWORD, "territory": "dk"}},
    )
    token = logged["data"]["login"]["accessToken"]
    dk = await call(client, DEMO_FORUMS_QUERY, {"t": "dk"}, token)
    assert "errors" not in dk, dk
    forums = {f["name"]: f for f in dk["data"]["forums"]["nodes"]}
    assert "Moderators' room" not in forums  # staff only
    (topic,) = forums["Generelt"]["topics"]["nodes"]
    assert topic["title"] == "Balcony beans: what worked this year"
    first = topic["comments"]["nodes"][0]
    assert first["score"] == 2
    assert [(c["body"], c["depth"]) for c in first["thread"]] == [
        ("A bike wheel! Photos please.", 1),
        ("Saturday, at the repair café.", 2),
    ]
    world = await call(client, DEMO_FORUMS_QUERY, {"t": "global"}, token)
    assert "errors" not in world, world
    (commons,) = [f for f in world["data"]["forums"]["nodes"] if f["name"] == "Federation Commons"]
    assert commons["level"] == "GLOBAL"
    assert [t["title"] for t in commons["topics"]["nodes"]] == ["Study circles across borders"]
