"""Demo data for ``make run``: territories, communities and people to log in as, for GraphiQL.

The people exist so that a newcomer's first hour has someone to be: a territory manager and
members in dk, se and fn_sami (on whichever servers those live), each profile at a different
privacy preset so what one person sees of another differs. They share one printed password and
are development-only: ``seed_development`` never creates them when UNITYPLAN_ENV=production.
Later areas add their own demo content here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db import badges as badge_db
from db import communities as community_db
from db import profiles, roles, users
from db import territories as registry
from db.accounts.registration import invitation_grants
from db.engines import Database
from db.forums import writes as forum_db
from db.forums.records import CommentRecord
from db.models import communities, forum_topics, forums
from db.provisioning import create_territory
from db.territories import TerritoryRecord
from domain.accounts import identity_hash
from domain.badges import CODE_OF_CONDUCT, GLOBAL_HOME
from domain.communities import CommunityRole
from domain.forums import VoteValue
from domain.passwords import hash_password
from domain.privacy import Visibility
from domain.roles import Role
from domain.territories import TerritoryKind
from unityplan.settings import MAIN_SERVER, Settings

DEMO_TERRITORIES: list[tuple[str, str, TerritoryKind, str | None]] = [
    ("global", "UnityPlan Global", TerritoryKind.GLOBAL, None),
    ("dk", "Denmark", TerritoryKind.COUNTRY, None),
    ("no", "Norway", TerritoryKind.COUNTRY, None),
    ("se", "Sweden", TerritoryKind.COUNTRY, None),
    ("fn_sami", "Sápmi", TerritoryKind.FIRST_NATION, None),
    ("c_dk_aarhus", "Aarhus Commons", TerritoryKind.COMMUNITY, "dk"),
]

DEMO_COMMUNITIES: dict[str, list[tuple[str, str, str, bool]]] = {
    "global": [("federation-stewards", "Federation Stewards", "Care for the commons.", True)],
    "dk": [
        ("permakultur", "Permakultur Danmark", "Growing food together.", True),
        ("repair-cafe", "Repair Café", "Fix things, share skills.", True),
        ("board", "Territory Board", "Invite-only stewardship circle.", False),
    ],
    "no": [("kystliv", "Kystliv", "Coastal living and learning.", True)],
    "se": [("folkbildning", "Folkbildning", "Study circles across Sweden.", True)],
    "fn_sami": [("duodji", "Duodji", "Sámi handicraft, taught by elders.", True)],
    "c_dk_aarhus": [("aarhus-garden", "Aarhus Community Garden", "Weekly garden days.", True)],
}


def community_id(territory_id: str, slug: str) -> uuid.UUID:
    """A demo community's id: fixed, so seeding twice finds what the first run made."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"unityplan:{territory_id}:{slug}")


async def seed_demo(db: Database, server_for: dict[str, str] | None = None) -> list[str]:
    """Create missing demo territories and their communities; returns the territories created."""
    created: list[str] = []
    async with db.connect(MAIN_SERVER) as conn:
        existing = await registry.by_ids(conn, [t[0] for t in DEMO_TERRITORIES])
    for territory_id, name, kind, parent in DEMO_TERRITORIES:
        if territory_id not in existing:
            server = (server_for or {}).get(territory_id, MAIN_SERVER)
            record = await create_territory(
                db,
                territory_id=territory_id,
                name=name,
                kind=kind,
                parent_id=parent,
                server=server,
            )
            existing[territory_id] = record
            created.append(territory_id)
        record = existing[territory_id]
        rows = [
            {
                "id": community_id(territory_id, slug),
                "slug": slug,
                "name": cname,
                "description": description,
                "is_public": public,
            }
            for slug, cname, description, public in DEMO_COMMUNITIES.get(territory_id, [])
        ]
        async with db.transaction(record.db_server, territory_id) as conn:
            if rows:
                await conn.execute(
                    insert(communities).values(rows).on_conflict_do_nothing(index_elements=["id"])
                )
            await conn.execute(
                insert(forums)
                .values(_forum_rows(territory_id))
                .on_conflict_do_nothing(index_elements=["id"])
            )
    return created


