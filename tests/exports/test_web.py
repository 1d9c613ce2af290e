"""The exports over HTTP: the downloads (type, file name, body), who gets which export (a
participant none, a co-moderator their room, a topic moderator their topic), bad URLs, the
public summary page (privacy: no hidden text, no name of someone who chose not to be named),
and the links that lead to the exports."""
from __future__ import annotations

import csv
import io
import json
import re
from types import SimpleNamespace

import pytest

from forum.models import Moderator
from forum.models.consultations import ConsultationStatus
from forum.services import moderation
from forum.services import posts as post_service
from tests.factories import login

FORMATS = ("md", "pdf", "csv", "json", "html")
MIMETYPES = {"md": "text/markdown", "pdf": "application/pdf", "csv": "text/csv", "json": "application/json",
             "html": "text/html"}
HIDDEN_TEXT = "Zanzibarquux is a word only the hidden post contains."
QUIET_NAME = "Quentin Quietname"
QUIET_ORGANISATION = "Discreet Foundation"


@pytest.fixture
def place(db, make_user, make_consultation, make_post):
    """A public open consultation with two topics (accents in its title): an endorsed post by
    someone named, an endorsed one by someone who chose not to be named, a reply, a hidden
    post; a participant and a co-moderator of topic 1."""
    owner = make_user("organiser", display_name="Olga Organiser")
    consultation = make_consultation(owner, title="Accueil des réfugiés à Zürich", topics=2)
    topic1, topic2 = consultation.topics
    named = make_user(display_name="Ana Alves", organisation="Casa Aperta")
    quiet = make_user(display_name=QUIET_NAME, organisation=QUIET_ORGANISATION, country="FR",
                      organisation_type="research")
    quiet.named_in_reports = False
    participant = make_user()
    endorser = make_user()
    first = make_post(named, consultation=consultation, topic=topic1,
                      body="Affordable housing is the first barrier for newcomers in our city.")
    reply = make_post(participant, parent=first, body="Deposit guarantees would help a great deal.")
    second = make_post(quiet, consultation=consultation, topic=topic1,
                       body="Language courses at work help newcomers find their feet quickly.")
    other = make_post(participant, consultation=consultation, topic=topic2,
                      body="Recognition of diplomas takes far too long for newcomers.")
    for post in (first, second):
        post_service.endorse(endorser, post)
    hidden = make_post(participant, consultation=consultation, topic=topic1, body=HIDDEN_TEXT)
    moderation.hide_post(owner, hidden, "Off topic")
    topic_moderator = make_user()
    db.session.add(Moderator(user_id=topic_moderator.id, topic_id=topic1.id))
    db.session.flush()
    return SimpleNamespace(consultation=consultation, topic1=topic1, topic2=topic2, owner=owner, named=named,
                           quiet=quiet, participant=participant, first=first, reply=reply, second=second,
                           other=other, hidden=hidden, topic_moderator=topic_moderator,
                           posts=[first, reply, second, other, hidden])


@pytest.fixture
def event(db, make_event):
    """A published event, two breakout rooms with one co-moderator each, a message per room
    (by its participant) and one in the plenary."""
    event = make_event(rooms=2, moderators=1, participants=2)
    room1, room2 = event.breakout_rooms
    p1, p2 = event.test_participants
    event.test_messages = {
        room1.id: post_service.post_in_room(p1, room1, body="A message of room one"),
        room2.id: post_service.post_in_room(p2, room2, body="A message of room two"),
        event.plenary.id: post_service.post_in_room(p1, event.plenary, body="A message of the plenary"),
    }
    return event


def client_for(app, user=None):
    client = app.test_client()
    if user is not None:
        login(client, user)
    return client


REPORT_FORMATS = ("md", "pdf", "html", "docx")


