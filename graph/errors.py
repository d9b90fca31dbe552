"""Every error leaves with a stable ``extensions.code``; unexpected ones leave masked.

Expected failures are ``domain.errors.UserFacingError`` and keep their message. Anything else is
logged in full under a fresh error id and reaches the client as a generic message with that id, so
no stack trace, file path or SQL text is ever sent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from domain.errors import UserFacingError

log = logging.getLogger("unityplan.errors")

INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def _is_unavailable(error: BaseException) -> bool:
    if isinstance(error, (OSError, TimeoutError, InterfaceError)):
        return True
    return isinstance(error, (OperationalError, DBAPIError)) and error.connection_invalidated


def coded(error: GraphQLError) -> GraphQLError:
    """Return ``error`` with a code, masking it first if it was not meant for the client."""
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(original, UserFacingError):
        extensions["code"] = original.code
        message = original.message
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
        log.error(
            "unexpected error %s at %s",
            error_id,
            ".".join(map(str, error.path or ())),
            exc_info=(type(original), original, original.__traceback__),
        )
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
    """Give every error of a result its code, after execution and before serialisation."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, (GraphQLExecutionResult, ExecutionResult)) and result.errors:
            result.errors = [coded(e) for e in result.errors]
        pre_errors = self.execution_context.pre_execution_errors
        if pre_errors:
            self.execution_context.pre_execution_errors = [coded(e) for e in pre_errors]
