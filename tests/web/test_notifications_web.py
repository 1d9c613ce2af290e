"""The notifications page, reading notices, the bell, the settings section of the profile,
following and unfollowing, and bad input on each (a clear 4xx, nothing stored)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.models.notifications import Follow, Notification, NotificationKind, NotificationSetting
from forum.services import moderation
from forum.services import notifications as service
from tests.factories import login
from tests.web.page import parse

K = NotificationKind


@pytest.fixture
def replied(db, make_user, make_post):
    """Ann's response and Bob's reply to it: Ann has one unread notice."""
    ann, bob = make_user(display_name="Ann"), make_user(display_name="Bob")
    response = make_post(ann, body="My response")
    reply = make_post(bob, parent=response, body="A reply to think about")
    db.session.commit()
    (notice,) = db.session.scalars(select(Notification).where(Notification.user_id == ann.id))
    return ann, bob, response, reply, notice


def bell(page) -> tuple[str, str]:
    link = page.one("a", **{"data-bell": True})
    return link.one("span", **{"data-bell-text": True}).text(), link.one("span", **{"data-bell-count": True}).text()


def test_the_bell_says_the_unread_count_in_words(client, replied):
    ann, *_ = replied
    login(client, ann)
    assert bell(parse(client.get("/"))) == ("Notifications, 1 unread", "1")


def test_visitors_have_no_bell_and_no_bell_script(client, replied):
    page = parse(client.get("/"))
    assert page.find("a", **{"data-bell": True}) is None
    assert not [s for s in page.find_all("script") if "bell.js" in (s.get("src") or "")]


def test_the_page_lists_notices_newest_first_unread_marked_in_text(db, client, replied, make_user, make_post):
    ann, bob, response, reply, notice = replied
    cat = make_user(display_name="Cat")
    make_post(cat, parent=response, body=f"@{ann.handle} what do you think?")
    db.session.commit()
    login(client, ann)
    page = parse(client.get("/notifications"))
    items = page.one("ol", class_="notification-list").find_all("li")
    assert [item.one("p", class_="notification-text").text() for item in items] == [
        f"Unread Cat mentioned you in “{response.consultation.title}”.",
        f"Unread Bob replied to your post in “{response.consultation.title}”.",
    ]
    assert all("notification-unread" in item.classes for item in items)
    assert items[1].one("p", class_="notification-excerpt").text() == "A reply to think about"
    assert "2 unread notifications." in page.one("main").text()


def test_following_a_notice_reads_it_and_lands_on_the_reply(db, client, replied):
    ann, _bob, response, reply, notice = replied
    login(client, ann)
    answer = client.get(f"/notifications/{notice.id}")
    assert answer.status_code == 302
    assert answer.headers["Location"] == (
        f"/consultations/{response.consultation_id}/posts/{response.id}#post-{reply.id}")
    db.session.refresh(notice)
    assert notice.read_at is not None
    assert bell(parse(client.get("/"))) == ("Notifications", "0")


def test_a_notice_about_a_hidden_post_shows_nothing_of_it_and_links_nowhere(db, client, replied):
    ann, _bob, response, reply, notice = replied
    moderation.hide_post(response.consultation.owner, reply, "Off topic")
    db.session.commit()
    login(client, ann)
    page = client.get("/notifications").get_data(as_text=True)
    assert "A post you were notified about is no longer available." in page
    assert "think about" not in page and f"post-{reply.id}" not in page
    answer = client.get(f"/notifications/{notice.id}")
    assert answer.headers["Location"] == "/notifications"


def test_mark_one_and_mark_all_read_without_javascript(db, client, replied, make_post):
    ann, bob, response, _reply, notice = replied
    make_post(bob, parent=response)
    db.session.commit()
    login(client, ann)
    assert client.post(f"/notifications/{notice.id}/read").status_code == 302
    assert service.unread_count(ann) == 1
    assert client.post("/notifications/read-all").status_code == 302
    assert service.unread_count(ann) == 0
    assert client.get("/notifications/unread").get_json() == {"count": 0}


def test_someone_elses_notice_is_not_found(db, client, replied, make_user):
    *_rest, notice = replied
    login(client, make_user())
    assert client.get(f"/notifications/{notice.id}").status_code == 404
    assert client.post(f"/notifications/{notice.id}/read").status_code == 404
    db.session.refresh(notice)
    assert notice.read_at is None


@pytest.mark.parametrize("page", ["abc", "0", "-1", "1.5", "99999999999"])
def test_a_bad_page_number_answers_400(client, replied, page):
    login(client, replied[0])
    assert client.get(f"/notifications?page={page}").status_code == 400


def test_the_pages_need_a_login(client):
    for url in ("/notifications", "/notifications/following", "/notifications/unread"):
        assert client.get(url).status_code == 302
    assert client.post("/notifications/read-all").status_code == 302


# --- Settings -----------------------------------------------------------------------------

def test_the_profile_has_a_switch_per_kind_and_saving_keeps_only_differences(db, client, make_user):
    ann = make_user()
    login(client, ann)
    page = parse(client.get("/profile"))
    section = page.by_id("notifications")
    boxes = section.find_all("input", type="checkbox", name="kinds")
    assert len(boxes) == len(K) and all("checked" in box.attrs for box in boxes)
    assert section.one("label", **{"for": "kind-mention"}).text() == "Mentions of me"

    kinds = [k.value for k in K if k is not K.NEW_RESPONSE]
    answer = client.post("/notifications/settings", data={"kinds": kinds, "digest_frequency": "weekly"})
    assert answer.status_code == 302
    db.session.expire_all()
    assert db.session.execute(select(NotificationSetting.kind, NotificationSetting.enabled)).all() == [
        (K.NEW_RESPONSE, False)]
    assert (ann.email_immediate, ann.digest_frequency) == (False, "weekly")
    page = parse(client.get("/profile"))
    assert "checked" not in page.by_id("kind-new_response").attrs
    assert page.by_id("digest-frequency").value() == "weekly"


@pytest.mark.parametrize("data", [
    {"kinds": ["mention", "teleport"], "digest_frequency": "daily"},
    {"kinds": ["mention"], "digest_frequency": "hourly"},
    {"kinds": ["mention"]},
])
def test_bad_settings_answer_400_and_store_nothing(db, client, make_user, data):
    ann = make_user()
    login(client, ann)
    assert client.post("/notifications/settings", data=data).status_code == 400
    assert db.session.scalar(select(func.count(NotificationSetting.id))) == 0
    db.session.refresh(ann)
    assert ann.digest_frequency == "daily"


# --- Following ----------------------------------------------------------------------------

def test_follow_and_unfollow_buttons_work_without_javascript(db, client, make_user, make_post):
    ann = make_user()
    response = make_post()
    consultation = response.consultation
    topic = consultation.topics[0]
    login(client, ann)
    page = parse(client.get(f"/consultations/{consultation.id}"))
    buttons = page.find_all("button", **{"data-follow": True})
    assert [(b.get("data-follow"), b.get("aria-pressed")) for b in buttons] == [
        ("consultation", "false"), ("topic", "false")]

    assert client.post(f"/consultations/{consultation.id}/follow", data={"follow": "yes"}).status_code == 302
    assert client.post(f"/consultations/{consultation.id}/topics/{topic.id}/follow",
                       data={"follow": "yes"}).status_code == 302
    assert client.post(f"/consultations/{consultation.id}/posts/{response.id}/follow",
                       data={"follow": "yes"}).status_code == 302
    page = parse(client.get(f"/consultations/{consultation.id}"))
    assert [b.get("aria-pressed") for b in page.find_all("button", **{"data-follow": True})] == ["true", "true"]
    thread = parse(client.get(f"/consultations/{consultation.id}/posts/{response.id}"))
    assert thread.one("button", **{"data-follow": "thread"}).get("aria-pressed") == "true"

    listing = parse(client.get("/notifications/following"))
    assert len(listing.one("ul", class_="follow-list").find_all("li")) == 3
    assert client.post(f"/consultations/{consultation.id}/follow",
                       data={"follow": "no", "next": "/notifications/following"}).headers["Location"] == \
        "/notifications/following"
    db.session.expire_all()
    assert db.session.scalar(select(Follow.active).where(Follow.user_id == ann.id,
                                                         Follow.consultation_id == consultation.id)) is False
    assert len(parse(client.get("/notifications/following")).one("ul", class_="follow-list").find_all("li")) == 2


def test_bad_follow_requests(db, client, make_user, make_post, make_consultation):
    ann = make_user()
    response = make_post()
    other = make_consultation()
    draft = make_consultation(status="draft")
    login(client, ann)
    consultation_id = response.consultation_id
    assert client.post(f"/consultations/{consultation_id}/follow", data={"follow": "maybe"}).status_code == 400
    assert client.post(f"/consultations/{consultation_id}/follow").status_code == 400
    assert client.post(f"/consultations/{consultation_id}/topics/{other.topics[0].id}/follow",
                       data={"follow": "yes"}).status_code == 404
    assert client.post(f"/consultations/{other.id}/posts/{response.id}/follow",
                       data={"follow": "yes"}).status_code == 404
    assert client.post(f"/consultations/{draft.id}/follow", data={"follow": "yes"}).status_code == 404
    assert db.session.scalar(select(func.count(Follow.id)).where(Follow.user_id == ann.id)) == 0


def test_visitors_see_no_follow_button_and_cannot_follow(client, make_post):
    response = make_post()
    page = parse(client.get(f"/consultations/{response.consultation_id}"))
    assert page.find("button", **{"data-follow": True}) is None
    answer = client.post(f"/consultations/{response.consultation_id}/follow", data={"follow": "yes"})
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
