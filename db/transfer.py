"""Moving one territory between database servers (or federations) as a portable dump file.

A dump is a zip archive: ``manifest.json`` plus ``tables/<table>.csv`` for every table of the
territory template. The manifest records the territory's registry row, the schema's Alembic
revision, the column list, row count and a content checksum of each table, all read in ONE
repeatable-read snapshot on the source server, so the file is a consistent picture even while the
territory keeps serving reads.

Import rebuilds the schema on the target server at the dump's revision, loads every table in one
transaction, recomputes counts and checksums there and only then upgrades the schema to head and
switches the registry. The source schema is left in place: the operator drops it after checking
the new copy (``unityplan territory import --drop-source`` does it right after a successful switch).
Writes that reach the source between export and the switch are NOT carried over; suspend the
territory or stop its writers first when that matters.

Why CSV rather than COPY's binary format: binary COPY encodes each type with its ``send``/``recv``
functions, which the PostgreSQL manual documents as less portable across server versions and
platforms; CSV goes through every type's canonical text I/O, loads on any server of the same major
version (and usually beyond), keeps NULL distinct from the empty string, and can be read with
ordinary tools when an operator needs to inspect a dump. The cost is size and speed, which
deflate compression inside the zip and COPY's bulk path keep acceptable for a territory.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, cast

import asyncpg
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Select, Text, column, func, literal, select, table, text
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import REGCLASS, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncConnection

from db import territories as registry
from db.engines import Database
from db.migrate import (
    ALEMBIC_DIR,
    drop_territory_schema,
    head_revision,
    migration_lock,
    territory_revision,
    upgrade_territory,
)
from db.models import territory_metadata
from domain.errors import BadUserInput
from domain.territories import (
    TerritoryKind,
    TerritoryStatus,
    schema_name,
    validate_new_territory,
    validate_territory_id,
)
from unityplan.settings import MAIN_SERVER

FORMAT_NAME = "unityplan-territory-dump"
FORMAT_VERSION = 1
MANIFEST_MEMBER = "manifest.json"
MAX_MANIFEST_BYTES = 1 << 20
VERSION_TABLE = "alembic_version"
CHECKSUM_METHOD = "md5 of the md5s of ROW(columns)::text, C-sorted, UTC/ISO settings"

# Every text conversion the dump and the checksums depend on, pinned per transaction: the
# servers' own defaults (time zone above all) may differ, and the same instant must produce the
# same bytes on both sides.
_SESSION_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}


@dataclass(frozen=True, slots=True)
class TerritoryInfo:
    """The registry fields that travel with a dump (the server key stays behind: it is local)."""

    id: str
    name: str
    kind: TerritoryKind
    parent_id: str | None
    status: TerritoryStatus


@dataclass(frozen=True, slots=True)
class TableDump:
    """One table's member in the archive, with what the source said about it.

    ``columns`` fixes the order of COPY and of the checksum on both sides, so the two servers'
    physical column order never matters.
    """

    name: str
    columns: tuple[str, ...]
    rows: int
    checksum: str


@dataclass(frozen=True, slots=True)
class SequenceState:
    """A sequence owned by the schema: COPY does not carry it, so its position travels here."""

    name: str
    last_value: int | None


@dataclass(frozen=True, slots=True)
class Manifest:
    """``manifest.json``: everything import needs to rebuild and verify the territory."""

    territory: TerritoryInfo
    revision: str
    tables: tuple[TableDump, ...]
    sequences: tuple[SequenceState, ...] = ()
    exported_at: str = ""
    source_server: str = ""
    format_version: int = FORMAT_VERSION

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables)

    def to_json(self) -> str:
        body = {
            "format": FORMAT_NAME,
            "format_version": self.format_version,
            "exported_at": self.exported_at,
            "source_server": self.source_server,
            "territory": {
                "id": self.territory.id,
                "name": self.territory.name,
                "kind": self.territory.kind.value,
                "parent_id": self.territory.parent_id,
                "status": self.territory.status.value,
            },
            "revision": self.revision,
            "copy": {"format": "csv", "encoding": "UTF8", "settings": _SESSION_SETTINGS},
            "checksum_method": CHECKSUM_METHOD,
            "tables": [
                {"name": t.name, "columns": list(t.columns), "rows": t.rows, "checksum": t.checksum}
                for t in self.tables
            ],
            "sequences": [asdict(s) for s in self.sequences],
        }
        return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def table_member(name: str) -> str:
    """The archive member holding a table: derived from the validated name, never read from it."""
    return f"tables/{name}.csv"


def _template_tables() -> list[str]:
    """Template tables in foreign-key order (parents first), as the models declare them today."""
    return [t.name for t in territory_metadata.sorted_tables]


# --- manifest parsing: everything in the file is untrusted until it passes here.


def _bad(detail: str) -> BadUserInput:
    return BadUserInput(f"Not a usable territory dump: {detail}")


def _field(obj: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise _bad(f"{what} lacks '{key}'.")
    value = obj[key]
    # bool is an int subclass; a count or version given as true/false is not a number.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        raise _bad(f"{what}'s '{key}' has the wrong type.")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _known_revision(revision: str) -> None:
    """The dump's revision must be one this code base can build; a newer one needs an upgrade."""
    script = ScriptDirectory(str(ALEMBIC_DIR / "territory"))
    try:
        found = script.get_revision(revision)
    except CommandError:
        found = None
    if found is None or found.revision != revision:
        raise BadUserInput(
            f"The dump is at territory schema revision '{revision}', which this deployment does "
            "not know; upgrade UnityPlan Graph to a release that has it, then import again."
        )


