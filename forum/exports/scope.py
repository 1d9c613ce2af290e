"""What an export covers, who may have it, and how people are named in it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import Select, select

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Event, Post, PostStatus, Room, Topic, User
from forum.services.errors import LoginRequired, NotFound, RoomRefused

KINDS = ("thread", "topic", "room", "consultation", "event")


@dataclass
class Scope:
    """A place to export. `sections` are the consultation's topics or the event's rooms
    (plenary first) that the export goes through, in order; `moderators_view` says whether
    hidden posts are included (marked hidden)."""
    kind: str
    id: int
    title: str
    consultation: Consultation | None = None
    event: Event | None = None
    sections: list[Topic | Room] = field(default_factory=list)
    thread: Post | None = None
    moderators_view: bool = True
    viewer: User | None = None  # who exports (what they may see of polls: forum/exports/polls.py)

    @property
    def is_event(self) -> bool:
        return self.event is not None

    def posts(self) -> Select:
        """The posts of the export, oldest first: published ones (hidden ones only in the
        moderators' view), never the moderators' back-channel; deleted ones keep their place
        without their text."""
        query = select(Post).where(Post.status == PostStatus.PUBLISHED, Post.backchannel.is_(False))
        if self.thread is not None:
            query = query.where(Post.thread_id == self.thread.id)
        elif self.is_event:
            query = query.where(Post.room_id.in_([room.id for room in self.sections]))
        else:
            query = query.where(Post.topic_id.in_([topic.id for topic in self.sections]))
        if not self.moderators_view:
            query = query.where(Post.hidden_at.is_(None))
        return query.order_by(Post.created_at, Post.id)


def resolve(actor, kind: str, object_id: int, *, public: bool = False) -> Scope:
    """The scope `kind` `object_id` for `actor`: the moderators' view for those allowed it,
    or with `public` a consultation's public summary. Anything else answers "not found"
    (even where a page would say "log in" or "not your room": exports are for moderators)."""
    try:
        scope = _resolve(actor, kind, object_id, public=public)
    except (LoginRequired, RoomRefused):
        raise NotFound() from None
    scope.viewer = actor if getattr(actor, "is_authenticated", False) else None
    return scope


def _resolve(actor, kind: str, object_id: int, *, public: bool = False) -> Scope:
    if kind not in KINDS or not permissions.valid_id(object_id):
        raise NotFound()
    if public:
        if kind != "consultation":
            raise NotFound()
        consultation = permissions.access_consultation(actor, object_id)
        if not permissions.can_view_summary(actor, consultation):
            raise NotFound()
        return Scope(kind, consultation.id, consultation.title, consultation=consultation,
                     sections=list(consultation.topics), moderators_view=False)
    if kind == "consultation":
        consultation = permissions.access_consultation(actor, object_id)
        _require(permissions.can_export_consultation(actor, consultation))
        return Scope(kind, consultation.id, consultation.title, consultation=consultation,
                     sections=list(consultation.topics))
    if kind == "topic":
        topic = db.session.get(Topic, object_id)
        if topic is None:
            raise NotFound()
        permissions.access_consultation(actor, topic.consultation_id)
        _require(permissions.can_export_topic(actor, topic))
        return Scope(kind, topic.id, _("Topic %(number)d: %(title)s", number=topic.position, title=topic.title),
                     consultation=topic.consultation, sections=[topic])
    if kind == "event":
        event = permissions.access_event(actor, object_id)
        _require(permissions.can_export_event(actor, event))
        return Scope(kind, event.id, event.title, event=event, sections=list(event.rooms))
    if kind == "room":
        room = permissions.access_room(actor, object_id)
        _require(permissions.can_export_room(actor, room))
        return Scope(kind, room.id, room.title, event=room.event, sections=[room])
    post = permissions.access_post(actor, object_id)
    root = post if post.parent_id is None else db.session.get(Post, post.thread_id)
    _require(permissions.can_moderate_post(actor, root) and not root.backchannel)
    place = root.room if root.room_id is not None else root.topic
    if root.is_hidden or root.is_deleted:  # neither its subject nor its author may show
        title = _("Thread %(number)d", number=root.id)
    else:
        title = root.subject or _("Thread started by %(name)s", name=author_label(root.author))
    return Scope(kind, root.id, title, consultation=root.consultation, event=place.event if root.room_id else None,
                 sections=[place], thread=root)


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotFound()


def author_label(user: User) -> str:
    """How a person appears in a report: their name, or, if they chose not to be named,
    "Participant (country, organisation type)"; a closed account, "Former participant"."""
    if user.closed_at is not None:
        return user.display_name  # "Former participant", in the report's language
    if user.named_in_reports:
        return user.display_name
    return _("Participant (%(country)s, %(organisation_type)s)", country=user.country,
             organisation_type=user.organisation_type_label)


def organisation_label(user: User, post: Post | None = None) -> str:
    """The organisation shown with a post; none for people who chose not to be named, even
    for a post on its behalf (the organisation would name them), nor for a closed account."""
    if not user.named_in_reports or user.closed_at is not None:
        return ""
    if post is not None and post.on_behalf_of_organisation:
        return post.organisation_name
    return user.organisation


def owner_of(kind: str, object_id: int) -> User | None:
    """Who owns what a scope names (the organiser), for exports run from the command line."""
    if kind not in KINDS or not permissions.valid_id(object_id):
        return None
    model = {"consultation": Consultation, "topic": Topic, "event": Event, "room": Room, "thread": Post}[kind]
    thing = db.session.get(model, object_id)
    if thing is None:
        return None
    if isinstance(thing, Topic):
        thing = thing.consultation
    elif isinstance(thing, Room):
        thing = thing.event
    elif isinstance(thing, Post):
        thing = thing.room.event if thing.room_id is not None else thing.consultation
    return thing.owner


SLUG_MAX = 60  # characters of the title in a file name: room for the rest within most limits


def slug(title: str, max_length: int = SLUG_MAX) -> str:
    """The title in lower-case ASCII words joined by hyphens, cut after the last whole word
    that fits ("Accueil des réfugiés à Zürich" -> "accueil-des-refugies-a-zurich"); a first
    word longer than the limit is cut, and a title with no letters gives "export"."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", " ", ascii_title.lower()).split()
    kept = ""
    for word in words:
        longer = f"{kept}-{word}" if kept else word
        if len(longer) > max_length:
            break
        kept = longer
    return kept or (words[0][:max_length] if words else "export")


def filename_for(scope, extension: str) -> str:
    """A plain ASCII file name from the scope's title, e.g. "plenary-consultation-12-housing.csv"."""
    return f"plenary-{scope.kind}-{scope.id}-{slug(scope.title)}.{extension}"
