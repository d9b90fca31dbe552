"""Start and stop the events machinery of one process: the API's lifespan or ``unityplan relay``.

The API's lifespan (graph/app.py) calls::

    events = await start_events(settings)            # before `yield`
    await events.stop()                              # in `finally`

and keeps ``events.fanout`` for GraphQL subscriptions. The relay runs in every API process unless
EVENTS_RELAY=false (then run ``unityplan relay`` processes; any number share the work); so does the
notifications consumer unless EVENTS_NOTIFIER=false (``unityplan notifier``).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import timedelta

from db.engines import Database
from domain.notifications import NodeIdEncoder
from events.connection import NatsLink
from events.fanout import FanOut
from events.notifier import Notifier, NotifierOptions
from events.relay import Relay, RelayOptions
from events.streams import StreamSpec
from unityplan.settings import Settings


def stream_spec(settings: Settings) -> StreamSpec:
    return StreamSpec(
        max_age=timedelta(seconds=settings.events_stream_max_age_seconds),
        max_bytes=settings.events_stream_max_bytes,
        duplicate_window=timedelta(seconds=settings.events_duplicate_window_seconds),
    )


@dataclass
class Events:
    """A process's NATS link, its fan-out, and (unless turned off) its relay and notifier."""

    link: NatsLink
    fanout: FanOut
    relay: Relay | None
    db: Database | None
    notifier: Notifier | None = None

    async def stop(self) -> None:
        await self.fanout.close()
        if self.notifier is not None:
            await self.notifier.stop()
        if self.relay is not None:
            await self.relay.stop()
        await self.link.close()
        if self.db is not None:
            await self.db.dispose()


async def start_events(
    settings: Settings,
    *,
    node_id: NodeIdEncoder,
    relay: bool | None = None,
    notifier: bool | None = None,
) -> Events:
    """Connect to NATS in the background, start the relay and the notifier; never waits for NATS.

    They get a small pool of their own, so their work never takes a request's connection and
    never shows in a request's statement count. ``node_id`` renders global ids (graph.ids.encode:
    the format belongs to the API layer, which passes it in).
    """
    run_relay = settings.events_relay if relay is None else relay
    run_notifier = settings.events_notifier if notifier is None else notifier
    name = f"unityplan-{socket.gethostname()}-{os.getpid()}"
    link = NatsLink(settings.nats_url, name=name, stream=stream_spec(settings))
    db = Database(settings.servers(), pool_size=2) if run_relay or run_notifier else None
    outbox_relay = consumer = None
    if db is not None and run_relay:
        options = RelayOptions(sweep_interval=settings.events_sweep_interval_seconds)
        outbox_relay = Relay(db, link, options)
        outbox_relay.start()
    if db is not None and run_notifier:
        sweep = settings.notifications_sweep_interval_seconds
        consumer = Notifier(db, link, node_id, NotifierOptions(sweep_interval=sweep))
        consumer.start()
    link.start()
    fanout = FanOut(link, queue_size=settings.events_subscriber_queue_size)
    return Events(link=link, fanout=fanout, relay=outbox_relay, db=db, notifier=consumer)
