"""The floor of benchmarks/forums.py: the forum shape's answer from ONE hand-written SQL statement.

``forums(first: 20) -> topics(first: 10) -> comments(first: 10) -> author -> badges -> badge``
built by ``json_build_object``/``json_agg`` inside PostgreSQL, with the global ids encoded in SQL
the way graph/ids.py encodes them (base64url of ``Type:territory:key`` without padding). It
decides visibility as the API does for the benchmark's viewer (an account of the territory, no
roles, no badges): every root forum of the seed is a public territory forum without required
badges, so all are shown; hidden topics are left out; deleted or hidden comments show without
body and author; an author's badges are the awards valid now (none of the seeded badges has
prerequisites), newest award first.

Configured by environment, set by forums.py: FLOOR_DSN, FLOOR_TERRITORY, FLOOR_JWT_PUBLIC_KEY,
FLOOR_JWT_ISSUER, FLOOR_JWT_AUDIENCE, FLOOR_POOL_SIZE (as benchmarks/floor.py).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import jwt
import orjson
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from domain.territories import schema_name


def _gid(type_name: str, territory: str, key: str) -> str:
    """SQL for a Relay global id (graph/ids.py: encode) of ``key`` (an SQL expression)."""
    raw = f"convert_to('{type_name}:' || {territory} || ':' || {key}::text, 'UTF8')"
    return f"rtrim(translate(replace(encode({raw}, 'base64'), E'\\n', ''), '+/', '-_'), '=')"


def statement(territory: str) -> str:
    """The whole response body as text; $1: the viewer is an account of the territory."""
    s = '"' + schema_name(territory) + '"'
    t = f"'{territory}'"
    gone = "(c.deleted_at IS NOT NULL OR c.hidden_at IS NOT NULL)"
    return (
        f"WITH f AS (SELECT id, name, position FROM {s}.forums WHERE parent_id IS NULL AND $1 "
        "ORDER BY position, id LIMIT 20), "
        "tp AS (SELECT f.id AS forum_id, x.* FROM f CROSS JOIN LATERAL ("
        f"SELECT id, title, is_pinned, last_activity_at FROM {s}.forum_topics "
        "WHERE forum_id = f.id AND hidden_at IS NULL "
        "ORDER BY is_pinned DESC, last_activity_at DESC, id DESC LIMIT 10) x), "
        "c AS (SELECT tp.id AS topic_id, x.* FROM tp CROSS JOIN LATERAL ("
        "SELECT id, body, deleted_at, hidden_at, author_territory, author_id "
        f"FROM {s}.forum_comments WHERE topic_id = tp.id AND parent_id IS NULL "
        "ORDER BY id LIMIT 10) x), "
        "b AS (SELECT a.user_id, json_agg(json_build_object('badge', json_build_object("
        f"'id', {_gid('Badge', 'a.badge_home', 'a.badge_id')}, 'name', v.name)) "
        "ORDER BY a.awarded_at DESC) AS badges "
        "FROM (SELECT DISTINCT author_id FROM c) au "
        f"JOIN {s}.badge_awards a ON a.user_id = au.author_id AND a.badge_home = {t} "
        f"JOIN {s}.badge_definitions d ON d.id = a.badge_id "
        f"JOIN {s}.badge_definition_versions v ON v.definition_id = d.id "
        "AND v.version = d.current_version "
        "WHERE a.revoked_at IS NULL AND a.valid_from <= now() "
        "AND (a.valid_until IS NULL OR a.valid_until > now()) GROUP BY a.user_id), "
        "cj AS (SELECT c.topic_id, json_agg(json_build_object("
        f"'id', {_gid('ForumComment', t, 'c.id')}, "
        f"'body', CASE WHEN {gone} THEN NULL ELSE c.body END, "
        f"'author', CASE WHEN {gone} THEN NULL ELSE json_build_object("
        f"'userId', {_gid('User', 'c.author_territory', 'c.author_id')}, "
        "'badges', coalesce(b.badges, '[]'::json)) END) ORDER BY c.id) AS nodes "
        "FROM c LEFT JOIN b ON b.user_id = c.author_id GROUP BY c.topic_id), "
        "tj AS (SELECT tp.forum_id, json_agg(json_build_object("
        f"'id', {_gid('ForumTopic', t, 'tp.id')}, 'title', tp.title, "
        "'comments', json_build_object('nodes', coalesce(cj.nodes, '[]'::json))) "
        "ORDER BY tp.is_pinned DESC, tp.last_activity_at DESC, tp.id DESC) AS nodes "
        "FROM tp LEFT JOIN cj ON cj.topic_id = tp.id GROUP BY tp.forum_id) "
        "SELECT json_build_object('data', json_build_object('forums', json_build_object("
        "'nodes', coalesce((SELECT json_agg(json_build_object("
        f"'id', {_gid('Forum', t, 'f.id')}, 'name', f.name, "
        "'topics', json_build_object('nodes', coalesce(tj.nodes, '[]'::json))) "
        "ORDER BY f.position, f.id) FROM f LEFT JOIN tj ON tj.forum_id = f.id), "
        "'[]'::json))))::text"
    )


def app() -> Starlette:
    """Factory for ``uvicorn --factory forums_floor:app`` (run with --app-dir benchmarks)."""
    territory = os.environ.get("FLOOR_TERRITORY", "dk")
    sql = statement(territory)
    pem = os.environ.get("FLOOR_JWT_PUBLIC_KEY")
    public_key: Any = None if pem is None else serialization.load_pem_public_key(pem.encode())
    issuer = os.environ.get("FLOOR_JWT_ISSUER", "unityplan-graph")
    audience = os.environ.get("FLOOR_JWT_AUDIENCE", "unityplan")
    pool_size = int(os.environ.get("FLOOR_POOL_SIZE", "10"))
    state: dict[str, asyncpg.Pool] = {}

    def viewer_territory(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if public_key is None or not header.startswith("Bearer "):
            return None
        try:
            claims = jwt.decode(
                header[7:], public_key, algorithms=["EdDSA"], audience=audience, issuer=issuer
            )
        except jwt.PyJWTError:
            return None
        return str(claims.get("territory"))

    async def answer(request: Request) -> Response:
        orjson.loads(await request.body())  # read and parse the request, as the API must
        body = await state["pool"].fetchval(sql, viewer_territory(request) == territory)
        return Response(body, media_type="application/json")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(
            os.environ["FLOOR_DSN"], min_size=1, max_size=2 * pool_size
        )
        try:
            yield
        finally:
            await state["pool"].close()

    async def healthz(_request: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/forums", answer, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
