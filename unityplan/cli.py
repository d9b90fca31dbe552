"""``unityplan``: the operator's command line (migrations, territories, the embedded dev set-up)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from db import territories as registry
from db.demo import DEMO_PASSWORD, DemoSeed, seed_development
from db.engines import Database
from db.migrate import migrate_all
from db.provisioning import create_territory, ensure_database
from domain.errors import UserFacingError
from domain.territories import TerritoryKind
from events.asyncapi import render as render_asyncapi
from events.runtime import start_events
from graph import ids
from graph.server.protocol import BoundedHttpProtocol
from unityplan.settings import MAIN_SERVER, Settings, get_settings

if TYPE_CHECKING:
    from unityplan.devservices import ServiceUrls

T = TypeVar("T")

app = typer.Typer(help="Operate a UnityPlan Graph deployment.", no_args_is_help=True)
territory_app = typer.Typer(
    help="Create, list, export and import territories.", no_args_is_help=True
)
app.add_typer(territory_app, name="territory")
invitation_app = typer.Typer(help="Invitations into territories.", no_args_is_help=True)
app.add_typer(invitation_app, name="invitation")


def _database(settings: Settings) -> Database:
    return Database(settings.servers(), pool_size=2)


def _run(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` with a fresh Database; expected errors become a message and exit code 2."""

    async def main() -> T:
        db = _database(get_settings())
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        return asyncio.run(main())
    except UserFacingError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(2) from None


@app.command()
def migrate() -> None:
    """Upgrade `global` and every territory schema to head (safe to run twice, or concurrently)."""
    touched = _run(migrate_all)
    typer.echo(f"migrated global and {len(touched)} territories")


@territory_app.command("create")
def territory_create(
    territory_id: Annotated[
        str, typer.Argument(metavar="ID", help="e.g. dk, fn_sami, c_dk_aarhus")
    ],
    name: Annotated[str, typer.Option(help="Display name")],
    kind: Annotated[TerritoryKind, typer.Option(help="What the territory is")],
    parent: Annotated[str | None, typer.Option(help="Parent territory id")] = None,
    server: Annotated[str, typer.Option(help="Database server key")] = MAIN_SERVER,
) -> None:
    """Register a territory and build its schema on a database server."""
    record = _run(
        lambda db: create_territory(
            db, territory_id=territory_id, name=name, kind=kind, parent_id=parent, server=server
        )
    )
    typer.echo(f"created {record.id} ({record.kind.value}) on {record.db_server}")


@territory_app.command("list")
def territory_list() -> None:
    """Every registered territory with its kind, status and database server."""

    async def work(db: Database) -> list[registry.TerritoryRecord]:
        async with db.connect(MAIN_SERVER) as conn:
            return await registry.all_records(conn)

    for r in _run(work):
        typer.echo(f"{r.id}\t{r.kind.value}\t{r.status.value}\t{r.db_server}\t{r.name}")


@app.command()
def serve() -> None:
    """Serve the API with uvicorn on HOST:PORT and WORKERS processes."""
    import uvicorn

    from graph.observability import configure_logging

    settings = get_settings()
    # Our handler (JSON, request ids, redaction) for uvicorn's loggers too; the app's middleware
    # writes the access log, with the request id and without the query string.
    configure_logging(settings)
    uvicorn.run(
        "graph.server.app:app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers or os.cpu_count() or 1,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,
        # Deadlines for slow clients (graph/server/protocol.py) and idle keep-alive.
        http=BoundedHttpProtocol,
        timeout_keep_alive=settings.http_keepalive_timeout_seconds,
        ws_per_message_deflate=settings.ws_per_message_deflate,
    )


StateDir = Annotated[Path, typer.Option(help="Where embedded services keep their data")]


def _ensure_services(state_dir: Path) -> ServiceUrls:
    """Services named by DATABASE_URL / NATS_URL / REDIS_URL / IPFS_URL (or the default ports),
    else ours."""
    from unityplan.devservices import ensure_services

    return ensure_services(
        state_dir.resolve(),
        database_url=os.environ.get("DATABASE_URL"),
        nats_url=os.environ.get("NATS_URL"),
        redis_url=os.environ.get("REDIS_URL"),
        ipfs_url=os.environ.get("IPFS_URL"),
    )


@app.command()
def dev(state_dir: StateDir = Path(".run")) -> None:
    """The embedded default: reuse or start services, migrate, add demo data, then serve."""
    urls = _ensure_services(state_dir)
    os.environ.setdefault("LOG_FORMAT", "text")  # a person reads this terminal, not a collector
    explicit_database = "DATABASE_URL" in os.environ
    os.environ.update(
        DATABASE_URL=urls.database_url if explicit_database else _with_database(urls.database_url),
        NATS_URL=urls.nats_url,
        REDIS_URL=urls.redis_url,
        IPFS_URL=urls.ipfs_url,
    )
    get_settings.cache_clear()
    settings = get_settings()
    for dsn in settings.servers().values():
        asyncio.run(ensure_database(dsn))

    async def prepare(db: Database) -> DemoSeed:
        await migrate_all(db)
        return await seed_development(db, settings)

    seed = _run(prepare)
    if seed.territories:
        typer.echo(f"demo territories created: {', '.join(seed.territories)}")
    typer.echo(demo_logins(seed))
    typer.echo(f"GraphiQL: http://{settings.host}:{settings.port}/graphql", err=True)
    serve()


