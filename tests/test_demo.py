"""`flask demo`: the demo loads into an empty database only, and its live event shows what
the issue asks for (rooms, co-moderators, a balanced mix of people, discussion, takeaways)."""
from __future__ import annotations

import re
import subprocess
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from forum import demo
from forum.models import Event, EventMember, HandRaise, Post, Takeaway, User
from forum.models.base import utcnow
from forum.models.events import EventStatus, MemberRole, RoomPhase
from forum.services import accounts, rooms


def test_demo_loads_nothing_when_an_account_exists(db, make_user):
    make_user()
    assert demo.load_demo() is None
    assert db.session.scalar(select(Event.id)) is None


def test_demo_event(db):
    logins = demo.load_demo()
    assert logins is not None
    event = db.session.scalars(select(Event)).one()
    assert event.title == demo.EVENT_TITLE
    assert event.status is EventStatus.PUBLISHED
    assert event.owner.email == demo.ORGANISER_EMAIL
    assert event.starts_at <= utcnow() < event.ends_at  # under way
    breakout = event.breakout_rooms
    assert len(breakout) == 4
    for room in breakout:
        assert 2 <= len(room.moderators) <= 3

    # People: many, from many countries, every one placed, rooms within one of each other.
    members = list(db.session.scalars(select(EventMember).where(
        EventMember.event_id == event.id, EventMember.role == MemberRole.PARTICIPANT)))
    assert len(members) >= 45
    assert all(m.room_id in {r.id for r in breakout} for m in members)
    countries = Counter(m.user.country for m in members)
    assert len(countries) >= 14
    assert len({m.user.organisation_type for m in members}) >= 8
    sizes = Counter(m.room_id for m in members)
    assert max(sizes.values()) - min(sizes.values()) <= 1
    rooms_of_country = defaultdict(set)
    for m in members:
        rooms_of_country[m.user.country].add(m.room_id)
    for country, count in countries.items():
        assert len(rooms_of_country[country]) == min(count, 4), country
    moderator_ids = {mod.user_id for room in breakout for mod in room.moderators}
    assert not moderator_ids & {m.user_id for m in members}

    # The scripts were written for this assignment: every scripted participant is in the
    # room where they speak (otherwise the demo would substitute someone else).
    room_of = {m.user.email: m.room.position for m in members}
    by_key = {p.key: p.email for p in demo.PARTICIPANTS + demo.EVENT_PARTICIPANTS}
    for position, script in demo.ROOM_SCRIPTS.items():
        for key in [say.author for say in script.messages] + [script.hand]:
            if key in by_key:
                assert room_of[by_key[key]] == position, key

    # Discussion in every room; takeaways in exactly the two closed ones.
    published = Counter(db.session.scalars(select(Post.room_id).where(
        Post.room_id.is_not(None), Post.backchannel.is_(False))))
    assert all(published[room.id] >= 1 for room in event.rooms)
    assert all(6 <= published[room.id] <= 12 for room in breakout)
    with_takeaways = set(db.session.scalars(select(Takeaway.room_id)))
    closed = [room for room in breakout if room.phase is RoomPhase.CLOSED]
    assert [room.position for room in closed] == [1, 2]
    assert with_takeaways == {room.id for room in closed}
    assert [room.phase for room in breakout[2:]] == [RoomPhase.OPEN, RoomPhase.OPEN]
    assert event.plenary.phase is RoomPhase.OPEN

    # Room 3: a pinned and a hidden message; room 4: a back-channel exchange and a hand up.
    room3, room4 = breakout[2], breakout[3]
    room3_posts = list(db.session.scalars(select(Post).where(Post.room_id == room3.id)))
    assert any(p.pinned_at is not None for p in room3_posts)
    assert any(p.is_hidden for p in room3_posts)
    backchannel = list(db.session.scalars(select(Post).where(
        Post.room_id == room4.id, Post.backchannel.is_(True))))
    assert len(backchannel) == 2
    assert {p.author_id for p in backchannel} <= {m.user_id for m in room4.moderators}
    assert db.session.scalar(select(HandRaise).where(HandRaise.room_id == room4.id)) is not None

    # Report-back cards for rooms 1 and 2, in order, each with a takeaway credited to a
    # participant of that room.
    cards = rooms.report_back(event)
    assert [card.position for card in cards] == [1, 2]
    names_in = defaultdict(set)
    for m in members:
        names_in[m.room.position].add(m.user.display_name)
    for card in cards:
        assert 3 <= len(card.takeaways) <= 4
        credited = [t.credited for t in card.takeaways if t.credited]
        assert len(credited) == 1 and credited[0] in names_in[card.position]

    # The printed logins are the real ones and work.
    assert [r.position for r in logins.event.rooms] == [1, 2, 3, 4]
    for login, room in zip(logins.event.rooms, breakout, strict=True):
        assert [email for _, email in login.moderators] == [m.user.email for m in room.moderators]
        assert all(email.startswith("moderator.") for _, email in login.moderators)
        assert room_of[login.participant[1]] == room.position
    first = logins.event.rooms[0]
    assert accounts.authenticate(first.moderators[0][1], demo.MODERATOR_PASSWORD) is not None
    assert accounts.authenticate(first.participant[1], demo.PARTICIPANT_PASSWORD) is not None
    assert accounts.authenticate(demo.ORGANISER_EMAIL, demo.ORGANISER_PASSWORD) is not None

    # Loading again changes nothing.
    count = db.session.scalar(select(User.id).order_by(User.id.desc()).limit(1))
    assert demo.load_demo() is None
    assert db.session.scalar(select(User.id).order_by(User.id.desc()).limit(1)) == count


