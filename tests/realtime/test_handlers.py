"""Socket.IO handlers, through Flask-SocketIO's test client: who may join and post, what the
acknowledgements say, which events reach whom, and that HTTP writes reach sockets too.

Each socket shares the session cookie of a logged-in Flask test client (`connect(client)`),
or none (`connect()`: an anonymous reader). Handlers run synchronously in the test client,
so everything a write broadcasts has arrived by the time `emit` returns.
"""
from __future__ import annotations

import json
from datetime import timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from forum.models import Post
from forum.models.base import utcnow
from forum.services import posts as post_service
from forum.services.events import consultation_stream
from tests.web.page import parse

NOT_FOUND_MESSAGE = "This page does not exist or you cannot see it."


def topic_of(consultation) -> int:
    return consultation.topics[0].id


@pytest.fixture
def scene(db, make_user, make_consultation, user_client, connect):
    """Two signed-in readers, Amina (A) and Bruno (B), with sockets on one open public consultation."""
    amina = make_user(display_name="Amina Diallo")
    bruno = make_user(display_name="Bruno Keller")
    consultation = make_consultation()
    db.session.commit()
    a_http, b_http = user_client(amina), user_client(bruno)
    s = SimpleNamespace(amina=amina, bruno=bruno, consultation=consultation, stream=consultation_stream(consultation),
                        topic_id=topic_of(consultation), a_http=a_http, b_http=b_http,
                        a=connect(a_http), b=connect(b_http))
    joined = s.a.join(s.stream)
    assert joined["ok"], joined
    assert s.b.join(s.stream)["ok"]
    s.seq = joined["seq"]  # the stream's number before the test's own writes
    s.a.received("presence"), s.b.received("presence")
    return s


# --- the test wiring itself ---------------------------------------------------------

def test_socket_handlers_see_the_tests_uncommitted_data(db, make_user, make_consultation, user_client, connect):
    # Handlers run in their own app context and session, on the test's connection.
    consultation = make_consultation(visibility="members")
    user = make_user()
    db.session.flush()  # flushed, not committed
    socket = connect(user_client(user))

    ack = socket.join(consultation_stream(consultation))

    assert ack["ok"] is True and ack["can_post"] is True
    assert ack["presence"]["users"] == [{"id": user.id, "name": user.display_name}]


# --- posting ------------------------------------------------------------------------

def test_a_post_sent_by_one_reader_reaches_the_other_with_its_number_and_html(db, scene):
    ack = scene.a.post(scene.stream, "Homes **before** jobs.", subject="Housing first",
                       topic_id=scene.topic_id, client_key="k-1")

    assert ack["ok"] is True, ack
    post = db.session.get(Post, ack["post"]["id"])
    assert (post.author_id, post.topic_id, post.subject, post.body, post.parent_id) == (
        scene.amina.id, scene.topic_id, "Housing first", "Homes **before** jobs.", None)
    assert ack["post"] == {"id": post.id, "seq": scene.seq + 1, "thread_id": post.id}

    [event] = scene.b.events()
    assert {k: event[k] for k in ("stream", "seq", "type")} == {
        "stream": scene.stream, "seq": scene.seq + 1, "type": "post.created"}
    assert event["post"]["id"] == post.id and event["post"]["author_id"] == scene.amina.id
    assert parse(event["post"]["body_html"]).one("strong").text() == "before"
    assert event["post"]["subject"] == "Housing first"
    assert event["post"]["author"]["name"] == "Amina Diallo"
    # The author's own socket gets it too (the page inserts it like any other).
    assert [e["seq"] for e in scene.a.events()] == [scene.seq + 1]


def test_a_reply_over_the_socket_joins_the_thread(db, scene, make_post):
    parent = make_post(consultation=scene.consultation, author=scene.bruno)
    db.session.commit()
    scene.a.events(), scene.b.events()

    ack = scene.a.post(scene.stream, "I agree.", parent_id=parent.id)

    assert ack["ok"] is True, ack
    assert ack["post"]["thread_id"] == parent.id
    [event] = scene.b.events()
    assert (event["type"], event["post"]["parent_id"], event["post"]["thread_id"]) == (
        "post.created", parent.id, parent.id)
    db.session.refresh(parent)
    assert parent.reply_count == 1


def test_a_post_at_the_length_limit_is_accepted(scene):
    ack = scene.a.post(scene.stream, "x" * 20_000, topic_id=scene.topic_id)
    assert ack["ok"] is True, ack.get("error")
    assert len(scene.b.events()) == 1


def test_an_anonymous_reader_receives_posts_but_may_not_post(db, scene, connect, stored):
    visitor = connect()
    ack = visitor.join(scene.stream)
    assert ack["ok"] is True and ack["can_post"] is False

    assert scene.a.post(scene.stream, "Hello all.", topic_id=scene.topic_id)["ok"] is True
    assert [e["type"] for e in visitor.events()] == ["post.created"]
    scene.b.events()

    before = stored()
    refused = visitor.post(scene.stream, "Sneaky.", topic_id=scene.topic_id)
    assert refused["ok"] is False
    assert refused["error"]["code"] == 401
    assert stored() == before
    assert scene.b.events() == [] and visitor.events() == []


