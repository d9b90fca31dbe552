"""`territory export` / `territory import`: a territory moves to another server losslessly.

Every check of "the same data arrived" is computed here independently of db/transfer.py: a
whole-row md5 per table (``t::text``, not the module's ``ROW(columns)`` hashes) and a full
read-back of every row through SQLAlchemy, compared value by value between the two servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import make_url

from db import transfer
from db.engines import Database
from db.migrate import drop_territory_schema, head_revision, upgrade_territory
from db.models import (
    communities,
    invitation_tokens,
    invitation_uses,
    territories,
    territory_metadata,
    users,
)
from db.models import settings as settings_table
from db.provisioning import create_territory
from db.transfer import export_territory, import_territory, read_manifest
from domain.errors import BadUserInput
from domain.territories import TerritoryKind, schema_name
from tests.conftest import CHECKOUT, SECOND, StatementCounter, gql
from unityplan.settings import Settings

TID = "c_dk_transfer"
TEMPLATE = [t.name for t in territory_metadata.sorted_tables]

# Everything COPY's CSV quoting has to get right, in one string.
AWKWARD = (
    "Ærø ☃ 𝄞 日本語 \"quoted\" 'apos' comma, semi; tab\there\nnew line\r\nCRLF "
    "back\\slash \\N \\. trailing space "
)


async def new_territory(db: Database, tid: str) -> None:
    await create_territory(
        db, territory_id=tid, name=f"Transfer {tid}", kind=TerritoryKind.COMMUNITY, parent_id="dk"
    )


def badge_rows(
    tid: str, holder: uuid.UUID, community: uuid.UUID, tz: timezone
) -> dict[str, list[dict[str, Any]]]:
    """Badge definitions (a territory's and a community's), an award with its history, a notice
    claim and a counted rule event (the core badges provisioning wrote come along too)."""
    own, local, award = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    when = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=tz)
    return {
        "badge_definitions": [
            {"id": own, "level": "territory", "current_version": 2},
            {"id": local, "level": "community", "community_id": community},
        ],
        "badge_definition_versions": [
            {"definition_id": own, "version": 1, "name": "Old"},
            {
                "definition_id": own,
                "version": 2,
                "name": AWKWARD[:120],
                "description": AWKWARD,
                "permissions": ["forum.read", "forum.post"],
                "prerequisites": [f"global:{uuid.uuid4()}"],
                "validity_days": 30,
                "rules": [{"event": "community.member_joined", "threshold": 2}],
            },
            {"definition_id": local, "version": 1, "name": "Local", "image": "ipfs://bafy"},
        ],
        "badge_prerequisites": [
            {"definition_id": local, "prerequisite_home": tid, "prerequisite_id": own}
        ],
        "badge_awards": [
            {
                "id": award,
                "user_id": holder,
                "badge_home": tid,
                "badge_id": own,
                "version": 2,
                "awarded_at": when,
                "valid_from": when,
                "valid_until": when + timedelta(days=30),
                "revoked_at": when + timedelta(days=1),
                "revoke_reason": AWKWARD[:200],
                "source": "manual",
                "reason": AWKWARD[:200],
            }
        ],
        "badge_award_history": [
            {"award_id": award, "action": "awarded", "version": 2, "actor": bytes(range(32))},
            {"award_id": award, "action": "revoked", "version": 2, "reason": AWKWARD[:100]},
        ],
        "badge_notice_claims": [
            {"award_id": award, "days_before": 30, "valid_until": when + timedelta(days=30)}
        ],
        "badge_rule_events": [
            {
                "event_id": uuid.uuid4(),
                "badge_home": tid,
                "badge_id": own,
                "user_id": holder,
                "event_type": "community.member_joined",
            }
        ],
    }


def forum_rows(
    tid: str, alice: uuid.UUID, bob: uuid.UUID, garden: uuid.UUID, odd_tz: timezone
) -> dict[str, list[dict[str, Any]]]:
    """The forum tables (t0010_forums): a community forum under a root one, a topic, a thread
    (paths in the C collation), a vote, a flag, a strike, a restriction and a log entry, with
    people of this and another territory."""
    root, child, topic = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first, reply = uuid.uuid4(), uuid.uuid4()
    badge = f"global/{uuid.uuid4()}"
    stranger = uuid.uuid4()
    return {
        "forums": [
            {"id": root, "name": AWKWARD[:100], "read_badges": [badge], "post_badges": []},
            {
                "id": child,
                "parent_id": root,
                "community_id": garden,
                "name": "Garden",
                "visibility": "moderators",
                "is_open": False,
                "position": 3,
            },
        ],
        "forum_topics": [
            {
                "id": topic,
                "forum_id": child,
                "title": AWKWARD[:150].replace("\n", " "),
                "body": AWKWARD * 2,
                "author_territory": tid,
                "author_id": alice,
                "tags": ["soil", "a-b"],
                "edited_at": datetime(2024, 2, 29, 12, tzinfo=odd_tz),
                "is_pinned": True,
                "view_count": 7,
                "comment_count": 2,
            }
        ],
        "forum_comments": [
            {
                "id": first,
                "topic_id": topic,
                "path": first.hex,
                "depth": 0,
                "body": AWKWARD,
                "author_territory": "se",
                "author_id": stranger,
                "up_votes": 1,
                "reply_count": 1,
            },
            {
                "id": reply,
                "topic_id": topic,
                "parent_id": first,
                "path": f"{first.hex}/{reply.hex}",
                "depth": 1,
                "body": "\\.",
                "author_territory": tid,
                "author_id": bob,
                "hidden_at": datetime(2026, 1, 1, tzinfo=UTC),
            },
        ],
        "forum_revisions": [
            {
                "kind": "topic",
                "target_id": topic,
                "title": "Old",
                "body": AWKWARD,
                "written_at": datetime(2024, 1, 1, tzinfo=UTC),
            }
        ],
        "forum_votes": [
            {"comment_id": first, "voter_territory": tid, "voter_id": alice, "value": "up"}
        ],
        "forum_flags": [
            {
                "id": uuid.uuid4(),
                "forum_id": child,
                "kind": "comment",
                "target_id": reply,
                "flagger_territory": tid,
                "flagger_id": alice,
                "reason": "other",
                "note": AWKWARD,
            }
        ],
        "forum_strikes": [
            {
                "id": uuid.uuid4(),
                "user_territory": tid,
                "user_id": bob,
                "issued_by_territory": tid,
                "issued_by_id": alice,
                "reason": "CoC",
            }
        ],
        "forum_restrictions": [{"user_territory": "se", "user_id": stranger, "until": None}],
        "forum_moderation_log": [
            {
                "id": uuid.uuid4(),
                "forum_id": child,
                "action": "hidden",
                "moderator_territory": tid,
                "moderator_id": alice,
                "kind": "comment",
                "target_id": reply,
                "subject_territory": tid,
                "subject_id": bob,
                "reason": AWKWARD,
            }
        ],
    }


async def populate(db: Database, server: str, tid: str) -> dict[str, int]:
    """Rows in EVERY template table, with the content that breaks naive dumps; returns counts."""
    alice, bob = uuid.uuid4(), uuid.uuid4()
    avatar = uuid.uuid4()
    token_a, token_b = uuid.uuid4(), uuid.uuid4()
    garden, family, custom = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    odd_tz = timezone(timedelta(hours=5, minutes=45))
    rows: dict[str, list[dict[str, Any]]] = {
        "users": [
            {
                "id": alice,
                "username": "alice",
                "email": "alice@example.org",
                "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
                "display_name": AWKWARD[:128],
                "created_at": datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=odd_tz),
            },
            {
                "id": bob,
                "username": "Bøb",
                "email": "bob@example.org",
                "password_hash": "x\\y\\\\z",
                "display_name": "",
                "status": "suspended",
            },
        ],
        "invitation_tokens": [
            {
                "id": token_a,
                "token_hash": bytes(range(32)),  # NUL, tab, newline, backslash bytes
                "email": None,
                "max_uses": 5,
                "use_count": 1,
                "expires_at": datetime(2031, 1, 1, tzinfo=UTC),
                "created_by": alice,
            },
            {
                "id": token_b,
                "token_hash": bytes(range(255, 223, -1)),
                "email": "new\nline@example.org",
                "role": "moderator",
                "expires_at": datetime(1999, 12, 31, 23, 0, tzinfo=odd_tz),
                "revoked_at": datetime(2000, 1, 1, tzinfo=UTC),
                "created_by": None,
            },
        ],
        "invitation_uses": [{"id": uuid.uuid4(), "invitation_id": token_a, "user_id": bob}],
        "communities": [
            {
                "id": garden,
                "slug": "plain-garden",
                "name": "Plain Garden",
                "description": "",
                "created_by": alice,
            },
            {
                "id": uuid.uuid4(),
                "slug": "awkward",
                "name": AWKWARD,
                "description": AWKWARD * 3,
                "created_by": None,
            },
            {
                "id": uuid.uuid4(),
                "slug": "hidden",
                "name": "Hidden circle",
                "description": "\\.",
                "is_public": False,
                "created_by": bob,
            },
        ],
        "profiles": [
            {
                "user_id": alice,
                "bio": AWKWARD,
                "location": AWKWARD[:40],
                "birthdate": date(1904, 2, 29),
                "avatar_ref": f"file:{avatar}",
                "primary_language": "sma",
                "visibility": "friends",
                "field_visibility": {"bio": "public", "birthdate": "only_me"},
                "notification_preferences": {"quiet_hours": {"time_zone": "Europe/Oslo"}},
            },
            {"user_id": bob},
        ],
        "language_proficiencies": [
            {"user_id": alice, "language": "se", "level": "b1"},
            {"user_id": alice, "language": "sr-Latn", "level": "native"},
        ],
        "social_links": [
            {
                "id": uuid.uuid4(),
                "user_id": alice,
                "platform": "custom",
                "url": "https://example.org/?q=a,b;c\\d",
                "label": AWKWARD[:60],
            }
        ],
        "social_groups": [
            {"id": family, "owner_id": alice, "kind": "family", "name": "Family"},
            {"id": custom, "owner_id": alice, "kind": "custom", "name": AWKWARD[:50]},
        ],
        "social_group_members": [
            {"group_id": family, "member_territory": "se", "member_user_id": uuid.uuid4()},
            {"group_id": custom, "member_territory": TID, "member_user_id": bob},
        ],
        "visibility_grants": [
            {"group_id": family, "scope": "profile"},
            {"group_id": custom, "scope": "birthdate"},
            {"group_id": custom, "scope": "preferred_translation_language"},
        ],
        "community_memberships": [
            {"community_id": garden, "user_id": alice, "role": "admin"},
            {"community_id": garden, "user_id": bob},
        ],
        "settings": [
            {
                "key": "nested",
                "value": {"a": [1, 2.5, None, True], "ü": {"tab": "\t", "q": '"', "bs": "\\"}},
            },
            {"key": "json-null", "value": None},  # JSON null; the column is NOT NULL
            {"key": "string", "value": AWKWARD},
            {"key": "big", "value": [12345678901234567890, 1e-7, 0.1]},
            {"key": AWKWARD[:60].replace("\n", " "), "value": []},
        ],
        # Files on IPFS: the rows move, the content stays on the node (CIDs are global).
        "files": [
            {
                "id": avatar,
                "owner_id": alice,
                "purpose": "avatar",
                "cid": "bafkreibvv4wrl266jvt3fflj5qmxjhubhr3paiugv7c2fkmhdqv7xwvlgi",
                "media_type": "image/png",
                "size": 68,
                "filename": AWKWARD[:20].replace("\n", " "),
                "width": 1,
                "height": 1,
            },
            {
                "id": uuid.uuid4(),
                "owner_id": alice,
                "purpose": "avatar",
                "cid": "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
                "media_type": "image/webp",
                "size": 40,
                "filename": "me-64.webp",
                "variant_of": avatar,
                "variant": "64",
            },
        ],
        "file_references": [{"file_id": avatar, "kind": "profile.avatar", "object_id": alice}],
        # Unsent events move with the territory (the relay of its new server publishes them).
        "notifications": [
            {
                "id": uuid.uuid4(),
                "user_id": alice,
                "event_id": uuid.uuid4(),
                "kind": "community_role_changed",
                "subject": "Q29tbXVuaXR5OmRrOng",
                "actor": None,
                "read_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
                "push_after": None,
            },
            {
                "id": uuid.uuid4(),
                "user_id": bob,
                "event_id": uuid.uuid4(),
                "kind": "role_granted",
                "subject": AWKWARD,
                "actor": "VXNlcjpkazp4",
                "push_after": datetime(2026, 1, 2, 22, 0, tzinfo=UTC),
            },
        ],
        "outbox": [
            {
                "id": uuid.uuid4(),
                "subject": f"unityplan.{TID}.community.created",
                "envelope": {"type": "community.created", "payload": {"community_id": str(garden)}},
                "sent_at": datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
            },
            {
                "id": uuid.uuid4(),
                "subject": f"unityplan.{TID}.community.member_joined",
                "envelope": {"type": "community.member_joined", "subjects": {}, "payload": {}},
                "attempts": 3,
                "last_error": "TimeoutError",
            },
        ],
        # The issuer's keys move with the territory: what it signed keeps verifying there.
        "credential_issuer_keys": [
            {
                "kid": "key-1",
                "private_key": bytes(range(32)),
                "public_key": bytes(range(32, 64)),
                "retired_at": datetime(2026, 3, 1, tzinfo=odd_tz),
            },
            {"kid": "key-2", "private_key": b"\x00" * 32, "public_key": b"\xff" * 32},
        ],
        "credential_statuses": [
            {"award_id": uuid.uuid4(), "list_no": 1, "status_index": 0, "revoked": True},
            {"award_id": uuid.uuid4(), "list_no": 2, "status_index": 131_071},
        ],
    }
    rows.update(badge_rows(tid, alice, garden, odd_tz))
    rows.update(forum_rows(tid, alice, bob, garden, odd_tz))
    assert set(rows) == set(TEMPLATE), "a new template table needs rows here (and in the dump)"
    tables = {t.name: t for t in territory_metadata.sorted_tables}
    async with db.transaction(server, tid) as conn:
        # Provisioning wrote some rows already (the territory's core badges).
        counts = {
            name: (await conn.execute(select(func.count()).select_from(tables[name]))).scalar_one()
            + len(rows[name])
            for name in TEMPLATE
        }
        for name in TEMPLATE:  # foreign-key order; one statement per row: their keys differ
            for row in rows[name]:
                await conn.execute(insert(tables[name]).values(**row))
    return counts


async def fingerprints(db: Database, server: str, tid: str) -> dict[str, tuple[int, str]]:
    """Count and whole-row md5 per table, as the brief defines them, in UTC on both servers."""
    schema = schema_name(tid)
    found = {}
    async with db.transaction(server) as conn:
        await conn.execute(text("SET LOCAL TimeZone = 'UTC'"))
        await conn.execute(text("SET LOCAL DateStyle = 'ISO, MDY'"))
        for name in TEMPLATE:
            row = (
                await conn.execute(
                    text(
                        "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' "
                        f'ORDER BY t::text COLLATE "C"), \'\')) FROM "{schema}"."{name}" t'
                    )
                )
            ).one()
            found[name] = (int(row[0]), str(row[1]))
    return found


async def all_rows(db: Database, server: str, tid: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table as Python values, in primary-key order."""
    found = {}
    async with db.connect(server, tid) as conn:
        for t in territory_metadata.sorted_tables:
            result = await conn.execute(select(t).order_by(*t.primary_key.columns))
            found[t.name] = [tuple(r) for r in result]
    return found


