"""The summary report: Markdown (golden file), HTML structure, PDF text, privacy, and the
report of the demo event checked against the database.

Regenerate the golden file after an intended change with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/exports/test_report.py -k golden`` and review the diff."""
from __future__ import annotations

import difflib
import itertools
import os
import shutil
import subprocess
from collections import Counter
from datetime import datetime, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from forum import demo
from forum.exports import report as reports
from forum.exports.scope import author_label, resolve
from forum.models import Event, ModerationAction, Post, PostStatus
from forum.models.consultations import ConsultationStatus
from forum.rendering import markdown_to_text
from forum.services import moderation, posts, rooms

GOLDEN = Path(__file__).parent / "golden" / "consultation_report.md"
IN_CI = os.environ.get("CI", "").lower() == "true"
HIDDEN_TEXT = "Zanzibarquux is a word only the hidden post contains."
DELETED_TEXT = "Quorblefrump is a word only the deleted post contained."


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def consultation(db, make_user, make_consultation, make_post):
    """A small closed consultation with fixed people, times and endorsements: two topics,
    a reply, an anonymous participant, a hidden post and a deleted one."""
    owner = make_user("organiser", display_name="Olga Organiser")
    consultation = make_consultation(owner, title="Welcoming newcomers", topics=2, opens_at=_at(1, 9),
                                     hosts=["Hanna Host"])
    housing, work = consultation.topics
    housing.title, housing.guiding_questions = "Housing", ["How can newcomers find a home?"]
    work.title, work.guiding_questions = "Work", ["What helps newcomers find work?", "Which skills count?"]
    ana = make_user(display_name="Ana Alves", country="IT", organisation="Casa Aperta", organisation_type="ngo")
    ben = make_user(display_name="Ben Bakker", country="BE", organisation="City of Ghent",
                    organisation_type="local_authority")
    chloe = make_user(display_name="Chloé Chevalier", country="FR", organisation="Institut Migrations",
                      organisation_type="research")
    chloe.named_in_reports = False
    dev = make_user(display_name="Dev Desai", country="IT", organisation="", organisation_type="individual")
    eve = make_user(display_name="Eve Engel", country="DE", organisation="Verein", organisation_type="ngo")

    p1 = make_post(ana, consultation=consultation, topic=housing, created_at=_at(2, 10), body=(
        "Affordable housing is the first barrier for newcomers in our city. "
        "Who pays for the deposit guarantee when a tenant leaves?"))
    make_post(ben, parent=p1, created_at=_at(2, 15, 30), body=(
        "The municipal guarantee fund pays the housing deposit for newcomers who rent their first flat."))
    p3 = make_post(chloe, consultation=consultation, topic=housing, created_at=_at(4, 9, 15), body=(
        "Social housing waiting lists are years long for newcomers in most regions.\n"
        "Could regions share one housing waiting list across municipalities?"))
    hidden = make_post(eve, consultation=consultation, topic=housing, created_at=_at(5, 11), body=HIDDEN_TEXT)
    make_post(dev, consultation=consultation, topic=housing, created_at=_at(5, 12), body=DELETED_TEXT,
              deleted=True)
    p6 = make_post(dev, consultation=consultation, topic=work, created_at=_at(3, 8, 45), body=(
        "Recognition of foreign diplomas takes too long for skilled newcomers. "
        "Language courses at the workplace help newcomers keep their jobs."))
    make_post(ana, parent=p6, created_at=_at(6, 18, 20), body=(
        "Employers could fund language courses during working hours for newcomers."))
    for endorser, post in ((ben, p1), (dev, p1), (ana, p3), (ben, p6), (ana, hidden), (ben, hidden),
                           (chloe, hidden)):
        posts.endorse(endorser, post)
    moderation.hide_post(owner, hidden, "Off topic")
    consultation.status, consultation.closes_at = ConsultationStatus.CLOSED, _at(31, 17)
    db.session.flush()
    return consultation


def _report(actor, kind, object_id, **options):
    with force_locale("en"):
        return reports.build_report(resolve(actor, kind, object_id, **options))


def _all_formats(report) -> dict[str, str]:
    with force_locale("en"):
        return {"markdown": reports.render_markdown(report),
                "html": reports.render_html(report, standalone=False),
                "document": reports.render_html(report, standalone=True)}


# --- Markdown ---------------------------------------------------------------------------------

