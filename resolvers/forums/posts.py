"""Root queries over forums, and forum, topic, comment and vote mutations.

Every write first decides whether the caller sees the forum (NOT_FOUND otherwise, whatever the
reason) from the same access rule the reads use, then runs in ONE ``territory_change`` of the
forum's territory that locks the row it changes, re-checks its state (closed, restricted) inside
the transaction, changes, and emits its event in the same commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from db.audit import AuditAction
from db.forums import reads as forum_reads
from db.forums import writes as forum_db
from db.forums.records import CommentRecord, TopicRecord
from domain.badges import BadgeRef
from domain.errors import BadUserInput, Forbidden, NotFound, input_field
from domain.events import ForumCommentAdded, ForumTopicCreated, TerritoryRef
from domain.forums import (
    Author,
    ForumVisibility,
    TopicClosed,
    VoteValue,
    check_author,
    check_may_post,
    check_moderates,
    is_restricted,
    validate_comment,
    validate_description,
    validate_name,
    validate_tags,
    validate_title,
    validate_topic_body,
)
from domain.roles import can_manage_territory
from domain.territories import validate_territory_id
from graph import badge_access
from graph.context import Info
from graph.permissions import IsAuthenticated, Public
from graph.types.forums import (
    Access,
    Forum,
    ForumComment,
    ForumTopic,
    comment_in,
    forum_access,
    forum_by_id,
    forum_page,
    topic_in,
)
from graph.types.relay import After, Connection, First
from resolvers.common import Change, key_of, server_of, territory_change

FORUM_ID = "forumId"
TOPIC_ID = "topicId"
COMMENT_ID = "commentId"


@strawberry.type
class ForumQueries:
    @strawberry.field(
        description="A territory's forums you may see, by position: its root forums, or the "
        'children of `parentId`. `territory: "global"` lists the global forums. A page may '
        "hold fewer than `first` forums when some are hidden from you. BAD_USER_INPUT for a "
        "malformed argument; NOT_FOUND for an unknown territory or a parent you cannot see.",
        permission_classes=[Public],
    )
    async def forums(
        self,
        info: Info,
        territory: Annotated[
            str, strawberry.argument(description="The territory id (`Territory.code`).")
        ],
        parent_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="A forum whose children to list; null: the roots."),
        ] = None,
        first: First = None,
        after: After = None,
    ) -> Connection[Forum]:
        with input_field("territory"):
            territory_id = validate_territory_id(territory)
            await server_of(info, territory_id)
        parent: uuid.UUID | None = None
        if parent_id is not None:
            parent_territory, parent = key_of(parent_id, "Forum", field="parentId")
            if parent_territory != territory_id or (
                await forum_by_id(info, territory_id, parent) is None
            ):
                raise NotFound("No such forum.", field="parentId")
        return await forum_page(info, territory_id, parent, first, after)


# --- shared steps


async def visible_forum(info: Info, value: strawberry.ID, field: str) -> Access:
    territory_id, key = key_of(value, "Forum", field=field)
    with input_field(field):
        await server_of(info, territory_id)
    access = await forum_by_id(info, territory_id, key)
    if access is None:
        raise NotFound("No such forum.", field=field)
    return access


async def visible_topic(info: Info, value: strawberry.ID) -> tuple[TopicRecord, Access]:
    territory_id, key = key_of(value, "ForumTopic", field=TOPIC_ID)
    with input_field(TOPIC_ID):
        await server_of(info, territory_id)
    found = await topic_in(info, territory_id, key)
    if found is None:
        raise NotFound("No such topic.", field=TOPIC_ID)
    return found


async def check_posting(info: Info, change: Change, access: Access) -> Author:
    """Refuse a post (closed forum, missing badge, restriction) inside the transaction."""
    caller = info.context.caller
    author = caller.account()
    forum = await forum_db.lock_forum(change.conn, change.territory_id, access.record.id)
    if forum is None:
        raise NotFound("No such forum.", field=FORUM_ID)
    sanctions = (await forum_reads.sanctions_of(change.conn, [author])).get(author)
    strikes, restricted, until = sanctions or ((), False, None)
    now = await change_now(change)
    check_may_post(
        caller,
        forum.facts,
        access.standing,
        restricted=is_restricted(strikes, until, restricted, now),
    )
    return author


async def change_now(change: Change) -> datetime:
    """The transaction's clock: the one strikes were stamped with."""
    now: datetime = (await change.conn.execute(select(func.now()))).scalar_one()
    return now


# --- inputs and payloads


