"""Batched forum reads: every page of children under any number of parents is ONE statement.

The keys of a batch arrive as arrays and are unnested with their ordinality (the key's index), and
a LATERAL subquery reads each key's page by keyset, so the statement text is the same whatever
the batch holds (compiled once, prepared once per connection).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from db.forums.records import (
    COMMENT_COLUMNS,
    FORUM_COLUMNS,
    TOPIC_COLUMNS,
    CommentRecord,
    ForumRecord,
    TopicRecord,
    comment,
    forum,
    topic,
)
from db.models import (
    forum_comments,
    forum_restrictions,
    forum_revisions,
    forum_strikes,
    forum_topics,
    forum_votes,
    forums,
)
from domain.forums import Author, CommentOrder, VoteValue

ForumCursor = tuple[int, uuid.UUID]
"""A forum's place among its siblings: (position, id)."""
ForumPageKey = tuple[uuid.UUID | None, ForumCursor | None, int]
"""(parent forum or None for the territory's root forums, cursor or None, rows to read)."""

TopicCursor = tuple[bool, datetime, uuid.UUID]
"""A topic's place in its forum's listing: (pinned, last activity, id), all descending."""
TopicPageKey = tuple[uuid.UUID, TopicCursor | None, int]

CommentCursor = tuple[int, uuid.UUID]
"""A comment's place in a page: (score, id); the score only matters for TOP."""
CommentPageKey = tuple[uuid.UUID, uuid.UUID | None, CommentOrder, CommentCursor | None, int]
"""(topic, parent comment or None for top-level comments, order, cursor, rows to read)."""

THREAD_MAX = 500
"""Most replies a whole-thread read returns under one comment."""

_UUIDS = ARRAY(UUID(as_uuid=True))


def _keys(*columns: tuple[str, Any]) -> Any:
    return (
        func.unnest(*(bindparam(f"k_{name}", type_=ARRAY(kind)) for name, kind in columns))
        .table_valued(*(name for name, _ in columns), with_ordinality="idx")
        .render_derived(name="k")
    )


async def _paged(
    conn: AsyncConnection, query: Select[Any], params: dict[str, Any], n: int
) -> list[list[Sequence[Any]]]:
    found: list[list[Sequence[Any]]] = [[] for _ in range(n)]
    for row in await conn.execute(query, params):
        found[row[0] - 1].append(row[1:])
    return found


# --- by id


async def forums_by_ids(
    conn: AsyncConnection, territory_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ForumRecord]:
    rows = await conn.execute(select(*FORUM_COLUMNS).where(forums.c.id.in_(list(ids))))
    return {r.id: r for r in (forum(territory_id, row) for row in rows)}


async def topics_by_ids(
    conn: AsyncConnection, territory_id: str, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, TopicRecord]:
    rows = await conn.execute(select(*TOPIC_COLUMNS).where(forum_topics.c.id.in_(list(ids))))
    return {r.id: r for r in (topic(territory_id, row) for row in rows)}


async def comments_by_ids(
    conn: AsyncConnection, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[CommentRecord, uuid.UUID]]:
    """Comments with the forum they are in (what decides who sees them)."""
    rows = await conn.execute(
        select(*COMMENT_COLUMNS, forum_topics.c.forum_id)
        .select_from(forum_comments.join(forum_topics))
        .where(forum_comments.c.id.in_(list(ids)))
    )
    return {row[0]: (comment(row), row[-1]) for row in rows}


# --- forum pages (children of a forum, or a territory's roots)

_FORUM_KEYS = _keys(
    ("parent", UUID(as_uuid=True)),
    ("pos", Integer),
    ("after", UUID(as_uuid=True)),
    ("lim", Integer),
)
_FORUM_PAGE = (
    select(*FORUM_COLUMNS)
    .where(
        or_(
            and_(_FORUM_KEYS.c.parent.is_(None), forums.c.parent_id.is_(None)),
            forums.c.parent_id == _FORUM_KEYS.c.parent,
        ),
        or_(
            _FORUM_KEYS.c.after.is_(None),
            tuple_(forums.c.position, forums.c.id) > tuple_(_FORUM_KEYS.c.pos, _FORUM_KEYS.c.after),
        ),
    )
    .order_by(forums.c.position, forums.c.id)
    .limit(_FORUM_KEYS.c.lim)
    .lateral("page")
)
_FORUM_PAGES = (
    select(_FORUM_KEYS.c.idx, *_FORUM_PAGE.c)
    .select_from(_FORUM_KEYS.join(_FORUM_PAGE, true()))
    .order_by(_FORUM_KEYS.c.idx, _FORUM_PAGE.c.position, _FORUM_PAGE.c.id)
)


