"""Cross-site request forgery prevention and the CORS allow-list.

A browser sends a cross-origin POST without asking the server first (no CORS preflight) only when
the request is "simple": a CORS-safelisted content type (``text/plain``,
``application/x-www-form-urlencoded``, ``multipart/form-data``, or none at all) and no custom
header. Such a request could carry the victim's cookies into a mutation, so, as Apollo Server's
``csrfPrevention`` does, a POST is refused unless its content type is not simple or it carries one
of the headers below (which any non-browser client can add, and which a browser only sends after a
successful preflight). GET never runs mutations (graph/server/transport.py) and is off in
production.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from graph.server.policy import Policy

CSRF_BLOCKED = "CSRF_BLOCKED"
SIMPLE_CONTENT_TYPES = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
# Any non-empty value of one of these forces a browser to preflight.
PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
CSRF_MESSAGE = (
    "This request was blocked as a possible cross-site request forgery: send it with "
    "`Content-Type: application/json`, or add a non-empty `GraphQL-Require-Preflight` header."
)


def is_forgeable(media_type: str | None, headers: Mapping[str, str]) -> bool:
    """Whether a POST could have been sent cross-site by a browser without a preflight."""
    if media_type and media_type not in SIMPLE_CONTENT_TYPES:
        return False
    return not any(headers.get(name) for name in PREFLIGHT_HEADERS)


def cors_middleware(policy: Policy) -> list[Middleware]:
    """CORS for the allow-listed origins only; none listed means same-origin browsers only.

    Credentials (cookies) are allowed only for an explicit list: with ``*`` any site could read
    the caller's data, so a wildcard never comes with credentials.
    """
    if not policy.cors_origins:
        return []
    wildcard = "*" in policy.cors_origins
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(policy.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["content-type", "authorization", *PREFLIGHT_HEADERS],
            allow_credentials=not wildcard,
            max_age=600,
        )
    ]
