"""GraphQL over WebSocket: the graphql-transport-ws protocol only, with the front door's rules.

Why only graphql-transport-ws: the legacy ``graphql-ws`` (subscriptions-transport-ws) protocol had
an authentication bypass in Strawberry, and no current client needs it; a client that offers only
``graphql-ws`` is accepted and closed at once with 4406 (Strawberry's "Subprotocol not
acceptable"). A client must send ``connection_init`` within ``WS_CONNECTION_INIT_TIMEOUT_SECONDS``
or the server closes with 4408.

Each ``subscribe`` message passes, in order, the checks an HTTP request passes, and a refusal is an
``error`` message for that operation with ``extensions.code``; the connection stays open (other
operations on it go on), so a client needs no reconnect logic for these:

* ``CONNECTION_OPERATION_LIMIT``: the connection already received
  ``WS_MAX_OPERATIONS_PER_CONNECTION`` subscribe messages (refused ones included); open a new one;
* ``TOO_MANY_OPERATIONS``: ``WS_MAX_CONCURRENT_OPERATIONS`` operations are still running on it;
* ``RATE_LIMITED``: the caller's bucket (graph/server/ratelimit.py; the caller from
  ``connection_init``, else the client address) is empty; ``extensions.retryAfter`` gives the
  seconds to wait;
* trusted documents (graph/server/documents.py), as over HTTP, and ``DOCUMENT_TOO_LARGE``.

Protocol violations (a subscribe before the ack, a reused id, a malformed message) still close
the connection with Strawberry's 44xx codes. Every error the schema produces over this transport
is coded by ``ErrorCodes.on_stream_result`` (graph/errors.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)

from domain.errors import Unauthenticated, Unavailable
from graph.context import Context
from graph.errors import coded
from graph.server.documents import DocumentRefused
from graph.server.policy import allows
from graph.server.ratelimit import RATE_LIMITED, retry_message
from graph.server.transport import HTTPError, Operation, parse_params

if TYPE_CHECKING:
    from graph.server.app import GraphQLApp

TOO_MANY_OPERATIONS = "TOO_MANY_OPERATIONS"
CONNECTION_OPERATION_LIMIT = "CONNECTION_OPERATION_LIMIT"


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler with per-operation limits and trusted documents.

    The view (graph.server.app.GraphQLApp) provides the limits (``ws_limits``) and, through its HTTP
    transport, the same policy, trusted documents and rate limiter as HTTP requests.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.received = 0

    async def handle_message(self, message: Message) -> None:
        """Strawberry indexes messages blindly: a JSON array, or a list or object as an ``id``,
        would raise out of the handler. Anything that is not an object with a string ``id`` (when
        it has one) is a malformed message: 4400, as the protocol asks."""
        if not isinstance(message, dict) or not isinstance(message.get("id", ""), str):
            await self.handle_invalid_message("Failed to parse message")
            return
        await super().handle_message(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # closes with 4401 or 4409
            return
        try:
            # The HTTP request's parameter checks: wrong types are a malformed message.
            operation = parse_params(message.get("payload"))
        except HTTPError as malformed:
            await self.handle_invalid_message(f"Invalid subscribe payload: {malformed.message}")
            return
        try:
            query = await self._admit(operation)
        except _Refused as refused:
            error = GraphQLError(
                refused.message, extensions={"code": refused.code, **refused.extra}
            )
            await self.send_message(
                {"id": message["id"], "type": "error", "payload": [error.formatted]}
            )
            return
        message["payload"] = {
            "query": query,
            "variables": operation.variables,
            "operationName": operation.operation_name,
            "extensions": operation.extensions,
        }
        await super().handle_subscribe(message)

    async def _send_result_stream(self, operation: Any, result_source: Any) -> None:
        """Strawberry's loop, plus a coded ``error`` for what escapes ``Schema.stream``.

        An extension hook that raises before Strawberry can wrap the error (the parser cache's
        syntax errors, say) ends the stream with an exception; Strawberry would only log it and
        send ``complete``, so the client would never learn why.
        """
        try:
            await super()._send_result_stream(operation, result_source)
        except _OperationStreamClosed:
            raise
        except Exception as exc:
            policy = cast("GraphQLApp", self.view).transport.policy
            error = (
                exc if isinstance(exc, GraphQLError) else GraphQLError(str(exc), original_error=exc)
            )
            suggestions = allows(policy.field_suggestions, self.context.caller)
            coded_error = coded(error, suggestions=suggestions, debug=not policy.mask_errors)
            await operation.send_initial_errors([coded_error])

    async def _admit(self, operation: Operation) -> str:
        """The text this operation runs, once it passed every check; raises ``_Refused``."""
        view = cast("GraphQLApp", self.view)
        limits = view.ws_limits
        self.received += 1
        if self.received > limits.max_operations_per_connection:
            raise _Refused(
                CONNECTION_OPERATION_LIMIT,
                f"This connection ran its {limits.max_operations_per_connection} operations; "
                "open a new one.",
            )
        if len(self.operations) >= limits.max_concurrent_operations:
            raise _Refused(
                TOO_MANY_OPERATIONS,
                f"At most {limits.max_concurrent_operations} operations run at once on a "
                "connection; complete one first.",
            )
        transport = view.transport
        caller = self.context.caller
        if self.context.auth is not None:
            # The caller was fixed at connection_init: re-ask whether its session ended or lost
            # a role (logout and role revocation reach open connections too).
            try:
                await self.context.auth.recheck(caller)
            except (Unauthenticated, Unavailable) as refused:
                raise _Refused(refused.code, refused.message) from None
        if transport.limiter is not None:
            wait = await transport.limiter.take(caller, self.context.request)
            if wait:
                raise _Refused(RATE_LIMITED, retry_message(wait), retryAfter=wait)
        # Each operation reads afresh: a connection lives for hours, its loaders' caches must not.
        self.context.loaders = view.loaders_for(caller)
        try:
            # The same trusted documents and size limit as HTTP; no APQ registration over
            # WebSocket (only HTTP requests register, in ``allow`` mode).
            return (await transport.admit(operation, caller)).query
        except (DocumentRefused, HTTPError) as refused:
            raise _Refused(refused.code, refused.message) from None


class _Refused(Exception):
    """One operation refused before it ran: an ``error`` message, the connection stays open."""

    def __init__(self, code: str, message: str, **extra: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra
