"""GraphiQL served entirely by this app, so the IDE works with no internet access.

Strawberry's stock GraphiQL page pulls React, GraphiQL and the explorer plugin from unpkg. That
breaks on air-gapped hosts, on developer laptops offline, behind corporate proxies and under a
strict Content-Security-Policy, and it makes every IDE page view leak to a third-party CDN. We
therefore vendor the exact same files (same package versions, byte-identical, checked against the
page's own ``integrity`` hashes) into ``graph/server/static/graphiql/`` with
``scripts/vendor-graphiql.sh`` and rewrite the page to load them from ``/graphql/static/graphiql``.

The page itself is still Strawberry's: we only swap the asset URLs and its welcome text for
:data:`DEFAULT_DOCUMENT` (how to log in, where the token goes, example queries), so a Strawberry
upgrade keeps its page logic, and the import-time check below fails loudly if a new page
references something we have not vendored rather than silently falling back to a CDN.

Wiring (in the app): serve :func:`graphiql_static_routes` *before* any ``Mount("/graphql", ...)``,
and subclass ``strawberry.asgi.GraphQL`` with
``render_graphql_ide(self, request)`` returning ``HTMLResponse(graphiql_html())``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Final

from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from strawberry.http.ides import get_graphql_ide_html

__all__ = [
    "CACHE_CONTROL",
    "DEFAULT_DOCUMENT",
    "LOGIN_EXAMPLE",
    "ME_EXAMPLE",
    "STATIC_DIR",
    "VendoredAsset",
    "graphiql_html",
    "graphiql_static_routes",
    "static_prefix",
    "vendored_assets",
    "verify_vendored_assets",
]

STATIC_DIR: Final = Path(__file__).resolve().parent / "static" / "graphiql"
"""Where ``scripts/vendor-graphiql.sh`` puts the files; shipped as package data."""

CACHE_CONTROL: Final = "public, max-age=31536000, immutable"
"""Every vendored file name carries its package version, so a URL's bytes never change: browsers
may keep them for a year without revalidating (GraphiQL's bundle alone is ~3.5 MB)."""

LOGIN_EXAMPLE: Final = """\
mutation Login {
  login(input: {identifier: "dk.astrid", password: "demo-only passphrase", territory: "dk"}) {
    accessToken
    accessTokenExpiresAt
    refreshToken
    user { username displayName }
  }
}"""
"""The login step of :data:`DEFAULT_DOCUMENT` (a development demo person)."""

ME_EXAMPLE: Final = """\
query Me {
  me {
    username
    displayName
    territory { code name }
    roles { role territory }
    privacy { preset }
    communities { role community { name slug } }
  }
}"""
"""What the token unlocks: the logged-in person, their roles and communities."""

_TERRITORIES_EXAMPLE: Final = """\
{
  territories(first: 10) {
    nodes {
      code
      name
      kind
      communities(first: 5) { nodes { name description } }
    }
  }
}
"""


def _commented(text: str) -> str:
    return "\n".join(f"# {line}" for line in text.splitlines())


DEFAULT_DOCUMENT: Final = f"""\
# UnityPlan Graph in GraphiQL. Ctrl-Enter (or the play button) runs the query at the bottom:
# territories and their public communities, which need no login.
#
# 1. Log in: select the mutation below, press Ctrl-/ to uncomment it, run it. The demo people
#    exist in DEVELOPMENT ONLY (`make run` prints them, with their shared password); they are
#    never created when UNITYPLAN_ENV=production.
#
{_commented(LOGIN_EXAMPLE)}
#
# 2. Copy `accessToken` from the answer into the HEADERS tab (below this editor):
#      {{ "Authorization": "Bearer <accessToken>" }}
#    Every request from then on is made as that person. The token lasts minutes: log in again
#    (or `refreshSession(refreshToken:)`) when answers say UNAUTHENTICATED.
#
# 3. Ask who you are (uncomment as above; with two named operations, pick one to run):
#
{_commented(ME_EXAMPLE)}
#
# Errors carry a code in `extensions.code` (the input field at fault in `extensions.field`).

{_TERRITORIES_EXAMPLE}"""
"""What the editor opens with (unless the URL carries a query): a newcomer's first steps.

The only live operation is anonymous on purpose: GraphiQL 3 keeps the first named operation it saw
as the one to run, so a document of named operations would send ``operationName: "Login"`` with
whatever anonymous query the newcomer types next.
"""

# Strawberry's welcome text, replaced by DEFAULT_DOCUMENT; the import-time build fails if it moves.
_EXAMPLE_QUERY: Final = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.DOTALL)

