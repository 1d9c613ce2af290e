"""A consultation's posts: its threads (by cursor), one post, a thread, a post's versions;
responding, replying, editing, deleting and endorsing; the moderators' actions on them.

Each post is shown as its page shows it to the caller (forum/services/posts.py lists them;
templates/posts/_post.html shows them): a deleted post keeps its place without author or
words, a hidden one shows its words only to its author and the moderators. Room messages are
an event's (forum/api/events.py): under /posts/ they are not found."""
from __future__ import annotations

import functools

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from forum import permissions
from forum.api import Blueprint
from forum.api.common import (
    CursorArgs,
    PersonSchema,
    QuoteSchema,
    StrictBoolean,
    cursor_value,
    page,
    page_schema,
    quote_of,
    refusals,
)
from forum.models import Consultation, Post
from forum.ratelimits import counts_as_write
from forum.services import moderation, stances
from forum.services import posts as service
from forum.services.errors import NotFound, ValidationError

bp = Blueprint("posts", __name__, description=(
    "A consultation's responses and replies: read its threads, respond, reply, edit, delete, endorse; "
    "its moderators hide, restore, pin, lock and move them."))

STATUSES = ("published", "pending", "rejected", "hidden", "deleted")
# --- What a post looks like ---------------------------------------------------------------

class TopicRefSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    position = ma.fields.Integer(required=True, metadata={"description": "The topic's number, from 1."})
    title = ma.fields.String(required=True)


class PostSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    consultation_id = ma.fields.Integer(required=True)
    thread_id = ma.fields.Integer(required=True, metadata={"description": "The response that starts the thread."})
    parent_id = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "The post this one replies to; null for a response."})
    topic = ma.fields.Nested(TopicRefSchema, required=True)
    url = ma.fields.String(required=True, metadata={"description": "Where the post is read on the site."})
    status = ma.fields.String(required=True, metadata={"enum": list(STATUSES), "description": (
        "deleted: its words are gone; hidden: a moderator hid it (its words only for its author and the "
        "moderators)."), "example": "published"})
    author = ma.fields.Nested(PersonSchema, required=True, allow_none=True, metadata={
        "description": "null once the post is deleted."})
    author_is_host = ma.fields.Boolean(required=True, metadata={
        "description": "Its author is a host of the consultation."})
    on_behalf_of_organisation = ma.fields.Boolean(required=True)
    organisation_name = ma.fields.String(required=True, metadata={
        "description": "The organisation it speaks for (when on_behalf_of_organisation), as named when posted."})
    subject = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "null where the caller may not read its words (deleted, or hidden from them)."})
    body = ma.fields.String(required=True, allow_none=True, metadata={"description": "Markdown, as written."})
    body_html = ma.fields.String(required=True, allow_none=True, metadata={"description": "Sanitised HTML."})
    hidden_reason = ma.fields.String(required=True, allow_none=True, metadata={
        "description": "Why a moderator hid it: for its author and the moderators."})
    stance = ma.fields.String(required=True, allow_none=True, metadata={
        "enum": [*stances.CODES, None], "description": "A response's stance on a topic that is a proposal."})
    quote = ma.fields.Nested(QuoteSchema, required=True, allow_none=True)
    endorsements = ma.fields.Integer(required=True)
    endorsed = ma.fields.Boolean(required=True, metadata={"description": "The caller has endorsed it."})
    replies = ma.fields.Integer(required=True, metadata={"description": "Replies in the thread (of a response)."})
    pinned = ma.fields.Boolean(required=True)
    locked = ma.fields.Boolean(required=True, metadata={"description": "The thread takes no more replies "
                                                                        "(except from moderators)."})
    created_at = ma.fields.DateTime(required=True)
    edited_at = ma.fields.DateTime(required=True, allow_none=True)
    actions = ma.fields.List(ma.fields.String(metadata={"enum": list(permissions.POST_ACTIONS)}), required=True,
                             metadata={"description": "What the caller may do with it now."})


