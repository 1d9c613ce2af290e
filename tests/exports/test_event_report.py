"""An event's report as an organiser sends it: the cover with a logo, the executive summary
and next steps they wrote (from the draft), agenda and speakers, registered / attended /
active people overall, by country and type of organisation and per room (against queries of
their own), each room's participant mix; in Markdown, HTML, PDF (pdftotext) and DOCX
(python-docx), every section; and the page where the organiser writes them."""
from __future__ import annotations

import io
import shutil
import subprocess
from collections import Counter
from datetime import timedelta

import pytest
from docx import Document
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import select

from forum.exports import participation
from forum.exports import report as reports
from forum.exports.scope import resolve
from forum.exports.word import render_docx
from forum.models import EventMember, ModerationAction, Post, ReportCover
from forum.models.base import utcnow
from forum.services import posts, report_cover, rooms
from tests.factories import login

SUMMARY = "The event gathered **practitioners** from across Europe.\n\n- Guarantee funds work\n- Waiting lists are long"
NEXT_STEPS = "1. Publish this report\n2. Hold a follow-up webinar on guarantee funds"


def _png(width=900, height=300, colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def event(db, make_event, make_user):
    """Two breakout rooms of three participants each, from several countries and types of
    organisation; who came and who wrote differ, and one person never came."""
    event = make_event(rooms=2, participants=0, title="Housing newcomers webinar")
    event.agenda = "- 10:00 Welcome\n- 10:10 Breakout rooms"
    event.agenda_html = "<ul>\n<li>10:00 Welcome</li>\n<li>10:10 Breakout rooms</li>\n</ul>\n"
    event.speakers = "Dr Ana Ruiz, Ministry of Labour (Spain) – keynote\nBen Bakker, City of Ghent"
    people = [make_user(display_name=name, country=country, organisation_type=kind) for name, country, kind in (
        ("Ada", "IT", "ngo"), ("Bo", "BE", "local_authority"), ("Cy", "IT", "ngo"),
        ("Di", "DE", "research"), ("Ed", "IT", "local_authority"), ("Fi", "FR", "ngo"))]
    room1, room2 = event.breakout_rooms
    for i, person in enumerate(people):
        db.session.add(EventMember(event_id=event.id, user_id=person.id, room_id=(room1 if i < 3 else room2).id))
    db.session.flush()
    ada, bo, cy, di, ed, fi = people
    rooms.record_attendance(ada, room1)
    rooms.record_attendance(bo, room1)
    rooms.record_attendance(di, room2)
    rooms.record_attendance(ed, room2)  # Ed came and said nothing; Cy and Fi never came
    first = posts.post_in_room(ada, room1, body="Guarantee funds helped newcomers rent a first flat in Bologna.")
    posts.post_in_room(bo, room1, body="Who pays the deposit when the tenant leaves the flat early?")
    posts.post_in_room(di, room2, body="Our data show waiting lists of four years in most German regions.")
    posts.post_in_room(di, event.plenary, body="Room 2 reports long waiting lists everywhere.")
    posts.post_in_room(cy, room1, body="Written without ever coming in: counts as attended.")
    posts.endorse(bo, first)
    moderator = event.test_moderators[1][0]
    rooms.add_takeaway(moderator, room1, "", source_post=first)
    db.session.flush()
    event.test_people = people
    return event


def _report(event, actor=None):
    with force_locale("en"):
        return reports.build_report(resolve(actor or event.owner, "event", event.id))


def _counted_posts(db, event):
    return list(db.session.scalars(select(Post).where(
        Post.room_id.in_([r.id for r in event.rooms]), Post.backchannel.is_(False), Post.hidden_at.is_(None),
        Post.deleted_at.is_(None), Post.status == "published")))


def test_registered_attended_active_against_queries_of_their_own(db, event):
    members = list(db.session.scalars(select(EventMember).where(EventMember.event_id == event.id)))
    wrote = {p.author_id for p in _counted_posts(db, event)}
    expected = {
        "registered": Counter(m.user.country for m in members),
        "attended": Counter(m.user.country for m in members if m.attended_at is not None or m.user_id in wrote),
        "active": Counter(m.user.country for m in members if m.user_id in wrote),
    }
    counts = participation.attendance(event)
    assert (counts.totals.registered, counts.totals.attended, counts.totals.active) == (6, 5, 4)
    with force_locale("en"):
        names = {"IT": "Italy", "BE": "Belgium", "DE": "Germany", "FR": "France"}
        for row in counts.by_country:
            code = next(c for c, n in names.items() if n == row.label)
            assert (row.counts.registered, row.counts.attended, row.counts.active) == (
                expected["registered"][code], expected["attended"][code], expected["active"][code]), row.label
    by_type = {row.label: row.counts for row in counts.by_organisation_type}
    assert sum(c.registered for c in by_type.values()) == 6
    assert sum(c.active for c in by_type.values()) == 4


def test_each_room_mix_against_queries_of_its_own(db, event):
    members = list(db.session.scalars(select(EventMember).where(EventMember.event_id == event.id)))
    member_ids = {m.user_id for m in members}
    counted = _counted_posts(db, event)
    mixes = participation.room_mixes(event)
    for room in event.breakout_rooms:
        placed = Counter(m.user.organisation_type for m in members if m.room_id == room.id)
        writers = {p.author_id for p in counted if p.room_id == room.id and p.author_id in member_ids}
        active = Counter(m.user.organisation_type for m in members if m.user_id in writers)
        mix = mixes[room.id]
        assert (mix.placed, mix.active) == (sum(placed.values()), len(writers))
        with force_locale("en"):
            from forum.i18n import label

            got = {row.label: (row.placed, row.active) for row in mix.by_organisation_type}
            assert got == {label("organisation_type", code): (placed[code], active[code])
                           for code in set(placed) | set(active)}
    # The plenary: nobody is placed there, and the report gives it no mix.
    report = _report(event)
    assert report.sections[0].mix is None
    assert [(s.mix.placed, s.mix.active) for s in report.sections[1:]] == [(3, 3), (3, 1)]
    assert report.room_people == [(s.title, s.mix.placed, s.mix.active) for s in report.sections[1:]]


def _save_cover(event, logo=None):
    report_cover.save(event.owner, event, summary=SUMMARY, next_steps=NEXT_STEPS, logo=logo)


def _pdftotext(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


SECTIONS = ("Executive summary", "Agenda and speakers", "Participation", "Registered, attended and active",
            "Participant mix", "Next steps and recommendations", "Moderation", "About this report")


def test_every_section_in_every_format(db, event, tmp_path):
    _save_cover(event, logo=_png())
    report = _report(event)
    with force_locale("en"):
        markdown = reports.render_markdown(report)
        html = reports.render_html(report, standalone=True)
        pdf = _pdftotext(reports.render_pdf(report), tmp_path)
        document = Document(io.BytesIO(render_docx(report)))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    docx_text = "\n".join(p.text for p in document.paragraphs)
    docx_cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    flat_pdf = " ".join(pdf.split())
    for section in SECTIONS:
        assert f"## {section}" in markdown or f"### {section}" in markdown, section
        assert f">{section}<" in html, section
        assert section in flat_pdf, section
        assert section in headings, section
    for text in ("practitioners", "Guarantee funds work", "Hold a follow-up webinar on guarantee funds",
                 "Dr Ana Ruiz, Ministry of Labour (Spain) – keynote", "10:10 Breakout rooms"):
        assert text in markdown and text in html and text in flat_pdf and text in docx_text, text
    # The figures, in each format's tables.
    for value in ("Registered", "Attended", "Active", "Placed"):
        assert value in docx_cells and value in flat_pdf
    assert "| Registered | 6 |" in markdown and "| Attended | 5 |" in markdown and "| Active | 4 |" in markdown
    # The logo: on the HTML cover (nothing fetched), in the PDF, first in the DOCX.
    assert 'class="report-logo" src="data:image/png;base64,' in html
    assert document.inline_shapes and document.paragraphs[0]._p.xpath(".//pic:pic")
    # The organiser's Markdown stays text: no heading of theirs, no HTML in the Markdown file.
    assert "**practitioners**" not in markdown and "<strong>" not in markdown


def test_organiser_text_cannot_break_the_report(db, event):
    report_cover.save(event.owner, event, summary="# Not a heading\n\n<script>alert(1)</script> | pipe",
                      next_steps="")
    report = _report(event)
    with force_locale("en"):
        markdown = reports.render_markdown(report)
        html = reports.render_html(report, standalone=True)
    assert "\n# Not a heading" not in markdown and "Not a heading" in markdown
    assert "<script>" not in markdown and "<script>" not in html
    assert "Next steps and recommendations" not in markdown  # nothing written, no section


def test_the_draft_starts_from_figures_takeaways_and_open_questions(db, event, make_user):
    participant = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=participant.id, room_id=event.breakout_rooms[0].id))
    question = posts.post_in_room(event.test_people[0], event.breakout_rooms[0],
                                  body="Could the region guarantee deposits for every newcomer household?")
    posts.endorse(participant, question)
    prompt = posts.post_in_room(event.test_moderators[1][0], event.breakout_rooms[0],
                                body="What should the region do first about deposits and guarantees?")
    posts.endorse(participant, prompt)
    with force_locale("en"):
        summary, next_steps = report_cover.draft(event)
    assert "7 people registered" in summary and "5 attended" in summary and "4 took an active part" in summary
    assert "Guarantee funds helped newcomers rent a first flat in Bologna." in summary  # the takeaway
    assert "Could the region guarantee deposits for every newcomer household?" in next_steps
    assert "What should the region do first" not in next_steps  # a moderator's prompt