OTHER_TOPIC = object()
PARENT_ELSEWHERE = object()


@pytest.mark.parametrize("fields, code, field", [
    pytest.param({"topic_id": OTHER_TOPIC}, 400, "topic_id", id="topic-of-another-consultation"),
    pytest.param({"topic_id": None}, 400, "topic_id", id="no-topic"),
    pytest.param({"topic_id": "1"}, 400, "topic_id", id="topic-as-text"),
    pytest.param({"topic_id": True}, 400, "topic_id", id="topic-as-boolean"),
    pytest.param({"body": ""}, 400, "body", id="empty-body"),
    pytest.param({"body": " \n\t "}, 400, "body", id="blank-body"),
    pytest.param({"body": "x" * 20_001}, 400, "body", id="body-20001-chars"),
    pytest.param({"body": "before\x00after"}, 400, "body", id="nul-in-body"),
    pytest.param({"subject": "a\x00b"}, 400, "subject", id="nul-in-subject"),
    # JSON carries a lone surrogate ("\ud800"); no database stores one.
    pytest.param({"body": "before\ud800after"}, 400, "body", id="lone-surrogate-in-body"),
    pytest.param({"subject": "s" * 201}, 400, "subject", id="subject-201-chars"),
    pytest.param({"body": 12345}, 400, None, id="body-not-text"),
    pytest.param({"client_key": ["k"]}, 400, None, id="client-key-not-text"),
    pytest.param({"client_key": "k" * 65}, 400, "client_key", id="client-key-65-chars"),
    pytest.param({"parent_id": "1"}, 400, None, id="parent-as-text"),
    pytest.param({"parent_id": PARENT_ELSEWHERE}, 404, None, id="parent-in-another-consultation"),
    pytest.param({"quote": "yes"}, 400, None, id="quote-not-boolean"),
    pytest.param({"quote": True}, 400, "quote", id="quote-without-parent"),
])
def test_an_invalid_post_is_refused_and_stores_nothing(db, scene, make_consultation, make_post, stored,
                                                        fields, code, field):
    other = make_consultation()
    elsewhere = make_post(consultation=other)
    db.session.commit()
    scene.a.events(), scene.b.events()
    data = {"topic_id": scene.topic_id, "body": "A fine response.", "subject": "", **fields}
    if data["topic_id"] is OTHER_TOPIC:
        data["topic_id"] = topic_of(other)
    if data.get("parent_id") is PARENT_ELSEWHERE:
        data["parent_id"] = elsewhere.id
    before = stored()

    ack = scene.a.emit("post", {"stream": scene.stream, **data})

    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == code
    assert ack["error"]["message"]
    if field is not None:
        assert ack["error"]["field"] == field
    assert stored() == before
    assert scene.a.events() == [] and scene.b.events() == []
    # Nothing was numbered either: the next post takes the very next number.
    assert scene.a.post(scene.stream, "Now valid.", topic_id=scene.topic_id)["post"]["seq"] == scene.seq + 1


def test_posting_to_a_closed_consultation_is_forbidden(db, make_user, make_consultation, user_client, connect,
                                                      stored):
    user = make_user()
    closed = make_consultation(status="closed")
    past_closing = make_consultation(closes_at=utcnow() - timedelta(hours=1))
    db.session.commit()
    socket = connect(user_client(user))

    for consultation in (closed, past_closing):
        stream = consultation_stream(consultation)
        join = socket.join(stream)
        assert join["ok"] is True and join["can_post"] is False
        before = stored()
        ack = socket.post(stream, "Too late?", topic_id=topic_of(consultation))
        assert ack["ok"] is False
        assert ack["error"]["code"] == 403
        assert ack["error"]["message"] == "This consultation is not accepting responses at the moment."
        assert stored() == before
        assert socket.events() == []


def test_the_same_client_key_twice_makes_one_post_and_one_event(db, scene, stored):
    posts_before, events_before = stored()
    message = {"stream": scene.stream, "topic_id": scene.topic_id, "body": "Sent twice.", "client_key": "abc-123"}

    first = scene.a.emit("post", message)
    again = scene.a.emit("post", message)

    assert first["ok"] is True
    assert again == first
    assert stored() == (posts_before + 1, events_before + 1)
    assert [e["post"]["id"] for e in scene.b.events()] == [first["post"]["id"]]
    # The key is the author's: another author may use the same one.
    other = scene.b.emit("post", {**message, "body": "Mine."})
    assert other["ok"] is True and other["post"]["id"] != first["post"]["id"]


def test_a_resent_post_is_acknowledged_with_its_own_number(scene):
    message = {"stream": scene.stream, "topic_id": scene.topic_id, "body": "Sent twice.", "client_key": "abc-123"}
    first = scene.a.emit("post", message)
    assert scene.b.post(scene.stream, "In between.", topic_id=scene.topic_id)["ok"] is True

    again = scene.a.emit("post", message)

    assert again == first


# --- joining ------------------------------------------------------------------------

