"""People's pages, the handle in the profile form, and GET /people/mentionable over HTTP
(docs/mentions.md). Who may be offered where is also a matrix: tests/test_roles.py and
tests/test_permissions.py (permissions.readers_of)."""
from __future__ import annotations

import pytest

from forum.models import EventMember
from forum.models.events import MemberRole
from forum.services import consultations as consultation_service
from forum.services import moderation
from forum.services import posts as post_service
from tests.factories import login
from tests.web.page import parse
from tests.web.test_accounts import REGISTRATION

# --- A person's page ----------------------------------------------------------------------


def test_a_persons_page_shows_who_they_are(client, make_user):
    anna = make_user(display_name="Anna Rossi", organisation="Comune di Bologna", organisation_type="local_authority",
                     country="IT", role_title="Policy officer")
    anna.named_in_reports = False  # reports only: the app shows her as her posts do
    login(client, make_user())

    for key in ("anna.rossi", "Anna.Rossi", str(anna.id)):
        response = client.get(f"/people/{key}")
        assert response.status_code == 200, key
        page = parse(response)
        assert page.one("h1").text() == "Anna Rossi"
        text = page.text()
        for shown in ("@anna.rossi", "Comune di Bologna", "Local public authority", "Italy", "Policy officer"):
            assert shown in text, shown
        assert "local_authority" not in text


@pytest.mark.parametrize("key", ["nobody.here", "999999", "0", str(2**31), str(2**64), "x" * 200, "-", "a b"])
def test_an_unknown_person_is_not_found(client, make_user, key):
    login(client, make_user())
    assert client.get(f"/people/{key}").status_code == 404


def test_a_visitor_is_asked_to_log_in(client, make_user):
    anna = make_user(display_name="Anna Rossi")
    response = client.get(f"/people/{anna.handle}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_page_lists_only_contributions_the_viewer_may_read(client, db, make_user, make_post, make_consultation,
                                                               make_event):
    anna = make_user(display_name="Anna Rossi")
    shown = make_post(anna, body="A public response")
    members_only = make_post(anna, consultation=make_consultation(visibility="members"), body="For members")
    hidden = make_post(anna, body="A hidden one")
    moderation.hide_post(hidden.consultation.owner, hidden, "Off topic")
    make_post(anna, body="A deleted one", deleted=True)
    closed = make_consultation()
    in_closed = make_post(anna, consultation=closed, body="Written while open")
    consultation_service.set_status(closed.owner, closed, "closed")
    event = make_event(rooms=2, moderators=1, participants=0)
    room1, room2 = event.breakout_rooms
    db.session.add(EventMember(event_id=event.id, user_id=anna.id, role=MemberRole.PARTICIPANT, room_id=room1.id))
    db.session.flush()
    in_room = post_service.post_in_room(anna, room1, body="Said in room one")
    bruno = make_user(display_name="Bruno")
    db.session.add(EventMember(event_id=event.id, user_id=bruno.id, role=MemberRole.PARTICIPANT, room_id=room2.id))
    db.session.commit()

    def bodies(viewer):
        client.post("/logout", data={})
        login(client, viewer)
        page = parse(client.get(f"/people/{anna.handle}"))
        return [li.one(class_="prose").text() for li in page.find_all("li", class_="contribution")]

    assert bodies(bruno) == [in_closed.body, members_only.body, shown.body]  # not room 1's
    assert bodies(event.test_moderators[1][0]) == [in_room.body, in_closed.body, members_only.body, shown.body]
    assert "A hidden one" not in bodies(hidden.consultation.owner)  # public contributions only
    assert bodies(anna)[0] == in_room.body


# --- The handle in the profile -------------------------------------------------------------

def _profile(**changes):
    return {**REGISTRATION, **changes}