def get_export(client, url: str):
    """GET a data file; for a report format, ask for the report (POST), follow its status
    page and download the file the job (inline in tests) built."""
    base, _, fmt = url.partition(".")
    if fmt not in REPORT_FORMATS:
        return client.get(url)
    asked = client.post(f"{base}/reports", data={"format": fmt})
    assert asked.status_code == 303, asked.status_code
    status = client.get(asked.headers["Location"])
    assert status.status_code == 200
    download = re.search(r'href="(/reports/\d+/download)"', status.get_data(as_text=True))
    assert download, status.get_data(as_text=True)
    response = client.get(download.group(1))
    response.get_data()  # buffered, then the stored file closed
    response.close()
    return response


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# --- The downloads --------------------------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_downloads_for_the_organiser(app, place, fmt):
    consultation = place.consultation
    response = get_export(client_for(app, place.owner), f"/exports/consultation/{consultation.id}.{fmt}")

    assert response.status_code == 200
    assert response.mimetype == MIMETYPES[fmt]
    if fmt not in ("pdf", "json"):
        assert response.mimetype_params.get("charset") == "utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.isascii()
    assert disposition == (f'attachment; filename="plenary-consultation-{consultation.id}-'
                           f'accueil-des-refugies-a-zurich.{fmt}"')
    assert "no-store" in response.headers["Cache-Control"]

    body = response.get_data()
    if fmt == "md":
        text = body.decode()
        assert text.startswith("# ")
        assert text.splitlines()[0] == "# Accueil des réfugiés à Zürich"
    elif fmt == "pdf":
        pytest.importorskip("weasyprint")
        assert body.startswith(b"%PDF")
    elif fmt == "csv":
        text = body.decode()
        assert not text.startswith("\ufeff")
        rows = csv_rows(text)
        # The moderators' export: every post, the hidden one marked hidden.
        assert sorted(int(row["post_id"]) for row in rows) == sorted(p.id for p in place.posts)
        states = {int(row["post_id"]): row["state"] for row in rows}
        assert states[place.hidden.id] == "hidden"
        assert states[place.first.id] == "published"
    elif fmt == "json":
        document = json.loads(body)
        assert document["export"]["scope"] == {"kind": "consultation", "id": consultation.id,
                                               "title": consultation.title}
        assert sorted(post["post_id"] for post in document["posts"]) == sorted(p.id for p in place.posts)
    else:
        text = body.decode()
        assert text.lstrip().lower().startswith("<!doctype html>")
        assert "<style" in text
        assert "Accueil des réfugiés à Zürich" in text


def test_the_csv_starts_with_a_bom_only_when_asked(app, place):
    client = client_for(app, place.owner)
    url = f"/exports/consultation/{place.consultation.id}.csv"
    plain = client.get(url).get_data(as_text=True)
    with_bom = client.get(url + "?bom=1").get_data(as_text=True)

    assert not plain.startswith("\ufeff")
    assert with_bom.startswith("\ufeff")
    assert csv_rows(with_bom[1:]) == csv_rows(plain)


@pytest.mark.parametrize("fmt", ("md", "csv", "json"))
def test_the_event_downloads_for_its_organiser(app, event, fmt):
    response = get_export(client_for(app, event.owner), f"/exports/event/{event.id}.{fmt}")

    assert response.status_code == 200
    assert response.mimetype == MIMETYPES[fmt]
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="plenary-event-{event.id}-')
    text = response.get_data(as_text=True)
    if fmt == "md":  # the report: a section per room (too little was written to quote anything)
        assert text.startswith(f"# {event.title}\n")
        assert "| Posts | 3 |" in text
        for room in event.rooms:
            assert f"\n## {room.title}\n" in text
    else:
        for message in event.test_messages.values():
            assert message.body in text


# --- Who gets which export ------------------------------------------------------------

def consultation_urls(place) -> list[str]:
    thread = place.first.id
    urls = [f"/exports/{kind}/{object_id}" for kind, object_id in (
        ("consultation", place.consultation.id), ("topic", place.topic1.id), ("topic", place.topic2.id),
        ("thread", thread))]
    return [url + suffix for url in urls for suffix in ("", *(f".{fmt}" for fmt in FORMATS))]


def event_urls(event) -> list[str]:
    room1, room2 = event.breakout_rooms
    urls = [f"/exports/{kind}/{object_id}" for kind, object_id in (
        ("event", event.id), ("room", room1.id), ("room", room2.id), ("room", event.plenary.id),
        ("thread", event.test_messages[room1.id].id))]
    return [url + suffix for url in urls for suffix in ("", *(f".{fmt}" for fmt in FORMATS))]