def test_refused_joins_all_answer_the_same_not_found(db, make_user, make_consultation, user_client, connect):
    members_only = make_consultation(visibility="members")
    draft = make_consultation(status="draft")
    participant = make_user()
    db.session.commit()
    visitor = connect()
    member = connect(user_client(participant))

    refusals = [
        visitor.join(consultation_stream(members_only)),
        member.join(consultation_stream(draft)),
        member.join("consultation:999999"),
    ]

    assert refusals[0] == refusals[1] == refusals[2]
    assert refusals[0]["ok"] is False
    assert refusals[0]["error"]["code"] == 404
    assert refusals[0]["error"]["message"] == NOT_FOUND_MESSAGE
    # The same people are let in where they may read: the refusals are about permission.
    assert member.join(consultation_stream(members_only))["ok"] is True
    organiser = connect(user_client(draft.owner))
    assert organiser.join(consultation_stream(draft))["ok"] is True


def test_a_refused_reader_receives_nothing_of_that_consultation(db, make_user, make_consultation, user_client,
                                                                connect):
    members_only = make_consultation(visibility="members")
    participant = make_user()
    db.session.commit()
    visitor = connect()
    member = connect(user_client(participant))
    stream = consultation_stream(members_only)
    assert visitor.join(stream)["ok"] is False
    joined = member.join(stream)
    assert joined["presence"]["count"] == 1  # the refused visitor is not counted

    assert member.post(stream, "Members only.", topic_id=topic_of(members_only))["ok"] is True

    assert visitor.events() == []
    assert visitor.received("presence") == []
    assert len(member.events()) == 1


@pytest.mark.parametrize("data, code", [
    pytest.param({}, 400, id="no-stream"),
    pytest.param({"stream": 5}, 400, id="stream-not-text"),
    pytest.param({"stream": "chat:1"}, 400, id="unknown-kind"),
    pytest.param({"stream": "consultation:abc"}, 400, id="id-not-a-number"),
    pytest.param({"stream": "consultation:"}, 400, id="no-id"),
    pytest.param({"stream": "consultation:1.5"}, 400, id="fractional-id"),
    pytest.param({"stream": "consultation:0"}, 404, id="id-zero"),
    pytest.param({"stream": "consultation:-1"}, 404, id="negative-id"),
    pytest.param({"stream": "consultation:99999999999999"}, 404, id="id-beyond-32-bits"),
    pytest.param({"stream": "VALID", "last_seq": "3"}, 400, id="last-seq-text"),
    pytest.param({"stream": "VALID", "last_seq": 1.5}, 400, id="last-seq-fraction"),
    pytest.param({"stream": "VALID", "last_seq": True}, 400, id="last-seq-boolean"),
    pytest.param({"stream": "VALID", "last_seq": -1}, 400, id="last-seq-negative"),
    pytest.param({"stream": "VALID", "last_seq": [1]}, 400, id="last-seq-list"),
    pytest.param("VALID", 400, id="data-is-text"),
    pytest.param(["VALID"], 400, id="data-is-list"),
    pytest.param(None, 400, id="no-data"),
])
def test_a_malformed_join_is_refused_and_subscribes_to_nothing(db, make_consultation, make_post, connect, data, code):
    consultation = make_consultation()
    db.session.commit()
    stream = consultation_stream(consultation)

    def fill(value):
        return stream if value == "VALID" else value
    data = {k: fill(v) for k, v in data.items()} if isinstance(data, dict) else (
        [fill(v) for v in data] if isinstance(data, list) else fill(data))
    visitor, watcher = connect(), connect()
    assert watcher.join(stream)["ok"] is True

    ack = visitor.emit("join", data) if data is not None else visitor.emit("join")

    assert ack["ok"] is False, ack
    assert ack["error"]["code"] == code
    assert ack["error"]["message"]
    make_post(consultation=consultation)
    db.session.commit()
    assert len(watcher.events()) == 1
    assert visitor.events() == [] and visitor.received("presence") == []


def test_sync_for_a_stream_the_reader_may_not_see_is_not_found(db, make_consultation, make_post, connect):
    members_only = make_consultation(visibility="members")
    make_post(consultation=members_only, body="Members-only words.")
    db.session.commit()
    visitor = connect()

    ack = visitor.emit("sync", {"stream": consultation_stream(members_only), "last_seq": 0})

    assert ack == {"ok": False, "error": {"code": 404, "message": NOT_FOUND_MESSAGE, "field": None}}


# --- writes over HTTP reach sockets ---------------------------------------------------

