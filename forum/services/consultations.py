"""Consultations: their settings, topics and hosts, life cycle and listing."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import selectinload

from forum import permissions
from forum.extensions import db
from forum.models import Consultation, Host, Post, Tag, Topic, User, consultation_tags
from forum.models.base import utcnow
from forum.models.consultations import STATUS_LABELS, ConsultationStatus, Visibility
from forum.models.users import find_user_by_email
from forum.services import events, notifications
from forum.services.errors import NotFound, PermissionDenied, ValidationError
from forum.services.text import clean_text

MAX_TAGS = 8
MAX_TOPICS = 30
MAX_HOSTS = 20
MAX_QUESTIONS = 12
_TAG = re.compile(r"^[\w-]{1,40}$")

# Which status changes an organiser may make.
TRANSITIONS = {
    ConsultationStatus.DRAFT: {ConsultationStatus.OPEN},
    ConsultationStatus.OPEN: {ConsultationStatus.CLOSED},
    ConsultationStatus.CLOSED: {ConsultationStatus.OPEN},
}


@dataclass
class ConsultationInput:
    title: str
    brief: str = ""
    tags: str = ""
    visibility: str = Visibility.PUBLIC.value
    opens_at: datetime | None = None
    closes_at: datetime | None = None


@dataclass
class TopicInput:
    title: str
    description: str = ""
    guiding_questions: list[str] = field(default_factory=list)
    # Its responses take a stance (services/stances.py); turned off, the stances stay stored, unshown.
    is_proposal: bool = False


@dataclass
class HostInput:
    name: str
    role: str = ""
    organisation: str = ""
    account_email: str = ""


def _require_edit(actor: User, consultation: Consultation) -> None:
    if not permissions.can_edit_consultation(actor, consultation):
        raise PermissionDenied()


def parse_tags(text: str) -> list[str]:
    """'#Integration, #Labour-market' -> ['Integration', 'Labour-market']."""
    text = clean_text(text, field="tags", max_length=400)
    names: list[str] = []
    for raw in re.split(r"[\s,]+", text):
        name = raw.lstrip("#")
        if not name:
            continue
        if not _TAG.match(name):
            raise ValidationError(
                _l("Tags are single words of letters, digits, '-' or '_', such as #Integration."),
                field="tags")
        if name.lower() not in {n.lower() for n in names}:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise ValidationError(_l("Use at most %(max)d tags.", max=MAX_TAGS), field="tags")
    return names


def _tags_for(names: list[str]) -> list[Tag]:
    slugs = [n.lower() for n in names]
    existing = {t.slug: t for t in db.session.scalars(select(Tag).where(Tag.slug.in_(slugs)))}
    tags = []
    for name in names:
        tag = existing.get(name.lower())
        if tag is None:
            tag = Tag(name=name, slug=name.lower())
            db.session.add(tag)
            existing[tag.slug] = tag
        tags.append(tag)
    return tags


def _apply(consultation: Consultation, data: ConsultationInput) -> None:
    from forum.rendering import render_markdown

    consultation.title = clean_text(data.title, field="title", max_length=300, required=True)
    consultation.brief = clean_text(data.brief, field="brief", max_length=20_000, multiline=True)
    consultation.brief_html = render_markdown(consultation.brief, document=True)
    consultation.tags = _tags_for(parse_tags(data.tags))
    try:
        consultation.visibility = Visibility(data.visibility)
    except ValueError:
        raise ValidationError(_l("Choose who can read this consultation."), field="visibility") from None
    for name, value in (("opens_at", data.opens_at), ("closes_at", data.closes_at)):
        if value is not None and not 1900 <= value.year <= 9000:
            raise ValidationError(_l("Choose a date between the years 1900 and 9000."), field=name)
    if data.opens_at and data.closes_at and data.closes_at <= data.opens_at:
        raise ValidationError(_l("The closing time must be after the opening time."), field="closes_at")
    consultation.opens_at = data.opens_at
    consultation.closes_at = data.closes_at


def create_consultation(actor: User, data: ConsultationInput) -> Consultation:
    if not permissions.can_create_consultation(actor):
        raise PermissionDenied()
    consultation = Consultation(owner=actor, status=ConsultationStatus.DRAFT)
    _apply(consultation, data)
    db.session.add(consultation)
    db.session.flush()
    notifications.follow_own_consultation(actor, consultation)
    return consultation


def update_consultation(actor: User, consultation: Consultation, data: ConsultationInput) -> None:
    _require_edit(actor, consultation)
    was_public = consultation.visibility is Visibility.PUBLIC
    _apply(consultation, data)
    db.session.flush()
    if was_public and consultation.visibility is not Visibility.PUBLIC:
        # Anonymous readers following it live must stop receiving it.
        events.reauthorise_stream_after_commit(events.consultation_stream(consultation))


def set_status(actor: User, consultation: Consultation, status: str) -> None:
    _require_edit(actor, consultation)
    try:
        target = ConsultationStatus(status)
    except ValueError:
        raise ValidationError(_l("Unknown status.")) from None
    if target not in TRANSITIONS[consultation.status]:
        raise ValidationError(_l("A consultation cannot go from “%(from)s” to “%(to)s”.",
                                 **{"from": STATUS_LABELS[consultation.status], "to": STATUS_LABELS[target]}))
    if target is ConsultationStatus.OPEN:
        if not consultation.topics:
            raise ValidationError(_l("Add at least one topic before opening the consultation."))
        if consultation.closes_at and consultation.closes_at <= utcnow():
            raise ValidationError(_l("The closing time has passed: move it to the future first."))
    consultation.status = target
    db.session.flush()


# --- Topics -------------------------------------------------------------------------

def _apply_topic(topic: Topic, data: TopicInput) -> None:
    topic.title = clean_text(data.title, field="title", max_length=200, required=True)
    topic.description = clean_text(data.description, field="description", max_length=4000, multiline=True)
    questions = [clean_text(q, field="guiding_questions", max_length=500) for q in data.guiding_questions]
    questions = [q for q in questions if q]
    if len(questions) > MAX_QUESTIONS:
        raise ValidationError(_l("Use at most %(max)d guiding questions.", max=MAX_QUESTIONS),
                              field="guiding_questions")
    topic.guiding_questions = questions
    topic.is_proposal = bool(data.is_proposal)


def add_topic(actor: User, consultation: Consultation, data: TopicInput) -> Topic:
    _require_edit(actor, consultation)
    if len(consultation.topics) >= MAX_TOPICS:
        raise ValidationError(_l("A consultation has at most %(max)d topics.", max=MAX_TOPICS))
    topic = Topic(position=len(consultation.topics) + 1)
    _apply_topic(topic, data)
    consultation.topics.append(topic)
    db.session.flush()
    notifications.topic_added(actor, topic)
    return topic


def update_topic(actor: User, topic: Topic, data: TopicInput) -> None:
    _require_edit(actor, topic.consultation)
    _apply_topic(topic, data)
    db.session.flush()


# Topics and hosts are both ordered lists of a consultation, numbered from 1.

def _renumber(items) -> None:
    for position, each in enumerate(items, start=1):
        each.position = position


def _move(items: list, item, offset: int) -> None:
    index = items.index(item)
    target = index + offset
    if not 0 <= target < len(items):
        raise ValidationError(_l("It cannot move further in that direction."))
    items[index], items[target] = items[target], items[index]
    _renumber(items)


def _by_id(items, item_id: int):
    for item in items:
        if item.id == item_id:
            return item
    raise NotFound()


def move_topic(actor: User, topic: Topic, offset: int) -> None:
    _require_edit(actor, topic.consultation)
    _move(list(topic.consultation.topics), topic, offset)
    db.session.flush()
    db.session.expire(topic.consultation, ["topics"])


def delete_topic(actor: User, topic: Topic) -> None:
    consultation = topic.consultation
    _require_edit(actor, consultation)
    if db.session.scalar(select(func.count()).where(Post.topic_id == topic.id)):
        raise ValidationError(_l("This topic already has responses, so it cannot be removed."))
    consultation.topics.remove(topic)
    _renumber(consultation.topics)
    db.session.flush()


def topic_of(consultation: Consultation, topic_id: int) -> Topic:
    return _by_id(consultation.topics, topic_id)


# --- Hosts --------------------------------------------------------------------------

def _apply_host(host: Host, data: HostInput) -> None:
    host.name = clean_text(data.name, field="name", max_length=120, required=True)
    host.role = clean_text(data.role, field="role", max_length=120)
    host.organisation = clean_text(data.organisation, field="organisation", max_length=160)
    email = clean_text(data.account_email, field="account_email", max_length=254)
    if not email:
        host.user = None
        return
    user = find_user_by_email(email)
    if user is None:
        raise ValidationError(_l("No account uses this email address."), field="account_email")
    host.user = user


def add_host(actor: User, consultation: Consultation, data: HostInput) -> Host:
    _require_edit(actor, consultation)
    if len(consultation.hosts) >= MAX_HOSTS:
        raise ValidationError(_l("A consultation has at most %(max)d hosts.", max=MAX_HOSTS))
    host = Host(position=len(consultation.hosts) + 1)
    _apply_host(host, data)
    consultation.hosts.append(host)
    db.session.flush()
    notifications.follow_own_consultation(host.user, consultation)
    return host


def update_host(actor: User, host: Host, data: HostInput) -> None:
    _require_edit(actor, host.consultation)
    _apply_host(host, data)
    db.session.flush()
    notifications.follow_own_consultation(host.user, host.consultation)


def move_host(actor: User, host: Host, offset: int) -> None:
    _require_edit(actor, host.consultation)
    _move(list(host.consultation.hosts), host, offset)
    db.session.flush()
    db.session.expire(host.consultation, ["hosts"])


def delete_host(actor: User, host: Host) -> None:
    consultation = host.consultation
    _require_edit(actor, consultation)
    consultation.hosts.remove(host)
    _renumber(consultation.hosts)
    db.session.flush()


def host_of(consultation: Consultation, host_id: int) -> Host:
    return _by_id(consultation.hosts, host_id)


# --- Listing ------------------------------------------------------------------------

def _visible_to(viewer):
    """The consultations a viewer may see, as a SQL condition (permissions.can_view_consultation)."""
    visible = Consultation.status != ConsultationStatus.DRAFT
    if not (viewer and viewer.is_authenticated):
        return and_(visible, Consultation.visibility == Visibility.PUBLIC)
    if viewer.is_admin:
        return true()
    hosted = select(Host.consultation_id).where(Host.user_id == viewer.id)
    return or_(visible, Consultation.owner_id == viewer.id, Consultation.id.in_(hosted))


@dataclass
class ConsultationCard:
    consultation: Consultation
    responses: int
    participants: int


def list_consultations(viewer, *, tag: str | None = None, phase: str | None = None,
                       page: int = 1, per_page: int = 20) -> tuple[list[ConsultationCard], int]:
    """Consultations the viewer may see, newest first, with their response figures."""
    now = utcnow()
    page = max(1, page)
    query = select(Consultation).where(_visible_to(viewer))
    if tag:
        slug = tag.lstrip("#").lower()
        if not _TAG.match(slug):  # a tag nobody could have created matches nothing
            return [], 0
        query = query.where(Consultation.tags.any(Tag.slug == slug))
    closed = or_(Consultation.status == ConsultationStatus.CLOSED,
                 and_(Consultation.status == ConsultationStatus.OPEN, Consultation.closes_at <= now))
    if phase == "open":
        query = query.where(Consultation.status == ConsultationStatus.OPEN,
                            or_(Consultation.closes_at.is_(None), Consultation.closes_at > now))
    elif phase == "closed":
        query = query.where(closed)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    if (page - 1) * per_page >= total:  # past the last page (and no huge OFFSET for the database)
        return [], total
    consultations = db.session.scalars(
        query.options(selectinload(Consultation.tags), selectinload(Consultation.topics))
        .order_by(Consultation.created_at.desc(), Consultation.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).unique().all()
    ids = [c.id for c in consultations]
    figures = {
        row.consultation_id: row
        for row in db.session.execute(
            select(Post.consultation_id,
                   func.count(Post.id).filter(Post.parent_id.is_(None), Post.deleted_at.is_(None)).label("responses"),
                   func.count(func.distinct(Post.author_id)).label("participants"))
            .where(Post.consultation_id.in_(ids))
            .group_by(Post.consultation_id)
        )
    } if ids else {}
    cards = [
        ConsultationCard(c, figures[c.id].responses if c.id in figures else 0,
                         figures[c.id].participants if c.id in figures else 0)
        for c in consultations
    ]
    return cards, total


def used_tags(viewer) -> list[Tag]:
    """Tags of the consultations the viewer may see, for the home page filter."""
    visible_ids = select(Consultation.id).where(_visible_to(viewer))
    return list(db.session.scalars(
        select(Tag).where(Tag.id.in_(select(consultation_tags.c.tag_id)
                                     .where(consultation_tags.c.consultation_id.in_(visible_ids))))
        .order_by(Tag.slug)))