class ThreadPostSchema(PostSchema):
    depth = ma.fields.Integer(required=True, metadata={"description": "0 for the response, 1 for its replies, ..."})


class ThreadSchema(ma.Schema):
    thread_id = ma.fields.Integer(required=True)
    items = ma.fields.List(ma.fields.Nested(ThreadPostSchema), required=True, metadata={
        "description": "The response, then each reply after the post it answers, as the thread's page shows them."})


class VersionSchema(ma.Schema):
    current = ma.fields.Boolean(required=True)
    subject = ma.fields.String(required=True)
    body = ma.fields.String(required=True, metadata={"description": "Markdown, as written."})
    written_at = ma.fields.DateTime(required=True)
    replaced_at = ma.fields.DateTime(required=True, allow_none=True)


class VersionsSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(VersionSchema), required=True, metadata={
        "description": "The current version first, then the earlier ones, newest first."})


class EndorsementSchema(ma.Schema):
    post_id = ma.fields.Integer(required=True)
    endorsed = ma.fields.Boolean(required=True)
    endorsements = ma.fields.Integer(required=True)


PostPage = page_schema(PostSchema, "PostPage")


def _status(post: Post) -> str:
    if post.is_deleted:
        return "deleted"
    if post.is_hidden:
        return "hidden"
    return post.status.value


def shown(post: Post, endorsed_ids: set[int], **extra) -> dict:
    """The post as the caller reads it on its page."""
    viewer = current_user
    deleted = post.is_deleted
    words = not deleted and (not post.is_hidden or permissions.can_read_hidden_text(viewer, post))
    topic = post.topic
    return {
        "id": post.id, "consultation_id": post.consultation_id, "thread_id": post.thread_id,
        "parent_id": post.parent_id, "topic": topic,
        "url": url_for("posts.show", consultation_id=post.consultation_id, post_id=post.thread_id,
                       _anchor=f"post-{post.id}"),
        "status": _status(post),
        "author": None if deleted else post.author,
        "author_is_host": not deleted and post.consultation.is_host(post.author),
        "on_behalf_of_organisation": not deleted and post.on_behalf_of_organisation,
        "organisation_name": post.organisation_name if not deleted and post.on_behalf_of_organisation else "",
        "subject": post.subject if words else None,
        "body": post.body if words else None,
        "body_html": post.body_html if words else None,
        "hidden_reason": post.hidden_reason if words and post.is_hidden else None,
        "stance": post.stance.value if words and post.stance is not None and topic.is_proposal else None,
        "quote": quote_of(post.quoted_post) if words and post.quoted_post_id else None,
        "endorsements": post.endorsement_count,
        "endorsed": post.id in endorsed_ids,
        "replies": post.reply_count,
        "pinned": post.pinned_at is not None,
        "locked": post.locked_at is not None,
        "created_at": post.created_at,
        "edited_at": post.edited_at if words else None,
        "actions": sorted(permissions.post_actions(permissions.reader_of(viewer, post), post),
                          key=permissions.POST_ACTIONS.index),
        **extra,
    }


def _post(post_id: int) -> Post:
    """A post of a consultation that the caller may read (404 otherwise)."""
    post = permissions.access_post(current_user, post_id)
    if post.consultation_id is None:
        raise NotFound()
    return post


# What an address names is found before a body is read: an address that names nothing (or
# nothing the caller may see) is a 404, whatever was sent.

def with_post(view):
    @functools.wraps(view)
    def wrapper(*args, post_id: int, **kwargs):
        return view(*args, post=_post(post_id), **kwargs)
    return wrapper


def with_consultation(view):
    @functools.wraps(view)
    def wrapper(*args, consultation_id: int, **kwargs):
        return view(*args, consultation=permissions.access_consultation(current_user, consultation_id), **kwargs)
    return wrapper