def test_edits_deletions_and_endorsements_over_http_reach_sockets_in_order(db, scene, user_client, make_user):
    created = scene.a_http.post(f"/consultations/{scene.consultation.id}/responses",
                                data={"topic_id": scene.topic_id, "body": "First words."})
    assert created.status_code == 302
    post = db.session.scalar(select(Post).where(Post.author_id == scene.amina.id))
    base = f"/consultations/{scene.consultation.id}/posts/{post.id}"
    endorser = user_client(make_user())

    steps = [
        (scene.a_http, f"{base}/edit", {"subject": "", "body": "Second *thoughts*."}),
        (endorser, f"{base}/endorsement", {"action": "endorse"}),
        (endorser, f"{base}/endorsement", {"action": "withdraw"}),
        (scene.a_http, f"{base}/delete", {}),
    ]
    for http, url, data in steps:
        assert http.post(url, data=data).status_code == 302, url

    received = scene.b.events()
    assert [e["seq"] for e in received] == list(range(scene.seq + 1, scene.seq + 6))
    assert [e["type"] for e in received] == [
        "post.created", "post.updated", "post.endorsed", "post.endorsed", "post.deleted"]
    assert {e["post"]["id"] for e in received} == {post.id}
    assert "First words." in received[0]["post"]["body_html"]
    assert parse(received[1]["post"]["body_html"]).one("em").text() == "thoughts"
    assert [e["post"]["endorsement_count"] for e in received[2:4]] == [1, 0]
    assert received[4]["post"]["deleted"] is True
    assert "thoughts" not in json.dumps(received[4]) and "First words" not in json.dumps(received[4])
    assert [e["seq"] for e in scene.a.events()] == [e["seq"] for e in received]


def test_an_edit_that_changes_nothing_sends_nothing(db, scene, make_post):
    post = make_post(consultation=scene.consultation, author=scene.amina, body="Unchanged.")
    db.session.commit()
    scene.b.events()

    response = scene.a_http.post(f"/consultations/{scene.consultation.id}/posts/{post.id}/edit",
                                 data={"subject": "", "body": "Unchanged."})

    assert response.status_code == 302
    assert scene.b.events() == []


def test_a_refused_http_write_sends_nothing(db, scene, stored):
    before = stored()
    response = scene.a_http.post(f"/consultations/{scene.consultation.id}/responses",
                                 data={"topic_id": scene.topic_id, "body": "x" * 20_001})
    assert response.status_code == 400
    assert stored() == before
    assert scene.b.events() == []


def test_an_http_write_rolled_back_after_the_service_recorded_its_event_sends_nothing(
        db, scene, stored, monkeypatch):
    # The service stores the post and queues its event; then the request fails (a 400 from
    # the view): the commit point rolls back, and the queued event must go with it.
    from flask import Response

    import forum.web.posts

    monkeypatch.setattr(forum.web.posts, "redirect", lambda *args, **kwargs: Response("refused", status=400))
    before = stored()

    response = scene.a_http.post(f"/consultations/{scene.consultation.id}/responses",
                                 data={"topic_id": scene.topic_id, "body": "Never stored."})

    assert response.status_code == 400
    assert stored() == before
    assert scene.b.events() == [] and scene.a.events() == []
    monkeypatch.undo()
    assert scene.a.post(scene.stream, "Stored.", topic_id=scene.topic_id)["post"]["seq"] == scene.seq + 1


def test_a_socket_write_failing_after_the_service_recorded_its_event_sends_nothing(db, scene, stored, monkeypatch):
    real_create_post = post_service.create_post

    def create_then_fail(*args, **kwargs):
        real_create_post(*args, **kwargs)  # stored, numbered, its event queued
        raise RuntimeError("simulated failure after the write")

    monkeypatch.setattr(post_service, "create_post", create_then_fail)
    before = stored()

    ack = scene.a.post(scene.stream, "Never stored.", topic_id=scene.topic_id)

    assert ack["ok"] is False and ack["error"]["code"] == 500
    assert stored() == before
    assert scene.b.events() == [] and scene.a.events() == []
    monkeypatch.undo()
    assert scene.a.post(scene.stream, "Stored.", topic_id=scene.topic_id)["post"]["seq"] == scene.seq + 1


# --- sessions ending ------------------------------------------------------------------

def test_after_logging_out_elsewhere_the_open_socket_is_no_longer_that_user(db, scene, user_client, connect,
                                                                          stored):
    assert scene.a.post(scene.stream, "Still here.", topic_id=scene.topic_id)["ok"] is True
    other_browser = user_client(scene.amina)

    assert other_browser.post("/logout").status_code == 302

    before = stored()
    # The server may close the account's sockets; one it leaves open is anonymous from its next message.
    if scene.a.connected:
        ack = scene.a.post(scene.stream, "After logout.", topic_id=scene.topic_id)
        assert ack["ok"] is False and ack["error"]["code"] == 401
        assert scene.a.emit("typing", {"stream": scene.stream}) == {"ok": False}
    # A socket opened again with the first browser's (old) cookie is anonymous too.
    again = connect(scene.a_http)
    assert again.join(scene.stream)["can_post"] is False
    ack = again.post(scene.stream, "After logout.", topic_id=scene.topic_id)
    assert ack["ok"] is False and ack["error"]["code"] == 401
    assert stored() == before
    # The first browser's own session ended too.
    assert scene.a_http.get("/profile").status_code == 302


