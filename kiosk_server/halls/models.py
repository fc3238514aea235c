from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kiosk_server.db.base import Base, UTCDateTime, utcnow


class Hall(Base):
    __tablename__ = "halls"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="township")  # township | village
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    hotline: Mapped[str | None] = mapped_column(String(40))
    elderly_age: Mapped[int] = mapped_column(Integer, default=60)
    peak_start: Mapped[str | None] = mapped_column(String(5))  # "08:30"
    peak_end: Mapped[str | None] = mapped_column(String(5))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notice: Mapped[str | None] = mapped_column(Text)
    has_kiosk: Mapped[bool] = mapped_column(Boolean, default=True)
    # Closed on public holidays, open on make-up working days (调休).
    official_calendar: Mapped[bool] = mapped_column(Boolean, default=True)
    # Runtime state kept on the hall row so it changes in the same transaction
    # as the ticket it concerns.
    event_seq: Mapped[int] = mapped_column(Integer, default=0)
    consecutive_green: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Service(Base):
    """A service item (办理事项) of a hall's catalogue."""

    __tablename__ = "services"
    __table_args__ = (
        UniqueConstraint("hall_id", "code"),
        UniqueConstraint("hall_id", "prefix"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(160), default="")
    prefix: Mapped[str] = mapped_column(String(1))
    instant: Mapped[bool] = mapped_column(Boolean, default=True)
    target_minutes: Mapped[int] = mapped_column(Integer, default=10)
    handling: Mapped[str] = mapped_column(String(8), default="local")  # local | proxy
    materials: Mapped[list[Any]] = mapped_column(JSON, default=list)
    guide: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Counter(Base):
    """A counter (窗口)."""

    __tablename__ = "counters"
    __table_args__ = (UniqueConstraint("hall_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(60), default="综合柜员")
    # None: every item of the hall (the comprehensive-teller model).
    services: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    state: Mapped[str] = mapped_column(String(8), default="open")  # open | paused | closed
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