def _shown_one(post: Post) -> dict:
    return shown(post, service.endorsed_by(current_user, [post.id]))


# --- Arguments ----------------------------------------------------------------------------

class ThreadListArgs(CursorArgs):
    topic_id = ma.fields.Integer(load_default=None, metadata={"description": "Only this topic's threads."})
    stance = ma.fields.String(load_default=None, validate=ma.validate.OneOf(stances.CODES), metadata={
        "description": "Only responses to a proposal with this stance (neither hidden nor deleted)."})
    order = ma.fields.String(load_default="newest", validate=ma.validate.OneOf(["newest", "oldest"]))


class _NewPostArgs(ma.Schema):
    client_key = ma.fields.String(load_default=None, allow_none=True, metadata={
        "description": "Any key of yours (up to 64 characters): sending the same again returns the post "
                       "stored the first time instead of a second one."})


class RespondArgs(_NewPostArgs):
    topic_id = ma.fields.Integer(required=True, strict=True)
    subject = ma.fields.String(load_default="")
    body = ma.fields.String(required=True, metadata={"description": "Markdown."})
    stance = ma.fields.String(load_default=None, allow_none=True, metadata={
        "enum": [*stances.CODES, None], "description": "Required for a topic that is a proposal; none otherwise."})
    on_behalf_of_organisation = StrictBoolean(load_default=False)


class ReplyArgs(_NewPostArgs):
    body = ma.fields.String(required=True, metadata={"description": "Markdown."})
    quote = StrictBoolean(load_default=False, metadata={"description": "Quote the post replied to above the reply."})
    on_behalf_of_organisation = StrictBoolean(load_default=False)


class EditArgs(ma.Schema):
    subject = ma.fields.String(metadata={"description": "Left out: unchanged."})
    body = ma.fields.String(metadata={"description": "Markdown. Left out: unchanged."})
    stance = ma.fields.String(allow_none=True, metadata={
        "enum": [*stances.CODES, None], "description": "A response's to a proposal; left out or null: unchanged."})

    @ma.validates_schema
    def _something_to_change(self, data, **kwargs):
        if not data:
            raise ma.ValidationError(_("Send at least one of subject, body and stance."))


# --- Operations ---------------------------------------------------------------------------
# One resource (a class) per address that takes several methods: Werkzeug answers an id out of
# range (forum/web/requests.py's IdConverter) with a 405 naming the methods of the address's
# other rules, where one rule per address gives the 404 every other address gives.

@bp.route("/consultations/<int:consultation_id>/posts", endpoint="consultation_posts")
class ConsultationPosts(MethodView):
    @with_consultation
    @bp.arguments(ThreadListArgs, location="query", as_kwargs=True)
    @bp.response(200, PostPage)
    @refusals(400, 401, 404)
    def get(self, cursor, limit, topic_id, stance, order, consultation: Consultation):
        """The consultation's threads: its responses (top-level posts), newest first by default.
        Read a thread's replies with /posts/{post_id}/thread."""
        if topic_id is not None and topic_id not in {t.id for t in consultation.topics}:
            raise ValidationError(_l("Choose one of this consultation's topics."), field="topic_id")
        listing = service.responses_from(current_user, consultation, limit=limit + 1,
                                         after_id=cursor_value(cursor), oldest_first=order == "oldest",
                                         topic_id=topic_id, stance=stances.parse(stance))
        return page([shown(p, listing.endorsed_ids) for p in listing.responses], limit, lambda item: item["id"])

    @counts_as_write
    @with_consultation
    @bp.arguments(RespondArgs)
    @bp.response(201, PostSchema)
    @refusals(400, 401, 403, 404, 429)
    def post(self, args, consultation: Consultation):
        """Respond to one of the consultation's topics: a new thread."""
        post = service.create_post(current_user, consultation, topic_id=args["topic_id"], subject=args["subject"],
                                   body=args["body"], stance=args["stance"],
                                   on_behalf_of_organisation=args["on_behalf_of_organisation"],
                                   client_key=args["client_key"])
        return _shown_one(post)