def test_after_logging_out_a_socket_stops_receiving_a_members_only_consultation(
        db, make_user, make_consultation, user_client, connect):
    members_only = make_consultation(visibility="members")
    leaver, writer = make_user(), make_user()
    db.session.commit()
    leaver_http = user_client(leaver)
    socket = connect(leaver_http)
    writer_socket = connect(user_client(writer))
    stream = consultation_stream(members_only)
    assert socket.join(stream)["ok"] is True
    assert writer_socket.post(stream, "Before.", topic_id=topic_of(members_only))["ok"] is True
    assert len(socket.events()) == 1

    assert user_client(leaver).post("/logout").status_code == 302
    assert writer_socket.post(stream, "Members-only, after.", topic_id=topic_of(members_only))["ok"] is True

    assert socket.events() == []


def test_when_a_consultation_becomes_members_only_anonymous_sockets_stop_receiving_it(
        db, make_user, make_consultation, user_client, connect):
    from forum.services.consultations import ConsultationInput, update_consultation

    consultation = make_consultation(visibility="public")
    member, writer = make_user(), make_user()
    db.session.commit()
    stream = consultation_stream(consultation)
    visitor, member_socket = connect(), connect(user_client(member))
    writer_socket = connect(user_client(writer))
    assert visitor.join(stream)["ok"] is True
    assert member_socket.join(stream)["ok"] is True

    update_consultation(consultation.owner, consultation, ConsultationInput(
        title=consultation.title, visibility="members"))
    db.session.commit()

    # Both are asked to join again; only the member may.
    assert visitor.received("rejoin") == [{"stream": stream}]
    assert member_socket.received("rejoin") == [{"stream": stream}]
    assert visitor.join(stream)["error"]["code"] == 404
    assert member_socket.join(stream)["ok"] is True
    assert writer_socket.post(stream, "For members now.", topic_id=topic_of(consultation))["ok"] is True
    assert visitor.events() == []
    assert [e["type"] for e in member_socket.events()] == ["post.created"]


# --- typing and presence --------------------------------------------------------------

def test_typing_is_relayed_to_the_others_and_throttled(db, scene, connect, app):
    visitor = connect()
    assert visitor.join(scene.stream)["ok"] is True

    assert scene.a.emit("typing", {"stream": scene.stream}) == {"ok": True}
    amina = {"id": scene.amina.id, "name": "Amina Diallo"}
    assert scene.b.received("typing") == [{"stream": scene.stream, "user": amina}]
    assert visitor.received("typing") == [{"stream": scene.stream, "user": amina}]
    assert scene.a.received("typing") == []

    # Again within TYPING_INTERVAL: accepted, not relayed.
    assert scene.a.emit("typing", {"stream": scene.stream}) == {"ok": True}
    assert scene.b.received("typing") == [] and visitor.received("typing") == []
    # The throttle is per account: Bruno's notice still goes out.
    assert scene.b.emit("typing", {"stream": scene.stream}) == {"ok": True}
    assert [t["user"]["id"] for t in scene.a.received("typing")] == [scene.bruno.id]

    app.config["TYPING_INTERVAL"] = 0  # the interval has passed
    assert scene.a.emit("typing", {"stream": scene.stream}) == {"ok": True}
    assert scene.b.received("typing") == [{"stream": scene.stream, "user": amina}]


def test_typing_is_throttled_per_account_not_per_connection(db, scene, connect, user_client):
    # Amina has the page open in three tabs (three sockets); typing in all of them still
    # makes one notice per interval.
    tabs = [scene.a] + [connect(user_client(scene.amina)) for _ in range(2)]
    for tab in tabs[1:]:
        assert tab.join(scene.stream)["ok"] is True
    scene.b.received("presence")

    assert [tab.emit("typing", {"stream": scene.stream}) for tab in tabs] == [{"ok": True}] * 3

    assert scene.b.received("typing") == [{"stream": scene.stream,
                                           "user": {"id": scene.amina.id, "name": "Amina Diallo"}}]


def test_typing_is_refused_for_visitors_and_streams_not_joined(db, scene, connect, make_consultation, user_client,
                                                              make_user):
    visitor = connect()
    assert visitor.join(scene.stream)["ok"] is True
    assert visitor.emit("typing", {"stream": scene.stream}) == {"ok": False}

    elsewhere = make_user()
    db.session.commit()
    outsider = connect(user_client(elsewhere))
    assert outsider.emit("typing", {"stream": scene.stream}) == {"ok": False}
    assert scene.a.received("typing") == [] and scene.b.received("typing") == []


def test_typing_is_refused_where_the_reader_may_not_post(db, scene):
    # A closed consultation is still read live, but nobody types into it.
    from forum.models.consultations import ConsultationStatus

    scene.consultation.status = ConsultationStatus.CLOSED
    db.session.commit()
    assert scene.a.emit("typing", {"stream": scene.stream}) == {"ok": False}
    assert scene.b.received("typing") == []