async def registry_server(db: Database, tid: str) -> str | None:
    async with db.connect("main") as conn:
        return (
            await conn.execute(select(territories.c.db_server).where(territories.c.id == tid))
        ).scalar()


async def schema_exists(db: Database, server: str, tid: str) -> bool:
    async with db.connect(server) as conn:
        found = await conn.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema_name(tid)}
        )
        return found.first() is not None


def rewrite_member(path: Path, member: str, old: bytes, new: bytes) -> None:
    """Tamper with one archive member, keeping the zip itself valid (CRCs recomputed)."""
    with zipfile.ZipFile(path) as src:
        contents = {name: src.read(name) for name in src.namelist()}
    assert old in contents[member]
    contents[member] = contents[member].replace(old, new)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in contents.items():
            dst.writestr(name, data)


async def test_territory_moves_to_second_server_losslessly(
    db: Database, client: httpx.AsyncClient, statements: StatementCounter, tmp_path: Path
) -> None:
    await new_territory(db, TID)
    counts = await populate(db, "main", TID)
    before = await fingerprints(db, "main", TID)
    rows_before = await all_rows(db, "main", TID)
    assert all(n > 0 for n, _ in before.values())

    dump = tmp_path / "transfer.zip"
    manifest = await export_territory(db, TID, dump)
    assert manifest.revision == head_revision("territory")
    assert manifest.territory.id == TID
    assert manifest.territory.parent_id == "dk"
    assert manifest.source_server == "main"
    assert {t.name: t.rows for t in manifest.tables} == counts
    with zipfile.ZipFile(dump) as archive:
        listed = json.loads(archive.read("manifest.json"))["tables"]
        assert [t["name"] for t in listed] == TEMPLATE  # foreign-key order
        assert sorted(archive.namelist()) == sorted(
            ["manifest.json", *(f"tables/{name}.csv" for name in TEMPLATE)]
        )

    imported = await import_territory(db, dump, SECOND)
    assert imported == read_manifest(dump)

    assert await fingerprints(db, SECOND, TID) == before
    assert await all_rows(db, SECOND, TID) == rows_before
    assert await registry_server(db, TID) == SECOND
    async with db.connect(SECOND) as conn:
        revision = (
            await conn.execute(
                text(f'SELECT version_num FROM "{schema_name(TID)}".alembic_version')
            )
        ).scalar()
    assert revision == head_revision("territory")
    # The old copy is left for the operator to drop after verifying.
    assert await fingerprints(db, "main", TID) == before

    query = '{ communities(territory: "c_dk_transfer") { nodes { name } } }'
    statements.statements.clear()
    body = await gql(client, query)
    assert "errors" not in body, body
    expected = sorted(["Plain Garden", AWKWARD])  # the hidden one is not public
    assert sorted(n["name"] for n in body["data"]["communities"]["nodes"]) == expected
    routed = [server for server, sql in statements.statements if schema_name(TID) in sql]
    assert routed, "the query must read the territory schema"
    assert set(routed) == {SECOND}

    # And with the source gone, the graph still answers from the second server.
    await drop_territory_schema(db, "main", TID)
    body = await gql(client, query)
    assert sorted(n["name"] for n in body["data"]["communities"]["nodes"]) == expected


