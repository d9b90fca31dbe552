"""The level executor (graph/level_execution.py) answers exactly as graphql-core's standard one.

Every document is sent, by the same caller, to an app executing queries a level at a time and to
one executing them field by field, on the same database; the bodies must be the same bytes (data,
errors, key order), and the levels app must say (graphql_executions_total) that it answered
itself, or why it handed the request to the standard executor.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from db.engines import Database
from graph.level_execution import BATCH
from graph.schema import schema
from tests.authkit import account, account_key, award_badge, call, define_badge
from tests.conftest import StatementCounter
from tests.execution.conftest import Pair, assert_same, executions, send
from tests.forums.forumkit import fill_forums, new_comment, new_forum, new_topic, ok

TERRITORY = "dk"
VOTE = """mutation($i: VoteForumCommentInput!) { voteForumComment(input: $i) {
  previousVote comment { id upVotes downVotes score viewerVote } } }"""
HIDE = """mutation($i: ModerateForumContentInput!) { hideForumContent(input: $i) {
  entry { action } } }"""
DELETE = "mutation($i: DeleteForumCommentInput!) { deleteForumComment(input: $i) { deletedId } }"


@dataclass
class Seed:
    """What the differential documents read: a forum tree of the seed's own in dk."""

    member: str  # the authenticated caller's access token
    other: str  # another member's token (the harness's own failure test)
    root: str
    child_a: str
    child_empty: str
    topic: str  # the busiest topic: replies, votes, a hidden and a deleted comment
    comment: str  # a top-level comment of ``topic`` with a thread under it
    hidden: str
    deleted: str
    author_user: str  # a User id of an author holding badges
    cursor: str  # pageInfo.endCursor of the first page of two of ``child_a``'s topics
    voted: str  # a comment the member voted UP on (the mutation's target)


@pytest.fixture(scope="module")
async def seed(pair: Pair, db: Database) -> Seed:
    client = pair.levels
    manager = await account(client, db, TERRITORY, role="territory_manager")
    moderator = await account(client, db, TERRITORY, role="moderator")
    alice, bob, carol = [await account(client, db, TERRITORY) for _ in range(3)]
    viewer = await account(client, db, TERRITORY)
    gardener = await define_badge(db, TERRITORY, name="Gardener")
    mentor = await define_badge(db, TERRITORY, name="Mentor", validity_days=30)
    weaver = await define_badge(db, "global", name="Weaver")
    for person in (alice, bob, carol):
        await award_badge(db, person, gardener)
    for person in (alice, bob):
        await award_badge(db, person, mentor)
    await award_badge(db, carol, weaver)
    await award_badge(db, carol, mentor, now=datetime.now(UTC) - timedelta(days=5))

    mgr = manager["accessToken"]
    a, b, c = alice["accessToken"], bob["accessToken"], carol["accessToken"]
    root = await new_forum(client, mgr, TERRITORY, "Diff root", description="The tree's root.")
    child_a = await new_forum(client, mgr, TERRITORY, "Diff A", parentId=root)
    await new_forum(client, mgr, TERRITORY, "Diff B", parentId=root, isOpen=False)
    child_empty = await new_forum(client, mgr, TERRITORY, "Diff empty", parentId=root)

    topic = await new_topic(client, a, child_a, "Seeds", tags=["seeds", "repair-tips"])
    second = await new_topic(client, b, child_a, "Tools", tags=[])
    await new_topic(client, c, child_a, "Soil", tags=["soil"])
    await new_topic(client, a, child_a, "Compost")
    await new_topic(client, c, root, "At the root")
    comment = await new_comment(client, b, topic, "first")
    reply = await new_comment(client, a, topic, "a reply", comment)
    deeper = await new_comment(client, c, topic, "deeper", reply)
    await new_comment(client, b, topic, "deepest", deeper)
    hidden = await new_comment(client, c, topic, "rude")
    deleted = await new_comment(client, a, topic, "regretted")
    await new_comment(client, b, topic, "<b>kept as given</b>")
    await new_comment(client, a, topic, "a reply to the hidden one", hidden)
    await new_comment(client, a, second, "on tools")
    await new_comment(client, c, second, "more on tools")

    v = viewer["accessToken"]
    for token, target, vote in ((v, comment, "UP"), (b, comment, "UP"), (a, hidden, "DOWN")):
        ok(await call(client, VOTE, {"i": {"commentId": target, "vote": vote}}, token))
    ok(await call(client, VOTE, {"i": {"commentId": deeper, "vote": "DOWN"}}, v))
    mod = moderator["accessToken"]
    ok(await call(client, HIDE, {"i": {"targetId": hidden, "reason": "Rude."}}, mod))
    ok(await call(client, DELETE, {"i": {"commentId": deleted}}, a))

    page = ok(
        await call(
            client,
            'query($f: ID!) { forums(territory: "dk", parentId: $f) { nodes { id '
            "topics(first: 2) { pageInfo { endCursor } } } } }",
            {"f": root},
            v,
        )
    )
    (first_child,) = [f for f in page["forums"]["nodes"] if f["id"] == child_a]
    return Seed(
        member=v,
        other=alice["accessToken"],
        root=root,
        child_a=child_a,
        child_empty=child_empty,
        topic=topic,
        comment=comment,
        hidden=hidden,
        deleted=deleted,
        author_user=alice["user"]["id"],
        cursor=first_child["topics"]["pageInfo"]["endCursor"],
        voted=comment,
    )


