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