@strawberry.input(description="A new forum (or category) in a territory you manage.")
class CreateForumInput:
    territory: str = strawberry.field(
        description="The territory to hold it (`global` for a global forum); you must manage it."
    )
    name: str = strawberry.field(description="One line, 1 to 120 characters.")
    description: str = strawberry.field(default="", description="Up to 2000 characters.")
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="The forum it sits under (a category); null: a root forum."
    )
    community_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A community of the territory: makes it a COMMUNITY forum for its members.",
    )
    visibility: ForumVisibility = strawberry.field(
        default=ForumVisibility.PUBLIC, description="Who may read it."
    )
    is_open: bool = strawberry.field(default=True, description="False: a closed forum.")
    position: int = strawberry.field(default=0, description="Its place among its siblings.")
    badges_to_read: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Badge ids all needed to read (forum.read also does)."
    )
    badges_to_post: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Badge ids all needed to post (forum.post also does)."
    )


@strawberry.type(description="The result of `createForum`.")
class CreateForumPayload:
    forum: Forum = strawberry.field(description="The new forum.")


@strawberry.input(description="A forum to open or close.")
class SetForumOpenInput:
    forum_id: strawberry.ID = strawberry.field(description="The forum.")
    is_open: bool = strawberry.field(description="False closes it to new topics and comments.")


@strawberry.type(description="The result of `setForumOpen`.")
class SetForumOpenPayload:
    forum: Forum = strawberry.field(description="The forum as it now is.")


@strawberry.input(description="A new topic.")
class CreateForumTopicInput:
    forum_id: strawberry.ID = strawberry.field(description="The forum to post in.")
    title: str = strawberry.field(description="One line, 1 to 200 characters, stored as given.")
    body: str = strawberry.field(description="1 to 20,000 characters, stored as given (not HTML).")
    tags: list[str] = strawberry.field(
        default_factory=list, description="Up to 5 lower-case tags (`repair-tips`)."
    )


@strawberry.type(description="The result of `createForumTopic`.")
class CreateForumTopicPayload:
    topic: ForumTopic = strawberry.field(description="The new topic.")


@strawberry.input(description="New text for your own topic; the old one is kept for moderators.")
class EditForumTopicInput:
    topic_id: strawberry.ID = strawberry.field(description="Your topic.")
    title: str = strawberry.field(description="One line, 1 to 200 characters.")
    body: str = strawberry.field(description="1 to 20,000 characters.")
    tags: list[str] = strawberry.field(default_factory=list, description="Up to 5 tags.")


@strawberry.type(description="The result of `editForumTopic`.")
class EditForumTopicPayload:
    topic: ForumTopic = strawberry.field(description="The topic as it now reads.")


@strawberry.input(description="A topic being opened by a reader.")
class RecordForumTopicViewInput:
    topic_id: strawberry.ID = strawberry.field(description="The topic.")


@strawberry.type(description="The result of `recordForumTopicView`.")
class RecordForumTopicViewPayload:
    view_count: int = strawberry.field(description="The topic's views, this one included.")


@strawberry.input(description="A comment on a topic, or a reply to a comment.")
class AddForumCommentInput:
    topic_id: strawberry.ID = strawberry.field(description="The topic.")
    body: str = strawberry.field(description="1 to 10,000 characters, stored as given (not HTML).")
    parent_id: strawberry.ID | None = strawberry.field(
        default=None, description="The comment to reply to (of the same topic); null: the topic."
    )


@strawberry.type(description="The result of `addForumComment`.")
class AddForumCommentPayload:
    comment: ForumComment = strawberry.field(description="The new comment.")


@strawberry.input(description="New text for your own comment; the old one is kept for moderators.")
class EditForumCommentInput:
    comment_id: strawberry.ID = strawberry.field(description="Your comment.")
    body: str = strawberry.field(description="1 to 10,000 characters.")


@strawberry.type(description="The result of `editForumComment`.")
class EditForumCommentPayload:
    comment: ForumComment = strawberry.field(description="The comment as it now reads.")


@strawberry.input(description="Your comment to delete (its replies stay).")
class DeleteForumCommentInput:
    comment_id: strawberry.ID = strawberry.field(description="Your comment.")


@strawberry.type(description="The result of `deleteForumComment`.")
class DeleteForumCommentPayload:
    deleted_id: strawberry.ID = strawberry.field(
        description="The comment's id: it stays in its thread with a null body."
    )


@strawberry.input(description="Your vote on a comment.")
class VoteForumCommentInput:
    comment_id: strawberry.ID = strawberry.field(description="The comment.")
    vote: VoteValue | None = strawberry.field(
        description="UP or DOWN (replaces your earlier vote); null retracts your vote."
    )