# (key, parent key or None, community slug or None, name, description, visibility)
DEMO_FORUMS: dict[str, list[tuple[str, str | None, str | None, str, str, str]]] = {
    "global": [
        ("commons", None, None, "Federation Commons", "Across every territory.", "public"),
        ("help", "commons", None, "Help and questions", "How things work.", "public"),
    ],
    "dk": [
        ("general", None, None, "Generelt", "Everything Danish.", "public"),
        ("intro", "general", None, "Introductions", "Say hello.", "public"),
        ("garden", None, "permakultur", "Permakultur forum", "For the community.", "public"),
        ("staff", None, None, "Moderators' room", "Staff only.", "moderators"),
    ],
    "no": [("general", None, None, "Generelt", "Alt om Norge.", "public")],
    "se": [("general", None, None, "Allmänt", "Study circles and more.", "public")],
    "fn_sami": [("general", None, None, "Oktasaš", "Sápmi's forum.", "public")],
    "c_dk_aarhus": [("general", None, None, "Aarhus", "Garden days.", "public")],
}


def forum_id(territory_id: str, key: str) -> uuid.UUID:
    """A demo forum's id: fixed, so seeding twice finds what the first run made."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"unityplan:{territory_id}:forum:{key}")


def _forum_rows(territory_id: str) -> list[dict[str, object]]:
    return [
        {
            "id": forum_id(territory_id, key),
            "parent_id": None if parent is None else forum_id(territory_id, parent),
            "community_id": None if slug is None else community_id(territory_id, slug),
            "position": position,
            "name": name,
            "description": description,
            "visibility": visibility,
        }
        for position, (key, parent, slug, name, description, visibility) in enumerate(
            DEMO_FORUMS.get(territory_id, [])
        )
    ]


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """One demo account: who they are, how private their profile is, where they belong."""

    territory: str
    username: str
    display_name: str
    role: Role
    preset: Visibility
    bio: str
    # (community slug in their territory, their role there)
    communities: tuple[tuple[str, CommunityRole], ...]
    # Core badges of their territory they hold (everyone holds the Code of Conduct).
    badges: tuple[str, ...] = ()

    @property
    def user_id(self) -> uuid.UUID:
        """Fixed per username, so a second start-up finds the person it made the first time."""
        return uuid.uuid5(uuid.NAMESPACE_URL, f"unityplan:{self.territory}:user:{self.username}")

    @property
    def email(self) -> str:
        return f"{self.username}@demo.unityplan.invalid"


# Development only: every demo person shares this password, printed at start-up. Never created when
# UNITYPLAN_ENV=production (seed_development refuses).
DEMO_PASSWORD = "demo-only passphrase"  # noqa: S105 - printed on purpose, development only

_M = CommunityRole.MEMBER
DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    DemoPerson(
        "dk",
        "dk.manager",
        "Freja Holm",
        Role.TERRITORY_MANAGER,
        Visibility.TERRITORY,
        "Territory manager of Denmark (demo).",
        (("board", CommunityRole.ADMIN), ("permakultur", _M)),
        ("basic_learner", "forum_participant", "content_contributor", "community_member"),
    ),
    DemoPerson(
        "dk",
        "dk.astrid",
        "Astrid Nielsen",
        Role.MEMBER,
        Visibility.PUBLIC,
        "Grows beans on a balcony in Aarhus.",
        (("permakultur", CommunityRole.ADMIN), ("repair-cafe", _M)),
        ("basic_learner", "forum_participant"),
    ),
    DemoPerson(
        "dk",
        "dk.mikkel",
        "Mikkel Berg",
        Role.MEMBER,
        Visibility.FRIENDS,
        "Fixes bicycles on Saturdays.",
        (("repair-cafe", CommunityRole.MODERATOR),),
    ),
    DemoPerson(
        "se",
        "se.linnea",
        "Linnea Ek",
        Role.MEMBER,
        Visibility.ALL_TERRITORIES,
        "Leads a study circle on local history.",
        (("folkbildning", CommunityRole.ADMIN),),
        ("forum_participant", "community_member"),
    ),
    DemoPerson(
        "se",
        "se.johan",
        "Johan Lind",
        Role.MEMBER,
        Visibility.COMMUNITY,
        "Joins every study circle he can.",
        (("folkbildning", _M),),
    ),
    DemoPerson(
        "fn_sami",
        "sami.aila",
        "Áilá Saba",
        Role.MEMBER,
        Visibility.ONLY_ME,
        "Teaches duodji; keeps her profile to herself.",
        (("duodji", CommunityRole.ADMIN),),
    ),
    DemoPerson(
        "fn_sami",
        "sami.niila",
        "Niillas Gaup",
        Role.MEMBER,
        Visibility.TERRITORY,
        "Learning to carve a guksi.",
        (("duodji", _M),),
    ),
)


@dataclass(frozen=True, slots=True)
class DemoSeed:
    """What a development start-up made: the territories created now and the people to log in as."""

    territories: list[str]
    people: tuple[DemoPerson, ...]


async def seed_development(
    db: Database, settings: Settings, server_for: dict[str, str] | None = None
) -> DemoSeed:
    """Demo territories, communities and (outside production) people; safe to run again.

    The production check is here rather than in the CLI so that no caller can make demo accounts
    with a known password in a production deployment.
    """
    created = await seed_demo(db, server_for)
    if settings.unityplan_env == "production":
        return DemoSeed(created, ())
    await seed_people(db, settings.identity_key(), DEMO_PEOPLE)
    await seed_forum_posts(db)
    return DemoSeed(created, DEMO_PEOPLE)


async def seed_people(db: Database, identity_key: bytes, people: Sequence[DemoPerson]) -> None:
    """Create the people who do not exist yet, each with grants, profile and memberships."""
    password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
    async with db.connect(MAIN_SERVER) as conn:
        territories = await registry.by_ids(conn, sorted({p.territory for p in people}))
    for person in people:
        territory = territories[person.territory]
        ihash = identity_hash(identity_key, person.territory, person.user_id)
        # Two steps, each idempotent: a start-up stopped between them is completed by the next.
        async with db.transaction(territory.db_server, person.territory) as conn:
            if not await users.taken(conn, username=person.username, email=person.email):
                await _write_person(conn, person, password_hash, ihash)
        async with db.transaction(MAIN_SERVER) as gconn:
            if await roles.territory_of_identity(gconn, ihash) is None:
                await roles.insert_identity(gconn, ihash, person.territory)
            for grant in invitation_grants(person.territory, person.role):
                await roles.grant(gconn, ihash, grant, granted_by=None)
        await _award_badges(db, territory, person)


async def _award_badges(db: Database, territory: TerritoryRecord, person: DemoPerson) -> None:
    """The Code of Conduct and the person's core badges, each unless held already."""
    async with db.connect(MAIN_SERVER) as conn:
        coc = await badge_db.definition_by_core_key(conn, GLOBAL_HOME, CODE_OF_CONDUCT.key)
    now = datetime.now(UTC)
    async with db.transaction(territory.db_server, person.territory) as conn:
        wanted = [coc] + [
            await badge_db.definition_by_core_key(conn, person.territory, key)
            for key in person.badges
        ]
        for definition in wanted:
            assert definition is not None, "core badges are provisioned by migrate"
            held = await badge_db.lock_award_of(
                conn, person.territory, person.user_id, definition.ref
            )
            if held is None:
                await badge_db.grant(
                    conn,
                    person.territory,
                    user_id=person.user_id,
                    definition=definition,
                    now=now,
                    source="core",
                    reason="demo",
                    actor=None,
                )


