"""Crossing a room by keyboard, without JavaScript: a skip link to the message box, one
"Actions" disclosure per message (its buttons are not Tab stops until it is opened), focus
back on the message after a moderator's action, and the mutes with their Unmute button."""
from __future__ import annotations

from datetime import timezone
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time
from sqlalchemy import select

from forum.models import Mute, Post
from forum.models.base import utcnow
from forum.services import moderation, posts
from tests.factories import login
from tests.web.page import parse

FOCUSABLE = {"a", "button", "summary", "input", "select", "textarea"}


def path(room, suffix: str = "") -> str:
    return f"/events/{room.event_id}/rooms/{room.id}{suffix}"


def form_data(form, **extra) -> dict:
    """What submitting `form` sends: its hidden and other inputs as they are, plus `extra`."""
    data = {i.get("name"): i.value() for i in form.find_all("input") if i.get("name")}
    return {**data, **extra}


def tab_stops(element) -> list:
    """The controls of `element` a Tab key reaches as the page is loaded: not hidden, not
    inside a closed <details> (other than its own <summary>)."""
    stops = []
    for node in element.iter():
        if node.tag not in FOCUSABLE or (node.tag == "a" and not node.get("href")):
            continue
        if node.tag == "input" and node.get("type") == "hidden":
            continue
        chain = [node, *node.ancestors()]
        if any("hidden" in n.attrs for n in chain):
            continue
        inside_closed = any(a.tag == "details" and "open" not in a.attrs and not
                            (node.tag == "summary" and node.parent is a) for a in node.ancestors())
        if not inside_closed:
            stops.append(node)
    return stops


@pytest.fixture
def room_scene(db, make_event):
    event = make_event(rooms=1, moderators=1, participants=2)
    room = event.breakout_rooms[0]
    eva, amina = event.test_participants
    moderator = event.test_moderators[1][0]
    for n in range(6):
        posts.post_in_room(eva if n % 2 else amina, room, body=f"Idea number {n}.")
    db.session.commit()
    messages = list(db.session.scalars(select(Post).where(Post.room_id == room.id).order_by(Post.id)))
    return room, eva, amina, moderator, messages


@pytest.mark.parametrize("who", ["participant", "moderator"])
def test_each_message_costs_a_few_tab_stops_and_its_actions_are_in_one_disclosure(client, room_scene, who):
    room, eva, amina, moderator, messages = room_scene
    login(client, eva if who == "participant" else moderator)
    page = parse(client.get(path(room)))
    items = page.one("ol", data_message_list=True, data_list_stream=f"room:{room.id}").find_all("li", class_="message")
    assert len(items) == len(messages)
    for item in items:
        stops = tab_stops(item)
        # The time (a permalink), "Agree" where the reader may agree, and "Actions".
        assert len(stops) <= 3, [s.text() for s in stops]
        menus = item.find_all("details", class_="message-menu")
        assert len(menus) == 1
        assert menus[0].find("summary").text().startswith("Actions")
        assert item.get("tabindex") == "-1"  # a focus target for #post-<id>
    own = next(i for i in items if i.get("id") == f"post-{messages[1].id}")
    actions = own.one("details", class_="message-menu").text()
    if who == "moderator":
        for label in ("Reply", "Pin", "Hide…", "Move…", "Make it a takeaway", "Mute…"):
            assert label in actions
    else:  # Eva wrote it
        assert "Delete" in actions and "Pin" not in actions


def test_a_skip_link_leads_to_the_message_box(client, room_scene):
    room, eva, *_ = room_scene
    login(client, eva)
    page = parse(client.get(path(room)))
    skip = page.one("a", data_skip_compose=True)
    assert skip.text() == "Skip to message box"
    box = page.by_id(skip.get("href").removeprefix("#"))
    assert box.tag == "textarea" and box.get("name") == "body"
    # It comes straight after "Skip to main content", before the site's navigation.
    links = page.find_all("a")
    assert [a.text() for a in links[:2]] == ["Skip to main content", "Skip to message box"]