async def test_tampered_dump_is_refused_and_registry_unchanged(
    db: Database, tmp_path: Path
) -> None:
    tid = "c_dk_tamper"
    await new_territory(db, tid)
    await populate(db, "main", tid)
    dump = tmp_path / "tamper.zip"
    await export_territory(db, tid, dump)
    rewrite_member(dump, "tables/communities.csv", b"Plain Garden", b"Plane Garden")

    with pytest.raises(BadUserInput, match=r"Checksum mismatch in table 'communities'"):
        await import_territory(db, dump, SECOND)
    assert await registry_server(db, tid) == "main"
    assert not await schema_exists(db, SECOND, tid), "the half-made schema must be dropped"

    # A dropped row is caught too (by the count), as are non-template tables and junk files.
    await export_territory(db, tid, dump)
    with zipfile.ZipFile(dump) as archive:
        csv = archive.read("tables/settings.csv")
    first_line = csv.split(b"\n", 1)[0] + b"\n"
    rewrite_member(dump, "tables/settings.csv", first_line, b"")
    with pytest.raises(BadUserInput, match="manifest says"):
        await import_territory(db, dump, SECOND)
    assert not await schema_exists(db, SECOND, tid)

    await export_territory(db, tid, dump)
    rewrite_member(dump, "manifest.json", b'"name": "settings"', b'"name": "pg_authid"')
    with pytest.raises(BadUserInput, match="not a table of the territory template"):
        await import_territory(db, dump, SECOND)

    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(BadUserInput, match="not a territory dump"):
        await import_territory(db, junk, SECOND)
    with pytest.raises(BadUserInput, match="No dump file"):
        await import_territory(db, tmp_path / "missing.zip", SECOND)
    with pytest.raises(BadUserInput, match="Unknown database server 'nowhere'"):
        await import_territory(db, dump, "nowhere")
    assert await registry_server(db, tid) == "main"