DemoTopic = tuple[
    str, str, str, str, str, list[tuple[str, str, int | None]], list[tuple[str, int, VoteValue]]
]
"""(territory, forum key, author username, title, body, [(commenter, text, index of the comment
it replies to or None)], [(voter, comment index, vote)])."""

DEMO_TOPICS: tuple[DemoTopic, ...] = (
    (
        "dk",
        "general",
        "dk.astrid",
        "Balcony beans: what worked this year",
        "Runner beans in 40 l tubs, sown in May. Share your tricks!",
        [
            ("dk.mikkel", "Mine climbed a bike wheel I mounted on the railing.", None),
            ("dk.manager", "Welcome to the forum, both of you.", None),
            ("dk.astrid", "A bike wheel! Photos please.", 0),
            ("dk.mikkel", "Saturday, at the repair café.", 2),
        ],
        [("dk.manager", 0, VoteValue.UP), ("dk.astrid", 0, VoteValue.UP)],
    ),
    (
        "global",
        "commons",
        "se.linnea",
        "Study circles across borders",
        "Could circles in Sweden and Denmark read the same book this winter?",
        [
            ("dk.astrid", "Yes! Something on soil, maybe.", None),
            ("sami.niila", "Count me in if it is about craft.", None),
            ("se.johan", "I will host the Swedish side.", 0),
        ],
        [("se.johan", 0, VoteValue.UP), ("sami.niila", 0, VoteValue.UP)],
    ),
    (
        "se",
        "general",
        "se.johan",
        "Which circle next?",
        "Local history or languages?",
        [("se.linnea", "Languages: we have three in one street.", None)],
        [],
    ),
)