def test_presence_counts_go_up_and_down_with_joins_and_disconnects(db, make_user, make_consultation, user_client,
                                                                   connect):
    amina, bruno = make_user(display_name="Amina"), make_user(display_name="Bruno")
    consultation = make_consultation()
    db.session.commit()
    stream = consultation_stream(consultation)
    a_http = user_client(amina)
    a, b, visitor = connect(a_http), connect(user_client(bruno)), connect()
    people = {"amina": {"id": amina.id, "name": "Amina"}, "bruno": {"id": bruno.id, "name": "Bruno"}}

    joined = a.join(stream)["presence"]
    assert joined == {"count": 1, "users": [people["amina"]]}
    # Announcements go to everyone in the stream, the newcomer too (coalesced: see below).
    assert a.received("presence") == [{"stream": stream, "count": 1, "users": [people["amina"]]}]

    assert b.join(stream)["presence"]["users"] == [people["amina"], people["bruno"]]
    assert a.received("presence") == [{"stream": stream, "count": 2, "users": [people["amina"], people["bruno"]]}]
    assert [p["count"] for p in b.received("presence")] == [2]

    # An anonymous reader is counted, but its coming and going is not announced to everyone
    # (with a thousand readers that would be a million messages); the next announcement
    # made for a signed-in person carries the count.
    assert visitor.join(stream)["presence"]["count"] == 3
    assert a.received("presence") == []

    b.disconnect()
    assert [(p["count"], p["users"]) for p in a.received("presence")] == [(2, [people["amina"]])]
    assert [p["count"] for p in visitor.received("presence")] == [2]

    # A second tab of the same person counts as a connection, not as another person.
    second_tab = connect(a_http)
    assert (lambda p: (p["count"], p["users"]))(second_tab.join(stream)["presence"]) == (3, [people["amina"]])
    assert [p["count"] for p in a.received("presence")] == [3]

    assert visitor.emit("leave", {"stream": stream}) == {"ok": True}
    assert a.received("presence") == []
    second_tab.disconnect()
    assert [p["count"] for p in a.received("presence")] == [1]
    # Having left, the visitor hears nothing more of the stream.
    assert a.post(stream, "Quiet now.", topic_id=topic_of(consultation))["ok"] is True
    assert visitor.events() == []


def test_a_broadcast_post_carries_no_language_nor_time_zone_of_its_writer(db, make_user, make_consultation,
                                                                       user_client, connect):
    # Built in the writer's request, the broadcast must not carry the writer's language or
    # time zone: it holds no words of the interface at all, and each page words the card in
    # its reader's language (tests/e2e/test_compact_cards.py builds them).
    writer = make_user(preferred_language="it", timezone="Asia/Tokyo")
    reader = make_user(preferred_language="en", timezone="America/New_York")
    consultation = make_consultation()
    db.session.commit()
    stream = consultation_stream(consultation)
    writer_socket, reader_socket = connect(user_client(writer)), connect(user_client(reader))
    assert writer_socket.join(stream)["ok"] and reader_socket.join(stream)["ok"]

    assert writer_socket.post(stream, "Ciao a tutti.", topic_id=topic_of(consultation))["ok"] is True

    [event] = reader_socket.events()
    assert "html" not in event and "Rispondi" not in json.dumps(event)
    post = db.session.get(Post, event["post"]["id"])
    assert event["post"]["created_at"] == post.created_at.astimezone(timezone.utc).isoformat(timespec="seconds")
    assert event["post"]["created_at"].endswith("+00:00")
    # The same event caught up in the reader's own request is the same message, byte for byte.
    [caught_up] = reader_socket.emit("sync", {"stream": stream, "last_seq": 0})["events"]
    assert json.dumps(caught_up) == json.dumps(event)


# --- found in review -----------------------------------------------------------------

def test_a_huge_last_seq_is_refused_without_joining(scene, connect):
    visitor = connect()
    ack = visitor.emit("join", {"stream": scene.stream, "last_seq": 10**30})
    assert ack["ok"] is False and ack["error"]["code"] == 400
    assert scene.a.post(scene.stream, "After the refused join.", topic_id=scene.topic_id)["ok"] is True
    assert visitor.events() == []


@pytest.mark.parametrize("payload", [{"stream": ["x"]}, {"stream": {"a": 1}}])
def test_leave_and_typing_with_a_stream_that_is_not_text_answer_without_error(scene, payload):
    assert scene.a.emit("leave", payload) == {"ok": True}
    assert scene.a.emit("typing", payload) == {"ok": False}


def test_on_behalf_of_organisation_must_be_true_not_just_truthy(scene, db):
    from forum.models import Post

    ack = scene.a.emit("post", {"stream": scene.stream, "topic_id": scene.topic_id, "body": "Personal view.",
                                "on_behalf_of_organisation": "false"})
    assert ack["ok"] is True
    assert db.session.get(Post, ack["post"]["id"]).on_behalf_of_organisation is False


def test_a_deleted_posts_events_do_not_name_its_author(scene, db, connect):
    from forum.models import Post
    from forum.services import posts as post_service

    ack = scene.a.post(scene.stream, "I will withdraw this.", topic_id=scene.topic_id)
    post = db.session.get(Post, ack["post"]["id"])
    post_service.delete_post(post.author, post)
    db.session.commit()
    visitor = connect()
    missed = visitor.join(scene.stream, last_seq=0)["missed"]
    created, deleted = [e for e in missed if e["seq"] > scene.seq]
    assert created == {"stream": scene.stream, "seq": scene.seq + 1, "type": "superseded"}
    assert deleted["type"] == "post.deleted" and deleted["post"]["author_id"] is None
    assert "I will withdraw this." not in json.dumps(deleted) and "author" not in deleted["post"]


