"""Strawberry permission classes for root fields and mutations.

Authorization is decided once per root field (and per type in ``node``/``nodes``), never on leaf
fields: a leaf is only reachable through a root that already checked the caller. Each permission
raises a ``domain.errors`` error, so clients get ``UNAUTHENTICATED`` or ``FORBIDDEN`` as
``extensions.code``. Every root field carries one of these classes; a test holds the schema to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode, FieldNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission
from strawberry.types.execution import ExecutionResult

from domain.errors import Forbidden, Unauthenticated
from domain.roles import can_manage_territory
from domain.territories import validate_territory_id
from graph.context import Info


def _refused_token(info: Info) -> None:
    if info.context.auth_error is not None:
        raise info.context.auth_error


class Public(BasePermission):
    """Anyone, anonymous included: the field only shows what is public."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return True


class IsAuthenticated(BasePermission):
    message = "Log in first."

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        _refused_token(info)
        return info.context.caller.is_authenticated

    def on_unauthorized(self) -> None:
        raise Unauthenticated(self.message)


class ManagesTerritory(IsAuthenticated):
    """Managers of the territory named by the field's ``territory`` (or ``input.territory``)."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if not super().has_permission(source, info, **kwargs):
            raise Unauthenticated(self.message)
        territory = kwargs.get("territory")
        if territory is None and "input" in kwargs:
            territory = getattr(kwargs["input"], "territory", None)
        return can_manage_territory(info.context.caller.roles, validate_territory_id(territory))

    def on_unauthorized(self) -> None:
        raise Forbidden("Only a manager of this territory may do this.")


# Root fields that never depend on who calls: a client whose access token just expired must still
# be able to call `refreshSession` (or log in again) with the stale header attached.
TOKEN_AGNOSTIC = frozenset({"login", "refreshSession", "register", "validateInvitation"})


def _only_token_agnostic(document: DocumentNode | None, operation_name: str | None) -> bool:
    operation = None if document is None else get_operation_ast(document, operation_name)
    if operation is None:
        return False
    return all(
        isinstance(selection, FieldNode)
        and (selection.name.value in TOKEN_AGNOSTIC or selection.name.value == "__typename")
        for selection in operation.selection_set.selections
    )


class RejectRefusedToken(SchemaExtension):
    """A request that presented a bad or ended token fails whole, with ``UNAUTHENTICATED``.

    Serving it as anonymous would hide from the client that its session is gone. Operations made
    only of ``TOKEN_AGNOSTIC`` root fields run anyway (as anonymous).
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        error = getattr(context.context, "auth_error", None)
        if error is not None and not _only_token_agnostic(
            context.graphql_document, context.operation_name
        ):
            self.execution_context.result = ExecutionResult(
                data=None, errors=[GraphQLError(error.message, original_error=error)]
            )
        yield
