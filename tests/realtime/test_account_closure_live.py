"""Closing an account, live (forum/services/account_closure.py): the person's open sockets are
closed (or anonymous from their next message) once the closing commits, and the readers of
the place see their posts as they now read: by a "Former participant" (the page names it in
its language), or removed at their request, with no name and no text in the message."""
from __future__ import annotations

import json

import pytest

from forum.models import Post
from forum.services import posts as post_service
from forum.services.events import consultation_stream, events_after

PASSWORD = "nadia's own password"


@pytest.fixture
def place(db, make_user, make_consultation, user_client, connect):
    consultation = make_consultation()
    person = make_user(display_name="Nadia Zyxwvlive", organisation="Zyxwvlive Org", password=PASSWORD)
    post = post_service.create_post(person, consultation, topic_id=consultation.topics[0].id,
                                    body="Zyxwvtext is my point.")
    reply = post_service.create_post(make_user(), consultation, body="Agreed.", parent=post, quote=True)
    db.session.commit()
    person_http = user_client(person)
    person_socket = connect(person_http)
    reader = connect(user_client(make_user()))
    stream = consultation_stream(consultation)
    assert person_socket.join(stream)["ok"] is True and reader.join(stream)["ok"] is True
    return consultation, person, post, reply, person_http, person_socket, reader, stream


@pytest.mark.parametrize("mode", ["keep", "erase"])
def test_the_persons_sockets_end_and_readers_see_the_post_anew(db, place, mode):
    consultation, person, post, reply, person_http, person_socket, reader, stream = place

    response = person_http.post("/account/close", data={"close-mode": mode, "close-password": PASSWORD})
    assert response.status_code == 302

    assert not person_socket.connected  # the server closed the account's socket
    received = reader.events()
    by_post = {event["post"]["id"]: event for event in received if "post" in event}
    assert set(by_post) == {post.id, reply.id}
    text = json.dumps(received)
    assert "Nadia" not in text and "Zyxwvlive" not in text
    own, quoting = by_post[post.id]["post"], by_post[reply.id]["post"]
    if mode == "keep":
        assert by_post[post.id]["type"] == "post.updated"
        assert own["author"] == {"name": "", "former": True, "organisation": "", "organisation_type": "ngo",
                                 "country": ""}
        assert "Zyxwvtext" in own["body_html"]
        assert quoting["quote"]["former"] is True and quoting["parent"]["former"] is True
    else:
        assert by_post[post.id]["type"] == "post.deleted" and own["erased"] is True and "body_html" not in own
        assert quoting["quote"] == {"id": post.id, "state": "erased"}
        assert "Zyxwvtext" not in text
    # Catch-up sends the same as the stored messages now are.
    caught_up = json.dumps(events_after(stream, 0, 100)[0])
    assert "Nadia" not in caught_up and ("Zyxwvtext" in caught_up) is (mode == "keep")
    db.session.expire_all()
    assert db.session.get(Post, post.id).is_deleted is (mode == "erase")


def test_the_card_words_name_a_former_participant_in_the_readers_language(client, make_consultation):
    page = client.get(f"/consultations/{make_consultation().id}").get_data(as_text=True)
    assert '"former_participant": "Former participant"' in page
