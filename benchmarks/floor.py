"""The floor of benchmarks/load.py: each shape's answer from ONE hand-written SQL statement.

What any server must at least spend on a shape: parse the HTTP request, (for the nested shape)
verify the access token, run one statement whose ``json_build_object``/``json_agg`` builds the
whole response body in PostgreSQL, and send that text back. No GraphQL, no ORM, no Python objects
per row. load.py serves it with uvicorn in the API's settings (one worker, uvloop, httptools) and
drives it with the same wrk settings, so API req/s over floor req/s is comparable.

Each statement returns the same JSON as the API for the same shape (load.py compares them before
timing). The nested shape decides profile fields with the API's rule for a viewer of the owner's
territory who shares no community or social group with the owner, which is the benchmark viewer:
a field shows when its own setting, else the profile's preset, is ``territory`` or wider.

Configured by environment, set by load.py: FLOOR_DSN (asyncpg DSN), FLOOR_TERRITORY (``dk``),
FLOOR_JWT_PUBLIC_KEY (PEM of the API's signing key), FLOOR_JWT_ISSUER, FLOOR_JWT_AUDIENCE,
FLOOR_POOL_SIZE (the API's DATABASE_POOL_SIZE).
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

# A territory viewer sees what is set to these (domain/privacy.py: TERRITORY or wider).
_SHOWN = "('territory', 'all_territories', 'public')"


def _field_shown(column: str) -> str:
    """SQL: the viewer may see ``column`` of profile ``p`` (its own setting, else the preset)."""
    return (
        f"coalesce(p.field_visibility ->> '{column}', coalesce(p.visibility, 'territory')) "
        f"IN {_SHOWN}"
    )


def _communities(schema: str) -> str:
    """The first 100 public communities by slug, as ``communities(first: 100)`` pages them."""
    return (
        f"SELECT c.id, c.slug, c.name, c.is_public FROM {schema}.communities c "
        "WHERE c.is_public ORDER BY c.slug LIMIT 100"
    )


def statements(territory: str) -> dict[str, str]:
    """Shape name -> one statement returning the response body as text."""
    schema = '"' + schema_name(territory) + '"'
    visibility = "CASE WHEN c.is_public THEN 'PUBLIC' ELSE 'INVITE_ONLY' END"
    small = (
        "SELECT json_build_object('data', json_build_object('territory', ("
        "SELECT json_build_object('code', t.id, 'name', t.name, 'kind', upper(t.kind)) "
        "FROM global.territories t WHERE t.id = $1 AND t.status = 'active')))::text"
    )
    flat = (
        "SELECT json_build_object('data', json_build_object('communities', "
        "json_build_object('nodes', coalesce((SELECT json_agg(json_build_object("
        f"'slug', c.slug, 'name', c.name, 'visibility', {visibility}) ORDER BY c.slug) "
        f"FROM ({_communities(schema)}) c), '[]'::json))))::text"
    )
    profile = (
        "CASE WHEN u.status = 'active' AND ("
        f"{_field_shown('display_name')} OR {_field_shown('bio')} "
        f"OR coalesce(p.visibility, 'territory') IN {_SHOWN}) "
        "THEN json_build_object("
        f"'displayName', CASE WHEN {_field_shown('display_name')} THEN u.display_name END, "
        f"'bio', CASE WHEN {_field_shown('bio')} THEN p.bio END) END"
    )
    # One pass: the page of communities, the first 20 members of each (LATERAL over the page),
    # then users and profiles joined ONCE for all 2,000 members and aggregated per community.
    # (Joining them inside the LATERAL plans a hash join over both whole tables per community.)
    # $1: the viewer is an account of this territory (members are null for anyone else).
    nested = (
        f"WITH c AS ({_communities(schema)}), "
        "m AS (SELECT c.id AS community_id, mm.* FROM c CROSS JOIN LATERAL ("
        f"SELECT cm.user_id, cm.role, cm.joined_at FROM {schema}.community_memberships cm "
        "WHERE cm.community_id = c.id ORDER BY cm.joined_at, cm.user_id LIMIT 20) mm), "
        "pages AS (SELECT m.community_id, json_agg(json_build_object("
        f"'role', upper(m.role), 'profile', {profile}) ORDER BY m.joined_at, m.user_id) AS nodes "
        f"FROM m JOIN {schema}.users u ON u.id = m.user_id "
        f"LEFT JOIN {schema}.profiles p ON p.user_id = m.user_id GROUP BY m.community_id) "
        "SELECT json_build_object('data', json_build_object('communities', "
        "json_build_object('nodes', coalesce((SELECT json_agg(json_build_object("
        f"'slug', c.slug, 'name', c.name, 'visibility', {visibility}, "
        "'members', CASE WHEN $1 THEN json_build_object('nodes', "
        "coalesce(pages.nodes, '[]'::json)) END) ORDER BY c.slug) "
        "FROM c LEFT JOIN pages ON pages.community_id = c.id"
        "), '[]'::json))))::text"
    )
    return {"small": small, "flat": flat, "nested": nested}


def app() -> Starlette:
    """Factory for ``uvicorn --factory floor:app`` (run with --app-dir benchmarks)."""
    territory = os.environ.get("FLOOR_TERRITORY", "dk")
    sql = statements(territory)
    pem = os.environ.get("FLOOR_JWT_PUBLIC_KEY")
    # Loaded once, as the API loads its key set once.
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
        shape = request.path_params["shape"]
        statement = sql.get(shape)
        if statement is None:
            return Response(status_code=404)
        orjson.loads(await request.body())  # read and parse the request, as the API must
        args: tuple[object, ...] = ()
        if shape == "small":
            args = (territory,)
        elif shape == "nested":
            args = (viewer_territory(request) == territory,)
        body = await state["pool"].fetchval(statement, *args)
        return Response(body, media_type="application/json")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        # The API's pool: DATABASE_POOL_SIZE connections plus as many overflow.
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
            Route("/{shape}", answer, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