@bp.route("/posts/<int:post_id>", endpoint="post")
class PostResource(MethodView):
    @with_post
    @bp.response(200, PostSchema)
    @refusals(401, 404)
    def get(self, post: Post):
        """One post (a response or a reply)."""
        return _shown_one(post)

    @counts_as_write
    @with_post
    @bp.arguments(EditArgs)
    @bp.response(200, PostSchema)
    @refusals(400, 401, 403, 404, 429)
    def patch(self, args, post: Post):
        """Edit one's post: its earlier text is kept in its versions."""
        service.edit_post(current_user, post, subject=args.get("subject", post.subject),
                          body=args.get("body", post.body), stance=args.get("stance"))
        return _shown_one(post)

    @counts_as_write
    @with_post
    @bp.response(204)
    @refusals(400, 401, 403, 404, 429)
    def delete(self, post: Post):
        """Delete a post (one's own; a consultation's organiser any): its words and earlier
        versions go, its place in the thread stays."""
        service.delete_post(current_user, post)


@bp.get("/posts/<int:post_id>/thread")
@with_post
@bp.response(200, ThreadSchema)
@refusals(401, 404)
def get_thread(post: Post):
    """The thread a post belongs to: its response and every reply, in the thread page's order."""
    listing = service.thread(current_user, post)
    items: list[dict] = []

    def walk(nodes, depth: int) -> None:
        for node in nodes:
            items.append(shown(node.post, listing.endorsed_ids, depth=depth))
            walk(node.children, depth + 1)

    walk(listing.threads, 0)
    return {"thread_id": listing.threads[0].post.id, "items": items}


@bp.get("/posts/<int:post_id>/versions")
@with_post
@bp.response(200, VersionsSchema)
@refusals(401, 404)
def get_versions(post: Post):
    """A post's edit history, where its page shows one: none of a deleted post, nor of a hidden
    post for readers who see only that it was hidden."""
    earlier = service.versions(current_user, post)
    current = {"current": True, "subject": post.subject, "body": post.body,
               "written_at": post.edited_at or post.created_at, "replaced_at": None}
    return {"items": [current] + [{"current": False, "subject": r.subject, "body": r.body,
                                   "written_at": r.written_at, "replaced_at": r.replaced_at} for r in earlier]}


@bp.post("/posts/<int:post_id>/replies")
@counts_as_write
@with_post
@bp.arguments(ReplyArgs)
@bp.response(201, PostSchema)
@refusals(400, 401, 403, 404, 429)
def reply(args, post: Post):
    """Reply to a post (in its thread), quoting it if asked."""
    new = service.create_post(current_user, post.consultation, parent=post, body=args["body"],
                              quote=args["quote"], on_behalf_of_organisation=args["on_behalf_of_organisation"],
                              client_key=args["client_key"])
    return _shown_one(new)


def _endorsement(post: Post) -> dict:
    return {"post_id": post.id, "endorsed": bool(service.endorsed_by(current_user, [post.id])),
            "endorsements": post.endorsement_count}


@bp.route("/posts/<int:post_id>/endorsement", endpoint="endorsement")
class EndorsementResource(MethodView):
    @counts_as_write
    @with_post
    @bp.response(200, EndorsementSchema)
    @refusals(400, 401, 403, 404, 429)
    def put(self, post: Post):
        """Endorse a post (someone else's); endorsing again changes nothing."""
        service.endorse(current_user, post)
        return _endorsement(post)

    @counts_as_write
    @with_post
    @bp.response(200, EndorsementSchema)
    @refusals(400, 401, 403, 404, 429)
    def delete(self, post: Post):
        """Withdraw one's endorsement; withdrawing none changes nothing."""
        service.withdraw_endorsement(current_user, post)
        return _endorsement(post)


class ReasonArgs(ma.Schema):
    reason = ma.fields.String(required=True)