def test_a_participant_gets_no_export(app, place, event):
    """Not even of what they wrote or of the room they are in: every export route says 404."""
    client = client_for(app, place.participant)
    room_participant = client_for(app, event.test_participants[0])

    assert {url: client.get(url).status_code for url in consultation_urls(place)} == dict.fromkeys(
        consultation_urls(place), 404)
    assert {url: room_participant.get(url).status_code for url in event_urls(event)} == dict.fromkeys(
        event_urls(event), 404)


def test_anonymous_visitors_are_sent_to_log_in(app, place, event):
    client = client_for(app)
    for url in consultation_urls(place)[:2] + event_urls(event)[:2]:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_a_co_moderator_gets_their_room_only(app, event):
    room1, room2 = event.breakout_rooms
    client = client_for(app, event.test_moderators[1][0])

    assert client.get(f"/exports/room/{room1.id}").status_code == 200
    response = client.get(f"/exports/room/{room1.id}.csv")
    assert response.status_code == 200
    bodies = [row["body_text"] for row in csv_rows(response.get_data(as_text=True))]
    assert bodies == ["A message of room one"]
    for url in (f"/exports/room/{room2.id}.csv", f"/exports/room/{room2.id}",
                f"/exports/room/{event.plenary.id}.csv", f"/exports/event/{event.id}.csv",
                f"/exports/event/{event.id}", f"/exports/thread/{event.test_messages[room2.id].id}.csv"):
        assert client.get(url).status_code == 404, url


def test_a_topic_moderator_gets_their_topic_only(app, place):
    client = client_for(app, place.topic_moderator)

    response = client.get(f"/exports/topic/{place.topic1.id}.csv")
    assert response.status_code == 200
    assert {int(row["post_id"]) for row in csv_rows(response.get_data(as_text=True))} == {
        place.first.id, place.reply.id, place.second.id, place.hidden.id}
    assert client.get(f"/exports/topic/{place.topic1.id}").status_code == 200
    for url in (f"/exports/topic/{place.topic2.id}.csv", f"/exports/topic/{place.topic2.id}",
                f"/exports/consultation/{place.consultation.id}.csv",
                f"/exports/consultation/{place.consultation.id}", f"/exports/thread/{place.other.id}.csv"):
        assert client.get(url).status_code == 404, url


def test_a_topic_moderator_gets_nothing_of_a_draft(db, app, make_user, make_consultation):
    """can_export_topic says yes, but the draft itself is closed to them."""
    consultation = make_consultation(status="draft")
    moderator = make_user()
    db.session.add(Moderator(user_id=moderator.id, topic_id=consultation.topics[0].id))
    db.session.flush()
    assert consultation.status is ConsultationStatus.DRAFT

    assert client_for(app, moderator).get(f"/exports/topic/{consultation.topics[0].id}.csv").status_code == 404
    assert client_for(app, consultation.owner).get(
        f"/exports/topic/{consultation.topics[0].id}.csv").status_code == 200


def test_a_moderator_exports_a_thread(app, place, event):
    client = client_for(app, place.topic_moderator)
    for post in (place.first, place.reply):  # a reply names its thread
        response = client.get(f"/exports/thread/{post.id}.csv")
        assert response.status_code == 200
        assert response.headers["Content-Disposition"].startswith(
            f'attachment; filename="plenary-thread-{place.first.id}-')
        assert [int(row["post_id"]) for row in csv_rows(response.get_data(as_text=True))] == [
            place.first.id, place.reply.id]
    markdown = get_export(client, f"/exports/thread/{place.first.id}.md").get_data(as_text=True)
    assert markdown.startswith("# ")
    assert "Deposit guarantees" in markdown

    room1 = event.breakout_rooms[0]
    response = client_for(app, event.test_moderators[1][0]).get(
        f"/exports/thread/{event.test_messages[room1.id].id}.json")
    assert response.status_code == 200
    assert [post["body_text"] for post in json.loads(response.get_data())["posts"]] == ["A message of room one"]


@pytest.mark.parametrize("url", [
    "/exports/forum/{id}", "/exports/forum/{id}.csv", "/exports/Consultation/{id}.csv",
    "/exports/consultation/{id}.xlsx", "/exports/consultation/{id}.CSV", "/exports/consultation/{id}.",
    "/exports/consultation/{id}.csv.csv",
])
def test_unknown_kinds_and_formats_are_not_found(app, place, url):
    assert client_for(app, place.owner).get(url.format(id=place.consultation.id)).status_code == 404