async def seed_forum_posts(db: Database) -> None:
    """Demo topics, threads and votes by the demo people, once per forum (development only)."""
    people = {p.username: p for p in DEMO_PEOPLE}
    async with db.connect(MAIN_SERVER) as conn:
        territories = await registry.by_ids(conn, sorted({t[0] for t in DEMO_TOPICS}))
    for territory_id, key, author, title, body, comments, votes in DEMO_TOPICS:
        forum = forum_id(territory_id, key)
        async with db.transaction(territories[territory_id].db_server, territory_id) as conn:
            posted = await conn.execute(
                forum_topics.select().where(forum_topics.c.forum_id == forum).limit(1)
            )
            if posted.first() is not None:
                continue
            writer = people[author]
            topic = await forum_db.create_topic(
                conn,
                territory_id,
                forum_id=forum,
                title=title,
                body=body,
                author=(writer.territory, writer.user_id),
                tags=(),
            )
            made: list[CommentRecord] = []
            for commenter, text, reply_to in comments:
                person = people[commenter]
                made.append(
                    await forum_db.add_comment(
                        conn,
                        topic_id=topic.id,
                        parent=None if reply_to is None else made[reply_to],
                        body=text,
                        author=(person.territory, person.user_id),
                    )
                )
            for voter, index, value in votes:
                person = people[voter]
                await forum_db.vote(conn, made[index].id, (person.territory, person.user_id), value)


async def _write_person(
    conn: AsyncConnection, person: DemoPerson, password_hash: str, ihash: bytes
) -> None:
    """The territory half: the account, its profile at the person's preset, their memberships."""
    await users.insert_user(
        conn,
        user_id=person.user_id,
        username=person.username,
        email=person.email,
        password_hash=password_hash,
        display_name=person.display_name,
        identity_hash=ihash,
    )
    await profiles.update_fields(
        conn, person.user_id, {"visibility": person.preset.value, "bio": person.bio}
    )
    for slug, role in person.communities:
        await community_db.add(conn, community_id(person.territory, slug), person.user_id, role)
