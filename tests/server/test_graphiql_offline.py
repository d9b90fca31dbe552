"""GraphiQL at /graphql must load and run a query with no network beyond localhost.

The real app (graph.server.app.create_app, on the suite's migrated databases) runs under uvicorn
on a free 127.0.0.1 port; Debian's Chromium, driven by Playwright, loads /graphql
with every non-local request aborted and recorded. Any such attempt, any failed or 4xx/5xx asset,
any console error (which is also how Chromium reports a Subresource-Integrity mismatch) fails the
test. Set GRAPHIQL_SCREENSHOT=/some/file.png to keep a screenshot of the final page.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from graphql import OperationDefinitionNode, parse, validate
from playwright.async_api import ConsoleMessage, Error, async_playwright, expect
from playwright.async_api import Response as PwResponse
from playwright.async_api import Route as PwRoute
from playwright.async_api import WebSocketRoute as PwWebSocketRoute

from graph.schema import schema
from graph.server.graphiql import (
    CACHE_CONTROL,
    DEFAULT_DOCUMENT,
    LOGIN_EXAMPLE,
    ME_EXAMPLE,
    graphiql_html,
    static_prefix,
    vendored_assets,
    verify_vendored_assets,
)

CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
QUERY = "{ territories { nodes { code } } }"
ANSWER = "fn_sami"  # a demo territory the query lists


@pytest.fixture(scope="module")
def base_url(live_url: str) -> str:
    return live_url


def test_vendored_assets_match_strawberry_integrity() -> None:
    assert len(vendored_assets()) == 7
    assert verify_vendored_assets() == []
    html = graphiql_html()
    assert "unpkg.com" not in html
    for asset in vendored_assets():
        assert f'"{static_prefix()}/{asset.filename}"' in html
        assert f'integrity="{asset.integrity}"' in html


def test_default_document_is_valid_and_explains_the_token() -> None:
    live = parse(DEFAULT_DOCUMENT)
    assert validate(schema._schema, live) == []
    operations = [d for d in live.definitions if isinstance(d, OperationDefinitionNode)]
    assert [o.name for o in operations] == [None]  # see DEFAULT_DOCUMENT on why anonymous
    for example in (LOGIN_EXAMPLE, ME_EXAMPLE):
        assert validate(schema._schema, parse(example)) == []
        commented = "\n".join(f"# {line}" for line in example.splitlines())
        assert commented in DEFAULT_DOCUMENT
    assert "HEADERS tab" in DEFAULT_DOCUMENT
    assert '"Authorization": "Bearer <accessToken>"' in DEFAULT_DOCUMENT
    assert "DEVELOPMENT ONLY" in DEFAULT_DOCUMENT
    assert "Welcome to GraphiQL" not in graphiql_html()


def test_static_assets_are_served_with_long_cache(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        for asset in vendored_assets():
            response = client.get(f"{static_prefix()}/{asset.filename}")
            assert response.status_code == 200, asset.filename
            assert response.headers["cache-control"] == CACHE_CONTROL
        assert client.get(f"{static_prefix()}/nope.js").status_code == 404
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert page.status_code == 200
        assert page.text == graphiql_html()


@pytest.mark.browser
@pytest.mark.timeout(60)
async def test_graphiql_runs_a_query_offline(base_url: str) -> None:
    # Debian's Chromium where installed (Debian, CI); else Playwright's own build (Ubuntu, whose
    # apt Chromium is a snap): scripts/system-deps.sh installs one or the other.
    executable = CHROMIUM if shutil.which(CHROMIUM) else None

    blocked: list[str] = []
    failed: list[str] = []
    console_errors: list[str] = []

    def is_local(url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in {"data", "blob", "about"} or parts.hostname in LOCAL_HOSTS

    async def guard(route: PwRoute) -> None:
        if is_local(route.request.url):
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort("blockedbyclient")

    async def guard_ws(ws: PwWebSocketRoute) -> None:
        if is_local(ws.url.replace("ws", "http", 1)):
            ws.connect_to_server()
        else:
            blocked.append(ws.url)
            await ws.close()

    def on_response(response: PwResponse) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"{message.text} @ {message.location}")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                # Belt and braces under the route guard: no host name but localhost resolves.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
            ],
        )
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 800})
            await context.route("**/*", guard)
            await context.route_web_socket("**/*", guard_ws)
            page = await context.new_page()
            page.on("response", on_response)
            page.on("requestfailed", lambda r: failed.append(f"{r.failure} {r.url}"))
            page.on("console", on_console)
            page.on("pageerror", lambda e: console_errors.append(f"pageerror: {e}"))

            await page.goto(f"{base_url}/graphql", wait_until="load")
            assert blocked == [], f"page tried to leave localhost: {blocked}"
            assert await page.evaluate("typeof GraphiQLPluginExplorer") == "object"

            editor = page.locator(".graphiql-query-editor .CodeMirror")
            await expect(editor).to_be_visible(timeout=10_000)
            opened = await page.evaluate(
                "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
            )
            assert opened == DEFAULT_DOCUMENT  # the newcomer's guide, not Strawberry's welcome
            await editor.click()
            await page.keyboard.press("Control+A")
            await page.keyboard.press("Delete")
            await page.keyboard.type(QUERY)
            # CodeMirror auto-closes braces; whatever it did, the document must be our query.
            query = await page.evaluate(
                "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
            )
            assert " ".join(query.split()) == QUERY

            await page.locator("button.graphiql-execute-button").click()
            result = page.locator(".graphiql-response .CodeMirror")
            await expect(result).to_contain_text(ANSWER, timeout=10_000)
            await expect(result).to_contain_text('"territories"')

            if shot := os.environ.get("GRAPHIQL_SCREENSHOT"):
                await page.screenshot(path=Path(shot))
            await context.close()
        except Error as exc:  # Playwright's own error: add what the page did to the report.
            pytest.fail(f"{exc}\nblocked={blocked}\nfailed={failed}\nconsole={console_errors}")
        finally:
            await browser.close()

    assert blocked == [], f"page tried to leave localhost: {blocked}"
    assert failed == [], f"failed loads: {failed}"
    assert console_errors == [], f"console errors: {console_errors}"
