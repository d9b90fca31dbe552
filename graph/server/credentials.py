"""The Open Badges issuer endpoints: a territory's issuer Profile and its revocation lists.

* ``GET /credentials/<territory>/issuer``: the issuer ``Profile`` (JSON-LD) with every key the
  territory signs credentials with, as JsonWebKey verification methods;
* ``GET /credentials/<territory>/status/<n>``: status list ``n`` as a signed
  BitstringStatusListCredential (``application/vc+jwt``), cached for a minute so a revocation
  reaches verifiers within it.

An unknown, malformed or inactive territory and a list past the last are 404. The first request
of a territory with no key yet generates it (one short transaction), as issuing would.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db import credentials as credential_db
from db import territories as registry
from db.engines import Database
from db.territories import TerritoryRecord
from domain.credentials import MEDIA_TYPE, Urls, issuer_profile
from domain.errors import BadUserInput
from domain.territories import TerritoryStatus, validate_territory_id
from unityplan.settings import MAIN_SERVER, Settings

ISSUER_CACHE = "public, max-age=300"
STATUS_CACHE = "public, max-age=60"
_NOT_FOUND = {"errors": [{"message": "Not found.", "extensions": {"code": "NOT_FOUND"}}]}


async def _territory(db: Database, value: str) -> TerritoryRecord | None:
    try:
        territory_id = validate_territory_id(value)
    except BadUserInput:
        return None
    async with db.connect(MAIN_SERVER) as conn:
        found = (await registry.by_ids(conn, [territory_id])).get(territory_id)
    return found if found is not None and found.status is TerritoryStatus.ACTIVE else None


async def issuer(request: Request) -> Response:
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    territory = await _territory(db, request.path_params["territory"])
    if territory is None:
        return JSONResponse(_NOT_FOUND, status_code=404)
    async with db.transaction(territory.db_server, territory.id) as conn:
        await credential_db.issuer_key(conn)
        keys = await credential_db.published_keys(conn)
    profile = issuer_profile(Urls(settings.public_url), territory.id, territory.name, keys)
    return JSONResponse(
        profile,
        media_type="application/ld+json",
        headers={"Cache-Control": ISSUER_CACHE},
    )


async def status_list(request: Request) -> Response:
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    territory = await _territory(db, request.path_params["territory"])
    list_no: int = request.path_params["list_no"]
    if territory is None or list_no < 1:
        return JSONResponse(_NOT_FOUND, status_code=404)
    async with db.transaction(territory.db_server, territory.id) as conn:
        signed = await credential_db.status_list_credential(
            conn, territory.id, list_no, public_url=settings.public_url
        )
    if signed is None:
        return JSONResponse(_NOT_FOUND, status_code=404)
    return Response(signed, media_type=MEDIA_TYPE, headers={"Cache-Control": STATUS_CACHE})


def credential_routes() -> list[Route]:
    return [
        Route("/credentials/{territory}/issuer", issuer, methods=["GET"]),
        Route("/credentials/{territory}/status/{list_no:int}", status_list, methods=["GET"]),
    ]
