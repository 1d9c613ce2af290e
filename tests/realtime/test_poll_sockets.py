"""Polls over Socket.IO: the `vote` event follows the form's rules (services.polls.cast_vote),
a poll's results streams are joined only by those who may see them now, results messages
leave only after the vote's commit, and catching up on them gives the latest alone."""
from __future__ import annotations

import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from forum.models import EventMember, StreamEvent
from forum.models.base import utcnow
from forum.models.events import MemberRole
from forum.models.polls import PollVote
from forum.services import events
from forum.services import polls as poll_service
from forum.services.poll_events import breakdown_stream, results_stream


def new_poll(owner, place, *, kind="single", results_shown="live", votes_changeable=True, open_it=True,
             options=("Yes", "No", "Maybe"), **fields):
    poll = poll_service.create_poll(owner, place, {"kind": kind, "question": "Shall we?",
                                                   "results_shown": results_shown,
                                                   "votes_changeable": votes_changeable, **fields}, list(options))
    if open_it:
        poll_service.open_poll(owner, poll)
    return poll


def option_ids(poll):
    return [option.id for option in poll.options]


def results_events(socket, poll):
    return [e for e in socket.events() if e["stream"] == results_stream(poll)]


@pytest.fixture
def scene(db, make_event, make_user, user_client, connect):
    """A breakout room with its co-moderator (Mo), a participant (Amina), an observer (Olga),
    someone not in the event (Xavier), and an anonymous socket; their sockets by name."""
    event = make_event(rooms=1, moderators=1, participants=2)
    amina, bea = event.test_participants
    olga, xavier = make_user(display_name="Olga"), make_user(display_name="Xavier")
    db.session.add(EventMember(event_id=event.id, user_id=olga.id, role=MemberRole.OBSERVER))
    db.session.commit()
    mo = event.test_moderators[1][0]
    sockets = {name: connect(user_client(user)) for name, user in
               dict(amina=amina, bea=bea, mo=mo, olga=olga, xavier=xavier).items()}
    return SimpleNamespace(room=event.breakout_rooms[0], mo_user=mo, amina_user=amina, anonymous=connect(),
                           **sockets)


def vote(socket, poll, choice, **more):
    return socket.emit("vote", {"poll_id": poll.id, "choice": choice, **more})


def test_a_vote_is_stored_and_reaches_the_results_readers_after_commit(db, scene):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    assert scene.bea.join(results_stream(poll), last_seq=0)["ok"]
    scene.bea.events()
    yes = option_ids(poll)[0]

    ack = vote(scene.amina, poll, [yes])

    # No results message is the vote's own: a job counts the ballots after its commit (at once
    # in tests: POLL_RESULTS_DEBOUNCE_SECONDS is 0).
    assert ack == {"ok": True, "poll_id": poll.id, "can_see_results": True, "can_see_breakdown": False}
    [message] = results_events(scene.bea, poll)
    assert message["type"] == "poll.results"
    assert message["data"]["poll_id"] == poll.id and message["data"]["status"] == "open"
    figures = {o["id"]: o["votes"] for o in message["data"]["results"]["options"]}
    assert message["data"]["results"]["voters"] == 1 and figures[yes] == 1
    assert set(message["data"]) == {"poll_id", "status", "results"}  # figures only: no voter named
    assert "Amina" not in str(message) and "user" not in str(message)
    assert scene.mo.join(results_stream(poll), last_seq=0)["missed"] == [message]  # stored as sent


def test_results_messages_leave_only_when_the_vote_commits(db, scene):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    assert scene.bea.join(results_stream(poll))["ok"]
    scene.bea.events()

    poll_service.cast_vote(scene.amina_user, poll, [option_ids(poll)[1]])
    db.session.flush()
    assert results_events(scene.bea, poll) == []  # nothing sent before the commit
    pending = [e for e in db.session.info.get(events.PENDING, []) if isinstance(e, StreamEvent)]
    assert pending == []  # and nothing counted in the vote's transaction: the job does it
    db.session.commit()

    [message] = results_events(scene.bea, poll)
    assert message["data"]["results"]["voters"] == 1


