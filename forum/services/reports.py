"""Report files built off the request: an organiser asks (`request_report`), a job on the
queue (forum/jobs.py: RQ in Redis with `flask worker`, inline without Redis) builds the file
(`build`), stores it under REPORTS_DIR and records its state on its `ReportFile` row, telling
the requester's open pages as it goes (a per-account notice, forum/services/events.py). The
file is kept REPORTS_KEEP_DAYS days (`clean`); every download authorises again.

A person's copy of their own data is a report file too (kind PERSONAL_DATA_KIND, built by
forum/services/personal_data.py through `build_file`): the same rows, job states, status page,
download and cleaner, kept PERSONAL_DATA_KEEP_DAYS days.

Why files and not bytes in the database: a PDF of a large event is megabytes, read once or
twice; kept in the database it would weigh on every backup and on PostgreSQL's buffers, while
a file is written once (atomically: a ".part" file renamed), served by `send_file` and
removed by the cleaner. The web and worker processes must share REPORTS_DIR (docs/deploy.md).
"""
from __future__ import annotations

import logging
import math
import os
import re
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import OperationalError

from forum import jobs, permissions
from forum.exports.scope import KINDS, Scope, filename_for, resolve
from forum.extensions import db
from forum.i18n import label
from forum.models import ReportFile, ReportStatus, Room, User
from forum.models.base import utcnow
from forum.models.reports import PERSONAL_DATA_KIND
from forum.services import audit, events
from forum.services.errors import NotFound, ServiceError, ValidationError, database_busy

log = logging.getLogger("forum.reports")

# The report's formats (the data exports, CSV and JSON, stream from the request instead:
# forum/web/exports.py), with their media types.
REPORT_FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


FORMAT_NAMES = {
    "pdf": _l("PDF"),
    "docx": _l("Word document (DOCX)"),
    "md": _l("Markdown"),
    "html": _l("HTML file"),
    "zip": _l("ZIP file"),  # a copy of personal data (forum/services/personal_data.py)
}
# What a stored file is served as: the reports' formats, and a copy of personal data's.
MEDIA_TYPES = {**REPORT_FORMATS, "zip": "application/zip"}


class TooManyReports(ServiceError):
    status_code = 429
    default_message = _l("You already have reports waiting to be built. Please wait until they are ready.")


class Expired(ServiceError):
    """A report file past its keeping time (`report`): its link refuses, saying so."""
    status_code = 410
    default_message = _l("This file is no longer kept: files are removed some days after they are asked "
                         "for. Ask for a new one.")

    def __init__(self, report: ReportFile):
        self.report = report
        super().__init__()


class ReportTooLarge(Exception):
    """The file would be larger than REPORTS_MAX_BYTES."""


def reports_dir() -> Path:
    return Path(current_app.config["REPORTS_DIR"])


def path_of(report: ReportFile) -> Path | None:
    """The stored file of a finished report (a name the job chose, never one given by anyone)."""
    if report.status != ReportStatus.DONE or not report.stored_name:
        return None
    return reports_dir() / report.stored_name


def _log_export(actor: User, scope: Scope, fmt: str, action_details: dict) -> None:
    room = scope.sections[0] if scope.kind == "room" and isinstance(scope.sections[0], Room) else None
    audit.log(actor, "export.made", room=room, event=scope.event, consultation=scope.consultation,
              kind=scope.kind, object_id=scope.id, title=scope.title, format=fmt, **action_details)


def request_report(actor: User, kind: str, object_id: int, fmt: str, *, language: str,
                   timezone: str) -> ReportFile:
    """Ask for the report of `kind` `object_id` in `fmt`: a row queued for the job, and a line
    in the moderation log. NotFound for anyone who may not export it (scope.resolve)."""
    if kind not in KINDS:
        raise NotFound()
    if fmt not in REPORT_FORMATS:
        raise ValidationError(_("Choose one of the report's formats."), field="format")
    scope = resolve(actor, kind, object_id)
    pending = db.session.scalar(select(func.count()).select_from(ReportFile).where(
        ReportFile.user_id == actor.id,
        ReportFile.status.in_([ReportStatus.QUEUED, ReportStatus.BUILDING])))
    if pending >= current_app.config["REPORTS_MAX_PENDING"]:
        raise TooManyReports()
    report = ReportFile(user_id=actor.id, kind=kind, object_id=scope.id, title=scope.title, format=fmt,
                        filename=filename_for(scope, fmt),
                        language=language, timezone=timezone, status=ReportStatus.QUEUED, progress=0)
    db.session.add(report)
    db.session.flush()
    _log_export(actor, scope, fmt, {"report_id": report.id})
    from forum import jobs

    jobs.enqueue(build, report.id, long=True)
    return report


def log_data_export(actor: User, scope: Scope, fmt: str) -> None:
    """A data file (CSV, JSON) streamed from the request: its line in the moderation log."""
    _log_export(actor, scope, fmt, {})