class FlagArgs(ma.Schema):
    reason = ma.fields.String(required=True, metadata={"description": "What is wrong with it; only the "
                                                                      "moderators read it."})


class MoveArgs(ma.Schema):
    topic_id = ma.fields.Integer(required=True, strict=True, metadata={"description": "Another topic of the "
                                                                                      "consultation."})


@bp.post("/posts/<int:post_id>/flag")
@counts_as_write
@with_post
@bp.arguments(FlagArgs)
@bp.response(200, PostSchema)
@refusals(400, 401, 403, 404, 409, 429)
def flag(args, post: Post):
    """Report a post to its moderators (once per post)."""
    moderation.flag_post(current_user, post, args["reason"])
    return _shown_one(post)


# --- Moderating ---------------------------------------------------------------------------
# Moderators' tools, like their pages, are not counted in the writing allowance.

# The same shape as a room message's (forum/api/messages.py): a state a moderator puts (PUT)
# or takes away (DELETE).

@bp.route("/posts/<int:post_id>/hidden", endpoint="hidden")
class Hidden(MethodView):
    @with_post
    @bp.arguments(ReasonArgs)
    @bp.response(200, PostSchema)
    @refusals(400, 401, 403, 404, 409)
    def put(self, args, post: Post):
        """Hide a post, saying why: its author and the moderators still read it, with the reason."""
        moderation.hide_post(current_user, post, args["reason"])
        return _shown_one(post)

    @with_post
    @bp.response(200, PostSchema)
    @refusals(401, 403, 404, 409)
    def delete(self, post: Post):
        """Show a hidden post again."""
        return _moderate(post, moderation.restore_post)


def _moderate(post: Post, action) -> dict:
    action(current_user, post)
    return _shown_one(post)


@bp.route("/posts/<int:post_id>/pinned", endpoint="pinned")
class Pinned(MethodView):
    @with_post
    @bp.response(200, PostSchema)
    @refusals(401, 403, 404, 409)
    def put(self, post: Post):
        """Pin a post: it is marked for every reader."""
        return _moderate(post, moderation.pin_post)

    @with_post
    @bp.response(200, PostSchema)
    @refusals(401, 403, 404, 409)
    def delete(self, post: Post):
        """Unpin a post."""
        return _moderate(post, moderation.unpin_post)


@bp.route("/posts/<int:post_id>/locked", endpoint="locked")
class Locked(MethodView):
    @with_post
    @bp.response(200, PostSchema)
    @refusals(400, 401, 403, 404, 409)
    def put(self, post: Post):
        """Close a thread to replies (except the moderators'): a response only."""
        return _moderate(post, moderation.lock_thread)

    @with_post
    @bp.response(200, PostSchema)
    @refusals(400, 401, 403, 404, 409)
    def delete(self, post: Post):
        """Open a locked thread to replies again."""
        return _moderate(post, moderation.unlock_thread)


@bp.post("/posts/<int:post_id>/dismiss-flags")
@with_post
@bp.response(200, PostSchema)
@refusals(400, 401, 403, 404, 409)
def dismiss_flags(post: Post):
    """Close the post's open reports without acting on it."""
    return _moderate(post, moderation.dismiss_flags)


@bp.post("/posts/<int:post_id>/move")
@with_post
@bp.arguments(MoveArgs)
@bp.response(200, PostSchema)
@refusals(400, 401, 403, 404)
def move(args, post: Post):
    """Move a thread (a response and its replies) to another topic of the consultation."""
    topic = next((t for t in post.consultation.topics if t.id == args["topic_id"]), None)
    try:
        if topic is None:
            raise ValidationError(_l("Choose one of this consultation's topics."), field="topic_id")
        moderation.move_post(current_user, post, topic=topic)
    except ValidationError as error:
        if error.field == "destination":  # the pages' name for it
            error.field = "topic_id"
        raise
    return _shown_one(post)