def test_a_burst_of_votes_within_the_delay_makes_one_results_message(db, scene, app, monkeypatch):
    from forum import jobs

    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    assert scene.mo.join(results_stream(poll), last_seq=0)["ok"]
    scene.mo.events()
    ran = threading.Event()
    run_inline = jobs.run_inline

    def counted(app_, path, args):
        run_inline(app_, path, args)
        ran.set()
    monkeypatch.setattr(jobs, "run_inline", counted)
    app.config["POLL_RESULTS_DEBOUNCE_SECONDS"] = 2  # the votes below take a few milliseconds
    yes, no = option_ids(poll)[:2]
    for voter, choice in ((scene.amina, yes), (scene.bea, no), (scene.mo, yes), (scene.amina, no)):
        assert vote(voter, poll, [choice])["ok"]
    assert results_events(scene.mo, poll) == []  # not yet: the run waits for the delay

    assert ran.wait(30)
    [message] = results_events(scene.mo, poll)  # one message for the four votes
    figures = {o["id"]: o["votes"] for o in message["data"]["results"]["options"]}
    assert message["data"]["results"]["voters"] == 3 and (figures[yes], figures[no]) == (1, 2)
    joined = scene.mo.join(breakdown_stream(poll), last_seq=0)
    assert joined["missed"][-1]["data"]["breakdowns"]["country"]["groups"]  # counted by the same run


def test_a_results_message_counted_before_a_later_one_was_numbered_is_counted_again(db, scene):
    """Two runs overlapping (or a close while a run counts): the one numbered last must not
    carry the older figures."""
    from forum.services import poll_events

    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    yes, no = option_ids(poll)[:2]
    assert vote(scene.amina, poll, [yes])["ok"]
    stream = results_stream(poll)
    seen = events.latest_seq(stream)
    stale = {stream: {"poll_id": poll.id, "status": "open", "results": {"stale": True}},
             breakdown_stream(poll): {"poll_id": poll.id, "status": "open", "breakdowns": {"stale": True}}}
    assert vote(scene.bea, poll, [no])["ok"]  # its own run publishes after `seen`
    poll_events._record(poll.id, stale, {stream: seen, breakdown_stream(poll): seen})
    db.session.commit()
    latest = scene.mo.join(stream, last_seq=0)["missed"][-1]
    assert "stale" not in latest["data"]["results"] and latest["data"]["results"]["voters"] == 2

    # With nothing published in between, the figures counted before are the ones recorded.
    seen = events.latest_seq(stream)
    fresh = {stream: {"poll_id": poll.id, "status": "open", "results": {"counted": "before"}},
             breakdown_stream(poll): {"poll_id": poll.id, "status": "open", "breakdowns": {}}}
    poll_events._record(poll.id, fresh, {stream: seen, breakdown_stream(poll): events.latest_seq(
        breakdown_stream(poll))})
    db.session.commit()
    assert scene.mo.join(stream, last_seq=0)["missed"][-1]["data"]["results"] == {"counted": "before"}


def test_a_refused_vote_sends_nothing_and_stores_nothing(db, scene):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    assert scene.mo.join(results_stream(poll))["ok"]
    scene.mo.events()
    ack = vote(scene.amina, poll, [999999])
    assert ack["ok"] is False and ack["error"]["code"] == 400
    assert results_events(scene.mo, poll) == []
    assert db.session.scalars(select(PollVote).where(PollVote.poll_id == poll.id)).all() == []


@pytest.mark.parametrize(("who", "code"), [
    ("olga", 403),       # an observer: may read the room, may not post there
    ("xavier", 404),     # not in the event: the poll is not there for them
    ("anonymous", 401),
])
def test_who_may_not_post_in_the_room_may_not_vote(db, scene, who, code):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    ack = vote(getattr(scene, who), poll, [option_ids(poll)[0]])
    assert ack["ok"] is False and ack["error"]["code"] == code, ack
    db.session.expire_all()
    assert db.session.scalars(select(PollVote).where(PollVote.poll_id == poll.id)).all() == []


def test_no_vote_before_the_poll_opens_nor_after_it_closes(db, scene):
    draft = new_poll(scene.mo_user, scene.room, open_it=False)
    later = new_poll(scene.mo_user, scene.room, opens_at=utcnow() + timedelta(hours=1))
    closed = new_poll(scene.mo_user, scene.room)
    poll_service.close_poll(scene.mo_user, closed)
    db.session.commit()

    assert vote(scene.amina, draft, [option_ids(draft)[0]])["error"]["code"] == 404  # a draft is its organisers'
    refused_later = vote(scene.amina, later, [option_ids(later)[0]])
    assert refused_later["error"]["code"] == 403 and "later" in refused_later["error"]["message"]
    refused_closed = vote(scene.amina, closed, [option_ids(closed)[0]])
    assert refused_closed["error"]["code"] == 403 and "closed" in refused_closed["error"]["message"]


