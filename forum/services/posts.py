"""Responses, replies, edits, deletions and endorsements, and the threaded listing."""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Endorsement, Post, PostRevision, PostStatus, Room, User
from forum.models.base import utcnow
from forum.models.events import EventStatus, MemberRole, RoomPhase
from forum.models.posts import Stance
from forum.services import events, notifications, stances
from forum.services.errors import NotFound, PermissionDenied, TooSoon, ValidationError
from forum.services.mentions import render_post
from forum.services.text import clean_text

SORTS = ("newest", "oldest", "endorsed")


def _require(allowed: bool, place: Consultation | Room, actor: User) -> None:
    if allowed:
        return
    if isinstance(place, Room):
        _explain_posting_refusal(actor, place)
    elif not place.accepts_posts(utcnow()):
        raise PermissionDenied(_l("This consultation is not accepting responses at the moment."))
    raise PermissionDenied()


def _place(post: Post) -> Consultation | Room:
    return post.room if post.room_id is not None else post.consultation


def posting_refusal(actor: User, room: Room):
    """Why the actor may not write in the room (None if they may): the one wording for the
    refused message and for the room page's composer."""
    if room.event.status is not EventStatus.PUBLISHED or permissions.room_closed(room):
        return _l("This room is closed: you can read its discussion.")
    if permissions.can_post_in_room(actor, room):
        return None
    if not (actor and actor.is_authenticated):
        return _l("Log in to take part.")
    if permissions.can_moderate_room(actor, room):
        return None
    member = permissions.membership(actor, room.event)
    if member is not None and member.role is MemberRole.OBSERVER:
        return _l("You are observing this event: you can read, not post.")
    if permissions.is_muted(actor, room):
        return _l("A moderator has muted you in this room for now.")
    if room.locked:
        return _l("The moderators have locked this room for now.")
    if room.phase is RoomPhase.NOT_STARTED:
        return _l("This room has not started yet.")
    return _l("You cannot post in this room.")


def _explain_posting_refusal(actor: User, room: Room) -> None:
    reason = posting_refusal(actor, room)
    if reason is not None:
        raise PermissionDenied(reason)


def require_reply(actor: User, parent: Post) -> None:
    """Raise the reason why the actor may not reply to this post, if they may not."""
    _require(permissions.can_reply(actor, parent), _place(parent), actor)


def require_edit(actor: User, post: Post) -> None:
    _require(permissions.can_edit_post(actor, post), _place(post), actor)


def _clean_body(body: str) -> str:
    return clean_text(body, field="body", max_length=current_app.config["POST_BODY_MAX"],
                      required=True, multiline=True)


def _clean_subject(subject: str) -> str:
    return clean_text(subject, field="subject", max_length=current_app.config["POST_SUBJECT_MAX"])


def create_post(actor: User, consultation: Consultation, *, body: str, topic_id: int | None = None,
                subject: str = "", parent: Post | None = None,
                on_behalf_of_organisation: bool = False, client_key: str | None = None,
                quote: bool = False, stance: str | None = None) -> Post:
    """A response to a topic (no parent) or a reply to a post of the same consultation,
    quoting it if `quote` (see `_quoted`). A response to a proposal takes a `stance` (a
    code of forum.models.posts.Stance); a reply or another response none (services/stances.py).

    `client_key` makes a resend harmless: a second call with the same key by the same author
    returns the post the first one stored."""
    client_key = clean_text(client_key, field="client_key", max_length=64) or None
    existing = _resent(actor, client_key, consultation_id=consultation.id)
    if existing is not None:
        return existing
    if parent is not None:
        if parent.consultation_id != consultation.id:
            raise ValidationError(_l("You can only reply to a post of this consultation."))
        require_reply(actor, parent)
        topic = parent.topic
    else:
        _require(permissions.can_post(actor, consultation), consultation, actor)
        topic = next((t for t in consultation.topics if t.id == topic_id), None)
        if topic is None:
            raise ValidationError(_l("Choose one of this consultation's topics."), field="topic_id")
    stance = stances.checked_stance(topic, parent, stance)
    body = _clean_body(body)
    subject = _clean_subject(subject)
    if on_behalf_of_organisation and not actor.organisation:
        raise ValidationError(
            _l("Add your organisation to your profile to post on its behalf."), field="on_behalf_of_organisation")
    post = Post(
        consultation=consultation, topic=topic, author=actor, parent=parent, quoted_post=_quoted(parent, quote),
        subject=subject, body=body, body_html=render_post(body),
        on_behalf_of_organisation=on_behalf_of_organisation,
        organisation_name=actor.organisation if on_behalf_of_organisation else "",
        client_key=client_key, stance=stance,
    )
    return _store(actor, post, "post.created")