def test_markdown_report_matches_the_golden_file(consultation):
    report = _report(consultation.owner, "consultation", consultation.id)
    with force_locale("en"):
        text = reports.render_markdown(report)
        assert reports.render_markdown(report) == text  # same input, same bytes
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), f"{GOLDEN} is missing: run once with UPDATE_GOLDEN=1 and review it"
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_markdown_has_no_html_and_escapes_user_text(consultation, make_post):
    consultation.status, consultation.closes_at = ConsultationStatus.OPEN, None  # open again for one post
    make_post(consultation=consultation, topic=consultation.topics[1], created_at=_at(7, 9),
              body="A <b>bold</b> | piped claim about language courses and newcomers at work.")
    text = _all_formats(_report(consultation.owner, "consultation", consultation.id))["markdown"]
    assert "<b>" not in text and "\\<b\\>" in text
    assert "\\| piped" in text


def test_report_figures(consultation):
    report = _report(consultation.owner, "consultation", consultation.id)
    # Five visible posts by four people (the hidden and the deleted post do not count).
    assert report.figures == reports.Figures(participants=4, posts=5, responses=3, replies=2, endorsements=4)
    assert [(r.label, r.count) for r in report.by_country.rows] == [("Italy", 2), ("Belgium", 1), ("France", 1)]
    assert [r.share for r in report.by_country.rows] == [0.5, 0.25, 0.25]
    assert [r.label for r in report.by_organisation_type.rows] == [
        "Individual", "Local public authority", "NGO", "Research / academia"]
    assert [(r.title, r.figures.posts) for r in report.by_section] == [
        ("Topic 1: Housing", 3), ("Topic 2: Work", 2)]
    assert report.activity_unit == "day"
    assert [(r.label, r.count) for r in report.activity.rows] == [
        ("Mar 2, 2024", 2), ("Mar 3, 2024", 1), ("Mar 4, 2024", 1), ("Mar 5, 2024", 0), ("Mar 6, 2024", 1)]
    assert report.dates == [("Opens", "March 1, 2024, 09:00 (UTC)"), ("Closes", "March 31, 2024, 17:00 (UTC)")]
    assert [(r.label, r.count) for r in report.moderation] == [("hid a post", 1)]
    assert report.hidden_posts == 1


def test_sections_of_a_consultation(consultation):
    housing, work = _report(consultation.owner, "consultation", consultation.id).sections
    assert housing.guiding_questions == ["How can newcomers find a home?"]
    assert housing.takeaways is None  # topics have none: the most endorsed stand in
    assert [(e.author, e.organisation, e.endorsements) for e in housing.most_endorsed] == [
        ("Ana Alves", "Casa Aperta", 2), ("Participant (FR, Research / academia)", "", 1)]
    # Ana's question got a reply; Chloé's did not.
    assert [q.text for q in housing.open_questions] == [
        "Could regions share one housing waiting list across municipalities?"]
    assert all(s.author != "Chloé Chevalier" for s in housing.digest)
    assert work.open_questions == []
    assert len(work.digest) == 3


def test_dates_follow_the_chosen_zone(consultation):
    with force_locale("en"):
        report = reports.build_report(resolve(consultation.owner, "consultation", consultation.id),
                                      timezone="Europe/Rome")
    assert report.dates[0] == ("Opens", "March 1, 2024, 10:00 (Europe/Rome)")


# --- Privacy ----------------------------------------------------------------------------------

def test_hidden_and_deleted_posts_appear_in_no_format(consultation, tmp_path):
    for actor, options in ((consultation.owner, {}), (None, {"public": True})):
        report = _report(actor, "consultation", consultation.id, **options)
        texts = _all_formats(report)
        with force_locale("en"):
            texts["pdf"] = _pdftotext(reports.render_pdf(report), tmp_path)
        for name, text in texts.items():
            assert "Zanzibarquux" not in text, name
            assert "Quorblefrump" not in text, name
            assert "Eve Engel" not in text, name
            assert "Chloé" not in text, name  # chose not to be named
            assert "Off topic" not in text, name  # no moderation reasons
        note = "1 hidden post is not shown in this report."
        assert (note in texts["markdown"]) is report.moderators_view
        assert (note in texts["html"]) is report.moderators_view


# --- HTML -------------------------------------------------------------------------------------

