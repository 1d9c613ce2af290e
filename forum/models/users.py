from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Index, String, event, func
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow

ORGANISATION_TYPES: dict[str, object] = {
    "local_authority": _l("Local public authority"),
    "regional_authority": _l("Regional public authority"),
    "national_authority": _l("National public authority"),
    "managing_authority": _l("Managing authority of EU funds"),
    "eu_institution": _l("EU institution"),
    "ngo": _l("NGO"),
    "non_profit": _l("Non-profit organisation"),
    "migrant_led": _l("Migrant-led organisation"),
    "research": _l("Research / academia"),
    "trade_union": _l("Trade union"),
    "employers": _l("Employers' organisation"),
    "private_company": _l("Private company"),
    "individual": _l("Individual"),
    "other": _l("Other"),
}

# ISO 3166-1 alpha-2 codes of the EU member states, listed first in every country picker.
EU_COUNTRIES = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)


# How a closed account (forum/services/account_closure.py) is named wherever its name showed:
# pages, live messages' pages, exports, reports, the moderation log. Translated when read.
FORMER_PARTICIPANT = _l("Former participant")


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    # The name as the person typed it (the column "display_name"); everyone reads
    # `display_name`, which names a closed account "Former participant" in the reader's language.
    name_as_typed: Mapped[str] = mapped_column("display_name", String(80))
    # The name after @ in a mention (forum.services.mentions): lower case, unique.
    handle: Mapped[str] = mapped_column(String(30), unique=True)
    organisation: Mapped[str] = mapped_column(String(160), default="")
    organisation_type: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    role_title: Mapped[str] = mapped_column(String(120), default="")
    preferred_language: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    # Reports and exports name the person, or say "Participant (country, organisation type)".
    named_in_reports: Mapped[bool] = mapped_column(default=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_organiser: Mapped[bool] = mapped_column(default=False)
    # Part of the login cookie: changing it (password reset, "log out everywhere") ends
    # every existing session of this account.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Confirmed by a signed link sent at registration: notices are mailed only to a
    # verified address (reading and posting never wait for it).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Mentions and moderators' notices by e-mail at once; the rest in a digest
    # (forum.models.notifications.DigestFrequency), or none.
    email_immediate: Mapped[bool] = mapped_column(default=True)
    digest_frequency: Mapped[str] = mapped_column(String(8), default="daily")
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the account is closed (forum/services/account_closure.py): the person can no
    # longer log in, and `closed_erased` tells whether their contributions were kept under
    # "Former participant" or erased with the account.
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_erased: Mapped[bool] = mapped_column(default=False)

    @hybrid_property
    def display_name(self) -> str:
        if self.closed_at is not None:
            return str(FORMER_PARTICIPANT)
        return self.name_as_typed

    @display_name.inplace.setter
    def _display_name_setter(self, value: str) -> None:
        self.name_as_typed = value

    @display_name.inplace.bulk_dml
    @classmethod
    def _display_name_bulk_dml(cls, mapping, value: str) -> None:
        mapping["name_as_typed"] = value  # bulk INSERTs name the column as every form does

    @display_name.inplace.expression
    @classmethod
    def _display_name_expression(cls):
        # In SQL (searching, sorting) the stored name: a closed account's is empty.
        return cls.name_as_typed

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_active(self) -> bool:
        # Flask-Login's: a closed account can never start a session.
        return self.closed_at is None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    @property
    def organisation_type_label(self) -> str:
        from forum.i18n import label  # forum.i18n gathers the names from the models
        return label("organisation_type", self.organisation_type)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


@event.listens_for(User.email, "set", active_history=True)
def _address_changed(user: User, value: str, old: object, initiator) -> None:
    """A new address is not verified: whatever sets it (today only an admin's database; the
    profile cannot), its verification starts again, and links sent to the old one fail."""
    if isinstance(old, str) and old != value:
        user.email_verified_at = None


class LoginRecord(db.Model):
    """One successful login: when, from which address and browser. Shown to the person ("recent
    logins") and in their data download; the address is blanked after PRIVACY_IP_RETENTION_DAYS
    and the row deleted after PRIVACY_LOGIN_RETENTION_DAYS (`flask privacy purge`)."""

    __tablename__ = "login_record"
    __table_args__ = (Index("ix_login_record_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # Indexed for the purge, which deletes by age across every account.
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    if "\x00" in email:  # no address holds one, and PostgreSQL refuses to compare it
        return None
    return db.session.scalar(db.select(User).where(func.lower(User.email) == normalise_email(email)))
