""""Download my data" over HTTP (forum/web/my_data.py; the status page and download of
forum/web/exports.py): asked for from the profile, followed on its status page, downloaded by
its owner only, refused once expired, and for visitors a way to log in."""
from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.models import ReportFile, ReportStatus
from forum.models.base import utcnow
from forum.models.reports import PERSONAL_DATA_KIND
from forum.services import reports as report_service
from tests.factories import login
from tests.web.page import error_message, flashes, parse


@pytest.fixture
def person(make_user, make_post):
    user = make_user(display_name="Ada Lovelace")
    make_post(user, body="My own response.")
    return user


@pytest.fixture
def client_of(app):
    def _client(user):
        client = app.test_client()
        login(client, user)
        return client
    return _client


def copies(db) -> list[ReportFile]:
    db.session.expire_all()
    return list(db.session.scalars(select(ReportFile).where(ReportFile.kind == PERSONAL_DATA_KIND)
                                   .order_by(ReportFile.id)))


def test_the_profile_offers_it(client_of, person):
    page = parse(client_of(person).get("/profile"))
    section = page.by_id("my-data")
    assert section.one("h2").text() == "Download my data"
    form = section.one("form")
    assert form.get("action") == "/account/data" and form.get("method") == "post"
    assert section.one("button").text() == "Ask for a copy of my data"
    assert "kept for 7 days" in section.text()


def test_asking_builds_the_copy_and_its_owner_downloads_it(db, client_of, person):
    client = client_of(person)
    response = client.post("/account/data")
    assert response.status_code == 303
    (copy,) = copies(db)
    assert response.headers["Location"] == f"/reports/{copy.id}"
    assert copy.user_id == copy.object_id == person.id and copy.status is ReportStatus.DONE  # inline job

    page = parse(client.get(f"/reports/{copy.id}"))
    assert page.one("h1").text() == "A copy of your data"
    download = page.one("a", class_="button")
    assert download.get("href") == f"/reports/{copy.id}/download"
    assert "The link works until" in page.text()
    assert page.find("a", href="/profile#my-data").text() == "Back to your profile"

    file = client.get(download.get("href"))
    assert file.status_code == 200 and file.mimetype == "application/zip"
    assert file.headers["Content-Disposition"] == f'attachment; filename="{copy.filename}"'
    assert file.headers["Cache-Control"] == "private, no-store"
    with zipfile.ZipFile(io.BytesIO(file.get_data())) as archive:
        assert "index.html" in archive.namelist()
        assert b"My own response." in archive.read("posts.json")
    file.close()

    # The profile lists it, with its state.
    profile = parse(client.get("/profile")).by_id("my-data")
    assert profile.find("a", href=f"/reports/{copy.id}").text() == "Ready to download"


def test_a_second_request_is_told_about_the_first_and_makes_no_new_copy(db, client_of, person):
    client = client_of(person)
    first = client.post("/account/data").headers["Location"]
    again = client.post("/account/data", follow_redirects=True)
    assert again.status_code == 200 and again.request.path == first
    (message,) = flashes(parse(again))
    assert message.startswith("You asked for a copy of your data at") and "You may ask for a new one from" in message
    assert len(copies(db)) == 1


def test_while_one_is_being_made_asking_again_leads_to_it(db, client_of, person):
    db.session.add(ReportFile(user_id=person.id, kind=PERSONAL_DATA_KIND, object_id=person.id, format="zip",
                              status=ReportStatus.BUILDING, progress=40))
    db.session.commit()
    (pending,) = copies(db)
    response = client_of(person).post("/account/data", follow_redirects=True)
    page = parse(response)
    assert response.request.path == f"/reports/{pending.id}"
    assert flashes(page) == ["Your data is already being prepared. This page shows when it is ready."]
    assert page.one("progress").get("value") == "40"
    assert len(copies(db)) == 1


def test_nobody_else_sees_or_downloads_it(db, client_of, person, make_user):
    client_of(person).post("/account/data")
    (copy,) = copies(db)
    for other in (make_user(), make_user("organiser"), make_user("admin")):
        client = client_of(other)
        assert client.get(f"/reports/{copy.id}").status_code == 404
        assert client.get(f"/reports/{copy.id}/download").status_code == 404


def test_an_expired_link_says_so_and_then_is_gone(db, app, client_of, person):
    client = client_of(person)
    client.post("/account/data")
    (copy,) = copies(db)
    copy.created_at = utcnow() - timedelta(days=app.config["PERSONAL_DATA_KEEP_DAYS"], minutes=1)
    db.session.commit()
    for url in (f"/reports/{copy.id}", f"/reports/{copy.id}/download"):
        response = client.get(url)
        assert response.status_code == 410
        page = parse(response)
        assert error_message(page).startswith("This file is no longer kept")
        assert page.find("a", href="/profile#my-data") is not None
    assert "expired" in parse(client.get("/profile")).by_id("my-data").text()
    # The cleaner removes it: the link is then not found at all.
    assert report_service.clean() == 1
    db.session.commit()
    assert client.get(f"/reports/{copy.id}/download").status_code == 404


def test_signed_out_visitors_are_sent_to_log_in(db, client, person):
    response = client.post("/account/data")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert db.session.scalar(select(func.count()).select_from(ReportFile)) == 0
    assert client.get("/reports/1/download").headers["Location"].startswith("/login")
