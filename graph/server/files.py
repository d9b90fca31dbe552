"""``GET /files/<cid>?id=<File id>``: a stored file streamed from IPFS, with range requests.

The ``id`` names the row that decides access (the same rule as ``node`` on it,
graph/types/files.py: owner, or whoever may see what references it); the path's CID must be that
row's. Anything unknown, malformed or not visible to the caller is a 404 decided in PostgreSQL
before IPFS is asked, so an unknown CID never reaches the node (where it would hang). The body
streams chunk by chunk from the node's ``cat`` (offset and length for a ``Range``), never held
whole in memory.

Headers: ``Content-Type`` is the type detected at upload; ``X-Content-Type-Options: nosniff``
and a ``Content-Security-Policy`` of ``sandbox`` keep a browser from running anything;
``Content-Disposition`` carries the stored safe name (``inline`` for images and video, else
``attachment``); ``Cache-Control`` is ``immutable`` for a year (a CID's bytes never change),
``public`` only when an anonymous caller may read it; ``ETag`` is the CID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from domain.errors import BadUserInput, Unavailable
from files.cids import InvalidCid, normalise
from graph import ids
from graph.types.files import readable_record

if TYPE_CHECKING:
    from db.files import FileRecord
    from graph.context import Context

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
YEAR = 31_536_000


@dataclass(frozen=True, slots=True)
class _Reading:
    """What graph/types/files.py's readers use of a resolver's ``info``: its context."""

    context: Context


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(
        orjson.dumps(body), status, headers=headers, media_type="application/json; charset=utf-8"
    )


def _not_found() -> Response:
    return _error(404, "NOT_FOUND", "No such file.")


class Unsatisfiable(ValueError):
    """A ``Range`` outside the file, malformed, or asking for several ranges (416)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a single ``Range: bytes=…`` within ``size``; None for the whole file."""
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or match.groups() == ("", ""):
        raise Unsatisfiable(header)
    first, last = match.groups()
    if not first:  # the last N bytes
        if int(last) == 0:
            raise Unsatisfiable(header)
        return max(size - int(last), 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise Unsatisfiable(header)
    return start, end


async def _readable(request: Request) -> tuple[FileRecord | None, Context | Response]:
    """The file the request names if the caller may read it, and the caller's context."""
    try:
        cid = normalise(request.path_params["cid"])
        key = ids.decode(request.query_params.get("id", ""))
        if key.type_name != "File":
            return None, _not_found()
        file_key = ids.parse_uuid(key.key)
    except (InvalidCid, BadUserInput):
        return None, _not_found()
    context: Context = await request.app.state.graphql.get_context(request, Response())
    if context.auth_error is not None:
        return None, _error(401, context.auth_error.code, str(context.auth_error))
    try:
        reading: Any = _Reading(context)
        record = await readable_record(reading, key.territory_id, file_key)
    finally:
        await context.loaders.close()
    if record is None or record.cid != cid:
        return None, _not_found()
    return record, context


def _headers(record: FileRecord, anonymous: bool) -> dict[str, str]:
    kind = record.media_type.split("/", 1)[0]
    disposition = "inline" if kind in ("image", "video") else "attachment"
    return {
        "Accept-Ranges": "bytes",
        "Cache-Control": f"{'public' if anonymous else 'private'}, max-age={YEAR}, immutable",
        "Content-Disposition": f'{disposition}; filename="{record.filename}"',
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "ETag": f'"{record.cid}"',
        "X-Content-Type-Options": "nosniff",
    }


async def serve_file(request: Request) -> Response:
    record, context = await _readable(request)
    if record is None or isinstance(context, Response):
        assert isinstance(context, Response)
        return context
    headers = _headers(record, not context.caller.is_authenticated)
    try:
        wanted = byte_range(request.headers.get("range"), record.size)
    except Unsatisfiable:
        headers["Content-Range"] = f"bytes */{record.size}"
        return Response(status_code=416, headers=headers)
    status, offset, length = 200, 0, record.size
    if wanted is not None:
        first, last = wanted
        status, offset, length = 206, first, last - first + 1
        headers["Content-Range"] = f"bytes {first}-{last}/{record.size}"
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=record.media_type)
    try:
        body = await request.app.state.storage.node.read(record.cid, offset, length)
    except Unavailable as error:
        return _error(503, error.code, str(error), {"Retry-After": "1"})
    return StreamingResponse(body, status, headers=headers, media_type=record.media_type)