async def forum_pages(
    conn: AsyncConnection, territory_id: str, keys: Sequence[ForumPageKey]
) -> list[list[ForumRecord]]:
    params = {
        "k_parent": [k[0] for k in keys],
        "k_pos": [None if k[1] is None else k[1][0] for k in keys],
        "k_after": [None if k[1] is None else k[1][1] for k in keys],
        "k_lim": [k[2] for k in keys],
    }
    pages = await _paged(conn, _FORUM_PAGES, params, len(keys))
    return [[forum(territory_id, row) for row in page] for page in pages]


# --- topic pages: pinned first, then the latest activity

_TOPIC_KEYS = _keys(
    ("forum", UUID(as_uuid=True)),
    ("pinned", Boolean),
    ("at", DateTime(timezone=True)),
    ("after", UUID(as_uuid=True)),
    ("lim", Integer),
)
_TOPIC_PAGE = (
    select(*TOPIC_COLUMNS)
    .where(
        forum_topics.c.forum_id == _TOPIC_KEYS.c.forum,
        forum_topics.c.hidden_at.is_(None),
        or_(
            _TOPIC_KEYS.c.after.is_(None),
            tuple_(forum_topics.c.is_pinned, forum_topics.c.last_activity_at, forum_topics.c.id)
            < tuple_(_TOPIC_KEYS.c.pinned, _TOPIC_KEYS.c.at, _TOPIC_KEYS.c.after),
        ),
    )
    .order_by(
        forum_topics.c.is_pinned.desc(),
        forum_topics.c.last_activity_at.desc(),
        forum_topics.c.id.desc(),
    )
    .limit(_TOPIC_KEYS.c.lim)
    .lateral("page")
)
_TOPIC_PAGES = (
    select(_TOPIC_KEYS.c.idx, *_TOPIC_PAGE.c)
    .select_from(_TOPIC_KEYS.join(_TOPIC_PAGE, true()))
    .order_by(
        _TOPIC_KEYS.c.idx,
        _TOPIC_PAGE.c.is_pinned.desc(),
        _TOPIC_PAGE.c.last_activity_at.desc(),
        _TOPIC_PAGE.c.id.desc(),
    )
)


async def topic_pages(
    conn: AsyncConnection, territory_id: str, keys: Sequence[TopicPageKey]
) -> list[list[TopicRecord]]:
    params = {
        "k_forum": [k[0] for k in keys],
        "k_pinned": [None if k[1] is None else k[1][0] for k in keys],
        "k_at": [None if k[1] is None else k[1][1] for k in keys],
        "k_after": [None if k[1] is None else k[1][2] for k in keys],
        "k_lim": [k[2] for k in keys],
    }
    pages = await _paged(conn, _TOPIC_PAGES, params, len(keys))
    return [[topic(territory_id, row) for row in page] for page in pages]


# --- comment pages: top-level comments of topics, or replies to comments

_COMMENT_KEYS = _keys(
    ("topic", UUID(as_uuid=True)),
    ("parent", UUID(as_uuid=True)),
    ("score", Integer),
    ("after", UUID(as_uuid=True)),
    ("lim", Integer),
)
_SCORE = forum_comments.c.up_votes - forum_comments.c.down_votes


def _comment_sort(order: CommentOrder, id_: Any, up: Any, down: Any) -> tuple[Any, ...]:
    if order is CommentOrder.TOP:
        return (-(up - down), id_)
    if order is CommentOrder.NEWEST:
        return (id_.desc(),)
    return (id_,)


def _comment_pages_query(order: CommentOrder, top_level: bool) -> Select[Any]:
    k = _COMMENT_KEYS
    c = forum_comments.c
    if top_level:
        parent = and_(c.topic_id == k.c.topic, c.parent_id.is_(None))
    else:
        parent = c.parent_id == k.c.parent
    if order is CommentOrder.TOP:
        after = tuple_(-_SCORE, c.id) > tuple_(-k.c.score, k.c.after)
    elif order is CommentOrder.NEWEST:
        after = c.id < k.c.after
    else:
        after = c.id > k.c.after
    page = (
        select(*COMMENT_COLUMNS)
        .where(parent, or_(k.c.after.is_(None), after))
        .order_by(*_comment_sort(order, c.id, c.up_votes, c.down_votes))
        .limit(k.c.lim)
        .lateral("page")
    )
    p = page.c
    return (
        select(k.c.idx, *p)
        .select_from(k.join(page, true()))
        .order_by(k.c.idx, *_comment_sort(order, p.id, p.up_votes, p.down_votes))
    )


_COMMENT_QUERIES = {
    (order, top): _comment_pages_query(order, top)
    for order in CommentOrder
    for top in (True, False)
}


