"""GraphQL over HTTP (the GraphQL-over-HTTP specification) for ``/graphql``.

Strawberry's view accepts too much for a public front door (any ``*json*`` content type, no body
size cap, ``application/json`` only, 200 for every GraphQL error), so HTTP requests are handled
here and only execution is left to the schema. What this module guarantees:

* media types: ``application/graphql-response+json`` (request errors answer 400 and carry no
  ``data``) and ``application/json`` (GraphQL errors answer 200), chosen from ``Accept``
  (absent or ``*/*``: ``application/json``); anything else is 406;
* every malformed request is a 4xx with a GraphQL-shaped JSON body and a code: bodies over
  ``MAX_BODY_BYTES`` (413), documents over ``MAX_DOCUMENT_BYTES`` (413), invalid JSON or UTF-8,
  JSON nested deeper than ``MAX_JSON_DEPTH``, a body that is not an object (400), parameters of the
  wrong type (400), content types other than ``application/json`` (415), CSRF-forgeable POSTs (400);
* GET runs queries only (mutations: 405) and only when ``QUERIES_OVER_GET`` allows;
* batches (a JSON array) are refused unless ``BATCH_REQUESTS`` is set, then bounded by it;
* trusted documents (graph/server/documents.py): ``documentId`` and APQ hashes resolve to registered
  texts, and callers the mode does not trust with free text run registered documents only;
* rate limits (graph/server/ratelimit.py): one token per operation from the caller's bucket, taken
  before the body is read; an empty bucket answers 429 with ``Retry-After``;
* an unexpected failure in this layer is a masked 500 with an error id, its detail only logged.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import orjson
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from strawberry.exceptions import MissingQueryError
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from files.uploads import remove
from graph.errors import (
    BAD_REQUEST,
    INTERNAL,
    OPERATION_RESOLUTION_FAILURE,
    UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    coded,
    is_unavailable,
)
from graph.server.csrf import CSRF_BLOCKED, CSRF_MESSAGE, is_forgeable
from graph.server.documents import DocumentRefused, Resolved, TrustedDocuments
from graph.server.policy import Policy, allows
from graph.server.ratelimit import RATE_LIMITED, RateLimiter, retry_message
from graph.server.uploads import UploadLimits, UploadRefused, receive

if TYPE_CHECKING:
    from graphql import GraphQLError
    from strawberry.schema.base import BaseSchema
    from strawberry.types import ExecutionResult

    from domain.callers import Caller

log = logging.getLogger("unityplan.http")

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"
MULTIPART = "multipart/form-data"
MAX_JSON_DEPTH = 32

PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
DOCUMENT_TOO_LARGE = "DOCUMENT_TOO_LARGE"
UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
BATCHING_DISABLED = "BATCHING_DISABLED"
BATCH_TOO_LARGE = "BATCH_TOO_LARGE"
OVERLOADED = "OVERLOADED"


class HTTPError(Exception):
    """A request refused before execution; rendered as ``{"errors": [...]}`` with its status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: Mapping[str, str] | None = None,
        error_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.error_id = error_id


class View(Protocol):
    """What the transport needs from the ASGI view (graph.server.app.GraphQLApp)."""

    schema: BaseSchema

    async def get_context(self, request: Request, response: Response) -> Any: ...

    async def render_graphql_ide(self, request: Request) -> Response: ...


@dataclass(frozen=True, slots=True)
class Operation:
    """One validated GraphQL-over-HTTP request's parameters."""

    query: str | None
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None
    # The GraphQL-over-HTTP draft's persisted document id, "sha256:<hex>"
    # (graph/server/documents.py).
    document_id: str | None = None


def _media_type(header: str) -> tuple[str, dict[str, str]]:
    """``"Application/JSON; charset=UTF-8"`` -> ``("application/json", {"charset": "utf-8"})``."""
    media, *raw_params = header.split(";")
    params: dict[str, str] = {}
    for raw in raw_params:
        key, _, value = raw.partition("=")
        params[key.strip().lower()] = value.strip().strip('"').lower()
    return media.strip().lower(), params


def _boundary(content_type: str) -> bytes | None:
    """The multipart boundary, as sent (``_media_type`` lowercases parameter values)."""
    for raw in content_type.split(";")[1:]:
        key, _, value = raw.partition("=")
        if key.strip().lower() == "boundary" and value.strip().strip('"'):
            return value.strip().strip('"').encode("latin-1")
    return None