def _quoted(parent: Post | None, quote: bool) -> Post | None:
    """The post a new one quotes: the one it replies to. A quote is a reference, rendered
    from the quoted post whenever it is read (templates/partials/quote.html), never a copy of
    its words: they must go wherever that post is deleted or hidden."""
    if not quote:
        return None
    if parent is None:
        raise ValidationError(_l("Only a reply can quote: it quotes the post it replies to."), field="quote")
    return parent


def _resent(actor: User, client_key: str | None, **place) -> Post | None:
    """The post an earlier send with this key stored, if any (it must be in the same place)."""
    if client_key is None:
        return None
    existing = _post_by_client_key(actor, client_key)
    if existing is not None and any(getattr(existing, name) != value for name, value in place.items()):
        raise ValidationError(_l("This message could not be understood."), field="client_key")
    return existing


def _store(actor: User, post: Post, kind: str) -> Post:
    client_key = post.client_key
    parent = post.parent
    try:
        with db.session.begin_nested():
            db.session.add(post)
    except IntegrityError:  # the same key, sent twice at the same moment
        return _post_by_client_key(actor, client_key)
    if parent is None:
        post.thread_id = post.id
    else:
        post.thread_id = parent.thread_id
        db.session.execute(update(Post).where(Post.id == parent.thread_id)
                           .values(reply_count=Post.reply_count + 1))
    db.session.flush()
    events.record(kind, post)
    notifications.follow_own_thread(post)
    if post.is_published:
        notifications.post_published(post)
    return post


def post_in_room(actor: User, room: Room, *, body: str, parent: Post | None = None,
                 backchannel: bool = False, client_key: str | None = None, quote: bool = False) -> Post:
    """A message in an event's room, or in its moderators' back-channel; a reply quotes the
    message it replies to if `quote`.

    Participants are held to the room's rules: its phase, lock, their mute, slow mode (one
    message per N seconds) and pre-moderation (the message waits for a moderator)."""
    client_key = clean_text(client_key, field="client_key", max_length=64) or None
    existing = _resent(actor, client_key, room_id=room.id, backchannel=backchannel)
    if existing is not None:
        return existing
    if backchannel:
        _require(permissions.can_post_in_backchannel(actor, room), room, actor)
    else:
        _require(permissions.can_post_in_room(actor, room), room, actor)
    if parent is not None:
        if parent.room_id != room.id or parent.backchannel != backchannel:
            raise ValidationError(_l("You can only reply to a message of this room."))
        require_reply(actor, parent)
    moderator = permissions.can_moderate_room(actor, room)
    if not backchannel and not moderator and room.slow_mode_seconds:
        _enforce_slow_mode(actor, room)
    body = _clean_body(body)
    post = Post(
        room=room, author=actor, parent=parent, quoted_post=_quoted(parent, quote),
        body=body, body_html=render_post(body),
        backchannel=backchannel, client_key=client_key,
        status=PostStatus.PENDING if room.premoderated and not moderator and not backchannel
        else PostStatus.PUBLISHED,
    )
    return _store(actor, post, "post.created" if post.is_published else "post.pending")


def _enforce_slow_mode(actor: User, room: Room) -> None:
    last = db.session.scalar(select(func.max(Post.created_at)).where(
        Post.room_id == room.id, Post.author_id == actor.id, Post.backchannel.is_(False)))
    if last is None:
        return
    wait = last + timedelta(seconds=room.slow_mode_seconds) - utcnow()
    if wait.total_seconds() > 0:
        seconds = math.ceil(wait.total_seconds())
        raise TooSoon(_l("Slow mode is on: you can post again in %(seconds)d seconds.", seconds=seconds),
                      retry_after=seconds)


def _post_by_client_key(actor: User, client_key: str) -> Post | None:
    return db.session.scalar(select(Post).where(Post.author_id == actor.id, Post.client_key == client_key))


