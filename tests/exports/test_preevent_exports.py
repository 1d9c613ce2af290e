"""Pre-event input in the event report (Markdown, HTML) and the JSON export (`pre_event_input`):
per board, contributors by organisation type (against an independent count) and the most
endorsed inputs first."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from forum.exports import data
from forum.exports import report as reports
from forum.exports.scope import author_label, resolve
from forum.extensions import db
from forum.i18n import label
from forum.models.base import utcnow
from forum.services import preevent


@pytest.fixture
def input_event(make_event):
    event = make_event(rooms=2, participants=4)
    event.starts_at = utcnow() + timedelta(days=1)
    p1, p2, p3, p4 = event.test_participants  # p1, p3 in room 1
    p1.organisation_type, p3.organisation_type, p2.organisation_type, p4.organisation_type = (
        "ngo", "ngo", "public_authority", "researcher")
    p1.display_name = "Amina Diallo"
    room1 = event.breakout_rooms[0]
    wide = preevent.add_question(event.owner, event, kind="priorities", label="Your priority?")
    own = preevent.add_question(event.owner, event, kind="experience", label="Your experience?", room=room1)
    popular = preevent.answer(p1, own, "Mentoring works")
    preevent.answer(p3, own, "Language courses")
    preevent.endorse(p3, popular)
    for person in (p1, p2, p4):
        preevent.answer(person, wide, f"Priority of {person.id}")
    event.starts_at = utcnow() - timedelta(minutes=5)
    db.session.flush()
    return event


def test_the_report_has_a_pre_event_section_per_board(input_event):
    event = input_event
    markdown = reports.render_markdown(reports.build_report(resolve(event.owner, "event", event.id)))
    part = markdown.split("## Pre-event input", 1)[1].split("\n## ", 1)[0]
    assert "4 people answered the pre-event questions." in part
    room1 = part.split(f"### {event.breakout_rooms[0].title}", 1)[1]
    assert "2 people answered, 2 answers." in room1
    assert f"| {reports.md(label('organisation_type', 'ngo'))} | 2 |" in room1
    first = next(line for line in room1.splitlines() if line.startswith("1. "))
    assert "Mentoring works" in first and reports.md(author_label(event.test_participants[0])) in first
    assert "(1 endorsement; Your experience?)" in first
    whole = part.split("### The whole event", 1)[1].split("###", 1)[0]
    assert "3 people answered, 3 answers." in whole
    assert event.breakout_rooms[1].title not in part  # a board without answers is left out


def test_the_json_export_and_the_html_say_the_same(input_event):
    event = input_event
    scope = resolve(event.owner, "event", event.id)
    document = json.loads("".join(data.json_chunks(scope)))["pre_event_input"]
    assert document["contributors"] == 4
    boards = {b["title"]: b for b in document["boards"]}
    room1 = boards[event.breakout_rooms[0].title]
    assert sum(row["people"] for row in room1["contributors_by_organisation_type"]) == 2
    assert len(room1["contributors_by_organisation_type"]) == 1  # both NGOs
    assert [m["body"] for m in room1["most_endorsed"]] == ["Mentoring works", "Language courses"]
    wide = boards["The whole event"]
    assert sorted(row["people"] for row in wide["contributors_by_organisation_type"]) == [1, 1, 1]
    html = reports.render_html(reports.build_report(scope), standalone=False)
    assert "Pre-event input" in html and "Mentoring works" in html


def test_no_answers_no_section(make_event):
    quiet = make_event()
    db.session.flush()
    scope = resolve(quiet.owner, "event", quiet.id)
    assert json.loads("".join(data.json_chunks(scope)))["pre_event_input"] is None
    assert "Pre-event input" not in reports.render_markdown(reports.build_report(scope))