def visible_report(actor: User, report_id: int) -> ReportFile:
    """A report for its requester only, and only while they may still export what it covers
    (a copy of personal data: while it is theirs, permissions.can_download_personal_data):
    NotFound otherwise (as for a missing one); Expired once its keeping time has passed,
    even before the cleaner has removed it."""
    report = db.session.get(ReportFile, report_id)
    if report is None or not getattr(actor, "is_authenticated", False) or report.user_id != actor.id:
        raise NotFound()
    if report.kind == PERSONAL_DATA_KIND:
        if not permissions.can_download_personal_data(actor, report):
            raise NotFound()
    else:
        resolve(actor, report.kind, report.object_id)  # can_export_* again: NotFound if no longer
    if utcnow() >= expires_at(report):
        raise Expired(report)
    return report


def keep_days(report: ReportFile) -> int:
    """How long a report file is kept after it was asked for (a copy of personal data: its own
    setting)."""
    name = "PERSONAL_DATA_KEEP_DAYS" if report.kind == PERSONAL_DATA_KIND else "REPORTS_KEEP_DAYS"
    return current_app.config[name]


def expires_at(report: ReportFile) -> datetime:
    return report.created_at + timedelta(days=keep_days(report))


def reports_of(actor: User, scope: Scope, limit: int = 10) -> list[ReportFile]:
    """The requester's latest reports of this scope, newest first (the export page lists them)."""
    return list(db.session.scalars(select(ReportFile).where(
        ReportFile.user_id == actor.id, ReportFile.kind == scope.kind, ReportFile.object_id == scope.id)
        .order_by(ReportFile.id.desc()).limit(limit)))


def status_notice(report: ReportFile) -> dict:
    """What the requester's open pages are told (static/js/report.js), in their language."""
    with force_locale(report.language):
        return {"type": "report.status", "report_id": report.id, "status": report.status.value,
                "progress": report.progress, "status_label": label("report_status", report.status),
                "error": report.error}


WRITE_ATTEMPTS = 5


def _advance(report: ReportFile, status: ReportStatus, progress: int, **fields) -> ReportFile:
    """Record the report's new state (and `fields`) in a transaction of its own, told to its
    requester's pages once committed; returns the row as now stored. The job's reads are over
    by then, and their transaction is ended first: on SQLite a write inside the snapshot the
    build read from is refused as soon as anyone else has written since (a busy database is
    tried again a few times)."""
    report_id = report.id
    for attempt in range(WRITE_ATTEMPTS):
        db.session.rollback()  # nothing of the job's is pending: its state is in `fields`
        report = db.session.get(ReportFile, report_id)
        report.status, report.progress = status, progress
        for name, value in fields.items():
            setattr(report, name, value)
        events.notify_user_after_commit(report.user_id, status_notice(report))
        try:
            db.session.commit()
            return report
        except OperationalError as error:
            if not database_busy(error) or attempt == WRITE_ATTEMPTS - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")  # pragma: no cover


def set_progress(report: ReportFile, progress: int) -> ReportFile:
    """A building report's progress (0-100), stored and told to its requester's pages. Ends
    the current transaction (`_advance`): call it between reads."""
    return _advance(report, ReportStatus.BUILDING, progress)


def render(built, fmt: str) -> bytes:
    from forum.exports import report as report_export

    if fmt == "md":
        return report_export.render_markdown(built).encode()
    if fmt == "html":
        return str(report_export.render_html(built, standalone=True)).encode()
    if fmt == "pdf":
        return report_export.render_pdf(built)
    from forum.exports import word

    return word.render_docx(built)


def build(report_id: int) -> None:
    """The job: build the report as its requester (who must still be allowed), in their
    language and time zone, and store it (`build_file`)."""
    build_file(report_id, _write_report,
               too_large=_l("The file would be too large to keep. Export a room or a topic at a time."))


def _write_report(report: ReportFile, part: Path) -> None:
    from forum.exports import report as report_export

    scope = resolve(report.user, report.kind, report.object_id)
    built = report_export.build_report(scope, timezone=report.timezone)
    _advance(report, ReportStatus.BUILDING, 50)
    body = render(built, report.format)
    if len(body) > current_app.config["REPORTS_MAX_BYTES"]:
        raise ReportTooLarge()
    part.write_bytes(body)