# One <script> or <link> tag of the page; we read each tag's URL and integrity together so a
# reordering of tags in a future Strawberry page cannot pair a URL with the wrong hash.
_TAG: Final = re.compile(r"<(?:script|link)\b[^>]*>", re.DOTALL)
_UNPKG_ATTR: Final = re.compile(
    r'(?P<attr>src|href)="https://unpkg\.com/'
    r'(?P<package>(?:@[^/@"]+/)?[^/@"]+)@(?P<version>[^/"]+)/(?P<path>[^"]+)"'
)
_INTEGRITY: Final = re.compile(r'integrity="(?P<integrity>sha(?:256|384|512)-[^"]+)"')
_REMOTE_ATTR: Final = re.compile(r'(?:src|href)="(?:https?:)?//', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class VendoredAsset:
    """One file the stock page loads from unpkg, and where we keep our copy of it."""

    package: str
    """npm package name, e.g. ``@graphiql/plugin-explorer``."""
    version: str
    """Exact version pinned by the page, e.g. ``1.0.2``."""
    path: str
    """Path of the file inside the npm tarball's ``package/`` folder, e.g. ``dist/style.css``."""
    integrity: str
    """Subresource-integrity hash from the page; the browser re-checks it on every load."""

    @property
    def filename(self) -> str:
        """Flat, versioned name under :data:`STATIC_DIR`.

        The version is part of the name so that :data:`CACHE_CONTROL`'s ``immutable`` stays true
        across upgrades, and the package is part of it because two packages ship ``style.css``-like
        generic names.
        """
        flat_package = self.package.removeprefix("@").replace("/", "-")
        return f"{flat_package}-{self.version}-{PurePosixPath(self.path).name}"

    @property
    def unpkg_url(self) -> str:
        """The CDN URL the stock page uses, kept for error messages and the vendoring script."""
        return f"https://unpkg.com/{self.package}@{self.version}/{self.path}"


def _stock_page() -> str:
    """Strawberry's GraphiQL page, read exactly as ``BaseView.graphql_ide_html`` reads it.

    In strawberry 0.341 the page has no template placeholders left (``render_graphql_ide`` returns
    the file verbatim, and the page derives its endpoint from ``window.location``), so this is the
    final HTML apart from the asset URLs.
    """
    return get_graphql_ide_html(graphql_ide="graphiql")


def vendored_assets(page: str | None = None) -> tuple[VendoredAsset, ...]:
    """List the unpkg assets of Strawberry's page (or of ``page``), in page order.

    This is the single source of truth for file names: the vendoring script imports it, so the
    names the script writes and the names the rewritten page asks for cannot drift apart.
    """
    html = _stock_page() if page is None else page
    assets: list[VendoredAsset] = []
    for tag in _TAG.finditer(html):
        url = _UNPKG_ATTR.search(tag.group())
        if url is None:
            continue
        integrity = _INTEGRITY.search(tag.group())
        if integrity is None:
            msg = f"GraphiQL page loads {url.group()} without an integrity hash; refusing to vendor"
            raise RuntimeError(msg)
        assets.append(
            VendoredAsset(
                package=url.group("package"),
                version=url.group("version"),
                path=url.group("path"),
                integrity=integrity.group("integrity"),
            )
        )
    return tuple(assets)


def static_prefix(graphql_path: str = "/graphql") -> str:
    """URL prefix of the vendored files; lives under the GraphQL path so one proxy rule covers
    both the API and its IDE."""
    return f"{graphql_path.rstrip('/')}/static/graphiql"


def _sri(data: bytes, integrity: str) -> str:
    """Compute an SRI string with the same algorithm as ``integrity`` (``sha384-...``)."""
    algorithm = integrity.split("-", 1)[0]
    digest = hashlib.new(algorithm, data).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode('ascii')}"