def _parse_territory(terr: Any) -> TerritoryInfo:
    tid = validate_territory_id(_field(terr, "id", str, "the territory"))
    name = _field(terr, "name", str, "the territory").strip()
    if not name:
        raise _bad("the territory has no name.")
    try:
        kind = TerritoryKind(_field(terr, "kind", str, "the territory"))
        status = TerritoryStatus(_field(terr, "status", str, "the territory"))
    except ValueError as error:
        raise _bad(str(error)) from None
    if status is TerritoryStatus.PROVISIONING:
        raise _bad("the territory was still provisioning when it was exported.")
    parent = _field(terr, "parent_id", (str, type(None)), "the territory")
    validate_new_territory(tid, kind, parent)
    return TerritoryInfo(tid, name, kind, parent, status)


def _parse_tables(entries: list[Any]) -> tuple[TableDump, ...]:
    template = set(_template_tables())
    tables: dict[str, TableDump] = {}
    for entry in entries:
        name = _field(entry, "name", str, "a table entry")
        if name not in template:
            raise _bad(f"'{name}' is not a table of the territory template.")
        if name in tables:
            raise _bad(f"table '{name}' is listed twice.")
        columns = _field(entry, "columns", list, f"table '{name}'")
        if not columns or not all(isinstance(c, str) and c for c in columns):
            raise _bad(f"table '{name}' has no valid column list.")
        if len(set(columns)) != len(columns):
            raise _bad(f"table '{name}' lists a column twice.")
        rows = _field(entry, "rows", int, f"table '{name}'")
        if rows < 0:
            raise _bad(f"table '{name}' has a negative row count.")
        checksum = _field(entry, "checksum", str, f"table '{name}'")
        tables[name] = TableDump(name, tuple(columns), rows, checksum)
    if not tables:
        raise _bad("the manifest lists no tables.")
    return tuple(tables.values())


def _parse_sequences(entries: list[Any]) -> tuple[SequenceState, ...]:
    sequences = []
    for entry in entries:
        name = _field(entry, "name", str, "a sequence entry")
        last = _field(entry, "last_value", (int, type(None)), f"sequence '{name}'")
        sequences.append(SequenceState(name, last))
    return tuple(sequences)


