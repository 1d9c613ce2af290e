"""Stances live: the socket `post` carries a response's stance through the same service as
the form; events carry it ("stance", a code, only when set) and the counts per stance."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from forum.models import Post
from forum.models.posts import Stance
from forum.realtime import messages
from forum.services import consultations, events, moderation
from forum.services import posts as post_service
from forum.services.events import consultation_stream


@pytest.fixture
def scene(db, make_user, make_consultation, user_client, connect):
    """Amina (A) and Bruno (B) on a consultation whose second topic is a proposal."""
    amina = make_user(display_name="Amina Diallo", country="FR", organisation_type="migrant_led")
    bruno = make_user(display_name="Bruno Keller")
    consultation = make_consultation(topics=2)
    proposal = consultation.topics[1]
    consultations.update_topic(consultation.owner, proposal, consultations.TopicInput(
        title="Ring-fence 10%", is_proposal=True))
    db.session.commit()
    s = SimpleNamespace(amina=amina, bruno=bruno, consultation=consultation, proposal=proposal,
                        other=consultation.topics[0], stream=consultation_stream(consultation))
    s.a, s.b = connect(user_client(amina)), connect(user_client(bruno))
    assert s.a.join(s.stream)["ok"] and s.b.join(s.stream)["ok"]
    return s


def test_a_response_with_a_stance_reaches_the_others_with_it_and_the_counts(db, scene):
    ack = scene.a.post(scene.stream, "Yes.", topic_id=scene.proposal.id, stance="in_favour")

    assert ack["ok"] is True, ack
    assert db.session.get(Post, ack["post"]["id"]).stance is Stance.IN_FAVOUR
    [event] = scene.b.events()
    assert event["post"]["stance"] == "in_favour"
    assert event["counts"]["stances"] == {
        "topics": {str(scene.proposal.id): {"in_favour": 1, "neutral": 0, "against": 0}},
        "all": {"in_favour": 1, "neutral": 0, "against": 0}}


@pytest.mark.parametrize(("fields", "message"), [
    ({"topic": "proposal"}, "This topic is a proposal"),
    ({"topic": "proposal", "stance": "maybe"}, "Choose your stance"),
    ({"topic": "proposal", "stance": 1}, "could not be understood"),
    ({"topic": "proposal", "stance": ["in_favour"]}, "could not be understood"),
    ({"topic": "other", "stance": "against"}, "not a proposal"),
])
def test_a_wrong_stance_is_refused_and_stores_nothing(db, scene, stored, fields, message):
    before = stored()
    fields = dict(fields)  # the parameters are shared by both backends
    topic = scene.proposal if fields.pop("topic") == "proposal" else scene.other
    ack = scene.a.post(scene.stream, "Hm.", topic_id=topic.id, **fields)

    assert ack["ok"] is False
    assert ack["error"]["field"] == "stance" and message in ack["error"]["message"]
    assert stored() == before
    assert scene.b.events() == []


def test_a_reply_over_the_socket_takes_no_stance(db, scene, make_post):
    response = make_post(scene.bruno, consultation=scene.consultation, topic=scene.proposal, stance="against")
    db.session.commit()
    scene.b.events()
    refused = scene.a.post(scene.stream, "Agreed.", parent_id=response.id, stance="against")
    assert refused["ok"] is False and refused["error"]["field"] == "stance"
    ack = scene.a.post(scene.stream, "Agreed.", parent_id=response.id)
    assert ack["ok"] is True
    [event] = scene.b.events()
    assert "stance" not in event["post"]


def test_a_changed_stance_is_sent_with_the_new_counts(db, scene, make_post, user_client):
    response = make_post(scene.amina, consultation=scene.consultation, topic=scene.proposal, stance="against")
    db.session.commit()
    scene.b.events()
    http = user_client(scene.amina)
    url = f"/consultations/{scene.consultation.id}/posts/{response.id}/edit"
    assert http.post(url, data={"body": response.body, "stance": "neutral"}).status_code == 302

    [event] = scene.b.events()
    assert event["type"] == "post.updated"
    assert event["post"]["stance"] == "neutral"
    assert event["counts"]["stances"]["topics"][str(scene.proposal.id)] == {
        "in_favour": 0, "neutral": 1, "against": 0}


# --- post_data (services/events.py) ----------------------------------------------------

def test_post_data_carries_the_stance_only_when_shown(db, scene, make_post):
    taking = make_post(consultation=scene.consultation, topic=scene.proposal, stance="neutral")
    plain = make_post(consultation=scene.consultation, topic=scene.other)
    reply = make_post(parent=taking)
    assert messages.post_data(taking)["stance"] == "neutral"
    assert "stance" not in messages.post_data(plain)
    assert "stance" not in messages.post_data(reply)

    moderation.hide_post(scene.consultation.owner, taking, reason="Off topic.")
    assert "stance" not in messages.post_data(taking)  # with its text: a hidden post's is in no message
    moderation.restore_post(scene.consultation.owner, taking)
    consultations.update_topic(scene.consultation.owner, scene.proposal,
                               consultations.TopicInput(title=scene.proposal.title))
    assert "stance" not in messages.post_data(taking)  # no proposal any more: stored, not shown
    post_service.delete_post(taking.author, taking)
    assert "stance" not in messages.post_data(taking)


def test_counts_without_a_proposal_carry_no_stances(db, make_consultation, make_user, user_client, connect):
    consultation = make_consultation()
    db.session.commit()
    socket = connect(user_client(make_user()))
    stream = consultation_stream(consultation)
    assert socket.join(stream)["ok"]
    assert socket.post(stream, "Hello.", topic_id=consultation.topics[0].id)["ok"]
    [event] = socket.events()
    assert "stances" not in event["counts"] and "stance" not in event["post"]


def test_a_rooms_message_takes_no_stance(db, make_event, user_client, connect, stored):
    event = make_event(rooms=1, moderators=1, participants=1)
    [amina] = event.test_participants
    db.session.commit()
    socket = connect(user_client(amina))
    stream = events.room_stream(event.breakout_rooms[0])
    assert socket.join(stream)["ok"]
    before = stored()
    ack = socket.post(stream, "Hello room.", stance="in_favour")
    assert ack["ok"] is False and ack["error"]["field"] == "stance"
    assert stored() == before
    assert socket.post(stream, "Hello room.")["ok"] is True
