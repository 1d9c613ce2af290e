"""Report files built off the request (forum/services/reports.py): asked for, built by a job
(inline without Redis; a real RQ worker with it), states queued -> building -> done or failed,
nothing stored on failure, downloads authorised again, the moderation log line, cleaning,
and bad input answered with a 4xx."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from forum import jobs
from forum.models import ModerationAction, ReportFile, ReportStatus
from forum.models.base import utcnow
from forum.services import events
from forum.services import reports as report_service
from tests.factories import login
from tests.test_jobs import redis_jobs, work  # noqa: F401 (fixture)


@pytest.fixture
def reports_dir(app, tmp_path):
    app.config["REPORTS_DIR"] = str(tmp_path / "reports")
    return tmp_path / "reports"


@pytest.fixture
def event(make_event):
    return make_event(rooms=2, moderators=1, participants=2)


def client_for(app, user):
    client = app.test_client()
    login(client, user)
    return client


def ask(client, kind, object_id, fmt="md"):
    return client.post(f"/exports/{kind}/{object_id}/reports", data={"format": fmt})


def test_inline_a_report_goes_queued_building_done_and_is_stored(app, db, event, reports_dir, monkeypatch):
    told = []
    monkeypatch.setattr(events, "notify_user_after_commit",
                        lambda user_id, message: told.append((user_id, message["status"], message["progress"])))
    report = report_service.request_report(event.owner, "event", event.id, "md", language="en", timezone="UTC")
    assert report.status is ReportStatus.QUEUED and not any(reports_dir.glob("*"))  # nothing before commit
    db.session.commit()  # the job runs inline after the commit
    db.session.expire_all()
    report = db.session.get(ReportFile, report.id)
    assert report.status is ReportStatus.DONE and report.progress == 100
    path = report_service.path_of(report)
    assert path.parent == reports_dir and path.read_text().startswith(f"# {event.title}\n")
    assert report.size == path.stat().st_size
    assert [status for _, status, _ in told] == ["building", "building", "done"]
    assert {user_id for user_id, _, _ in told} == {event.owner.id}
    assert [p.name for p in reports_dir.iterdir()] == [report.stored_name]  # no ".part" left


def test_a_failing_build_leaves_the_report_failed_with_a_message_and_no_file(app, db, event, reports_dir,
                                                                            monkeypatch):
    def broken(built, fmt):
        raise RuntimeError("the renderer broke")

    monkeypatch.setattr(report_service, "render", broken)
    report = report_service.request_report(event.owner, "event", event.id, "pdf", language="en", timezone="UTC")
    db.session.commit()
    db.session.expire_all()
    report = db.session.get(ReportFile, report.id)
    assert report.status is ReportStatus.FAILED
    assert "could not be built" in report.error
    assert report.stored_name == "" and report_service.path_of(report) is None
    assert not reports_dir.exists() or not any(reports_dir.iterdir())


def test_a_report_too_large_fails_and_keeps_nothing(app, db, event, reports_dir):
    app.config["REPORTS_MAX_BYTES"] = 10
    report = report_service.request_report(event.owner, "event", event.id, "md", language="en", timezone="UTC")
    db.session.commit()
    db.session.expire_all()
    report = db.session.get(ReportFile, report.id)
    assert report.status is ReportStatus.FAILED and "too large" in report.error
    assert not reports_dir.exists() or not any(reports_dir.iterdir())


def test_over_http_the_page_follows_the_report_and_the_download_is_authorised_again(app, db, event, reports_dir):
    room1 = event.breakout_rooms[0]
    moderator = event.test_moderators[1][0]
    client = client_for(app, moderator)
    response = ask(client, "room", room1.id, "md")
    assert response.status_code == 303
    status_url = response.headers["Location"]
    page = client.get(status_url)
    assert page.status_code == 200 and "/download" in page.get_data(as_text=True)
    report = db.session.scalars(select(ReportFile).order_by(ReportFile.id.desc())).first()
    download = client.get(f"/reports/{report.id}/download")
    assert download.status_code == 200 and download.get_data(as_text=True).startswith(f"# {room1.title}")
    assert download.headers["Content-Disposition"] == f'attachment; filename="{report.filename}"'
    download.close()
    # Someone else (even the organiser) does not get another person's report.
    other = client_for(app, event.owner)
    assert other.get(status_url).status_code == 404
    assert other.get(f"/reports/{report.id}/download").status_code == 404
    # The co-moderator removed from the room: no longer theirs to download.
    for assignment in list(room1.moderators):
        db.session.delete(assignment)
    db.session.commit()
    assert client.get(f"/reports/{report.id}/download").status_code == 404
    assert client.get(status_url).status_code == 404


def test_a_waiting_report_page_refreshes_itself_and_loads_its_script(app, db, event, reports_dir):
    report = ReportFile(user_id=event.owner.id, kind="event", object_id=event.id, title=event.title,
                        format="pdf", status=ReportStatus.BUILDING, progress=50)
    db.session.add(report)
    db.session.commit()
    page = client_for(app, event.owner).get(f"/reports/{report.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh"' in page and "js/report.js" in page
    assert 'value="50"' in page and "Being built" in page
    assert "/download" not in page
    assert client_for(app, event.owner).get(f"/reports/{report.id}/download").status_code == 404


def test_each_export_is_a_line_in_the_moderation_log(app, db, event, reports_dir):
    client = client_for(app, event.owner)
    assert ask(client, "event", event.id, "md").status_code == 303
    data = client.get(f"/exports/event/{event.id}.csv")
    data.get_data()
    lines = list(db.session.scalars(select(ModerationAction).where(ModerationAction.action == "export.made")
                                    .order_by(ModerationAction.id)))
    assert [(line.actor_id, line.event_id, line.details["kind"], line.details["format"]) for line in lines] == [
        (event.owner.id, event.id, "event", "md"), (event.owner.id, event.id, "event", "csv")]
    log_page = client.get(f"/events/{event.id}/moderation/log")
    if log_page.status_code == 200:
        assert "exported a report or data" in log_page.get_data(as_text=True)


@pytest.mark.parametrize("fmt", ["", "exe", "csv", "md/../x"])
def test_bad_formats_are_refused_and_nothing_is_stored(app, db, event, reports_dir, fmt):
    response = ask(client_for(app, event.owner), "event", event.id, fmt)
    assert response.status_code == 400
    assert db.session.scalar(select(ReportFile.id)) is None


def test_participants_and_unknown_scopes_get_404(app, db, event, reports_dir):
    participant = client_for(app, event.test_participants[0])
    assert ask(participant, "event", event.id).status_code == 404
    assert ask(participant, "room", event.breakout_rooms[0].id).status_code == 404
    owner = client_for(app, event.owner)
    assert ask(owner, "nothing", event.id).status_code == 404
    assert ask(owner, "event", 999999).status_code == 404
    assert owner.get("/reports/999999").status_code == 404
    assert db.session.scalar(select(ReportFile.id)) is None


def test_too_many_waiting_reports_are_refused(app, db, event, reports_dir):
    app.config["REPORTS_MAX_PENDING"] = 1
    db.session.add(ReportFile(user_id=event.owner.id, kind="event", object_id=event.id, format="pdf",
                              status=ReportStatus.QUEUED))
    db.session.commit()
    assert ask(client_for(app, event.owner), "event", event.id).status_code == 429


def test_the_old_report_urls_lead_to_the_export_page(app, event, reports_dir):
    response = client_for(app, event.owner).get(f"/exports/event/{event.id}.pdf")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/exports/event/{event.id}")


def test_clean_removes_old_reports_and_their_files(app, db, event, reports_dir):
    report = report_service.request_report(event.owner, "event", event.id, "md", language="en", timezone="UTC")
    db.session.commit()
    db.session.expire_all()
    report = db.session.get(ReportFile, report.id)
    path = report_service.path_of(report)
    assert path.is_file()
    assert report_service.clean(utcnow()) == 0 and path.is_file()
    assert report_service.clean(utcnow() + timedelta(days=app.config["REPORTS_KEEP_DAYS"], minutes=1)) == 1
    assert not path.exists() and db.session.get(ReportFile, report.id) is None
    result = app.test_cli_runner().invoke(args=["reports", "clean"])
    assert result.exit_code == 0 and "0 old report(s) removed" in result.output


def test_with_redis_a_real_worker_builds_the_report(app, db, event, reports_dir, redis_jobs):  # noqa: F811
    report = report_service.request_report(event.owner, "event", event.id, "md", language="en", timezone="UTC")
    db.session.commit()
    assert jobs.queue().count == 1
    db.session.expire_all()
    assert db.session.get(ReportFile, report.id).status is ReportStatus.QUEUED  # not in the asking process
    assert work(app) is True
    db.session.expire_all()
    report = db.session.get(ReportFile, report.id)
    assert report.status is ReportStatus.DONE
    assert Path(report_service.path_of(report)).read_text().startswith(f"# {event.title}")


# --- DOCX --------------------------------------------------------------------------------

def test_the_docx_has_every_heading_and_table_of_the_markdown_and_the_charts(app, db, make_user, make_consultation,
                                                                             make_post, reports_dir):
    import io

    import docx

    from forum.exports import report
    from forum.exports.scope import resolve
    from forum.services import posts as post_service

    owner = make_user("organiser")
    consultation = make_consultation(owner, title="Housing | for *newcomers*", topics=2)
    writers = [make_user(country=country) for country in ("BE", "IT", "FR")]
    for n, writer in enumerate(writers):
        post = make_post(writer, consultation=consultation, topic=consultation.topics[n % 2],
                         body=f"Affordable housing matters for newcomers in city number {n}. Why is it slow?")
        post_service.endorse(writers[(n + 1) % 3], post)
    built = report.build_report(resolve(owner, "consultation", consultation.id))
    markdown = report.render_markdown(built)

    report_file = report_service.request_report(owner, "consultation", consultation.id, "docx", language="en",
                                                timezone="UTC")
    db.session.commit()
    db.session.expire_all()
    report_file = db.session.get(ReportFile, report_file.id)
    assert report_file.status is ReportStatus.DONE, report_file.error
    document = docx.Document(io.BytesIO(report_service.path_of(report_file).read_bytes()))

    headings = [p.text for p in document.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    expected = [report_service_unescape(line.lstrip("#").strip()) for line in markdown.splitlines()
                if line.startswith("#")]
    assert headings == expected
    assert headings[0] == "Housing | for *newcomers*"
    assert len(document.tables) == sum(1 for i, line in enumerate(markdown.splitlines())
                                       if line.startswith("|") and not markdown.splitlines()[i - 1].startswith("|"))
    participation = document.tables[0]
    assert participation.cell(0, 0).text == "Figure"
    assert [participation.cell(r, 1).text for r in range(1, 3)] == ["3", "3"]  # participants, posts
    assert len(document.inline_shapes) >= 3  # by country, by organisation type, posts per topic...
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Affordable housing matters for newcomers in city number" in body


def report_service_unescape(text: str) -> str:
    import re

    return re.sub(r"\\([\\`*_\[\]<>|#~])", r"\1", text)


def test_a_busy_database_at_a_step_is_tried_again(app, db, event, reports_dir, monkeypatch):
    """SQLite refuses a write inside a snapshot someone wrote after (SQLITE_BUSY_SNAPSHOT): each
    step ends the build's reads and, refused, tries again; the report still gets done."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    monkeypatch.setattr(jobs, "enqueue", lambda *a, **k: None)  # built below, by hand
    report = report_service.request_report(event.owner, "event", event.id, "md", language="en", timezone="UTC")
    db.session.commit()
    real_commit, refusals = db.session.commit, []

    def commit():
        if len(refusals) < 2:
            busy = sqlite3.OperationalError("database is locked")
            busy.sqlite_errorcode = sqlite3.SQLITE_BUSY_SNAPSHOT
            refusals.append(busy)
            raise OperationalError("UPDATE report_file ...", {}, busy)
        real_commit()

    monkeypatch.setattr(db.session, "commit", commit)
    monkeypatch.setattr(report_service.time, "sleep", lambda seconds: None)
    report_service.build(report.id)
    monkeypatch.setattr(db.session, "commit", real_commit)
    db.session.expire_all()
    assert len(refusals) == 2
    assert db.session.get(ReportFile, report.id).status is ReportStatus.DONE
