"""Appointment tables: the per-hall offer, slot capacity rows, and bookings.

Personal data: a booking keeps the name and mobile number masked for display,
a keyed hash of name+mobile to find the booking again and to stop double
bookings, and the mobile number encrypted (AES-GCM, key derived from the
server secret) so that, when the hall closes a slot, an admin can reveal it to
telephone the resident; every reveal writes an audit row. No clear values.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_server.db.base import Base, UTCDateTime

# Bookings that hold a place (and count against one-per-person-per-item-per-day).
ACTIVE_STATES = ("booked", "checked_in")


class AppointmentConfig(Base):
    """How a hall offers appointments; a hall without a row gets the defaults."""

    __tablename__ = "appointment_configs"

    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)
    capacity: Mapped[int] = mapped_column(Integer, default=2)
    horizon_days: Mapped[int] = mapped_column(Integer, default=7)
    # None: every enabled item of the catalogue.
    services: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    # Per-item capacity overrides: {"enrol": 3}.
    capacities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AppointmentSlot(Base):
    """One bookable slot of one item. Created on first booking or closure; its
    ``booked`` count is raised by a conditional UPDATE (booked < capacity), so
    two bookings of the last place cannot both succeed."""

    __tablename__ = "appointment_slots"
    __table_args__ = (UniqueConstraint("hall_id", "service_id", "start_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    day: Mapped[date] = mapped_column(Date)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[bool] = mapped_column(Boolean, default=False)
    closed_reason: Mapped[str | None] = mapped_column(String(200))


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        Index(
            "uq_appointments_person_day",
            "hall_id",
            "service_id",
            "day",
            "person_hash",
            unique=True,
            sqlite_where=text("state IN ('booked', 'checked_in')"),
            postgresql_where=text("state IN ('booked', 'checked_in')"),
        ),
        Index("ix_appointments_hall_day", "hall_id", "day"),
        Index("ix_appointments_state_end", "state", "no_show_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slots.id"), index=True)
    day: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[datetime] = mapped_column(UTCDateTime)
    slot_end: Mapped[datetime] = mapped_column(UTCDateTime)
    no_show_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # booked | checked_in | cancelled | cancelled_by_hall | no_show
    state: Mapped[str] = mapped_column(String(20))
    name_masked: Mapped[str] = mapped_column(String(40))
    phone_masked: Mapped[str] = mapped_column(String(16))
    person_hash: Mapped[str] = mapped_column(String(64), index=True)
    phone_enc: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(8))  # phone | staff
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
