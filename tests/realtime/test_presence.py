"""Presence: coalesced announcements, large audiences as a number, readers of a dead server
process no longer counted, and many readers leaving at once."""
from __future__ import annotations

import logging
import os
import secrets

import pytest
from flask import Flask

from forum.extensions import socketio
from forum.presence import Presence, PresenceAnnouncer, presence
from forum.services.events import consultation_stream
from tests.realtime import live
from tests.realtime.conftest import deliver_presence


def _stream(db, make_consultation) -> str:
    consultation = make_consultation()
    db.session.commit()
    return consultation_stream(consultation)


def test_joins_within_the_interval_make_one_announcement_with_the_final_state(
        db, make_user, make_consultation, user_client, connect, presence_announcements):
    stream = _stream(db, make_consultation)
    people = [make_user(display_name=name) for name in ("Amina", "Bruno", "Chiara", "Dario", "Elif")]
    db.session.commit()
    sockets = [connect(user_client(person)) for person in people]
    for socket in sockets:
        assert socket.join(stream)["ok"] is True
    sockets[-1].disconnect()  # a change of mind within the same interval is folded in too

    # Five joins and a disconnect: one announcement scheduled, nothing sent yet.
    assert presence_announcements == [stream]
    assert all(socket.raw.queue == [] or all(m["name"] != "presence" for m in socket.raw.queue)
               for socket in sockets[:-1])

    expected = {"stream": stream, "count": 4,
                "users": [{"id": p.id, "name": p.display_name} for p in people[:4]]}
    for socket in sockets[:-1]:
        assert socket.received("presence") == [expected]

    # The next change, after the announcement, schedules the next one.
    sockets[0].disconnect()
    assert presence_announcements == [stream]
    assert [p["count"] for p in sockets[1].received("presence")] == [3]


def test_the_announcement_is_sent_one_interval_later_in_the_background():
    store = Presence()
    app = Flask(__name__)
    app.config.update(SOCKETIO_MESSAGE_QUEUE=None, SOCKETIO_CHANNEL="plenary-test", PRESENCE_INTERVAL=2.5)
    store.init_app(app)
    tasks, slept, sent = [], [], []
    announcer = PresenceAnnouncer(store)
    announcer.init_app(app, emit=lambda name, data, to: sent.append((name, data, to)),
                       start_task=lambda function, *args: tasks.append((function, args)), sleep=slept.append)

    for sid in ("s1", "s2", "s3"):
        store.add("room:1", sid, {"id": None, "name": ""})
        announcer.changed("room:1")
    assert len(tasks) == 1 and sent == []

    function, args = tasks.pop()
    store.remove("room:1", "s2")  # between scheduling and sending: the announcement has it
    function(*args)
    assert slept == [2.5]
    assert sent == [("presence", {"stream": "room:1", "count": 2, "users": []}, "room:1")]
    announcer.changed("room:1")
    assert len(tasks) == 1


def test_above_the_limit_only_the_first_names_are_sent_and_the_rest_counted(
        db, make_user, make_consultation, user_client, connect, monkeypatch):
    monkeypatch.setattr(presence, "list_limit", 2)
    stream = _stream(db, make_consultation)
    people = [make_user(display_name=name) for name in ("Chiara", "Amina", "Bruno")]
    db.session.commit()
    sockets = [connect(user_client(person)) for person in people]
    answers = [socket.join(stream) for socket in sockets]

    first_two = [{"id": people[1].id, "name": "Amina"}, {"id": people[2].id, "name": "Bruno"}]
    assert answers[-1]["presence"] == {"count": 3, "users": first_two, "more": 1}
    assert sockets[0].received("presence") == [{"stream": stream, "count": 3, "users": first_two, "more": 1}]


