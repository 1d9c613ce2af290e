"""The moderators' console on a room page over HTTP: its toolbar (plain forms to the room's
phase and settings routes), its panes with the counts the tabs show, the mutes' remaining
time, the speaking share's "Invite to speak" and the invite route itself (who may, whom,
what it leaves: a log line and a notice to that person, nothing on a refusal)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.models import EventMember, ModerationAction, Mute
from forum.models.base import utcnow
from forum.models.events import MemberRole
from forum.services import events, moderation, posts
from forum.services import rooms as room_service
from tests.factories import login
from tests.web.page import parse


def path(room, suffix: str = "") -> str:
    return f"/events/{room.event_id}/rooms/{room.id}{suffix}"


@pytest.fixture
def scene(db, make_event):
    event = make_event(rooms=2, moderators=1, participants=4)
    room, other_room = event.breakout_rooms
    talker, other_rooms, quiet, _ = event.test_participants  # 0 and 2 in room 1
    posts.post_in_room(talker, room, body="I think we should meet in the evenings, twice a week.")
    db.session.commit()
    return event, room, other_room, talker, quiet, other_rooms


@pytest.fixture
def sockets(monkeypatch):
    """What reaches open sockets after the commit: [(event name, data, sid)]; each user has one."""
    sent = []
    monkeypatch.setattr(events.presence, "connections", lambda user_id: [f"sid-{user_id}"])
    monkeypatch.setattr(events.socketio, "emit", lambda name, data, to=None, **kw: sent.append((name, data, to)))
    return sent


def invitations(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ModerationAction)
                             .where(ModerationAction.action == "speak.invited"))


def test_the_console_holds_a_toolbar_and_a_pane_per_tool_stacked_without_javascript(client, scene):
    event, room, *_ = scene
    login(client, event.test_moderators[1][0])
    page = parse(client.get(path(room)))
    console = page.one("section", class_="console")
    # The tab list is for the script to show: without it, every pane is there, stacked.
    tablist = console.one(role="tablist")
    assert "hidden" in tablist.attrs
    tabs = tablist.find_all("button", role="tab")
    panes = console.find_all("section", class_="console-pane")
    assert [t.get("aria-controls") for t in tabs] == [p.get("id") for p in panes] == [
        "hands", "queue", "share", "backchannel", "mutes", "takeaways"]
    assert not any("hidden" in p.attrs for p in panes)
    # The toolbar: the phase and the settings, each a form posting to the existing routes.
    toolbar = console.one("div", data_panel="controls")
    actions = {f.get("action") for f in toolbar.find_all("form")}
    assert actions == {path(room, "/phase"), path(room, "/settings")}
    assert [b.text() for b in toolbar.find_all("button", name="phase")] == ["Start the wrap-up", "Close now"]
    lock = toolbar.one("button", name="locked")
    assert (lock.get("value"), lock.get("aria-pressed")) == ("1", "false")
    premoderation = toolbar.one("button", name="premoderated")
    assert (premoderation.get("value"), premoderation.get("aria-pressed")) == ("1", "false")
    assert toolbar.control("slow_mode_seconds").tag == "select"


def test_the_plenarys_console_has_no_share_nor_takeaways_but_the_questions(client, scene):
    event, *_ = scene
    login(client, event.owner)
    page = parse(client.get(path(event.plenary)))
    assert [t.get("data-tab") for t in page.find_all("button", role="tab")] == [
        "hands", "queue", "backchannel", "questions", "mutes"]
    # The questions are a pane of the console (once on the page), not in the discussion.
    assert page.by_id("questions").get("data-pane") == "questions"
    assert page.by_id("room-aside").by_id("questions").get("aria-labelledby") == "questions-heading"


def test_panels_carry_the_counts_the_tabs_show(client, db, scene):
    event, room, _, talker, quiet, _ = scene
    moderator = event.test_moderators[1][0]
    room_service.raise_hand(quiet, room)
    moderation.set_premoderation(moderator, room, True)
    first = room_service.list_messages(moderator, room).messages[0]
    posts.post_in_room(quiet, room, body="Waiting for a moderator.")
    moderation.flag_post(quiet, first, "Off topic")
    moderation.mute_user(moderator, room, talker, 10)
    db.session.commit()
    login(client, moderator)
    counts = {}
    for name in ("hands", "queue", "mutes"):
        panel = parse(client.get(path(room, f"/panels/{name}")))
        counts[name] = int(panel.one(data_count=True).get("data-count"))
    assert counts == {"hands": 1, "queue": 2, "mutes": 1}  # one waiting and one reported


def test_mutes_show_the_time_left(client, db, scene):
    event, room, _, talker, *_ = scene
    moderator = event.test_moderators[1][0]
    moderation.mute_user(moderator, room, talker, 30)
    db.session.commit()
    login(client, moderator)
    item = parse(client.get(path(room, "/panels/mutes"))).one("li", data_mute_until=True)
    assert item.one(data_mute_left=True).text() in ("30 min left", "29 min left")
    assert item.one("button").text() == f"Unmute {talker.display_name}"


def test_the_share_offers_to_invite_the_quiet_ones_only(client, scene):
    event, room, _, talker, quiet, _ = scene
    login(client, event.test_moderators[1][0])
    table = parse(client.get(path(room, "/panels/share"))).one("table", data_share_table=True)
    rows = table.find("tbody").find_all("tr")
    assert [r.get("data-name") for r in rows] == [talker.display_name, quiet.display_name]  # the server's order
    assert [th.get("data-sort-key") for th in table.find("thead").find_all("th")] == ["name", "posts", "words", "share"]
    assert table.one("th", data_sort_key="words").get("aria-sort") == "descending"
    forms = table.find_all("form")
    assert len(forms) == 1 and forms[0].get("action") == path(room, "/invite")
    assert forms[0].control("user_id").get("value") == str(quiet.id)
    assert forms[0].one("button").text() == f"Invite to speak {quiet.display_name}"


@pytest.mark.parametrize("who", ["co-moderator", "organiser"])
def test_a_moderator_invites_a_quiet_participant(client, db, scene, sockets, who):
    event, room, _, _, quiet, _ = scene
    actor = event.test_moderators[1][0] if who == "co-moderator" else event.owner
    login(client, actor)
    response = client.post(path(room, "/invite"), data={"user_id": quiet.id})
    assert response.status_code == 302
    assert response.headers["Location"] == path(room) + "#share"
    assert invitations(db) == 1
    assert ("notice", {"type": "speak.invited", "room_id": room.id}, f"sid-{quiet.id}") in sockets
    with client.session_transaction() as session:
        assert session["_flashes"] == [("success", f"{quiet.display_name} is invited to speak.")]
    # From another page (the control room's, say), the form's local `next` brings them back.
    response = client.post(path(room, "/invite"), data={"user_id": quiet.id, "next": f"/events/{event.id}"})
    assert response.headers["Location"] == f"/events/{event.id}"


@pytest.mark.parametrize("who", ["participant", "other room's co-moderator"])
def test_others_may_not_invite(client, db, scene, sockets, who):
    event, room, _, talker, quiet, _ = scene
    actor = talker if who == "participant" else event.test_moderators[2][0]
    login(client, actor)
    response = client.post(path(room, "/invite"), data={"user_id": quiet.id})
    assert response.status_code in (403, 404)
    assert invitations(db) == 0
    assert [s for s in sockets if s[0] == "notice"] == []


@pytest.mark.parametrize("user_id", ["", "abc", "-1", "999999", "other room", "observer"])
def test_inviting_someone_not_placed_in_the_room_is_a_clear_400(client, db, scene, sockets, make_user, user_id):
    event, room, _, _, _, other_rooms = scene
    if user_id == "other room":
        user_id = other_rooms.id
    elif user_id == "observer":
        observer = make_user()
        db.session.add(EventMember(event_id=event.id, user_id=observer.id, role=MemberRole.OBSERVER, room_id=room.id))
        db.session.commit()
        user_id = observer.id
    login(client, event.test_moderators[1][0])
    response = client.post(path(room, "/invite"), data={"user_id": user_id})
    assert response.status_code == 400
    text = parse(response).text()
    assert ("Only a participant placed in this room can be invited to speak." in text
            or "This person is not registered for this event." in text)
    assert invitations(db) == 0
    assert [s for s in sockets if s[0] == "notice"] == []


def test_a_mute_that_has_run_out_leaves_the_panel(client, db, scene):
    event, room, _, talker, *_ = scene
    moderator = event.test_moderators[1][0]
    moderation.mute_user(moderator, room, talker, 10)
    db.session.flush()
    mute = db.session.scalar(select(Mute).where(Mute.user_id == talker.id))
    mute.until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    login(client, moderator)
    panel = parse(client.get(path(room, "/panels/mutes")))
    assert panel.one(data_count=True).get("data-count") == "0"
    assert "Nobody is muted." in panel.text()
