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


def _event(title: str) -> Event:
    from forum.extensions import db

    return db.session.scalars(select(Event).where(Event.title == title)).one()


def test_demo_loads_nothing_when_an_account_exists(db, make_user):
    make_user()
    assert demo.load_demo() is None
    assert db.session.scalar(select(Event.id)) is None


def test_demo_event(db):
    logins = demo.load_demo()
    assert logins is not None
    # Three events: one live, one that ended weeks ago, one to come.
    assert sorted(db.session.scalars(select(Event.title))) == sorted(
        [demo.EVENT_TITLE, demo.ENDED_TITLE, demo.UPCOMING_TITLE])
    event = _event(demo.EVENT_TITLE)
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
    with_takeaways = set(db.session.scalars(select(Takeaway.room_id).where(
        Takeaway.room_id.in_([room.id for room in event.rooms]))))
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
    event = _event(demo.EVENT_TITLE)
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
    assert len(re.findall(r"Poll: .+ http://127\.0\.0\.1:5101/polls/\d+\n", result.output)) == 3
    assert re.search(r"Statements board: .+ http://127\.0\.0\.1:5101/consultations/\d+/board\n", result.output)
    # The past event's feedback and report, the upcoming one's pre-event input.
    assert re.search(r"Feedback results \(organiser\): http://127\.0\.0\.1:5101/events/\d+/feedback/results\n",
                     result.output)
    assert re.search(r"Report and exports \(organiser\): http://127\.0\.0\.1:5101/exports/event/\d+\n",
                     result.output)
    assert re.search(r"Pre-event input: http://127\.0\.0\.1:5101/events/\d+/pre-event\n", result.output)


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
    event = _event(demo.EVENT_TITLE)
    asked = list(db.session.scalars(select(Question).where(Question.room_id == event.plenary.id)
                                    .order_by(Question.id)))
    assert len(asked) == len(demo.PLENARY_QUESTIONS)
    assert [q.status for q in asked].count(QuestionStatus.ANSWERED) == 1
    assert asked[0].status is QuestionStatus.ANSWERED and asked[0].answered_at > event.starts_at
    assert all(q.vote_count == db.session.scalar(select(func.count(QuestionVote.id)).where(
        QuestionVote.question_id == q.id)) for q in asked)
    assert sum(q.vote_count for q in asked) > 0


def _activity(event: Event) -> set[int]:
    """Everyone who did something in the event's rooms: wrote, endorsed, voted, asked, raised a hand."""
    from forum.extensions import db
    from forum.models import Endorsement, Poll, PollVote, Question, QuestionVote

    room_ids = [room.id for room in event.rooms]
    queries = [
        select(Post.author_id).where(Post.room_id.in_(room_ids)),
        select(Endorsement.user_id).join(Post).where(Post.room_id.in_(room_ids)),
        select(PollVote.user_id).join(Poll, Poll.id == PollVote.poll_id).where(Poll.room_id.in_(room_ids)),
        select(Question.author_id).where(Question.room_id.in_(room_ids)),
        select(QuestionVote.user_id).join(Question).where(Question.room_id.in_(room_ids)),
        select(HandRaise.user_id).where(HandRaise.room_id.in_(room_ids)),
    ]
    return {user_id for query in queries for user_id in db.session.scalars(query)}


def test_the_live_event_has_speakers_attendance_and_pre_event_input(db):
    from forum.models import PreEventAnswer, PreEventQuestion
    from forum.services import preevent

    demo.load_demo()
    event = _event(demo.EVENT_TITLE)
    assert len(event.speaker_list) == 3
    members = list(db.session.scalars(select(EventMember).where(EventMember.event_id == event.id)))
    absent = {m.user.email for m in members if m.attended_at is None}
    by_key = {p.key: p.email for p in demo.EVENT_PARTICIPANTS}
    assert absent == {by_key[key] for key in demo.LIVE_ABSENT}
    # Everyone else came into the plenary in its first minutes; nobody who did not come did anything.
    assert all(event.starts_at < m.attended_at < event.starts_at + timedelta(minutes=3) for m in members
               if m.attended_at is not None)
    assert not {m.user_id for m in members if m.attended_at is None} & _activity(event)

    # Pre-event input from before the start, event-wide and in rooms 3 and 4, none pinned yet:
    # the co-moderators of those open rooms find it in their console.
    answers = list(db.session.scalars(select(PreEventAnswer).join(PreEventQuestion).where(
        PreEventQuestion.event_id == event.id)))
    assert len(answers) == sum(len(ask.answers) for ask in demo.EVENT_PREEVENT)
    assert all(a.created_at < event.starts_at for a in answers)
    assert sum(a.endorsement_count for a in answers) > 0 and not any(a.pinned_post_id for a in answers)
    room3, room4 = event.breakout_rooms[2], event.breakout_rooms[3]
    lea = db.session.scalar(select(User).where(User.email == "moderator.lea@plenary.example"))
    assert room3.is_moderator(lea)
    assert sum(len(group.answers) for group in preevent.digest(lea, room3)) == 3
    board = preevent.board(event.owner, room4)
    assert [len(q.answers) for q in board.questions] == [3]


