"""The summary report of a scope (thread, topic, room, consultation or event): figures,
charts, and per topic or room its questions, takeaways, most endorsed posts, digest and open
questions; then the moderation summary.

`build_report(scope)` gathers everything into a `Report` (plain dataclasses, labels already
translated into the current Flask-Babel locale, dates in `timezone`); `render_markdown`,
`render_html` and `render_pdf` write it. The report is meant to be shared: hidden and deleted
posts are left out of every part of it, whoever exports it (the moderators' view only gets a
note saying how many hidden posts were left out), and people are named by `author_label`.
"""
from __future__ import annotations

import base64
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.numbers import format_decimal, format_percent
from flask import render_template
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import func, select

from forum import jobs
from forum.exports import feedback as feedback_export
from forum.exports import opinion as opinion_export
from forum.exports import participation
from forum.exports import preevent as preevent_export
from forum.exports.digest import Sentence, Source, digest, open_questions, plain_text
from forum.exports.opinion import OpinionSection
from forum.exports.scope import Scope, author_label, organisation_label
from forum.extensions import db
from forum.i18n import label
from forum.models import ModerationAction, Post, Room, Topic, User
from forum.models.consultations import Host
from forum.models.events import Moderator
from forum.models.posts import Stance
from forum.rendering import html_to_text, markdown_to_text
from forum.services import report_cover, stances
from forum.services import rooms as room_service

CSS_PATH = Path(__file__).resolve().parents[2] / "static" / "css" / "report.css"
TOP_ENDORSED = {"topic": 5, "room": 3}
EXCERPT_CHARS = 400
MAX_BUCKETS = 60
# Bucket sizes for the activity chart, smallest first: the first giving at most MAX_BUCKETS
# buckets over the discussion's span is used (consultations run for weeks, events for hours).
CONSULTATION_BUCKETS = (timedelta(days=1), timedelta(weeks=1), timedelta(days=28))
EVENT_BUCKETS = (timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=1), timedelta(days=1))


# --- The report ------------------------------------------------------------------------------

@dataclass
class Person:
    name: str
    detail: str = ""  # role, organisation


@dataclass
class Figures:
    participants: int = 0
    posts: int = 0
    responses: int = 0  # top-level posts (thread starters)
    replies: int = 0
    endorsements: int = 0


@dataclass
class Row:
    """One bar of a chart and one row of its data table."""
    label: str
    count: int
    share: float | None = None  # of the whole, 0..1, where it means something


@dataclass
class Chart:
    id: str
    title: str
    label_heading: str
    count_heading: str
    rows: list[Row]
    kind: str = "bar"  # "bar" (horizontal) or "column"

    @property
    def svg(self) -> Markup:
        return column_chart_svg(self) if self.kind == "column" else bar_chart_svg(self)


@dataclass
class SectionRow:
    title: str
    figures: Figures


@dataclass
class Endorsed:
    author: str
    organisation: str
    endorsements: int
    text: str  # plain text, shortened to EXCERPT_CHARS


@dataclass
class TakeawayItem:
    text: str  # plain text (Markdown report)
    html: Markup  # sanitised HTML (HTML and PDF)
    credited: str = ""


@dataclass
class StanceGroup:
    """One row of a proposal's table by stakeholder group."""
    label: str
    counts: list[int]  # responses per stance, in the order of StanceSummary.headings
    total: int


@dataclass
class StanceSummary:
    """A proposal topic's stances (docs/stances.md): responses per stance (a chart and its
    table), and per country and type of organisation of their authors."""
    chart: Chart
    headings: list[str]  # the stances' names
    by_country: list[StanceGroup]
    by_organisation_type: list[StanceGroup]


@dataclass
class Section:
    kind: str  # "topic" or "room"
    id: int
    title: str
    description: str
    guiding_questions: list[str]
    moderators: list[str]
    takeaways: list[TakeawayItem] | None  # None for topics (they have none)
    figures: Figures
    most_endorsed: list[Endorsed]
    digest: list[Sentence]
    open_questions: list[Sentence]
    stances: StanceSummary | None = None  # a proposal topic's
    mix: participation.RoomMix | None = None  # a room's participant mix (events)


@dataclass
class Written:
    """A text the organiser wrote (Markdown): its sanitised HTML, for the HTML and PDF, and
    its lines as the report's own Markdown (escaped text, "- " items), for Markdown and DOCX."""
    html: Markup
    lines: list[str]

    @classmethod
    def of(cls, html: str) -> Written | None:
        return cls(Markup(html), markdown_lines(html)) if html.strip() else None


