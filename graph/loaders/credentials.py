"""Batched reads for verifying credentials: an issuer's keys and its status lists."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from db import credentials as credential_db
from domain.credentials import PublishedKey, encode_status_list
from graph.loaders.spec import Scope, TerritoryLoader


async def _keys(
    conn: AsyncConnection, _scope: Scope, kids: list[str]
) -> Sequence[PublishedKey | None]:
    found = {k.kid: k for k in await credential_db.published_keys(conn, kids)}
    return [found.get(kid) for kid in kids]


async def _status_lists(conn: AsyncConnection, _scope: Scope, list_nos: list[int]) -> Sequence[str]:
    revoked = await credential_db.revoked_in(conn, list_nos)
    return [encode_status_list(revoked.get(n, ())) for n in list_nos]


ISSUER_KEY: TerritoryLoader[str, PublishedKey | None] = TerritoryLoader(
    "credentials.issuer_key", _keys, missing=None
)
"""A territory issuer's key by its kid fragment (``key-1``), retired ones included."""

STATUS_LIST: TerritoryLoader[int, str | None] = TerritoryLoader(
    "credentials.status_list", _status_lists, missing=None
)
"""A territory's status list by number, as the ``encodedList`` its endpoint publishes."""
