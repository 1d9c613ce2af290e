"""A person's copy of their own data (GDPR articles 15 and 20; docs/data-rights.md).

A signed-in person asks (`request_personal_data`); a job builds the ZIP file off the request
(`build`: forum/exports/personal_data.py writes it). The copy is a `ReportFile` of kind
PERSONAL_DATA_KIND about the person's own id, so the report files' machinery serves it
(forum/services/reports.py): the job's states told to the person's open pages, the file stored
atomically under REPORTS_DIR, the status page and the download (for its owner only:
permissions.can_download_personal_data), refused once PERSONAL_DATA_KEEP_DAYS have passed
and then removed by the cleaner.

One copy at a time: while one is being made, or for PERSONAL_DATA_INTERVAL_MINUTES after the
last one (a failed one aside), asking again is refused with `AlreadyAsked`, which names the
copy to wait for or download.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from forum import jobs, permissions
from forum.extensions import db
from forum.i18n import format_when
from forum.models import ReportFile, ReportStatus, User
from forum.models.base import utcnow
from forum.models.reports import PERSONAL_DATA_KIND
from forum.services import reports
from forum.services.errors import LoginRequired, NotFound, ServiceError

FORMAT = "zip"
MEDIA_TYPE = "application/zip"


class AlreadyAsked(ServiceError):
    """A copy is being made, or was made less than PERSONAL_DATA_INTERVAL_MINUTES ago: that
    one is `report`; a new one may be asked for from `retry_at` (None while one is being made)."""

    status_code = 429

    def __init__(self, report: ReportFile, retry_at: datetime | None):
        self.report, self.retry_at = report, retry_at
        if retry_at is None:
            message = _("Your data is already being prepared. This page shows when it is ready.")
        else:
            message = _("You asked for a copy of your data at %(asked)s: download that one. You may ask for a "
                        "new one from %(next)s.", asked=format_when(report.created_at), next=format_when(retry_at))
        super().__init__(message)
        self.retry_after = max(1, int((retry_at - utcnow()).total_seconds())) if retry_at else 60


def copies_of(user: User, limit: int = 3) -> list[ReportFile]:
    """The person's latest copies of their data, newest first (the profile lists them)."""
    return list(db.session.scalars(select(ReportFile).where(
        ReportFile.user_id == user.id, ReportFile.kind == PERSONAL_DATA_KIND).order_by(ReportFile.id.desc())
        .limit(limit)))


def _blocking(user: User) -> AlreadyAsked | None:
    """Why the person may not ask now, if they may not."""
    interval = timedelta(minutes=current_app.config["PERSONAL_DATA_INTERVAL_MINUTES"])
    for copy in copies_of(user, limit=5):
        if copy.pending:
            return AlreadyAsked(copy, None)
        if copy.status is ReportStatus.DONE and utcnow() < copy.created_at + interval:
            return AlreadyAsked(copy, copy.created_at + interval)
    return None


def request_personal_data(actor: User) -> ReportFile:
    """Ask for a copy of `actor`'s own data: a row queued for the job (`build`), in the
    person's language and time zone. AlreadyAsked while one is being made or recent."""
    if not permissions.can_request_personal_data(actor):
        raise LoginRequired()
    # Two requests at once queue one copy: the second waits for the first's transaction here
    # (PostgreSQL; SQLite lets one writer in at a time) and then finds its copy.
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    refusal = _blocking(actor)
    if refusal is not None:
        raise refusal
    now = utcnow()
    copy = ReportFile(user_id=actor.id, kind=PERSONAL_DATA_KIND, object_id=actor.id, title=actor.display_name,
                      format=FORMAT, filename=f"plenary-my-data-{actor.id}-{now:%Y-%m-%d}.{FORMAT}",
                      language=actor.preferred_language, timezone=actor.timezone, status=ReportStatus.QUEUED,
                      progress=0, created_at=now)
    db.session.add(copy)
    db.session.flush()
    jobs.enqueue(build, copy.id, long=True)
    return copy


def build(report_id: int) -> None:
    """The job: write the archive of the person the row is about, while it is still theirs."""
    reports.build_file(report_id, _write_archive,
                       too_large=_l("Your data is larger than this site keeps in one file. Please tell the "
                                    "site's administrators, who can export it for you."))


def _write_archive(copy: ReportFile, part: Path) -> None:
    from forum.exports import personal_data

    user = db.session.get(User, copy.object_id)
    if user is None or not permissions.can_download_personal_data(user, copy):
        raise NotFound()
    steps = iter(range(1, len(personal_data.FILES) + 1))

    def step() -> None:  # after each file: the person's page shows the progress
        jobs.give_way()
        reports.set_progress(copy, 5 + 90 * next(steps) // len(personal_data.FILES))

    personal_data.write_archive(user, part, timezone_name=copy.timezone, generated_at=utcnow(), step=step)
