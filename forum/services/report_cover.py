"""What the organiser writes into the reports of an event or a consultation (docs/exports.md,
"Summary and next steps"): an executive summary, next steps and recommendations (Markdown),
and a logo for the cover; and the draft they start from, made from the key figures, the
most endorsed takeaways and the questions participants left open.

The draft reads a handful of grouped figures and at most DRAFT_POSTS posts: it is made inside
the request that shows the form, whatever the size of the event."""
from __future__ import annotations

import io

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from forum import permissions
from forum.exports.participation import attendance, counted
from forum.extensions import db
from forum.models import Consultation, Event, Post, ReportCover, Room, Takeaway, User
from forum.models.base import utcnow
from forum.rendering import render_markdown
from forum.services import audit
from forum.services.errors import PermissionDenied, ValidationError
from forum.services.text import clean_text

MAX_TEXT = 20_000
MAX_LOGO_BYTES = 512 * 1024  # as uploaded (a request is at most MAX_CONTENT_LENGTH, 1 MB)
LOGO_BOX = (600, 240)  # the largest logo kept, in pixels: it is resized to fit inside
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
DRAFT_POSTS = 200  # the most endorsed posts the draft's open questions are looked for in
DRAFT_TAKEAWAYS = 2  # per room


def cover_of(thing: Event | Consultation) -> ReportCover | None:
    column = ReportCover.event_id if isinstance(thing, Event) else ReportCover.consultation_id
    return db.session.scalar(select(ReportCover).where(column == thing.id))


def _require(actor: User, thing: Event | Consultation) -> None:
    if not permissions.can_write_report(actor, thing):
        raise PermissionDenied()


def save(actor: User, thing: Event | Consultation, *, summary: str, next_steps: str,
         logo: bytes | None = None, remove_logo: bool = False) -> ReportCover:
    """Store the texts (and a new logo, or none); everything is checked before anything changes."""
    _require(actor, thing)
    summary = clean_text(summary, field="summary", max_length=MAX_TEXT, multiline=True)
    next_steps = clean_text(next_steps, field="next_steps", max_length=MAX_TEXT, multiline=True)
    image = _checked_logo(logo) if logo else None
    cover = cover_of(thing)
    if cover is None:
        cover = ReportCover(**({"event_id": thing.id} if isinstance(thing, Event) else {"consultation_id": thing.id}))
        db.session.add(cover)
    cover.summary, cover.summary_html = summary, render_markdown(summary, document=True)
    cover.next_steps, cover.next_steps_html = next_steps, render_markdown(next_steps, document=True)
    if image is not None:
        cover.logo, cover.logo_type = image
    elif remove_logo:
        cover.logo, cover.logo_type = None, ""
    cover.updated_at, cover.updated_by_id = utcnow(), actor.id
    audit.log(actor, "report.cover", **({"event": thing} if isinstance(thing, Event) else {"consultation": thing}))
    db.session.flush()
    return cover


