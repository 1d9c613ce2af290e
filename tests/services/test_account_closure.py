"""Closing an account (forum/services/account_closure.py, docs/data-rights.md): the issue's "done
when". A person writes a unique marker in every feature; they close their account choosing
erase, and then no text or string column of any table in db.metadata holds the marker (a
generic scan: a new table is covered without touching this test), nor does search, the live
catch-up, the JSON, CSV and Markdown exports or a file under REPORTS_DIR. Choosing keep, the
text stays and their name, e-mail and organisation appear nowhere."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import JSON, LargeBinary, String, Text, cast, func, or_, select
from sqlalchemy.dialects.postgresql import TSVECTOR

from forum import permissions
from forum.exports import data as data_export
from forum.exports import report as report_export
from forum.exports.scope import resolve
from forum.extensions import db as _db
from forum.models import (
    ApiToken,
    EventMember,
    FeedbackAnswer,
    LoginRecord,
    ModerationAction,
    Notification,
    Post,
    StreamEvent,
    TokenScope,
    User,
)
from forum.models.base import utcnow
from forum.models.events import EventStatus, MemberRole, RoomPhase
from forum.services import (
    account_closure,
    accounts,
    events,
    feedback,
    mentions,
    moderation,
    opinion,
    posts,
    preevent,
    questions,
    reports,
    rooms,
    search,
)
from forum.services.errors import PermissionDenied, ValidationError

MARKER = "zyxwvmark"
NAME, EMAIL, ORGANISATION = "Quillon Zyxwvname", "quillon.zyxwv@example.org", "Zyxwvorg Collective"


def text_columns():
    """Every column of every table that can hold text (strings, texts, JSON, search vectors)."""
    for table in _db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, LargeBinary):
                continue
            if isinstance(column.type, (String, Text, JSON, TSVECTOR)) or \
                    isinstance(getattr(column.type, "impl", None), (String, Text, JSON)):
                yield table, column


def found_in_database(needle: str) -> list[tuple[str, str]]:
    """(table, column) pairs where some row holds `needle`, in any case."""
    found = []
    for table, column in text_columns():
        hit = _db.session.execute(select(func.count()).select_from(table).where(
            func.lower(cast(column, Text)).contains(needle.lower(), autoescape=True))).scalar()
        if hit:
            found.append((table.name, column.name))
    return found


def found_in_files(directory, needle: str) -> list[str]:
    if not directory.is_dir():
        return []
    return [path.name for path in directory.rglob("*") if path.is_file()
            and needle.lower().encode() in path.read_bytes().lower()]


@pytest.fixture
def person(make_user):
    return make_user(display_name=NAME, email=EMAIL, organisation=ORGANISATION, role_title="Zyxwv role",
                     password="quillon's own password")


@pytest.fixture
def scene(db, app, person, make_user, make_consultation, make_post, make_event):
    """`person` writes MARKER in every feature; others reply to, quote and act on it."""
    other = make_user()
    consultation = make_consultation(topics=1)
    # A response with a subject, edited (its first version kept as a revision), a reply, a
    # reply quoting it by someone else, a report of someone else's post, a mention of them.
    response = posts.create_post(person, consultation, topic_id=consultation.topics[0].id,
                                 subject=f"Subject {MARKER}", body=f"First version {MARKER}-old",
                                 on_behalf_of_organisation=True)
    posts.edit_post(person, response, body=f"Response {MARKER}", subject=f"Subject {MARKER}")
    others_post = make_post(author=other, consultation=consultation)
    reply = posts.create_post(person, consultation, body=f"Reply {MARKER}", parent=others_post)
    quoting = posts.create_post(other, consultation, body="I agree with this.", parent=response, quote=True)
    moderation.flag_post(person, others_post, f"Flag reason {MARKER}")
    mention = posts.create_post(other, consultation, body=f"Thanks @{person.handle}", parent=response)
    # A statements board.
    board = opinion.save_board(consultation.owner, consultation, prompt="What should change?", premoderated=False)
    opinion.set_board_status(consultation.owner, board, "open")
    statement = opinion.submit_statement(person, board, f"Statement {MARKER}")
    opinion.vote(other, statement, "agree")
    # A live event: a room message that becomes a key takeaway credited to them, a question to
    # the plenary, a raised hand.
    event = make_event(rooms=1, moderators=1)
    room = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    db.session.add(EventMember(event_id=event.id, user_id=person.id, role=MemberRole.PARTICIPANT, room_id=room.id))
    db.session.flush()
    message = posts.post_in_room(person, room, body=f"Room message {MARKER}")
    posts.post_in_room(moderator, room, body="Good point.", parent=message, quote=True)
    rooms.add_takeaway(moderator, room, "", source_post=message)
    question = questions.ask(person, event.plenary, f"Question {MARKER}?")
    rooms.raise_hand(person, room)
    # Pre-event input on an upcoming event, pinned into its room once it runs.
    upcoming = make_event(rooms=1, moderators=1, phase="not_started")
    upcoming.starts_at = utcnow() + timedelta(days=1)
    upcoming.ends_at = upcoming.starts_at + timedelta(hours=2)
    up_room = upcoming.breakout_rooms[0]
    db.session.add(EventMember(event_id=upcoming.id, user_id=person.id, role=MemberRole.PARTICIPANT,
                               room_id=up_room.id))
    db.session.flush()
    asked = preevent.add_question(upcoming.owner, upcoming, kind="discuss", label="What to discuss?", room=up_room)
    answer = preevent.answer(person, asked, f"Pre-event answer {MARKER}")
    upcoming.starts_at = utcnow() - timedelta(minutes=1)
    up_room.phase = RoomPhase.OPEN
    db.session.flush()
    pinned = preevent.pin(upcoming.test_moderators[1][0], up_room, answer)
    # Named feedback on an event that has ended.
    ended = make_event(rooms=1, moderators=1)
    db.session.add(EventMember(event_id=ended.id, user_id=person.id, role=MemberRole.PARTICIPANT,
                               room_id=ended.breakout_rooms[0].id))
    ended.status = EventStatus.ENDED
    db.session.flush()
    feedback.save_form(ended.owner, ended, questions=["What would you change?"], rate_room=False)
    feedback.answer(person, ended, overall=4, comments=[f"Feedback {MARKER}"], show_name=True)
    # What the account holds besides: a login, an API token, notifications, follows.
    assert accounts.authenticate(EMAIL, person.test_password, ip_address="192.0.2.7", user_agent="Zyxwv browser")
    db.session.add(ApiToken(user_id=person.id, name="Zyxwv laptop", token_hash="0" * 64, prefix="pat_0000",
                            scope=TokenScope.READ, expires_at=utcnow() + timedelta(days=30)))
    db.session.commit()  # live messages stored, notices delivered
    # Report files built from the consultation and the event, and the public summary.
    for kind, thing in (("consultation", consultation), ("event", event)):
        reports.request_report(thing.owner, kind, thing.id, "md", language="en", timezone="UTC")
    db.session.commit()  # the jobs run inline after the commit
    reports.build_public_summary(consultation.id, "en", "UTC")
    return SimpleNamespace(**locals())


def exports_text(scene) -> str:
    """Every export of the consultation and the events, as their organisers get them."""
    texts = []
    for kind, thing in (("consultation", scene.consultation), ("event", scene.event),
                        ("event", scene.upcoming), ("event", scene.ended)):
        scope = resolve(thing.owner, kind, thing.id)
        texts += ["".join(data_export.csv_chunks(scope)), "".join(data_export.json_chunks(scope)),
                  report_export.render_markdown(report_export.build_report(scope, timezone="UTC"))]
    return "\n".join(texts)


def catch_up_text(scene) -> str:
    keys = [events.consultation_stream(scene.consultation)]
    for room in [*scene.event.rooms, *scene.upcoming.rooms]:
        keys += [events.room_stream(room), events.moderators_stream(room), events.preevent_stream(room)]
    return repr([events.events_after(key, 0, 10_000)[0] for key in keys])


def searched(viewer, words: str) -> int:
    return search.search(viewer, search.read_query(words)).total


def test_erasing_leaves_the_marker_nowhere(app, db, scene):
    person, admin_view = scene.person, scene.consultation.owner
    # Everything the scan looks at holds the marker before: the test can fail.
    assert {"post", "post_revision", "takeaway", "question", "preevent_answer", "statement", "feedback_answer",
            "flag", "stream_event", "search_document", "report_file", "moderation_action"} - \
        {table for table, _column in found_in_database(MARKER)} == {"report_file", "moderation_action"}
    assert searched(admin_view, MARKER) > 0
    assert MARKER in catch_up_text(scene) and MARKER in exports_text(scene)
    reports_dir = reports.reports_dir()
    assert len(list(reports_dir.iterdir())) == 3  # two reports and the summary
    assert found_in_files(reports_dir, MARKER)  # the event's report quotes the takeaway

    account_closure.close_account(person, person, "erase", password=person.test_password)
    db.session.commit()

    assert found_in_database(MARKER) == []
    assert searched(admin_view, MARKER) == 0
    assert MARKER not in catch_up_text(scene)
    assert MARKER not in exports_text(scene)
    assert found_in_files(reports_dir, MARKER) == [] and list(reports_dir.iterdir()) == []
    # Their posts keep their place, removed at their request; others' replies stay.
    db.session.expire_all()
    response = db.session.get(Post, scene.response.id)
    assert response.is_deleted and response.author.closed_erased and response.body == ""
    assert db.session.get(Post, scene.quoting.id).quoted_post_id == response.id
    assert db.session.get(Post, scene.mention.id).body.startswith("Thanks @")
    # The feedback's rating stays, anonymous.
    assert [(a.overall, a.author_id, a.comments) for a in db.session.scalars(
        select(FeedbackAnswer).where(FeedbackAnswer.event_id == scene.ended.id))] == [(4, None, [""])]


def test_keeping_leaves_the_text_and_names_the_person_nowhere(app, db, scene):
    person = scene.person
    for needle in (NAME, EMAIL, ORGANISATION):
        assert found_in_database(needle), needle
    assert NAME in catch_up_text(scene) and NAME in exports_text(scene)

    account_closure.close_account(person, person, "keep", password=person.test_password)
    db.session.commit()

    for needle in (NAME, EMAIL, ORGANISATION, "Zyxwv role"):
        assert found_in_database(needle) == [], needle
        assert needle not in catch_up_text(scene) and needle not in exports_text(scene)
        assert found_in_files(reports.reports_dir(), needle) == []
    # The words stay, by a "Former participant".
    db.session.expire_all()
    response = db.session.get(Post, scene.response.id)
    assert MARKER in response.body and not response.is_deleted
    assert response.author.display_name == "Former participant"
    assert response.organisation_name == "" and not response.on_behalf_of_organisation
    assert "Former participant" in exports_text(scene)
    assert MARKER in catch_up_text(scene)  # the posts still within catch-up's reach, sent anew
    assert searched(scene.consultation.owner, MARKER) > 0
    pinned = db.session.get(Post, scene.pinned.id)
    assert MARKER in pinned.body and "Former participant" in pinned.body


@pytest.mark.parametrize("mode", ["keep", "erase"])
def test_either_way_the_account_is_closed_at_once(app, db, scene, mode):
    person = scene.person
    token = person.session_token
    account_closure.close_account(person, person, mode, password=scene.person.test_password)
    db.session.commit()
    db.session.expire_all()
    person = db.session.get(User, scene.person.id)
    assert person.closed_at is not None and person.closed_erased is (mode == "erase")
    assert person.session_token != token and not person.is_active
    assert person.email.endswith("@closed.invalid") and person.email_verified_at is None
    assert person.handle == f"~{person.id}" and person.organisation == person.country == person.role_title == ""
    assert not person.check_password(scene.person.test_password) and not person.check_password("")
    assert accounts.authenticate(EMAIL, scene.person.test_password) is None
    assert db.session.scalar(select(func.count()).select_from(LoginRecord)
                             .where(LoginRecord.user_id == person.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == person.id)) == 0
    assert all(t.revoked_at is not None and t.name == "" for t in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == person.id)))
    # Registrations: the ended event's stays (an anonymous count), the running ones' go
    # unless they came (here they came to none).
    assert set(db.session.scalars(select(EventMember.event_id).where(EventMember.user_id == person.id))) == {
        scene.ended.id}
    # Their page is gone, their handle names no one, they are told of nothing more.
    assert not permissions.can_view_profile(scene.other, person)
    assert mentions.mentioned_users(f"hello @{scene.person.handle}") == []
    posts.create_post(scene.other, scene.consultation, body="Another reply.", parent=scene.others_post)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.user_id == person.id)) == 0
    # The address may register again, as a new account.
    again = accounts.register(EMAIL, "another long password", accounts.Profile(
        display_name=NAME, organisation="", organisation_type="ngo", country="BE"))
    assert again.id != person.id
    # The log keeps the action, not the person.
    line = db.session.scalars(select(ModerationAction).where(ModerationAction.action == "account.closed")).one()
    assert line.target_user_id == person.id and line.target_user.display_name == "Former participant"
    assert line.details == {"mode": mode, "by_admin": False}


def test_a_wrong_password_changes_nothing(db, scene):
    person = scene.person
    before = (person.email, person.session_token, person.name_as_typed)
    with pytest.raises(ValidationError) as refused:
        account_closure.close_account(person, person, "erase", password="not my password")
    assert refused.value.field == "password"
    with pytest.raises(ValidationError) as refused:
        account_closure.close_account(person, person, "burn", password=person.test_password)
    assert refused.value.field == "mode"
    assert (person.email, person.session_token, person.name_as_typed) == before and person.closed_at is None
    assert found_in_database(MARKER)


def test_who_may_close_an_account(db, make_user, person):
    other, admin = make_user(), make_user("admin")
    with pytest.raises(PermissionDenied):
        account_closure.close_account(other, person, "keep", password=other.test_password)
    # An admin, on the person's request, with the admin's own password.
    with pytest.raises(ValidationError):
        account_closure.close_account(admin, person, "keep", password=person.test_password)
    account_closure.close_account(admin, person, "keep", password=admin.test_password)
    line = db.session.scalars(select(ModerationAction).where(ModerationAction.action == "account.closed")).one()
    assert line.actor_id == admin.id and line.details == {"mode": "keep", "by_admin": True}
    with pytest.raises(PermissionDenied):  # once only
        account_closure.close_account(admin, person, "erase", password=admin.test_password)


def test_stored_live_messages_about_others_stay(db, scene):
    """Only what carried the person is replaced: others' messages are still caught up."""
    before = db.session.scalar(select(func.count()).select_from(StreamEvent).where(
        StreamEvent.post_id == scene.others_post.id, or_(StreamEvent.payload.is_(None),
                                                         cast(StreamEvent.payload, Text).contains("superseded"))))
    account_closure.close_account(scene.person, scene.person, "erase", password=scene.person.test_password)
    db.session.commit()
    after = db.session.scalar(select(func.count()).select_from(StreamEvent).where(
        StreamEvent.post_id == scene.others_post.id, or_(StreamEvent.payload.is_(None),
                                                         cast(StreamEvent.payload, Text).contains("superseded"))))
    assert after == before