def test_the_ended_event_holds_what_a_full_report_needs(db):
    """The webinar of some three weeks ago: registered > came > wrote, pre-event input (some
    pinned in the rooms at the start), discussion with replies and endorsements, participants'
    questions (answered and not) besides the moderators' prompts, takeaways, a poll, moderation,
    then ended through the service, and feedback."""
    from forum.models import (
        FeedbackAnswer,
        FeedbackSubmission,
        Flag,
        ModerationAction,
        Notification,
        NotificationKind,
        Poll,
        PreEventAnswer,
        PreEventQuestion,
        Question,
        QuestionStatus,
    )
    from forum.models.polls import PollStatus
    from forum.services import feedback, polls, preevent

    now = utcnow()
    logins = demo.load_demo()
    event = _event(demo.ENDED_TITLE)
    assert logins.ended.event_id == event.id
    assert event.status is EventStatus.ENDED
    assert now - timedelta(days=27) < event.starts_at < event.ends_at < now - timedelta(days=20)
    assert event.starts_at.weekday() in (1, 2, 3)
    assert len(event.speaker_list) >= 4
    assert [room.phase for room in event.rooms] == [RoomPhase.CLOSED] * 4
    breakout = event.breakout_rooms
    assert len(breakout) == 3 and all(2 <= len(room.moderators) <= 3 for room in breakout)

    # Registered, came, wrote: 48 > 36 > 29; everyone who did anything came, during the event.
    members = list(db.session.scalars(select(EventMember).where(EventMember.event_id == event.id)))
    came = {m.user_id for m in members if m.attended_at is not None}
    room_ids = [room.id for room in event.rooms]
    wrote = set(db.session.scalars(select(Post.author_id).where(
        Post.room_id.in_(room_ids), Post.backchannel.is_(False)))) - {m.user_id for r in event.rooms
                                                                      for m in r.moderators} - {event.owner_id}
    wrote |= set(db.session.scalars(select(Question.author_id).where(Question.room_id.in_(room_ids))))
    assert (len(members), len(came), len(wrote)) == (48, 36, 29)
    assert _activity(event) - {event.owner_id} - {m.user_id for r in event.rooms for m in r.moderators} <= came
    assert all(event.starts_at < m.attended_at < event.starts_at + timedelta(minutes=50) for m in members
               if m.attended_at is not None)
    assert all(m.room_id in {room.id for room in breakout} for m in members)  # each chose a room

    # Pre-event input: every board answered before the start and endorsed, three answers
    # pinned into their rooms by a moderator as the room opened, quoting the answer.
    answers = list(db.session.scalars(select(PreEventAnswer).join(PreEventQuestion).where(
        PreEventQuestion.event_id == event.id)))
    assert all(a.created_at < event.starts_at for a in answers)
    boards = {a.question.room_id for a in answers}
    assert boards == {None} | {room.id for room in breakout}
    assert sum(a.endorsement_count for a in answers) >= 40
    assert {a.author_id for a in answers} - came  # some who answered never came
    pinned = [a for a in answers if a.pinned_post_id is not None]
    assert len(pinned) == len(demo.ENDED_PINS) == 3
    for answer in pinned:
        post = db.session.get(Post, answer.pinned_post_id)
        assert post.room_id == (answer.question.room_id or event.plenary.id) and post.pinned_at is not None
        assert event.starts_at < post.created_at < event.starts_at + timedelta(minutes=40)
        assert post.body == preevent.quote_body(answer)

    # Discussion in every breakout room: replies, endorsements, questions from participants
    # (some answered by a reply, some not) and moderators' prompts ending in "?".
    moderator_ids = {m.user_id for room in event.rooms for m in room.moderators} | {event.owner_id}
    for room in event.rooms:
        said = list(db.session.scalars(select(Post).where(Post.room_id == room.id, Post.backchannel.is_(False))))
        assert len(said) >= 10
        assert any(p.parent_id for p in said) and sum(p.endorsement_count for p in said) >= 10
        replied = {p.parent_id for p in said}
        asking = [p for p in said if p.author_id not in moderator_ids and "?" in p.body]
        assert any(p.id in replied for p in asking) and any(p.id not in replied for p in asking), room.title
    prompts = db.session.scalars(select(Post).where(Post.room_id.in_(room_ids), Post.author_id.in_(moderator_ids),
                                                    Post.body.contains("?"))).all()
    assert len(prompts) >= 4

    # Takeaways reported back from every room, each with a few credited to participants.
    cards = rooms.report_back(event)
    assert [card.position for card in cards] == [1, 2, 3]
    assert all(len(card.takeaways) == 4 and any(t.credited for t in card.takeaways) for card in cards)

    # Questions to the speakers: answered, dismissed as a duplicate, and still waiting.
    asked = Counter(q.status for q in db.session.scalars(select(Question).where(Question.room_id == event.plenary.id)))
    assert asked == {QuestionStatus.ANSWERED: 3, QuestionStatus.DISMISSED: 1, QuestionStatus.PUBLISHED: 2}
    poll = db.session.scalars(select(Poll).where(Poll.question == demo.ENDED_POLL_QUESTION)).one()
    assert poll.status is PollStatus.CLOSED and poll.room_id == event.plenary.id
    assert polls.poll_results(poll)["voters"] >= 20

    # Moderation: a reported message hidden (its report resolved), pins, the end by the organiser.
    actions = list(db.session.scalars(select(ModerationAction).where(ModerationAction.event_id == event.id)
                                      .order_by(ModerationAction.id)))
    kinds = Counter(a.action for a in actions)
    assert kinds["post.hidden"] == 1 and kinds["post.pinned"] == 4 and kinds["question.dismissed"] == 1
    hidden = db.session.get(Post, next(a.post_id for a in actions if a.action == "post.hidden"))
    flag = db.session.scalars(select(Flag).where(Flag.post_id == hidden.id)).one()
    assert flag.created_at < hidden.hidden_at and flag.resolved_at is not None
    assert all(event.starts_at - timedelta(days=40) < a.created_at <= event.ends_at + timedelta(minutes=5)
               for a in actions)
    closing = [a for a in actions if a.action == "room.phase" and a.room_id == event.plenary.id
               and a.details["to"] == "closed"]
    assert len(closing) == 1 and closing[0].created_at > event.ends_at  # by end_event

    # Feedback: 21 answers of spread ratings, every room rated, most anonymous, asked of all.
    results = feedback.build_results(event)
    assert results.answers == len(demo.ENDED_FEEDBACK) == 21
    assert len([r for r, n in results.overall.counts.items() if n]) >= 4
    assert 3.5 < results.overall.mean < 4.5
    assert all(room.ratings.count >= 5 for room in results.rooms)
    named = db.session.scalar(select(func.count()).select_from(FeedbackAnswer).where(
        FeedbackAnswer.event_id == event.id, FeedbackAnswer.author_id.is_not(None)))
    assert named == sum(1 for *_rest, shown in demo.ENDED_FEEDBACK if shown) == 5
    assert all(q.comments for q in results.questions)
    assert db.session.scalar(select(func.count()).select_from(FeedbackSubmission).where(
        FeedbackSubmission.event_id == event.id)) == 21
    told = db.session.scalars(select(Notification).where(
        Notification.event_id == event.id, Notification.kind == NotificationKind.FEEDBACK_OPEN)).all()
    assert {n.user_id for n in told} == {m.user_id for m in members}
    assert all(n.created_at > event.ends_at for n in told)
    # Registered and reminded at the time, not when the demo was loaded.
    for kind in (NotificationKind.EVENT_REGISTERED, NotificationKind.EVENT_REMINDER_DAY,
                 NotificationKind.EVENT_STARTING):
        notices = db.session.scalars(select(Notification).where(
            Notification.event_id == event.id, Notification.kind == kind)).all()
        assert len(notices) >= 48 and all(n.created_at < event.starts_at for n in notices), kind
    # The organiser's export of the whole event carries the feedback and the pre-event input.
    import json

    from forum.exports import data
    from forum.exports.scope import resolve

    document = json.loads("".join(data.json_chunks(resolve(event.owner, "event", event.id))))
    assert document["feedback"]["answers"] == 21
    assert document["pre_event_input"]
    # The participant the demo prints came and can still give feedback.
    amina = db.session.scalar(select(User).where(User.email == logins.ended.participant[1]))
    assert amina.id in came and feedback.permissions.can_answer_feedback(amina, event)