# --- the catalogue: (document, variables of the seed, executor per caller)

Variables = Callable[[Seed], dict[str, Any]]


@dataclass
class Case:
    query: str
    variables: Variables = lambda _s: {}
    anonymous: str = "levels"
    member: str = "levels"


def tree(s: Seed) -> dict[str, Any]:
    return {"t": TERRITORY, "root": s.root}


SHAPE = """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root, first: 10) {
  nodes { id name topics(first: 10) { nodes { id title comments(first: 10) { nodes { id body
    author { userId badges { badge { id name } } } } } } } } } }"""

CASES: dict[str, Case] = {
    "forum shape": Case(SHAPE, tree, anonymous="error"),
    "forum shape, the whole territory": Case(
        """{ forums(territory: "dk", first: 10) { nodes { id name topics(first: 5) { nodes {
          id title comments(first: 5) { nodes { id body
            author { userId badges { badge { id name } } } } } } } } } }"""
    ),
    "aliases: one field, different arguments": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          name few: topics(first: 1) { nodes { title } } many: topics(first: 5) { nodes {
            title
            oldest: comments(first: 6) { nodes { body score } }
            top: comments(first: 6, orderBy: TOP) { nodes { body score } }
            newest: comments(first: 2, orderBy: NEWEST) { nodes { body } } } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "named fragments, nested": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) {
          nodes { ...ForumParts } } }
        fragment ForumParts on Forum { id name topics(first: 5) { nodes { ...TopicParts } } }
        fragment TopicParts on ForumTopic { title author { ...AuthorParts }
          comments(first: 8) { nodes { ...CommentParts } } }
        fragment CommentParts on ForumComment { id body depth isDeleted isHidden
          author { ...AuthorParts } }
        fragment AuthorParts on ForumAuthor { userId badges { validUntil badge { ...BadgeParts } } }
        fragment BadgeParts on Badge { id name level version }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "inline fragments, with and without a type": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          ... on Forum { name } ... { id topics(first: 10) { nodes { ... on ForumTopic { title
            comments(first: 10) { nodes { ... { body } id ... on ForumComment { depth } } } } } } }
          name } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "__typename at every level": Case(
        """query($t: String!, $root: ID!) { __typename forums(territory: $t, parentId: $root) {
          __typename pageInfo { __typename hasNextPage } nodes { __typename name
            topics(first: 10) { __typename nodes { __typename title
              author { __typename badges { __typename badge { __typename name } } } } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "@include/@skip true": Case(
        """query($t: String!, $root: ID!, $yes: Boolean!, $no: Boolean!) {
          forums(territory: $t, parentId: $root) { nodes { name
            topics(first: 10) @include(if: $yes) { nodes { title tags @skip(if: $no)
              comments(first: 10) @skip(if: $yes) { nodes { body } }
              author @include(if: $no) { userId } } } } } }""",
        lambda s: {**tree(s), "yes": True, "no": False},
        anonymous="error",
    ),
    "@include/@skip false": Case(
        """query($t: String!, $root: ID!, $yes: Boolean!, $no: Boolean!) {
          forums(territory: $t, parentId: $root) { nodes { name
            topics(first: 10) @include(if: $yes) { nodes { title tags @skip(if: $no)
              comments(first: 10) @skip(if: $yes) { nodes { body } }
              author @include(if: $no) { userId } } } } } }""",
        lambda s: {**tree(s), "yes": False, "no": True},
        anonymous="error",
    ),
    "@include/@skip on objects and scalars only": Case(
        """query($t: String!, $root: ID!, $yes: Boolean!, $no: Boolean!) {
          forums(territory: $t, parentId: $root) { nodes { name @include(if: $yes)
            id @skip(if: $yes) parent @include(if: $yes) { name } topics(first: 10) { nodes {
              title @skip(if: $no) isPinned @include(if: $no)
              author @include(if: $yes) { userId } } } } } }""",
        lambda s: {**tree(s), "yes": True, "no": False},
        anonymous="error",
    ),
    "@include(if: true)/@skip(if: false) on list fields": Case(
        """{ socialPlatforms @include(if: true) { key }
          codeOfConduct { version languages @skip(if: false) } }"""
    ),
    "every sub-field skipped, fields merged, directives on fragments": Case(
        """query($t: String!, $root: ID!, $yes: Boolean!) {
          forums(territory: $t, parentId: $root) { nodes {
            topics(first: 5) { nodes { title author { userId @skip(if: $yes) } } }
            topics(first: 5) { nodes { id author { ...Who @include(if: $yes) } } }
            ... @skip(if: $yes) { name } ...Named @include(if: $yes) } } }
        fragment Who on ForumAuthor { badges { badge { name } } }
        fragment Named on Forum { name level }""",
        lambda s: {**tree(s), "yes": True},
        anonymous="error",
    ),
    "the federation's _service": Case("{ _service { sdl } }"),
    "variables for arguments": Case(
        """query($t: String!, $root: ID!, $n: Int, $order: ForumCommentOrder!) {
          forums(territory: $t, parentId: $root, first: $n) { nodes { name
            topics(first: $n) { nodes { title comments(first: $n, orderBy: $order) {
              nodes { body score } } } } } } }""",
        lambda s: {**tree(s), "n": 3, "order": "TOP"},
        anonymous="error",
    ),
    "edges, cursors, pageInfo": Case(
        """query($f: ID!) { forums(territory: "dk", parentId: $f, first: 2) {
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
          edges { cursor node { name topics(first: 2) {
            pageInfo { hasNextPage endCursor } edges { cursor node { title } } } } } } }""",
        lambda s: {"f": s.root},
        anonymous="error",
    ),
    "a second page via after": Case(
        """query($f: ID!, $after: String) { forums(territory: "dk", parentId: $f) { nodes { id
          topics(first: 2, after: $after) { pageInfo { hasNextPage endCursor }
            nodes { title commentCount } } } } }""",
        lambda s: {"f": s.root, "after": s.cursor},
        anonymous="error",
    ),
    "nullable fields that are null: hidden, deleted, never edited": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          communityId parent { name } topics(first: 10) { nodes { editedAt revisions { body }
            comments(first: 10) { nodes { body isHidden isDeleted parentId editedAt viewerVote
              revisions { body } author { userId profile { displayName } } } } } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "enums": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          level visibility isOpen topics(first: 10) { nodes { comments(first: 10) { nodes {
            viewerVote author { badges { badge { level permissions } } } } } } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "lists of scalars: tags, badge ids": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          badgesToRead badgesToPost topics(first: 10) { nodes { title tags } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "DateTime fields": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          topics(first: 10) { nodes { createdAt editedAt lastActivityAt
            comments(first: 10) { nodes { createdAt editedAt
              author { badges { validUntil badge { createdAt updatedAt } } } } } } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "several root fields": Case(
        """query($t: String!, $root: ID!) {
          territories(first: 3) { nodes { code name } }
          forums(territory: $t, parentId: $root) { nodes { name } }
          socialPlatforms { key name hosts federated }
          codeOfConduct(language: "da") { version language languages currentVersion }
          validateInvitation(token: "dk.not-a-token") { valid code territory emailRequired }
          badges(level: GLOBAL) { nodes { name } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "me": Case(
        """{ me { id username email displayName createdAt territory { code name }
          roles { role territory } communities { role } permissions { permission level }
          badges(first: 10, includeExpired: true) { nodes { status validUntil badge { name }
            history { action version } } } } }""",
        anonymous="error",
    ),
    "territories and their communities": Case(
        """{ territories { pageInfo { hasNextPage endCursor } nodes { id code name kind
          createdAt parent { code name } communities(first: 3) { edges { cursor node {
            slug name description visibility createdAt territory { code } viewerRole } } } } } }"""
    ),
    "a territory's communities and their members": Case(
        """{ territory(id: "dk") { code name kind } communities(territory: "dk", first: 5) {
          pageInfo { hasNextPage } nodes { slug name viewerRole territory { code }
            members(first: 5) { nodes { role joinedAt userId profile { displayName } } } } } }"""
    ),
    "a profile": Case(
        """query($id: ID!) { profile(id: $id) { id territory displayName bio location
          primaryLanguage languages { language level } socialLinks { url }
          user { username } } }""",
        lambda s: {"id": s.author_user},
    ),
    "badges of a territory": Case(
        """{ badges(level: TERRITORY, territory: "dk", first: 50) { pageInfo { hasNextPage }
          nodes { id level communityId coreKey version name description criteria image category
            permissions validityDays rules { event threshold } createdAt updatedAt
            territory { code } prerequisites { id name } } } }"""
    ),
    "one Badge under many authors": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          topics(first: 5) { nodes { author { userId a: badges { badge { id } }
            b: badges { validUntil badge { name version territory { code } } } }
            comments(first: 8) { nodes { author { badges { badge { id name } } } } } } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "empty lists": Case(
        """query($t: String!, $f: ID!) { forums(territory: $t, parentId: $f) { nodes { name
          children(first: 5) { nodes { name } } none: topics(first: 0) { nodes { title } }
          topics(first: 10) { nodes { title } } } } }""",
        lambda s: {"t": TERRITORY, "f": s.root},
        anonymous="error",
    ),
    "replies and threads, deep": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          topics(first: 5) { nodes { comments(first: 8) { nodes { id body depth replyCount
            replies(first: 3) { pageInfo { hasNextPage } nodes { body depth
              replies(first: 3) { nodes { body depth thread { body } } } } }
            thread { id body depth parentId author { userId } } } } } } } } }""",
        tree,
        anonymous="error",
    ),
    "parents and children of forums, a topic's forum": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          name position parent { name description children(first: 10) { nodes { name } } }
          topics(first: 10) { nodes { forum { name parent { name } } } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    "authors' profiles and counts": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          topics(first: 10) { nodes { isClosed isPinned isHidden viewCount commentCount
            author { userId profile { id displayName territory } }
            comments(first: 10, orderBy: TOP) { nodes { upVotes downVotes score replyCount
              author { profile { displayName } } } } } } } } }""",
        tree,
        anonymous="error",  # NOT_FOUND: a territory's forums are its accounts' only
    ),
    # --- what the standard executor answers, and why
    "node (abstract)": Case(
        """query($id: ID!) { node(id: $id) { id ... on ForumTopic { title comments(first: 10) {
          nodes { body author { badges { badge { name } } } } } } } }""",
        lambda s: {"id": s.topic},
        anonymous="abstract",
        member="abstract",
    ),
    "nodes (abstract)": Case(
        """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
          ... on ForumComment { body isHidden } } }""",
        lambda s: {"ids": [s.comment, s.hidden, s.deleted, s.root]},
        anonymous="abstract",
        member="abstract",
    ),
    "introspection (abstract)": Case(
        "{ __schema { queryType { name } } }", anonymous="abstract", member="abstract"
    ),
    "__type (abstract)": Case(
        '{ __type(name: "ForumAuthor") { name fields { name } } territories { nodes { code } } }',
        anonymous="abstract",
        member="abstract",
    ),
    "a malformed cursor (error)": Case(
        """{ forums(territory: "dk", after: "garbage") { nodes { name } } }""",
        anonymous="error",
        member="error",
    ),
    "a malformed cursor a level down (error)": Case(
        """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) { nodes {
          name topics(first: 2, after: "garbage") { nodes { title } } } } }""",
        tree,
        anonymous="error",
        member="error",
    ),
    "a refused field, anonymously (error)": Case(
        """{ territories { nodes { code } } invitations(territory: "dk") { id } }""",
        anonymous="error",
        member="error",
    ),
}