async def test_import_refuses_a_target_schema_with_rows(db: Database, tmp_path: Path) -> None:
    tid = "c_dk_occupied"
    await new_territory(db, tid)
    await populate(db, "main", tid)
    # A stale copy already sits on the second server, with a row in it.
    await upgrade_territory(db, SECOND, tid)
    async with db.transaction(SECOND, tid) as conn:
        await conn.execute(insert(communities).values(id=uuid.uuid4(), slug="stale", name="old"))
    dump = tmp_path / "occupied.zip"
    await export_territory(db, tid, dump)

    with pytest.raises(BadUserInput, match="already holds rows"):
        await import_territory(db, dump, SECOND)
    assert await registry_server(db, tid) == "main"
    async with db.connect(SECOND, tid) as conn:  # the existing schema was not touched
        assert (await conn.execute(select(communities.c.name))).scalars().all() == ["old"]

    # Importing onto the server it already lives on is refused as well.
    with pytest.raises(BadUserInput, match="already lives on server 'main'"):
        await import_territory(db, dump, "main")


async def test_export_of_unknown_or_invalid_territory_fails_clearly(
    db: Database, tmp_path: Path
) -> None:
    dump = tmp_path / "none.zip"
    with pytest.raises(BadUserInput, match="No territory 'c_dk_nowhere' is registered"):
        await export_territory(db, "c_dk_nowhere", dump)
    with pytest.raises(BadUserInput, match="Invalid territory id"):
        await export_territory(db, 'dk"; DROP SCHEMA global; --', dump)
    assert os.listdir(tmp_path) == [], "no file, not even a partial one"