@pytest.mark.redis
def test_readers_of_a_process_that_died_stop_being_counted():
    # Two Presence objects on one Redis stand for two server processes.
    live.require_redis()
    app = Flask(__name__)
    channel = f"plenary-test-{secrets.token_hex(4)}"
    app.config.update(SOCKETIO_MESSAGE_QUEUE="redis://127.0.0.1:6379/0", SOCKETIO_CHANNEL=channel, PRESENCE_TTL=60)
    alive, killed = Presence(), Presence()
    for process in (alive, killed):
        process.init_app(app)
    killed._process = (os.getpid(), "other-machine:1234:dead")
    client = live.redis_client(6379)
    try:
        alive.add("room:7", "a1", {"id": 1, "name": "Amina"})
        killed.add("room:7", "k1", {"id": 2, "name": "Bruno"})
        killed.add("room:7", "k2", {"id": None, "name": ""})
        assert alive.summary("room:7")["count"] == 3
        heartbeat = f"{channel}:presence:process:other-machine:1234:dead"
        assert 0 < client.ttl(heartbeat) <= 60  # refreshed by the live process, else it expires

        client.delete(heartbeat)  # as it expires PRESENCE_TTL after the process was killed
        assert alive.summary("room:7") == {"count": 1, "users": [{"id": 1, "name": "Amina"}]}
        assert alive.connections_in("room:7") == ["a1"]
        assert client.hkeys(f"{channel}:presence:room:7") == [b"a1"]  # erased, not only skipped
    finally:
        for key in client.scan_iter(match=f"{channel}:*"):
            client.delete(key)


@pytest.mark.redis
def test_changes_in_two_processes_share_one_announcement():
    live.require_redis()
    app = Flask(__name__)
    channel = f"plenary-test-{secrets.token_hex(4)}"
    app.config.update(SOCKETIO_MESSAGE_QUEUE="redis://127.0.0.1:6379/0", SOCKETIO_CHANNEL=channel)
    tasks, sent = [], []
    processes = []
    for _ in range(2):
        store = Presence()
        store.init_app(app)
        announcer = PresenceAnnouncer(store)
        announcer.init_app(app, emit=lambda name, data, to: sent.append(data),
                           start_task=lambda function, *args: tasks.append((function, args)), sleep=lambda s: None)
        processes.append((store, announcer))
    try:
        for number, (store, announcer) in enumerate(processes * 2):
            store.add("room:3", f"s{number}", {"id": None, "name": ""})
            announcer.changed("room:3")
        assert len(tasks) == 1
        function, args = tasks.pop()
        function(*args)
        assert sent == [{"stream": "room:3", "count": 4, "users": []}]
        processes[1][1].changed("room:3")
        assert len(tasks) == 1
    finally:
        client = live.redis_client(6379)
        for key in client.scan_iter(match=f"{channel}:*"):
            client.delete(key)


def test_hundreds_of_readers_gone_at_once_leave_without_errors(
        db, make_user, make_consultation, user_client, connect, monkeypatch, caplog, presence_announcements):
    """When many readers stop answering pings, sending to one of them makes the server close it
    there and then, which runs its disconnect handler (engineio's Socket.send). A disconnect
    handler that sends to the stream thus disconnected the next gone reader inside itself, and
    so on: a RecursionError with 2,000 readers. Here the test client's sending does the same."""
    stream = _stream(db, make_consultation)
    http = user_client(make_user(display_name="Amina"))  # one account, many tabs: all signed in
    readers = [connect(http) for _ in range(300)]
    for reader in readers:
        assert reader.join(stream)["ok"] is True
    deliver_presence()

    gone = {reader.raw.eio_sid for reader in readers}
    original_send = socketio.server._send_eio_packet

    def send(eio_sid, pkt):
        if eio_sid in gone:  # past its ping timeout: closed, its disconnect handler run, now
            gone.discard(eio_sid)
            socketio.server._handle_eio_disconnect(eio_sid, "ping timeout")
            return
        original_send(eio_sid, pkt)

    monkeypatch.setattr(socketio.server, "_send_eio_packet", send)
    caplog.set_level(logging.WARNING)

    gone.discard(readers[0].raw.eio_sid)
    readers[0].disconnect()
    # One announcement; sending it finds every other reader gone, and each leaves quietly.
    assert presence_announcements == [stream]
    while deliver_presence():  # each sending may schedule the next (readers left meanwhile)
        pass
    assert gone == set()
    assert presence.summary(stream)["count"] == 0
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    for reader in readers:
        reader.raw.connected = {}
