"""A finished request leaves nothing for the garbage collector: its reads die with it."""

from __future__ import annotations

import gc

import httpx

from db.engines import Database
from db.forums.records import CommentRecord
from tests.authkit import account, account_key, call
from tests.forums.forumkit import fill_forums, ok
from tests.forums.test_forum_statement_counts import SHAPE, TERRITORY


def _live(kind: type) -> int:
    return sum(1 for obj in gc.get_objects() if type(obj) is kind)


async def test_a_forum_page_frees_its_records_without_the_collector(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    """Each loader's batch function refers back to the request's registry, so registry, loaders
    and cached records were one reference cycle: ~18,000 objects per benchmark page that only
    the cyclic collector freed, in pauses of up to 200 ms under load. The registry now drops
    its caches when the operation ends, and reference counting frees the records at once."""
    viewer = await account(auth_client, db, TERRITORY)
    await fill_forums(db, TERRITORY, 4, 3, 4, [account_key(viewer)])
    ok(await call(auth_client, SHAPE, {"t": TERRITORY}, viewer["accessToken"]))  # warm caches
    gc.collect()
    gc.disable()
    try:
        before = _live(CommentRecord)
        data = ok(await call(auth_client, SHAPE, {"t": TERRITORY}, viewer["accessToken"]))
        after = _live(CommentRecord)
    finally:
        gc.enable()
    shown = [t for f in data["forums"]["nodes"] for t in f["topics"]["nodes"]]
    assert len(shown) == 12  # the page was read: 4 forums x 3 topics
    assert after == before