def test_a_second_vote_changes_the_ballot_only_where_the_poll_allows_it(db, scene):
    fixed = new_poll(scene.mo_user, scene.room, votes_changeable=False)
    changeable = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    first, second = option_ids(fixed)[:2]
    assert vote(scene.amina, fixed, [first])["ok"]
    again = vote(scene.amina, fixed, [second])
    assert again["ok"] is False and again["error"]["code"] == 403

    # The same ballot again (a retry whose first answer was lost) is answered as the first.
    assert vote(scene.amina, fixed, [first]) == {"ok": True, "poll_id": fixed.id, "can_see_results": True,
                                                 "can_see_breakdown": False}

    a, b = option_ids(changeable)[:2]
    assert vote(scene.amina, changeable, [a])["ok"]
    assert vote(scene.amina, changeable, [b])["ok"]
    db.session.expire_all()
    ballots = {v.poll_id: v.choice for v in db.session.scalars(select(PollVote).where(
        PollVote.user_id == scene.amina_user.id))}
    assert ballots == {fixed.id: [first], changeable.id: [b]}


@pytest.mark.parametrize("data", [
    {"choice": [1]},                       # no poll
    {"poll_id": "1", "choice": [1]},       # not a number
    {"poll_id": True, "choice": [1]},
])
def test_a_malformed_vote_is_refused(scene, data):
    ack = scene.amina.emit("vote", data)
    assert ack["ok"] is False and ack["error"]["code"] == 400


def test_votes_spend_the_writing_allowance(db, scene, app, monkeypatch):
    from forum.services.errors import TooSoon

    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()

    def spent():
        raise TooSoon("Slow down.", retry_after=7)
    monkeypatch.setattr("forum.realtime.handlers.charge_write", spent)
    ack = vote(scene.amina, poll, [option_ids(poll)[0]])
    assert ack["ok"] is False and ack["error"]["code"] == 429 and ack["error"]["retry_after"] == 7


def test_after_vote_results_are_joined_only_once_one_has_voted(db, scene):
    poll = new_poll(scene.mo_user, scene.room, results_shown="after_vote")
    db.session.commit()
    stream = results_stream(poll)
    refused = scene.amina.join(stream, last_seq=0)
    assert refused["ok"] is False and refused["error"]["code"] == 404
    assert scene.amina.emit("sync", {"stream": stream, "last_seq": 0})["error"]["code"] == 404
    assert scene.mo.join(stream, last_seq=0)["ok"]  # its manager always

    ack = vote(scene.amina, poll, [option_ids(poll)[0]])
    assert ack["ok"] and ack["can_see_results"] is True

    joined = scene.amina.join(stream, last_seq=0)
    assert joined["ok"] is True and joined["can_post"] is False
    [latest] = joined["missed"]
    assert latest["data"]["results"]["voters"] == 1
    # Bea has not voted: still refused, and she got nothing of it meanwhile.
    assert scene.bea.join(stream)["ok"] is False
    assert [e for e in scene.bea.events() if e["stream"] == stream] == []


def test_after_close_results_are_joined_once_the_poll_closes(db, scene):
    poll = new_poll(scene.mo_user, scene.room, results_shown="after_close")
    db.session.commit()
    ack = vote(scene.amina, poll, [option_ids(poll)[0]])
    assert ack["ok"] and (ack["can_see_results"], ack["can_see_breakdown"]) == (False, False)
    assert scene.amina.join(results_stream(poll))["error"]["code"] == 404
    assert scene.bea.join(events.room_stream(scene.room))["ok"]
    scene.bea.events()

    poll_service.close_poll(scene.mo_user, poll)
    db.session.commit()

    [closed] = [e for e in scene.bea.events() if e["type"] == "poll.closed"]
    assert closed["stream"] == events.room_stream(scene.room)
    assert closed["data"]["poll_id"] == poll.id and closed["data"]["status"] == "closed"
    assert "results" not in closed["data"]  # the place's readers get the facts, no figures
    joined = scene.bea.join(results_stream(poll), last_seq=0)
    assert joined["ok"] and joined["missed"][-1]["data"]["status"] == "closed"
    assert joined["missed"][-1]["data"]["results"]["voters"] == 1


