"""Personal access tokens for the JSON API (forum/api/): created and revoked by their owner in
the profile, shown once, stored only as a SHA-256 hash, scoped (read, or read and write) and
expiring."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum.extensions import db
from forum.models.base import UTCDateTime, utcnow
from forum.models.users import User


class TokenScope(str, enum.Enum):
    READ = "read"    # GET requests only
    WRITE = "write"  # read and write


class ApiToken(db.Model):
    __tablename__ = "api_token"
    __table_args__ = (Index("ix_api_token_user_id", "user_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    # The token itself is never stored: its SHA-256 (hex), looked up on every API request.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Its first characters, shown in the list so that the owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[TokenScope] = mapped_column(
        Enum(TokenScope, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e]))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()