@pytest.mark.parametrize("endpoint", ["pin", "hide"])
def test_without_javascript_a_moderators_action_comes_back_to_the_message(client, room_scene, endpoint):
    room, eva, amina, moderator, messages = room_scene
    target = messages[2]
    login(client, moderator)
    page = parse(client.get(path(room)))
    form = next(f for f in page.find_all("form") if f.get("action") == f"/posts/{target.id}/{endpoint}")
    extra = {"reason": "Off topic."} if endpoint == "hide" else {}
    response = client.post(form.get("action"), data=form_data(form, **extra))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{path(room)}#post-{target.id}")
    # The fragment names the message, which can take the focus (tabindex=-1).
    assert parse(client.get(path(room))).by_id(f"post-{target.id}").get("tabindex") == "-1"


def test_without_javascript_moving_a_thread_comes_back_to_the_next_message(client, room_scene, db, make_event):
    room, eva, amina, moderator, messages = room_scene
    other_room = room.event.plenary
    target, following = messages[2], messages[3]
    login(client, room.event.owner)
    page = parse(client.get(path(room)))
    link = next(a for a in page.find_all("a") if (a.get("href") or "").startswith(f"/posts/{target.id}/move"))
    form_page = parse(client.get(link.get("href")))
    form = next(f for f in form_page.find_all("form") if f.find("select", name="destination"))
    response = client.post(link.get("href"), data=form_data(form, destination=other_room.id))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{path(room)}#post-{following.id}")
    db.session.expire_all()
    assert db.session.get(Post, target.id).room_id == other_room.id


def test_moderators_see_who_is_muted_until_when_in_their_time_zone_and_unmute_from_the_room(
        client, room_scene, db):
    room, eva, amina, moderator, messages = room_scene
    moderator.timezone = "Asia/Tokyo"
    moderation.mute_user(moderator, room, amina, 30, reason="Cooling off.")
    db.session.commit()
    until = db.session.scalar(select(Mute.until).where(Mute.user_id == amina.id))
    login(client, moderator)
    page = parse(client.get(path(room)))
    panel = page.one("section", data_panel="mutes")
    assert amina.display_name in panel.text()
    assert "Cooling off." in panel.text()
    shown = panel.one("time")
    assert shown.get("datetime") == until.astimezone(timezone.utc).replace(microsecond=0).isoformat()
    # The hour in Tokyo, as English writes it (12-hour clock): not the server's UTC hour.
    def english(zone) -> str:
        return format_time(until, "short", tzinfo=zone, locale="en").replace("\u202f", " ")
    assert english(ZoneInfo("Asia/Tokyo")) in shown.text().replace("\u202f", " ")
    assert english(timezone.utc) not in shown.text().replace("\u202f", " ")

    form = panel.one("form")
    response = client.post(form.get("action"), data=form_data(form))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{path(room)}#mutes")
    assert db.session.scalar(select(Mute).where(Mute.user_id == amina.id, Mute.until > utcnow())) is None
    assert "Nobody is muted." in parse(client.get(path(room))).one("section", data_panel="mutes").text()


def test_the_mutes_panel_is_for_the_rooms_moderators_only(client, room_scene):
    room, eva, amina, moderator, messages = room_scene
    login(client, eva)
    assert client.get(path(room, "/panels/mutes")).status_code == 404
    assert parse(client.get(path(room))).find("section", data_panel="mutes") is None
    client.post("/logout")
    login(client, moderator)
    assert client.get(path(room, "/panels/mutes")).status_code == 200


def test_a_consultations_posts_have_one_actions_disclosure_and_come_back_to_the_post(
        client, db, make_user, make_consultation):
    organiser = make_user("organiser")
    consultation = make_consultation(owner=organiser)
    author = make_user()
    post = posts.create_post(author, consultation, topic_id=consultation.topics[0].id, body="A response.")
    db.session.commit()
    login(client, organiser)
    page = parse(client.get(f"/consultations/{consultation.id}"))
    article = page.by_id(f"post-{post.id}")
    assert article.get("tabindex") == "-1"
    assert len(article.find_all("details", class_="message-menu")) == 1
    assert len(tab_stops(article)) <= 4, [s.text() for s in tab_stops(article)]
    pin = next(f for f in article.find_all("form") if f.get("action") == f"/posts/{post.id}/pin")
    assert pin.control("next").value().endswith(f"#post-{post.id}")
