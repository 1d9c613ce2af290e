"""Report files: a summary report (PDF, Markdown, HTML, DOCX) an organiser asked for, built by a
job off the request (forum/services/reports.py) and kept for download for REPORTS_KEEP_DAYS."""
from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.users import User


class ReportStatus(str, enum.Enum):
    QUEUED = "queued"      # asked for; waiting for the job queue
    BUILDING = "building"  # a job is building it (see `progress`)
    DONE = "done"          # the file is stored and may be downloaded
    FAILED = "failed"      # the job failed (see `error`); nothing stored


REPORT_STATUS_LABELS = {
    ReportStatus.QUEUED: _l("Waiting to be built"),
    ReportStatus.BUILDING: _l("Being built"),
    ReportStatus.DONE: _l("Ready to download"),
    ReportStatus.FAILED: _l("Failed"),
}


# A person's copy of their own data (forum/services/personal_data.py, docs/data-rights.md): a
# ReportFile of this kind, about `object_id` = the person's own id, in format "zip".
PERSONAL_DATA_KIND = "personal_data"


class ReportFile(db.Model):
    """One report asked for: by whom, of what (a scope kind and id, as forum/exports/scope.py
    names them, or PERSONAL_DATA_KIND and the person's id), in which format, language and time
    zone; its state, and once built the file (a name under REPORTS_DIR, never a path given by
    anyone) and its size."""

    __tablename__ = "report_file"
    __table_args__ = (
        # "Your reports of this event" on the export page, newest first.
        Index("ix_report_file_user_scope", "user_id", "kind", "object_id", "id"),
        # The cleaner: files older than REPORTS_KEEP_DAYS.
        Index("ix_report_file_created_at", "created_at"),
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_percent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int]
    title: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(16), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[ReportStatus] = mapped_column(
        Enum(ReportStatus, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e]),
        default=ReportStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    filename: Mapped[str] = mapped_column(String(200), default="")  # offered to the browser
    stored_name: Mapped[str] = mapped_column(String(64), default="")  # the file under REPORTS_DIR
    size: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @property
    def pending(self) -> bool:
        return self.status in (ReportStatus.QUEUED, ReportStatus.BUILDING)


class ReportCover(db.Model):
    """What the organiser writes into the reports of an event or a consultation: the
    executive summary and the next steps (Markdown, stored with their sanitised HTML) and an
    optional logo for the cover (a PNG or JPEG checked by forum/services/report_cover.py, kept
    in the database so that every web and worker process reads the same one)."""

    __tablename__ = "report_cover"
    __table_args__ = (
        CheckConstraint("(event_id IS NULL) <> (consultation_id IS NULL)", name="one_scope"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    next_steps_html: Mapped[str] = mapped_column(Text, default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str] = mapped_column(String(32), default="")  # image/png or image/jpeg
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
