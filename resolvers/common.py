"""What every resolver shares: the write envelope, the caller's identity, ids a mutation names."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from db import events as outbox
from db.audit import AuditAction, AuditEntry, record_with
from domain.errors import BadUserInput, NotFound
from domain.events import Envelope, Event, seal
from graph import ids
from graph.context import Info
from graph.loaders.request import GLOBAL
from unityplan.settings import MAIN_SERVER


def actor_identity(info: Info) -> bytes:
    """The signed-in caller's identity hash: who did it, in audit entries and grants."""
    territory_id, user_id = info.context.caller.account()
    return info.context.services.config.identity(territory_id, user_id)


def actor_node_id(info: Info) -> str | None:
    """The signed-in caller's ``User`` global id: an event's actor. None for anonymous calls."""
    caller = info.context.caller
    if not caller.is_authenticated:
        return None
    territory_id, user_id = caller.account()
    return ids.encode("User", territory_id, str(user_id))


def sealed(info: Info, event: Event) -> Envelope:
    """``event`` in its envelope, with the caller as actor and its subjects as global ids."""
    return seal(event, actor=actor_node_id(info), node_id=ids.encode)


async def emit_global(info: Info, conn: AsyncConnection, *events: Event) -> list[Envelope]:
    """Write events of a global-only change (role grants) into ``global.outbox`` on ``conn``.

    ``conn`` is the change's open transaction on the main server, so the events commit with it.
    """
    envelopes = [sealed(info, e) for e in events]
    await outbox.insert_events(conn, None, envelopes)
    return envelopes


async def server_of(info: Info, territory_id: str) -> str:
    """The database server of an active territory; NOT_FOUND otherwise."""
    record = await info.context.loaders.active_territory(territory_id)
    if record is None:
        raise NotFound(f"No territory '{territory_id}'.")
    return record.db_server


@dataclass
class Change:
    """A mutation's open transaction in one territory and what it will commit beside its rows."""

    conn: AsyncConnection
    territory_id: str
    actor: bytes | None
    # The caller's User global id: the ``actor`` of the events this change emits.
    actor_id: str | None
    audits: list[AuditEntry] = field(default_factory=list)
    events: list[Envelope] = field(default_factory=list)

    def audit(
        self, action: AuditAction, *, target: str, details: dict[str, Any] | None = None
    ) -> None:
        """Record ``action`` by the caller in ``global.audit_log``, committed with the change."""
        self.audits.append(AuditEntry(action, self.actor, self.territory_id, target, details or {}))

    def emit(self, event: Event) -> Envelope:
        """Publish ``event`` if and only if the change commits: its outbox row is written in this
        transaction, and the relay sends it to NATS afterwards."""
        if event.territory_id != self.territory_id:
            raise ValueError(
                f"{type(event).__name__} of '{event.territory_id}' emitted in a change of "
                f"'{self.territory_id}'"
            )
        envelope = seal(event, actor=self.actor_id, node_id=ids.encode)
        self.events.append(envelope)
        return envelope


@asynccontextmanager
async def territory_change(info: Info, territory_id: str) -> AsyncIterator[Change]:
    """ONE transaction in the territory's schema: the change, its audit entries and its events
    (outbox rows), all or nothing.

    Lock first, check the rules, change, audit, emit; raising anywhere inside rolls everything back.
    Afterwards the request's cached reads of the territory are dropped, so the payload shows the
    committed state.
    """
    server = await server_of(info, territory_id)
    caller = info.context.caller
    actor = actor_identity(info) if caller.is_authenticated else None
    db = info.context.db
    await info.context.loaders.release_reads()
    try:
        async with db.transaction(server, territory_id) as conn:
            change = Change(conn, territory_id, actor, actor_node_id(info))
            yield change
            await outbox.insert_events(conn, territory_id, change.events)
            await record_with(db, server, conn, change.audits)
    finally:
        info.context.loaders.forget_territory(territory_id)


@dataclass
class GlobalChange:
    """A mutation's open transaction in ``global`` (role grants) and what comes with its commit."""

    conn: AsyncConnection
    actor: bytes | None
    audits: list[AuditEntry] = field(default_factory=list)
    committed: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def audit(
        self,
        action: AuditAction,
        *,
        territory_id: str | None,
        target: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Record ``action`` by the caller, committed with the change; ``territory_id`` is the
        territory it concerns (None: the whole federation, as a global admin grant does)."""
        self.audits.append(AuditEntry(action, self.actor, territory_id, target, details or {}))

    def after_commit(self, effect: Callable[[], Awaitable[None]]) -> None:
        """Run ``effect`` once the change is committed (never if it rolls back): state outside
        PostgreSQL that must follow the committed rows, such as Redis refusing revoked grants."""
        self.committed.append(effect)


@asynccontextmanager
async def global_change(info: Info) -> AsyncIterator[GlobalChange]:
    """``territory_change`` for writes to the ``global`` schema: ONE transaction on the main
    server with the change and its audit entries; afterwards the effects registered with
    ``after_commit`` run in order, and the request's cached reads of ``global`` are dropped."""
    caller = info.context.caller
    actor = actor_identity(info) if caller.is_authenticated else None
    await info.context.loaders.release_reads()
    try:
        async with info.context.db.transaction(MAIN_SERVER) as conn:
            change = GlobalChange(conn, actor)
            yield change
            await record_with(info.context.db, MAIN_SERVER, conn, change.audits)
    finally:
        # Drops every read of ``global`` (and, harmlessly, of a territory named "global").
        info.context.loaders.forget_territory(GLOBAL)
    for effect in change.committed:
        await effect()


def key_of(value: str, *type_names: str, field: str | None = None) -> tuple[str, uuid.UUID]:
    """(territory, uuid) of a global id of one of ``type_names``; BAD_USER_INPUT otherwise."""
    try:
        key = ids.decode(value)
        if key.type_name not in type_names:
            raise BadUserInput(f"Expected the id of a {' or '.join(type_names)}.")
        return key.territory_id, ids.parse_uuid(key.key)
    except BadUserInput as error:
        raise BadUserInput(error.message, field=field) from None


def person_of(value: str, *, field: str | None = None) -> tuple[str, uuid.UUID]:
    """A person named by their ``User`` or ``Profile`` id (both carry territory and user id)."""
    return key_of(value, "User", "Profile", field=field)
