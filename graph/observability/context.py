"""The request id: from an incoming W3C ``traceparent`` or generated, held in a contextvar.

The id has the shape of a W3C trace-id (32 lower-case hex digits) so that, with tracing on, it IS
the trace id and a log line leads straight to its trace. An incoming ``traceparent`` is parsed
strictly (https://www.w3.org/TR/trace-context/#traceparent-header): anything malformed is ignored
as the specification asks, never echoed, so a client cannot inject text into our logs.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass

# version "00" is exactly four fields; a later version may append fields after a dash.
_TRACEPARENT = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<parent_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?P<rest>-.*)?"
)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16

REQUEST_ID: ContextVar[str | None] = ContextVar("unityplan_request_id", default=None)


@dataclass(frozen=True, slots=True)
class TraceParent:
    trace_id: str
    parent_id: str
    flags: int

    @property
    def sampled(self) -> bool:
        return bool(self.flags & 0x01)


def parse_traceparent(header: str | None) -> TraceParent | None:
    """The parsed header, or None when absent or invalid in any way."""
    if header is None or len(header) > 512:
        return None
    match = _TRACEPARENT.fullmatch(header.strip(" \t"))
    if match is None:
        return None
    version, trace_id, parent_id = match["version"], match["trace_id"], match["parent_id"]
    if version == "ff" or (version == "00" and match["rest"] is not None):
        return None
    if trace_id == _ZERO_TRACE or parent_id == _ZERO_SPAN:
        return None
    return TraceParent(trace_id, parent_id, int(match["flags"], 16))


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request this code runs for, if any (logs, error reports)."""
    return REQUEST_ID.get()