def demo_logins(seed: DemoSeed) -> str:
    """The start-up banner naming who to log in as (or why nobody: production)."""
    if not seed.people:
        return "UNITYPLAN_ENV=production: no demo people were created."
    lines = [
        "Demo logins (DEVELOPMENT ONLY: never created when UNITYPLAN_ENV=production).",
        f"Password for all of them: {DEMO_PASSWORD}",
    ]
    lines += [
        f"  {p.username:<12} territory {p.territory:<8} {p.role.value:<18} profile {p.preset.value}"
        for p in seed.people
    ]
    lines.append("GraphiQL's default document shows the login mutation and where the token goes.")
    return "\n".join(lines)


@app.command()
def services(state_dir: StateDir = Path(".run")) -> None:
    """Reuse reachable services or start real ones; print their URLs as KEY=value lines."""
    urls = _ensure_services(state_dir)
    typer.echo(f"DATABASE_URL={urls.database_url}")
    typer.echo(f"NATS_URL={urls.nats_url}")
    typer.echo(f"REDIS_URL={urls.redis_url}")
    typer.echo(f"IPFS_URL={urls.ipfs_url}")


def _with_database(dsn: str) -> str:
    """Embedded and reused servers hold our data in a database of its own, `unityplan`."""
    from sqlalchemy.engine import make_url

    url = make_url(dsn)
    if url.database in (None, "", "postgres"):
        url = url.set(database="unityplan")
    return url.render_as_string(hide_password=False)


@app.command()
def relay() -> None:
    """Run the outbox relay alone: publish committed events to NATS JetStream until SIGTERM.

    Any number may run beside the API's own relays (EVENTS_RELAY); they share the work.
    """
    _run_events(relay=True, notifier=False)


@app.command()
def notifier() -> None:
    """Run the notifications consumer alone: events to per-person notifications until SIGTERM.

    Any number may run beside the API's own (EVENTS_NOTIFIER); they share one durable consumer.
    """
    _run_events(relay=False, notifier=True)


