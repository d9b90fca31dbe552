"""The collection job: delete files nothing references, and unpin what no territory stores.

``collect_once`` is one idempotent pass, safe with any number of replicas running it at once:
each territory's candidates are claimed with ``FOR UPDATE SKIP LOCKED`` (two collectors never
take the same row), deleted with their variants and a ``file.deleted`` event in the same
transaction, and their CIDs are then released under the per-CID lock of files/pins.py (unpinned
only when no territory stores them). A pass interrupted between commit and unpin leaves a pin
without a row, which costs disk but never a broken file; the next upload of the same bytes
reuses it. A file is a candidate once it is older than ``FILE_UNREFERENCED_GRACE_SECONDS`` and
nothing (an avatar, later a post or course item) references it: the grace period gives an
upload time to become referenced.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from db import events as outbox
from db import files as file_db
from db import territories as registry
from db.engines import Database
from domain.events import FileDeleted, NodeIdEncoder, seal
from files.pins import release
from files.storage import FileStorage
from unityplan.settings import MAIN_SERVER

log = logging.getLogger("unityplan.files.collection")


@dataclass
class CollectionReport:
    deleted: int = 0
    unpinned: list[str] = field(default_factory=list)


async def collect_once(
    db: Database,
    storage: FileStorage,
    node_id: NodeIdEncoder,
    *,
    now: datetime | None = None,
    batch: int = 100,
) -> CollectionReport:
    """One pass over every territory this process reaches; see the module's docstring."""
    before = (now or datetime.now(UTC)) - timedelta(seconds=storage.config.grace_seconds)
    report = CollectionReport()
    async with db.connect(MAIN_SERVER) as conn:
        records = await registry.all_records(conn)
    known = set(db.server_keys)
    for record in records:
        if record.db_server not in known:
            continue
        while True:
            async with db.transaction(record.db_server, record.id) as conn:
                deleted = await file_db.claim_unreferenced(conn, before, batch)
                events = [
                    seal(
                        FileDeleted(
                            territory_id=record.id,
                            file_id=f.id,
                            owner_id=f.owner_id,
                            purpose=f.purpose,
                        ),
                        actor=None,
                        node_id=node_id,
                    )
                    for f in deleted
                    if f.variant_of is None
                ]
                await outbox.insert_events(conn, record.id, events)
            if not deleted:
                break
            report.deleted += len(events)
            report.unpinned += await release(db, storage.node, [f.cid for f in deleted])
            if len(events) < batch:
                break
    if report.deleted:
        log.info("collected %d files, unpinned %d CIDs", report.deleted, len(report.unpinned))
    return report