def test_the_breakdown_stream_is_its_managers_until_published(db, scene):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    assert vote(scene.amina, poll, [option_ids(poll)[0]])["ok"]
    stream = breakdown_stream(poll)
    assert scene.amina.join(stream)["error"]["code"] == 404
    joined = scene.mo.join(stream, last_seq=0)
    assert joined["ok"]
    [latest] = joined["missed"]
    assert latest["type"] == "poll.breakdown"
    assert set(latest["data"]["breakdowns"]) == {"country", "organisation_type"}
    groups = latest["data"]["breakdowns"]["country"]["groups"]
    assert all(group["suppressed"] and group["results"] is None for group in groups)  # one voter: suppressed

    poll_service.publish_breakdown(scene.mo_user, poll)
    db.session.commit()
    assert scene.amina.join(stream)["ok"] is True
    assert scene.bea.join(stream)["ok"] is True  # live results: everyone in the room, voted or not


def test_an_opened_poll_is_announced_on_its_rooms_stream_without_figures(db, scene):
    assert scene.amina.join(events.room_stream(scene.room))["ok"]
    scene.amina.events()
    poll = new_poll(scene.mo_user, scene.room, open_it=False)
    db.session.commit()
    assert scene.amina.events() == []  # a draft is nobody's news
    poll_service.open_poll(scene.mo_user, poll)
    db.session.commit()
    [opened] = scene.amina.events()
    assert opened["type"] == "poll.opened" and opened["data"]["poll_id"] == poll.id
    assert opened["data"]["question"] == "Shall we?" and opened["data"]["room_id"] == scene.room.id
    assert "results" not in opened["data"]


def test_catching_up_on_results_gives_only_the_latest(db, scene, make_user):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    joined = scene.bea.join(results_stream(poll), last_seq=0)
    seen = joined["seq"]
    scene.bea.disconnect()
    yes, no = option_ids(poll)[:2]
    assert vote(scene.amina, poll, [yes])["ok"]
    assert vote(scene.mo, poll, [no])["ok"]
    assert vote(scene.amina, poll, [no])["ok"]  # changed

    ack = scene.mo.join(results_stream(poll), last_seq=seen)
    assert ack["ok"] and ack["more"] is False and ack["reload"] is False
    [latest] = ack["missed"]
    assert latest["seq"] == ack["seq"] > seen + 2
    assert {o["id"]: o["votes"] for o in latest["data"]["results"]["options"]}[no] == 2
    # Up to date: nothing; and the superseded messages are no longer stored.
    assert scene.mo.emit("sync", {"stream": results_stream(poll), "last_seq": ack["seq"]})["events"] == []
    db.session.expire_all()
    kept = db.session.scalars(select(StreamEvent.seq).where(StreamEvent.stream_key == results_stream(poll),
                                                            StreamEvent.payload.is_not(None))).all()
    assert kept == [ack["seq"]]


def test_catching_up_after_more_than_the_reload_threshold_still_gives_the_latest(db, scene, app, make_user):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    app.config["CATCH_UP_RELOAD_AFTER"] = 3
    try:
        for _ in range(5):
            assert vote(scene.amina, poll, [option_ids(poll)[0]])["ok"]
        ack = scene.mo.join(results_stream(poll), last_seq=0)
    finally:
        app.config["CATCH_UP_RELOAD_AFTER"] = 300
    assert ack["reload"] is False and len(ack["missed"]) == 1


@pytest.mark.parametrize("stream", ["poll:x", "poll:1:moderators", "room:1:breakdown", "poll:1:breakdown:x"])
def test_malformed_poll_streams_are_unknown(scene, stream):
    ack = scene.mo.join(stream)
    assert ack["ok"] is False and ack["error"]["code"] == 400


def test_one_cannot_post_or_type_on_a_results_stream(db, scene):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    stream = results_stream(poll)
    assert scene.mo.join(stream)["ok"]
    ack = scene.mo.post(stream, "Hello results")
    assert ack["ok"] is False and ack["error"]["code"] == 400
    assert scene.mo.emit("typing", {"stream": stream}) == {"ok": False}