def test_the_demo_log_carries_the_times_of_the_discussion(db):
    """The moderation log dates each action when it happened in the simulated event, not
    when the demo was loaded; the rooms' other records agree with it."""
    from forum.models import Endorsement, ModerationAction

    before = utcnow()
    demo.load_demo()
    event = db.session.scalars(select(Event)).one()
    entries = list(db.session.scalars(select(ModerationAction).where(ModerationAction.event_id == event.id)
                                      .order_by(ModerationAction.id)))
    times = [entry.created_at for entry in entries]
    assert times == sorted(times)  # written in the order they happened: rooms interleave
    assert all(t < before for t in times)  # nothing at load time
    during = [t for t in times if t >= event.starts_at]
    assert max(during) - min(during) >= timedelta(minutes=20)
    assert len({t for t in during}) == len(during)  # one moment per action

    # The assignment before the start, the plenary opened at the start.
    assignment = next(e for e in entries if e.action == "member.moved")
    assert assignment.created_at < event.starts_at
    room1, room3 = event.breakout_rooms[0], event.breakout_rooms[2]
    closing = next(e for e in entries if e.action == "room.phase" and e.room_id == room1.id
                   and e.details["to"] == "closed")
    room1_posts = list(db.session.scalars(select(Post).where(Post.room_id == room1.id)))
    assert closing.created_at > max(p.created_at for p in room1_posts)
    endorsed = db.session.scalars(select(Endorsement.created_at).join(Post).where(Post.room_id == room1.id)).all()
    assert endorsed and max(endorsed) < closing.created_at
    # A pin and a hide are logged when the post says they happened, after it was written.
    pinned = next(p for p in db.session.scalars(
        select(Post).where(Post.room_id == room3.id, Post.pinned_at.is_not(None))))
    pin = next(e for e in entries if e.action == "post.pinned")
    assert pin.post_id == pinned.id and pin.created_at == pinned.pinned_at > pinned.created_at
    hide = next(e for e in entries if e.action == "post.hidden")
    assert hide.created_at == db.session.get(Post, hide.post_id).hidden_at
    # The plenary's second message follows the closing of rooms 1 and 2.
    plenary = list(db.session.scalars(select(Post).where(Post.room_id == event.plenary.id).order_by(Post.id)))
    assert plenary[-1].created_at > closing.created_at
def test_the_printed_links_use_the_address_the_server_listens_on(app):
    result = app.test_cli_runner().invoke(args=["demo", "--host", "0.0.0.0", "--port", "5101"])
    assert result.exit_code == 0, result.output
    links = re.findall(r"https?://\S+", result.output)
    assert len(links) >= 6  # the login page, the plenary and every room
    assert all(link.startswith("http://127.0.0.1:5101/") for link in links), links
    # Room phases are named, not printed as codes.
    assert "not_started" not in result.output and "wrap_up" not in result.output
    assert re.search(r"Room \d: .+ \((Open|Wrap-up|Not started|Closed)\) http", result.output)
    # The structured opinion to try: both polls and the statements board, by their pages.
    assert len(re.findall(r"Poll: .+ http://127\.0\.0\.1:5101/polls/\d+\n", result.output)) == 2
    assert re.search(r"Statements board: .+ http://127\.0\.0\.1:5101/consultations/\d+/board\n", result.output)