@dataclass
class Report:
    kind: str
    title: str
    part_of: str  # the consultation or event a thread, topic or room belongs to
    is_event: bool
    timezone: str
    dates: list[tuple[str, str]]  # (label, formatted date)
    hosts: list[Person]
    organisers: list[Person]
    moderators: list[tuple[str, list[str]]]  # (section title, names)
    figures: Figures
    by_country: Chart
    by_organisation_type: Chart
    by_section: list[SectionRow]
    section_chart: Chart
    activity: Chart
    activity_unit: str
    sections: list[Section]
    moderation: list[Row]
    moderators_view: bool
    hidden_posts: int = 0
    section_label: str = field(default="")  # "Topic" or "Room"
    polls: list = field(default_factory=list)  # forum.exports.polls.PollReport, a section per poll
    opinion: OpinionSection | None = None  # a consultation's statements board (forum/exports/opinion.py)
    questions: Any = None  # the plenary's Q&A: forum.exports.questions.QuestionsSection, or None
    feedback: Any = None  # the event's feedback: forum.services.feedback.Results (forum/exports/feedback.py)
    pre_event: Any = None  # forum.exports.preevent.PreEventSection, or None
    # What the organiser wrote for the event's or consultation's reports (report_cover).
    summary: Written | None = None
    next_steps: Written | None = None
    logo: tuple[bytes, str] | None = None  # (image, media type)
    agenda: Written | None = None  # an event's agenda, and its speakers
    speakers: list[str] = field(default_factory=list)
    attendance: participation.Attendance | None = None  # an event's registered, attended, active

    @property
    def room_people(self) -> list[tuple[str, int, int]]:
        """(room, placed, active) for an event's breakout rooms: their sections' mixes."""
        if self.attendance is None:
            return []
        return [(s.title, s.mix.placed, s.mix.active) for s in self.sections if s.mix is not None]


# --- Building it -----------------------------------------------------------------------------

def build_report(scope: Scope, *, timezone: str = "UTC") -> Report:
    """Everything the report says about `scope`, with dates shown in `timezone`."""
    zone = ZoneInfo(timezone)
    shown = scope.posts().where(Post.hidden_at.is_(None), Post.deleted_at.is_(None))
    consultation, event = scope.consultation, scope.event
    is_event = event is not None
    mixes = participation.room_mixes(event) if is_event else {}
    # One topic or room at a time: the largest section's posts are the most held at once.
    sections = []
    for place in scope.sections:
        jobs.give_way()  # a room's digest at a time, the live rooms served in between (forum/jobs.py)
        sections.append(_section(place, _section_posts(shown, place), mixes))
    whole = event if scope.kind == "event" else consultation if scope.kind == "consultation" else None
    cover = report_cover.cover_of(whole) if whole is not None else None
    attendance = participation.attendance(event) if scope.kind == "event" else None
    section_rows = [SectionRow(s.title, s.figures) for s in sections]
    activity, unit = _activity(list(db.session.scalars(shown.with_only_columns(Post.created_at))), zone, is_event)
    authors = shown.order_by(None).with_only_columns(Post.author_id)
    return Report(
        kind=scope.kind, title=scope.title,
        part_of=(event.title if is_event else consultation.title) if scope.kind in ("thread", "topic", "room") else "",
        is_event=is_event, timezone=timezone,
        dates=_dates(scope, zone),
        hosts=[] if is_event else [Person(h.name, ", ".join(x for x in (h.role, h.organisation) if x))
                                   for h in consultation.hosts],
        organisers=[Person(author_label((event or consultation).owner))],
        moderators=_moderators(scope, sections),
        figures=_scope_figures(shown),
        by_country=_share_chart("country", _("Participants by country"), _("Country"),
                                _people_by(User.country, "country", authors)),
        by_organisation_type=_share_chart("organisation-type", _("Participants by type of organisation"),
                                          _("Type of organisation"),
                                          _people_by(User.organisation_type, "organisation_type", authors)),
        by_section=section_rows,
        section_chart=Chart("sections", _("Posts per room") if is_event else _("Posts per topic"),
                            _("Room") if is_event else _("Topic"), _("Posts"),
                            [Row(r.title, r.figures.posts) for r in section_rows]),
        activity=activity, activity_unit=unit,
        sections=sections,
        moderation=_moderation(scope),
        moderators_view=scope.moderators_view,
        hidden_posts=db.session.scalar(scope.posts().where(Post.hidden_at.is_not(None)).order_by(None)
                                       .with_only_columns(func.count(Post.id))),
        section_label=_("Room") if is_event else _("Topic"),
        polls=_polls().report_polls(scope, zone),
        opinion=opinion_export.build_section(scope, zone),
        questions=_questions().build_section(scope),
        feedback=feedback_export.section(scope),
        pre_event=preevent_export.section(scope),
        summary=Written.of(cover.summary_html) if cover else None,
        next_steps=Written.of(cover.next_steps_html) if cover else None,
        logo=(cover.logo, cover.logo_type) if cover and cover.logo else None,
        agenda=Written.of(event.agenda_html) if scope.kind == "event" else None,
        speakers=event.speaker_list if scope.kind == "event" else [],
        attendance=attendance,
    )