def test_a_consultation_poll_votes_by_who_may_post_there(db, make_user, make_consultation, user_client, connect):
    owner = make_user("organiser")
    consultation = make_consultation(owner)
    closed = make_consultation(owner)
    poll = new_poll(owner, consultation, kind="score", options=("Training", "Wages"), scale_min=1, scale_max=5)
    db.session.commit()
    participant = connect(user_client(make_user()))
    training, wages = option_ids(poll)
    ack = vote(participant, poll, {str(training): 4, str(wages): 2})
    assert ack["ok"], ack
    joined = participant.join(results_stream(poll), last_seq=0)
    [latest] = joined["missed"]
    means = {o["id"]: o["mean"] for o in latest["data"]["results"]["options"]}
    assert means == {training: 4, wages: 2}
    # The place's stream carried the poll's opening (facts only).
    on_place = participant.join(events.consultation_stream(consultation), last_seq=0)["missed"]
    assert [e["type"] for e in on_place] == ["poll.opened"]

    late = new_poll(owner, closed)
    from forum.services import consultations
    consultations.set_status(owner, closed, "closed")
    db.session.commit()
    refused = vote(participant, late, [option_ids(late)[0]])
    assert refused["ok"] is False and refused["error"]["code"] == 403


def test_a_vote_sent_as_the_forms_fields_is_read_by_the_forms_parser(db, scene):
    poll = new_poll(scene.mo_user, scene.room, kind="ranked")
    db.session.commit()
    a, b, c = option_ids(poll)
    same_rank = scene.amina.emit("vote", {"poll_id": poll.id, "fields": {f"rank-{a}": "1", f"rank-{b}": "1"}})
    assert same_rank["ok"] is False and same_rank["error"]["code"] == 400
    assert same_rank["error"]["field"] == f"rank-{b}" and "different rank" in same_rank["error"]["message"]

    fields = {f"rank-{a}": "2", f"rank-{b}": "", f"rank-{c}": "1"}
    ack = scene.amina.emit("vote", {"poll_id": poll.id, "fields": fields})
    assert ack["ok"], ack
    db.session.expire_all()
    assert db.session.scalar(select(PollVote.choice).where(PollVote.poll_id == poll.id)) == [c, a]


def test_a_single_choice_sent_as_fields_with_nothing_chosen_gets_the_forms_message(db, scene):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    ack = scene.amina.emit("vote", {"poll_id": poll.id, "fields": {}})
    assert ack["error"] == {"code": 400, "message": "Choose an option.", "field": "choice"}
    ok = scene.amina.emit("vote", {"poll_id": poll.id, "fields": {"choice": [str(option_ids(poll)[2])]}})
    assert ok["ok"]


@pytest.mark.parametrize("fields", [[], "choice=1", {"choice": 1}, {"choice": [1]}, {"choice": ["x" * 101]}])
def test_fields_that_are_not_a_forms_are_refused(scene, db, fields):
    poll = new_poll(scene.mo_user, scene.room)
    db.session.commit()
    ack = scene.amina.emit("vote", {"poll_id": poll.id, "fields": fields})
    assert ack["ok"] is False and ack["error"]["code"] == 400


def test_the_forms_post_after_a_socket_vote_whose_answer_was_slow_is_not_refused(db, make_event, user_client, connect):
    """polls.js posts the form when the socket's answer does not come in time: if the socket's
    vote was stored after all, the same ballot posted is taken as it stands, not refused as
    "already voted" (403), even where votes cannot change."""
    event = make_event(rooms=1, moderators=1, participants=1)
    room, [voter] = event.breakout_rooms[0], event.test_participants
    poll = new_poll(event.test_moderators[1][0], room, votes_changeable=False)
    db.session.commit()
    web = user_client(voter)
    socket = connect(web)
    second = str(option_ids(poll)[1])
    assert socket.emit("vote", {"poll_id": poll.id, "fields": {"choice": [second]}})["ok"]

    posted = web.post(f"/polls/{poll.id}/vote", data={"choice": second})
    assert posted.status_code == 302
    changed = web.post(f"/polls/{poll.id}/vote", data={"choice": str(option_ids(poll)[0])})
    assert changed.status_code == 403  # another ballot is still refused
    db.session.expire_all()
    assert db.session.scalars(select(PollVote.choice).where(PollVote.poll_id == poll.id)).all() == [[int(second)]]