@pytest.mark.parametrize("caller", ["anonymous", "member"])
@pytest.mark.parametrize("name", list(CASES))
async def test_both_executors_answer_the_same(
    pair: Pair, seed: Seed, name: str, caller: str
) -> None:
    case = CASES[name]
    token = seed.member if caller == "member" else None
    executor = case.member if caller == "member" else case.anonymous
    body = await assert_same(pair, case.query, case.variables(seed), token, executor=executor)
    if executor == "levels":
        assert "errors" not in body, body
        assert body["data"], body
    elif executor == "error":
        assert body.get("errors"), body


async def test_a_mutation_is_answered_the_standard_way(pair: Pair, seed: Seed) -> None:
    """Voting UP again where the member already voted UP: the same answer twice."""
    variables = {"i": {"commentId": seed.voted, "vote": "UP"}}
    body = await assert_same(pair, VOTE, variables, seed.member, executor="operation")
    assert body["data"]["voteForumComment"]["previousVote"] == "UP", body


async def test_the_hidden_and_deleted_comments_read_as_null(pair: Pair, seed: Seed) -> None:
    """The seed holds what the catalogue claims to cover: nulls where the text is gone."""
    query = """query($t: String!, $root: ID!) { forums(territory: $t, parentId: $root) {
      nodes { topics(first: 10) { nodes { comments(first: 10) { nodes { id body isHidden
        isDeleted author { userId badges { validUntil badge { name } } } } } } } } } }"""
    body = await assert_same(pair, query, tree(seed), seed.member)
    comments = {
        c["id"]: c
        for f in body["data"]["forums"]["nodes"]
        for t in f["topics"]["nodes"]
        for c in t["comments"]["nodes"]
    }
    assert comments[seed.hidden]["body"] is None
    assert comments[seed.hidden]["author"] is None
    assert comments[seed.deleted]["body"] is None
    assert comments[seed.deleted]["isDeleted"] is True
    held = [b for c in comments.values() if c["author"] for b in c["author"]["badges"]]
    assert {b["badge"]["name"] for b in held} >= {"Gardener", "Mentor", "Weaver"}
    assert any(b["validUntil"] is not None for b in held)
    assert any(b["validUntil"] is None for b in held)