@pytest.mark.parametrize("store", ["memory", pytest.param("redis", marks=pytest.mark.redis)])
def test_a_throttle_lets_one_through_per_interval_in_every_process(store):
    # With Redis, two Presence objects stand for two server processes.
    import secrets

    from flask import Flask

    from forum.presence import Presence
    from tests.realtime import live

    config = {"SOCKETIO_MESSAGE_QUEUE": None, "SOCKETIO_CHANNEL": f"plenary-test-{secrets.token_hex(4)}"}
    if store == "redis":
        live.require_redis()
        config["SOCKETIO_MESSAGE_QUEUE"] = "redis://127.0.0.1:6379/0"
    processes = []
    for _ in range(2 if store == "redis" else 1):
        app = Flask(__name__)
        app.config.update(config)
        processes.append(Presence())
        processes[-1].init_app(app)
    first, second = processes[0], processes[-1]

    assert first.allow_once_per("typing:1:room:2", 60) is True
    assert first.allow_once_per("typing:1:room:2", 60) is False
    assert second.allow_once_per("typing:1:room:2", 60) is False
    assert second.allow_once_per("typing:2:room:2", 60) is True  # another account
    assert second.allow_once_per("typing:1:room:2", 0) is True  # the interval has passed


def test_events_that_change_a_consultations_counts_carry_them_counted_and_in_words(
        db, make_user, make_consultation, user_client, connect):
    author = make_user(display_name="Amina")
    consultation = make_consultation(owner=make_user("organiser"), topics=2)
    first, second = (t.id for t in consultation.topics)
    db.session.commit()
    reader = connect(user_client(make_user()))
    stream = consultation_stream(consultation)
    assert reader.join(stream)["ok"]
    socket = connect(user_client(author))
    assert socket.join(stream)["ok"]

    assert socket.post(stream, "One.", topic_id=first)["ok"]
    assert socket.post(stream, "Two.", topic_id=first)["ok"]
    created = reader.events()[-1]
    assert created["counts"] == {"responses": 2, "topics": {str(first): 2, str(second): 0}}
    assert "counts_text" not in created  # numbers only: the page words them (plural_forms)

    # A thread moved to the other topic: the counts of both topics change, from the server.
    from forum.services import moderation
    post = db.session.scalar(select(Post).where(Post.body == "Two."))
    moderation.move_post(consultation.owner, post, topic=consultation.topics[1])
    db.session.commit()
    after_move = reader.events()
    assert "post.moved" in [e["type"] for e in after_move]
    moved = after_move[-1]
    assert moved["counts"]["topics"] == {str(first): 1, str(second): 1}

    # An endorsement changes no count: it carries none.
    post_service.endorse(make_user(), post)
    db.session.commit()
    endorsed = reader.events()[-1]
    assert endorsed["type"] == "post.endorsed" and "counts" not in endorsed


# --- catching up: one at a time, within an allowance ----------------------------------------

def test_a_second_catch_up_on_a_connection_while_one_is_answered_is_refused(scene, connect, monkeypatch):
    from forum.services import events

    visitor = connect()
    answer_catch_up = events.catch_up
    meanwhile = []

    def catch_up_while_another_request_arrives(stream, last_seq):
        # As a client sending several long-polling requests at once would.
        if not meanwhile:
            meanwhile.append(visitor.emit("sync", {"stream": stream, "last_seq": 0}))
            meanwhile.append(visitor.join(stream, last_seq=0))
        return answer_catch_up(stream, last_seq)

    monkeypatch.setattr(events, "catch_up", catch_up_while_another_request_arrives)
    first = visitor.emit("sync", {"stream": scene.stream, "last_seq": 0})

    assert first["ok"] is True
    for refused in meanwhile:
        assert refused["ok"] is False and refused["error"]["code"] == 429 and refused["error"]["retry_after"] == 1
    # Once the first is answered, the connection catches up again.
    assert visitor.emit("sync", {"stream": scene.stream, "last_seq": 0})["ok"] is True
    assert visitor.join(scene.stream, last_seq=0)["ok"] is True


def test_a_catch_up_that_fails_does_not_block_the_next(scene, connect, monkeypatch):
    from forum.services import events

    visitor = connect()
    answer_catch_up = events.catch_up

    def broken(stream, last_seq):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(events, "catch_up", broken)
    assert visitor.emit("sync", {"stream": scene.stream, "last_seq": 0})["error"]["code"] == 500
    monkeypatch.setattr(events, "catch_up", answer_catch_up)
    assert visitor.emit("sync", {"stream": scene.stream, "last_seq": 0})["ok"] is True


@pytest.fixture
def limited_socket(rate_limited_app, make_consultation, make_user, db):
    """limited_socket(**limits) -> (connect, stream): anonymous sockets on an app whose join/sync
    limits are `limits`, and an open public consultation's stream."""
    from forum.extensions import socketio

    consultation = make_consultation()
    author = make_user()
    db.session.commit()
    made = []

    def _make(**limits):
        app = rate_limited_app(**limits)

        def _connect():
            made.append(socketio.test_client(app))
            return made[-1]
        return _connect, consultation, author

    yield _make
    for client in made:
        if client.is_connected():
            client.disconnect()