def verify_vendored_assets(static_dir: Path = STATIC_DIR) -> list[str]:
    """Return one message per vendored file that is missing or differs from the page's hash.

    Browsers refuse a file whose bytes do not match its ``integrity`` attribute, which would leave
    GraphiQL blank with only a console error; tests and ``vendor-graphiql.sh --check`` call this
    to catch that (for example after a Strawberry upgrade) before a user does.
    """
    problems: list[str] = []
    for asset in vendored_assets():
        target = static_dir / asset.filename
        if not target.is_file():
            problems.append(f"{target} is missing (page loads {asset.unpkg_url})")
            continue
        actual = _sri(target.read_bytes(), asset.integrity)
        if actual != asset.integrity:
            problems.append(f"{target}: {actual} != page integrity {asset.integrity}")
    return problems


@cache
def graphiql_html(graphql_path: str = "/graphql") -> str:
    """Strawberry's GraphiQL page with every unpkg URL pointing at our own static route.

    ``integrity`` and ``crossorigin`` attributes are kept, so the browser still proves each file is
    byte-identical to what Strawberry pinned. The result is cached (and built at import time for
    the default path) because the IDE page is requested on every browser visit to ``/graphql``.

    Raises ``RuntimeError`` if the page still references any remote ``src``/``href`` after the
    rewrite: an IDE that quietly reaches a CDN is exactly what this module exists to prevent.
    """
    prefix = static_prefix(graphql_path)

    def local(url: re.Match[str]) -> str:
        asset = VendoredAsset(
            package=url.group("package"),
            version=url.group("version"),
            path=url.group("path"),
            integrity="",
        )
        return f'{url.group("attr")}="{prefix}/{asset.filename}"'

    html = _UNPKG_ATTR.sub(local, _stock_page())
    html, replaced = _EXAMPLE_QUERY.subn(
        lambda _: f"const EXAMPLE_QUERY = {_js(DEFAULT_DOCUMENT)};", html
    )
    if replaced != 1:
        raise RuntimeError("GraphiQL page has no EXAMPLE_QUERY to replace with ours")
    remote = _REMOTE_ATTR.search(html)
    if remote is not None:
        start = max(remote.start() - 80, 0)
        msg = f"GraphiQL page still loads a remote asset: {html[start : remote.end() + 80]!r}"
        raise RuntimeError(msg)
    return html


def _js(text: str) -> str:
    """``text`` as a JavaScript string literal safe inside a <script> element."""
    return json.dumps(text).replace("</", "<\\/")


class _ImmutableStaticFiles(StaticFiles):
    """``StaticFiles`` that marks successful responses as cacheable for a year.

    Starlette only sends ``ETag``/``Last-Modified``, which makes the browser revalidate ~4 MB of
    IDE assets on every visit; versioned file names make long-lived caching safe.
    """

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Serve the file as ``StaticFiles`` does, adding :data:`CACHE_CONTROL` on 200/304."""
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = CACHE_CONTROL
        return response


def graphiql_static_routes(graphql_path: str = "/graphql") -> list[BaseRoute]:
    """Routes serving :data:`STATIC_DIR` at :func:`static_prefix` (``/graphql/static/graphiql``).

    Returned as a list so the app can splat it into ``Starlette(routes=[...])``; put it *before* a
    ``Mount("/graphql", ...)`` (an exact ``Route("/graphql", ...)`` does not overlap it).
    ``check_dir`` stays on so a build missing the package data fails at startup, not in a browser.
    """
    return [
        Mount(
            static_prefix(graphql_path),
            app=_ImmutableStaticFiles(directory=STATIC_DIR),
            name="graphiql-static",
        )
    ]


graphiql_html()  # Build (and validate) the default page once, at import time.
