"""A person's copy of their own data (forum/services/personal_data.py, docs/data-rights.md):
asked for, built by the job (inline here) into a ZIP of JSON files and index.html, holding
every row linked to the person (hidden, rejected and deleted posts with their state) and
nothing of anyone else's; one copy at a time; kept PERSONAL_DATA_KEEP_DAYS days."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from forum.exports import personal_data as export
from forum.models import (
    ApiToken,
    EventMember,
    FeedbackAnswer,
    LoginRecord,
    Moderator,
    ReportFile,
    ReportStatus,
)
from forum.models.base import utcnow
from forum.models.events import EventStatus, MemberRole
from forum.models.reports import PERSONAL_DATA_KIND
from forum.services import consultations as consultation_service
from forum.services import events as event_streams
from forum.services import feedback, moderation, notifications, opinion, polls, posts, preevent, questions
from forum.services import personal_data as service
from forum.services import reports as report_service
from forum.services import rooms as room_service
from forum.services.errors import LoginRequired
from tests.poll_factory import make_poll  # noqa: F401 (fixture)

SECRET = "Bob's own words, never in Ada's copy"


def member(db, user, event, room=None, role=MemberRole.PARTICIPANT):
    db.session.add(EventMember(event_id=event.id, user_id=user.id, role=role, room_id=room.id if room else None))
    db.session.flush()


@pytest.fixture
def busy(db, make_user, make_consultation, make_post, make_event, make_poll):  # noqa: F811
    """Ada, who did a bit of everything, and Bob, who did the same things next to her."""
    ada = make_user(display_name="Ada Lovelace", email="ada@example.org", organisation="Analytical Engines",
                    country="IT", timezone="Europe/Rome", role_title="Engineer")
    bob = make_user(display_name="Bob Secret", email="bob.secret@example.org")
    owner = make_user("organiser")
    consultation = make_consultation(owner, title="Housing for newcomers", topics=2, hosts=[ada])
    proposal = consultation.topics[1]
    proposal.is_proposal = True
    db.session.flush()

    # Posts: a response edited twice, a reply, a hidden one, a deleted one; Bob's beside them.
    response = make_post(ada, consultation=consultation, topic=proposal, subject="Housing first",
                         body="First version.", stance="in_favour")
    posts.edit_post(ada, response, body="Second version.", subject="Housing first", stance="in_favour")
    posts.edit_post(ada, response, body="Third version.", subject="Housing first!", stance="against")
    bobs = make_post(bob, consultation=consultation, body=SECRET)
    reply = make_post(ada, parent=bobs, body="I agree with you.")
    hidden = make_post(ada, consultation=consultation, body="Something off topic.")
    moderation.hide_post(owner, hidden, "Off topic")
    deleted = make_post(ada, consultation=consultation, body="Words I took back.")
    posts.delete_post(ada, deleted)
    make_post(bob, parent=response, body=SECRET)  # a reply to Ada: a notice for her
    posts.endorse(ada, bobs)
    posts.endorse(bob, response)
    bob_flagged = make_post(bob, consultation=consultation, body=SECRET)
    moderation.flag_post(ada, bob_flagged, "Spam, I think")
    moderation.flag_post(bob, reply, "Not nice")
    notifications.follow(ada, consultation)
    notifications.save_settings(ada, ada, enabled={"reply", "mention", "moderation"}, email_immediate=False,
                                digest_frequency="weekly")

    # A poll and a statements board.
    poll = make_poll(consultation, kind="single")
    polls.cast_vote(ada, poll, [poll.options[1].id])
    polls.cast_vote(bob, poll, [poll.options[0].id])
    board = opinion.save_board(owner, consultation, prompt="What matters?", premoderated=False)
    opinion.set_board_status(owner, board, "open")
    mine = opinion.submit_statement(ada, board, "Rents are too high")
    theirs = opinion.submit_statement(bob, board, "Transport matters most")
    opinion.vote(ada, theirs, "disagree")
    opinion.vote(bob, mine, "agree")

    # A live event: Ada in room 1, co-moderating room 2; a message, a hand, a mute, a takeaway,
    # a plenary question.
    event = make_event(owner, rooms=2, moderators=1, title="Live event")
    room1, room2 = event.breakout_rooms
    member(db, ada, event, room1)
    member(db, bob, event, room1)
    db.session.add(Moderator(user_id=ada.id, room_id=room2.id))
    db.session.flush()
    db.session.expire(room2, ["moderators"])
    message = posts.post_in_room(ada, room1, body="Hello room one.")
    posts.post_in_room(bob, room1, body=SECRET)
    room_service.raise_hand(ada, room1)
    room_moderator = event.test_moderators[1][0]
    moderation.mute_user(room_moderator, room1, ada, 10, "Calm down")
    room_service.add_takeaway(room_moderator, room1, "Rooms need light.", source_post=message)
    asked = questions.ask(ada, event.plenary, "What about funding?")
    bobs_question = questions.ask(bob, event.plenary, "And schools?")
    questions.vote(ada, bobs_question)
    questions.vote(bob, asked)
    room2_message = posts.post_in_room(event.test_moderators[2][0], room2, body="A message to hide")
    moderation.hide_post(ada, room2_message, "Rude")

    # An upcoming event's pre-event input.
    upcoming = make_event(owner, rooms=1, moderators=1, phase="not_started", title="Upcoming event")
    upcoming.starts_at = utcnow() + timedelta(days=1)
    upcoming.ends_at = upcoming.starts_at + timedelta(hours=2)
    member(db, ada, upcoming, upcoming.breakout_rooms[0])
    member(db, bob, upcoming, upcoming.breakout_rooms[0])
    question = preevent.add_question(owner, upcoming, kind="priorities", label="Your top priority?")
    preevent.answer(ada, question, "Housing")
    bobs_answer = preevent.answer(bob, question, SECRET)
    preevent.endorse(ada, bobs_answer)

    # Two ended events' feedback: one answered with her name, one anonymously.
    named_event = make_event(owner, rooms=1, moderators=1, title="Named feedback event")
    anonymous_event = make_event(owner, rooms=1, moderators=1, title="Anonymous feedback event")
    for ended in (named_event, anonymous_event):
        ended.status = EventStatus.ENDED
        member(db, ada, ended, ended.breakout_rooms[0])
        member(db, bob, ended, ended.breakout_rooms[0])
        feedback.save_form(owner, ended, questions=["What worked?"], rate_room=True)
    feedback.answer(ada, named_event, overall=5, room_rating=4, comments=["The rooms"], show_name=True)
    feedback.answer(ada, anonymous_event, overall=1, comments=["Anonymous words of Ada"])
    feedback.answer(bob, named_event, overall=3, comments=[SECRET], show_name=True)

    # Logins, a token, a report.
    db.session.add_all([
        LoginRecord(user_id=ada.id, ip_address="192.0.2.1", user_agent="Firefox on Linux"),
        LoginRecord(user_id=bob.id, ip_address="198.51.100.9", user_agent="Bob's browser"),
        ApiToken(user_id=ada.id, name="My script", token_hash="a" * 64, prefix="plen_abcd", scope="read",
                 expires_at=utcnow() + timedelta(days=30)),
        ApiToken(user_id=bob.id, name="Bob's token", token_hash="b" * 64, prefix="plen_bbbb", scope="write",
                 expires_at=utcnow() + timedelta(days=30)),
    ])
    db.session.commit()  # the notices' jobs run (inline) once this commits
    return SimpleNamespace(ada=ada, bob=bob, owner=owner, consultation=consultation, response=response,
                           reply=reply, hidden=hidden, deleted=deleted, bobs=bobs, event=event, poll=poll,
                           statement=mine, theirs=theirs, asked=asked, bobs_question=bobs_question,
                           room2_message=room2_message, message=message, bob_flagged=bob_flagged)


def built_copy(db, user) -> ReportFile:
    copy = service.request_personal_data(user)
    db.session.commit()  # the job runs inline after the commit
    db.session.expire_all()
    copy = db.session.get(ReportFile, copy.id)
    assert copy.status is ReportStatus.DONE, copy.error
    return copy


def read_archive(copy: ReportFile) -> dict:
    with zipfile.ZipFile(io.BytesIO(report_service.path_of(copy).read_bytes())) as archive:
        return {name: archive.read(name).decode() if name.endswith(".html") else json.loads(archive.read(name))
                for name in archive.namelist()}


@pytest.fixture
def ada_archive(db, busy):
    return read_archive(built_copy(db, busy.ada))


# --- What is in it ----------------------------------------------------------------------------

def test_the_archive_holds_every_file_and_a_readable_page(ada_archive):
    assert sorted(ada_archive) == sorted([*export.FILES, "index.html"])
    for name in export.FILES:
        assert ada_archive[name]["format"] == "plenary-personal-data" and ada_archive[name]["file"] == name


def test_profile_json_has_every_field_and_setting_but_no_secret(ada_archive, busy):
    profile = ada_archive["profile.json"]["profile"]
    assert profile == {
        "id": busy.ada.id, "email": "ada@example.org", "email_verified": True,
        "email_verified_at": export.iso(busy.ada.email_verified_at), "display_name": "Ada Lovelace",
        "handle": busy.ada.handle, "organisation": "Analytical Engines", "organisation_type": "ngo",
        "country": "IT", "role_title": "Engineer", "preferred_language": "en", "timezone": "Europe/Rome",
        "named_in_reports": True, "is_admin": False, "is_organiser": False, "email_immediate": False,
        "digest_frequency": "weekly", "last_digest_at": None, "created_at": export.iso(busy.ada.created_at),
        "last_login_at": None, "closed_at": None}
    assert profile["created_at"].endswith("Z")
    text = json.dumps(ada_archive)
    assert busy.ada.password_hash not in text and busy.ada.session_token not in text


def test_posts_json_has_every_post_with_place_state_stance_and_versions(ada_archive, busy):
    by_id = {p["id"]: p for p in ada_archive["posts.json"]["posts"]}
    assert list(by_id) == sorted(by_id)  # oldest first
    assert set(by_id) == {busy.response.id, busy.reply.id, busy.hidden.id, busy.deleted.id, busy.message.id}
    response = by_id[busy.response.id]
    assert response["kind"] == "response" and response["state"] == "published"
    assert response["place"] == {"kind": "topic", "consultation_id": busy.consultation.id,
                                 "consultation_title": "Housing for newcomers",
                                 "topic_id": busy.consultation.topics[1].id, "topic_number": 2,
                                 "topic_title": busy.consultation.topics[1].title}
    assert (response["subject"], response["body_markdown"], response["stance"]) == (
        "Housing first!", "Third version.", "against")
    assert [(v["subject"], v["body_markdown"]) for v in response["earlier_versions"]] == [
        ("Housing first", "First version."), ("Housing first", "Second version.")]
    assert response["earlier_versions"][0]["written_at"] == export.iso(busy.response.created_at)
    assert response["endorsements"] == 1 and response["replies"] == 1
    assert by_id[busy.reply.id]["kind"] == "reply" and by_id[busy.reply.id]["parent_id"] == busy.bobs.id
    hidden = by_id[busy.hidden.id]
    assert (hidden["state"], hidden["hidden_reason"], hidden["body_markdown"]) == (
        "hidden", "Off topic", "Something off topic.")
    deleted = by_id[busy.deleted.id]
    assert deleted["state"] == "deleted" and deleted["deleted_at"] and deleted["body_markdown"] == ""
    room_message = by_id[busy.message.id]
    assert room_message["kind"] == "room_message" and room_message["place"] == {
        "kind": "room", "event_id": busy.event.id, "event_title": "Live event",
        "room_id": busy.event.breakout_rooms[0].id, "room_title": busy.event.breakout_rooms[0].title,
        "plenary": False}


def test_endorsements_json(ada_archive, busy):
    (endorsement,) = ada_archive["endorsements.json"]["endorsements"]
    assert endorsement["post_id"] == busy.bobs.id and endorsement["place"]["consultation_id"] == busy.consultation.id


def test_votes_json_has_ballots_statements_questions_pre_event_input_and_named_feedback_only(ada_archive, busy):
    votes = ada_archive["votes.json"]
    (ballot,) = votes["poll_votes"]
    assert ballot["poll_id"] == busy.poll.id and ballot["choice"] == [busy.poll.options[1].id]
    assert ballot["choice_in_words"] == [{"option_id": busy.poll.options[1].id, "option": "Option 2"}]
    assert ballot["country_when_voting"] == "IT"
    assert [s["text"] for s in votes["statements"]] == ["Rents are too high"]
    assert votes["statements"][0]["votes"] == {"agree": 1, "disagree": 0, "pass": 0}
    assert [(v["statement_id"], v["vote"]) for v in votes["statement_votes"]] == [(busy.theirs.id, "disagree")]
    assert [(q["id"], q["body"], q["votes"]) for q in votes["plenary_questions"]] == [
        (busy.asked.id, "What about funding?", 1)]
    assert [v["question_id"] for v in votes["plenary_question_votes"]] == [busy.bobs_question.id]
    assert [(a["question"], a["body"]) for a in votes["pre_event_answers"]] == [("Your top priority?", "Housing")]
    assert [e["question"] for e in votes["pre_event_endorsements"]] == ["Your top priority?"]
    (named,) = votes["named_feedback_answers"]
    assert (named["place"]["event_title"], named["overall"], named["room_rating"], named["comments"]) == (
        "Named feedback event", 5, 4, [{"question": "What worked?", "answer": "The rooms"}])
    # The anonymous answer is in the database, but nothing leads from Ada to it.
    assert "Anonymous words of Ada" not in json.dumps(ada_archive)
    assert sorted(f["place"]["event_title"] for f in votes["feedback_forms_answered"]) == [
        "Anonymous feedback event", "Named feedback event"]
    assert "Feedback you gave anonymously is not included" in ada_archive["index.html"]


def test_events_json_has_registrations_co_moderation_hands_and_takeaways(ada_archive, busy):
    events = ada_archive["events.json"]
    titles = sorted(r["place"]["event_title"] for r in events["registrations"])
    assert titles == ["Anonymous feedback event", "Live event", "Named feedback event", "Upcoming event"]
    live = next(r for r in events["registrations"] if r["place"]["event_title"] == "Live event")
    assert live["role"] == "participant" and live["room_id"] == busy.event.breakout_rooms[0].id
    assert [c["place"]["room_id"] for c in events["co_moderation"]] == [busy.event.breakout_rooms[1].id]
    assert len(events["raised_hands"]) == 1
    assert [t["body_markdown"] for t in events["takeaways_crediting_you"]] == ["Rooms need light."]
    assert events["takeaways_written"] == []


def test_organising_json_has_hosting(ada_archive, busy):
    organising = ada_archive["organising.json"]
    assert [h["place"]["consultation_id"] for h in organising["hosting"]] == [busy.consultation.id]
    assert organising["consultations"] == [] and organising["events"] == []


def test_notifications_json_has_notices_follows_and_settings(ada_archive, busy):
    data = ada_archive["notifications.json"]
    kinds = {n["kind"] for n in data["notifications"]}
    assert "reply" in kinds
    assert any(f["what"] == "consultation" and f["place"]["consultation_id"] == busy.consultation.id
               for f in data["follows"])
    assert data["settings"]["kinds"]["reply"] is True and data["settings"]["kinds"]["endorsement"] is False
    assert data["settings"]["digest_frequency"] == "weekly" and data["settings"]["email_immediate"] is False


def test_moderation_json_has_what_concerns_the_person_and_what_they_did(ada_archive, busy):
    data = ada_archive["moderation.json"]
    about = {(a["action"], a["post_id"]) for a in data["actions_about_you"]}
    assert ("post.hidden", busy.hidden.id) in about
    assert any(a["action"] == "user.muted" for a in data["actions_about_you"])
    assert all(not a["by_you"] and "actor_id" not in a for a in data["actions_about_you"])  # who acted: unnamed
    taken = [(a["action"], a["post_id"]) for a in data["actions_you_took"]]
    assert taken == [("post.hidden", busy.room2_message.id)]
    assert [p["post_id"] for p in data["posts_you_hid"]] == [busy.room2_message.id]
    assert [(f["post_id"], f["reason"]) for f in data["reports_you_made"]] == [(busy.bob_flagged.id, "Spam, I think")]
    assert [m["reason"] for m in data["mutes_on_you"]] == ["Calm down"]
    # Bob's report of Ada's reply is Bob's: not in her copy.
    assert "Not nice" not in json.dumps(ada_archive)


def test_login_records_and_api_tokens_without_hashes(ada_archive):
    assert [(r["ip_address"], r["user_agent"]) for r in ada_archive["login_records.json"]["logins"]] == [
        ("192.0.2.1", "Firefox on Linux")]
    (token,) = ada_archive["api_tokens.json"]["api_tokens"]
    assert {k: token[k] for k in ("name", "prefix", "scope")} == {"name": "My script", "prefix": "plen_abcd",
                                                                  "scope": "read"}
    assert "token_hash" not in token and "a" * 64 not in json.dumps(ada_archive)


def test_reports_json_lists_the_files_asked_for(ada_archive):
    (copy,) = ada_archive["reports.json"]["report_files"]
    assert copy["kind"] == PERSONAL_DATA_KIND and copy["format"] == "zip"


def test_nothing_of_anyone_else_is_in_the_copy(ada_archive, busy):
    everything = json.dumps(ada_archive, ensure_ascii=False)
    for other in (SECRET, "Bob Secret", "bob.secret@example.org", busy.bob.handle, "Bob's browser", "Bob's token",
                  "198.51.100.9", "And schools?"):
        assert other not in everything


def test_the_page_is_in_the_persons_language_and_time_zone(db, busy, monkeypatch):
    from tests.web.page import parse

    busy.ada.preferred_language = "it"
    db.session.commit()
    archive = read_archive(built_copy(db, busy.ada))
    page = parse(archive["index.html"])
    assert page.find_all("html")[0].get("lang") == "it"
    assert [h.text() for h in page.find_all("h1")] and page.find_all("caption")
    assert all(table.find_all("caption") for table in page.find_all("table"))
    links = {a.get("href") for a in page.find_all("a")}
    assert set(export.FILES) <= links
    # The account's creation, shown in Rome's time (UTC+1 or +2): the ISO time is UTC.
    created = next(t for t in page.find_all("time") if t.get("datetime") == export.iso(busy.ada.created_at))
    assert created.text()
    assert "Europe/Rome" in archive["index.html"]
    assert archive["profile.json"]["profile"]["created_at"].endswith("Z")


# --- Asking: one at a time, only one's own --------------------------------------------------

def test_the_job_tells_the_persons_pages_how_it_goes(db, busy, monkeypatch):
    told = []
    monkeypatch.setattr(event_streams, "notify_user_after_commit",
                        lambda user_id, message: told.append((user_id, message["status"], message["progress"])))
    copy = built_copy(db, busy.ada)
    assert {user_id for user_id, _, _ in told} == {busy.ada.id}
    assert told[0][1] == "building" and told[-1] == (busy.ada.id, "done", 100)
    progress = [p for _, _, p in told]
    assert progress == sorted(progress) and len(progress) > 3
    assert copy.filename.startswith(f"plenary-my-data-{busy.ada.id}-") and copy.filename.endswith(".zip")


def test_a_second_request_while_one_is_pending_or_recent_makes_no_new_job(db, app, make_user, monkeypatch):
    from forum import jobs

    queued = []
    monkeypatch.setattr(jobs, "enqueue", lambda func, *args, **kwargs: queued.append(args))
    person = make_user()
    first = service.request_personal_data(person)
    with pytest.raises(service.AlreadyAsked) as pending:
        service.request_personal_data(person)
    assert pending.value.report.id == first.id and pending.value.retry_at is None
    first.status = ReportStatus.DONE
    db.session.flush()
    with pytest.raises(service.AlreadyAsked) as recent:
        service.request_personal_data(person)
    assert recent.value.retry_at == first.created_at + timedelta(minutes=60)
    assert "You may ask for a new one from" in str(recent.value.message)
    assert len(queued) == 1
    # An hour later, or after a failure, a new one may be asked for.
    first.created_at = utcnow() - timedelta(minutes=61)
    db.session.flush()
    second = service.request_personal_data(person)
    second.status = ReportStatus.FAILED
    db.session.flush()
    assert service.request_personal_data(person).id not in (first.id, second.id)
    assert len(queued) == 3


def test_visitors_may_not_ask(db, app):
    from flask_login import AnonymousUserMixin

    with pytest.raises(LoginRequired):
        service.request_personal_data(AnonymousUserMixin())
    assert db.session.scalar(select(ReportFile.id)) is None


def test_the_copy_is_its_owners_only(db, busy):
    from forum.services.errors import NotFound

    copy = built_copy(db, busy.ada)
    assert report_service.visible_report(busy.ada, copy.id).id == copy.id
    for other in (busy.bob, busy.owner):
        with pytest.raises(NotFound):
            report_service.visible_report(other, copy.id)
    busy.bob.is_admin = True
    with pytest.raises(NotFound):
        report_service.visible_report(busy.bob, copy.id)


def test_it_expires_after_its_days_and_the_cleaner_removes_it(db, app, busy):
    app.config["PERSONAL_DATA_KEEP_DAYS"] = 2
    app.config["REPORTS_KEEP_DAYS"] = 30
    copy = built_copy(db, busy.ada)
    path = report_service.path_of(copy)
    assert report_service.expires_at(copy) == copy.created_at + timedelta(days=2)
    copy.created_at = utcnow() - timedelta(days=2, minutes=1)
    db.session.commit()
    with pytest.raises(report_service.Expired):
        report_service.visible_report(busy.ada, copy.id)
    assert report_service.clean() == 1
    assert not path.exists() and db.session.get(ReportFile, copy.id) is None


def test_a_failing_build_keeps_nothing_and_says_so(db, busy, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("broken")

    monkeypatch.setattr(export, "write_archive", broken)
    copy = service.request_personal_data(busy.ada)
    db.session.commit()
    db.session.expire_all()
    copy = db.session.get(ReportFile, copy.id)
    assert copy.status is ReportStatus.FAILED and "could not be built" in copy.error
    assert copy.stored_name == "" and not any(report_service.reports_dir().glob("*"))


def test_the_queries_do_not_grow_with_the_data(db, app, busy, make_post, count_queries, tmp_path):
    def statements() -> int:
        db.session.flush()
        db.session.expire_all()  # each count reloads the same objects
        with count_queries() as sent:
            export.write_archive(busy.ada, tmp_path / "copy.zip", timezone_name="UTC", generated_at=utcnow())
        return len(sent)

    before = statements()
    for n in range(5):
        post = make_post(busy.ada, consultation=busy.consultation, body=f"More {n}")
        posts.edit_post(busy.ada, post, body=f"More {n}, edited")
        posts.endorse(busy.ada, make_post(busy.bob, consultation=busy.consultation))
        db.session.add(LoginRecord(user_id=busy.ada.id, ip_address="192.0.2.2"))
    db.session.flush()
    assert statements() == before


def test_rejected_messages_are_included_with_their_state(db, make_event, make_user):
    event = make_event(rooms=1, moderators=1)
    room = event.breakout_rooms[0]
    person = make_user()
    member(db, person, event, room)
    room.premoderated = True
    db.session.flush()
    message = posts.post_in_room(person, room, body="Please approve me")
    moderation.reject_post(event.test_moderators[1][0], message, "Not now")
    records = list(export.post_records(person))
    assert [(r["id"], r["state"], r["rejected_reason"]) for r in records] == [(message.id, "rejected", "Not now")]


def test_anonymous_feedback_answers_stay_unlinked(db, busy):
    """The anonymous answer exists, without author: the copy cannot and does not include it."""
    stored = db.session.scalars(select(FeedbackAnswer.comments).where(FeedbackAnswer.author_id.is_(None))).all()
    assert ["Anonymous words of Ada"] in stored


def test_hosting_comes_from_the_consultation_service(db, busy):
    consultation_service.add_host(busy.owner, busy.consultation, consultation_service.HostInput(name="Not an account"))
    assert [h["name"] for h in export.organising(busy.ada)["hosting"]] == ["Ada Lovelace"]

