"""The message each live event sends: built once, as its transaction commits (forum/services/
events.py numbers and stores it, then broadcasts it after the commit), in no language: a post's
facts, its words and its sanitised HTML, what each kind of reader may do with it; the page
builds the card in its reader's language from its own card templates (forum/web/cards.py).
So a message is rendered zero times per language, however many languages its readers use,
and catch-up sends the stored message as it was broadcast."""
from __future__ import annotations

from typing import Any

from sqlalchemy.orm import joinedload

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Post, Room, StreamEvent
from forum.services import events
from forum.services.events import COUNT_ONLY_KINDS, current_stream
from forum.services.posts import topic_counts
from forum.services.stances import live_counts


def payload(stream_event: StreamEvent) -> dict[str, Any]:
    """The message sent for an event: the post as it is when the event's transaction commits
    (`post_data`), or the event's data. Built once (`_store_payloads`), stored with the event,
    broadcast and later sent to catch-up as stored; clients replace by post id."""
    message = {"stream": stream_event.stream_key, "seq": stream_event.seq, "type": stream_event.kind}
    if stream_event.post_id is None:
        build = getattr(stream_event, "build_data", None)
        return {**message, "data": build() if build is not None else stream_event.data or {}}
    # Read anew: the copy in this session may predate a change another transaction committed
    # while this one waited for its stream number (a moderator's hide during an endorsement).
    # One statement: the post with everything its card shows (an endorsement's, its figures).
    figures_only = stream_event.kind in COUNT_ONLY_KINDS
    post = db.session.get(Post, stream_event.post_id, options=[] if figures_only else _CARD_LOADS,
                          populate_existing=True)
    if stream_event.stream_key != current_stream(post):
        # The post has left this stream (moved, approved): its readers learn only that.
        return {**message, "post": {"id": post.id, "left": True}}
    counted = stream_event.kind in COUNTED_KINDS or (stream_event.kind == "post.updated" and _shows_stance(post))
    counts = _consultation_counts(post) if post.room_id is None and counted else {}
    return {**message, **counts, "post": post_data(post, figures_only=figures_only)}


# Everything a card shows, in the post's one statement (rows are joined, not fetched after).
_CARD_LOADS = [
    joinedload(Post.author), joinedload(Post.topic), joinedload(Post.consultation).joinedload(Consultation.hosts),
    joinedload(Post.room).joinedload(Room.event), joinedload(Post.room).joinedload(Room.moderators),
    joinedload(Post.parent).joinedload(Post.author), joinedload(Post.quoted_post).joinedload(Post.author),
]


def post_data(post: Post, figures_only: bool = False) -> dict[str, Any]:
    """A post for every reader, in no language: its facts, its words and its sanitised HTML
    once; the page builds the card in its reader's language (forum/web/cards.py). A hidden
    post carries no text (nor its subject or quote), a deleted one no author either. An
    endorsement's message (`figures_only`) carries the figures alone."""
    data = {
        "id": post.id, "thread_id": post.thread_id, "parent_id": post.parent_id,
        "topic_id": post.topic_id, "room_id": post.room_id,
        "author_id": None if post.is_deleted else post.author_id,
        "endorsement_count": post.endorsement_count, "deleted": post.is_deleted,
        "hidden": post.is_hidden, "pinned": post.pinned_at is not None,
        "locked": post.locked_at is not None, "status": post.status.value,
        "backchannel": post.backchannel,
    }
    if figures_only:
        return data
    see_text = not post.is_deleted and not post.is_hidden
    data["created_at"] = post.created_at.isoformat(timespec="seconds")
    if not post.is_deleted:
        data["author"] = _author(post.author)
        role = _author_role(post)
        if role:
            data["author"]["role"] = role
    elif post.author.closed_erased:
        data["erased"] = True  # removed at its author's request, as they closed their account
    if post.parent is not None:
        data["parent"] = {"deleted": post.parent.is_deleted,
                          "name": "" if post.parent.is_deleted else _name(post.parent.author)}
        if post.parent.author.closed_at is not None and not post.parent.is_deleted:
            data["parent"]["former"] = True
    if see_text:
        data["body_html"] = post.body_html
        if post.quoted_post is not None:
            data["quote"] = _quote(post.quoted_post)
    # What each kind of reader may do with it (forum/permissions.py): the page picks its own.
    data["acts"] = permissions.actions_by_reader(post)
    # What most posts are not: absent rather than false or empty, to keep the message small.
    optional = {
        "edited": post.edited_at is not None, "announcement": post.announcement,
        "on_behalf": post.organisation_name if post.on_behalf_of_organisation else "",
        "subject": post.subject if see_text else "",
        "rejected_reason": post.rejected_reason if post.status.value == "rejected" else "",
        "thread_locked": post.parent_id is not None and permissions.thread_locked(post),
        # A response's stance on a proposal, as a code (named by the page), with its text only.
        "stance": post.stance.value if see_text and _shows_stance(post) else "",
    }
    data.update((key, value) for key, value in optional.items() if value)
    return data