def edit_post(actor: User, post: Post, *, body: str, subject: str = "", stance: str | None = None) -> bool:
    """Change a post's text, keeping the earlier version, and a response's stance on a
    proposal (None keeps it: services/stances.py). Returns whether anything changed. A new
    stance alone changes no text: no earlier version is kept, and the post is not marked
    edited."""
    require_edit(actor, post)
    stance = stances.edited_stance(post, stance)
    body = _clean_body(body)
    subject = _clean_subject(subject)
    if body == post.body and subject == post.subject:
        if stance == post.stance:
            return False
        post.stance = stance
        db.session.flush()
        events.record("post.updated", post)
        return True
    post.stance = stance
    old_body = post.body
    now = utcnow()
    post.revisions.append(PostRevision(
        subject=post.subject, body=post.body, written_at=post.edited_at or post.created_at,
        replaced_at=now, editor_id=actor.id,
    ))
    post.subject = subject
    post.body = body
    post.body_html = render_post(body)
    post.edited_at = now
    db.session.flush()
    events.record("post.updated", post)
    notifications.post_edited(post, old_body)
    return True


def delete_post(actor: User, post: Post) -> None:
    """The text goes, earlier versions too (erasure, not hiding); the post's place in the
    thread stays, so that its replies still make sense."""
    if not permissions.can_delete_post(actor, post):
        raise PermissionDenied()
    post.deleted_at = utcnow()
    post.subject = ""
    post.body = ""
    post.body_html = ""
    post.stance = None  # an opinion goes with the words
    post.revisions.clear()
    db.session.flush()
    events.record("post.deleted", post)
    notifications.moderated(actor, post, "post.deleted")  # when someone else (a moderator) deleted it


def endorse(actor: User, post: Post) -> None:
    _require(permissions.can_endorse(actor, post), _place(post), actor)
    try:
        with db.session.begin_nested():
            db.session.add(Endorsement(post_id=post.id, user_id=actor.id))
    except IntegrityError:
        return  # already endorsed: endorsing twice is the same as once
    db.session.execute(update(Post).where(Post.id == post.id)
                       .values(endorsement_count=Post.endorsement_count + 1))
    db.session.refresh(post, ["endorsement_count"])
    events.record("post.endorsed", post)
    notifications.post_endorsed(post, actor)


def withdraw_endorsement(actor: User, post: Post) -> None:
    # Endorsements freeze with the consultation: withdrawing follows the rule for endorsing.
    _require(permissions.can_endorse(actor, post), _place(post), actor)
    removed = db.session.execute(
        Endorsement.__table__.delete().where(Endorsement.post_id == post.id, Endorsement.user_id == actor.id)
    ).rowcount
    if removed:
        db.session.execute(update(Post).where(Post.id == post.id)
                           .values(endorsement_count=Post.endorsement_count - removed))
        db.session.refresh(post, ["endorsement_count"])
        events.record("post.endorsed", post)


# --- Reading ------------------------------------------------------------------------

@dataclass
class ThreadNode:
    post: Post
    children: list[ThreadNode] = field(default_factory=list)


@dataclass
class ResponsePage:
    threads: list[ThreadNode]
    total: int
    page: int
    pages: int
    endorsed_ids: set[int]


def endorsed_by(viewer, post_ids: list[int]) -> set[int]:
    if not (viewer and viewer.is_authenticated) or not post_ids:
        return set()
    return set(db.session.scalars(select(Endorsement.post_id).where(
        Endorsement.user_id == viewer.id, Endorsement.post_id.in_(post_ids))))


def _threads(responses: list[Post]) -> list[ThreadNode]:
    """The responses with all their replies, in two queries whatever the page holds."""
    if not responses:
        return []
    replies = db.session.scalars(
        select(Post).options(joinedload(Post.author))
        .where(Post.thread_id.in_([r.id for r in responses]), Post.parent_id.is_not(None))
        .order_by(Post.created_at, Post.id)
    ).all()
    children: dict[int, list[ThreadNode]] = defaultdict(list)
    nodes = {p.id: ThreadNode(p) for p in replies}
    for reply in replies:
        children[reply.parent_id].append(nodes[reply.id])
    for node in nodes.values():
        node.children = children[node.post.id]
    return [ThreadNode(r, children[r.id]) for r in responses]


