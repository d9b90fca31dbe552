"""The roadmap's moderation scenario through the public API: a topic, comments, a flag, a hidden
comment, three warnings that restrict the author, clear codes, and a log of every step."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx
from sqlalchemy import select

from db.engines import Database
from db.models import outbox
from domain.events import Envelope
from graph import ids
from tests.authkit import account, account_key, call, codes
from tests.forums.forumkit import ADD_COMMENT, CREATE_TOPIC, new_comment, new_forum, new_topic, ok
from tests.notifications.conftest import offline_notifier

FLAG = """mutation($i: FlagForumContentInput!) { flagForumContent(input: $i) { reason } }"""
HIDE = """mutation($i: ModerateForumContentInput!) { hideForumContent(input: $i) {
  entry { action } } }"""
WARN = """mutation($i: ModerateForumContentInput!) { warnForumAuthor(input: $i) {
  activeStrikes restricted entry { action subject { userId } } } }"""
UNRESTRICT = """mutation($i: UnrestrictForumUserInput!) { unrestrictForumUser(input: $i) {
  entry { action } } }"""
QUEUE = """query($id: ID!) { node(id: $id) { ... on Forum {
  reviewQueue { nodes { reason note targetKind targetId flaggedBy { userId } } }
  moderationLog(first: 20) { nodes { action targetKind targetId detail reason
    moderator { userId } subject { userId } } } } } }"""
PREFS = """mutation($i: UpdateNotificationPreferencesInput!) {
  updateNotificationPreferences(input: $i) { notificationPreferences { quietHours { start } } } }"""
NOTES = "{ me { notifications(first: 20) { nodes { kind subject { id } } } } }"
COMMENT = (
    "query($id: ID!) { node(id: $id) { ... on ForumComment { body isHidden author { userId } } } }"
)


async def moderated_events(db: Database, territory: str) -> list[dict[str, Any]]:
    async with db.connect("main", territory) as conn:
        rows = await conn.execute(select(outbox.c.envelope).order_by(outbox.c.id))
    return [r[0] for r in rows if r[0]["type"].startswith("forum.")]


async def test_flag_hide_three_strikes_restrict_and_the_log(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    moderator = await account(auth_client, db, "dk", role="moderator")
    manager = await account(auth_client, db, "dk", role="territory_manager")
    author, reporter = await account(auth_client, db, "dk"), await account(auth_client, db, "dk")
    mod, bad = moderator["accessToken"], author["accessToken"]
    forum = await new_forum(auth_client, manager["accessToken"], "dk", "Moderated")
    topic = await new_topic(auth_client, bad, forum, "Topic")
    comments = [await new_comment(auth_client, bad, topic, f"rude {i}") for i in range(3)]

    flag = {"targetId": comments[0], "reason": "INAPPROPRIATE", "note": "Rude."}
    ok(await call(auth_client, FLAG, {"i": flag}, reporter["accessToken"]))
    queue = ok(await call(auth_client, QUEUE, {"id": forum}, mod))["node"]["reviewQueue"]
    assert queue["nodes"] == [
        {
            "reason": "INAPPROPRIATE",
            "note": "Rude.",
            "targetKind": "COMMENT",
            "targetId": comments[0],
            "flaggedBy": {"userId": reporter["user"]["id"]},
        }
    ]
    # The queue and the log are for moderators only.
    mine = ok(await call(auth_client, QUEUE, {"id": forum}, reporter["accessToken"]))["node"]
    assert mine == {"reviewQueue": None, "moderationLog": None}

    ok(await call(auth_client, HIDE, {"i": {"targetId": comments[0], "reason": "Rude."}}, mod))
    shown = ok(await call(auth_client, COMMENT, {"id": comments[0]}, reporter["accessToken"]))
    assert shown["node"] == {"body": None, "isHidden": True, "author": None}
    queue = ok(await call(auth_client, QUEUE, {"id": forum}, mod))["node"]["reviewQueue"]
    assert queue["nodes"] == []

    warned = []
    for comment in comments:
        body = ok(await call(auth_client, WARN, {"i": {"targetId": comment, "reason": "CoC"}}, mod))
        warned.append(body["warnForumAuthor"])
    assert [(w["activeStrikes"], w["restricted"]) for w in warned] == [
        (1, False),
        (2, False),
        (3, True),
    ]
    refused_comment = await call(
        auth_client, ADD_COMMENT, {"i": {"topicId": topic, "body": "again"}}, bad
    )
    assert codes(refused_comment) == ["POSTING_RESTRICTED"]
    refused_topic = await call(
        auth_client, CREATE_TOPIC, {"i": {"forumId": forum, "title": "x", "body": "y"}}, bad
    )
    assert codes(refused_topic) == ["POSTING_RESTRICTED"]
    # Others still post.
    await new_comment(auth_client, reporter["accessToken"], topic, "fine")

    log = ok(await call(auth_client, QUEUE, {"id": forum}, mod))["node"]["moderationLog"]
    steps = [(e["action"], e["targetKind"], e["detail"]) for e in reversed(log["nodes"])]
    assert steps == [
        ("FLAGGED", "COMMENT", "inappropriate"),
        ("HIDDEN", "COMMENT", None),
        ("WARNED", "USER", None),
        ("WARNED", "USER", None),
        ("WARNED", "USER", None),
        ("RESTRICTED", "USER", "third_strike"),
    ]
    assert {e["subject"]["userId"] for e in log["nodes"]} == {author["user"]["id"]}
    assert log["nodes"][0]["targetId"] == author["user"]["id"]
    assert {e["moderator"]["userId"] for e in log["nodes"][:-1]} == {moderator["user"]["id"]}

    # The author is told of each step: forum.moderated names them (ids only).
    events = [
        e
        for e in await moderated_events(db, "dk")
        if e["type"] == "forum.moderated" and e["subjects"]["forum"] == forum
    ]
    _, author_key = account_key(author)
    assert [e["payload"]["action"] for e in events] == [
        "hidden",
        "warned",
        "warned",
        "warned",
        "restricted",
    ]
    assert {(e["payload"]["subject_territory"], e["payload"]["subject_id"]) for e in events} == {
        ("dk", str(author_key))
    }

    lifted = {"forumId": forum, "userId": author["user"]["id"], "reason": "Apologised."}
    ok(await call(auth_client, UNRESTRICT, {"i": lifted}, mod))
    await new_comment(auth_client, bad, topic, "sorry")

    # ... as notifications: each moderator's step, and the reporter's comment on their topic
    # once they follow community activity (off by default); their own comments and the flag
    # are not news to them.
    activity = {"settings": [{"event": "COMMUNITY_ACTIVITY", "email": False, "push": True}]}
    ok(await call(auth_client, PREFS, {"i": activity}, bad))
    notifier = offline_notifier(db)
    for envelope in await moderated_events(db, "dk"):
        if forum in envelope["subjects"].values():
            await notifier.apply(Envelope.from_json(envelope))
    notes = ok(await call(auth_client, NOTES, token=bad))["me"]["notifications"]["nodes"]
    assert Counter(n["kind"] for n in notes) == {"FORUM_MODERATED": 6, "FORUM_REPLY": 1}
    [reply] = [n["subject"]["id"] for n in notes if n["kind"] == "FORUM_REPLY"]
    assert reply not in comments  # the reporter's comment, not one of the author's
    reporter_notes = ok(await call(auth_client, NOTES, token=reporter["accessToken"]))
    assert reporter_notes["me"]["notifications"]["nodes"] == []


async def test_members_cannot_moderate(auth_client: httpx.AsyncClient, db: Database) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    member = await account(auth_client, db, "dk")
    forum = await new_forum(auth_client, manager["accessToken"], "dk")
    topic = await new_topic(auth_client, manager["accessToken"], forum)
    for document, target in ((HIDE, topic), (WARN, topic)):
        body = await call(auth_client, document, {"i": {"targetId": target}}, member["accessToken"])
        assert codes(body) == ["FORBIDDEN"]


DISMISS = """mutation($i: ModerateForumContentInput!) { dismissForumFlags(input: $i) {
  entry { action } } }"""
RESTORE = """mutation($i: ModerateForumContentInput!) { restoreForumContent(input: $i) {
  entry { action } } }"""
ESCALATE = """mutation($i: EscalateForumContentInput!) { escalateForumContent(input: $i) {
  entry { action detail } } }"""
RESTRICT = """mutation($i: RestrictForumUserInput!) { restrictForumUser(input: $i) {
  entry { action targetKind } } }"""
SET_OPEN = """mutation($i: SetForumOpenInput!) { setForumOpen(input: $i) { forum { isOpen } } }"""
VIEW = (
    """mutation($i: RecordForumTopicViewInput!) { recordForumTopicView(input: $i) { viewCount } }"""
)


async def test_dismiss_restore_escalate_restrict_until_and_closing_a_forum(
    auth_client: httpx.AsyncClient, db: Database
) -> None:
    moderator = await account(auth_client, db, "dk", role="moderator")
    manager = await account(auth_client, db, "dk", role="territory_manager")
    member = await account(auth_client, db, "dk")
    mod, token = moderator["accessToken"], member["accessToken"]
    forum = await new_forum(auth_client, manager["accessToken"], "dk", "Steps")
    topic = await new_topic(auth_client, token, forum)
    comment = await new_comment(auth_client, token, topic, "borderline")
    assert ok(await call(auth_client, VIEW, {"i": {"topicId": topic}}, token)) == {
        "recordForumTopicView": {"viewCount": 1}
    }
    ok(await call(auth_client, FLAG, {"i": {"targetId": comment, "reason": "SPAM"}}, mod))
    ok(await call(auth_client, DISMISS, {"i": {"targetId": comment}}, mod))
    queue = ok(await call(auth_client, QUEUE, {"id": forum}, mod))["node"]["reviewQueue"]
    assert queue["nodes"] == []
    ok(await call(auth_client, HIDE, {"i": {"targetId": topic}}, mod))
    # A hidden topic leaves the listing; its author and the moderators still reach it.
    listing = "query($id: ID!) { node(id: $id) { ... on Forum { topics { nodes { id } } } } }"
    assert ok(await call(auth_client, listing, {"id": forum}, mod))["node"]["topics"]["nodes"] == []
    other = await account(auth_client, db, "dk")
    hidden = await call(
        auth_client, "query($id: ID!) { node(id: $id) { id } }", {"id": topic}, other["accessToken"]
    )
    assert codes(hidden) == ["NOT_FOUND"]
    ok(await call(auth_client, RESTORE, {"i": {"targetId": topic}}, mod))
    escalated = ok(
        await call(auth_client, ESCALATE, {"i": {"targetId": comment, "to": "GLOBAL_ADMINS"}}, mod)
    )
    assert escalated["escalateForumContent"]["entry"] == {
        "action": "ESCALATED",
        "detail": "global_admins",
    }
    ended = {"forumId": forum, "userId": member["user"]["id"], "until": "2000-01-01T00:00:00Z"}
    ok(await call(auth_client, RESTRICT, {"i": ended}, mod))
    await new_comment(auth_client, token, topic, "a restriction that ended long ago")
    ok(
        await call(
            auth_client, RESTRICT, {"i": {"forumId": forum, "userId": member["user"]["id"]}}, mod
        )
    )
    body = await call(auth_client, ADD_COMMENT, {"i": {"topicId": topic, "body": "no"}}, token)
    assert codes(body) == ["POSTING_RESTRICTED"]
    ok(await call(auth_client, SET_OPEN, {"i": {"forumId": forum, "isOpen": False}}, mod))
    body = await call(
        auth_client,
        CREATE_TOPIC,
        {"i": {"forumId": forum, "title": "x", "body": "y"}},
        other["accessToken"],
    )
    assert codes(body) == ["FORUM_CLOSED"]
    log = ok(await call(auth_client, QUEUE, {"id": forum}, mod))["node"]["moderationLog"]
    assert [e["action"] for e in reversed(log["nodes"])] == [
        "FLAGGED",
        "FLAG_DISMISSED",
        "HIDDEN",
        "RESTORED",
        "ESCALATED",
        "RESTRICTED",
        "RESTRICTED",
    ]


async def test_who_a_moderator_may_restrict(auth_client: httpx.AsyncClient, db: Database) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    admin = await account(auth_client, db, "global", role="global_admin")
    swede = await account(auth_client, db, "se")
    dk_forum = await new_forum(auth_client, manager["accessToken"], "dk")
    world = await new_forum(auth_client, admin["accessToken"], "global", "World")
    wrong = await call(
        auth_client,
        RESTRICT,
        {"i": {"forumId": dk_forum, "userId": swede["user"]["id"]}},
        manager["accessToken"],
    )
    assert codes(wrong) == ["BAD_USER_INPUT"]
    nobody = ids.encode("User", "se", str(uuid.uuid4()))
    missing = await call(
        auth_client, RESTRICT, {"i": {"forumId": world, "userId": nobody}}, admin["accessToken"]
    )
    assert codes(missing) == ["NOT_FOUND"]
    ok(
        await call(
            auth_client,
            RESTRICT,
            {"i": {"forumId": world, "userId": swede["user"]["id"]}},
            admin["accessToken"],
        )
    )
    topic_body = {"forumId": world, "title": "x", "body": "y"}
    refused = await call(auth_client, CREATE_TOPIC, {"i": topic_body}, swede["accessToken"])
    assert codes(refused) == ["POSTING_RESTRICTED"]


async def test_no_comments_on_a_hidden_topic(auth_client: httpx.AsyncClient, db: Database) -> None:
    manager = await account(auth_client, db, "dk", role="territory_manager")
    author = await account(auth_client, db, "dk")
    forum = await new_forum(auth_client, manager["accessToken"], "dk")
    topic = await new_topic(auth_client, author["accessToken"], forum)
    ok(await call(auth_client, HIDE, {"i": {"targetId": topic}}, manager["accessToken"]))
    body = await call(
        auth_client, ADD_COMMENT, {"i": {"topicId": topic, "body": "hm"}}, author["accessToken"]
    )
    assert codes(body) == ["TOPIC_CLOSED"]
