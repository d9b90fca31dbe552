"""Structured logs: one JSON object per line, with the request id, and secrets redacted.

Stdlib ``logging`` with a small formatter of our own rather than ``python-json-logger`` or
structlog: every library (uvicorn, SQLAlchemy, Strawberry) already logs through stdlib loggers, the
formatter is thirty lines on top of ``orjson`` (already a dependency), and one fewer package is one
fewer thing that can log a secret we did not redact.

Fields: ``time`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``message``, ``request_id``
and ``trace_id``/``span_id`` when known, ``exception`` (the traceback: logs only, never sent to a
client) and any ``extra=`` fields. ``Redact`` runs on the handler, so every record that reaches the
output has passed it, whichever logger emitted it.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TextIO

import orjson
from opentelemetry import trace

from graph.observability.context import REQUEST_ID

if TYPE_CHECKING:
    from unityplan.settings import Settings

REDACTED = "***"

_SENSITIVE_FIELD = (
    r"[\w.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|authorization|cookie|"
    r"private[_-]?key|identity[_-]?hash[_-]?key)[\w.-]*"
)
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Credentials in URLs: postgresql://user:secret@host -> postgresql://user:***@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*:)([^\s@/]+)(@)"), rf"\1{REDACTED}\3"),
    # Authorization schemes: "Bearer eyJ..." -> "Bearer ***"
    (re.compile(r"(?i)\b(bearer|basic|digest)\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    # Any JWT, wherever it appears.
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    # key=value, key: value, "key": "value", 'key': 'value' for secret-looking keys.
    (
        re.compile(
            rf"(?i)([\"']?{_SENSITIVE_FIELD}[\"']?\s*[:=]\s*)([\"']?)(?!{re.escape(REDACTED)})"
            r"[^\"'\s,;&}]+"
        ),
        rf"\1\2{REDACTED}",
    ),
)

# Attributes every LogRecord has; anything else came from ``extra=`` and is logged as a field.
# uvicorn's ``color_message`` repeats the message with terminal colour codes.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


# Every pattern above needs one of these (lower case) to match: text without any is left alone
# without running a regex, which keeps the filter cheap on the common, secret-free line.
_TRIGGERS = (
    "://",
    "bearer",
    "basic",
    "digest",
    "eyj",
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "authorization",
    "cookie",
)


def redact(text: str) -> str:
    """``text`` with passwords, tokens, Authorization values and DSN passwords replaced."""
    lowered = text.lower()
    if not any(trigger in lowered for trigger in _TRIGGERS):
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def traceback_text(exc_info: tuple[type[BaseException], BaseException, Any]) -> str:
    """A traceback like ``logging``'s, redacted one frame and one message at a time.

    Each piece is small and most hold no trigger word, so ``redact`` returns them untouched
    without a regex: running the regexes over whole tracebacks cost more CPU than the failing
    requests themselves.
    """
    chunks: list[str] = []

    def emit(exc: traceback.TracebackException) -> None:
        if exc.__cause__ is not None:
            emit(exc.__cause__)
            chunks.append(
                "\nThe above exception was the direct cause of the following exception:\n\n"
            )
        elif exc.__context__ is not None and not exc.__suppress_context__:
            emit(exc.__context__)
            chunks.append(
                "\nDuring handling of the above exception, another exception occurred:\n\n"
            )
        if exc.stack:
            chunks.append("Traceback (most recent call last):\n")
            chunks.extend(redact(frame) for frame in exc.stack.format())
        chunks.extend(redact(line) for line in exc.format_exception_only())

    emit(traceback.TracebackException(*exc_info))
    return "".join(chunks).rstrip("\n")


class Redact(logging.Filter):
    """Rewrite a record's message, extras and exception text with secrets redacted.

    The message is rendered (``msg % args``) first, so a secret passed as an argument is caught
    too; the record then carries the redacted text and no arguments.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = traceback_text(record.exc_info)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = redact(value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module's docstring for the fields)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            entry["request_id"] = request_id
        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            entry["trace_id"] = trace.format_trace_id(span_context.trace_id)
            entry["span_id"] = trace.format_span_id(span_context.span_id)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """Human-readable lines for a developer's terminal, still carrying the request id."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.request_id = REQUEST_ID.get() or "-"
        return super().format(record)


# Loggers that install handlers of their own (uvicorn's default config does): route them through
# the root logger's handler instead, so every line has one format and passes one redaction filter.
_ROUTED = ("uvicorn", "uvicorn.error", "gunicorn.error")
# Replaced by ``unityplan.access`` (graph/observability/middleware.py), which has the request id and
# the duration and leaves out the query string. With no handler and no propagation uvicorn does not
# even build its access records (it checks ``hasHandlers()``).
_SILENCED = ("uvicorn.access", "gunicorn.access")
_HANDLER_NAME = "unityplan"


def configure_logging(
    settings: Settings | None = None,
    *,
    level: str | None = None,
    fmt: Literal["json", "text"] | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install the process's log handler on the root logger (idempotent: replaces its own).

    Called once by ``unityplan serve`` and by the app factory uvicorn's workers call; not by
    ``create_app``, so tests keep pytest's own log capture. Returns the handler.
    """
    level = (level or (settings.log_level if settings else "INFO")).upper()
    fmt = fmt or (settings.log_format if settings else "json")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(Redact())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in _ROUTED:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
        logger.disabled = False  # a dictConfig with disable_existing_loggers may have disabled it
        logger.setLevel(logging.NOTSET)  # the root's level decides
    for name in _SILENCED:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = False
    return handler