def _checked_logo(data: bytes) -> tuple[bytes, str]:
    """A PNG or JPEG within MAX_LOGO_BYTES, decoded and written anew (fitting LOGO_BOX): what
    is stored is pixels we wrote, without the file's metadata (a photo's place and camera)."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError(_l("The logo is larger than %(size)d KB.", size=MAX_LOGO_BYTES // 1024), field="logo")
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format
            if kind not in LOGO_TYPES:
                raise ValidationError(_l("The logo must be a PNG or JPEG image."), field="logo")
            if image.width * image.height > 40_000_000:
                raise ValidationError(_l("The logo's image is too large."), field="logo")
            image.load()
            image.thumbnail(LOGO_BOX)
            converted = image.convert("RGBA" if kind == "PNG" else "RGB")
            out = io.BytesIO()
            converted.save(out, format=kind, optimize=True)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError(_l("The logo must be a PNG or JPEG image."), field="logo") from None
    return out.getvalue(), LOGO_TYPES[kind]


# --- The draft --------------------------------------------------------------------------------

def draft(thing: Event | Consultation) -> tuple[str, str]:
    """A summary and next steps to start from, in Markdown, in the current language."""
    if isinstance(thing, Event):
        return _event_summary(thing), _next_steps([room.id for room in thing.rooms], Post.room_id, thing)
    return _consultation_summary(thing), _next_steps([t.id for t in thing.topics], Post.topic_id, thing)


def _event_summary(event: Event) -> str:
    counts = attendance(event)
    totals = counts.totals
    messages = db.session.scalar(
        select(func.count()).select_from(Post).where(counted(Post.room_id, [r.id for r in event.rooms])))
    lines = [_("%(title)s took place on %(date)s. %(registered)s, %(attended)s and %(active)s, "
               "writing %(messages)s in the plenary and %(rooms)s.",
               title=event.title, date=format_date(event.starts_at, "long"),
               registered=ngettext("%(num)d person registered", "%(num)d people registered", totals.registered),
               attended=ngettext("%(num)d attended", "%(num)d attended", totals.attended),
               active=ngettext("%(num)d took an active part", "%(num)d took an active part", totals.active),
               messages=ngettext("%(num)d message", "%(num)d messages", messages),
               rooms=ngettext("%(num)d breakout room", "%(num)d breakout rooms", len(event.breakout_rooms)))]
    groups = sorted((row for row in counts.by_organisation_type if row.counts.attended),
                    key=lambda row: (-row.counts.attended, row.label))[:3]
    if groups:
        lines += ["", _("The largest groups present were %(groups)s, from %(countries)s.",
                        groups=", ".join(f"{row.label} ({row.counts.attended})" for row in groups),
                        countries=ngettext("%(num)d country", "%(num)d countries",
                                           sum(1 for row in counts.by_country if row.counts.attended)))]
    takeaways = _top_takeaways(event)
    if takeaways:
        lines += ["", _("Key takeaways:"), ""]
        lines += [f"- **{room.title}**: {' '.join(t.body.split())}" for room, t in takeaways]
    return "\n".join(lines)


def _top_takeaways(event: Event) -> list[tuple[Room, Takeaway]]:
    """Per room, the takeaways whose source messages were most endorsed (then the first ones)."""
    rows = db.session.execute(
        select(Takeaway).outerjoin(Post, Post.id == Takeaway.source_post_id)
        .where(Takeaway.room_id.in_([r.id for r in event.rooms]), Takeaway.deleted_at.is_(None))
        .order_by(Takeaway.room_id, func.coalesce(Post.endorsement_count, 0).desc(), Takeaway.position)).scalars()
    kept: dict[int, list[Takeaway]] = {}
    for takeaway in rows:
        chosen = kept.setdefault(takeaway.room_id, [])
        if len(chosen) < DRAFT_TAKEAWAYS:
            chosen.append(takeaway)
    return [(room, t) for room in event.rooms for t in kept.get(room.id, [])]


def _consultation_summary(consultation: Consultation) -> str:
    topic_ids = [t.id for t in consultation.topics]
    in_topics = counted(Post.topic_id, topic_ids)
    posts, people, responses = db.session.execute(
        select(func.count(), func.count(func.distinct(Post.author_id)),
               func.count().filter(Post.parent_id.is_(None))).where(in_topics)).one()
    countries = db.session.scalar(select(func.count(func.distinct(User.country)))
                                  .join(Post, Post.author_id == User.id).where(in_topics))
    lines = [_("%(title)s asked for views on %(topics)s. %(people)s from %(countries)s wrote %(responses)s "
               "and %(replies)s.", title=consultation.title,
               topics=ngettext("%(num)d topic", "%(num)d topics", len(topic_ids)),
               people=ngettext("%(num)d person", "%(num)d people", people),
               countries=ngettext("%(num)d country", "%(num)d countries", countries or 0),
               responses=ngettext("%(num)d response", "%(num)d responses", responses),
               replies=ngettext("%(num)d reply", "%(num)d replies", posts - responses))]
    top = db.session.scalars(select(Post).where(in_topics, Post.endorsement_count > 0)
                             .order_by(Post.endorsement_count.desc(), Post.id).limit(3)).all()
    if top:
        from forum.exports.digest import plain_text
        from forum.exports.report import shorten

        lines += ["", _("The most endorsed responses:"), ""]
        lines += [f"- {shorten(plain_text(p.body_html), 200)} ("
                  + ngettext("%(num)d endorsement", "%(num)d endorsements", p.endorsement_count) + ")" for p in top]
    return "\n".join(lines)


def _next_steps(place_ids: list[int], column, thing) -> str:
    """The questions participants left open that others endorsed, to follow up on."""
    from forum.exports.digest import Source, open_questions, plain_text
    from forum.exports.report import prompters

    posts = db.session.scalars(select(Post).where(counted(column, place_ids), Post.endorsement_count > 0,
                                                  Post.reply_count == 0)
                               .order_by(Post.endorsement_count.desc(), Post.id).limit(DRAFT_POSTS)).all()
    places = {p.id: p for p in (thing.rooms if isinstance(thing, Event) else thing.topics)}
    prompting = {place_id: prompters(place) for place_id, place in places.items()}
    sources = [Source(p.id, "", plain_text(p.body_html), p.endorsement_count, False,
                      p.author_id in prompting[getattr(p, column.key)]) for p in posts]
    questions = open_questions(sources)
    lines = [_("- Report back to participants with this report and what will be done with their input.")]
    if questions:
        lines += ["", _("Questions participants asked that remain open:"), ""]
        lines += [f"- {q.text}" for q in questions]
    return "\n".join(lines)

