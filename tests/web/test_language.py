"""The language switcher: the page's language, remembered for the account."""
from __future__ import annotations

from tests.factories import login
from tests.web.page import parse


def html_lang(page) -> str:
    return page.one("html").get("lang")


def nav_texts(page) -> list[str]:
    return [a.text() for a in page.one("nav", class_="site-nav").find_all("a")]


def test_visitors_start_in_english_or_in_their_browsers_language(client):
    page = parse(client.get("/"))
    assert html_lang(page) == "en"
    assert page.one("h1").text() == "Consultations"
    italian = parse(client.get("/", headers={"Accept-Language": "it-IT,it;q=0.9,en;q=0.5"}))
    assert html_lang(italian) == "it"


def test_choosing_italian_changes_the_page(client):
    response = client.post("/language", data={"language": "it", "next": "/?phase=open"})

    assert response.status_code == 302
    assert response.headers["Location"] == "/?phase=open"
    page = parse(client.get("/"))
    assert html_lang(page) == "it"
    assert page.one("h1").text() == "Consultazioni"
    assert "Accedi" in nav_texts(page)
    assert page.control("language").value() == "it"


def test_the_switcher_sends_you_back_to_the_page_you_were_on(client, make_consultation):
    consultation = make_consultation()
    page = parse(client.get(f"/consultations/{consultation.id}?sort=oldest"))
    next_field = page.one("form", class_="language-switcher").control("next").value()
    response = client.post("/language", data={"language": "it", "next": next_field})
    assert response.headers["Location"] == f"/consultations/{consultation.id}?sort=oldest"
    assert "Argomento 1" in parse(client.get(response.headers["Location"])).one("ol", class_="topic-list").text()


def test_the_switcher_never_sends_you_to_another_site(client):
    for target in ("//evil.example", "https://evil.example/", ""):
        response = client.post("/language", data={"language": "it", "next": target})
        assert response.headers["Location"] == "/"


def test_an_unknown_language_is_refused(client):
    response = client.post("/language", data={"language": "xx", "next": "/"})
    assert response.status_code == 400
    assert client.post("/language", data={"next": "/"}).status_code == 400
    assert html_lang(parse(client.get("/"))) == "en"


def test_a_members_choice_is_stored_on_the_account_and_survives_a_new_login(app, client, make_user, reload):
    user = make_user(preferred_language="en")
    login(client, user)

    client.post("/language", data={"language": "it", "next": "/"})

    assert reload(user).preferred_language == "it"
    elsewhere = app.test_client()  # another browser: no language in its session
    assert html_lang(parse(elsewhere.get("/"))) == "en"
    login(elsewhere, user)
    page = parse(elsewhere.get("/"))
    assert html_lang(page) == "it"
    assert page.one("h1").text() == "Consultazioni"


def test_the_account_language_wins_over_the_browsers(client, make_user):
    login(client, make_user(preferred_language="it"))
    assert html_lang(parse(client.get("/", headers={"Accept-Language": "en"}))) == "it"


def test_error_pages_are_translated_too(client):
    client.post("/language", data={"language": "it", "next": "/"})
    page = parse(client.get("/consultations/999999"))
    assert html_lang(page) == "it"
    assert page.one("h1").text() == "La pagina non esiste oppure non si dispone dell'autorizzazione per visualizzarla."
