"""me.notifications runs a fixed number of statements, however many notifications it shows."""

from __future__ import annotations

import httpx

from db.engines import Database
from tests.authkit import account, call
from tests.conftest import StatementCounter
from tests.notifications.conftest import envelope_of, offline_notifier
from tests.notifications.test_notification_store import granted, ok, role_changed

QUERY = """
{
  me {
    unreadNotificationCount
    notifications(first: 100) {
      nodes { id kind read createdAt subject { id } actor { id displayName } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


async def test_statements_do_not_grow_with_notifications(
    auth_client: httpx.AsyncClient, db: Database, statements: StatementCounter
) -> None:
    counts = []
    for n in (2, 30):
        alice = await account(auth_client, db, "dk")
        manager = await account(auth_client, db, "dk", role="territory_manager")
        notifier = offline_notifier(db)
        for i in range(n):
            event = granted(alice) if i % 2 else role_changed(alice)
            await notifier.apply(envelope_of(event, actor=manager["user"]["id"]))
        statements.statements.clear()
        body = ok(await call(auth_client, QUERY, token=alice["accessToken"]))
        counts.append(statements.count)
        shown = body["me"]["notifications"]["nodes"]
        assert len(shown) == n
        assert all(note["actor"]["id"] for note in shown)
    # session, page, unread count, territory, communities, profiles: measured 6.
    assert counts[0] == counts[1] <= 6, counts
