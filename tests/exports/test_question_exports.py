"""The plenary's Q&A in the event report (Markdown, HTML) and the JSON export: counts, the top
questions by votes with answered or not, authors named as in every export (an anonymous
question's author and a dismissed question's text never)."""
from __future__ import annotations

import json

import pytest

from forum.exports import data
from forum.exports import report as reports
from forum.exports.scope import resolve
from forum.extensions import db
from forum.services import questions as service
from tests.web.page import parse


@pytest.fixture
def qa(make_event, make_user):
    event = make_event(participants=3)
    alice, bob, carol = event.test_participants
    alice.display_name, bob.display_name = "Alice Asker", "Bob Private"
    bob.named_in_reports = False
    organiser = event.owner
    popular = service.ask(alice, event.plenary, "Who funds the follow-up?")
    answered = service.ask(bob, event.plenary, "When is the report out?")
    secret = service.ask(carol, event.plenary, "Is this anonymous?", anonymous=True)
    dismissed = service.ask(carol, event.plenary, "Spam spam spam")
    for voter in (bob, carol):
        service.vote(voter, popular)
    service.vote(alice, answered)
    service.mark_answered(organiser, answered)
    service.dismiss(organiser, dismissed)
    event.plenary.questions_premoderated = True
    service.ask(alice, event.plenary, "Still waiting")
    db.session.flush()
    return event, secret


def test_the_event_report_has_the_plenarys_questions(qa):
    event, _ = qa
    markdown = reports.render_markdown(reports.build_report(resolve(event.owner, "event", event.id)))
    part = markdown.split("## Questions to the plenary", 1)[1].split("\n## ", 1)[0]
    assert "4 questions were asked, 1 answered; 3 votes." in part
    assert "1 question was dismissed by the moderators." in part
    rows = [line for line in part.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert rows == [
        "| 1 | Who funds the follow-up? | Alice Asker | Not answered | 2 |",
        f"| 2 | When is the report out? | {reports.md(_label_of(event.test_participants[1]))} | Answered | 1 |",
        "| 3 | Is this anonymous? | Anonymous | Not answered | 0 |",
    ]
    assert "Spam" not in markdown and "Still waiting" not in markdown
    assert event.test_participants[2].display_name not in part


def _label_of(user):
    from forum.exports.scope import author_label

    return author_label(user)


def test_the_html_report_and_the_json_export_say_the_same(qa):
    event, _ = qa
    scope = resolve(event.owner, "event", event.id)
    page = parse(str(reports.render_html(reports.build_report(scope), standalone=True)))
    section = page.find("section", class_="report-questions")
    rows = [[cell.text() for cell in row.find_all() if cell.tag in ("td", "th")]
            for row in section.find("tbody").find_all("tr")]
    assert rows[0] == ["1", "Who funds the follow-up?", "Alice Asker", "Not answered", "2"]
    assert rows[1][3:] == ["Answered", "1"]
    document = json.loads("".join(data.json_chunks(scope)))
    assert document["plenary_questions"]["asked"] == 4
    assert document["plenary_questions"]["answered"] == 1
    assert document["plenary_questions"]["votes"] == 3
    assert [(q["author"], q["votes"], q["answered"]) for q in document["plenary_questions"]["top"]] == [
        ("Alice Asker", 2, False), (_label_of(event.test_participants[1]), 1, True), ("Anonymous", 0, False)]


def test_a_breakout_rooms_export_and_an_event_without_questions_have_no_section(qa, make_event):
    event, _ = qa
    room = event.breakout_rooms[0]
    assert reports.build_report(resolve(event.owner, "room", room.id)).questions is None
    quiet = make_event()
    report = reports.build_report(resolve(quiet.owner, "event", quiet.id))
    assert report.questions is None
    assert "Questions to the plenary" not in reports.render_markdown(report)
    assert json.loads("".join(data.json_chunks(resolve(quiet.owner, "event", quiet.id))))["plenary_questions"] is None