def _polls():
    """forum.exports.polls, which builds on this module's helpers (so it is imported late)."""
    from forum.exports import polls

    return polls


def _questions():
    """forum.exports.questions, which builds on this module's helpers (so it is imported late)."""
    from forum.exports import questions

    return questions


def _key(place: Topic | Room) -> tuple[str, int]:
    return ("room" if isinstance(place, Room) else "topic", place.id)


def _scope_figures(shown) -> Figures:
    """The figures of the whole scope, in SQL (people are counted once, wherever they wrote)."""
    posts_, people, responses, endorsements = db.session.execute(shown.order_by(None).with_only_columns(
        func.count(Post.id), func.count(func.distinct(Post.author_id)),
        func.count(Post.id).filter(Post.parent_id.is_(None)), func.coalesce(func.sum(Post.endorsement_count), 0),
    )).one()
    return Figures(participants=people, posts=posts_, responses=responses, replies=posts_ - responses,
                   endorsements=int(endorsements))


def _people_by(column, kind: str, authors) -> Counter:
    """The scope's authors counted by `column`'s name (codes with the same name together)."""
    counts: Counter = Counter()
    for code, n in db.session.execute(select(column, func.count()).where(User.id.in_(authors)).group_by(column)):
        counts[label(kind, code)] += n
    return counts


def _figures(posts: list[Post]) -> Figures:
    responses = sum(1 for p in posts if p.parent_id is None)
    return Figures(participants=len({p.author_id for p in posts}), posts=len(posts), responses=responses,
                   replies=len(posts) - responses, endorsements=sum(p.endorsement_count for p in posts))


def prompters(place: Topic | Room) -> set[int]:
    """Who asks questions in `place` to start its discussion rather than leaving them open:
    its moderators and its organisers (an event's owner; a consultation's owner and hosts)."""
    ids = {m.user_id for m in db.session.scalars(
        select(Moderator).where((Moderator.room_id if isinstance(place, Room) else Moderator.topic_id) == place.id))}
    if isinstance(place, Room):
        return ids | {place.event.owner_id}
    hosts = db.session.scalars(select(Host.user_id).where(Host.consultation_id == place.consultation_id,
                                                          Host.user_id.is_not(None)))
    return ids | {place.consultation.owner_id} | set(hosts)


# What a section reads of each post: rows, not ORM objects (a large room has thousands).
SECTION_COLUMNS = (Post.id, Post.author_id, Post.parent_id, Post.endorsement_count, Post.body_html, Post.created_at,
                   Post.announcement, Post.on_behalf_of_organisation, Post.organisation_name)


def _section_posts(shown, place: Topic | Room) -> tuple[list, dict[int, User]]:
    """The place's shown posts (as rows of SECTION_COLUMNS, oldest first) and their authors."""
    column = Post.room_id if isinstance(place, Room) else Post.topic_id
    rows = db.session.execute(shown.where(column == place.id).with_only_columns(*SECTION_COLUMNS)).all()
    ids = {row.author_id for row in rows}
    return rows, {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}


def _section(place: Topic | Room, posts_and_authors: tuple[list, dict[int, User]],
             mixes: dict[int, participation.RoomMix]) -> Section:
    """A topic's or room's part of the report, from its shown posts (replies stay in the place
    of what they answer)."""
    posts, authors = posts_and_authors
    kind, _id = _key(place)
    replied = {p.parent_id for p in posts if p.parent_id is not None}
    prompting = prompters(place)
    names = {user_id: author_label(user) for user_id, user in authors.items()}
    jobs.give_way()
    sources = [Source(p.id, names[p.author_id], plain_text(p.body_html), p.endorsement_count, p.id in replied,
                      p.author_id in prompting or p.announcement)
               for p in posts]
    endorsed = sorted((p for p in posts if p.endorsement_count > 0),
                      key=lambda p: (-p.endorsement_count, p.created_at, p.id))[:TOP_ENDORSED[kind]]
    if kind == "room":
        title, description, questions = place.title, place.description, []
        moderators = [author_label(m.user) for m in place.moderators]
        # The plenary hears the rooms' takeaways rather than writing its own: say nothing if none.
        takeaways = [TakeawayItem(_one_line(markdown_to_text(t.body)), Markup(t.body_html),
                                  author_label(t.credited) if t.credited else "")
                     for t in room_service.takeaways(place)] or (None if place.is_plenary else [])
    else:
        title = _("Topic %(number)d: %(title)s", number=place.position, title=place.title)
        description, questions, takeaways = place.description, list(place.guiding_questions or []), None
        moderators = [author_label(m.user) for m in db.session.scalars(
            select(Moderator).where(Moderator.topic_id == place.id).order_by(Moderator.id))]
    return Section(
        kind=kind, id=place.id, title=title, description=description, guiding_questions=questions,
        moderators=moderators, takeaways=takeaways, figures=_figures(posts),
        most_endorsed=[Endorsed(names[p.author_id], organisation_label(authors[p.author_id], p), p.endorsement_count,
                                shorten(plain_text(p.body_html))) for p in endorsed],
        digest=(quoted := _giving_way(digest, sources)), open_questions=open_questions(sources, besides=quoted),
        stances=_stances(place) if kind == "topic" and place.is_proposal else None,
        mix=(mixes.get(place.id) or participation.RoomMix()) if kind == "room" and not place.is_plenary else None)