@pytest.mark.parametrize("object_id", [0, 2**31, 2**63, 10**30])
@pytest.mark.parametrize("kind", ["consultation", "topic", "thread", "event", "room"])
def test_ids_that_name_nothing_are_not_found(app, make_user, kind, object_id):
    client = client_for(app, make_user("admin"))
    assert client.get(f"/exports/{kind}/{object_id}").status_code == 404
    assert client.get(f"/exports/{kind}/{object_id}.csv").status_code == 404


@pytest.mark.parametrize("object_id", [0, 2**31, 10**30])
def test_the_summary_of_an_id_that_names_nothing_is_not_found(app, object_id):
    assert client_for(app).get(f"/consultations/{object_id}/summary").status_code == 404


# --- The public summary page ------------------------------------------------------------

def _summary(client, url: str):
    """The summary page once built: the first visit finds none yet (a job builds it, inline
    here, after the request) and says so; the next one shows it."""
    first = client.get(url)
    if first.status_code != 200 or "being prepared" not in first.get_data(as_text=True):
        return first
    assert first.headers["Cache-Control"] == "private, no-store"  # the waiting page is nobody's copy
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in first.get_data(as_text=True)
    return client.get(url)


@pytest.mark.parametrize("status", ["open", "closed"])
def test_the_summary_of_a_public_consultation_is_for_everyone(app, place, status):
    consultation = place.consultation
    if status == "closed":
        from forum.services import consultations as consultation_service

        consultation_service.set_status(place.owner, consultation, "closed")

    response = _summary(client_for(app), f"/consultations/{consultation.id}/summary")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Accueil des réfugiés à Zürich" in page
    assert "Affordable housing is the first barrier" in page  # the named person's endorsed post
    assert "Ana Alves" in page
    assert "Participant (FR, " in page  # the quiet one's endorsed post, labelled


def test_the_summary_leaves_out_hidden_posts_and_unnamed_people(app, place):
    for user in (None, place.participant, place.owner):
        page = _summary(client_for(app, user), f"/consultations/{place.consultation.id}/summary").get_data(
            as_text=True)
        assert "Language courses at work" in page
        assert "Zanzibarquux" not in page
        assert QUIET_NAME not in page
        assert QUIET_ORGANISATION not in page


def test_the_summary_of_a_members_only_consultation_is_not_public(app, make_user, make_consultation, make_post):
    consultation = make_consultation(visibility="members")
    make_post(consultation=consultation)
    url = f"/consultations/{consultation.id}/summary"

    assert client_for(app).get(url).status_code == 404
    assert client_for(app, make_user()).get(url).status_code == 404
    assert client_for(app, consultation.owner).get(url).status_code == 200


def test_the_summary_is_built_off_the_request_and_refreshed_by_a_job(app, db, place, make_post, make_user,
                                                                     monkeypatch):
    from forum.exports import report as report_export
    from forum.services import posts

    built = []
    real = report_export.build_report
    monkeypatch.setattr(report_export, "build_report", lambda *a, **k: built.append(1) or real(*a, **k))
    client, url = client_for(app), f"/consultations/{place.consultation.id}/summary"
    assert "being prepared" in client.get(url).get_data(as_text=True)
    assert len(built) == 1  # by the job, after the request had answered
    for _ in range(3):  # fresh: read, never built again
        assert "Language courses at work" in client.get(url).get_data(as_text=True)
    assert len(built) == 1
    late = make_post(place.participant, consultation=place.consultation, body="Quixotically late words.")
    for endorser in (place.owner, *[make_user() for _ in range(4)]):
        posts.endorse(endorser, late)  # the most endorsed post: the summary quotes it
    db.session.commit()
    app.config["SUMMARY_REFRESH_SECONDS"] = 0
    stale = client.get(url).get_data(as_text=True)
    assert "Language courses at work" in stale and "Quixotically" not in stale  # the last one, while...
    assert len(built) == 2  # ...the next is built
    assert "Quixotically" in client.get(url).get_data(as_text=True)