def test_a_handle_is_changed_in_the_profile(client, make_user, reload):
    anna = make_user(display_name="Anna Rossi")
    login(client, anna)
    assert parse(client.get("/profile")).control("handle").value() == "anna.rossi"

    response = client.post("/profile", data=_profile(handle="@Anna.R"))

    assert response.status_code == 302
    assert reload(anna).handle == "anna.r"
    assert client.get("/people/anna.r").status_code == 200
    assert client.get("/people/anna.rossi").status_code == 404


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Choose a handle: the name people write after @ to mention you."),
    ("anna rossi", '"anna rossi" cannot be a handle: use 2 to 30 letters (a to z), digits, dots, hyphens or '
                   "underscores, starting and ending with a letter or a digit."),
    ("all", '"all" is reserved: choose another handle.'),
    ("2024", '"2024" cannot be a handle: it needs at least one letter.'),
    ("BRUNO", 'The handle "bruno" is taken: choose another.'),
    ("anna\x00", "This text contains invalid characters"),
])
def test_a_bad_handle_is_refused_with_the_form_as_typed(client, make_user, reload, typed, message):
    anna = make_user(display_name="Anna Rossi")
    make_user(display_name="Bruno")
    login(client, anna)

    response = client.post("/profile", data=_profile(handle=typed, display_name="Anna R."))

    assert response.status_code == 400
    page = parse(response)
    assert message in page.field_error("handle")
    assert page.control("handle").value() == typed
    assert (reload(anna).handle, anna.display_name) == ("anna.rossi", "Anna Rossi")  # nothing half-saved


def test_a_profile_form_without_the_handle_keeps_it(client, make_user, reload):
    anna = make_user(display_name="Anna Rossi")
    login(client, anna)
    assert client.post("/profile", data=_profile()).status_code == 302
    assert reload(anna).handle == "anna.rossi"


# --- GET /people/mentionable -------------------------------------------------------------

@pytest.fixture
def people(db, make_user, make_consultation, make_event):
    """Anna, Andrea, Annick and Bruno; an open consultation, a draft whose host is Andrea; an
    event whose room 1 holds Anna and Annick (Bruno is in room 2)."""
    anna = make_user(display_name="Anna Rossi", organisation="Comune di Bologna")
    andrea = make_user(display_name="Andrea Bianchi")
    annick = make_user(display_name="Annick Dupont")
    bruno = make_user(display_name="Bruno Anselmi")
    consultation = make_consultation()
    draft = make_consultation(status="draft", hosts=[andrea])
    event = make_event(rooms=2, moderators=0)
    room1, room2 = event.breakout_rooms
    for user, room in ((anna, room1), (annick, room1), (bruno, room2)):
        db.session.add(EventMember(event_id=event.id, user_id=user.id, room_id=room.id))
    db.session.commit()
    return dict(anna=anna, andrea=andrea, annick=annick, bruno=bruno, consultation=consultation, draft=draft,
                event=event, room1=room1, room2=room2)


def _offered(client, query: str) -> list[str]:
    response = client.get(f"/people/mentionable?{query}")
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
    return [person["handle"] for person in response.get_json()["people"]]


def test_a_consultation_offers_its_readers_handles_first(client, people):
    login(client, people["bruno"])
    c = people["consultation"].id
    assert _offered(client, f"consultation={c}&q=an") == ["andrea.bianchi", "anna.rossi", "annick.dupont"]
    assert _offered(client, f"consultation={c}&q=@ANNA") == ["anna.rossi"]
    assert _offered(client, f"consultation={c}&q=rossi") == ["anna.rossi"]  # a word of the name
    assert _offered(client, f"consultation={c}&q=bru") == []  # never the one asking
    [anna] = client.get(f"/people/mentionable?consultation={c}&q=anna.").get_json()["people"]
    assert anna == {"handle": "anna.rossi", "name": "Anna Rossi", "organisation": "Comune di Bologna",
                    "url": "/people/anna.rossi"}
    assert _offered(client, f"consultation={c}&q=a%25") == []  # LIKE wildcards are letters here