def _giving_way(func, *args):
    """`func(*args)`, the live rooms served before and after (forum/jobs.py)."""
    jobs.give_way()
    result = func(*args)
    jobs.give_way()
    return result


def _stances(topic) -> StanceSummary:
    """The proposal's stances as its consultation page counts them (services.stances): per
    stance, and by the authors' country and type of organisation."""
    codes = [s.value for s in Stance]
    table = stances.stance_tables(topic.consultation, [topic.id])[topic.id]
    total = table.total
    rows = [Row(label("stance", code), table.counts[code], table.counts[code] / total if total else None)
            for code in codes]

    def groups(kind: str, name_of) -> list[StanceGroup]:
        found = [StanceGroup(name_of(row.code) if row.code else _("Not stated"), [row.counts[code] for code in codes],
                             row.total) for row in table.by[kind]]
        return sorted(found, key=lambda g: (-g.total, g.label))

    return StanceSummary(
        chart=Chart("stances", _("Stances on the proposal"), _("Stance"), _("Responses"), rows),
        headings=[label("stance", code) for code in codes],
        by_country=groups("country", _country_name),
        by_organisation_type=groups("organisation_type", lambda code: label("organisation_type", code)))


def _moderators(scope: Scope, sections: list[Section]) -> list[tuple[str, list[str]]]:
    return [(s.title, s.moderators) for s in sections if s.moderators]


def _dates(scope: Scope, zone: ZoneInfo) -> list[tuple[str, str]]:
    if scope.event is not None:
        pairs = [(_("Starts"), scope.event.starts_at), (_("Ends"), scope.event.ends_at)]
    else:
        pairs = [(_("Opens"), scope.consultation.opens_at), (_("Closes"), scope.consultation.closes_at)]
    return [(label, format_when(value, zone)) for label, value in pairs if value is not None]


def format_when(value: datetime, zone: ZoneInfo) -> str:
    """A date and time in the report's zone and locale, the zone written out."""
    local = value.astimezone(zone)
    return _("%(date)s, %(time)s (%(zone)s)", date=format_date(local, "long", locale=get_locale()),
             time=format_time(local, "HH:mm", locale=get_locale()), zone=zone.key)


def _country_name(code: str) -> str:
    return label("country", code)


def _share_chart(chart_id: str, title: str, label_heading: str, counts: Counter) -> Chart:
    total = sum(counts.values())
    rows = [Row(label, count, count / total) for label, count in sorted(counts.items(), key=lambda i: (-i[1], i[0]))]
    return Chart(chart_id, title, label_heading, _("Participants"), rows)


def _activity(created: list[datetime], zone: ZoneInfo, is_event: bool) -> tuple[Chart, str]:
    """Posts per bucket of time (`created`: their creation times), empty buckets included,
    over the discussion's span."""
    sizes = EVENT_BUCKETS if is_event else CONSULTATION_BUCKETS
    times = sorted(moment.astimezone(zone).replace(tzinfo=None) for moment in created)
    size = sizes[-1]
    if times:
        size = next((s for s in sizes if (times[-1] - times[0]) / s < MAX_BUCKETS), sizes[-1])
    counts = Counter(_floor(t, size) for t in times)
    rows = []
    if times:
        start, last = _floor(times[0], size), _floor(times[-1], size)
        same_day = start.date() == last.date()
        while start <= last:
            rows.append(Row(_bucket_label(start, size, same_day), counts.get(start, 0)))
            start += size
    unit = _unit(size)
    return Chart("activity", _("Posts over time (per %(unit)s)", unit=unit), _("Period starting"), _("Posts"),
                 rows, kind="column"), unit


