"""The bell over the socket: every open socket of an account hears its unread count when a
notice is made for it (each kind's trigger, over HTTP and over the socket) and when it reads
them (in any tab); nobody else hears anything."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from forum.models.notifications import Notification
from forum.services import consultations as consultation_service
from forum.services import event_setup, moderation
from forum.services import notifications as notification_service
from forum.services import polls as poll_service
from forum.services import posts as post_service
from forum.services.events import consultation_stream


def counts(socket) -> list[int]:
    return [n["count"] for n in socket.received("notice") if n.get("type") == "notifications.unread"]


@pytest.fixture
def scene(db, make_user, make_consultation, make_post, user_client, connect):
    """Ann's response; Ann has two tabs open (two sockets); Bob replies; Eve only reads."""
    ann, bob, eve = make_user(display_name="Ann"), make_user(display_name="Bob"), make_user(display_name="Eve")
    consultation = make_consultation(topics=2)
    response = make_post(ann, consultation=consultation)
    db.session.commit()
    clients = SimpleNamespace(ann=user_client(ann), bob=user_client(bob), eve=user_client(eve))
    return SimpleNamespace(ann=ann, bob=bob, eve=eve, consultation=consultation, response=response,
                           clients=clients, tab1=connect(clients.ann), tab2=connect(clients.ann),
                           eve_socket=connect(clients.eve))


def test_a_reply_over_http_raises_the_count_in_every_tab_and_reading_lowers_it(db, scene):
    url = f"/consultations/{scene.consultation.id}/posts/{scene.response.id}/reply"
    assert scene.clients.bob.post(url, data={"body": "I disagree."}).status_code == 302
    assert counts(scene.tab1) == [1] and counts(scene.tab2) == [1]
    assert counts(scene.eve_socket) == []

    (notice,) = db.session.query(Notification).filter_by(user_id=scene.ann.id).all()
    response = scene.clients.ann.get(f"/notifications/{notice.id}")
    assert response.status_code == 302
    assert counts(scene.tab1) == [0] and counts(scene.tab2) == [0]  # read in one tab, seen in both


def test_a_reply_over_the_socket_raises_the_count(scene, connect):
    stream = consultation_stream(scene.consultation)
    bob = connect(scene.clients.bob)
    assert bob.join(stream)["ok"]
    ack = bob.post(stream, f"@{scene.eve.handle} look", parent_id=scene.response.id)
    assert ack["ok"] is True, ack
    assert counts(scene.tab1) == [1]
    assert counts(scene.eve_socket) == [1]  # mentioned
    assert counts(bob) == []


def test_mark_all_read_sets_every_tab_to_zero(db, scene, make_post):
    make_post(scene.bob, parent=scene.response)
    make_post(scene.eve, parent=scene.response)
    db.session.commit()
    assert counts(scene.tab1)[-1] == 2
    assert scene.clients.ann.post("/notifications/read-all").status_code == 302
    assert counts(scene.tab2)[-1] == 0


@pytest.mark.parametrize("kind", ["quote", "endorsement", "moderation", "new_response", "new_topic", "new_poll",
                                  "placement", "closing_soon", "event_starting"])
def test_every_kind_reaches_the_bell_live(db, scene, make_event, kind):
    ann, bob, consultation = scene.ann, scene.bob, scene.consultation
    if kind == "quote":
        post_service.create_post(bob, consultation, parent=scene.response, quote=True, body="Quoting")
    elif kind == "endorsement":
        post_service.endorse(bob, scene.response)
    elif kind == "moderation":
        moderation.hide_post(consultation.owner, scene.response, "Off topic")
    elif kind == "new_response":
        notification_service.follow(ann, consultation.topics[1])
        post_service.create_post(bob, consultation, topic_id=consultation.topics[1].id, body="A response")
    elif kind == "new_topic":
        notification_service.follow(ann, consultation)
        consultation_service.add_topic(consultation.owner, consultation, consultation_service.TopicInput(title="New"))
    elif kind == "new_poll":
        notification_service.follow(ann, consultation)
        poll = poll_service.create_poll(consultation.owner, consultation, {"kind": "single", "question": "Q?"},
                                        ["A", "B"])
        poll_service.open_poll(consultation.owner, poll)
    elif kind == "placement":
        from forum.models import EventMember
        from forum.models.events import MemberRole

        event = make_event(assignment_mode="manual")
        member = EventMember(event_id=event.id, user_id=ann.id, role=MemberRole.PARTICIPANT)
        db.session.add(member)
        db.session.flush()
        event_setup.assign_member(event.owner, member, event.breakout_rooms[0])
    elif kind == "closing_soon":
        from datetime import timedelta

        from forum.models.base import utcnow

        notification_service.follow(ann, consultation)
        consultation.closes_at = utcnow() + timedelta(hours=1)
        db.session.commit()
        notification_service.create_due_reminders(utcnow())
    elif kind == "event_starting":
        from datetime import timedelta

        from forum.models import EventMember
        from forum.models.base import utcnow
        from forum.models.events import MemberRole

        event = make_event()
        event.starts_at = utcnow() + timedelta(minutes=10)
        db.session.add(EventMember(event_id=event.id, user_id=ann.id, role=MemberRole.OBSERVER))
        db.session.commit()
        notification_service.create_due_reminders(utcnow())
    db.session.commit()
    assert counts(scene.tab1) == [1]
    (notice,) = db.session.query(Notification).filter_by(user_id=ann.id).all()
    assert notice.kind.value == kind
    assert counts(scene.eve_socket) == []


def test_nothing_is_counted_for_an_account_without_sockets(db, scene, make_post, count_queries):
    """The push asks no count for someone with no open page."""
    scene.eve_socket.disconnect()
    with count_queries() as statements:
        make_post(scene.bob, parent=make_post(scene.eve))
        db.session.commit()
    assert not [s for s in statements if "count(notification.id)" in s.lower()]