def test_a_room_offers_its_readers_only(client, people):
    login(client, people["anna"])
    assert _offered(client, f"room={people['room1'].id}&q=an") == ["annick.dupont"]  # not Bruno of room 2
    plenary = people["event"].plenary.id
    assert _offered(client, f"room={plenary}&q=an") == ["annick.dupont", "bruno.anselmi"]  # Anselmi: a word


def test_a_place_the_asker_may_not_read_is_not_found(client, people):
    login(client, people["bruno"])
    assert client.get(f"/people/mentionable?room={people['room1'].id}&q=an").status_code == 404
    assert client.get(f"/people/mentionable?consultation={people['draft'].id}&q=an").status_code == 404
    assert client.get("/people/mentionable?room=999999&q=an").status_code == 404
    client.post("/logout", data={})
    login(client, people["andrea"])  # the draft's host reads it: its readers are its organisers
    assert _offered(client, f"consultation={people['draft'].id}&q=") == []
    owner = people["draft"].owner
    assert _offered(client, f"consultation={people['draft'].id}&q={owner.handle[:4]}") == [owner.handle]


def test_a_visitor_gets_401(client, people):
    response = client.get(f"/people/mentionable?consultation={people['consultation'].id}&q=an")
    assert response.status_code == 401 and response.is_json


@pytest.mark.parametrize("query", [
    "q=an", "consultation=1&room=1&q=an", "consultation=abc&q=an", "room=-1&q=an", "room=0&q=an",
    f"room={2**31}&q=an", "consultation={c}", "consultation={c}&q=" + "a" * 31, "consultation={c}&q=a%00",
], ids=["no place", "two places", "not a number", "negative", "zero", "too large", "no q", "q too long", "NUL"])
def test_bad_parameters_answer_400(client, people, query):
    login(client, people["anna"])
    response = client.get("/people/mentionable?" + query.format(c=people["consultation"].id))
    assert response.status_code == 400 and response.is_json and response.get_json()["error"]


def test_undecodable_letters_find_no_one(client, people):
    # Werkzeug keeps an undecodable escape in a query as its text ("%ff"): no handle has it.
    login(client, people["anna"])
    assert _offered(client, f"consultation={people['consultation'].id}&q=%ff") == []


def test_at_most_eight_people_are_offered(client, make_user, make_consultation):
    for n in range(12):
        make_user(display_name=f"Marta {n}")
    consultation = make_consultation()
    login(client, make_user(display_name="Zed"))
    assert len(_offered(client, f"consultation={consultation.id}&q=marta")) == 8


def test_the_list_is_rate_limited_per_account(rate_limited_app, make_user, make_consultation):
    app = rate_limited_app(RATELIMIT_MENTIONABLE_PER_ACCOUNT="3 per minute")
    consultation = make_consultation()
    client = app.test_client()
    login(client, make_user())
    answers = [client.get(f"/people/mentionable?consultation={consultation.id}&q=a").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]


# --- Composers ----------------------------------------------------------------------------

def test_every_composer_offers_mentions_of_its_place(client, make_user, make_post, make_event):
    author = make_user()
    post = make_post(author)
    c = post.consultation_id
    login(client, author)
    pages = {
        f"/consultations/{c}": f"/people/mentionable?consultation={c}",
        f"/consultations/{c}/posts/{post.id}/reply": f"/people/mentionable?consultation={c}",
        f"/consultations/{c}/posts/{post.id}/edit": f"/people/mentionable?consultation={c}",
    }
    event = make_event(rooms=1, owner=author)
    pages[f"/events/{event.id}/rooms/{event.plenary.id}"] = f"/people/mentionable?room={event.plenary.id}"
    for url, endpoint in pages.items():
        page = parse(client.get(url))
        area = page.control("body")
        assert area.get("data-mentions") == endpoint, url
        assert "{n}" in area.get("data-mention-words"), url
        assert page.find("script", src="/static/js/mentions.js") is not None, url