def _run_events(*, relay: bool, notifier: bool) -> None:
    from graph.observability import configure_logging

    settings = get_settings()
    configure_logging(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        events = await start_events(settings, node_id=ids.encode, relay=relay, notifier=notifier)
        # Operators (and the tests) wait for this line: from here on SIGTERM stops cleanly.
        logging.getLogger("unityplan.events").info(
            "events running", extra={"relay": relay, "notifier": notifier}
        )
        try:
            await stop.wait()
        finally:
            await events.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@app.command()
def scheduler() -> None:
    """Run the scheduler alone (badge expiry, renewal notices, rule sweeps, ...) until SIGTERM.

    Any number may run beside the API's own (SCHEDULER): every job claims before it acts.
    """
    from graph import ids
    from graph.observability import configure_logging
    from scheduler.runtime import start_scheduler

    settings = get_settings()
    configure_logging(settings)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        running = start_scheduler(settings, node_id=ids.encode)
        try:
            await stop.wait()
        finally:
            await running.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@app.command("asyncapi")
def print_asyncapi() -> None:
    """Print the AsyncAPI 3.0 document of the event stream (the checked-in asyncapi.yaml)."""
    sys.stdout.write(render_asyncapi())


@app.command("schema")
def print_schema(
    federation: Annotated[
        bool,
        typer.Option(
            "--federation",
            help="The subgraph SDL a federation gateway composes (schema.federation.graphql)",
        ),
    ] = False,
) -> None:
    """Print the GraphQL SDL: for clients (schema.graphql), or with --federation for gateways."""
    from graph.schema import public_sdl, subgraph_sdl

    sys.stdout.write((subgraph_sdl() if federation else public_sdl()) + "\n")


# --- territory export / import (moving a territory between database servers or federations).
# Imports stay local so the rest of the CLI does not load the transfer machinery.


@territory_app.command("export")
def territory_export(
    territory_id: Annotated[str, typer.Argument(metavar="ID", help="The territory to export")],
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Dump file to write (a zip)")],
) -> None:
    """Write one territory (registry row, schema revision, every table) to a portable dump."""
    from db.transfer import export_territory

    manifest = _run(lambda db: export_territory(db, territory_id, file))
    typer.echo(
        f"exported {manifest.territory.id} from {manifest.source_server} at revision "
        f"{manifest.revision}: {manifest.total_rows} rows in {len(manifest.tables)} tables "
        f"to {file}"
    )


@territory_app.command("import")
def territory_import(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Dump file from `territory export`")],
    server: Annotated[str, typer.Option(help="Database server key to load it onto")] = MAIN_SERVER,
    drop_source: Annotated[
        bool,
        typer.Option(help="After a successful switch, drop the schema on the previous server"),
    ] = False,
) -> None:
    """Load a dump onto a server, verify it, then route the territory there.

    The previous server's schema is kept unless --drop-source is given: drop it once the new copy
    is verified.
    """
    from db.transfer import import_territory, read_manifest

    async def work(db: Database) -> tuple[str | None, str]:
        tid = read_manifest(file).territory.id
        async with db.connect(MAIN_SERVER) as conn:
            before = (await registry.by_ids(conn, [tid])).get(tid)
        manifest = await import_territory(db, file, server, drop_source=drop_source)
        summary = (
            f"imported {tid} at revision {manifest.revision}: {manifest.total_rows} rows in "
            f"{len(manifest.tables)} tables, checksums verified; now served from {server}"
        )
        return (None if before is None else before.db_server), summary

    previous, summary = _run(work)
    typer.echo(summary)
    if previous is None:
        typer.echo("registered as a new territory in this federation")
    elif drop_source:
        typer.echo(f"dropped the source schema on {previous}")
    else:
        typer.echo(f"the old copy on {previous} is untouched; drop it after verifying")


@invitation_app.command("bootstrap")
def invitation_bootstrap(
    territory_id: Annotated[str, typer.Argument(metavar="TERRITORY", help="e.g. dk")],
    email: Annotated[str | None, typer.Option(help="Bind the invitation to this email")] = None,
    uses: Annotated[int, typer.Option(help="How many registrations it allows")] = 1,
    role: Annotated[
        str, typer.Option(help="Role it grants besides member (global_admin only in 'global')")
    ] = "territory_manager",
    hours: Annotated[int, typer.Option(help="Hours until it expires")] = 168,
) -> None:
    """Print a new invitation token for TERRITORY on stdout (e.g. its first manager's)."""
    from datetime import timedelta

    from db.accounts import active_territory
    from db.invitations import create_invitation
    from domain import invitations as rules
    from domain.accounts import validate_email
    from domain.errors import BadUserInput, NotFound
    from domain.roles import Role
    from domain.territories import validate_territory_id

    async def work(db: Database) -> str:
        tid = validate_territory_id(territory_id)
        try:
            chosen = Role(role)
        except ValueError:
            raise BadUserInput(
                f"Unknown role; one of {', '.join(r.value for r in Role)}."
            ) from None
        rules.validate_new(territory_id=tid, max_uses=uses, role=chosen, ttl_seconds=hours * 3600)
        record = await active_territory(db, tid)
        if record is None:
            raise NotFound(f"No active territory '{tid}'.")
        token, _ = await create_invitation(
            db,
            record,
            email=None if email is None else validate_email(email),
            max_uses=uses,
            role=chosen,
            ttl=timedelta(hours=hours),
            created_by=None,
            actor=None,
        )
        return token

    # The token alone on stdout, so `TOKEN=$(unityplan invitation bootstrap dk)` works.
    typer.echo(_run(work))


# --- trusted documents (graph/server/documents.py): the operations anonymous callers may run.
documents_app = typer.Typer(help="Trusted (persisted) GraphQL documents.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")


@documents_app.command("register")
def documents_register(
    files: Annotated[
        list[Path],
        typer.Argument(metavar="FILE...", help=".graphql files or JSON manifests {hash: text}"),
    ],
) -> None:
    """Verify every document against the schema, then register them all (idempotent).

    Prints one line per document: its id (`sha256:<hex>`), operation name, and whether it is new.
    Nothing is registered if any document fails to parse or validate.
    """
    from db.documents import register
    from graph.registration import RegistrationError, collect
    from graph.schema import schema

    try:
        candidates = collect(files, schema._schema, get_settings().max_document_bytes)
    except RegistrationError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None

    async def work(db: Database) -> set[str]:
        async with db.transaction(MAIN_SERVER) as conn:
            return await register(conn, [(c.sha256, c.text) for c in candidates])

    new = _run(work)
    for c in candidates:
        state = "registered" if c.sha256 in new else "already registered"
        typer.echo(f"sha256:{c.sha256}\t{c.name}\t{state}")
    typer.echo(f"{len(new)} new, {len(candidates) - len(new)} already registered", err=True)


files_app = typer.Typer(help="Files on IPFS.", no_args_is_help=True)
app.add_typer(files_app, name="files")


@files_app.command("collect")
def files_collect() -> None:
    """One collection pass: delete files nothing references (past the grace period) and unpin
    their CIDs unless another territory stores them; safe to run on several replicas at once."""
    from files.collection import collect_once
    from files.storage import FileStorage
    from graph import ids

    storage = FileStorage.from_settings(get_settings())

    async def work(db: Database) -> None:
        try:
            report = await collect_once(db, storage, ids.encode)
        finally:
            await storage.node.close()
        typer.echo(f"deleted {report.deleted} files, unpinned {len(report.unpinned)} CIDs")

    _run(work)
