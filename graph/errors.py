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

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError, GraphQLSyntaxError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
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

# graphql-core's wording when the parser stops at MAX_TOKENS (graph/server/limits.py sets the cap).
_TOKEN_LIMIT = re.compile(r"Document contains more than \d+ tokens")
# graphql-core appends suggestions as one sentence: " Did you mean 'a', 'b' or 'c'?"
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    """``message`` minus graphql-core's "Did you mean" hints, which leak the schema's names."""
    return _SUGGESTION.sub("", message)


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, (OSError, TimeoutError, InterfaceError)):
        return True
    return isinstance(error, (OperationalError, DBAPIError)) and error.connection_invalidated


def coded(error: GraphQLError, *, suggestions: bool = True, debug: bool = False) -> GraphQLError:
    """Return ``error`` with a code, masking it first if it was not meant for the client.

    ``suggestions=False`` drops "Did you mean" hints; ``debug=True`` (development only) adds an
    unexpected error's type and message under ``extensions.exception``, never its traceback.
    """
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(error, GraphQLSyntaxError):
        token_limit = _TOKEN_LIMIT.search(error.message) is not None
        extensions.setdefault("code", TOO_MANY_TOKENS if token_limit else PARSE_FAILED)
        message = error.message
    elif isinstance(original, UserFacingError):
        extensions["code"] = original.code
        if original.field is not None:
            extensions["field"] = original.field
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
        error_id = uuid.uuid4().hex
        if _is_unavailable(original):
            extensions["code"] = UNAVAILABLE
            message = "A backing service is unavailable; retry later."
        else:
            extensions["code"] = INTERNAL
            message = "Internal server error."
        extensions["errorId"] = error_id
        if debug:
            extensions["exception"] = {"type": type(original).__name__, "message": str(original)}
        log.error(
            "unexpected error %s at %s",
            error_id,
            ".".join(map(str, error.path or ())),
            exc_info=(type(original), original, original.__traceback__),
        )
    if not suggestions:
        message = without_suggestions(message)
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
        extensions=extensions,
    )


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
        if isinstance(result, (GraphQLExecutionResult, ExecutionResult)) and result.errors:
            result.errors = [coded(e, **options) for e in result.errors]
        pre_errors = self.execution_context.pre_execution_errors
        if pre_errors:
            self.execution_context.pre_execution_errors = [coded(e, **options) for e in pre_errors]

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
            result.errors = [coded(e, suggestions=suggestions, debug=not self.mask) for e in errors]
        yield
