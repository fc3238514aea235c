from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_server.db.base import Base, UTCDateTime


class AuditEntry(Base):
    """Append-only record of staff and admin actions (no API edits it)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_hall_at", "hall_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(80))  # username or device:<id>
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("halls.id"))
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str | None] = mapped_column(String(120))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
