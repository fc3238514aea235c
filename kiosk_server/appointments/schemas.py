from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kiosk_server.core.slots import DayKind

AppointmentState = Literal["booked", "checked_in", "cancelled", "cancelled_by_hall", "no_show"]


class OfferItem(BaseModel):
    code: str
    name_zh: str
    name_en: str
    materials: list[str]
    guide: str | None
    capacity: int


class OfferDay(BaseModel):
    date: date
    weekday: int  # 0 = Monday
    kind: DayKind
    open: bool


class OfferOut(BaseModel):
    """What the booking page needs first: items, days, rules."""

    hall: str
    hall_name: str
    hotline: str | None
    enabled: bool
    slot_minutes: int
    horizon_days: int
    check_in_early_minutes: int
    check_in_late_minutes: int
    today: date
    items: list[OfferItem]
    days: list[OfferDay]


class SlotOut(BaseModel):
    start: datetime
    end: datetime
    label: str
    capacity: int
    booked: int
    free: int
    closed: bool
    closed_reason: str | None = None
    bookable: bool


class SlotsOut(BaseModel):
    hall: str
    service: str
    service_name: str
    date: date
    day_kind: DayKind
    slots: list[SlotOut]


class BookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str = Field(min_length=1, max_length=40, description="service item code")
    slot_start: datetime = Field(description="the slot's start as listed by GET /slots")
    name: str = Field(
        min_length=1, max_length=40, description="the resident's name (stored masked)"
    )
    phone: str = Field(
        min_length=1, max_length=20, description="mainland mobile number (stored masked + hashed)"
    )


class AppointmentOut(BaseModel):
    code: str
    hall: str
    hall_name: str
    service: str
    service_name: str
    service_name_en: str
    materials: list[str]
    slot_start: datetime
    slot_end: datetime
    slot_label: str
    date: date
    state: AppointmentState
    state_label: str
    name_masked: str
    phone_masked: str
    source: str
    check_in_opens: datetime
    check_in_closes: datetime
    created_at: datetime
    checked_in_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    ticket_number: str | None = None
    hotline: str | None = None
    qr_url: str


class FindRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(min_length=1, max_length=20)


class CloseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    service: str | None = Field(default=None, description="an item code; omitted: every item")
    slot_start: datetime | None = Field(
        default=None, description="one slot; omitted: the whole day"
    )
    reason: str = Field(min_length=1, max_length=200, description="shown to the residents")


class AffectedBooking(BaseModel):
    code: str
    service: str
    service_name: str
    slot_start: datetime
    slot_label: str
    name_masked: str
    phone_masked: str
    source: str


class CloseOut(BaseModel):
    closed_slots: int
    cancelled: list[AffectedBooking]


class RevealOut(BaseModel):
    code: str
    name_masked: str
    phone: str


class ConfigIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    slot_minutes: int = Field(default=30, ge=5, le=240)
    capacity: int = Field(default=2, ge=0, le=100)
    horizon_days: int = Field(default=7, ge=0, le=60)
    services: list[str] | None = None
    capacities: dict[str, int] = Field(default_factory=dict)


class ConfigOut(ConfigIn):
    pass


class DayStats(BaseModel):
    date: date
    booked: int
    checked_in: int
    no_show: int
    cancelled: int
    cancelled_by_hall: int


class StatsOut(BaseModel):
    hall: str
    days: list[DayStats]
    totals: dict[str, int]