def negotiate(accept: str | None) -> str | None:
    """The response media type for ``Accept``, or None if neither is acceptable.

    The most specific matching range gives each candidate its quality; on a tie an explicitly
    named ``application/graphql-response+json`` wins, else ``application/json`` (so ``*/*``, the
    default of many HTTP clients, keeps the legacy media type, as the specification asks).
    """
    if not accept or not accept.strip():
        return JSON
    ranges: list[tuple[str, float]] = []
    for part in accept.split(","):
        media, params = _media_type(part)
        if not media:
            continue
        try:
            quality = float(params.get("q", "1"))
        except ValueError:
            quality = 0.0
        ranges.append((media, quality))

    def quality_of(candidate: str) -> tuple[float, int]:
        best: tuple[int, float] | None = None  # (specificity, quality)
        kind = candidate.split("/", maxsplit=1)[0]
        for media, quality in ranges:
            specificity = 3 if media == candidate else 2 if media == f"{kind}/*" else 1
            if media in (candidate, f"{kind}/*", "*/*") and (best is None or specificity > best[0]):
                best = (specificity, quality)
        return (best[1], best[0]) if best else (0.0, 0)

    graphql_q, graphql_specificity = quality_of(GRAPHQL_RESPONSE_JSON)
    json_q, _ = quality_of(JSON)
    if graphql_q <= 0 and json_q <= 0:
        return None
    if graphql_q > json_q or (graphql_q == json_q and graphql_specificity == 3):
        return GRAPHQL_RESPONSE_JSON
    return JSON


