from forum.services import mentions


def test_a_handle_is_made_from_the_display_name():
    assert mentions.handle_base("Márta Kovács-Nagy") == "marta.kovacs-nagy"
    assert mentions.handle_base("  Jean  O'Neil ") == "jean.o.neil"
    assert mentions.handle_base("Ελένη") == "user"
    assert mentions.handle_base("x") == "user"
    assert len(mentions.handle_base("a" * 80)) <= mentions.HANDLE_MAX - 4


def test_a_taken_handle_gets_the_lowest_free_number():
    taken = {"anna.rossi", "anna.rossi2"}
    assert mentions.unique_handle("Anna Rossi", taken.__contains__) == "anna.rossi3"
    assert mentions.unique_handle("Bruno", taken.__contains__) == "bruno"


def test_registration_gives_distinct_handles(make_user):
    first = make_user(display_name="Anna Rossi")
    second = make_user(display_name="Anna  Rossi")
    assert first.handle == "anna.rossi"
    assert second.handle == "anna.rossi2"


def test_mentions_are_found_in_text_but_not_in_addresses():
    text = "Thanks @Anna.Rossi and @bruno. Write to anna@example.org or see x.com/@carla; @anna.rossi again"
    assert mentions.mentioned_handles(text) == ["anna.rossi", "bruno"]
    assert mentions.mentioned_handles("@a") == ["a"]
    assert mentions.mentioned_handles("") == []


def test_mentioned_users_are_the_accounts_named(make_user):
    anna = make_user(display_name="Anna Rossi")
    bruno = make_user(display_name="Bruno")
    assert mentions.mentioned_users(f"@{bruno.handle} and @{anna.handle} and @nobody.here") == [bruno, anna]


# --- Handles edited in the profile ---------------------------------------------------------

import pytest  # noqa: E402

from forum.services.errors import ValidationError  # noqa: E402


@pytest.mark.parametrize(("typed", "handle"), [
    ("anna.rossi", "anna.rossi"), ("@Anna.Rossi", "anna.rossi"), ("  ANNA_r-2 ", "anna_r-2"), ("a1", "a1"),
])
def test_a_typed_handle_is_cleaned(typed, handle):
    assert mentions.check_handle(typed) == handle


@pytest.mark.parametrize(("typed", "message"), [
    ("", "Choose a handle"),
    ("@", "Choose a handle"),
    ("a", '"a" cannot be a handle: use 2 to 30 letters'),
    ("anna rossi", '"anna rossi" cannot be a handle'),
    (".anna", '".anna" cannot be a handle'),
    ("anna.", '"anna." cannot be a handle'),
    ("ánna", '"ánna" cannot be a handle'),
    ("x" * 31, "cannot be a handle"),
    ("12345", '"12345" cannot be a handle: it needs at least one letter.'),
    ("Everyone", '"Everyone" is reserved'),
    ("@mentionable", '"@mentionable" is reserved'),
    ("anna\x00", "invalid characters"),
    ("<script>", '"<script>" cannot be a handle'),
])
def test_a_bad_handle_is_refused_saying_what_was_typed(typed, message):
    with pytest.raises(ValidationError) as refused:
        mentions.check_handle(typed)
    assert refused.value.field == "handle"
    assert message in str(refused.value.message)


def test_a_handle_is_unique_whatever_its_case(make_user):
    anna, bruno = make_user(display_name="Anna Rossi"), make_user(display_name="Bruno")
    with pytest.raises(ValidationError) as refused:
        mentions.change_handle(bruno, "ANNA.Rossi")
    assert str(refused.value.message) == 'The handle "anna.rossi" is taken: choose another.'
    assert bruno.handle == "bruno"
    mentions.change_handle(anna, "Anna.Rossi")  # her own, in another case: nothing changes
    mentions.change_handle(bruno, "@Bruno.B")
    assert (anna.handle, bruno.handle) == ("anna.rossi", "bruno.b")


def test_registration_never_gives_a_reserved_or_digits_only_handle(make_user):
    assert make_user(display_name="Admin").handle == "admin2"
    assert make_user(display_name="2024").handle == "user"
    assert mentions.handle_base("42") == "user"


# --- Rendering posts --------------------------------------------------------------------

def test_a_post_links_the_people_it_mentions_by_id(make_user, make_post):
    anna = make_user(display_name="Anna Rossi")
    post = make_post(body="Thanks @anna.rossi and @nobody.here, see `@anna.rossi`")
    assert post.body_html == (
        f'<p>Thanks <a class="mention" href="/people/{anna.id}" rel="nofollow ugc noopener">@anna.rossi</a> '
        "and @nobody.here, see <code>@anna.rossi</code></p>\n")


def test_an_edit_renders_the_mentions_again(make_user, make_post):
    from forum.services import posts as post_service

    anna, bruno = make_user(display_name="Anna Rossi"), make_user(display_name="Bruno")
    post = make_post(body="Hello @anna.rossi")
    post_service.edit_post(post.author, post, body="Hello @bruno")
    assert f'href="/people/{bruno.id}"' in post.body_html and f"/people/{anna.id}" not in post.body_html


def test_a_mention_keeps_pointing_at_the_person_after_a_handle_change(make_user, make_post):
    anna = make_user(display_name="Anna Rossi")
    post = make_post(body="Thanks @anna.rossi")
    mentions.change_handle(anna, "anna.r")
    newcomer = make_user(display_name="Anna Rossi")  # takes the freed handle
    assert newcomer.handle == "anna.rossi"
    assert f'href="/people/{anna.id}"' in post.body_html  # stored as written: still Anna
    assert f'href="/people/{newcomer.id}"' in make_post(body="Hi @anna.rossi").body_html


def test_a_room_message_and_an_announcement_link_mentions(make_user, make_event):
    from forum.services import posts as post_service
    from forum.services import rooms as room_service

    event = make_event(rooms=1, moderators=1, participants=1)
    [amina] = event.test_participants
    message = post_service.post_in_room(amina, event.breakout_rooms[0], body=f"@{event.owner.handle} hello")
    assert f'href="/people/{event.owner.id}"' in message.body_html
    [announced, *_] = room_service.broadcast(event.owner, event, f"Welcome @{amina.handle}")
    assert f'href="/people/{amina.id}"' in announced.body_html