def parse_manifest(raw: bytes) -> Manifest:
    """Validate a manifest's structure and every name in it that will ever reach SQL."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _bad(f"manifest.json is not JSON ({error}).") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT_NAME:
        raise _bad("manifest.json does not describe a UnityPlan territory dump.")
    version = _field(body, "format_version", int, "the manifest")
    if version != FORMAT_VERSION:
        raise BadUserInput(
            f"The dump has format version {version}; this deployment reads version "
            f"{FORMAT_VERSION} only."
        )
    territory = _parse_territory(_field(body, "territory", dict, "the manifest"))
    revision = _field(body, "revision", str, "the manifest")
    _known_revision(revision)
    return Manifest(
        territory=territory,
        revision=revision,
        tables=_parse_tables(_field(body, "tables", list, "the manifest")),
        sequences=_parse_sequences(_field(body, "sequences", list, "the manifest")),
        exported_at=str(body.get("exported_at", "")),
        source_server=str(body.get("source_server", "")),
        format_version=version,
    )


def _open_dump(path: Path) -> tuple[zipfile.ZipFile, Manifest]:
    """Open a dump and check that its members are exactly the manifest's tables."""
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise BadUserInput(f"No dump file at {path}.") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise BadUserInput(f"{path} is not a territory dump (a zip archive): {error}") from None
    try:
        info = archive.getinfo(MANIFEST_MEMBER)
        if info.file_size > MAX_MANIFEST_BYTES:
            raise _bad("manifest.json is implausibly large.")
        manifest = parse_manifest(archive.read(info))
        expected = {MANIFEST_MEMBER} | {table_member(t.name) for t in manifest.tables}
        present = set(archive.namelist())
        if present != expected:
            missing, extra = sorted(expected - present), sorted(present - expected)
            raise _bad(
                f"archive members do not match the manifest (missing {missing}, extra {extra})."
            )
    except KeyError:
        archive.close()
        raise _bad("the archive has no manifest.json.") from None
    except zipfile.BadZipFile as error:
        archive.close()
        raise _bad(f"the archive is damaged ({error}).") from None
    except BaseException:
        archive.close()
        raise
    return archive, manifest


def read_manifest(path: Path) -> Manifest:
    """The validated manifest of a dump file, without touching any database."""
    archive, manifest = _open_dump(path)
    archive.close()
    return manifest


# --- SQL helpers. Schema names come only from schema_name(); table and column names are quoted
# by SQLAlchemy or asyncpg and, on import, checked against the server's own catalog first.


async def _pin_settings(conn: AsyncConnection) -> None:
    """Fix the output formats COPY and the checksums depend on, for this transaction only."""
    for name, value in _SESSION_SETTINGS.items():
        await conn.execute(select(func.set_config(name, value, True)))


async def _tables(conn: AsyncConnection, schema: str) -> set[str]:
    rows = await conn.execute(
        text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = :schema AND table_type = 'BASE TABLE'"
        ),
        {"schema": schema},
    )
    return {str(r[0]) for r in rows}


async def _columns(conn: AsyncConnection, schema: str, name: str) -> tuple[str, ...]:
    rows = await conn.execute(
        text(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = :schema AND table_name = :table ORDER BY ordinal_position"
        ),
        {"schema": schema, "table": name},
    )
    return tuple(str(r[0]) for r in rows)


async def _sequences(conn: AsyncConnection, schema: str) -> dict[str, int | None]:
    rows = await conn.execute(
        text("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = :schema"),
        {"schema": schema},
    )
    return {str(r[0]): None if r[1] is None else int(r[1]) for r in rows}


async def _revision(conn: AsyncConnection, schema: str) -> str | None:
    version = table(VERSION_TABLE, column("version_num"), schema=schema)
    found = [str(r[0]) for r in await conn.execute(select(version.c.version_num))]
    if len(found) > 1:
        raise BadUserInput(f"Schema {schema} has several Alembic heads: {found}.")
    return found[0] if found else None


def checksum_query(schema: str, name: str, columns: Sequence[str]) -> Select[int, str]:
    """Row count and content checksum of one table, computed by PostgreSQL.

    Each row becomes ``md5(ROW(c1, c2, ...)::text)`` over the manifest's column order (so the
    physical column order of either server does not matter); the hashes are sorted under the
    ``C`` collation (so the database's locale does not matter) and hashed again. Aggregating
    32-character hashes instead of whole rows keeps ``string_agg`` far below PostgreSQL's 1 GB
    value limit for any realistic territory. Text output is fixed by ``_SESSION_SETTINGS``; it
    can still differ between major versions (float and jsonb output have changed before), which
    is one reason dumps are meant for servers of the same major version.
    """
    source = table(name, *(column(c) for c in columns), schema=schema)
    row_text = sql_cast(func.row(*source.c), Text)
    hashes = select(func.md5(row_text).label("h")).select_from(source).subquery("hashes")
    # Renders string_agg(h, '' ORDER BY h COLLATE "C").
    agg = func.string_agg(
        hashes.c.h, aggregate_order_by(literal("", Text), hashes.c.h.collate("C"))
    )
    return select(func.count().label("rows"), func.md5(func.coalesce(agg, "")).label("checksum"))


async def _checksum(
    conn: AsyncConnection, schema: str, name: str, columns: Sequence[str]
) -> tuple[int, str]:
    row = (await conn.execute(checksum_query(schema, name, columns))).one()
    return int(row[0]), str(row[1])


