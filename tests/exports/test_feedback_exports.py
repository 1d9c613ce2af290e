"""The event's feedback in its report (Markdown, HTML, PDF) and JSON export: figures and
comments, names only where chosen; nothing for an event without answers or for a room."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from forum.exports import data
from forum.exports import report as reports
from forum.exports.scope import resolve
from forum.extensions import db
from forum.models.events import EventStatus
from forum.services import feedback as service
from tests.web.page import parse


@pytest.fixture
def answered(make_event):
    event = make_event(participants=3)
    event.status = EventStatus.ENDED
    alice, bob, carol = event.test_participants
    bob.display_name = "Bob Named"
    service.answer(alice, event, overall=5, room_rating=4, comments=["Sharp moderation", ""])
    service.answer(bob, event, overall=3, comments=["", "Longer breaks"], show_name=True)
    service.answer(carol, event, overall=4)
    db.session.flush()
    return event


def test_markdown_has_the_figures_and_comments(answered):
    markdown = reports.render_markdown(reports.build_report(resolve(answered.owner, "event", answered.id)))
    part = markdown.split("## Feedback", 1)[1].split("\n## ", 1)[0]
    assert "3 people answered the feedback form; overall rating 4.0 out of 5." in part
    assert "| 5 – Very good | 1 | 33 % |" in part and "Mean 4.0 from 3 answers." in part
    assert "- Sharp moderation\n" in part and "- Longer breaks — Bob Named" in part
    assert answered.test_participants[0].display_name not in part


def test_html_and_json_say_the_same(answered):
    scope = resolve(answered.owner, "event", answered.id)
    page = parse(str(reports.render_html(reports.build_report(scope), standalone=True)))
    section = page.find("section", class_="report-feedback")
    assert section is not None and "“Longer breaks” — Bob Named" in " ".join(section.text().split())
    document = json.loads("".join(data.json_chunks(scope)))["feedback"]
    assert document["answers"] == 3
    assert document["overall"] == {"counts": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}, "count": 3, "mean": 4.0}
    comments = [c for q in document["questions"] for c in q["comments"]]
    assert {"text": "Sharp moderation", "author": None} in comments
    assert {"text": "Longer breaks", "author": "Bob Named"} in comments


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext not installed")
def test_the_pdf_has_the_section(answered, tmp_path):
    pdf = reports.render_pdf(reports.build_report(resolve(answered.owner, "event", answered.id)))
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Feedback" in text and "overall rating 4.0 out of 5" in text and "Sharp moderation" in text


def test_no_section_without_answers_nor_for_a_room(make_event, answered):
    quiet = make_event()
    scope = resolve(quiet.owner, "event", quiet.id)
    assert "## Feedback" not in reports.render_markdown(reports.build_report(scope))
    assert json.loads("".join(data.json_chunks(scope)))["feedback"] is None
    room = answered.breakout_rooms[0]
    room_scope = resolve(answered.owner, "room", room.id)
    assert "## Feedback" not in reports.render_markdown(reports.build_report(room_scope))