def _json_depth_ok(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` nests at most ``limit`` containers deep (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


class _DuplicateKey(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _DuplicateKey
    return found


def _decode_json(raw: bytes | str, what: str) -> object:
    """Strict JSON (orjson: UTF-8, no NaN) whose objects name each key once.

    JSON leaves duplicate keys undefined and parsers disagree (orjson keeps the last): a body
    ``{"query": A, "query": B}`` would run whichever this parser picked while a proxy or WAF in
    front checked the other. The second parse (stdlib ``json`` with a pairs hook) only looks for
    duplicates; bodies are capped at ``MAX_BODY_BYTES``, so its cost is bounded.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise HTTPError(400, BAD_REQUEST, f"{what} is not valid UTF-8 JSON.") from None
    if isinstance(value, (dict, list)):
        try:
            json.loads(raw, object_pairs_hook=_object_without_duplicates)
        except _DuplicateKey:
            raise HTTPError(400, BAD_REQUEST, f"{what} names a key twice in one object.") from None
    if not _json_depth_ok(value):
        raise HTTPError(400, BAD_REQUEST, f"{what} nests deeper than {MAX_JSON_DEPTH} levels.")
    return value


def parse_params(params: object) -> Operation:
    """Check one request's parameters, as the specification types them."""
    if not isinstance(params, dict):
        raise HTTPError(400, BAD_REQUEST, "A GraphQL request must be a JSON object.")
    query = params.get("query")
    document_id = params.get("documentId")
    if document_id is not None and not isinstance(document_id, str):
        raise HTTPError(400, BAD_REQUEST, "`documentId` must be a string.")
    extensions = params.get("extensions")
    persisted = isinstance(extensions, dict) and extensions.get("persistedQuery") is not None
    if query is None and document_id is None and not persisted:
        raise HTTPError(400, BAD_REQUEST, "The request has no `query`.")
    if query is not None and not isinstance(query, str):
        raise HTTPError(400, BAD_REQUEST, "`query` must be a string.")
    variables = params.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise HTTPError(400, BAD_REQUEST, "`variables` must be an object or null.")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise HTTPError(400, BAD_REQUEST, "`operationName` must be a string or null.")
    if extensions is not None and not isinstance(extensions, dict):
        raise HTTPError(400, BAD_REQUEST, "`extensions` must be an object or null.")
    return Operation(query, variables, operation_name, extensions, document_id)


def _get_params(request: Request) -> dict[str, object]:
    """GET parameters; ``variables`` and ``extensions`` are URL-encoded JSON."""
    params: dict[str, object] = {}
    for key in ("query", "operationName", "variables", "extensions", "documentId"):
        values = request.query_params.getlist(key)
        if len(values) > 1:
            raise HTTPError(400, BAD_REQUEST, f"`{key}` is given more than once.")
        if not values:
            continue
        value: object = values[0]
        if key in ("variables", "extensions") and values[0]:
            value = _decode_json(values[0], f"`{key}`")
        params[key] = value
    return params


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPError(413, PAYLOAD_TOO_LARGE, f"The request body exceeds {limit} bytes.")
    body = bytearray()
    try:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                raise HTTPError(413, PAYLOAD_TOO_LARGE, f"The request body exceeds {limit} bytes.")
    except ClientDisconnect:
        raise HTTPError(400, BAD_REQUEST, "The client disconnected mid-request.") from None
    return bytes(body)


def _error_body(code: str, message: str) -> dict[str, object]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def _code_of(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


class Transport:
    """Serve one HTTP request at ``/graphql`` for ``view`` under ``policy``."""

    def __init__(
        self,
        view: View,
        policy: Policy,
        documents: TrustedDocuments | None = None,
        limiter: RateLimiter | None = None,
        uploads: UploadLimits | None = None,
    ) -> None:
        self.view = view
        self.policy = policy
        self.documents = documents
        self.limiter = limiter
        # GraphQL multipart requests (graph/server/uploads.py); None: refused with 415.
        self.uploads = uploads
        # GraphQL executions running now in this process (one event loop: no lock needed).
        self.in_flight = 0

    def _allowed_methods(self) -> str:
        return "GET, POST" if self.policy.queries_over_get else "POST"

    async def __call__(self, request: Request) -> Response:
        media = negotiate(request.headers.get("accept"))
        try:
            return await self._serve(request, media)
        except HTTPError as error:
            body = _error_body(error.code, error.message)
            if error.error_id is not None:
                body["errors"][0]["extensions"]["errorId"] = error.error_id  # type: ignore[index]
            return self._render(body, media or JSON, error.status, error.headers)
        except Exception as error:
            error_id = uuid.uuid4().hex
            log.exception("unexpected error %s in the HTTP layer", error_id)
            if is_unavailable(error):
                body = _error_body(UNAVAILABLE, UNAVAILABLE_MESSAGE)
                body["errors"][0]["extensions"]["errorId"] = error_id  # type: ignore[index]
                return self._render(body, media or JSON, 503, {"Retry-After": "1"})
            body = _error_body(INTERNAL, "Internal server error.")
            body["errors"][0]["extensions"]["errorId"] = error_id  # type: ignore[index]
            return self._render(body, media or JSON, 500)

    async def _serve(self, request: Request, media: str | None) -> Response:
        method = request.method
        if method not in ("GET", "POST"):
            raise HTTPError(
                405,
                METHOD_NOT_ALLOWED,
                f"GraphQL is served over {self._allowed_methods()}.",
                {"Allow": self._allowed_methods()},
            )
        if (
            method == "GET"
            and "query" not in request.query_params
            and "text/html" in request.headers.get("accept", "")
            and self.policy.graphiql
        ):
            return await self.view.render_graphql_ide(request)
        if method == "GET" and not self.policy.queries_over_get:
            raise HTTPError(
                405,
                METHOD_NOT_ALLOWED,
                "Queries over GET are disabled; use POST.",
                {"Allow": "POST"},
            )
        if media is None:
            raise HTTPError(
                406,
                NOT_ACCEPTABLE,
                f"Responses are {GRAPHQL_RESPONSE_JSON} or {JSON}; `Accept` allows neither.",
            )
        if self.in_flight >= self.policy.max_in_flight:
            # Shed load before any work: a queue would only grow until the pool timed out.
            raise HTTPError(
                503,
                OVERLOADED,
                "The server is busy; retry in a moment.",
                {"Retry-After": "1"},
            )
        self.in_flight += 1
        try:
            return await self._admitted(request, method, media)
        finally:
            self.in_flight -= 1

    async def _admitted(self, request: Request, method: str, media: str) -> Response:
        # The context authenticates the caller, whose bucket pays before the body is even read.
        context = await self._context(request)
        await self._take(request, context, 1)
        # Uploaded files' temporary copies: deleted when the request ends, whatever happened.
        uploaded: list[str] = []
        try:
            if method == "GET":
                payload: object = _get_params(request)
            else:
                payload = await self._post_payload(request, uploaded)

            if isinstance(payload, list):
                return await self._batch(request, payload, media, context)
            operation = parse_params(payload)
            response_body, status = await self._execute(request, operation, context, media)
            return self._render(response_body, media, status, sub_response=context.response)
        finally:
            remove(uploaded)

    async def _post_payload(self, request: Request, uploaded: list[str]) -> object:
        content_type = request.headers.get("content-type")
        media_type, params = _media_type(content_type) if content_type else (None, {})
        if is_forgeable(media_type, request.headers):
            raise HTTPError(400, CSRF_BLOCKED, CSRF_MESSAGE)
        if media_type == MULTIPART and self.uploads is not None:
            return await self._multipart(request, content_type or "", uploaded)
        if media_type != JSON:
            raise HTTPError(415, UNSUPPORTED_MEDIA_TYPE, f"POST bodies must be {JSON}.")
        if params.get("charset", "utf-8") != "utf-8":
            raise HTTPError(415, UNSUPPORTED_MEDIA_TYPE, "POST bodies must be UTF-8.")
        body = await _read_body(request, self.policy.max_body_bytes)
        return _decode_json(body, "The request body")

    async def _multipart(self, request: Request, content_type: str, uploaded: list[str]) -> object:
        """A GraphQL multipart request: its operations with the uploaded files in place."""
        assert self.uploads is not None
        boundary = _boundary(content_type)
        if boundary is None:
            raise HTTPError(400, BAD_REQUEST, "A multipart body needs a `boundary` parameter.")
        declared = request.headers.get("content-length")
        limit = self.uploads.files.largest * self.uploads.max_files + 2 * self.policy.max_body_bytes
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise HTTPError(413, PAYLOAD_TOO_LARGE, f"The request body exceeds {limit} bytes.")
        try:
            operations, paths = await receive(request, boundary, self.uploads)
        except UploadRefused as refused:
            raise HTTPError(refused.status, refused.code, refused.message) from None
        uploaded.extend(paths)
        return operations

    async def _context(self, request: Request) -> Any:
        sub_response = Response()
        sub_response.status_code = None  # type: ignore[assignment]
        del sub_response.headers["content-length"]
        return await self.view.get_context(request, sub_response)

    async def _take(self, request: Request, context: Any, cost: int) -> None:
        """Charge ``cost`` operations to the caller's bucket; raise 429 when it is empty.

        An authenticated request's first token was taken with its session check, in the same
        Redis round trip (graph/server/auth.py); it is not taken twice.
        """
        if self.limiter is None:
            return
        wait = getattr(context, "rate_wait", None)
        if wait is not None and cost == 1:
            context.rate_wait = None
        else:
            wait = await self.limiter.take(getattr(context, "caller", None), request, cost)
        if wait:
            raise HTTPError(429, RATE_LIMITED, retry_message(wait), {"Retry-After": str(wait)})

    async def _batch(
        self, request: Request, items: list[Any], media: str, context: Any
    ) -> Response:
        limit = self.policy.batch_requests
        if limit == 0:
            raise HTTPError(400, BATCHING_DISABLED, "Batched requests are disabled.")
        if not items:
            raise HTTPError(400, BAD_REQUEST, "The batch is empty.")
        if len(items) > limit:
            raise HTTPError(400, BATCH_TOO_LARGE, f"At most {limit} operations per batch.")
        operations = [parse_params(item) for item in items]
        await self._take(request, context, len(operations) - 1)  # the request paid for one
        # Sequential on purpose: one request must not fan out into parallel database work.
        bodies = [(await self._execute(request, op, context, JSON))[0] for op in operations]
        return self._render(bodies, media, 200, sub_response=context.response)

    async def _execute(
        self, request: Request, operation: Operation, context: Any, media: str
    ) -> tuple[dict[str, object], int]:
        try:
            resolved = await self.admit(operation, getattr(context, "caller", None))
        except DocumentRefused as refused:
            if refused.malformed:
                raise HTTPError(400, refused.code, refused.message) from None
            return self._request_error(refused.code, refused.message, media)
        get = request.method == "GET"
        allowed = {OperationType.QUERY} if get else {OperationType.QUERY, OperationType.MUTATION}
        try:
            result = await self.view.schema.execute(
                resolved.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=operation.extensions,
            )
        except InvalidOperationTypeError as error:
            kind = error.operation_type.value
            if get:
                raise HTTPError(
                    405,
                    METHOD_NOT_ALLOWED,
                    f"A {kind} cannot run over GET; use POST.",
                    {"Allow": "POST"},
                ) from None
            raise HTTPError(400, BAD_REQUEST, f"A {kind} cannot run over HTTP POST.") from None
        except CannotGetOperationTypeError as error:
            return self._request_error(
                OPERATION_RESOLUTION_FAILURE, error.as_http_error_reason(), media
            )
        except MissingQueryError:
            raise HTTPError(400, BAD_REQUEST, "The request has no `query`.") from None
        if result.errors and any(not (e.extensions or {}).get("code") for e in result.errors):
            # Errors raised outside Strawberry's operation hooks (a parse error inside
            # ParserCache, say) never reached ErrorCodes: code (and mask) them here.
            suggestions = allows(self.policy.field_suggestions, getattr(context, "caller", None))
            result.errors = [
                e
                if (e.extensions or {}).get("code")
                else coded(e, suggestions=suggestions, debug=not self.policy.mask_errors)
                for e in result.errors
            ]
        errors = result.errors or []
        failure = errors[0] if result.data is None and len(errors) == 1 else None
        if failure is not None and _code_of(failure) == UNAVAILABLE and failure.extensions:
            error_id = failure.extensions.get("errorId")
            if isinstance(error_id, str):
                # ErrorCodes collapsed an outage into one retryable failure: HTTP says so too.
                raise HTTPError(
                    503, UNAVAILABLE, UNAVAILABLE_MESSAGE, {"Retry-After": "1"}, error_id=error_id
                )
        if resolved.register_as is not None and result.data is not None and self.documents:
            # APQ (TRUSTED_DOCUMENTS=allow): remember a text only once it parsed, validated and ran.
            try:
                await self.documents.register(resolved.register_as, resolved.query)
            except (OSError, SQLAlchemyError):
                log.warning("could not register persisted document %s", resolved.register_as)
        return self._result(result, media)

    async def admit(self, operation: Operation, caller: Caller | None) -> Resolved:
        """The text ``operation`` runs (graph/server/documents.py), within ``MAX_DOCUMENT_BYTES``.

        Shared by HTTP and WebSocket (graph/server/websocket.py). Raises ``DocumentRefused`` as the
        trusted documents decide, ``HTTPError`` for an oversized document (413) or an unreachable
        database (503).
        """
        limit = self.policy.limits.max_document_bytes
        too_large = HTTPError(
            413, DOCUMENT_TOO_LARGE, f"The GraphQL document exceeds {limit} bytes."
        )
        if operation.query is not None and len(operation.query.encode()) > limit:
            raise too_large
        if self.documents is None:
            if operation.query is None:
                raise HTTPError(400, BAD_REQUEST, "The request has no `query`.")
            return Resolved(operation.query)
        try:
            resolved = await self.documents.resolve(
                operation.query, operation.document_id, operation.extensions, caller
            )
        except (OSError, TimeoutError, SQLAlchemyError):
            log.exception("trusted documents are unreachable")
            raise HTTPError(503, UNAVAILABLE, UNAVAILABLE_MESSAGE) from None
        if len(resolved.query.encode()) > limit:
            raise too_large
        return resolved

    @staticmethod
    def _request_error(code: str, message: str, media: str) -> tuple[dict[str, object], int]:
        return _error_body(code, message), 400 if media == GRAPHQL_RESPONSE_JSON else 200

    @staticmethod
    def _result(result: ExecutionResult, media: str) -> tuple[dict[str, object], int]:
        """The response body and status of an execution result.

        A result without data whose errors have no path never reached execution (parse,
        validation, limits, variable coercion): a request error, with no ``data`` entry.
        """
        errors = [error.formatted for error in result.errors or ()]
        if result.data is None and errors and all(e.path is None for e in result.errors or ()):
            return {"errors": errors}, 400 if media == GRAPHQL_RESPONSE_JSON else 200
        body: dict[str, object] = {"data": result.data}
        if errors:
            body["errors"] = errors
        if result.extensions:
            body["extensions"] = result.extensions
        return body, 200

    @staticmethod
    def _render(
        body: object,
        media: str,
        status: int,
        headers: Mapping[str, str] | None = None,
        sub_response: Response | None = None,
    ) -> Response:
        response = Response(
            orjson.dumps(body),
            status_code=status,
            headers=dict(headers or {}),
            media_type=f"{media}; charset=utf-8",
        )
        if sub_response is not None:
            # Headers and cookies resolvers set on the context's response (e.g. a session cookie).
            response.headers.raw.extend(sub_response.headers.raw)
            if sub_response.background:
                response.background = sub_response.background
            if sub_response.status_code and status < 400:
                response.status_code = sub_response.status_code
        return response