def test_the_upcoming_event_takes_pre_event_input(db):
    from forum import permissions
    from forum.models import PreEventAnswer, PreEventQuestion
    from forum.services import event_setup, preevent

    now = utcnow()
    logins = demo.load_demo()
    event = _event(demo.UPCOMING_TITLE)
    assert logins.upcoming.event_id == event.id
    assert event.status is EventStatus.PUBLISHED and now + timedelta(days=9) < event.starts_at
    assert event.speaker_list and permissions.preevent_window_open(event)
    members = list(db.session.scalars(select(EventMember).where(EventMember.event_id == event.id)))
    assert len(members) == len(demo.UPCOMING_REGISTERED) and all(m.room_id for m in members)
    assert not any(m.attended_at for m in members)
    answers = list(db.session.scalars(select(PreEventAnswer).join(PreEventQuestion).where(
        PreEventQuestion.event_id == event.id)))
    assert {a.question.room_id for a in answers} == {None} | {room.id for room in event.breakout_rooms}
    assert all(a.created_at < now for a in answers) and sum(a.endorsement_count for a in answers) >= 10
    # Each answer came from someone who may answer that board.
    assert all(permissions.can_answer_preevent(a.author, a.question) for a in answers)

    # The printed participant has not registered: they register, are placed, and may answer
    # the event-wide questions and those of their room, and endorse others' answers.
    amina = db.session.scalar(select(User).where(User.email == logins.upcoming.participant[1]))
    assert permissions.membership(amina, event) is None
    member = event_setup.register(amina, event)
    assert member.room_id is not None
    open_to_her = [q for q, _mine in preevent.answerable(amina, event)]
    assert {q.room_id for q in open_to_her} == {None, member.room_id}
    other = next(a for a in answers if a.question.room_id in (None, member.room_id))
    preevent.endorse(amina, other)