class _Structure(HTMLParser):
    def __init__(self):
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.ids: set[str] = set()
        self.svgs: list[dict] = []
        self.ths: list[dict] = []
        self.tables = self.captions = 0
        self.inline_styles: list[str] = []
        self._heading: int | None = None
        self._svg: dict | None = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if "style" in attrs or tag == "script":
            self.inline_styles.append(tag)
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = int(tag[1])
            self.headings.append((self._heading, ""))
        elif tag == "svg":
            self._svg = {**attrs, "title": ""}
            self.svgs.append(self._svg)
        elif tag == "title" and self._svg is not None:
            self._in_title = True
        elif tag == "th":
            self.ths.append(attrs)
        elif tag == "table":
            self.tables += 1
        elif tag == "caption":
            self.captions += 1

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = None
        elif tag == "svg":
            self._svg = None
        elif tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._heading is not None:
            level, text = self.headings[-1]
            self.headings[-1] = (level, text + data)
        if self._in_title:
            self._svg["title"] += data


def _structure(html: str) -> _Structure:
    parser = _Structure()
    parser.feed(html)
    return parser


def test_html_report_structure(consultation):
    texts = _all_formats(_report(consultation.owner, "consultation", consultation.id))
    page = _structure(texts["html"])
    levels = [level for level, _ in page.headings]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), page.headings  # no level skipped
    assert [text.strip() for level, text in page.headings if level == 2] == [
        "Participation", "Topic 1: Housing", "Topic 2: Work", "Moderation", "About this report"]
    assert ["Guiding questions", "Most endorsed", "Digest", "Open questions"] == [
        text.strip() for level, text in page.headings[page.headings.index((2, "Topic 2: Work")):] if level == 3]
    # Charts: images with a title and a description that exist, each with a data table.
    assert len(page.svgs) == 4
    for svg in page.svgs:
        assert svg["role"] == "img" and svg["title"].strip()
        assert all(ref in page.ids for ref in svg["aria-labelledby"].split())
    assert page.tables == page.captions >= 5
    assert page.ths and all(th.get("scope") in ("col", "row") for th in page.ths)
    assert page.inline_styles == []  # the page's CSP allows neither
    assert "Ana Alves" in texts["html"] and "Casa Aperta" in texts["html"]

    document = texts["document"]
    assert document.startswith("<!doctype html>") and "<style>" in document and ".report h1" in document
    assert texts["html"].strip() in document


# --- PDF --------------------------------------------------------------------------------------

def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    executable = shutil.which("pdftotext")
    if executable is None:
        message = "pdftotext not found (apt-get install -y poppler-utils, or run .ci/install-packages)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run([executable, str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_pdf_holds_the_headings_and_figures(consultation, tmp_path):
    report = _report(consultation.owner, "consultation", consultation.id)
    with force_locale("en"):
        pdf = reports.render_pdf(report)
    assert pdf.startswith(b"%PDF")
    text = _pdftotext(pdf, tmp_path)
    for expected in ("Welcoming newcomers", "Participation", "Topic 1: Housing", "Topic 2: Work", "Digest",
                     "Open questions", "Moderation", "Participants by country", "Italy"):
        assert expected in text, expected
    lines = [line.strip() for line in text.splitlines()]
    posts_at = lines.index("Posts")
    assert "5" in lines[posts_at:posts_at + 12]  # the number of posts, in the figures table


# --- Other scopes -----------------------------------------------------------------------------

def test_topic_and_thread_reports(db, consultation):
    housing = consultation.topics[0]
    report = _report(consultation.owner, "topic", housing.id)
    assert [s.title for s in report.sections] == ["Topic 1: Housing"]
    assert report.part_of == "Welcoming newcomers"
    assert report.figures.posts == 3
    assert [(r.label, r.count) for r in report.moderation] == [("hid a post", 1)]

    first = db.session.scalars(select(Post).where(Post.topic_id == housing.id, Post.parent_id.is_(None))
                               .order_by(Post.created_at, Post.id)).first()
    report = _report(consultation.owner, "thread", first.id)
    assert report.title == "Thread started by Ana Alves"
    assert report.figures == reports.Figures(participants=2, posts=2, responses=1, replies=1, endorsements=2)
    assert report.sections[0].open_questions == []  # its question was answered in the thread


# --- The demo event ---------------------------------------------------------------------------

