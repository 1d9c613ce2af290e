"""`flask export KIND ID --format F -o FILE`: the files it writes, the progress bar on standard
error, and its refusals (an id that names nothing, an account that may not export)."""
from __future__ import annotations

import csv
import io
import json

import pytest

from forum.services import moderation

TITLE = "Accueil des réfugiés"


@pytest.fixture
def consultation(make_user, make_consultation, make_post):
    """A consultation with two topics: three responses, a reply, and a hidden post."""
    consultation = make_consultation(title=TITLE, topics=2)
    topic1, topic2 = consultation.topics
    first = make_post(consultation=consultation, topic=topic1, body="Housing is the first barrier for newcomers.")
    make_post(parent=first, body="Deposit guarantees would help a great deal.")
    make_post(consultation=consultation, topic=topic2, body="Recognition of diplomas takes far too long.")
    hidden = make_post(consultation=consultation, topic=topic2, body="Something rude.")
    moderation.hide_post(consultation.owner, hidden, "Rude")
    make_post(consultation=consultation, topic=topic1, body="Language courses help newcomers at work.")
    return consultation


def export(app, *args: str):
    """Run `flask export ARGS` in the test's app context (so it sees the test's data)."""
    return app.test_cli_runner().invoke(args=["export", *args])


def post_ids(db, consultation) -> list[int]:
    from sqlalchemy import select

    from forum.models import Post, PostStatus, Topic

    return sorted(db.session.scalars(select(Post.id).join(Topic, Topic.id == Post.topic_id).where(
        Topic.consultation_id == consultation.id, Post.status == PostStatus.PUBLISHED)))


def test_csv_has_one_row_per_post(app, db, consultation, tmp_path):
    out = tmp_path / "export.csv"
    result = export(app, "consultation", str(consultation.id), "--format", "csv", "-o", str(out))

    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert not text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    ids = post_ids(db, consultation)
    assert len(ids) == 5
    assert sorted(int(row["post_id"]) for row in rows) == ids
    assert [row["state"] for row in rows].count("hidden") == 1  # the organiser's (moderators') export
    raw = out.read_bytes()
    assert raw.count(b"\r\n") == len(rows) + 1 and b"\r\r\n" not in raw  # RFC 4180 line ends, untranslated
    # The progress bar and the closing line go to standard error, not into the file.
    assert "5 posts" in result.stderr
    assert f"Wrote {out}" in result.stderr
    assert "posts" not in text.splitlines()[0]
    assert "Wrote" not in text
    assert result.stdout == ""


def test_csv_with_bom(app, consultation, tmp_path):
    out = tmp_path / "export.csv"
    result = export(app, "consultation", str(consultation.id), "--format", "csv", "--bom", "-o", str(out))

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")


def test_json(app, db, consultation, tmp_path):
    out = tmp_path / "export.json"
    result = export(app, "consultation", str(consultation.id), "--format", "json", "-o", str(out))

    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["export"]["scope"]["kind"] == "consultation"
    assert document["consultation"]["title"] == TITLE
    assert sorted(post["post_id"] for post in document["posts"]) == post_ids(db, consultation)
    assert "5 posts" in result.stderr


def test_markdown(app, consultation, tmp_path):
    out = tmp_path / "report.md"
    result = export(app, "consultation", str(consultation.id), "--format", "md", "-o", str(out))

    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# {TITLE}\n")
    assert "## Topic 1: " in text and "## Topic 2: " in text
    assert "Something rude" not in text


def test_html_is_a_standalone_document(app, consultation, tmp_path):
    out = tmp_path / "report.html"
    result = export(app, "consultation", str(consultation.id), "--format", "html", "-o", str(out))

    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>")
    assert "<style" in text
    assert "<link" not in text  # nothing to fetch: it opens offline
    assert TITLE in text


def test_pdf(app, consultation, tmp_path):
    pytest.importorskip("weasyprint")
    out = tmp_path / "report.pdf"
    result = export(app, "consultation", str(consultation.id), "--format", "pdf", "-o", str(out))

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")