def _floor(moment: datetime, size: timedelta) -> datetime:
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if size >= timedelta(days=1):
        if size == timedelta(weeks=1):
            return midnight - timedelta(days=midnight.weekday())
        days = (midnight - datetime(2000, 1, 3)).days  # a Monday
        return midnight - timedelta(days=days % size.days)
    step = int(size.total_seconds())
    return midnight + timedelta(seconds=int((moment - midnight).total_seconds()) // step * step)


def _bucket_label(start: datetime, size: timedelta, same_day: bool) -> str:
    if size >= timedelta(days=1):
        return format_date(start, "medium", locale=get_locale())
    if same_day:
        return format_time(start, "HH:mm", locale=get_locale())
    return f'{format_date(start, "short", locale=get_locale())} {format_time(start, "HH:mm", locale=get_locale())}'


def _unit(size: timedelta) -> str:
    if size >= timedelta(days=1):
        days = size.days
        return _("day") if days == 1 else _("week") if days == 7 else ngettext("%(num)d days", "%(num)d days", days)
    minutes = int(size.total_seconds() // 60)
    return _("hour") if minutes == 60 else ngettext("%(num)d minute", "%(num)d minutes", minutes)


def _moderation(scope: Scope) -> list[Row]:
    """Moderation actions in the scope, counted by kind: no posts, people or reasons."""
    query = (select(ModerationAction.action, func.count()).group_by(ModerationAction.action)
             # The log's lines about the report itself are no moderation.
             .where(ModerationAction.action.not_in(("export.made", "report.cover"))))
    if scope.thread is not None:
        query = query.where(ModerationAction.post_id.in_(select(Post.id).where(Post.thread_id == scope.thread.id)))
    elif scope.kind == "room":
        query = query.where(ModerationAction.room_id == scope.id)
    elif scope.kind == "topic":
        query = query.where(ModerationAction.post_id.in_(select(Post.id).where(Post.topic_id == scope.id)))
    elif scope.is_event:
        query = query.where(ModerationAction.event_id == scope.event.id)
    else:
        query = query.where(ModerationAction.consultation_id == scope.consultation.id)
    rows = [Row(label("moderation_action", action), count) for action, count in db.session.execute(query)]
    return sorted(rows, key=lambda r: (-r.count, r.label))


def shorten(text: str, chars: int = EXCERPT_CHARS) -> str:
    """`text` on one line, cut after the last whole word within `chars` characters."""
    text = _one_line(text)
    if len(text) <= chars:
        return text
    return text[:chars].rsplit(" ", 1)[0] + "…"


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- Numbers ---------------------------------------------------------------------------------

def number(value: int) -> str:
    return format_decimal(value, locale=get_locale())


def percent(value: float | None) -> str:
    return "" if value is None else format_percent(value, locale=get_locale())


def figure_rows(figures: Figures) -> list[tuple[str, int]]:
    return [(_("Participants"), figures.participants), (_("Posts"), figures.posts),
            (_("Responses (new threads)"), figures.responses), (_("Replies"), figures.replies),
            (_("Endorsements"), figures.endorsements)]


def section_summary(figures: Figures) -> str:
    return _("%(posts)s by %(participants)s.",
             posts=ngettext("%(num)d post", "%(num)d posts", figures.posts),
             participants=ngettext("%(num)d participant", "%(num)d participants", figures.participants))


def hidden_note(report: Report) -> str:
    return ngettext("%(num)d hidden post is not shown in this report.",
                    "%(num)d hidden posts are not shown in this report.", report.hidden_posts)


def method_note(report: Report) -> list[str]:
    """How the report was made, paragraph by paragraph (its last section)."""
    notes = [counting_note() + " " + _("Messages in the moderators' back-channel are never included.")]
    if report.attendance is not None:
        notes.append(_("Registered people are those who signed up for the event (participants and observers). "
                       "Attended: they came into one of its rooms while it was running, or wrote in it. "
                       "Active: they wrote at least one counted message. In each room, placed people are the "
                       "members assigned to it; active, those of them who wrote there."))
    notes.append(_("The digest quotes, as written, the sentences closest to what the whole discussion is about "
                   "(a TF-IDF centroid: sentences made of words many others use). Open questions are "
                   "participants' questions that got no reply, those others endorsed first; questions the "
                   "moderators or organisers asked to start the discussion are left out, and so is anything the "
                   "digest already quotes."))
    notes.append(_("People who chose not to be named in reports appear as “Participant (country, type of "
                   "organisation)”, without their organisation. Times are given in %(zone)s.", zone=report.timezone))
    return notes


def counting_note() -> str:
    return _("Figures count published posts that are neither hidden by moderators nor deleted; "
             "participants are the people who wrote them.")


# --- Charts (inline SVG: no external assets; each has a data table next to it) ---------------

BAR_COLOUR, TEXT_COLOUR, AXIS_COLOUR = "#2f5d8a", "#1a1a1a", "#767676"
FONT = 'font-family="DejaVu Sans, Arial, sans-serif" font-size="12"'


def _svg_open(chart: Chart, width: int, height: int, description: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'aria-labelledby="chart-{chart.id}-title chart-{chart.id}-desc" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT}>'
            f'<title id="chart-{chart.id}-title">{escape(chart.title)}</title>'
            f'<desc id="chart-{chart.id}-desc">{escape(description)}</desc>')


def _truncate(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[:chars - 1] + "…"


def bar_chart_svg(chart: Chart) -> Markup:
    """Horizontal bars, largest first, the count written after each bar."""
    width, label_width, value_width, row = 640, 240, 70, 24
    height = max(1, len(chart.rows)) * row + 8
    top = max((r.count for r in chart.rows), default=0) or 1
    area = width - label_width - value_width
    parts = [_svg_open(chart, width, height, _("Bar chart; the same figures are in the table below."))]
    for i, r in enumerate(chart.rows):
        y = 4 + i * row
        bar = round(r.count / top * area, 1)
        value = number(r.count) + (f" ({percent(r.share)})" if r.share is not None else "")
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" fill="{TEXT_COLOUR}">'
            f'{escape(_truncate(r.label, 34))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{bar}" height="16" fill="{BAR_COLOUR}"/>'
            f'<text x="{label_width + bar + 6}" y="{y + 16}" fill="{TEXT_COLOUR}">{escape(value)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart_svg(chart: Chart) -> Markup:
    """Columns along time; the axis shows 0 and the largest count, and some period labels."""
    width, height, left, bottom, top_margin = 640, 220, 44, 36, 12
    plot_w, plot_h = width - left - 8, height - bottom - top_margin
    n = max(1, len(chart.rows))
    top = max((r.count for r in chart.rows), default=0) or 1
    slot = plot_w / n
    every = math.ceil(n / 8)
    base = top_margin + plot_h
    parts = [_svg_open(chart, width, height, _("Column chart; the same figures are in the table below.")),
             f'<line x1="{left}" y1="{base}" x2="{width - 8}" y2="{base}" stroke="{AXIS_COLOUR}"/>',
             f'<text x="{left - 6}" y="{base}" text-anchor="end" fill="{TEXT_COLOUR}">0</text>',
             f'<text x="{left - 6}" y="{top_margin + 10}" text-anchor="end" fill="{TEXT_COLOUR}">'
             f'{escape(number(top))}</text>']
    for i, r in enumerate(chart.rows):
        h = round(r.count / top * plot_h, 1)
        x = round(left + i * slot + slot * 0.1, 1)
        parts.append(f'<rect x="{x}" y="{round(base - h, 1)}" width="{round(slot * 0.8, 1)}" height="{h}" '
                     f'fill="{BAR_COLOUR}"/>')
        if i % every == 0:
            parts.append(f'<text x="{round(left + (i + 0.5) * slot, 1)}" y="{base + 16}" text-anchor="middle" '
                         f'fill="{TEXT_COLOUR}">{escape(r.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


# --- Writing it ------------------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~])")


def md(text: str) -> str:
    """User or label text as inert Markdown on one line: no markup, no HTML, no table breaks."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _one_line(str(text)))


def _md_table(headings: list[str], rows: list[list[str]], numeric_from: int = 1) -> list[str]:
    align = ["---" if i < numeric_from else "---:" for i in range(len(headings))]
    lines = ["| " + " | ".join(md(h) for h in headings) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines + [""]


def _md_chart(chart: Chart, with_share: bool = True) -> list[str]:
    headings = [chart.label_heading, chart.count_heading] + ([_("Share")] if with_share else [])
    rows = [[md(r.label), number(r.count)] + ([percent(r.share)] if with_share else []) for r in chart.rows]
    return [f"### {md(chart.title)}", ""] + (_md_table(headings, rows) if rows else [md(_("No posts.")), ""])


def _md_stances(stances: StanceSummary) -> list[str]:
    if not sum(r.count for r in stances.chart.rows):
        return [f"### {md(stances.chart.title)}", "", md(_("No response has taken a stance yet.")), ""]
    out = _md_chart(stances.chart)
    for heading, title, groups in ((_("Country"), _("Stances by country"), stances.by_country),
                                   (_("Type of organisation"), _("Stances by type of organisation"),
                                    stances.by_organisation_type)):
        if groups:
            out += [f"#### {md(title)}", ""]
            out += _md_table([heading, *stances.headings, _("Total")],
                             [[md(g.label), *(number(n) for n in g.counts), number(g.total)] for g in groups])
    return out


_ITEM = "• "  # how html_to_text starts a list item


def markdown_lines(html: str) -> list[str]:
    """Sanitised HTML (an organiser's text) as the report's own Markdown: paragraphs of
    escaped text and "- " items, nothing else (no heading of theirs can break the report's
    outline, no HTML reaches the file)."""
    lines: list[str] = []
    for paragraph in html_to_text(html).split("\n\n"):
        for line in paragraph.splitlines():
            line = line.strip()
            if line:
                lines.append(f"- {md(line[len(_ITEM):])}" if line.startswith(_ITEM) else md(line))
        lines.append("")
    return lines


def _md_mix(mix: participation.RoomMix) -> list[str]:
    out = [f"### {md(_('Participant mix'))}", "",
           md(_("%(placed)s placed in the room, %(active)s wrote in it.",
                placed=ngettext("%(num)d person", "%(num)d people", mix.placed),
                active=ngettext("%(num)d person", "%(num)d people", mix.active))), ""]
    for heading, rows in ((_("Type of organisation"), mix.by_organisation_type), (_("Country"), mix.by_country)):
        if rows:
            out += _md_table([heading, _("Placed"), _("Active")],
                             [[md(r.label), number(r.placed), number(r.active)] for r in rows])
    return out


def _md_attendance(report: Report) -> list[str]:
    counts = report.attendance
    out = [f"### {md(_('Registered, attended and active'))}", ""]
    out += _md_table([_("Figure"), _("People")], [[md(label), number(value)] for label, value in (
        (_("Registered"), counts.totals.registered), (_("Attended"), counts.totals.attended),
        (_("Active"), counts.totals.active))])
    for title, heading, rows in ((_("By country"), _("Country"), counts.by_country),
                                 (_("By type of organisation"), _("Type of organisation"),
                                  counts.by_organisation_type)):
        if rows:
            out += [f"#### {md(title)}", ""]
            out += _md_table([heading, _("Registered"), _("Attended"), _("Active")],
                             [[md(r.label), number(r.counts.registered), number(r.counts.attended),
                               number(r.counts.active)] for r in rows])
    if report.room_people:
        out += [f"#### {md(_('People per room'))}", ""]
        out += _md_table([_("Room"), _("Placed"), _("Active")],
                         [[md(title), number(placed), number(active)] for title, placed, active in report.room_people])
    return out


def _md_sentence(sentence: Sentence) -> str:
    return f"- “{md(sentence.text)}” — {md(sentence.author)}"


def render_markdown(report: Report) -> str:
    """The report as Markdown (GitHub tables, no HTML); the same report gives the same bytes."""
    out = [f"# {md(report.title)}", ""]
    if report.part_of:
        out += [md(_("Part of: %(title)s", title=report.part_of)), ""]
    for date_label, value in report.dates:
        out.append(f"- **{md(date_label)}:** {md(value)}")
    for heading, people in ((_("Hosts"), report.hosts), (_("Organisers"), report.organisers)):
        if people:
            names = ", ".join(md(p.name) + (f" ({md(p.detail)})" if p.detail else "") for p in people)
            out.append(f"- **{md(heading)}:** {names}")
    for title, names in report.moderators:
        out.append(f"- **{md(_('Moderators of %(section)s', section=title))}:** {', '.join(md(n) for n in names)}")
    out.append("")
    if report.summary:
        out += [f"## {md(_('Executive summary'))}", ""] + report.summary.lines
    if report.agenda or report.speakers:
        out += [f"## {md(_('Agenda and speakers'))}", ""]
        if report.agenda:
            out += report.agenda.lines
        if report.speakers:
            out += [f"### {md(_('Speakers'))}", ""] + [f"- {md(name)}" for name in report.speakers] + [""]
    out += [f"## {md(_('Participation'))}", ""]
    if report.attendance is not None:
        out += _md_attendance(report)
        out += [f"### {md(_('Messages'))}", ""]
    out += _md_table([_("Figure"), _("Count")], [[md(label), number(v)] for label, v in figure_rows(report.figures)])
    out += [md(counting_note()), ""]
    out += _md_chart(report.by_country) + _md_chart(report.by_organisation_type)
    if len(report.by_section) > 1:
        out += [f"### {md(report.section_chart.title)}", ""]
        out += _md_table([report.section_label, _("Posts"), _("Participants"), _("Endorsements")],
                         [[md(r.title), number(r.figures.posts), number(r.figures.participants),
                           number(r.figures.endorsements)] for r in report.by_section])
    out += _md_chart(report.activity, with_share=False)

    for section in report.sections:
        out += [f"## {md(section.title)}", ""]
        if section.description:
            out += [md(section.description), ""]
        if section.guiding_questions:
            out += [f"### {md(_('Guiding questions'))}", ""]
            out += [f"- {md(q)}" for q in section.guiding_questions] + [""]
        if section.moderators and section.kind == "room":
            out += [md(_("Moderators: %(names)s", names=", ".join(section.moderators))), ""]
        out += [md(section_summary(section.figures)), ""]
        if section.mix is not None:
            out += _md_mix(section.mix)
        if section.stances is not None:
            out += _md_stances(section.stances)
        if section.takeaways is not None:
            out += [f"### {md(_('Key takeaways'))}", ""]
            if section.takeaways:
                out += [f"{i}. {md(t.text)}" + (f" ({md(_('from a message by %(name)s', name=t.credited))})"
                                                 if t.credited else "")
                        for i, t in enumerate(section.takeaways, start=1)] + [""]
            else:
                out += [md(_("No key takeaways were recorded.")), ""]
        out += [f"### {md(_('Most endorsed'))}", ""]
        if section.most_endorsed:
            for i, e in enumerate(section.most_endorsed, start=1):
                who = md(e.author) + (f", {md(e.organisation)}" if e.organisation else "")
                count = ngettext("%(num)d endorsement", "%(num)d endorsements", e.endorsements)
                out.append(f"{i}. “{md(e.text)}” — {who} ({md(count)})")
            out.append("")
        else:
            out += [md(_("No post was endorsed.")), ""]
        out += [f"### {md(_('Digest'))}", ""]
        out += ([_md_sentence(s) for s in section.digest] + [""]) if section.digest else [
            md(_("Too little was written for a digest.")), ""]
        out += [f"### {md(_('Open questions'))}", ""]
        out += ([_md_sentence(s) for s in section.open_questions] + [""]) if section.open_questions else [
            md(_("No unanswered questions.")), ""]

    out += _polls().markdown(report.polls)
    out += _questions().markdown(report.questions)
    out += preevent_export.markdown(report.pre_event)
    out += opinion_export.markdown(report.opinion)
    out += feedback_export.markdown(report.feedback)
    if report.next_steps:
        out += [f"## {md(_('Next steps and recommendations'))}", ""] + report.next_steps.lines
    out += [f"## {md(_('Moderation'))}", ""]
    if report.moderation:
        out += _md_table([_("Action"), _("Count")], [[md(r.label), number(r.count)] for r in report.moderation])
    else:
        out += [md(_("No moderation actions.")), ""]
    out += [f"## {md(_('About this report'))}", ""]
    for note in method_note(report):
        out += [md(note), ""]
    if report.moderators_view:
        out += ["---", "", md(hidden_note(report)), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def render_html(report: Report, *, standalone: bool) -> str:
    """The report as HTML: a whole document (report.css embedded, for the PDF or a file) when
    `standalone`, else the <article> a page template places in its main content."""
    context = {"report": report, "figure_rows": figure_rows, "number": number, "percent": percent,
               "hidden_note": hidden_note, "counting_note": counting_note, "section_summary": section_summary,
               "method_note": method_note, "logo_uri": _logo_uri(report) if standalone else None,
               "opinion": opinion_export, "questions_export": _questions()}
    if standalone:
        return Markup(render_template("exports/report_document.html", css=Markup(CSS_PATH.read_text()), **context))
    return Markup(render_template("exports/report.html", **context))


def _logo_uri(report: Report) -> str | None:
    """The cover's logo as a data: URI (the standalone document fetches nothing)."""
    if report.logo is None:
        return None
    image, media_type = report.logo
    return f"data:{media_type};base64,{base64.b64encode(image).decode()}"


def render_pdf(report: Report) -> bytes:
    """The standalone HTML printed to PDF by WeasyPrint (fonts from the system, nothing fetched:
    the stylesheet is embedded and posts' HTML has no images)."""
    import weasyprint  # noqa: F401 (loading its libraries starts a process: only in this thread)

    # The seconds of layout run off a socket-serving process's event loop (forum/jobs.py).
    return jobs.off_the_loop(print_pdf, str(render_html(report, standalone=True)))


def print_pdf(html: str) -> bytes:
    """WeasyPrint's work alone: no database, no Flask context."""
    from weasyprint import HTML  # heavy; only the PDF needs it

    try:
        from weasyprint.urls import URLFetcher  # WeasyPrint >= 66
        fetcher = URLFetcher(allowed_protocols=("data",))
    except ImportError:  # pragma: no cover (older WeasyPrint)
        fetcher = None
    return HTML(string=html, url_fetcher=fetcher).write_pdf()
