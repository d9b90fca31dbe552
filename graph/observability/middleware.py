"""Pure ASGI middleware: the request id (and, with tracing on, the request's server span).

Pure ASGI rather than Starlette's ``BaseHTTPMiddleware``, which runs the app in another task
(contextvars set inside it do not reach us, and it breaks streaming responses and WebSockets).
This one only wraps ``send`` to add ``X-Request-Id`` to the response head (or to the WebSocket
accept), and sets the contextvar around the app for every log line the request causes.

It also writes the access log (``unityplan.access``: method, path, status, duration, request id),
in place of uvicorn's, which lacks the request id and the duration and logs the query string
(GET variables may hold anything a client typed).
"""

from __future__ import annotations

import logging
import time

from opentelemetry import trace
from opentelemetry.trace import SpanKind
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.observability.context import REQUEST_ID, new_request_id, parse_traceparent
from graph.observability.tracing import activate, parent_context

access_log = logging.getLogger("unityplan.access")

REQUEST_ID_HEADER = b"x-request-id"
# Named routes keep span names low-cardinality; probes and scrapes are not traced at all.
_TRACED_ROUTES = frozenset({"/graphql", "/.well-known/jwks.json"})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
                return None
    return None


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, tracer: trace.Tracer | None = None) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        parent = parse_traceparent(_header(scope, b"traceparent"))
        path: str = scope.get("path", "")
        span: trace.Span | None = None
        if self.tracer is not None and path in _TRACED_ROUTES:
            method = scope.get("method", "WEBSOCKET")
            span = self.tracer.start_span(
                f"{method} {path}",
                context=parent_context(parent),
                kind=SpanKind.SERVER,
                attributes={"http.request.method": method, "url.path": path},
            )
            request_id = trace.format_trace_id(span.get_span_context().trace_id)
        else:
            request_id = parent.trace_id if parent is not None else new_request_id()
        header = (REQUEST_ID_HEADER, request_id.encode())
        status: list[int] = []

        async def send_with_id(message: Message) -> None:
            kind = message["type"]
            if kind in ("http.response.start", "websocket.accept"):
                message = {**message, "headers": [*message.get("headers", ()), header]}
                if kind == "http.response.start":
                    status.append(message["status"])
                    if span is not None:
                        span.set_attribute("http.response.status_code", message["status"])
            await send(message)

        token = REQUEST_ID.set(request_id)
        start = time.perf_counter()
        try:
            if span is None:
                await self.app(scope, receive, send_with_id)
            else:
                with activate(span):
                    await self.app(scope, receive, send_with_id)
        finally:
            if scope["type"] == "http" and access_log.isEnabledFor(logging.INFO):
                method, code = scope.get("method", ""), status[0] if status else 500
                access_log.info(
                    "%s %s %s",
                    method,
                    path,
                    code,
                    extra={
                        "method": method,
                        "path": path,
                        "status": code,
                        "duration_ms": round((time.perf_counter() - start) * 1000, 3),
                    },
                )
            REQUEST_ID.reset(token)