def sync(socket, stream, last_seq=0):
    return socket.emit("sync", {"stream": stream, "last_seq": last_seq}, callback=True)


def test_joins_and_syncs_over_a_connections_allowance_are_refused_with_the_time_to_wait(limited_socket, db):
    connect, consultation, author = limited_socket(RATELIMIT_CATCH_UP_PER_CONNECTION="3 per minute",
                                                   RATELIMIT_CATCH_UP_PER_ADDRESS="1000 per minute")
    stream = consultation_stream(consultation)
    socket = connect()

    assert socket.emit("join", {"stream": stream, "last_seq": 0}, callback=True)["ok"] is True
    assert sync(socket, stream)["ok"] is True
    assert sync(socket, stream)["ok"] is True
    refused = [sync(socket, stream), socket.emit("join", {"stream": stream}, callback=True)]

    for ack in refused:
        assert ack["ok"] is False and ack["error"]["code"] == 429, ack
        assert 0 < ack["error"]["retry_after"] <= 60
        assert ack["error"]["message"] == "You are doing this too often. Please wait a little and try again."
    assert sync(connect(), stream)["ok"] is True  # another connection has its own allowance


def test_a_refused_join_subscribes_to_nothing(limited_socket, db):
    connect, consultation, author = limited_socket(RATELIMIT_CATCH_UP_PER_CONNECTION="1 per minute",
                                                   RATELIMIT_CATCH_UP_PER_ADDRESS="1000 per minute")
    stream = consultation_stream(consultation)
    other = consultation_stream(consultation.id + 1000)
    socket = connect()
    assert socket.emit("join", {"stream": other}, callback=True)["error"]["code"] == 404  # counts too

    assert socket.emit("join", {"stream": stream}, callback=True)["error"]["code"] == 429
    post_service.create_post(author, consultation, topic_id=topic_of(consultation), body="Not for you.")
    db.session.commit()
    assert [m for m in socket.get_received() if m["name"] == "event"] == []


def test_joins_and_syncs_from_one_address_share_its_allowance(limited_socket):
    connect, consultation, _ = limited_socket(RATELIMIT_CATCH_UP_PER_CONNECTION="1000 per minute",
                                              RATELIMIT_CATCH_UP_PER_ADDRESS="4 per minute")
    stream = consultation_stream(consultation)
    first, second = connect(), connect()

    answers = [sync(first, stream), sync(second, stream), sync(first, stream), sync(second, stream),
               sync(first, stream), sync(connect(), stream)]

    assert [a["ok"] for a in answers] == [True, True, True, True, False, False]
    assert {a["error"]["code"] for a in answers[4:]} == {429}


def test_while_the_shared_counters_are_unreachable_catch_up_is_counted_in_memory(limited_socket, monkeypatch):
    from limits.storage import MemoryStorage
    from limits.strategies import FixedWindowRateLimiter

    import forum.ratelimits
    from forum.extensions import limiter

    class Unreachable:
        def __getattr__(self, name):
            raise ConnectionError("Redis is restarting")

    connect, consultation, _ = limited_socket(RATELIMIT_CATCH_UP_PER_CONNECTION="1 per minute",
                                              RATELIMIT_CATCH_UP_PER_ADDRESS="1000 per minute")
    monkeypatch.setattr(forum.ratelimits, "_fallback", FixedWindowRateLimiter(MemoryStorage()))
    monkeypatch.setattr(type(limiter), "limiter", property(lambda self: Unreachable()))
    socket = connect()

    assert sync(socket, consultation_stream(consultation))["ok"] is True  # catching up still works
    assert sync(socket, consultation_stream(consultation))["error"]["code"] == 429  # and is still limited


def test_a_post_refused_by_a_busy_database_is_tried_again_then_answered_503(db, scene, stored, monkeypatch):
    from tests.web.test_posting import busy_error

    real_store = post_service._store
    refusals = []

    def store(*args):
        if len(refusals) < wanted_refusals:
            refusals.append(1)
            raise busy_error()
        return real_store(*args)

    monkeypatch.setattr(post_service, "_store", store)
    wanted_refusals = 2  # refused twice, then let through: the post is made once
    scene.b.join(scene.stream)
    ack = scene.a.post(scene.stream, "Through a busy moment.", topic_id=scene.topic_id, client_key="busy-1")
    assert ack["ok"] and len(refusals) == 2
    assert [e["post"]["id"] for e in scene.b.events()] == [ack["post"]["id"]]
    assert stored() == (1, 1)

    refusals.clear()
    wanted_refusals = 100  # busy every time: a clear answer, and nothing stored
    ack = scene.a.post(scene.stream, "Never through.", topic_id=scene.topic_id, client_key="busy-2")
    assert ack == {"ok": False, "error": {"code": 503, "message": "The site is busy. Please try again in a moment.",
                                          "field": None, "retry_after": 1}}
    assert len(refusals) == 4  # the first try and BUSY_RETRIES more
    assert stored() == (1, 1) and scene.b.events() == []