async def test_the_harness_tells_different_answers_apart(pair: Pair, seed: Seed) -> None:
    """Two callers, two accounts: the harness must see two different answers."""
    with pytest.raises(AssertionError):
        await assert_same(pair, "{ me { id username } }", None, seed.member, other_token=seed.other)


async def test_the_fields_app_never_runs_levels(pair: Pair, seed: Seed) -> None:
    before = await executions(pair.fields)
    assert (await send(pair.fields, SHAPE, tree(seed), seed.member))[0] == 200
    assert (await executions(pair.fields)).get("levels", 0.0) == before.get("levels", 0.0)


# --- statements: a level at a time costs what a field at a time costs, or less

COUNTED = "no"  # its forums are written here directly (as tests/forums' statement counts do)
COUNT_SHAPE = """query($t: String!) { forums(territory: $t, first: 20) { nodes { id name
  topics(first: 10) { nodes { id title
    comments(first: 10) { nodes { id body
      author { userId badges { badge { id name } } } } } } } } } }"""


async def test_statements_do_not_grow_with_forums_and_are_no_more_than_fields(
    pair: Pair, db: Database, statements: StatementCounter
) -> None:
    viewer = await account(pair.levels, db, COUNTED)
    people = [await account(pair.levels, db, COUNTED) for _ in range(4)]
    gardener = await define_badge(db, COUNTED, name="Gardener")
    mentor = await define_badge(db, COUNTED, name="Mentor", validity_days=10)
    for i, person in enumerate(people):
        await award_badge(db, person, gardener)
        if i % 2:
            await award_badge(db, person, mentor)
    authors = [account_key(p) for p in people]
    token = viewer["accessToken"]
    counts: dict[str, list[int]] = {"levels": [], "fields": []}
    for n_forums, n_topics, n_comments in ((2, 2, 3), (8, 4, 6)):
        await fill_forums(db, COUNTED, n_forums, n_topics, n_comments, authors)
        for label, client in (("levels", pair.levels), ("fields", pair.fields)):
            await send(client, COUNT_SHAPE, {"t": COUNTED}, token)  # caches warm alike
            before = await executions(client)
            statements.statements.clear()
            status, text = await send(client, COUNT_SHAPE, {"t": COUNTED}, token)
            counts[label].append(statements.count)
            assert status == 200, text
            assert '"errors"' not in text, text
            assert text.count('"Gardener"') == n_forums * n_topics * (n_comments - 1), text
            if label == "levels":
                assert (await executions(client)).get("levels", 0) == before.get("levels", 0) + 1
    levels, fields = counts["levels"], counts["fields"]
    assert levels[0] == levels[1], counts
    assert all(mine <= theirs for mine, theirs in zip(levels, fields, strict=True)), counts


# --- the schema: what a batched field may carry


def test_batched_fields_carry_no_permissions_or_extensions() -> None:
    """What only a field's own resolver honours (permission classes, extensions) a batched
    field must not have; every argument it takes its batch resolver takes by the same name."""
    batched = []
    for type_name, graphql_type in schema._schema.type_map.items():
        for field_name, field in getattr(graphql_type, "fields", {}).items():
            definition = field.extensions.get("strawberry-definition")
            if definition is None or BATCH not in definition.metadata:
                continue
            batched.append((type_name, field_name))
            where = f"{type_name}.{field_name}"
            assert not definition.permission_classes, where
            assert not definition.extensions, where
            assert definition.base_resolver is not None, where  # the standard executor's
            accepted = inspect.signature(definition.metadata[BATCH]).parameters
            for argument in definition.arguments:
                assert argument.python_name in accepted, (where, argument.python_name)
            assert len(field.args) == len(definition.arguments), where
    assert ("ForumAuthor", "badges") in batched, batched