def build_file(report_id: int, write: Callable[[ReportFile, Path], None], *, too_large) -> None:
    """What every kind of report file's job does: take the queued row, have `write(report,
    part)` write the file to `part` (in the requester's language; it may `_advance` the
    progress and raise NotFound when the requester may no longer have it, ReportTooLarge when
    it would pass REPORTS_MAX_BYTES), store it atomically and mark the row done; on any
    failure, mark it failed with a message (`too_large` for a file too large) and keep no
    file."""
    report = db.session.get(ReportFile, report_id)
    if report is None or report.status != ReportStatus.QUEUED:
        return  # gone (cleaned) or already taken by another run
    report = _advance(report, ReportStatus.BUILDING, 5, started_at=utcnow())
    directory = reports_dir()
    stored_name = f"{report.id}-{secrets.token_hex(8)}.{report.format}"
    part, stored = directory / (stored_name + ".part"), directory / stored_name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with force_locale(report.language):
            write(report, part)
        size = part.stat().st_size
        if size > current_app.config["REPORTS_MAX_BYTES"]:
            raise ReportTooLarge()
        os.replace(part, stored)
        _advance(report, ReportStatus.DONE, 100, stored_name=stored_name, size=size, finished_at=utcnow())
    except Exception as error:
        db.session.rollback()
        part.unlink(missing_ok=True)
        stored.unlink(missing_ok=True)
        report = db.session.get(ReportFile, report_id)
        with force_locale(report.language):
            if isinstance(error, NotFound):
                message = _("You may no longer export this.")
            elif isinstance(error, ReportTooLarge):
                message = str(too_large)
            else:
                log.exception("report %s could not be built", report_id)
                message = _("The report could not be built. Please try again; if it fails again, "
                            "tell the site's administrators.")
        _advance(report, ReportStatus.FAILED, report.progress, stored_name="", size=0, error=message,
                 finished_at=utcnow())


# --- A public consultation's summary page --------------------------------------------------

def _summary_path(consultation_id: int, language: str, timezone: str) -> Path:
    zone = re.sub(r"[^A-Za-z0-9]+", "_", timezone)
    return reports_dir() / f"summary-{consultation_id}-{re.sub(r'[^A-Za-z0-9]+', '_', language)}-{zone}.html"


def public_summary(actor, consultation_id: int, *, language: str, timezone: str) -> tuple[Scope, str | None]:
    """The summary page's report, built off the request like any report: the last one built
    (in this language and zone), or None while the first is being built. One older than
    SUMMARY_REFRESH_SECONDS is still shown while a job builds the next (one job at a time
    per page: the job's key)."""
    scope = resolve(actor, "consultation", consultation_id, public=True)
    path = _summary_path(consultation_id, language, timezone)
    try:
        age = time.time() - path.stat().st_mtime
        html = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        age, html = math.inf, None
    if age > current_app.config["SUMMARY_REFRESH_SECONDS"]:
        jobs.enqueue(build_public_summary, consultation_id, language, timezone,
                     key=f"summary:{consultation_id}:{language}:{timezone}", long=True)
    return scope, html


def build_public_summary(consultation_id: int, language: str, timezone: str) -> None:
    """The job: the public summary's HTML (what every reader of the page sees: hidden posts
    left out, people named as they chose), written atomically for the page to read."""
    from forum.exports import report as report_export
    from forum.models import Consultation

    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        return
    with force_locale(language):
        try:
            scope = resolve(consultation.owner, "consultation", consultation_id, public=True)
        except NotFound:
            return  # no longer public: the page refuses it too
        body = report_export.render_html(report_export.build_report(scope, timezone=timezone), standalone=False)
    path = _summary_path(consultation_id, language, timezone)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.name + f".{secrets.token_hex(4)}.part")
    part.write_text(body, encoding="utf-8")
    os.replace(part, path)


def clean(now=None) -> int:
    """Remove the reports (rows and files) older than REPORTS_KEEP_DAYS (copies of personal
    data: PERSONAL_DATA_KEEP_DAYS), and files under REPORTS_DIR that no row names (a job
    killed mid-write) older than the shorter of the two. Returns how many rows went."""
    now = now or utcnow()
    reports_cutoff = now - timedelta(days=current_app.config["REPORTS_KEEP_DAYS"])
    personal_cutoff = now - timedelta(days=current_app.config["PERSONAL_DATA_KEEP_DAYS"])
    old = list(db.session.scalars(select(ReportFile).where(or_(
        and_(ReportFile.kind != PERSONAL_DATA_KIND, ReportFile.created_at < reports_cutoff),
        and_(ReportFile.kind == PERSONAL_DATA_KIND, ReportFile.created_at < personal_cutoff)))))
    for report in old:
        if report.stored_name:
            (reports_dir() / report.stored_name).unlink(missing_ok=True)
        db.session.delete(report)
    db.session.flush()
    directory = reports_dir()
    if directory.is_dir():
        kept = set(db.session.scalars(select(ReportFile.stored_name).where(ReportFile.stored_name != "")))
        cutoff = max(reports_cutoff, personal_cutoff)
        for path in directory.iterdir():
            stale = path.stat().st_mtime < cutoff.timestamp()
            if path.is_file() and path.name not in kept and stale:
                path.unlink(missing_ok=True)
    return len(old)
