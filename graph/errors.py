"""Every error leaves with a stable ``extensions.code``; unexpected ones leave masked.

Expected failures are ``domain.errors.UserFacingError`` and keep their message. Anything else is
logged in full under a fresh error id and reaches the client as a generic message with that id, so
no stack trace, file path or SQL text is ever sent.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg.exceptions as pg
import nats.errors as nats_errors
import redis.exceptions as redis_errors
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError, GraphQLSyntaxError
from sqlalchemy.exc import DBAPIError, InterfaceError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult

from domain.errors import UserFacingError
from graph.server.policy import Audience, allows

log = logging.getLogger("unityplan.errors")

INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
TOO_MANY_TOKENS = "TOO_MANY_TOKENS"
OPERATION_RESOLUTION_FAILURE = "OPERATION_RESOLUTION_FAILURE"
BAD_REQUEST = "BAD_REQUEST"
UNAVAILABLE_MESSAGE = "A backing service is unavailable; retry later."

# graphql-core's wording when the parser stops at MAX_TOKENS (graph/server/limits.py sets the cap).
_TOKEN_LIMIT = re.compile(r"Document contains more than \d+ tokens")
# graphql-core appends suggestions as one sentence: " Did you mean 'a', 'b' or 'c'?"
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """``message`` minus graphql-core's "Did you mean" hints, which leak the schema's names."""
    return _SUGGESTION.sub("", message)


# A dependency that is down, restarting, failing over or out of connections, as each driver says
# it. Everything here is retryable by the client: SERVICE_UNAVAILABLE, never INTERNAL_SERVER_ERROR.
_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused or reset sockets; builtin TimeoutError is one, so is nats' TimeoutError
    InterfaceError,  # SQLAlchemy: the DBAPI connection is unusable
    PoolTimeout,  # every pooled connection busy for POOL_TIMEOUT
    pg.PostgresConnectionError,  # SQLSTATE class 08 (ConnectionDoesNotExistError among them)
    pg.OperatorInterventionError,  # class 57: admin or crash shutdown, "shutting down", cancels
    pg.InsufficientResourcesError,  # class 53: too many connections, out of memory or disk
    pg.InterfaceError,  # asyncpg: "connection is closed"
    redis_errors.ConnectionError,  # refused, reset, "Connection closed by server", LOADING
    redis_errors.TimeoutError,
    redis_errors.ReadOnlyError,  # a failover left us writing to a replica
    redis_errors.MasterDownError,
    nats_errors.ConnectionClosedError,
    nats_errors.NoServersError,
    nats_errors.StaleConnectionError,
)
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")  # connection, resources, operator intervention


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means a backing service is unavailable rather than a bug.

    The ONE place that knows how each driver reports an outage. Drivers wrap each other
    (SQLAlchemy's DBAPIError around asyncpg's error; a rollback on a dead connection raises
    asyncpg's "cannot switch to state" while handling the real failure), so the whole
    cause/context chain is examined: one outage anywhere in it makes the failure an outage.
    """
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _OUTAGES):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        sqlstate = getattr(current, "sqlstate", None) or getattr(current, "pgcode", None)
        if isinstance(sqlstate, str) and sqlstate[:2] in _OUTAGE_SQLSTATE_CLASSES:
            return True
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return False


@dataclass(frozen=True, slots=True)
class Unexpected:
    """An error the client sees only as a code and an id; the detail goes to the log once."""

    error_id: str
    path: str
    original: BaseException
    unavailable: bool


def coded(error: GraphQLError, *, suggestions: bool = True, debug: bool = False) -> GraphQLError:
    """Return ``error`` with a code, masking it first if it was not meant for the client.

    ``suggestions=False`` drops "Did you mean" hints; ``debug=True`` (development only) adds an
    unexpected error's type and message under ``extensions.exception``, never its traceback.
    An unexpected error is logged here; ``ErrorCodes`` codes a whole result and logs once.
    """
    result, unexpected = _code(error, suggestions=suggestions, debug=debug)
    if unexpected is not None:
        _log([unexpected])
    return result


def _code(
    error: GraphQLError, *, suggestions: bool, debug: bool
) -> tuple[GraphQLError, Unexpected | None]:
    original = error.original_error
    extensions = dict(error.extensions or {})
    unexpected = None
    if isinstance(error, GraphQLSyntaxError):
        token_limit = _TOKEN_LIMIT.search(error.message) is not None
        extensions.setdefault("code", TOO_MANY_TOKENS if token_limit else PARSE_FAILED)
        message = error.message
    elif isinstance(original, UserFacingError):
        extensions["code"] = original.code
        if original.field is not None:
            extensions["field"] = original.field
        extensions.update(original.extra)
        message = original.message
    elif isinstance(original, (CannotGetOperationTypeError, InvalidOperationTypeError)):
        # Strawberry's streaming path (WebSocket) reports an unknown or missing operation name,
        # or a disallowed operation type, as an error wrapping these: the client's mistake.
        unresolved = isinstance(original, CannotGetOperationTypeError)
        extensions["code"] = OPERATION_RESOLUTION_FAILURE if unresolved else BAD_REQUEST
        message = error.message
    elif original is None or isinstance(original, GraphQLError):
        # Parse, validation and input-coercion errors: graphql-core's messages are safe to show.
        extensions.setdefault("code", VALIDATION_FAILED if original is None else "BAD_USER_INPUT")
        message = error.message
    else:
        unavailable = is_unavailable(original)
        unexpected = Unexpected(
            uuid.uuid4().hex, ".".join(map(str, error.path or ())), original, unavailable
        )
        extensions["code"] = UNAVAILABLE if unavailable else INTERNAL
        message = UNAVAILABLE_MESSAGE if unavailable else "Internal server error."
        extensions["errorId"] = unexpected.error_id
        if debug:
            extensions["exception"] = {"type": type(original).__name__, "message": str(original)}
    if not suggestions:
        message = without_suggestions(message)
    coded_error = GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )
    return coded_error, unexpected