def test_pdf_shows_only_the_libraries_errors(app, consultation, tmp_path, caplog):
    """WeasyPrint logs every step and page at INFO (and fontTools its subsetting): the command
    prints none of it, while an error of theirs still comes through."""
    pytest.importorskip("weasyprint")
    import logging

    from forum.exports import report

    caplog.set_level(logging.DEBUG)
    real_render_pdf = report.render_pdf

    def render_pdf_with_an_error(built):
        logging.getLogger("weasyprint").error("Failed to load image at %r", "missing.png")
        return real_render_pdf(built)

    report.render_pdf = render_pdf_with_an_error
    try:
        result = export(app, "consultation", str(consultation.id), "--format", "pdf", "-o", str(tmp_path / "r.pdf"))
    finally:
        report.render_pdf = real_render_pdf

    assert result.exit_code == 0, result.output
    from_libraries = [(r.name, r.levelname) for r in caplog.records
                      if r.name.split(".")[0] in ("weasyprint", "fontTools")]
    assert from_libraries == [("weasyprint", "ERROR")]
    # Only for the command's work: the loggers are as they were afterwards.
    assert logging.getLogger("weasyprint").level == logging.getLogger("fontTools").level == logging.NOTSET


def test_markdown_to_standard_output(app, consultation):
    result = export(app, "consultation", str(consultation.id), "--format", "md", "-o", "-")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"# {TITLE}\n")
    assert "Wrote" not in result.stdout


def test_csv_to_standard_output_keeps_the_progress_out(app, db, consultation):
    result = export(app, "consultation", str(consultation.id), "--format", "csv", "-o", "-")

    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(int(row["post_id"]) for row in rows) == post_ids(db, consultation)
    assert "5 posts" in result.stderr


def test_other_kinds(app, make_event, tmp_path):
    from forum.services import posts as post_service

    event = make_event(rooms=2, moderators=1, participants=2)
    room1 = event.breakout_rooms[0]
    message = post_service.post_in_room(event.test_participants[0], room1, body="A message of room one")
    for kind, object_id in (("event", event.id), ("room", room1.id), ("thread", message.id)):
        out = tmp_path / f"{kind}.csv"
        result = export(app, kind, str(object_id), "--format", "csv", "-o", str(out))
        assert result.exit_code == 0, (kind, result.output)
        rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert [row["body_text"] for row in rows] == ["A message of room one"], kind


@pytest.mark.parametrize("object_id", ["999999", str(2**31), str(10**30)])
def test_an_id_that_names_nothing_is_refused(app, db, consultation, tmp_path, object_id):
    out = tmp_path / "export.csv"
    result = export(app, "consultation", object_id, "--format", "csv", "-o", str(out))

    assert result.exit_code != 0
    assert f"No consultation {object_id}." in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def test_a_participant_may_not_export(app, make_user, consultation, tmp_path):
    participant = make_user()
    out = tmp_path / "export.md"
    result = export(app, "consultation", str(consultation.id), "--format", "md", "-o", str(out),
                    "--as", participant.email)

    assert result.exit_code != 0
    assert f"{participant.email} may not export consultation {consultation.id}" in result.stderr
    assert not out.exists()


def test_an_unknown_account_is_refused(app, consultation, tmp_path):
    result = export(app, "consultation", str(consultation.id), "--format", "md", "-o", str(tmp_path / "x.md"),
                    "--as", "nobody@example.org")

    assert result.exit_code != 0
    assert "No account uses nobody@example.org." in result.stderr


def test_an_organiser_exports_as_themselves(app, consultation, tmp_path):
    out = tmp_path / "report.md"
    result = export(app, "consultation", str(consultation.id), "--format", "md", "-o", str(out),
                    "--as", consultation.owner.email)

    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith(f"# {TITLE}\n")


def test_unknown_kinds_and_formats_are_refused(app, consultation, tmp_path):
    out = str(tmp_path / "x")
    for args in (("forum", str(consultation.id), "--format", "md"),
                 ("consultation", str(consultation.id), "--format", "docx"),
                 ("consultation", "twelve", "--format", "md")):
        result = export(app, *args, "-o", out)
        assert result.exit_code == 2, args  # a usage error, explained
        assert "Invalid value" in result.stderr, args