@strawberry.type(description="The result of `voteForumComment`.")
class VoteForumCommentPayload:
    comment: ForumComment = strawberry.field(description="The comment with its new counts.")
    previous_vote: VoteValue | None = strawberry.field(
        description="Your vote before; null when you had none."
    )


async def _badge_refs(info: Info, values: list[strawberry.ID], field: str) -> list[BadgeRef]:
    """Badges a forum asks for: each must exist (NOT_FOUND otherwise)."""
    refs = [BadgeRef(*key_of(v, "Badge", field=field)) for v in values]
    found = await badge_access.definitions(info, refs)
    if any(ref not in found for ref in refs):
        raise NotFound("No such badge.", field=field)
    return refs


async def _new_forum_parent(
    info: Info, territory_id: str, value: strawberry.ID | None
) -> uuid.UUID | None:
    if value is None:
        return None
    parent_territory, parent = key_of(value, "Forum", field="parentId")
    if parent_territory != territory_id or await forum_by_id(info, territory_id, parent) is None:
        raise NotFound("No such forum.", field="parentId")
    return parent


@strawberry.type
class ForumMutations:
    @strawberry.mutation(
        description="Create a forum, or a category under another forum, in a territory you "
        "manage (`global`: global admins). Audited. FORBIDDEN unless you manage the territory; "
        "BAD_USER_INPUT for a malformed field or a community of another territory; NOT_FOUND "
        "for an inactive territory, a missing parent or community.",
        permission_classes=[IsAuthenticated],
    )
    async def create_forum(
        self,
        info: Info,
        input: Annotated[CreateForumInput, strawberry.argument(description="The forum.")],
    ) -> CreateForumPayload:
        with input_field("territory"):
            territory_id = validate_territory_id(input.territory)
        if not can_manage_territory(info.context.caller.roles, territory_id):
            raise Forbidden("Only a manager of this territory may do this.")
        with input_field("name"):
            name = validate_name(input.name)
        with input_field("description"):
            description = validate_description(input.description)
        with input_field("territory"):
            await server_of(info, territory_id)
        parent = await _new_forum_parent(info, territory_id, input.parent_id)
        community: uuid.UUID | None = None
        if input.community_id is not None:
            community_territory, community = key_of(
                input.community_id, "Community", field="communityId"
            )
            if community_territory != territory_id:
                raise BadUserInput("A community of the same territory.", field="communityId")
        read_badges = await _badge_refs(info, input.badges_to_read, "badgesToRead")
        post_badges = await _badge_refs(info, input.badges_to_post, "badgesToPost")
        async with territory_change(info, territory_id) as change:
            try:
                async with change.conn.begin_nested():
                    record = await forum_db.create_forum(
                        change.conn,
                        territory_id,
                        parent_id=parent,
                        community_id=community,
                        name=name,
                        description=description,
                        visibility=input.visibility,
                        is_open=input.is_open,
                        read_badges=read_badges,
                        post_badges=post_badges,
                        position=input.position,
                    )
            except IntegrityError:
                raise NotFound("No such community.", field="communityId") from None
            change.audit(AuditAction.FORUM_CREATED, target=str(record.id))
        access = await forum_access(info, record)
        assert access is not None, "a manager sees the forums of their territory"
        return CreateForumPayload(forum=Forum.from_access(access))

    @strawberry.mutation(
        description="Open or close a forum. Moderators of the forum only (FORBIDDEN); "
        "NOT_FOUND for a forum you cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def set_forum_open(
        self,
        info: Info,
        input: Annotated[SetForumOpenInput, strawberry.argument(description="The forum.")],
    ) -> SetForumOpenPayload:
        access = await visible_forum(info, input.forum_id, FORUM_ID)
        check_moderates(access.standing)
        territory_id = access.record.territory_id
        async with territory_change(info, territory_id) as change:
            await forum_db.lock_forum(change.conn, territory_id, access.record.id)
            record = await forum_db.set_forum_open(
                change.conn, territory_id, access.record.id, input.is_open
            )
        return SetForumOpenPayload(forum=Forum.from_access(Access(record, access.standing)))

    @strawberry.mutation(
        description="Open a topic in a forum you may see. BAD_USER_INPUT for a malformed field; "
        "NOT_FOUND for a forum you cannot see; FORUM_CLOSED; BADGE_REQUIRED when the forum asks "
        "for badges (or forum.post) you lack; POSTING_RESTRICTED after three active strikes or "
        "a moderator's restriction.",
        permission_classes=[IsAuthenticated],
    )
    async def create_forum_topic(
        self,
        info: Info,
        input: Annotated[CreateForumTopicInput, strawberry.argument(description="The topic.")],
    ) -> CreateForumTopicPayload:
        access = await visible_forum(info, input.forum_id, FORUM_ID)
        with input_field("title"):
            title = validate_title(input.title)
        with input_field("body"):
            body = validate_topic_body(input.body)
        with input_field("tags"):
            tags = validate_tags(input.tags)
        territory_id = access.record.territory_id
        async with territory_change(info, territory_id) as change:
            author = await check_posting(info, change, access)
            record = await forum_db.create_topic(
                change.conn,
                territory_id,
                forum_id=access.record.id,
                title=title,
                body=body,
                author=author,
                tags=tags,
            )
            change.emit(
                ForumTopicCreated(
                    territory_id=territory_id,
                    forum_id=access.record.id,
                    topic_id=record.id,
                    author_territory=TerritoryRef(author[0]),
                    author_id=author[1],
                )
            )
        return CreateForumTopicPayload(topic=ForumTopic.from_record(record))

    @strawberry.mutation(
        description="Edit your own topic; its previous text is kept for moderators. "
        "FORBIDDEN unless you wrote it; NOT_FOUND for a topic you cannot see; BAD_USER_INPUT "
        "for a malformed field.",
        permission_classes=[IsAuthenticated],
    )
    async def edit_forum_topic(
        self,
        info: Info,
        input: Annotated[EditForumTopicInput, strawberry.argument(description="The new text.")],
    ) -> EditForumTopicPayload:
        found, access = await visible_topic(info, input.topic_id)
        check_author(info.context.caller, found.author)
        with input_field("title"):
            title = validate_title(input.title)
        with input_field("body"):
            body = validate_topic_body(input.body)
        with input_field("tags"):
            tags = validate_tags(input.tags)
        territory_id = access.record.territory_id
        async with territory_change(info, territory_id) as change:
            locked = await forum_db.lock_topic(change.conn, territory_id, found.id)
            if locked is None:
                raise NotFound("No such topic.", field=TOPIC_ID)
            record = await forum_db.edit_topic(
                change.conn, locked, title=title, body=body, tags=tags
            )
        return EditForumTopicPayload(topic=ForumTopic.from_record(record))

    @strawberry.mutation(
        description="Count one view of a topic (clients call it when a reader opens the topic). "
        "NOT_FOUND for a topic you cannot see.",
        permission_classes=[Public],
    )
    async def record_forum_topic_view(
        self,
        info: Info,
        input: Annotated[RecordForumTopicViewInput, strawberry.argument(description="The topic.")],
    ) -> RecordForumTopicViewPayload:
        found, access = await visible_topic(info, input.topic_id)
        async with territory_change(info, access.record.territory_id) as change:
            count = await forum_db.record_view(change.conn, change.territory_id, found.id)
        return RecordForumTopicViewPayload(view_count=count)

    @strawberry.mutation(
        description="Comment on a topic, or reply to a comment of it (any depth). "
        "BAD_USER_INPUT for a malformed field or a parent of another topic; NOT_FOUND for a "
        "topic you cannot see; TOPIC_CLOSED (a closed topic, or your own hidden one); "
        "FORUM_CLOSED; BADGE_REQUIRED; POSTING_RESTRICTED.",
        permission_classes=[IsAuthenticated],
    )
    async def add_forum_comment(
        self,
        info: Info,
        input: Annotated[AddForumCommentInput, strawberry.argument(description="The comment.")],
    ) -> AddForumCommentPayload:
        found, access = await visible_topic(info, input.topic_id)
        with input_field("body"):
            body = validate_comment(input.body)
        territory_id = access.record.territory_id
        parent_key: uuid.UUID | None = None
        if input.parent_id is not None:
            parent_territory, parent_key = key_of(input.parent_id, "ForumComment", field="parentId")
            if parent_territory != territory_id:
                raise BadUserInput("A comment of the same topic.", field="parentId")
        async with territory_change(info, territory_id) as change:
            author = await check_posting(info, change, access)
            topic = await forum_db.lock_topic(change.conn, territory_id, found.id)
            if topic is None:
                raise NotFound("No such topic.", field=TOPIC_ID)
            if topic.is_closed or (topic.hidden_at is not None and not access.standing.moderates):
                raise TopicClosed("This topic is closed (or hidden).", field=TOPIC_ID)
            parent = None
            if parent_key is not None:
                parent = await forum_db.lock_comment(change.conn, parent_key)
                if parent is None or parent.topic_id != topic.id:
                    raise BadUserInput("A comment of the same topic.", field="parentId")
            record = await forum_db.add_comment(
                change.conn, topic_id=topic.id, parent=parent, body=body, author=author
            )
            change.emit(
                ForumCommentAdded(
                    territory_id=territory_id,
                    forum_id=access.record.id,
                    topic_id=topic.id,
                    comment_id=record.id,
                    author_territory=TerritoryRef(author[0]),
                    author_id=author[1],
                    topic_author_territory=TerritoryRef(topic.author[0]),
                    topic_author_id=topic.author[1],
                )
            )
        return AddForumCommentPayload(comment=ForumComment.from_record(territory_id, record))

    @strawberry.mutation(
        description="Edit your own comment; its previous text is kept for moderators. "
        "FORBIDDEN unless you wrote it (or it is deleted or hidden); NOT_FOUND for a comment "
        "you cannot see; BAD_USER_INPUT for a malformed body.",
        permission_classes=[IsAuthenticated],
    )
    async def edit_forum_comment(
        self,
        info: Info,
        input: Annotated[EditForumCommentInput, strawberry.argument(description="The new text.")],
    ) -> EditForumCommentPayload:
        territory_id, record = await _own_comment(info, input.comment_id)
        with input_field("body"):
            body = validate_comment(input.body)
        async with territory_change(info, territory_id) as change:
            locked = await _locked_own(info, change, record.id)
            updated = await forum_db.edit_comment(change.conn, locked, body)
        return EditForumCommentPayload(comment=ForumComment.from_record(territory_id, updated))

    @strawberry.mutation(
        description="Delete your own comment: it stays in its thread (its replies keep their "
        "place) with a null body. FORBIDDEN unless you wrote it; NOT_FOUND for a comment you "
        "cannot see.",
        permission_classes=[IsAuthenticated],
    )
    async def delete_forum_comment(
        self,
        info: Info,
        input: Annotated[DeleteForumCommentInput, strawberry.argument(description="Which.")],
    ) -> DeleteForumCommentPayload:
        territory_id, record = await _own_comment(info, input.comment_id)
        async with territory_change(info, territory_id) as change:
            await _locked_own(info, change, record.id)
            await forum_db.set_comment(change.conn, record.id, deleted_at=await change_now(change))
        return DeleteForumCommentPayload(deleted_id=input.comment_id)

    @strawberry.mutation(
        description="Vote on a comment: one vote per person, changed by voting again, "
        "retracted with null. NOT_FOUND for a comment you cannot see; BAD_USER_INPUT for a "
        "deleted or hidden comment.",
        permission_classes=[IsAuthenticated],
    )
    async def vote_forum_comment(
        self,
        info: Info,
        input: Annotated[VoteForumCommentInput, strawberry.argument(description="The vote.")],
    ) -> VoteForumCommentPayload:
        territory_id, key = key_of(input.comment_id, "ForumComment", field=COMMENT_ID)
        with input_field(COMMENT_ID):
            await server_of(info, territory_id)
        found = await comment_in(info, territory_id, key)
        if found is None:
            raise NotFound("No such comment.", field=COMMENT_ID)
        voter = info.context.caller.account()
        async with territory_change(info, territory_id) as change:
            locked = await forum_db.lock_comment(change.conn, key)
            if locked is None:
                raise NotFound("No such comment.", field=COMMENT_ID)
            if locked.deleted_at is not None or locked.hidden_at is not None:
                raise BadUserInput("This comment takes no votes.", field=COMMENT_ID)
            previous, record = await forum_db.vote(change.conn, key, voter, input.vote)
        return VoteForumCommentPayload(
            comment=ForumComment.from_record(territory_id, record), previous_vote=previous
        )


async def _own_comment(info: Info, value: strawberry.ID) -> tuple[str, CommentRecord]:
    territory_id, key = key_of(value, "ForumComment", field=COMMENT_ID)
    with input_field(COMMENT_ID):
        await server_of(info, territory_id)
    found = await comment_in(info, territory_id, key)
    if found is None:
        raise NotFound("No such comment.", field=COMMENT_ID)
    check_author(info.context.caller, found[0].author)
    return territory_id, found[0]


async def _locked_own(info: Info, change: Change, key: uuid.UUID) -> CommentRecord:
    locked = await forum_db.lock_comment(change.conn, key)
    if locked is None:
        raise NotFound("No such comment.", field=COMMENT_ID)
    if locked.deleted_at is not None or locked.hidden_at is not None:
        raise Forbidden("A deleted or hidden comment cannot change.")
    return locked
