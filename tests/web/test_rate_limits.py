"""Rate limits, on a second app with limits enabled and small (see `rate_limited_app` in
tests/web/conftest.py for why it takes a second app)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from tests.factories import login
from tests.web.page import error_message, parse

TOO_OFTEN = "You are doing this too often. Please wait a little and try again."
GENEROUS = "1000 per minute"


def assert_rate_limited(response, window_seconds: int) -> None:
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= window_seconds
    assert error_message(parse(response)) == TOO_OFTEN


def fail_login(client, email: str):
    return client.post("/login", data={"email": email, "password": "not the password at all"})


# --- logging in ---------------------------------------------------------------------

def test_failed_logins_for_one_account_are_limited_and_others_are_not(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute", RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    ada, bob, carol = make_user(email="ada@example.org"), make_user(), make_user()
    client = app.test_client()

    for _ in range(3):
        assert fail_login(client, ada.email).status_code == 400
    assert_rate_limited(fail_login(client, ada.email), 60)
    # The same account however it is spelt.
    assert fail_login(client, " ADA@Example.org ").status_code == 429

    # Other accounts, from the same address, are not slowed.
    assert fail_login(client, bob.email).status_code == 400
    response = app.test_client().post("/login", data={"email": carol.email, "password": carol.test_password})
    assert response.status_code == 302


def test_successful_logins_do_not_count_against_the_account(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute", RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    user = make_user()

    for _ in range(4):
        assert login(app.test_client(), user).status_code == 302
    assert fail_login(app.test_client(), user.email).status_code == 400


def test_failed_logins_from_one_address_are_limited_across_accounts(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ADDRESS="3 per minute", RATELIMIT_LOGIN_PER_ACCOUNT=GENEROUS)
    users = [make_user() for _ in range(4)]
    client = app.test_client()

    for user in users[:3]:
        assert fail_login(client, user.email).status_code == 400
    assert_rate_limited(fail_login(client, users[3].email), 60)

    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert fail_login(elsewhere, users[3].email).status_code == 400


# --- registering and resetting ------------------------------------------------------

def test_registrations_from_one_address_are_limited(rate_limited_app):
    app = rate_limited_app(RATELIMIT_REGISTER_PER_ADDRESS="1 per minute")
    data = {"password": "a long enough password", "confirm": "a long enough password",
            "display_name": "Ada", "organisation": "", "organisation_type": "individual", "country": "IT",
            "preferred_language": "en", "timezone": "Europe/Rome", "accept_privacy": "y"}

    assert app.test_client().post("/register", data={**data, "email": "one@example.org"}).status_code == 302
    assert_rate_limited(app.test_client().post("/register", data={**data, "email": "two@example.org"}), 60)
    assert app.test_client().get("/register").status_code == 200  # only sending counts


def test_reset_requests_for_one_account_are_limited(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_RESET_PER_ACCOUNT="1 per hour", RATELIMIT_RESET_PER_ADDRESS=GENEROUS)
    ada, bob = make_user(email="ada@example.org"), make_user()
    client = app.test_client()

    assert client.post("/forgot-password", data={"email": ada.email}).status_code == 302
    assert_rate_limited(client.post("/forgot-password", data={"email": ada.email}), 3600)
    assert client.post("/forgot-password", data={"email": bob.email}).status_code == 302


# --- posting ------------------------------------------------------------------------

def test_posting_beyond_the_account_limit_is_refused_and_stores_nothing(rate_limited_app, make_user,
                                                                          make_consultation, post_count):
    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="2 per minute", RATELIMIT_POST_PER_ADDRESS=GENEROUS,
                           RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    consultation = make_consultation()
    url = f"/consultations/{consultation.id}/responses"
    data = {"topic_id": consultation.topics[0].id, "body": "Again and again"}
    busy, other = app.test_client(), app.test_client()
    login(busy, make_user())
    login(other, make_user())

    assert [busy.post(url, data=data).status_code for _ in range(2)] == [302, 302]
    assert post_count() == 2

    assert_rate_limited(busy.post(url, data=data), 60)
    assert post_count() == 2

    assert other.post(url, data=data).status_code == 302  # the same address, another account
    assert post_count() == 3


def test_votes_count_against_the_writing_allowance(rate_limited_app, db, make_user, make_poll):
    from forum.models import PollVote

    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="2 per minute", RATELIMIT_POST_PER_ADDRESS=GENEROUS,
                           RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    poll = make_poll()
    client = app.test_client()
    login(client, make_user())
    url = f"/polls/{poll.id}/vote"
    assert [client.post(url, data={"choice": str(poll.options[i].id)}).status_code for i in (0, 1)] == [302, 302]
    assert_rate_limited(client.post(url, data={"choice": str(poll.options[2].id)}), 60)
    db.session.expire_all()
    assert db.session.scalar(select(PollVote.choice)) == [poll.options[1].id]


def test_replies_count_against_the_same_posting_limit(rate_limited_app, make_user, make_post, post_count):
    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="1 per minute", RATELIMIT_POST_PER_ADDRESS=GENEROUS,
                           RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    parent = make_post()
    client = app.test_client()
    login(client, make_user())
    reply_url = f"/consultations/{parent.consultation_id}/posts/{parent.id}/reply"

    assert client.post(reply_url, data={"body": "First"}).status_code == 302
    assert_rate_limited(client.post(reply_url, data={"body": "Second"}), 60)
    assert client.get(reply_url).status_code == 200  # reading the form is not posting
    assert post_count() == 2


def test_posts_over_the_socket_and_the_form_share_one_allowance(rate_limited_app, make_user, make_consultation,
                                                                 db):
    from forum.extensions import socketio

    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="2 per minute", RATELIMIT_POST_PER_ADDRESS=GENEROUS)
    consultation = make_consultation()
    user = make_user()
    db.session.commit()
    client = app.test_client()
    login(client, user)
    topic_id = consultation.topics[0].id
    url = f"/consultations/{consultation.id}/responses"

    assert client.post(url, data={"topic_id": topic_id, "body": "By form."}).status_code == 302
    socket = socketio.test_client(app, flask_test_client=client)
    message = {"stream": f"consultation:{consultation.id}", "topic_id": topic_id}
    assert socket.emit("post", dict(message, body="By socket."), callback=True)["ok"] is True
    refused = socket.emit("post", dict(message, body="One too many."), callback=True)
    assert refused["ok"] is False and refused["error"]["code"] == 429
    assert_rate_limited(client.post(url, data={"topic_id": topic_id, "body": "Form, one too many."}), 60)
    socket.disconnect()


# --- only failed log-ins count --------------------------------------------------------

def test_correct_passwords_from_one_address_are_never_refused(rate_limited_app, make_user):
    # Twenty colleagues behind one office network all log in at the start of an event.
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ADDRESS="3 per minute", RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")
    colleagues = [make_user() for _ in range(6)]

    assert [login_response(app.test_client(), user).status_code for user in colleagues] == [302] * 6


def test_a_correct_password_is_let_in_from_an_address_over_its_failure_limit(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ADDRESS="3 per minute", RATELIMIT_LOGIN_PER_ACCOUNT=GENEROUS)
    careless, ada = [make_user() for _ in range(3)], make_user()
    client = app.test_client()
    for user in careless:
        assert fail_login(client, user.email).status_code == 400

    # Wrong passwords from this address are now refused...
    assert_rate_limited(fail_login(client, ada.email), 60)
    # ...but its owner, typing the right one on the same network, gets in.
    assert login_response(app.test_client(), ada).status_code == 302


def test_an_account_under_attack_refuses_even_its_password_until_the_window_ends(rate_limited_app, make_user):
    # The per-account limit is what stops guessing one account's password: were the right
    # password let in, the attacker's next guess would tell them it was right.
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute", RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    target, other = make_user(), make_user()
    attacker = app.test_client()
    for _ in range(3):
        assert fail_login(attacker, target.email).status_code == 400

    assert_rate_limited(login_response(attacker, target), 60)
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.8"
    assert_rate_limited(login_response(elsewhere, target), 60)
    assert login_response(attacker, other).status_code == 302


def test_a_completed_password_reset_ends_the_accounts_lock_out(rate_limited_app, make_user):
    app = rate_limited_app(RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute", RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    owner = make_user()
    attacker = app.test_client()
    for _ in range(3):
        assert fail_login(attacker, owner.email).status_code == 400
    assert_rate_limited(login_response(attacker, owner), 60)

    from forum.services import accounts
    with app.test_request_context():
        token = accounts.make_reset_token(owner)
    browser = app.test_client()
    browser.environ_base["REMOTE_ADDR"] = "192.0.2.9"
    done = browser.post(f"/reset-password/{token}", data={"password": "a fresh long password",
                                                          "confirm": "a fresh long password"})
    assert done.status_code == 302
    again = app.test_client().post("/login", data={"email": owner.email, "password": "a fresh long password"})
    assert again.status_code == 302


def login_response(client, user):
    return client.post("/login", data={"email": user.email, "password": user.test_password})


# --- every write a participant can repeat ---------------------------------------------

@pytest.fixture
def writer(rate_limited_app, make_user, make_post, make_event, db):
    """A participant of a consultation and of an event's open breakout room, on an app whose
    writing allowance is two writes a minute; `writer.row_counts()` counts every table."""
    from forum.services import posts as post_service

    app = rate_limited_app(RATELIMIT_POST_PER_ACCOUNT="2 per minute", RATELIMIT_POST_PER_ADDRESS=GENEROUS,
                           RATELIMIT_LOGIN_PER_ADDRESS=GENEROUS)
    event = make_event(rooms=1, participants=2)
    user, neighbour = event.test_participants
    room = event.breakout_rooms[0]
    mine, theirs = make_post(user), make_post()
    my_message = post_service.post_in_room(user, room, body="Mine.")
    their_message = post_service.post_in_room(neighbour, room, body="Theirs.")
    db.session.commit()
    client = app.test_client()
    login(client, user)

    def row_counts() -> dict[str, int]:
        db.session.expire_all()
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}

    c, r = f"/consultations/{mine.consultation_id}", f"/events/{event.id}/rooms/{room.id}"
    urls = {
        "response": (f"{c}/responses", {"topic_id": mine.topic_id, "body": "Another response"}),
        "reply": (f"/consultations/{theirs.consultation_id}/posts/{theirs.id}/reply", {"body": "A reply"}),
        "edit": (f"{c}/posts/{mine.id}/edit", {"subject": "", "body": "Edited again"}),
        "endorse": (f"/consultations/{theirs.consultation_id}/posts/{theirs.id}/endorsement", {}),
        "withdraw": (f"/consultations/{theirs.consultation_id}/posts/{theirs.id}/endorsement",
                     {"action": "withdraw"}),
        "delete": (f"{c}/posts/{mine.id}/delete", {}),
        "flag": (f"/posts/{theirs.id}/flag", {"reason": "Off topic"}),
        "room message": (f"{r}/messages", {"body": "In the room"}),
        "room endorse": (f"{r}/messages/{their_message.id}/endorsement", {}),
        "room delete": (f"{r}/messages/{my_message.id}/delete", {}),
        "raise hand": (f"/events/{event.id}/rooms/{room.id}/hand", {"action": "raise"}),
        "lower hand": (f"/events/{event.id}/rooms/{room.id}/hand", {"action": "lower"}),
    }
    neighbour_client = app.test_client()
    login(neighbour_client, neighbour)
    return SimpleNamespace(app=app, client=client, neighbour_client=neighbour_client, room=room, urls=urls,
                           user=user, their_message=their_message,
                           row_counts=row_counts, post=lambda name: client.post(urls[name][0], data=urls[name][1]))


WRITES = ["response", "reply", "edit", "endorse", "withdraw", "delete", "flag", "room message", "room endorse",
          "room delete", "raise hand", "lower hand"]


@pytest.mark.parametrize("write", WRITES)
def test_every_write_counts_against_the_posting_allowance(writer, write):
    assert writer.post("response").status_code == 302
    assert writer.post("room message").status_code == 302  # the allowance is spent
    before = writer.row_counts()

    assert_rate_limited(writer.post(write), 60)

    assert writer.row_counts() == before


def test_api_writes_share_the_allowance_with_every_form_write(writer, db):
    """Over the JSON API (a token of the same account): counted in the same allowance, refused
    429 with Retry-After as JSON, nothing stored."""
    from forum.services import api_tokens

    secret = api_tokens.create_token(writer.user, name="script", scope="write", days=7).secret
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    api = f"/api/v1/rooms/{writer.room.id}/messages"
    assert writer.client.post(api, headers=headers, json={"body": "By the API"}).status_code == 201
    assert writer.post("room message").status_code == 302  # the allowance is spent
    before = writer.row_counts()

    for method, path, body in (("POST", api, {"body": "One too many"}),
                               ("PUT", f"{api}/{writer.their_message.id}/endorsement", None)):
        refused = writer.client.open(path, method=method, headers=headers, json=body)
        assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
        assert refused.get_json()["error"]["code"] == "rate_limited"
    assert writer.row_counts() == before


@pytest.mark.parametrize("write", ["edit", "endorse", "raise hand"])
def test_repeated_writes_of_one_kind_are_limited_too(writer, write):
    first, second = writer.post(write), writer.post(write)
    assert (first.status_code, second.status_code) == (302, 302)
    before = writer.row_counts()

    assert_rate_limited(writer.post(write), 60)

    assert writer.row_counts() == before


def test_socket_posts_share_the_allowance_with_every_form_write(writer, connect_to):
    stream = f"room:{writer.room.id}"
    socket, watcher = connect_to(writer.app, writer.client), connect_to(writer.app, writer.neighbour_client)
    assert socket.emit("join", {"stream": stream}, callback=True)["ok"] is True
    assert watcher.emit("join", {"stream": stream}, callback=True)["ok"] is True
    watcher.get_received()
    assert writer.post("edit").status_code == 302
    assert writer.post("endorse").status_code == 302
    before = writer.row_counts()

    refused = socket.emit("post", {"stream": stream, "body": "One too many."}, callback=True)

    assert refused["ok"] is False
    assert refused["error"]["code"] == 429 and 0 < refused["error"]["retry_after"] <= 60
    assert refused["error"]["message"] == TOO_OFTEN
    assert writer.row_counts() == before
    assert [m for m in watcher.get_received() if m["name"] == "event"] == []


@pytest.fixture
def connect_to():
    from forum.extensions import socketio

    made = []

    def _connect(app, http_client=None):
        socket = socketio.test_client(app, flask_test_client=http_client)
        made.append(socket)
        return socket

    yield _connect
    for socket in made:
        if socket.is_connected():
            socket.disconnect()


def counts_writes(view) -> bool:
    """A view marked `counts_as_write`: itself (a function, or a class view through its
    `decorators`), or, for an API resource (a class), every method of it that writes."""
    from forum.ratelimits import WRITING_METHODS

    resource = getattr(view, "view_class", None)
    if resource is None or getattr(view, "counts_as_write", False):  # a function, or a class's `decorators`
        return getattr(view, "counts_as_write", False)
    writing = [getattr(resource, method.lower()) for method in WRITING_METHODS if method in resource.methods]
    return bool(writing) and all(getattr(method, "counts_as_write", False) for method in writing)


def test_every_form_write_is_either_counted_or_named_as_exempt(app):
    """A new POST route (or, in the JSON API, PUT, PATCH or DELETE) must be put under the
    writing allowance or listed here, with why."""
    exempt = {
        # Own limits (failed log-ins, registrations, reset requests), or no stored write.
        "auth.login", "auth.register", "auth.forgot_password", "auth.reset_password", "auth.logout",
        "main.set_language",
        # A signed unsubscribe link: idempotent, and mail providers' servers POST the one-click
        # unsubscribes (RFC 8058) of many people from one address.
        "auth.unsubscribe",
        # Organisers' and moderators' tools: they may need many actions quickly (clearing
        # spam, running a session), and the people the site trusts with them use them.
        "admin.roles", "consultations.create", "consultations.edit", "consultations.change_status",
        "consultations.topic_form", "consultations.host_form", "consultations.arrange", "events.create",
        "events.edit", "events.change_status", "events.regenerate_invite", "rooms.form",
        "rooms.remove", "rooms.appoint_moderator", "rooms.remove_moderator", "events.move_member",
        "events.balance", "events.broadcast", "events.recall", "rooms.set_phase", "rooms.give_floor",
        "rooms.add_takeaway", "rooms.edit_takeaway", "rooms.delete_takeaway", "moderation.restore",
        "moderation.pin", "moderation.unpin", "moderation.lock", "moderation.unlock", "moderation.approve",
        "moderation.dismiss_flags", "moderation.hide", "moderation.reject", "moderation.move",
        "rooms.settings",
        "rooms.mute", "rooms.unmute",
        "rooms.invite",
        # The statements board's organisers (settings, opening, seed statements) and moderators.
        "opinion.settings", "opinion.change_status", "opinion.seed", "opinion.moderate",
        "polls.new_in_consultation", "rooms.new_poll", "polls.edit", "polls.manage", "polls.delete",
        # The plenary's Q&A: its moderators' actions (asking and voting are counted).
        "rooms.moderate_question", "rooms.question_settings",
        # Reading one's notifications (one, or all): nothing is written that anyone else sees.
        "notifications.read", "notifications.read_all",
        # Pre-event input: the organisers' questions and the moderators' pinning (answering
        # and endorsing are counted).
        "preevent.add_question", "preevent.remove_question", "preevent.pin",
        # The API's moderators' tools on consultation posts, as their pages above.
        "api_posts.hidden", "api_posts.pinned", "api_posts.locked", "api_posts.dismiss_flags", "api_posts.move",
        # The JSON API: a room's moderators' tools, as their pages above (forum/api/rooms.py,
        # forum/api/messages.py).
        "api_rooms.set_phase", "api_rooms.change_settings", "api_rooms.Mutes", "api_rooms.unmute",
        "api_rooms.Takeaways", "api_rooms.OneTakeaway", "api_messages.Hidden", "api_messages.Pinned",
        "api_messages.approve", "api_messages.reject",
    }
    # The pages write with POST; the API also with PUT, PATCH and DELETE.
    writes = {rule.endpoint for rule in app.url_map.iter_rules()
              if {"POST", "PUT", "PATCH", "DELETE"} & (rule.methods or set())}
    counted = {endpoint for endpoint in writes if counts_writes(app.view_functions[endpoint])}
    assert writes - counted - exempt == set(), "writing routes neither counted nor exempt"
    assert counted & exempt == set()
    assert {"posts.create", "posts.reply", "posts.edit", "posts.delete", "posts.endorsement", "rooms.create",
            "rooms.endorsement", "rooms.delete", "moderation.flag", "rooms.hand", "events.register",
            "events.join", "rooms.choose", "auth.profile", "auth.change_password", "polls.vote"} <= counted
    assert {"opinion.vote", "opinion.submit"} <= counted  # the statements board's votes and statements
    assert {"rooms.ask_question", "rooms.vote_question"} <= counted  # the plenary's Q&A
    assert {"preevent.answer", "preevent.endorsement"} <= counted  # pre-event input
    # The API's writes on posts: responding (consultation_posts), editing and deleting (post),
    # endorsing and withdrawing (endorsement), replying and reporting.
    assert {"api_posts.consultation_posts", "api_posts.post", "api_posts.endorsement", "api_posts.reply",
            "api_posts.flag"} <= counted
    # The JSON API's participant writes in rooms: room messages, agreeing, votes, the plenary's Q&A.
    assert {"api_messages.RoomMessages", "api_messages.RoomMessage", "api_messages.Endorsement", "api_polls.vote",
            "api_questions.Questions", "api_questions.QuestionVote"} <= counted


def test_while_the_shared_counters_are_unreachable_each_process_counts_in_memory(writer, monkeypatch, caplog):
    from limits.storage import MemoryStorage
    from limits.strategies import FixedWindowRateLimiter

    import forum.ratelimits
    from forum.extensions import limiter

    class Unreachable:
        def __getattr__(self, name):
            raise ConnectionError("Redis is down")

    monkeypatch.setattr(forum.ratelimits, "_fallback", FixedWindowRateLimiter(MemoryStorage()))
    monkeypatch.setattr(type(limiter), "limiter", property(lambda self: Unreachable()))

    assert [writer.post("edit").status_code, writer.post("endorse").status_code] == [302, 302]
    assert_rate_limited(writer.post("raise hand"), 60)
    assert "rate-limit counters unavailable, counting in memory" in caplog.text