async def _driver(conn: AsyncConnection) -> asyncpg.Connection[Any]:
    """The asyncpg connection under ``conn``, for COPY, which SQLAlchemy does not expose.

    SQLAlchemy's asyncpg adapter begins its transaction lazily, at the first statement; call this
    after one has run, or COPY would autocommit outside the snapshot (checked here).
    """
    raw = await conn.get_raw_connection()
    driver = cast("asyncpg.Connection[Any]", raw.driver_connection)
    if not driver.is_in_transaction():
        raise RuntimeError("COPY must run inside the transaction; execute a statement first")
    return driver


def _copied(status: str) -> int:
    """Rows moved, from asyncpg's ``COPY <n>`` status string."""
    return int(status.rsplit(" ", 1)[-1])


# --- export


async def export_territory(db: Database, territory_id: str, path: Path) -> Manifest:
    """Write one territory to ``path`` as a dump that imports into any configured server.

    Everything is read in one REPEATABLE READ, READ ONLY transaction on the territory's server, so
    tables and checksums describe the same instant. The registry row lives on the main server,
    which a snapshot there cannot cover: it is read first (to find the territory's server) and
    read again afterwards, failing the export if the territory moved meanwhile. The file appears
    at ``path`` only when it is complete (written beside it, then renamed).
    """
    tid = validate_territory_id(territory_id)
    schema = schema_name(tid)
    async with db.connect(MAIN_SERVER) as conn:
        record = (await registry.by_ids(conn, [tid])).get(tid)
    if record is None:
        raise BadUserInput(f"No territory '{tid}' is registered; nothing to export.")
    if record.status is TerritoryStatus.PROVISIONING:
        raise BadUserInput(
            f"Territory '{tid}' is still provisioning; run `unityplan migrate` before exporting."
        )
    head = head_revision("territory")

    fd, tmp = _partial_file(path)
    try:
        with (
            os.fdopen(fd, "wb") as handle,
            zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            tables, sequences, revision = await _export_snapshot(
                db, server=record.db_server, schema=schema, head=head, archive=archive
            )
            async with db.connect(MAIN_SERVER) as conn:
                after = (await registry.by_ids(conn, [tid])).get(tid)
            if after is None or after.db_server != record.db_server:
                raise BadUserInput(f"Territory '{tid}' moved during the export; export it again.")
            manifest = Manifest(
                territory=TerritoryInfo(
                    tid, record.name, record.kind, record.parent_id, record.status
                ),
                revision=revision,
                tables=tables,
                sequences=sequences,
                exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
                source_server=record.db_server,
            )
            archive.writestr(MANIFEST_MEMBER, manifest.to_json())
        os.replace(tmp, path)
    except BaseException:
        _discard(tmp)
        raise
    return manifest


def _partial_file(path: Path) -> tuple[int, str]:
    """A new file beside ``path``: renaming it into place later is atomic on one filesystem."""
    directory = path.resolve().parent
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    except OSError as error:
        raise BadUserInput(f"Cannot write a dump into {directory}: {error.strerror}.") from None


def _discard(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(name)


async def _export_snapshot(
    db: Database, *, server: str, schema: str, head: str, archive: zipfile.ZipFile
) -> tuple[tuple[TableDump, ...], tuple[SequenceState, ...], str]:
    async with db.engine(server).connect() as plain:
        conn = await plain.execution_options(
            isolation_level="REPEATABLE READ", postgresql_readonly=True
        )
        async with conn.begin():
            await _pin_settings(conn)
            present = await _tables(conn, schema)
            if VERSION_TABLE not in present:
                raise BadUserInput(
                    f"Schema {schema} on server '{server}' is missing or unmigrated."
                )
            revision = await _revision(conn, schema)
            if revision != head:
                raise BadUserInput(
                    f"Schema {schema} is at revision {revision}, not head {head}: run "
                    "`unityplan migrate` before exporting."
                )
            template = set(_template_tables())
            unknown = sorted(present - template - {VERSION_TABLE})
            if unknown:
                # Exporting would silently lose them.
                raise BadUserInput(f"Schema {schema} holds tables outside the template: {unknown}.")
            missing = sorted(template - present)
            if missing:
                raise BadUserInput(f"Schema {schema} lacks template tables {missing}.")
            driver = await _driver(conn)
            tables: list[TableDump] = []
            for name in _template_tables():
                columns = await _columns(conn, schema, name)
                with archive.open(table_member(name), "w", force_zip64=True) as out:
                    status = await driver.copy_from_table(
                        name,
                        schema_name=schema,
                        columns=columns,
                        output=cast(BinaryIO, out),
                        format="csv",
                        encoding="UTF8",
                    )
                rows, checksum = await _checksum(conn, schema, name, columns)
                if _copied(status) != rows:  # same snapshot: only a bug gets here
                    raise RuntimeError(f"COPY of {name} wrote {status}, the count says {rows}")
                tables.append(TableDump(name, columns, rows, checksum))
            sequences = tuple(
                SequenceState(n, v) for n, v in sorted((await _sequences(conn, schema)).items())
            )
    return tuple(tables), sequences, revision


# --- import


async def import_territory(
    db: Database, path: Path, server: str, *, drop_source: bool = False
) -> Manifest:
    """Load a dump onto ``server`` and route the territory there; returns the dump's manifest.

    Order matters for safety: the registry changes last, after the data is committed and verified
    and the schema is at head, so no request is ever routed to a half-imported schema. A schema
    this call created is dropped again on any failure; one that already existed (empty) is left.
    With ``drop_source`` the previous server's schema is dropped, but only after the switch.
    """
    if server not in db.server_keys:
        raise BadUserInput(
            f"Unknown database server '{server}'; configured: {', '.join(db.server_keys)}."
        )
    archive, manifest = _open_dump(path)
    with archive:
        tid = manifest.territory.id
        schema = schema_name(tid)
        async with migration_lock(db):
            async with db.connect(MAIN_SERVER) as conn:
                known = await registry.by_ids(
                    conn,
                    [tid]
                    + ([manifest.territory.parent_id] if manifest.territory.parent_id else []),
                )
            previous = known.get(tid)
            if previous is not None and previous.db_server == server:
                raise BadUserInput(f"Territory '{tid}' already lives on server '{server}'.")
            parent = manifest.territory.parent_id
            if previous is None and parent is not None and parent not in known:
                raise BadUserInput(
                    f"Territory '{tid}' belongs to '{parent}', which this federation does not "
                    "have; create or import the parent first."
                )
            if drop_source and previous is not None and previous.db_server not in db.server_keys:
                raise BadUserInput(
                    f"Cannot drop the source: server '{previous.db_server}' is not configured here."
                )

            created = not await _schema_exists(db, server, schema)
            if not created:
                await _check_leftover_schema(db, server, tid, manifest.revision)
            try:
                await upgrade_territory(db, server, tid, revision=manifest.revision)
                await _load(db, server, schema, manifest, archive)
                await upgrade_territory(db, server, tid)
                async with db.transaction(MAIN_SERVER) as conn:
                    if previous is None:
                        await _register(conn, manifest.territory, server)
                    else:
                        await registry.set_server(conn, tid, server)
            except BaseException as error:
                if created:
                    await _drop_quietly(db, server, tid, error)
                raise
            if drop_source and previous is not None:
                try:
                    await drop_territory_schema(db, previous.db_server, tid)
                except Exception as error:
                    raise BadUserInput(
                        f"Territory '{tid}' was imported and now lives on '{server}', but "
                        f"dropping its old schema on '{previous.db_server}' failed ({error}); "
                        "drop it by hand."
                    ) from error
    return manifest


async def _drop_quietly(db: Database, server: str, tid: str, cause: BaseException) -> None:
    """Remove a half-made schema without hiding why the import failed."""
    try:
        await drop_territory_schema(db, server, tid)
    except Exception as cleanup:
        cause.add_note(
            f"cleanup failed too: {schema_name(tid)} on server '{server}' may need dropping "
            f"by hand ({cleanup})"
        )


async def _schema_exists(db: Database, server: str, schema: str) -> bool:
    async with db.connect(server) as conn:
        found = await conn.execute(
            text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
        )
        return found.first() is not None


async def _occupied(conn: AsyncConnection, schema: str) -> list[str]:
    """Template tables of ``schema`` that hold at least one row."""
    present = await _tables(conn, schema)
    occupied = []
    for name in _template_tables():
        if name in present:
            probe = table(name, schema=schema)
            if (await conn.execute(select(literal(1)).select_from(probe).limit(1))).first():
                occupied.append(name)
    return occupied


def _occupied_error(schema: str, server: str, tables: list[str]) -> BadUserInput:
    return BadUserInput(
        f"Schema {schema} on server '{server}' already holds rows (in {', '.join(tables)}); "
        "refusing to import over it. Drop it first if it is a stale copy."
    )


async def _check_leftover_schema(db: Database, server: str, tid: str, revision: str) -> None:
    """An existing target schema is acceptable only when empty and not ahead of the dump."""
    schema = schema_name(tid)
    async with db.connect(server) as conn:
        occupied = await _occupied(conn, schema)
    if occupied:
        raise _occupied_error(schema, server, occupied)
    current = await territory_revision(db, server, tid)
    if current not in (None, revision):
        raise BadUserInput(
            f"Schema {schema} on server '{server}' exists (empty) at revision {current}, not the "
            f"dump's {revision}; drop it and import again."
        )


async def _load(
    db: Database, server: str, schema: str, manifest: Manifest, archive: zipfile.ZipFile
) -> None:
    """COPY every table in foreign-key order and verify, all in one transaction."""
    wanted = {t.name: t for t in manifest.tables}
    ordered = [wanted[name] for name in _template_tables() if name in wanted]
    async with db.transaction(server) as conn:
        await _pin_settings(conn)
        present = await _tables(conn, schema) - {VERSION_TABLE}
        if present != set(wanted):
            raise _bad(
                f"its tables {sorted(wanted)} do not match the schema at revision "
                f"{manifest.revision}, which has {sorted(present)}."
            )
        for dump in ordered:
            actual = await _columns(conn, schema, dump.name)
            if set(actual) != set(dump.columns):
                raise _bad(
                    f"table '{dump.name}' has columns {list(dump.columns)}; at revision "
                    f"{manifest.revision} it has {list(actual)}."
                )
        occupied = await _occupied(conn, schema)
        if occupied:
            raise _occupied_error(schema, server, occupied)

        driver = await _driver(conn)
        for dump in ordered:
            try:
                with archive.open(table_member(dump.name)) as source:
                    status = await driver.copy_to_table(
                        dump.name,
                        schema_name=schema,
                        columns=dump.columns,
                        source=cast(BinaryIO, source),
                        format="csv",
                        encoding="UTF8",
                    )
            except asyncpg.PostgresError as error:
                raise BadUserInput(
                    f"Table '{dump.name}' of the dump does not load: {error}"
                ) from None
            except (zipfile.BadZipFile, OSError) as error:
                raise _bad(f"table '{dump.name}' cannot be read ({error}).") from None
            if _copied(status) != dump.rows:
                raise BadUserInput(
                    f"Table '{dump.name}' loaded {_copied(status)} rows; the manifest says "
                    f"{dump.rows}. The dump is damaged; nothing was imported."
                )

        await _restore_sequences(conn, schema, manifest.sequences)

        for dump in ordered:
            rows, checksum = await _checksum(conn, schema, dump.name, dump.columns)
            if (rows, checksum) != (dump.rows, dump.checksum):
                raise BadUserInput(
                    f"Checksum mismatch in table '{dump.name}' ({rows} rows, {checksum}; the "
                    f"manifest says {dump.rows} rows, {dump.checksum}). The dump is damaged or "
                    "was edited; nothing was imported."
                )


async def _restore_sequences(
    conn: AsyncConnection, schema: str, sequences: Sequence[SequenceState]
) -> None:
    existing = await _sequences(conn, schema)
    for seq in sequences:
        if seq.name not in existing:
            raise _bad(f"sequence '{seq.name}' does not exist at the dump's revision.")
        if seq.last_value is not None:
            target = sql_cast(func.format("%I.%I", schema, seq.name), REGCLASS)
            await conn.execute(select(func.setval(target, seq.last_value, True)))


async def _register(conn: AsyncConnection, info: TerritoryInfo, server: str) -> None:
    """Register a territory that arrives from another federation, in its exported status."""
    inserted = await registry.insert_provisioning(
        conn,
        territory_id=info.id,
        name=info.name,
        kind=info.kind,
        parent_id=info.parent_id,
        db_server=server,
    )
    if not inserted:
        raise BadUserInput(f"Territory '{info.id}' was registered concurrently; import again.")
    await registry.set_status(conn, info.id, info.status)


__all__ = [
    "FORMAT_VERSION",
    "Manifest",
    "SequenceState",
    "TableDump",
    "TerritoryInfo",
    "checksum_query",
    "export_territory",
    "import_territory",
    "parse_manifest",
    "read_manifest",
]