def _author(author) -> dict[str, Any]:
    """Who wrote a post: a closed account is "former" (its page names it "Former participant"
    in its reader's language), with no name, organisation or country."""
    if author.closed_at is not None:
        return {"name": "", "former": True, "organisation": "", "organisation_type": author.organisation_type,
                "country": ""}
    return {"name": author.display_name, "organisation": author.organisation,
            "organisation_type": author.organisation_type, "country": author.country}


def _name(author) -> str:
    """A name in no language: a closed account's is the page's "Former participant" (`former`)."""
    return "" if author.closed_at is not None else author.display_name


def _author_role(post: Post) -> str | None:
    """The badge by the author's name: a consultation's host; a room's moderator, or the
    event's organiser."""
    if post.room is None:
        return "host" if post.consultation.is_host(post.author) else None
    if post.room.is_moderator(post.author):
        return "moderator"
    return "organiser" if post.room.event.owner_id == post.author_id else None


def _quote(quoted: Post) -> dict[str, Any]:
    """How a quoted post reads where it is quoted (templates/partials/quote.html)."""
    if quoted.is_deleted:
        return {"id": quoted.id, "state": "erased" if quoted.author.closed_erased else "deleted"}
    if quoted.is_hidden or not quoted.is_published:
        return {"id": quoted.id, "state": "hidden"}
    shown = {"id": quoted.id, "state": "shown", "name": _name(quoted.author), "body_html": quoted.body_html}
    if quoted.author.closed_at is not None:
        shown["former"] = True
    return shown


# Events after which a consultation's response counts may have changed: they carry the counts
# as they are now (authoritative; clients do no arithmetic). The page words them in its
# reader's language (its plural forms, `plural_forms`): the event carries numbers only.
COUNTED_KINDS = frozenset({"post.created", "post.deleted", "post.moved", "post.hidden", "post.restored"})


def _consultation_counts(post: Post) -> dict[str, Any]:
    """{"counts": {"responses": n, "topics": {topic id: n}}} for the consultation of `post`,
    with "stances" ({"topics": {topic id: {code: n}}, "all": {code: n}}) when a topic is a
    proposal."""
    stored = topic_counts(post.consultation)
    topics = {str(topic.id): stored.get(topic.id, 0) for topic in post.consultation.topics}
    counts = {"responses": sum(topics.values()), "topics": topics}
    stances = live_counts(post.consultation)
    if stances:
        counts["stances"] = stances
    return {"counts": counts}


def _shows_stance(post: Post) -> bool:
    """A response to a proposal: its stance is shown, and its edits may change the counts."""
    return (post.room_id is None and post.parent_id is None and post.stance is not None
            and post.topic is not None and post.topic.is_proposal)


events.build_messages_with(payload)
