"""The JetStream stream every event is published to, created or updated at start.

Retention (defaults; EVENTS_STREAM_* settings override them):
- max age 7 days: consumers that were down (the notifications consumer, a replica being
  deployed) catch up from the stream within that time;
- max bytes 1 GiB, oldest discarded first: a disk bound that holds about a week at the expected
  rate (envelopes are ~500 bytes);
- duplicate window 15 minutes: a re-publication of the same event id (a relay that died between
  publish and mark-sent, a publish whose ack was lost) within it is dropped by the server. Relays
  retry a claimed row within seconds, so the window is far longer than any re-publication path
  short of a database outage; consumers are still idempotent by event id beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig, StreamInfo
from nats.js.errors import BadRequestError, NotFoundError

from domain.events import SUBJECT_PREFIX

STREAM_NAME = "UNITYPLAN_EVENTS"


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """The stream's name, subjects and documented retention."""

    name: str = STREAM_NAME
    max_age: timedelta = timedelta(days=7)
    max_bytes: int = 1 << 30
    duplicate_window: timedelta = timedelta(minutes=15)
    replicas: int = 1

    @property
    def subjects(self) -> list[str]:
        return [f"{SUBJECT_PREFIX}.>"]

    def config(self) -> StreamConfig:
        return StreamConfig(
            name=self.name,
            description="UnityPlan domain events (domain/events.py); subjects "
            "unityplan.<territory>.<area>.<event>",
            subjects=self.subjects,
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=self.max_age.total_seconds(),
            max_bytes=self.max_bytes,
            duplicate_window=self.duplicate_window.total_seconds(),
            num_replicas=self.replicas,
        )


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> StreamInfo:
    """Create the stream, or bring an existing one to ``spec`` (safe to run from every process
    at once: the loser of a create race updates instead)."""
    config = spec.config()
    try:
        await js.stream_info(spec.name)
    except NotFoundError:
        try:
            return await js.add_stream(config)
        except BadRequestError:
            pass  # created by another process meanwhile
    return await js.update_stream(config)
