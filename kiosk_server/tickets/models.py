from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_server.db.base import Base, UTCDateTime


class NumberCounter(Base):
    """The last number given per hall, service day and prefix.

    Numbers come from this row, updated in the ticket's own transaction, never
    from max()+1 over the tickets.
    """

    __tablename__ = "number_counters"

    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    service_day: Mapped[date] = mapped_column(Date, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(1), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # Numbers are unique among original tickets; a transfer copies its number
        # onto a new row that points back with transferred_from_id.
        Index(
            "uq_tickets_number",
            "hall_id",
            "service_day",
            "prefix",
            "seq_number",
            unique=True,
            sqlite_where=text("transferred_from_id IS NULL"),
            postgresql_where=text("transferred_from_id IS NULL"),
        ),
        UniqueConstraint("hall_id", "idempotency_key"),
        Index("ix_tickets_hall_day_state", "hall_id", "service_day", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    service_day: Mapped[date] = mapped_column(Date)
    prefix: Mapped[str] = mapped_column(String(1))
    seq_number: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(8))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    channel: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Ordering key: the original issue time, kept across transfers.
    order_at: Mapped[datetime] = mapped_column(UTCDateTime)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"), index=True)
    target_counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    served_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recall_count: Mapped[int] = mapped_column(Integer, default=0)
    transferred_from_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    age_band: Mapped[str | None] = mapped_column(String(8))
    public_token: Mapped[str] = mapped_column(String(40), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(80))
    slot_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slot_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_code: Mapped[str | None] = mapped_column(String(16))
    estimate_at_issue: Mapped[float | None] = mapped_column(Float)
    ahead_at_issue: Mapped[int | None] = mapped_column(Integer)
    overtime_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    issued_by_device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    issued_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Rating(Base):
    """A 好差评 rating: one per served ticket, on the national five-level scale."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)  # 5 = 非常满意 ... 1 = 非常不满意
    reason: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))  # pad | phone | keypad
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