def _responses_of(consultation: Consultation, topic_id: int | None, stance: Stance | None) -> list:
    """The conditions of a listing of top-level responses, of one topic and of one `stance` if
    given (those counted for it: on a proposal topic, neither hidden nor deleted)."""
    where = [Post.consultation_id == consultation.id, Post.parent_id.is_(None)]
    if topic_id is not None:
        where.append(Post.topic_id == topic_id)
    if stance is not None:
        proposals = [t.id for t in consultation.topics if t.is_proposal]
        where += [Post.stance == stance, Post.topic_id.in_(proposals), Post.hidden_at.is_(None),
                  Post.deleted_at.is_(None)]
    return where


def list_responses(viewer, consultation: Consultation, *, topic_id: int | None = None,
                   sort: str = "newest", page: int = 1, stance: Stance | None = None) -> ResponsePage:
    """A page of top-level responses, of one topic and of one `stance` if given (those
    counted for it: on a proposal topic, neither hidden nor deleted)."""
    per_page = current_app.config["RESPONSES_PER_PAGE"]
    where = _responses_of(consultation, topic_id, stance)
    total = db.session.scalar(select(func.count(Post.id)).where(*where))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    order = {
        "newest": (Post.created_at.desc(), Post.id.desc()),
        "oldest": (Post.created_at.asc(), Post.id.asc()),
        "endorsed": (Post.endorsement_count.desc(), Post.created_at.desc(), Post.id.desc()),
    }[sort if sort in SORTS else "newest"]
    responses = db.session.scalars(
        select(Post).options(joinedload(Post.author), joinedload(Post.topic))
        .where(*where).order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    threads = _threads(list(responses))
    ids = [n.post.id for n in threads] + [c.post.id for n in threads for c in _walk(n.children)]
    return ResponsePage(threads, total, page, pages, endorsed_by(viewer, ids))


@dataclass
class ResponseSlice:
    responses: list[Post]
    endorsed_ids: set[int]


def responses_from(viewer, consultation: Consultation, *, limit: int, after_id: int = 0, oldest_first: bool = False,
                   topic_id: int | None = None, stance: Stance | None = None) -> ResponseSlice:
    """Up to `limit` top-level responses in the order of their ids, newest (or oldest) first,
    from the one after `after_id` (0: from the start): a listing that a cursor pages through
    without skipping or repeating a response when others arrive meanwhile. The same
    conditions as `list_responses`; the caller's endorsements in one more query."""
    where = _responses_of(consultation, topic_id, stance)
    if after_id:
        where.append(Post.id > after_id if oldest_first else Post.id < after_id)
    responses = list(db.session.scalars(
        select(Post).options(joinedload(Post.author), joinedload(Post.topic))
        .where(*where).order_by(Post.id.asc() if oldest_first else Post.id.desc()).limit(limit)))
    return ResponseSlice(responses, endorsed_by(viewer, [p.id for p in responses]))


def versions(viewer, post: Post) -> list[PostRevision]:
    """A post's earlier versions, newest first, where its page shows them: not of a deleted
    post (its versions are erased with it), nor of a hidden one to readers who see only its
    placeholder."""
    if post.is_deleted or (post.is_hidden and not permissions.can_read_hidden_text(viewer, post)):
        raise NotFound()
    return list(reversed(post.revisions))


def _walk(nodes: list[ThreadNode]):
    for node in nodes:
        yield node
        yield from _walk(node.children)


def thread(viewer, post: Post) -> ResponsePage:
    """One response with its replies (the permalink view of any post in it)."""
    root = post if post.parent_id is None else db.session.get(Post, post.thread_id)
    threads = _threads([root])
    ids = [root.id] + [c.post.id for c in _walk(threads[0].children)]
    return ResponsePage(threads, 1, 1, 1, endorsed_by(viewer, ids))


def topic_counts(consultation: Consultation) -> dict[int, int]:
    """Number of responses per topic, for the topic filter."""
    return dict(db.session.execute(
        select(Post.topic_id, func.count(Post.id))
        .where(Post.consultation_id == consultation.id, Post.parent_id.is_(None))
        .group_by(Post.topic_id)
    ).all())
