"""Organising over HTTP: create a draft, topics and hosts, open, close, reopen; who may."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from forum.models import Consultation, Topic
from forum.models.consultations import ConsultationStatus, Visibility
from tests.factories import login
from tests.web.page import error_message, flashes, parse

NEW = {"title": "How should cities welcome newcomers?", "brief": "Read **this**.", "tags": "#Housing #Work",
       "visibility": "public", "opens_at": "", "closes_at": ""}


def topic_titles(page) -> list[str]:
    return [li.one("strong").text() for li in page.one("section", id="topics").find_all("li")]


def status_button(page):
    return page.one("section", class_="status-panel").one("button")


@pytest.fixture
def organiser(client, make_user):
    user = make_user("organiser", timezone="Europe/Rome")
    login(client, user)
    return user


def test_an_organiser_creates_a_draft_and_builds_it_up(client, db, organiser):
    response = client.post("/consultations/new", data=NEW)

    assert response.status_code == 302
    consultation = db.session.scalar(select(Consultation))
    assert response.headers["Location"] == f"/consultations/{consultation.id}/edit"
    assert (consultation.title, consultation.status, consultation.owner_id) == (
        NEW["title"], ConsultationStatus.DRAFT, organiser.id)
    assert [t.name for t in consultation.tags] == ["Housing", "Work"]
    edit = parse(client.get(response.headers["Location"]))
    assert flashes(edit) == ["Consultation created as a draft. Add its topics and hosts, then open it."]
    assert status_button(edit).text() == "Open the consultation"
    base = f"/consultations/{consultation.id}"

    for title, questions in (("Housing", "Where?\nHow long?\n\n"), ("Work", "Who hires?"), ("Health", "")):
        answer = client.post(f"{base}/topics/new",
                             data={"title": title, "description": "", "guiding_questions": questions})
        assert answer.status_code == 302 and answer.headers["Location"] == f"{base}/edit#topics"
    answer = client.post(f"{base}/hosts/new", data={"name": "Dr. Host", "role": "Rapporteur",
                                                     "organisation": "City", "account_email": organiser.email})
    assert answer.status_code == 302 and answer.headers["Location"] == f"{base}/edit#hosts"

    edit = parse(client.get(f"{base}/edit"))
    assert topic_titles(edit) == ["Topic 1: Housing", "Topic 2: Work", "Topic 3: Health"]
    hosts = edit.one("section", id="hosts")
    assert "Dr. Host" in hosts.text() and "linked account" in hosts.text()

    page = parse(client.get(base))
    assert [q.text() for q in page.find_all("li", class_="topic")[0].find_all("li")] == ["Where?", "How long?"]
    assert page.one("ul", class_="host-list").one("strong").text() == "Dr. Host"


def test_topics_are_reordered_and_renumbered(client, db, organiser, make_consultation):
    consultation = make_consultation(owner=organiser, status="draft", topics=3)
    base = f"/consultations/{consultation.id}"
    first, second, third = (t.id for t in consultation.topics)

    assert client.post(f"{base}/topics/{third}/up").status_code == 302
    assert client.post(f"{base}/topics/{first}/down").status_code == 302

    db.session.expire_all()
    positions = dict(db.session.execute(
        select(Topic.id, Topic.position).where(Topic.consultation_id == consultation.id)).all())
    assert positions == {third: 1, first: 2, second: 3}
    assert topic_titles(parse(client.get(f"{base}/edit"))) == [
        "Topic 1: Topic 3 of consultation 1", "Topic 2: Topic 1 of consultation 1",
        "Topic 3: Topic 2 of consultation 1"]


def test_moving_the_first_topic_up_is_refused(client, organiser, make_consultation):
    consultation = make_consultation(owner=organiser, status="draft", topics=2)
    response = client.post(f"/consultations/{consultation.id}/topics/{consultation.topics[0].id}/up")
    assert response.status_code == 400
    assert error_message(parse(response)) == "It cannot move further in that direction."


def test_a_topic_without_responses_can_be_removed_and_the_rest_renumbered(client, db, organiser, make_consultation):
    consultation = make_consultation(owner=organiser, status="draft", topics=3)
    base = f"/consultations/{consultation.id}"
    doomed = consultation.topics[0].id

    response = client.post(f"{base}/topics/{doomed}/delete")

    assert response.status_code == 302
    assert flashes(parse(client.get(f"{base}/edit"))) == ["Removed."]
    db.session.expire_all()
    assert db.session.get(Topic, doomed) is None
    assert [(t.position, t.title) for t in db.session.get(Consultation, consultation.id).topics] == [
        (1, "Topic 2 of consultation 1"), (2, "Topic 3 of consultation 1")]


def test_a_topic_with_responses_cannot_be_removed(client, db, organiser, make_consultation, make_post):
    consultation = make_consultation(owner=organiser, topics=2)
    topic = consultation.topics[0]
    make_post(consultation=consultation, topic=topic)

    response = client.post(f"/consultations/{consultation.id}/topics/{topic.id}/delete")

    assert response.status_code == 400
    assert error_message(parse(response)) == "This topic already has responses, so it cannot be removed."
    db.session.expire_all()
    assert db.session.get(Topic, topic.id) is not None


def test_a_host_can_be_edited_reordered_and_removed(client, db, organiser, make_consultation):
    consultation = make_consultation(owner=organiser, status="draft", hosts=["First", "Second"])
    base = f"/consultations/{consultation.id}"
    first, second = (h.id for h in consultation.hosts)

    form = parse(client.get(f"{base}/hosts/{first}/edit"))
    assert form.control("name").value() == "First"
    assert client.post(f"{base}/hosts/{first}/edit", data={"name": "First, renamed", "role": "", "organisation": "",
                                                            "account_email": ""}).status_code == 302
    assert client.post(f"{base}/hosts/{second}/up").status_code == 302
    hosts = parse(client.get(f"{base}/edit")).one("section", id="hosts")
    names = [li.one("strong").text() for li in hosts.find_all("li")]
    assert names == ["Second", "First, renamed"]
    assert client.post(f"{base}/hosts/{first}/delete").status_code == 302
    shown = parse(client.get(base)).one("ul", class_="host-list").find_all("li")
    assert [li.one("strong").text() for li in shown] == ["Second"]


def test_a_host_with_an_unknown_account_email_is_refused_next_to_the_field(client, organiser, make_consultation):
    consultation = make_consultation(owner=organiser, status="draft")
    response = client.post(f"/consultations/{consultation.id}/hosts/new",
                           data={"name": "Someone", "account_email": "nobody@example.org"})
    assert response.status_code == 400
    page = parse(response)
    assert page.field_error("account_email") == "No account uses this email address."
    assert page.control("name").value() == "Someone"


def test_the_life_cycle_open_close_reopen(client, db, organiser):
    client.post("/consultations/new", data=NEW)
    consultation = db.session.scalar(select(Consultation))
    base = f"/consultations/{consultation.id}"

    refused = client.post(f"{base}/status", data={"status": "open"})
    assert refused.status_code == 400
    assert error_message(parse(refused)) == "Add at least one topic before opening the consultation."
    db.session.expire_all()
    assert db.session.get(Consultation, consultation.id).status is ConsultationStatus.DRAFT

    client.post(f"{base}/topics/new", data={"title": "Only topic"})
    client.get(f"{base}/edit")  # shows (and so clears) the "Topic saved." message
    for status, button in (("open", "Close the consultation"), ("closed", "Reopen the consultation"),
                           ("open", "Close the consultation")):
        response = client.post(f"{base}/status", data={"status": status})
        assert response.status_code == 302
        edit = parse(client.get(response.headers["Location"]))
        assert flashes(edit) == [f"Status of the consultation: {'Open' if status == 'open' else 'Closed'}."]
        assert status_button(edit).text() == button
        db.session.expire_all()
        assert db.session.get(Consultation, consultation.id).status.value == status


def test_a_status_change_that_is_not_allowed_is_refused(client, organiser, make_consultation):
    consultation = make_consultation(owner=organiser, status="draft")
    for status, message in (("closed", "A consultation cannot go from “Draft” to “Closed”."),
                            ("bogus", "Unknown status.")):
        response = client.post(f"/consultations/{consultation.id}/status", data={"status": status})
        assert response.status_code == 400
        assert error_message(parse(response)) == message


def test_datetime_local_inputs_are_in_the_organisers_time_zone(client, db, organiser):
    response = client.post("/consultations/new", data={
        **NEW, "opens_at": "2026-12-01T10:00", "closes_at": "2027-07-01T18:30"})

    assert response.status_code == 302
    consultation = db.session.scalar(select(Consultation))
    assert consultation.opens_at == datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)  # CET, UTC+1
    assert consultation.closes_at == datetime(2027, 7, 1, 16, 30, tzinfo=timezone.utc)  # CEST, UTC+2

    edit = parse(client.get(response.headers["Location"]))
    assert edit.control("opens_at").value() == "2026-12-01T10:00"
    assert edit.control("closes_at").value() == "2027-07-01T18:30"
    assert "Times are in your time zone (Europe/Rome)." in edit.text()


def test_a_closing_time_before_the_opening_time_is_refused_with_the_form_as_typed(client, db, organiser):
    response = client.post("/consultations/new", data={
        **NEW, "opens_at": "2026-12-02T10:00", "closes_at": "2026-12-01T10:00"})
    assert response.status_code == 400
    page = parse(response)
    assert page.field_error("closes_at") == "The closing time must be after the opening time."
    assert page.control("title").value() == NEW["title"]
    assert page.control("brief").value() == NEW["brief"]
    assert db.session.scalar(select(Consultation)) is None


def test_editing_the_settings(client, db, organiser, make_consultation):
    consultation = make_consultation(owner=organiser, tags="#Old")
    form = parse(client.get(f"/consultations/{consultation.id}/edit"))
    assert form.control("tags").value() == "#Old"
    response = client.post(f"/consultations/{consultation.id}/edit",
                           data={**NEW, "title": "Renamed", "visibility": "members"})
    assert response.status_code == 302
    db.session.expire_all()
    consultation = db.session.get(Consultation, consultation.id)
    assert (consultation.title, consultation.visibility) == ("Renamed", Visibility.MEMBERS)


def test_a_refused_settings_change_stores_none_of_its_fields(client, db, organiser, make_consultation):
    """The title is set before the tags are refused: the commit point must drop it too."""
    consultation = make_consultation(owner=organiser, title="Original question", tags="#Old")

    response = client.post(f"/consultations/{consultation.id}/edit",
                           data={**NEW, "title": "Changed question", "tags": "#not!a-tag"})

    assert response.status_code == 400
    page = parse(response)
    assert "Tags are single words" in page.field_error("tags")
    assert page.control("title").value() == "Changed question"
    db.session.expire_all()
    consultation = db.session.get(Consultation, consultation.id)
    assert (consultation.title, [t.name for t in consultation.tags]) == ("Original question", ["Old"])


# --- who may organise ---------------------------------------------------------------

def test_a_participant_may_not_create_a_consultation(client, db, make_user):
    login(client, make_user())

    page = client.get("/consultations/new")
    assert page.status_code == 403
    assert error_message(parse(page)) == "Only organisers can create consultations. Ask a platform admin."
    assert client.post("/consultations/new", data=NEW).status_code == 403
    assert db.session.scalar(select(Consultation)) is None
    assert parse(client.get("/")).find("a", href="/consultations/new") is None


def test_anonymous_organising_goes_to_login(client):
    response = client.get("/consultations/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("who", ["participant", "other organiser", "linked host"])
def test_others_may_not_touch_someone_elses_consultation(client, db, make_user, make_consultation, who):
    host = make_user()
    consultation = make_consultation(topics=2, hosts=[host])
    users = {"participant": make_user(), "other organiser": make_user("organiser"), "linked host": host}
    login(client, users[who])
    base = f"/consultations/{consultation.id}"
    topic, host_entry = consultation.topics[0].id, consultation.hosts[0].id
    requests = [
        ("GET", f"{base}/edit", {}), ("POST", f"{base}/edit", NEW),
        ("GET", f"{base}/topics/new", {}), ("POST", f"{base}/topics/new", {"title": "Mine"}),
        ("GET", f"{base}/topics/{topic}/edit", {}), ("POST", f"{base}/topics/{topic}/edit", {"title": "Mine"}),
        ("GET", f"{base}/hosts/new", {}), ("GET", f"{base}/hosts/{host_entry}/edit", {}),
        ("POST", f"{base}/status", {"status": "closed"}),
        ("POST", f"{base}/topics/{topic}/down", {}), ("POST", f"{base}/topics/{topic}/delete", {}),
        ("POST", f"{base}/hosts/{host_entry}/delete", {}),
    ]

    answers = {f"{m} {u}": client.open(u, method=m, data=d).status_code for m, u, d in requests}

    assert answers == {key: 403 for key in answers}
    db.session.expire_all()
    consultation = db.session.get(Consultation, consultation.id)
    assert consultation.status is ConsultationStatus.OPEN
    assert [t.title for t in consultation.topics] == ["Topic 1 of consultation 1", "Topic 2 of consultation 1"]
    assert len(consultation.hosts) == 1


def test_an_admin_may_organise_any_consultation(client, make_user, make_consultation):
    consultation = make_consultation()
    login(client, make_user("admin"))
    assert client.get(f"/consultations/{consultation.id}/edit").status_code == 200
    assert client.post(f"/consultations/{consultation.id}/status", data={"status": "closed"}).status_code == 302
