"""forum/api/posts.py: a consultation's posts over the API, with the pages' services, rules,
allowance and live events."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from forum.models import Endorsement, Flag, Post, PostRevision, StreamEvent
from forum.services import consultations as consultation_service
from forum.services import moderation
from forum.services import posts as post_service
from forum.services.events import consultation_stream
from tests.api.scene import error
from tests.factories import login
from tests.web.page import csrf_token, parse, post_ids

API = "/api/v1"




@pytest.fixture
def stored(db):
    """stored() -> (posts, endorsements, revisions, flags, stream events) in the database now."""
    def _stored() -> tuple[int, ...]:
        db.session.expire_all()
        return tuple(db.session.scalar(select(func.count(model.id)))
                     for model in (Post, Endorsement, PostRevision, Flag, StreamEvent))
    return _stored


@pytest.fixture
def scene(db, make_user, make_consultation, bearer):
    """A public consultation with two topics (the second a proposal), its organiser, a host,
    Amina and Bruno (participants), each with a write token."""
    host = make_user(display_name="Hana Host")
    consultation = make_consultation(topics=2, hosts=[host])
    proposal = consultation.topics[1]
    consultation_service.update_topic(consultation.owner, proposal, consultation_service.TopicInput(
        title="Ring-fence 10%", is_proposal=True))
    amina = make_user(display_name="Amina Diallo", organisation="Migrants' Voice")
    bruno = make_user(display_name="Bruno Keller", organisation="")
    s = SimpleNamespace(consultation=consultation, topic=consultation.topics[0], proposal=proposal,
                        organiser=consultation.owner, host=host, amina=amina, bruno=bruno)
    s.as_organiser, s.as_host = bearer(s.organiser), bearer(host)
    s.as_amina, s.as_bruno = bearer(amina), bearer(bruno)
    s.posts_url = f"{API}/consultations/{consultation.id}/posts"
    return s


def respond(client, scene, headers, **fields):
    return client.post(scene.posts_url, json={"topic_id": scene.topic.id, "body": "A response.", **fields},
                       headers=headers)


# --- Reading ----------------------------------------------------------------------------------

def test_threads_page_by_cursor_newest_first_without_skipping_or_repeating(client, scene, make_post):
    posts = [make_post(scene.amina, consultation=scene.consultation) for _ in range(5)]
    make_post(scene.bruno, parent=posts[0])  # a reply: not a thread
    made = [p.id for p in posts]

    for order, expected in (("newest", made[::-1]), ("oldest", made)):
        seen, cursor = [], None
        while True:
            query = {"limit": 2, "order": order, **({"cursor": cursor} if cursor else {})}
            page = client.get(scene.posts_url, query_string=query).get_json()
            assert len(page["items"]) <= 2
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == expected


def test_a_new_response_does_not_shift_the_next_page(client, scene, make_post):
    first = [make_post(scene.amina, consultation=scene.consultation).id for _ in range(3)]
    page = client.get(scene.posts_url, query_string={"limit": 2}).get_json()
    make_post(scene.bruno, consultation=scene.consultation)
    rest = client.get(scene.posts_url, query_string={"limit": 2, "cursor": page["next_cursor"]}).get_json()
    assert [i["id"] for i in page["items"] + rest["items"]] == first[::-1]


def test_a_thread_shows_what_the_page_shows(client, scene, make_post, bearer):
    response = make_post(scene.amina, consultation=scene.consultation, subject="Fund the shelters",
                         body="We **need** more.", on_behalf_of_organisation=True)
    post_service.endorse(scene.bruno, response)
    item = client.get(scene.posts_url, headers=scene.as_bruno).get_json()["items"][0]

    assert item["id"] == response.id and item["thread_id"] == response.id and item["parent_id"] is None
    assert item["author"] == {"id": scene.amina.id, "handle": scene.amina.handle, "display_name": "Amina Diallo",
                              "organisation": "Migrants' Voice", "organisation_type": "ngo", "country": "BE"}
    assert "email" not in str(item)
    assert item["on_behalf_of_organisation"] is True and item["organisation_name"] == "Migrants' Voice"
    assert item["subject"] == "Fund the shelters" and item["body"] == "We **need** more."
    assert item["body_html"] == "<p>We <strong>need</strong> more.</p>\n"
    assert item["topic"] == {"id": scene.topic.id, "position": 1, "title": scene.topic.title}
    assert item["url"] == f"/consultations/{scene.consultation.id}/posts/{response.id}#post-{response.id}"
    assert (item["endorsements"], item["endorsed"], item["replies"], item["status"]) == (1, True, 0, "published")
    assert item["actions"] == ["endorse", "reply", "flag"]
    # Another reader has not endorsed it; a visitor may only read it.
    assert client.get(scene.posts_url, headers=scene.as_amina).get_json()["items"][0]["endorsed"] is False
    visitor = client.get(scene.posts_url).get_json()["items"][0]
    assert visitor["endorsed"] is False and visitor["actions"] == []


def test_the_listing_filters_by_topic_and_stance(client, scene, make_post):
    plain = make_post(scene.amina, consultation=scene.consultation, topic=scene.topic)
    yes = make_post(scene.amina, consultation=scene.consultation, topic=scene.proposal, stance="in_favour")
    no = make_post(scene.bruno, consultation=scene.consultation, topic=scene.proposal, stance="against")

    def ids(**query):
        response = client.get(scene.posts_url, query_string=query)
        assert response.status_code == 200
        return [item["id"] for item in response.get_json()["items"]]

    assert ids(topic_id=scene.topic.id) == [plain.id]
    assert ids(topic_id=scene.proposal.id) == [no.id, yes.id]
    assert ids(stance="in_favour") == [yes.id]
    assert client.get(scene.posts_url, query_string={"stance": "against"}).get_json()["items"][0]["stance"] == "against"


@pytest.mark.parametrize(("query", "field"), [
    ({"topic_id": 99999}, "topic_id"),
    ({"topic_id": "one"}, "topic_id"),
    ({"stance": "maybe"}, "stance"),
    ({"order": "endorsed"}, "order"),
    ({"cursor": "-1"}, "cursor"),
    ({"limit": 0}, "limit"),
])
def test_a_wrong_filter_is_a_400_naming_it(client, scene, query, field):
    assert field in error(client.get(scene.posts_url, query_string=query), 400, "invalid")["fields"]


def test_who_may_read_the_threads(client, make_consultation, make_post, make_user, bearer):
    members = make_consultation(visibility="members")
    make_post(consultation=members)
    draft = make_consultation(status="draft")
    error(client.get(f"{API}/consultations/{members.id}/posts"), 401, "unauthorized")
    assert len(client.get(f"{API}/consultations/{members.id}/posts",
                          headers=bearer(make_user(), "read")).get_json()["items"]) == 1
    error(client.get(f"{API}/consultations/{draft.id}/posts", headers=bearer(make_user())), 404, "not_found")
    error(client.get(f"{API}/consultations/99999999/posts"), 404, "not_found")


def test_hidden_and_deleted_posts_are_shown_as_on_the_page(client, scene, make_post):
    hidden = make_post(scene.amina, consultation=scene.consultation, body="Rude words.")
    moderation.hide_post(scene.organiser, hidden, "Insults")
    gone = make_post(scene.bruno, consultation=scene.consultation, body="Changed my mind.", deleted=True)

    def shown(headers=None):
        return {i["id"]: i for i in client.get(scene.posts_url, headers=headers or {}).get_json()["items"]}

    other = shown(scene.as_bruno)
    assert other[hidden.id]["status"] == "hidden"
    assert [other[hidden.id][k] for k in ("body", "body_html", "subject", "hidden_reason")] == [None] * 4
    assert other[hidden.id]["author"]["id"] == scene.amina.id  # the page names the author of a hidden post
    assert other[gone.id]["status"] == "deleted" and other[gone.id]["author"] is None
    assert other[gone.id]["body"] is None and other[gone.id]["actions"] == []
    for reader in (scene.as_amina, scene.as_host):  # its author, a moderator
        assert shown(reader)[hidden.id]["body"] == "Rude words."
        assert shown(reader)[hidden.id]["hidden_reason"] == "Insults"
    assert "moderate" in shown(scene.as_host)[hidden.id]["actions"]
    assert shown(scene.as_host)[gone.id]["author"] is None


def test_the_listing_asks_the_same_number_of_queries_whatever_it_holds(client, scene, make_post, make_user,
                                                                        count_queries, bearer):
    reader = bearer(make_user())

    def queries() -> int:
        with count_queries() as statements:
            assert client.get(scene.posts_url, headers=reader).status_code == 200
        return len(statements)

    make_post(scene.amina, consultation=scene.consultation)
    queries()  # the token's first use is noted (a write), once a minute at most
    few = queries()
    for n in range(6):
        author = make_user(display_name=f"Writer {n}")
        post = make_post(author, consultation=scene.consultation, topic=scene.consultation.topics[n % 2],
                         stance="neutral" if n % 2 else None, on_behalf_of_organisation=n % 3 == 0)
        make_post(scene.bruno, parent=post)
        post_service.endorse(scene.amina, post)
    assert queries() == few


def test_one_post_and_its_thread_in_the_pages_order(client, scene, make_post, bearer):
    response = make_post(scene.amina, consultation=scene.consultation)
    first = make_post(scene.bruno, parent=response)
    second = make_post(scene.host, parent=response)
    nested = post_service.create_post(scene.amina, scene.consultation, parent=first, body="To you, Bruno.",
                                      quote=True)

    item = client.get(f"{API}/posts/{nested.id}").get_json()
    assert (item["parent_id"], item["thread_id"]) == (first.id, response.id)
    assert item["quote"] == {"post_id": first.id, "state": "shown", "author": item["quote"]["author"],
                             "body": first.body, "body_html": first.body_html}
    assert item["quote"]["author"]["display_name"] == "Bruno Keller"

    thread = client.get(f"{API}/posts/{second.id}/thread").get_json()
    page = parse(client.get(f"/consultations/{scene.consultation.id}/posts/{response.id}"))
    assert thread["thread_id"] == response.id
    assert [i["id"] for i in thread["items"]] == post_ids(page) == [response.id, first.id, nested.id, second.id]
    assert [(i["parent_id"], i["depth"]) for i in thread["items"]] == [
        (None, 0), (response.id, 1), (first.id, 2), (response.id, 1)]
    assert thread["items"][3]["author_is_host"] is True and thread["items"][0]["replies"] == 3


def test_posts_elsewhere_are_not_found_here(client, db, make_event, scene, make_post):
    from forum.services.posts import post_in_room

    event = make_event(participants=1)
    room = event.breakout_rooms[0]
    message = post_in_room(event.test_participants[0], room, body="In a room.")
    for path in (f"/posts/{message.id}", f"/posts/{message.id}/thread", "/posts/99999999", "/posts/0",
                 "/posts/99999999999999999999/versions"):
        error(client.get(API + path, headers=scene.as_organiser), 404, "not_found")


def test_versions_where_the_page_shows_them(client, scene, make_post):
    post = make_post(scene.amina, consultation=scene.consultation, subject="First", body="One.")
    post_service.edit_post(scene.amina, post, subject="Second", body="Two.")
    versions = client.get(f"{API}/posts/{post.id}/versions").get_json()["items"]
    assert [(v["current"], v["subject"], v["body"]) for v in versions] == [
        (True, "Second", "Two."), (False, "First", "One.")]
    assert versions[1]["replaced_at"] == versions[0]["written_at"] and versions[0]["replaced_at"] is None

    moderation.hide_post(scene.organiser, post, "Off topic")
    history_page = f"/consultations/{scene.consultation.id}/posts/{post.id}/history"
    error(client.get(f"{API}/posts/{post.id}/versions", headers=scene.as_bruno), 404, "not_found")
    assert client.get(history_page).status_code == 404  # the page no longer shows it either
    assert client.get(f"{API}/posts/{post.id}/versions", headers=scene.as_amina).status_code == 200
    post_service.delete_post(scene.amina, post)
    error(client.get(f"{API}/posts/{post.id}/versions", headers=scene.as_amina), 404, "not_found")


# --- Responding and replying ---------------------------------------------------------------------

def test_respond(client, db, scene):
    response = respond(client, scene, scene.as_amina, subject="Shelters", body="More *beds*.",
                       on_behalf_of_organisation=True)
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    post = db.session.get(Post, item["id"])
    assert (post.author_id, post.topic_id, post.body, post.subject) == (scene.amina.id, scene.topic.id,
                                                                        "More *beds*.", "Shelters")
    assert item["body_html"] == "<p>More <em>beds</em>.</p>\n" and item["organisation_name"] == "Migrants' Voice"
    assert set(item["actions"]) == {"reply", "edit", "delete"}
    assert [i["id"] for i in client.get(scene.posts_url).get_json()["items"]] == [post.id]


def test_respond_to_a_proposal_takes_a_stance(client, scene, stored):
    before = stored()
    refused = respond(client, scene, scene.as_amina, topic_id=scene.proposal.id)
    assert "stance" in error(refused, 400, "invalid")["fields"]
    assert stored() == before
    made = respond(client, scene, scene.as_amina, topic_id=scene.proposal.id, stance="against")
    assert made.status_code == 201 and made.get_json()["stance"] == "against"


def test_sending_the_same_client_key_again_stores_one_post(client, scene, stored):
    first = respond(client, scene, scene.as_amina, client_key="k-1")
    before = stored()
    again = respond(client, scene, scene.as_amina, client_key="k-1")
    assert again.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    assert stored() == before


@pytest.mark.parametrize(("body", "field"), [
    ({"topic_id": "TOPIC"}, None),
    ({"body": ""}, "body"),
    ({"body": "   "}, "body"),
    ({"body": None}, "body"),
    ({"body": 42}, "body"),
    ({"body": "x" * 20001}, "body"),
    ({"subject": "s" * 201}, "subject"),
    ({"topic_id": 99999}, "topic_id"),
    ({"topic_id": 2**70}, "topic_id"),
    ({"topic_id": "1"}, "topic_id"),
    ({"topic_id": 1.5}, "topic_id"),
    ({"stance": "maybe"}, "stance"),
    ({"stance": "in_favour"}, "stance"),  # not a proposal
    ({"on_behalf_of_organisation": "yes"}, "on_behalf_of_organisation"),
    ({"client_key": "k" * 65}, "client_key"),
    ({"colour": "red"}, "colour"),
])
def test_a_wrong_response_is_a_400_naming_the_field_and_stores_nothing(client, scene, stored, body, field):
    before = stored()
    if body == {"topic_id": "TOPIC"}:  # missing altogether
        sent = client.post(scene.posts_url, json={"body": "No topic."}, headers=scene.as_amina)
        field = "topic_id"
    else:
        sent = respond(client, scene, scene.as_amina, **body)
    assert field in error(sent, 400, "invalid")["fields"]
    assert stored() == before


def test_posting_on_behalf_of_no_organisation_is_refused(client, scene, stored):
    before = stored()
    refused = respond(client, scene, scene.as_bruno, on_behalf_of_organisation=True)
    assert "on_behalf_of_organisation" in error(refused, 400, "invalid")["fields"]
    assert stored() == before


@pytest.mark.parametrize("data", ['{"body": ', "[1, 2]", '"text"', "null", "body=x"])
def test_a_body_that_is_not_a_json_object_is_a_400(client, scene, stored, data):
    before = stored()
    sent = client.post(scene.posts_url, data=data, content_type="application/json", headers=scene.as_amina)
    error(sent, 400)
    assert stored() == before


def test_who_may_respond(client, db, scene, make_consultation, bearer, make_user, stored):
    before = stored()
    error(respond(client, scene, {}), 401, "unauthorized")
    error(respond(client, scene, bearer(scene.amina, "read")), 403, "forbidden")
    draft = make_consultation(status="draft")
    error(client.post(f"{API}/consultations/{draft.id}/posts", json={"topic_id": draft.topics[0].id, "body": "x"},
                      headers=scene.as_amina), 404, "not_found")
    consultation_service.set_status(scene.organiser, scene.consultation, "closed")
    closed = error(respond(client, scene, scene.as_amina), 403, "forbidden")
    assert closed["message"] == "This consultation is not accepting responses at the moment."
    assert stored() == before


def test_reply_and_quote(client, db, scene, make_post):
    parent = make_post(scene.amina, consultation=scene.consultation, body="Shelters first.")
    sent = client.post(f"{API}/posts/{parent.id}/replies", json={"body": "Agreed.", "quote": True},
                       headers=scene.as_bruno)
    assert sent.status_code == 201
    reply = sent.get_json()
    assert (reply["parent_id"], reply["thread_id"], reply["topic"]["id"]) == (parent.id, parent.id, scene.topic.id)
    assert reply["quote"]["post_id"] == parent.id and "Shelters first." in reply["quote"]["body_html"]
    assert client.get(f"{API}/posts/{parent.id}").get_json()["replies"] == 1


def test_a_locked_thread_takes_replies_only_from_its_moderators(client, scene, make_post, stored):
    parent = make_post(scene.amina, consultation=scene.consultation)
    assert client.put(f"{API}/posts/{parent.id}/locked", headers=scene.as_host).status_code == 200
    before = stored()
    refused = client.post(f"{API}/posts/{parent.id}/replies", json={"body": "Me too."}, headers=scene.as_bruno)
    error(refused, 403, "forbidden")
    assert stored() == before
    assert client.get(f"{API}/posts/{parent.id}", headers=scene.as_bruno).get_json()["actions"] == ["endorse", "flag"]
    assert client.post(f"{API}/posts/{parent.id}/replies", json={"body": "Closing note."},
                       headers=scene.as_host).status_code == 201


@pytest.mark.parametrize(("body", "field"), [({"body": ""}, "body"), ({"stance": "against", "body": "x"}, "stance"),
                                             ({"body": "x", "quote": "yes"}, "quote"), ({}, "body")])
def test_a_wrong_reply_is_a_400(client, scene, make_post, stored, body, field):
    parent = make_post(scene.amina, consultation=scene.consultation, topic=scene.proposal, stance="in_favour")
    before = stored()
    sent = client.post(f"{API}/posts/{parent.id}/replies", json=body, headers=scene.as_bruno)
    assert field in error(sent, 400, "invalid")["fields"]
    assert stored() == before


def test_replying_to_a_deleted_post_is_refused(client, scene, make_post, stored):
    parent = make_post(scene.amina, consultation=scene.consultation, deleted=True)
    before = stored()
    error(client.post(f"{API}/posts/{parent.id}/replies", json={"body": "Hm."}, headers=scene.as_bruno), 403)
    assert stored() == before


# --- Editing and deleting ----------------------------------------------------------------------------

def test_edit(client, db, scene, make_post):
    post = make_post(scene.amina, consultation=scene.consultation, subject="Old", body="Old text.")
    sent = client.patch(f"{API}/posts/{post.id}", json={"body": "New text."}, headers=scene.as_amina)
    assert sent.status_code == 200
    item = sent.get_json()
    assert (item["subject"], item["body"]) == ("Old", "New text.") and item["edited_at"] is not None
    versions = client.get(f"{API}/posts/{post.id}/versions").get_json()["items"]
    assert [v["body"] for v in versions] == ["New text.", "Old text."]
    # Nothing to change is a mistake of the caller's (the document requires a field): no new version.
    refused = client.patch(f"{API}/posts/{post.id}", json={}, headers=scene.as_amina)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "invalid"
    # The same text again is an edit that changes nothing: no new version either.
    assert client.patch(f"{API}/posts/{post.id}", json={"body": "New text."}, headers=scene.as_amina).status_code == 200
    assert len(client.get(f"{API}/posts/{post.id}/versions").get_json()["items"]) == 2


def test_only_the_author_edits_and_with_words(client, scene, make_post, stored):
    post = make_post(scene.amina, consultation=scene.consultation)
    before = stored()
    error(client.patch(f"{API}/posts/{post.id}", json={"body": "Mine now."}, headers=scene.as_organiser), 403)
    error(client.patch(f"{API}/posts/{post.id}", json={"body": "Mine now."}), 401)
    assert "body" in error(client.patch(f"{API}/posts/{post.id}", json={"body": " "}, headers=scene.as_amina),
                           400, "invalid")["fields"]
    assert "subject" in error(client.patch(f"{API}/posts/{post.id}", json={"subject": None},
                                           headers=scene.as_amina), 400, "invalid")["fields"]
    consultation_service.set_status(scene.organiser, scene.consultation, "closed")
    error(client.patch(f"{API}/posts/{post.id}", json={"body": "Late."}, headers=scene.as_amina), 403)
    assert stored() == before


def test_delete(client, db, scene, make_post):
    own = make_post(scene.amina, consultation=scene.consultation)
    others = make_post(scene.bruno, consultation=scene.consultation)
    error(client.delete(f"{API}/posts/{others.id}", headers=scene.as_amina), 403, "forbidden")
    error(client.delete(f"{API}/posts/{others.id}", headers=scene.as_host), 403, "forbidden")  # hosts hide
    sent = client.delete(f"{API}/posts/{own.id}", headers=scene.as_amina)
    assert sent.status_code == 204 and sent.get_data() == b""
    item = client.get(f"{API}/posts/{own.id}").get_json()
    assert item["status"] == "deleted" and item["body"] is None and item["author"] is None
    error(client.delete(f"{API}/posts/{own.id}", headers=scene.as_amina), 403)
    assert client.delete(f"{API}/posts/{others.id}", headers=scene.as_organiser).status_code == 204


# --- Endorsing ----------------------------------------------------------------------------------

def test_endorsing_is_idempotent(client, db, scene, make_post):
    post = make_post(scene.amina, consultation=scene.consultation)
    url = f"{API}/posts/{post.id}/endorsement"
    for _ in range(2):
        sent = client.put(url, headers=scene.as_bruno)
        assert sent.status_code == 200
        assert sent.get_json() == {"post_id": post.id, "endorsed": True, "endorsements": 1}
    assert client.get(f"{API}/posts/{post.id}", headers=scene.as_bruno).get_json()["endorsed"] is True
    for _ in range(2):
        sent = client.delete(url, headers=scene.as_bruno)
        assert sent.get_json() == {"post_id": post.id, "endorsed": False, "endorsements": 0}
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Endorsement.id))) == 0


def test_endorsing_follows_the_pages_rules(client, scene, make_post, stored):
    post = make_post(scene.amina, consultation=scene.consultation)
    url = f"{API}/posts/{post.id}/endorsement"
    before = stored()
    error(client.put(url, headers=scene.as_amina), 403, "forbidden")  # one's own post
    error(client.put(url), 401, "unauthorized")
    error(client.put(url, headers={"Authorization": "Bearer pln_nope"}), 401, "unauthorized")
    consultation_service.set_status(scene.organiser, scene.consultation, "closed")
    closed = error(client.put(url, headers=scene.as_bruno), 403, "forbidden")
    assert "not accepting" in closed["message"]
    assert stored()[1] == before[1]


# --- Moderating -----------------------------------------------------------------------------------

def test_hide_and_restore(client, db, scene, make_post):
    post = make_post(scene.amina, consultation=scene.consultation, body="Rude.")
    url = f"{API}/posts/{post.id}"
    assert "reason" in error(client.put(f"{url}/hidden", json={"reason": " "}, headers=scene.as_host),
                             400, "invalid")["fields"]
    assert "reason" in error(client.put(f"{url}/hidden", json={}, headers=scene.as_host), 400, "invalid")["fields"]
    error(client.put(f"{url}/hidden", json={"reason": "No."}, headers=scene.as_bruno), 403, "forbidden")
    hidden = client.put(f"{url}/hidden", json={"reason": "Insults"}, headers=scene.as_host)
    assert hidden.status_code == 200
    assert (hidden.get_json()["status"], hidden.get_json()["hidden_reason"]) == ("hidden", "Insults")
    error(client.put(f"{url}/hidden", json={"reason": "Again"}, headers=scene.as_organiser), 409, "conflict")
    assert client.get(url, headers=scene.as_bruno).get_json()["body"] is None
    restored = client.delete(f"{url}/hidden", headers=scene.as_organiser)
    assert restored.status_code == 200 and restored.get_json()["status"] == "published"
    error(client.delete(f"{url}/hidden", headers=scene.as_organiser), 409, "conflict")
    assert client.get(url, headers=scene.as_bruno).get_json()["body"] == "Rude."


def test_pin_lock_and_their_reverse(client, scene, make_post):
    post = make_post(scene.amina, consultation=scene.consultation)
    reply = make_post(scene.bruno, parent=post)
    url = f"{API}/posts/{post.id}"
    for method, key, value in (("put", "pinned", True), ("delete", "pinned", False),
                               ("put", "locked", True), ("delete", "locked", False)):
        send = getattr(client, method)
        error(send(f"{url}/{key}", headers=scene.as_bruno), 403, "forbidden")
        sent = send(f"{url}/{key}", headers=scene.as_host)
        assert sent.status_code == 200 and sent.get_json()[key] is value
        error(send(f"{url}/{key}", headers=scene.as_host), 409, "conflict")
    error(client.put(f"{API}/posts/{reply.id}/locked", headers=scene.as_host), 400)  # a reply is not a thread


def test_move_a_thread_to_another_topic(client, scene, make_post):
    post = make_post(scene.amina, consultation=scene.consultation, topic=scene.topic)
    url = f"{API}/posts/{post.id}/move"
    assert "topic_id" in error(client.post(url, json={"topic_id": scene.topic.id}, headers=scene.as_host),
                               400, "invalid")["fields"]  # already there
    assert "topic_id" in error(client.post(url, json={"topic_id": 99999}, headers=scene.as_host),
                               400, "invalid")["fields"]
    error(client.post(url, json={"topic_id": scene.proposal.id}, headers=scene.as_bruno), 403, "forbidden")
    moved = client.post(url, json={"topic_id": scene.proposal.id}, headers=scene.as_host)
    assert moved.status_code == 200 and moved.get_json()["topic"]["id"] == scene.proposal.id


def test_flag_and_dismiss(client, scene, make_post, stored):
    post = make_post(scene.amina, consultation=scene.consultation)
    url = f"{API}/posts/{post.id}"
    error(client.post(f"{url}/flag", json={"reason": "Mine."}, headers=scene.as_amina), 403)  # one's own
    error(client.post(f"{url}/dismiss-flags", headers=scene.as_host), 409, "conflict")  # none open
    assert client.post(f"{url}/flag", json={"reason": "Spam."}, headers=scene.as_bruno).status_code == 200
    before = stored()
    error(client.post(f"{url}/flag", json={"reason": "Spam!"}, headers=scene.as_bruno), 409, "conflict")
    assert stored() == before
    error(client.post(f"{url}/dismiss-flags", headers=scene.as_bruno), 403)
    assert client.post(f"{url}/dismiss-flags", headers=scene.as_host).status_code == 200


# --- How callers write: tokens, sessions, allowance, live events -------------------------------------

def test_a_read_token_may_not_write(client, scene, make_post, bearer, stored):
    post = make_post(scene.bruno, consultation=scene.consultation)
    reader = bearer(scene.amina, "read")
    before = stored()
    for sent in (respond(client, scene, reader),
                 client.post(f"{API}/posts/{post.id}/replies", json={"body": "x"}, headers=reader),
                 client.put(f"{API}/posts/{post.id}/endorsement", headers=reader),
                 client.put(f"{API}/posts/{post.id}/hidden", json={"reason": "x"}, headers=bearer(scene.host, "read"))):
        assert "may only read" in error(sent, 403, "forbidden")["message"]
    assert stored() == before
    assert client.get(scene.posts_url, headers=reader).status_code == 200


def test_a_browser_session_writes_with_its_csrf_token(app, client, scene, stored):
    login(client, scene.amina)
    app.config["WTF_CSRF_ENABLED"] = True
    before = stored()
    body = {"topic_id": scene.topic.id, "body": "From my browser."}
    error(client.post(scene.posts_url, json=body), 400, "csrf")
    error(client.post(scene.posts_url, json=body, headers={"X-CSRFToken": "forged"}), 400, "csrf")
    assert stored() == before

    page = parse(client.get(f"/consultations/{scene.consultation.id}"))
    token = csrf_token(page, f"/consultations/{scene.consultation.id}/responses")
    sent = client.post(scene.posts_url, json=body, headers={"X-CSRFToken": token})
    assert sent.status_code == 201 and sent.get_json()["author"]["id"] == scene.amina.id


def test_api_writes_count_in_the_pages_allowance(rate_limited_app, db, make_user, make_consultation, make_post,
                                                 bearer, stored):
    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="3 per minute", RATELIMIT_POST_PER_ADDRESS="1000 per minute",
                           RATELIMIT_LOGIN_PER_ADDRESS="1000 per minute")
    consultation = make_consultation()
    other = make_post(consultation=consultation)
    writer = make_user()
    headers = bearer(writer)
    browser, api = app.test_client(), app.test_client()
    login(browser, writer)
    data = {"topic_id": consultation.topics[0].id, "body": "Again."}
    url = f"{API}/consultations/{consultation.id}/posts"

    assert browser.post(f"/consultations/{consultation.id}/responses", data=data).status_code == 302
    assert api.post(url, json=data, headers=headers).status_code == 201
    assert api.put(f"{API}/posts/{other.id}/endorsement", headers=headers).status_code == 200
    before = stored()
    for refused in (api.post(url, json=data, headers=headers),
                    api.delete(f"{API}/posts/{other.id}/endorsement", headers=headers)):
        error(refused, 429, "rate_limited")
        assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert browser.post(f"/consultations/{consultation.id}/responses", data=data).status_code == 429
    assert stored() == before
    assert api.get(url, headers=headers).status_code == 200  # reading is not writing
    assert api.post(url, json=data, headers=bearer(make_user())).status_code == 201  # another account


@pytest.fixture
def watcher(app, db, make_user):
    """watcher(stream) -> a socket of a signed-in reader that joined `stream`; its `events()`
    are the live events received since the last call."""
    from forum.extensions import socketio

    made = []

    def _watch(stream: str):
        client = app.test_client()
        login(client, make_user())
        with app.app_context():
            socket = socketio.test_client(app, flask_test_client=client)
        made.append(socket)
        with app.app_context():
            assert socket.emit("join", {"stream": stream}, callback=True)["ok"] is True
        socket.get_received()

        def events() -> list[dict]:
            return [m["args"][0] for m in socket.get_received() if m["name"] == "event"]
        return SimpleNamespace(events=events)

    yield _watch
    for socket in made:
        if socket.is_connected():
            socket.disconnect()


def test_a_response_over_the_api_reaches_the_live_stream_as_a_form_post_does(client, db, scene, watcher):
    db.session.commit()  # the scene's own events go out now, not amid what is watched
    stream = consultation_stream(scene.consultation)
    live = watcher(stream)

    error(respond(client, scene, scene.as_amina, body=""), 400)
    assert live.events() == []  # refused: nothing announced

    sent = respond(client, scene, scene.as_amina, body="Live from a script.")
    assert sent.status_code == 201
    [event] = live.events()
    assert event["stream"] == stream and event["type"] == "post.created"
    assert event["post"]["id"] == sent.get_json()["id"]

    login(client, scene.bruno)
    client.post(f"/consultations/{scene.consultation.id}/responses",
                data={"topic_id": scene.topic.id, "body": "From the page."})
    [by_form] = live.events()
    assert {k for k in by_form} == {k for k in event} and by_form["type"] == "post.created"


# --- The document -------------------------------------------------------------------------------------

def test_the_document_describes_every_operation_with_its_refusals(client):
    paths = client.get(f"{API}/openapi.json").get_json()["paths"]
    operations = {(method.upper(), path[len(API):]): operation for path, item in paths.items()
                  for method, operation in item.items() if method != "parameters" and "posts" in path}
    assert set(operations) == {
        ("GET", "/consultations/{consultation_id}/posts"), ("POST", "/consultations/{consultation_id}/posts"),
        ("GET", "/posts/{post_id}"), ("PATCH", "/posts/{post_id}"), ("DELETE", "/posts/{post_id}"),
        ("GET", "/posts/{post_id}/thread"), ("GET", "/posts/{post_id}/versions"),
        ("POST", "/posts/{post_id}/replies"), ("PUT", "/posts/{post_id}/endorsement"),
        ("DELETE", "/posts/{post_id}/endorsement"), ("POST", "/posts/{post_id}/flag"),
        *((method, f"/posts/{{post_id}}/{state}") for method in ("PUT", "DELETE")
          for state in ("hidden", "pinned", "locked")),
        ("POST", "/posts/{post_id}/dismiss-flags"), ("POST", "/posts/{post_id}/move")}
    for (method, path), operation in operations.items():
        assert operation["summary"] and operation["tags"] == ["posts"], (method, path)
        assert {"401", "404"} <= set(operation["responses"]), (method, path)
        if method != "GET":
            assert {"400", "403"} <= set(operation["responses"]), (method, path)
    for key in (("POST", "/consultations/{consultation_id}/posts"), ("POST", "/posts/{post_id}/replies"),
                ("PATCH", "/posts/{post_id}"), ("PUT", "/posts/{post_id}/hidden"), ("POST", "/posts/{post_id}/move")):
        assert "requestBody" in operations[key], key


def test_an_address_that_names_nothing_is_a_404_whatever_the_body(client, scene, stored):
    before = stored()
    for sent in (client.post(f"{API}/posts/99999999/replies", json={"wrong": 1}, headers=scene.as_amina),
                 client.patch(f"{API}/posts/99999999", json={"body": 7}, headers=scene.as_amina),
                 client.post(f"{API}/consultations/99999999/posts", json=[], headers=scene.as_amina),
                 client.delete(f"{API}/posts/{2**31}/endorsement", headers=scene.as_amina),
                 client.patch(f"{API}/posts/{2**40}", json={}, headers=scene.as_amina)):
        error(sent, 404, "not_found")
    assert stored() == before