def test_the_demo_takes_the_port_from_the_environment(app):
    result = app.test_cli_runner().invoke(args=["demo"], env={"HOST": "localhost", "PORT": "5202"})
    assert result.exit_code == 0, result.output
    assert "Log in at http://localhost:5202/login" in result.output
    assert ":5000" not in result.output


def test_make_run_passes_its_host_and_port_to_the_demo():
    root = Path(__file__).resolve().parents[1]
    plan = subprocess.run(["make", "-n", "demo", "HOST=0.0.0.0", "PORT=5101"], cwd=root,
                          capture_output=True, text=True, check=True).stdout
    assert re.search(r"flask --app wsgi demo --host 0\.0\.0\.0 --port 5101$", plan, re.MULTILINE), plan


def test_demo_statements_board(db):
    from forum.models import OpinionBoard, Statement, StatementStatus, StatementVote
    from forum.services import opinion

    demo.load_demo()
    board = db.session.scalars(select(OpinionBoard)).one()
    assert board.consultation.title == demo.MAIN_TITLE and board.status.value == "open"
    assert len(opinion.published(board)) == len(demo.BOARD_STATEMENTS) == 30
    assert db.session.scalar(select(Statement.id).where(Statement.status == StatementStatus.PENDING)) is not None
    assert opinion.voters(board) == demo.BOARD_VOTERS
    # The counts on each statement are its votes.
    for statement in opinion.published(board):
        values = Counter(db.session.scalars(select(StatementVote.value).where(
            StatementVote.statement_id == statement.id)))
        assert (statement.agree_count, statement.disagree_count, statement.pass_count) == (
            values[1], values[-1], values[0])
    # The map was computed during the demo, from every vote, with everyone placed.
    assert board.map is not None and board.map_version == board.matrix_version
    assert board.map["participants"] == demo.BOARD_VOTERS
    assert board.map_votes == db.session.scalar(select(func.count(StatementVote.id)))
    # The three planted groups are found: each map group is (almost) one planted family,
    # told apart by the organisation types the demo gave each family.
    assert board.map["k"] == 3
    family = {kind: i for i, (_share, _countries, kinds) in enumerate(demo.BOARD_GROUPS) for kind in kinds}
    found = []
    for group in board.map["groups"]:
        members = Counter()
        for kind, n in group["organisation_types"].items():
            members[family[kind]] += n
        (largest, n), = members.most_common(1)
        assert n >= 0.85 * group["size"], group
        found.append(largest)
    assert sorted(found) == [0, 1, 2]
    # The demo's participants have not voted: they can try it.
    assert not opinion.votes_of(db.session.scalars(select(User).where(
        User.email == demo.PARTICIPANTS[2].email)).one(), board)


def test_demo_polls(db):
    from forum.models import Poll, PollVote
    from forum.models.polls import PollKind, PollStatus
    from forum.services import polls

    demo.load_demo()
    survey = db.session.scalars(select(Poll).where(Poll.question == demo.SURVEY_QUESTION)).one()
    assert survey.kind is PollKind.SCORE and survey.status is PollStatus.OPEN
    assert survey.consultation.title == demo.MAIN_TITLE
    assert (survey.scale_min, survey.scale_max) == (1, 5) and survey.scale_labels == demo.SURVEY_SCALE
    results = polls.poll_results(survey)
    assert results["voters"] >= 40
    assert all(row["mean"] is not None for row in results["options"])
    by_type = polls.poll_breakdowns(survey)["organisation_type"]
    assert any(not group["suppressed"] for group in by_type["groups"])

    live = db.session.scalars(select(Poll).where(Poll.question == demo.PLENARY_POLL_QUESTION)).one()
    assert live.room.is_plenary and live.kind is PollKind.SINGLE and live.takes_votes(utcnow())
    assert db.session.scalar(select(func.count(PollVote.id)).where(PollVote.poll_id == live.id)) >= 25


def test_the_demo_plenary_has_questions_with_votes_one_answered(db):
    from forum.models import Question, QuestionStatus, QuestionVote

    demo.load_demo()
    event = db.session.scalars(select(Event)).one()
    asked = list(db.session.scalars(select(Question).where(Question.room_id == event.plenary.id)
                                    .order_by(Question.id)))
    assert len(asked) == len(demo.PLENARY_QUESTIONS)
    assert [q.status for q in asked].count(QuestionStatus.ANSWERED) == 1
    assert asked[0].status is QuestionStatus.ANSWERED and asked[0].answered_at > event.starts_at
    assert all(q.vote_count == db.session.scalar(select(func.count(QuestionVote.id)).where(
        QuestionVote.question_id == q.id)) for q in asked)
    assert sum(q.vote_count for q in asked) > 0
