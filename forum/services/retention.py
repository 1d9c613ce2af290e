"""How long personal data is kept (docs/data-rights.md, "Retention"): what `flask privacy purge`
applies, on a timer (docs/deploy.md). Login records: the address is blanked after
PRIVACY_IP_RETENTION_DAYS, the whole record deleted after PRIVACY_LOGIN_RETENTION_DAYS. (Report
files follow REPORTS_KEEP_DAYS: forum/services/reports.py, `flask reports clean`.)"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, update

from forum.extensions import db
from forum.models import LoginRecord
from forum.models.base import utcnow


@dataclass
class Purged:
    addresses_blanked: int
    logins_deleted: int


def purge(now: datetime | None = None) -> Purged:
    """Apply the retention periods now; returns what changed (the caller commits). Safe to run
    as often as wanted."""
    now = now or utcnow()
    config = current_app.config
    login_cutoff = now - timedelta(days=config["PRIVACY_LOGIN_RETENTION_DAYS"])
    address_cutoff = now - timedelta(days=config["PRIVACY_IP_RETENTION_DAYS"])
    deleted = db.session.execute(delete(LoginRecord).where(LoginRecord.at < login_cutoff)).rowcount
    blanked = db.session.execute(
        update(LoginRecord).where(LoginRecord.at < address_cutoff, LoginRecord.ip_address != "")
        .values(ip_address="").execution_options(synchronize_session=False)).rowcount
    return Purged(addresses_blanked=blanked, logins_deleted=deleted)