async def test_import_registers_a_territory_from_another_federation(
    db: Database, tmp_path: Path
) -> None:
    tid = "c_dk_foreign"
    await new_territory(db, tid)
    await populate(db, "main", tid)
    before = await fingerprints(db, "main", tid)
    rows_before = await all_rows(db, "main", tid)
    dump = tmp_path / "foreign.zip"
    await export_territory(db, tid, dump)
    # Forget it here, as if the dump came from another federation.
    await drop_territory_schema(db, "main", tid)
    async with db.transaction("main") as conn:
        await conn.execute(delete(territories).where(territories.c.id == tid))

    await import_territory(db, dump, SECOND)
    async with db.connect("main") as conn:
        row = (
            await conn.execute(
                select(
                    territories.c.name,
                    territories.c.kind,
                    territories.c.parent_id,
                    territories.c.status,
                    territories.c.db_server,
                ).where(territories.c.id == tid)
            )
        ).one()
    assert tuple(row) == (f"Transfer {tid}", "community", "dk", "active", SECOND)
    assert await fingerprints(db, SECOND, tid) == before
    assert await all_rows(db, SECOND, tid) == rows_before


async def run_cli(settings_: Settings, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "UNITYPLAN_ENV": "test",
        "DATABASE_URL": settings_.database_url,
        "DATABASE_SERVERS": json.dumps(settings_.database_servers),
        "PYTHONPATH": CHECKOUT,
    }
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "unityplan"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_export_then_import_with_drop_source(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    tid = "c_dk_cli"
    await new_territory(db, tid)
    counts = await populate(db, "main", tid)
    before = await fingerprints(db, "main", tid)
    dump = tmp_path / "cli.zip"

    code, out, err = await run_cli(settings, "territory", "export", tid, str(dump))
    assert code == 0, err
    assert f"exported {tid} from main" in out
    assert f"{sum(counts.values())} rows in {len(TEMPLATE)} tables" in out

    code, out, err = await run_cli(
        settings, "territory", "import", str(dump), "--server", SECOND, "--drop-source"
    )
    assert code == 0, err
    assert f"now served from {SECOND}" in out
    assert "dropped the source schema on main" in out
    assert await registry_server(db, tid) == SECOND
    assert await fingerprints(db, SECOND, tid) == before
    assert not await schema_exists(db, "main", tid)

    code, out, err = await run_cli(settings, "territory", "export", "c_dk_nowhere", str(dump))
    assert code == 2
    assert "error: No territory 'c_dk_nowhere' is registered" in err


async def test_dump_counts_match_what_the_server_counts(db: Database, tmp_path: Path) -> None:
    """The manifest's counts are the source's own: a cheap guard on the snapshot logic."""
    dump = tmp_path / "dk.zip"
    manifest = await export_territory(db, "dk", dump)
    async with db.connect("main", "dk") as conn:
        n = (await conn.execute(select(func.count()).select_from(communities))).scalar()
    assert {t.name: t.rows for t in manifest.tables}["communities"] == n
    assert [t.name for t in manifest.tables] == TEMPLATE
    assert {t.name for t in manifest.tables} == {
        users.name,
        invitation_tokens.name,
        invitation_uses.name,
        communities.name,
        settings_table.name,
        # t0003
        "profiles",
        "language_proficiencies",
        "social_links",
        "social_groups",
        "social_group_members",
        "community_memberships",
        # t0004
        "visibility_grants",
        # t0005
        "outbox",
        # t0006_notifications
        "notifications",
        # t0007_badges
        "badge_definitions",
        "badge_definition_versions",
        "badge_prerequisites",
        "badge_awards",
        "badge_award_history",
        "badge_notice_claims",
        "badge_rule_events",
        # t0008_credentials
        "credential_issuer_keys",
        "credential_statuses",
        # t0009_files
        "files",
        "file_references",
        # t0010_forums
        "forums",
        "forum_topics",
        "forum_comments",
        "forum_revisions",
        "forum_votes",
        "forum_flags",
        "forum_strikes",
        "forum_restrictions",
        "forum_moderation_log",
    }


async def test_export_reads_one_read_only_snapshot_and_resets_the_pool(
    settings: Settings, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Export reads in REPEATABLE READ, READ ONLY; the pooled connection is not left that way."""
    seen: list[tuple[str, str, int]] = []
    pin = transfer._pin_settings

    async def spy(conn: Any) -> None:
        await pin(conn)
        row = (
            await conn.execute(
                text(
                    "SELECT current_setting('transaction_isolation'), "
                    "current_setting('transaction_read_only'), pg_backend_pid()"
                )
            )
        ).one()
        seen.append((str(row[0]), str(row[1]), int(row[2])))

    monkeypatch.setattr(transfer, "_pin_settings", spy)
    single = Database(settings.servers(), pool_size=1)
    try:
        await transfer.export_territory(single, "dk", tmp_path / "dk.zip")
        assert [s[:2] for s in seen] == [("repeatable read", "on")]
        async with single.connect("main") as conn:
            row = (
                await conn.execute(
                    text(
                        "SELECT current_setting('transaction_isolation'), "
                        "current_setting('transaction_read_only'), pg_backend_pid()"
                    )
                )
            ).one()
        assert row[2] == seen[0][2], "the test must look at the connection the export used"
        assert (row[0], row[1]) == ("read committed", "off")
    finally:
        await single.dispose()


async def test_checksums_do_not_depend_on_server_settings(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """The target server renders dates differently; the dump still loads and verifies."""
    tid = "c_dk_timezones"
    await new_territory(db, tid)
    await populate(db, "main", tid)
    before = await all_rows(db, "main", tid)
    dump = tmp_path / "tz.zip"
    await export_territory(db, tid, dump)

    target = make_url(settings.database_servers[SECOND]).database
    odd = {"TimeZone": "Asia/Kathmandu", "DateStyle": "SQL, DMY", "IntervalStyle": "sql_standard"}
    async with db.transaction(SECOND) as conn:
        for name, value in odd.items():
            await conn.execute(text(f"ALTER DATABASE \"{target}\" SET {name} = '{value}'"))
    fresh = Database(settings.servers(), pool_size=2)  # new connections pick the settings up
    try:
        async with fresh.connect(SECOND) as conn:
            assert (await conn.execute(text("SHOW TimeZone"))).scalar() == "Asia/Kathmandu"
        await import_territory(fresh, dump, SECOND)
    finally:
        await fresh.dispose()
        async with db.transaction(SECOND) as conn:
            for name in odd:
                await conn.execute(text(f'ALTER DATABASE "{target}" RESET {name}'))
    assert await all_rows(db, SECOND, tid) == before
    assert await registry_server(db, tid) == SECOND
