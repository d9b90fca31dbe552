"""The clock every time rule asks: injectable, so tests move time instead of waiting for it.

Badge validity, Code of Conduct expiry and the scheduler's notices all read "now" through a
``Clock``; the process uses :func:`utc_now`, a test passes its own (``create_app(clock=...)``,
``Scheduler(clock=...)``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware (UTC)."""


def utc_now() -> datetime:
    return datetime.now(UTC)