def test_the_cover_page_drafts_saves_and_refuses_bad_input(client, db, event):
    login(client, event.owner)
    url = f"/exports/event/{event.id}/cover"
    page = client.get(url)
    assert page.status_code == 200
    assert "took place on" in page.get_data(as_text=True)  # the draft fills the empty form
    assert db.session.scalar(select(ReportCover)) is None  # nothing stored by reading

    bad = client.post(url, data={"summary": "Kept?", "next_steps": "", "logo": (io.BytesIO(b"not an image"),
                                                                              "logo.png")},
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "PNG or JPEG" in bad.get_data(as_text=True)
    assert db.session.scalar(select(ReportCover)) is None  # nothing half-stored

    saved = client.post(url, data={"summary": SUMMARY, "next_steps": NEXT_STEPS,
                                   "logo": (io.BytesIO(_png(1800, 600)), "logo.png")},
                        content_type="multipart/form-data")
    assert saved.status_code == 303
    cover = db.session.scalar(select(ReportCover))
    assert cover.summary == SUMMARY and "<strong>practitioners</strong>" in cover.summary_html
    with Image.open(io.BytesIO(cover.logo)) as image:
        assert image.size[0] <= 600 and image.size[1] <= 240  # resized, written anew
    assert client.get(f"{url}/logo").data == cover.logo
    assert db.session.scalar(select(ModerationAction).where(ModerationAction.action == "report.cover"))

    again = client.get(url).get_data(as_text=True)
    assert "took place on" not in again and "practitioners" in again  # what was saved, not a draft
    assert "took place on" in client.get(url + "?draft=1").get_data(as_text=True)

    client.post(url, data={"summary": SUMMARY, "next_steps": "", "remove_logo": "y"},
                content_type="multipart/form-data")
    db.session.expire_all()
    assert db.session.scalar(select(ReportCover)).logo is None


def test_only_the_organisers_write_the_report(client, db, event):
    moderator = event.test_moderators[1][0]
    login(client, moderator)
    assert client.get(f"/exports/event/{event.id}/cover").status_code == 404
    assert client.post(f"/exports/event/{event.id}/cover", data={"summary": "Mine"}).status_code == 404
    assert db.session.scalar(select(ReportCover)) is None


def test_attendance_is_recorded_once_and_only_while_the_room_runs(db, event, make_user):
    room = event.breakout_rooms[0]
    late = make_user()
    db.session.add(EventMember(event_id=event.id, user_id=late.id, room_id=room.id))
    room.phase = "not_started"
    assert rooms.record_attendance(late, room) is False
    room.phase = "open"
    first = utcnow() - timedelta(minutes=5)
    assert rooms.record_attendance(late, room, now=first) is True
    assert rooms.record_attendance(late, room) is False
    member = db.session.scalar(select(EventMember).where(EventMember.user_id == late.id))
    db.session.refresh(member)
    assert member.attended_at == first.replace(microsecond=first.microsecond)
    outsider = make_user()
    assert rooms.record_attendance(outsider, room) is False  # not registered: nothing to record