def test_there_is_no_summary_of_a_draft(app, make_user, make_consultation):
    consultation = make_consultation(status="draft")
    url = f"/consultations/{consultation.id}/summary"

    assert client_for(app).get(url).status_code == 404
    assert client_for(app, make_user()).get(url).status_code == 404


# --- The links --------------------------------------------------------------------------

def hrefs(page: str) -> set[str]:
    return {href.replace("&amp;", "&") for href in re.findall(r'href="([^"]+)"', page)}


@pytest.mark.parametrize("kind", ["consultation", "topic", "thread"])
def test_the_export_page_links_every_format(app, place, kind):
    object_id = {"consultation": place.consultation.id, "topic": place.topic1.id, "thread": place.first.id}[kind]
    response = client_for(app, place.owner).get(f"/exports/{kind}/{object_id}")

    assert response.status_code == 200
    links = hrefs(response.get_data(as_text=True))
    base = f"/exports/{kind}/{object_id}"
    assert {f"{base}.{fmt}" for fmt in ("csv", "json")} | {f"{base}.csv?bom=1"} <= links
    # the report's formats are asked for with a form (a job builds the file)
    page = response.get_data(as_text=True)
    assert f'action="{base}/reports"' in page
    for fmt in REPORT_FORMATS:
        assert f'name="format" value="{fmt}"' in page
    # and each of them answers
    client = client_for(app, place.owner)
    for fmt in ("md", "csv", "json", "html"):
        assert get_export(client, f"{base}.{fmt}").status_code == 200


def test_the_consultation_page_shows_export_links_to_the_organiser_only(app, place):
    consultation = place.consultation
    url = f"/consultations/{consultation.id}"

    organiser_links = hrefs(client_for(app, place.owner).get(url).get_data(as_text=True))
    assert f"/exports/consultation/{consultation.id}" in organiser_links
    assert {f"/exports/topic/{place.topic1.id}", f"/exports/topic/{place.topic2.id}"} <= organiser_links

    participant_page = client_for(app, place.participant).get(url).get_data(as_text=True)
    assert "/exports/" not in participant_page
    assert f"/consultations/{consultation.id}/summary" in hrefs(participant_page)

    moderator_links = hrefs(client_for(app, place.topic_moderator).get(url).get_data(as_text=True))
    assert f"/exports/topic/{place.topic1.id}" in moderator_links
    assert not {f"/exports/consultation/{consultation.id}", f"/exports/topic/{place.topic2.id}"} & moderator_links


def test_the_event_page_shows_the_export_link_to_the_organiser_only(app, event):
    url = f"/events/{event.id}"
    assert f"/exports/event/{event.id}" in hrefs(client_for(app, event.owner).get(url).get_data(as_text=True))
    for user in (event.test_participants[0], event.test_moderators[1][0]):
        assert f"/exports/event/{event.id}" not in client_for(app, user).get(url).get_data(as_text=True)


@pytest.mark.parametrize("title, expected", [
    ("Accueil des réfugiés à Zürich", "accueil-des-refugies-a-zurich"),
    # Cut after the last whole word that fits in 60 characters, never inside one.
    ("How should regions share one housing waiting list across municipalities and provinces?",
     "how-should-regions-share-one-housing-waiting-list-across"),
    ("Integrazione: lavoro, casa e scuola — che cosa funziona davvero nelle città italiane?",
     "integrazione-lavoro-casa-e-scuola-che-cosa-funziona-davvero"),
    ("x" * 80, "x" * 60),  # one word longer than the limit: cut, there is no boundary
    ("¿¡ — !?", "export"),
    ("Право на жильё", "export"),
])
def test_file_names_keep_whole_words_in_ascii(title, expected):
    from forum.web.exports import slug

    name = slug(title)
    assert name == expected
    assert len(name) <= 60 and name.isascii() and re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)


def test_a_long_titles_download_is_named_with_whole_words(app, place, db):
    place.consultation.title = "How should regions share one housing waiting list across municipalities and provinces?"
    db.session.flush()
    response = get_export(client_for(app, place.owner), f"/exports/consultation/{place.consultation.id}.md")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="plenary-consultation-{place.consultation.id}-'
        'how-should-regions-share-one-housing-waiting-list-across.md"')
