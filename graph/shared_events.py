"""Subscription events executed once per (event, caller, document, variables), not per subscriber.

A live event reaches every subscriber of its subject at once, and graphql-core executes the
subscription's selection set for each of them: a thousand anonymous followers of a community
ran the same fields a thousand times for one event. A payload that carries a ``shared_key`` (the
event id: ``CommunityActivity``) is executed once per key, caller, operation and variables in the
process, and its result handed to every subscriber that asks the same; anything else executes
as before.

Why the caller is in the key: what a field shows may depend on who asks (a profile's privacy), so
only subscribers that ARE the same caller (every anonymous one, or one session's several
sockets) share. A result with errors is not shared (each asker executes its own, so error
handling per operation stays as it was). The oldest answers are forgotten past ``size``.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Hashable
from typing import Any, cast

import orjson
from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

SIZE = 4096


class SharedResults:
    """Execution results of shared events, by key; a task each, so a subscriber that leaves
    mid-execution cancels nobody else's."""

    def __init__(self, size: int = SIZE) -> None:
        self._size = size
        self._results: OrderedDict[Hashable, asyncio.Task[ExecutionResult]] = OrderedDict()

    def get(self, key: Hashable) -> asyncio.Task[ExecutionResult] | None:
        return self._results.get(key)

    def start(
        self, key: Hashable, execution: Awaitable[ExecutionResult]
    ) -> asyncio.Task[ExecutionResult]:
        task = asyncio.ensure_future(execution)
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        self._results[key] = task
        while len(self._results) > self._size:
            self._results.popitem(last=False)
        return task

    def forget(self, key: Hashable) -> None:
        self._results.pop(key, None)


RESULTS = SharedResults()
"""The process's shared results (one event loop per process serves every subscriber)."""


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor; a subscription event whose payload has a ``shared_key`` runs once
    for all its askers with the same caller, document and variables."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        key = self._share_key()
        if key is None:
            return super().execute_operation(serially)
        return self._shared(key, serially)

    def _share_key(self) -> Hashable | None:
        shared = getattr(self.root_value, "shared_key", None)
        if shared is None:
            return None
        caller = getattr(self.context_value, "caller", None)
        variables = orjson.dumps(self.variable_values, option=orjson.OPT_SORT_KEYS, default=str)
        # The document's text (one string object per cached parse, its hash cached with it) and
        # the operation's name identify what is executed.
        loc = self.operation.loc
        document = loc.source.body if loc is not None else id(self.operation)
        name = self.operation.name.value if self.operation.name is not None else None
        return (shared, caller, document, name, variables)

    async def _shared(self, key: Hashable, serially: bool | None) -> ExecutionResult:
        task = RESULTS.get(key)
        if task is not None:
            result = await asyncio.shield(task)
            if not result.errors:
                return result
        else:
            task = RESULTS.start(key, self._execute(serially))
            result = await asyncio.shield(task)
            if not result.errors:
                return result
            RESULTS.forget(key)
            return result
        return await self._execute(serially)

    async def _execute(self, serially: bool | None) -> ExecutionResult:
        outcome = super().execute_operation(serially)
        if self.is_awaitable(outcome):
            outcome = await outcome
        return cast("ExecutionResult", outcome)
