"""Forums, topics, threaded comments, their authors, and the moderation views, in GraphQL.

Who may see a forum is decided once per forum (``access.py``); its topics and comments follow
from it and carry no check of their own. Items are plain attributes built from one page
statement, so a page of comments under a page of topics under a page of forums is three
statements whatever it holds. Text is returned exactly as written, never rendered to HTML.
"""

from graph.types.forums import enums as enums
from graph.types.forums.access import Access, comment_in, forum_access, forum_by_id, topic_in
from graph.types.forums.authors import ForumAuthor, ForumBadge
from graph.types.forums.live import ForumTopicEvent, ForumTopicEventKind
from graph.types.forums.moderation import ForumFlag, ForumModerationEntry, log_entry_in
from graph.types.forums.posts import ForumComment, ForumRevision, ForumTopic
from graph.types.forums.tree import Forum, forum_page

__all__ = [
    "Access",
    "Forum",
    "ForumAuthor",
    "ForumBadge",
    "ForumComment",
    "ForumFlag",
    "ForumModerationEntry",
    "ForumRevision",
    "ForumTopic",
    "ForumTopicEvent",
    "ForumTopicEventKind",
    "comment_in",
    "enums",
    "forum_access",
    "forum_by_id",
    "forum_page",
    "log_entry_in",
    "topic_in",
]