async def comment_pages(
    conn: AsyncConnection, keys: Sequence[CommentPageKey]
) -> list[list[CommentRecord]]:
    """Pages of comments, one per key, in ONE statement per (order, level) present in the batch
    (at most six, whatever the number of keys)."""
    found: list[list[CommentRecord]] = [[] for _ in keys]
    groups: dict[tuple[CommentOrder, bool], list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault((key[2], key[1] is None), []).append(i)
    for (order, top), members in groups.items():
        group = [keys[i] for i in members]
        cursors = [(None, None) if k[3] is None else k[3] for k in group]
        params = {
            "k_topic": [k[0] for k in group],
            "k_parent": [k[1] for k in group],
            "k_score": [c[0] for c in cursors],
            "k_after": [c[1] for c in cursors],
            "k_lim": [k[4] for k in group],
        }
        pages = await _paged(conn, _COMMENT_QUERIES[(order, top)], params, len(members))
        for i, page in zip(members, pages, strict=True):
            found[i] = [comment(row) for row in page]
    return found


# --- whole threads: every reply under a comment, depth first, in one range of paths

_THREAD_KEYS = _keys(("root", UUID(as_uuid=True)))
_ROOT = forum_comments.alias("root")
_THREAD_PAGE = (
    select(*COMMENT_COLUMNS)
    .where(
        forum_comments.c.topic_id == _ROOT.c.topic_id,
        forum_comments.c.path > _ROOT.c.path + "/",
        forum_comments.c.path < _ROOT.c.path + "0",  # '0' follows '/' in byte order
    )
    .order_by(forum_comments.c.path)
    .limit(THREAD_MAX)
    .lateral("page")
)
_THREADS = (
    select(_THREAD_KEYS.c.idx, *_THREAD_PAGE.c)
    .select_from(
        _THREAD_KEYS.join(_ROOT, _ROOT.c.id == _THREAD_KEYS.c.root).join(_THREAD_PAGE, true())
    )
    .order_by(_THREAD_KEYS.c.idx, _THREAD_PAGE.c.path)
)


async def threads(conn: AsyncConnection, roots: Sequence[uuid.UUID]) -> list[list[CommentRecord]]:
    """Every reply under each root comment (any depth), depth first by time, one statement."""
    pages = await _paged(conn, _THREADS, {"k_root": list(roots)}, len(roots))
    return [[comment(row) for row in page] for page in pages]


# --- what a person's standing depends on


async def votes_of(
    conn: AsyncConnection, voter: Author, comment_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, VoteValue]:
    rows = await conn.execute(
        select(forum_votes.c.comment_id, forum_votes.c.value).where(
            forum_votes.c.voter_territory == voter[0],
            forum_votes.c.voter_id == voter[1],
            forum_votes.c.comment_id.in_(list(comment_ids)),
        )
    )
    return {row[0]: VoteValue(str(row[1])) for row in rows}


Sanctions = tuple[tuple[datetime, ...], bool, datetime | None]
"""A person's strikes (when each was issued), whether a restriction row stands, and its end."""


async def sanctions_of(conn: AsyncConnection, people: Sequence[Author]) -> dict[Author, Sanctions]:
    """Strikes and restriction of each person, in one statement."""
    keys = _keys(("t", String), ("u", UUID(as_uuid=True)))
    strikes = (
        select(func.coalesce(func.array_agg(forum_strikes.c.created_at), []))
        .where(forum_strikes.c.user_territory == keys.c.t, forum_strikes.c.user_id == keys.c.u)
        .scalar_subquery()
    )
    query = select(
        keys.c.t,
        keys.c.u,
        strikes,
        select(true())
        .where(
            forum_restrictions.c.user_territory == keys.c.t,
            forum_restrictions.c.user_id == keys.c.u,
        )
        .exists(),
        select(forum_restrictions.c.until)
        .where(
            forum_restrictions.c.user_territory == keys.c.t,
            forum_restrictions.c.user_id == keys.c.u,
        )
        .scalar_subquery(),
    ).select_from(keys)
    rows = await conn.execute(query, {"k_t": [p[0] for p in people], "k_u": [p[1] for p in people]})
    return {(row[0], row[1]): (tuple(row[2] or ()), bool(row[3]), row[4]) for row in rows}


Revision = tuple[str | None, str, datetime]
"""An earlier version of a topic or comment: (title, body, when it was written)."""


async def revisions_of(
    conn: AsyncConnection, targets: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Revision]]:
    """Earlier versions of each topic or comment, oldest first, in one statement."""
    rows = await conn.execute(
        select(
            forum_revisions.c.target_id,
            forum_revisions.c.title,
            forum_revisions.c.body,
            forum_revisions.c.written_at,
        )
        .where(forum_revisions.c.target_id.in_(list(targets)))
        .order_by(forum_revisions.c.target_id, forum_revisions.c.id)
    )
    found: dict[uuid.UUID, list[Revision]] = {}
    for row in rows:
        found.setdefault(row[0], []).append((row[1], row[2], row[3]))
    return found
