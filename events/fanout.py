"""In-process fan-out of live events to subscribers (GraphQL subscriptions), fed by JetStream.

A process holds ONE NATS subscription per subject pattern, however many subscribers want it, and
copies each event into every subscriber's bounded queue. The NATS subscription is an ordered
JetStream consumer (deliver "new"), not a core subscription: it reads what the stream stored, so an
event the relay published twice (and the stream de-duplicated) is delivered once. Nothing here
reads the database.

A subscriber that does not keep up is dropped alone: when its queue is full its pending events are
discarded and its next read raises :class:`SubscriptionOverflow` (a coded error); the others
never wait for it, and the memory a subscriber can hold is bounded by its queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

import orjson
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext

from domain.errors import SubscriptionOverflow, Unavailable
from domain.events import Envelope
from events.connection import NatsLink

logger = logging.getLogger(__name__)

DEFAULT_QUEUE_SIZE = 256
"""Events a subscriber may have waiting before it is dropped."""

Filter = Callable[[Envelope], bool]


@dataclass(eq=False)
class _Pattern:
    subscribers: set[Subscription] = field(default_factory=set)
    nats: JetStreamContext.PushSubscription | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Stream sequence of the last event handed out: a new consumer after a reconnection starts
    # right after it (nothing missed), and anything at or below it is not handed out twice.
    last_seq: int = 0


class FanOut:
    """Shares one ordered JetStream consumer per subject pattern among local subscribers."""

    def __init__(self, link: NatsLink, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._link = link
        self.queue_size = queue_size
        self._patterns: dict[str, _Pattern] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        link.on_ready(self._reconnected)

    def subscribe(self, pattern: str, where: Filter | None = None) -> Subscription:
        """A subscription to events on ``pattern`` (``unityplan.dk.community.>``) passing ``where``.

        Use it as ``async with fanout.subscribe(p) as events: async for envelope in events: ...``.
        ``where`` runs once per event in the NATS callback: keep it to cheap id comparisons; the
        caller authorizes each delivered event itself (with fresh loaders).
        """
        return Subscription(self, pattern, where, self.queue_size)

    def subscriber_count(self, pattern: str | None = None) -> int:
        if pattern is not None:
            entry = self._patterns.get(pattern)
            return 0 if entry is None else len(entry.subscribers)
        return sum(len(p.subscribers) for p in self._patterns.values())

    @property
    def nats_subscriptions(self) -> int:
        return sum(1 for p in self._patterns.values() if p.nats is not None)

    async def _join(self, subscription: Subscription) -> None:
        while True:
            entry = self._patterns.setdefault(subscription.pattern, _Pattern())
            async with entry.lock:
                if self._patterns.get(subscription.pattern) is not entry:
                    continue  # its last subscriber left while we waited: start afresh
                if entry.nats is None:
                    if not self._link.is_connected:
                        raise Unavailable("Live events are unavailable right now; try again soon.")
                    await self._consume(subscription.pattern, entry)
                entry.subscribers.add(subscription)
                return

    async def _consume(self, pattern: str, entry: _Pattern) -> None:
        """Start the pattern's ordered consumer: new events, or those after ``last_seq``."""
        if entry.last_seq:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=entry.last_seq + 1
            )
        else:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        entry.nats = await self._link.js.subscribe(
            pattern,
            cb=self._deliverer(entry),
            stream=self._link.stream.name,
            config=config,
            ordered_consumer=True,
        )

    def _reconnected(self) -> None:
        """After NATS came back, replace every consumer at once (the server may have lost them
        with a restart) instead of waiting for missed heartbeats to notice."""
        task = asyncio.create_task(self._resubscribe())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resubscribe(self) -> None:
        for pattern, entry in list(self._patterns.items()):
            async with entry.lock:
                if entry.nats is None:
                    continue
                old, entry.nats = entry.nats, None
                with contextlib.suppress(Exception):
                    await old.unsubscribe()
                try:
                    await self._consume(pattern, entry)
                except Exception as error:  # the old consumer's own recovery is the fallback
                    logger.warning("re-subscribing %s failed: %s", pattern, error)
                    entry.nats = old

    async def _leave(self, subscription: Subscription) -> None:
        entry = self._patterns.get(subscription.pattern)
        if entry is None:
            return
        entry.subscribers.discard(subscription)
        async with entry.lock:
            if entry.subscribers or entry.nats is None:
                return
            sub, entry.nats = entry.nats, None
            if self._patterns.get(subscription.pattern) is entry:
                del self._patterns[subscription.pattern]
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    def _deliverer(self, entry: _Pattern) -> Callable[[Msg], Awaitable[None]]:
        async def deliver(msg: Msg) -> None:
            seq = msg.metadata.sequence.stream
            if seq <= entry.last_seq:
                return  # an old consumer's late copy, or a replay after re-subscribing
            entry.last_seq = seq
            try:
                envelope = Envelope.from_json(orjson.loads(msg.data))
            except (ValueError, KeyError, TypeError):
                logger.warning("dropped a malformed event on %s", msg.subject)
                return
            for subscriber in list(entry.subscribers):
                subscriber._offer(envelope)

        return deliver

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for entry in list(self._patterns.values()):
            for subscriber in list(entry.subscribers):
                await subscriber.aclose()


class Subscription:
    """One subscriber's view: an async iterator of envelopes over a bounded queue."""

    def __init__(self, fanout: FanOut, pattern: str, where: Filter | None, size: int) -> None:
        self._fanout = fanout
        self.pattern = pattern
        self._where = where
        self._queue: asyncio.Queue[Envelope | None] = asyncio.Queue(maxsize=size)
        self.dropped = False
        self._joined = False

    async def __aenter__(self) -> Subscription:
        await self._fanout._join(self)
        self._joined = True
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._joined:
            self._joined = False
            await self._fanout._leave(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Envelope:
        if self.dropped:
            raise SubscriptionOverflow("Too many undelivered events: subscribe again.")
        envelope = await self._queue.get()
        if envelope is None or self.dropped:
            raise SubscriptionOverflow("Too many undelivered events: subscribe again.")
        return envelope

    def _offer(self, envelope: Envelope) -> None:
        if self.dropped or (self._where is not None and not self._where(envelope)):
            return
        try:
            self._queue.put_nowait(envelope)
        except asyncio.QueueFull:
            self._overflow()

    def _overflow(self) -> None:
        """Drop this subscriber alone: free its queue, wake its reader with the error."""
        self.dropped = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)
        # Leave the pattern now, not when the reader gets round to it.
        entry = self._fanout._patterns.get(self.pattern)
        if entry is not None:
            entry.subscribers.discard(self)
        logger.info("dropped a slow subscriber of %s", self.pattern)
