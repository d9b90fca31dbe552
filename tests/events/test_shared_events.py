"""Subscription events run once per (event, caller, document, variables): graph/shared_events.py,
on a real Strawberry schema with the app's executor."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import strawberry

from domain.callers import ANONYMOUS, Caller
from graph.shared_events import SharedEventExecutor

CALLS: list[Caller] = []


@strawberry.type
class Thing:
    shared_key: strawberry.Private[str | None]

    @strawberry.field
    def value(self, info: strawberry.Info) -> str:
        CALLS.append(info.context.caller)
        return f"{self.shared_key}:{info.context.caller.user_id}"


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def things(self, prefix: str, keyed: bool) -> AsyncGenerator[Thing, None]:
        for i in range(2):
            yield Thing(shared_key=f"{prefix}-{i}" if keyed else None)


SCHEMA = strawberry.Schema(
    query=Query, subscription=Subscription, execution_context_class=SharedEventExecutor
)
THINGS = "subscription($p: String!, $k: Boolean!) { things(prefix: $p, keyed: $k) { value } }"


@dataclass
class Ctx:
    caller: Caller


async def follow(caller: Caller, prefix: str, *, keyed: bool = True) -> list[Any]:
    stream = await SCHEMA.subscribe(
        THINGS, variable_values={"p": prefix, "k": keyed}, context_value=Ctx(caller)
    )
    return [result.data async for result in stream]  # type: ignore[union-attr]


async def test_subscribers_that_are_the_same_caller_share_one_execution_per_event() -> None:
    CALLS.clear()
    prefix = uuid.uuid4().hex
    results = await asyncio.gather(*(follow(ANONYMOUS, prefix) for _ in range(5)))
    assert all(r == results[0] for r in results)
    assert [r["things"]["value"] for r in results[0]] == [f"{prefix}-0:None", f"{prefix}-1:None"]
    assert len(CALLS) == 2  # two events, once each, for five subscribers


async def test_different_callers_never_share() -> None:
    CALLS.clear()
    prefix = uuid.uuid4().hex
    alice, bob = Caller(user_id="a", territory_id="dk"), Caller(user_id="b", territory_id="dk")
    a, b = await asyncio.gather(follow(alice, prefix), follow(bob, prefix))
    assert [r["things"]["value"] for r in a] == [f"{prefix}-0:a", f"{prefix}-1:a"]
    assert [r["things"]["value"] for r in b] == [f"{prefix}-0:b", f"{prefix}-1:b"]
    assert len(CALLS) == 4


async def test_payloads_without_a_key_run_per_subscriber() -> None:
    CALLS.clear()
    await asyncio.gather(*(follow(ANONYMOUS, "x", keyed=False) for _ in range(3)))
    assert len(CALLS) == 6
