from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_server.db.base import Base, UTCDateTime


class PrintJob(Base):
    """One attempt to put a ticket on paper (the issue's print, or a staff reprint).

    The job keeps the ticket as the printer sees it (``view``, TicketView JSON)
    so a reprint or a late agent prints what the resident was told at issue.
    """

    __tablename__ = "print_jobs"
    __table_args__ = (Index("ix_print_jobs_hall_state", "hall_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    # local: the server's own printer; agent: a print agent on the kiosk PC.
    target: Mapped[str] = mapped_column(String(8))
    # The printer device that took the job (the server's printer row or the agent).
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    state: Mapped[str] = mapped_column(String(8))  # queued | sent | printed | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    reprint: Mapped[bool] = mapped_column(Boolean, default=False)
    requested_by: Mapped[str] = mapped_column(String(80))
    view: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