def _log(unexpected: list[Unexpected]) -> None:
    """ONE record for a result's unexpected errors: the first one's traceback, the others' ids.

    A dead pool fails every field of a page at once; a record (and a traceback) per field
    turned one overload into thousands of log lines.
    """
    first = unexpected[0]
    log.error(
        "unexpected error %s at %s%s",
        first.error_id,
        first.path,
        "" if len(unexpected) == 1 else f" (and {len(unexpected) - 1} more in this operation)",
        exc_info=(type(first.original), first.original, first.original.__traceback__),
        extra={"error_ids": [u.error_id for u in unexpected]} if len(unexpected) > 1 else None,
    )


def code_result(
    errors: list[GraphQLError], *, suggestions: bool, debug: bool
) -> tuple[list[GraphQLError], bool]:
    """Code every error of one result and log its unexpected ones once.

    Returns the errors and whether a backing service was unavailable: then the result is ONE
    ``SERVICE_UNAVAILABLE`` error (retry the request), not one error per field that needed it.
    """
    coded_errors: list[GraphQLError] = []
    unexpected: list[Unexpected] = []
    for error in errors:
        coded_error, failure = _code(error, suggestions=suggestions, debug=debug)
        coded_errors.append(coded_error)
        if failure is not None:
            unexpected.append(failure)
    if not unexpected:
        return coded_errors, False
    _log(unexpected)
    down = next((u for u in unexpected if u.unavailable), None)
    if down is None:
        return coded_errors, False
    return [
        GraphQLError(
            UNAVAILABLE_MESSAGE, extensions={"code": UNAVAILABLE, "errorId": down.error_id}
        )
    ], True


class ErrorCodes(SchemaExtension):
    """Give every error of a result its code, after execution and before serialisation.

    ``suggestions`` says which callers see "Did you mean" hints (``Context.caller`` decides);
    ``mask=False`` (development) adds an unexpected error's type and message for debugging.
    """

    def __init__(self, *, suggestions: Audience = "all", mask: bool = True) -> None:
        super().__init__()
        self.suggestions = suggestions
        self.mask = mask

    def on_operation(self) -> Iterator[None]:
        yield
        caller = getattr(self.execution_context.context, "caller", None)
        options = {"suggestions": allows(self.suggestions, caller), "debug": not self.mask}
        result = self.execution_context.result
        pre_errors = self.execution_context.pre_execution_errors or []
        has_result = isinstance(result, (GraphQLExecutionResult, ExecutionResult))
        errors = (result.errors or []) if has_result else []  # type: ignore[union-attr]
        # Strawberry may hold the same error objects in both lists: code (and log) each once.
        distinct = list({id(e): e for e in [*errors, *pre_errors]}.values())
        if not distinct:
            return
        coded_errors, unavailable = code_result(distinct, **options)
        by_id = {id(e): c for e, c in zip(distinct, coded_errors, strict=False)}
        if unavailable:
            if has_result:
                result.data = None  # type: ignore[union-attr]
                result.errors = coded_errors  # type: ignore[union-attr]
            if pre_errors:
                self.execution_context.pre_execution_errors = coded_errors
            return
        if has_result and errors:
            result.errors = [by_id[id(e)] for e in errors]  # type: ignore[union-attr]
        if pre_errors:
            self.execution_context.pre_execution_errors = [by_id[id(e)] for e in pre_errors]

    def on_stream_result(self, result: object) -> Iterator[None]:
        """Code each result of ``Schema.stream`` (WebSocket) before the transport sends it.

        Strawberry's streaming path yields every result from inside the operation hook, so the
        post-processing in ``on_operation`` runs only after the result has left; this hook runs
        before. Incremental-delivery frames (``@defer``) carry no top-level ``errors`` list.
        """
        errors = getattr(result, "errors", None)
        if isinstance(result, (GraphQLExecutionResult, ExecutionResult)) and errors:
            caller = getattr(self.execution_context.context, "caller", None)
            suggestions = allows(self.suggestions, caller)
            result.errors, unavailable = code_result(
                errors, suggestions=suggestions, debug=not self.mask
            )
            if unavailable:
                result.data = None
        yield