def test_report_of_the_demo_event(db, tmp_path):
    demo.load_demo()
    event = db.session.scalars(select(Event).where(Event.title == demo.EVENT_TITLE)).one()  # the live one
    report = _report(event.owner, "event", event.id)

    assert [s.title for s in report.sections] == [room.title for room in event.rooms]
    assert [s.kind for s in report.sections] == ["room"] * 5
    for room, section in zip(event.rooms, report.sections, strict=True):
        expected = [" ".join(markdown_to_text(t.body).split()) for t in rooms.takeaways(room)]
        assert [t.text for t in section.takeaways or []] == expected
        assert bool(expected) is (room.position in (1, 2))
        assert (section.takeaways is None) is room.is_plenary
        assert section.moderators == [author_label(m.user) for m in room.moderators]

    visible = list(db.session.scalars(select(Post).where(
        Post.room_id.in_([room.id for room in event.rooms]), Post.backchannel.is_(False),
        Post.status == PostStatus.PUBLISHED, Post.hidden_at.is_(None), Post.deleted_at.is_(None))))
    assert report.figures.posts == len(visible)
    assert report.figures.participants == len({p.author_id for p in visible})
    assert report.figures.replies == sum(1 for p in visible if p.parent_id is not None)
    assert report.figures.endorsements == sum(p.endorsement_count for p in visible)
    per_room = Counter(p.room_id for p in visible)
    assert [s.figures.posts for s in report.sections] == [per_room[room.id] for room in event.rooms]
    assert sum(r.count for r in report.activity.rows) == len(visible)
    assert report.activity_unit == "10 minutes"
    actions = Counter(db.session.scalars(select(ModerationAction.action).where(
        ModerationAction.event_id == event.id)))
    assert sum(r.count for r in report.moderation) == sum(actions.values())

    hidden = db.session.scalars(select(Post).where(
        Post.room_id.in_([room.id for room in event.rooms]), Post.hidden_at.is_not(None))).first()
    backchannel = db.session.scalars(select(Post).where(Post.backchannel.is_(True))).first()
    assert report.hidden_posts >= 1
    texts = _all_formats(report)
    with force_locale("en"):
        texts["pdf"] = _pdftotext(reports.render_pdf(report), tmp_path)
    for name, text in texts.items():
        assert hidden.body[:40] not in text, name
        assert backchannel.body[:40] not in text, name
        if name in ("html", "document"):
            assert report.sections[1].takeaways[0].html in text, name
        else:
            assert report.sections[1].takeaways[0].text[:30] in " ".join(text.split()), name


# --- The demo's ended webinar, as its organiser sends it ---------------------------------------

DEMO_GOLDEN = Path(__file__).parent / "golden" / "demo_event_report.md"
DEMO_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def test_the_demo_webinar_report_matches_the_golden_file(db):
    """The demo's ended event (loaded as of DEMO_NOW), with the summary and next steps its
    organiser saves from the draft: every section of a report one would send, in Markdown.
    Regenerate with UPDATE_GOLDEN=1 (see the module docstring) and review the diff."""
    from forum.models.base import clock_at
    from forum.services import report_cover

    with clock_at(DEMO_NOW):
        demo.load_demo()
        event = db.session.scalars(select(Event).where(Event.title == demo.ENDED_TITLE)).one()
        with force_locale("en"):
            summary, next_steps = report_cover.draft(event)
        report_cover.save(event.owner, event, summary=summary + "\n\nSigned off by the organising team.",
                          next_steps=next_steps)
        with force_locale("en"):
            built = reports.build_report(resolve(event.owner, "event", event.id), timezone="Europe/Brussels")
            text = reports.render_markdown(built)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        DEMO_GOLDEN.write_text(text, encoding="utf-8")
    assert DEMO_GOLDEN.exists(), f"{DEMO_GOLDEN} is missing: run once with UPDATE_GOLDEN=1 and review it"
    assert text == DEMO_GOLDEN.read_text(encoding="utf-8"), "\n".join(difflib.unified_diff(
        DEMO_GOLDEN.read_text(encoding="utf-8").splitlines(), text.splitlines(), lineterm="", n=0))
    for section in ("## Executive summary", "## Agenda and speakers", "### Registered, attended and active",
                    "### Participant mix", "## Pre-event input", "## Feedback", "## Next steps and recommendations",
                    "## Moderation", "## About this report"):
        assert section in text, section
    # Open questions: never a moderator's or organiser's prompt, never what the digest says.
    for room, section in zip(event.rooms, built.sections, strict=True):
        prompting = reports.prompters(room)
        authors = {p.id: p.author_id for p in db.session.scalars(select(Post).where(Post.room_id == room.id))}
        assert not [q for q in section.open_questions if authors[q.post_id] in prompting], section.title
        assert not {q.text for q in section.open_questions} & {d.text for d in section.digest}, section.title
    assert sum(len(s.open_questions) for s in built.sections) >= 1
