"""The Code of Conduct gate: an account without a valid Code of Conduct award may only read
``me``, read the Code of Conduct and accept it; every other operation fails whole with
``CODE_OF_CONDUCT_REQUIRED``, over HTTP and WebSocket alike (subscriptions included).

Cheap per request: the access token carries until when the award was valid when it was issued
(claim ``coc``, read at login and refresh). While the request's clock is before that instant the
gate reads nothing; past it (or without the claim: a new account, an expired award) it reads the
caller's awards once through the request's loader, so accepting or renewing restores access at
once, without waiting for a new token. A revoked Code of Conduct takes effect when the token is
next refreshed (at most ``ACCESS_TOKEN_TTL_SECONDS``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import DocumentNode, FieldNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from domain.badges import CODE_OF_CONDUCT_REF
from domain.code_of_conduct import CodeOfConductRequired
from graph.context import Context
from graph.loaders.badges import AWARDS_OF_USER
from graph.permissions import TOKEN_AGNOSTIC

ALLOWED_WITHOUT = TOKEN_AGNOSTIC | {
    "me",
    "codeOfConduct",
    "acceptCodeOfConduct",
    "logout",
    "__typename",
    "__schema",
    "__type",
}
"""Root fields an account without a valid Code of Conduct may still use (introspection
included: it reads the schema, never data)."""


def _only_allowed(document: DocumentNode | None, operation_name: str | None) -> bool:
    operation = None if document is None else get_operation_ast(document, operation_name)
    if operation is None:
        return False
    return all(
        isinstance(selection, FieldNode) and selection.name.value in ALLOWED_WITHOUT
        for selection in operation.selection_set.selections
    )


async def holds_code_of_conduct(context: Context) -> bool:
    """Whether the signed-in caller's Code of Conduct award is valid at the request's clock."""
    caller = context.caller
    now = context.clock()
    if caller.code_of_conduct_until is not None and now < caller.code_of_conduct_until:
        return True
    territory_id, user_id = caller.account()
    awards = await context.loaders.get(AWARDS_OF_USER, territory_id).load(user_id)
    return any(
        a.badge == CODE_OF_CONDUCT_REF
        and a.revoked_at is None
        and a.valid_from <= now
        and (a.valid_until is None or now < a.valid_until)
        for a in awards
    )


class CodeOfConductGate(SchemaExtension):
    """Refuses every operation but ``ALLOWED_WITHOUT`` of a caller without a valid award."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            isinstance(context, Context)
            and context.caller.is_authenticated
            and context.auth_error is None
            and not _only_allowed(execution.graphql_document, execution.operation_name)
            and not await holds_code_of_conduct(context)
        ):
            error = CodeOfConductRequired(
                "Accept the Code of Conduct first (acceptCodeOfConduct); until then only `me` "
                "and `codeOfConduct` can be read."
            )
            if execution.operation_type is OperationType.SUBSCRIPTION:
                # A subscription's execution ignores a preset result: refuse by raising, which
                # Strawberry turns into the subscription's one error result.
                raise error
            execution.result = ExecutionResult(
                data=None, errors=[GraphQLError(error.message, original_error=error)]
            )
        yield