def test_a_moderators_reasons_go_and_their_actions_stay(db, make_event, make_user):
    """What a moderator wrote to others (a hidden message's reason, a mute's) is their text too."""
    event = make_event(rooms=1, moderators=1)
    room = event.breakout_rooms[0]
    moderator, participant = event.test_moderators[1][0], make_user()
    db.session.add(EventMember(event_id=event.id, user_id=participant.id, role=MemberRole.PARTICIPANT,
                               room_id=room.id))
    db.session.flush()
    message = posts.post_in_room(participant, room, body="Something off-topic.")
    moderation.hide_post(moderator, message, f"Hidden because {MARKER}")
    moderation.mute_user(moderator, room, participant, 10, f"Muted because {MARKER}")
    db.session.commit()
    assert {"post", "mute", "moderation_action", "notification", "stream_event"} <= {
        table for table, _column in found_in_database(MARKER)}

    account_closure.close_account(moderator, moderator, "erase", password=moderator.test_password)
    db.session.commit()

    assert found_in_database(MARKER) == []
    actions = {line.action: line for line in db.session.scalars(
        select(ModerationAction).where(ModerationAction.actor_id == moderator.id))}
    assert {"post.hidden", "user.muted", "account.closed"} <= set(actions)
    assert actions["post.hidden"].actor.display_name == "Former participant"
    db.session.expire_all()
    assert db.session.get(Post, message.id).is_hidden  # the action stands; the participant's words too
    assert db.session.get(Post, message.id).body == "Something off-topic."
