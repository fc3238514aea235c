from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiosk_server.core.hours import OpeningHours

CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["fifo", "strict", "green_burst"] = "green_burst"
    green_burst: int = Field(
        default=2,
        ge=1,
        le=10,
        description="green calls in a row before a waiting normal ticket goes",
    )
    max_wait_minutes: int = Field(
        default=30,
        ge=5,
        le=480,
        description="a normal ticket waiting longer goes ahead of greens issued after it",
    )
    peak_green_burst: int | None = Field(
        default=None, ge=1, le=10, description="green run allowed during the elderly peak window"
    )


def _hours(v: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
    if v is not None:
        OpeningHours.from_json(v)  # raises ValueError with a readable message
    return v


class HallSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: Literal["township", "village"] | None = None
    timezone: str | None = Field(default=None, max_length=64)
    opening_hours: dict[str, list[str]] | None = Field(
        default=None,
        description='{"mon": ["08:30-12:00", "13:30-17:00"], "2026-12-05": ["09:00-12:00"]}',
    )
    hotline: str | None = Field(default=None, max_length=40)
    elderly_age: int | None = Field(default=None, ge=50, le=90)
    peak_start: str | None = Field(default=None, pattern=TIME_PATTERN)
    peak_end: str | None = Field(default=None, pattern=TIME_PATTERN)
    policy: PolicyIn | None = None
    notice: str | None = Field(default=None, max_length=500)
    has_kiosk: bool | None = None
    official_calendar: bool | None = Field(
        default=None,
        description="closed on official public holidays and open on make-up working days "
        "(调休) with weekday hours; dated opening_hours entries win",
    )

    _check_hours = field_validator("opening_hours")(_hours)


class HallCreate(HallSettingsIn):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=100)


class HallOut(BaseModel):
    code: str
    name: str
    kind: str
    timezone: str
    opening_hours: dict[str, list[str]]
    hotline: str | None
    elderly_age: int
    peak_start: str | None
    peak_end: str | None
    policy: PolicyIn
    notice: str | None
    has_kiosk: bool
    official_calendar: bool
    day_kind: Literal["normal", "holiday", "makeup", "special"] = Field(
        description="today under the official calendar and the hall's own dates"
    )
    open_now: bool
    opens_at: datetime | None
    local_time: datetime


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=CODE_PATTERN)
    name_zh: str = Field(min_length=1, max_length=100)
    name_en: str = Field(default="", max_length=160)
    prefix: str = Field(pattern=r"^[A-Z]$")
    instant: bool = True
    target_minutes: int = Field(default=10, ge=1, le=240)
    handling: Literal["local", "proxy"] = "local"
    materials: list[str] = Field(default_factory=list, max_length=40)
    guide: str | None = Field(default=None, max_length=2000)
    enabled: bool = True


class ServicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name_zh: str | None = Field(default=None, min_length=1, max_length=100)
    name_en: str | None = Field(default=None, max_length=160)
    prefix: str | None = Field(default=None, pattern=r"^[A-Z]$")
    instant: bool | None = None
    target_minutes: int | None = Field(default=None, ge=1, le=240)
    handling: Literal["local", "proxy"] | None = None
    materials: list[str] | None = Field(default=None, max_length=40)
    guide: str | None = Field(default=None, max_length=2000)
    enabled: bool | None = None
    sort_order: int | None = Field(default=None, ge=0, le=10_000)


class ServiceOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    prefix: str
    instant: bool
    target_minutes: int
    handling: str
    materials: list[str]
    guide: str | None
    enabled: bool
    sort_order: int
    waiting: int = 0


class CounterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: int = Field(ge=1, le=999)
    name: str = Field(default="综合柜员", min_length=1, max_length=60)
    services: list[str] | None = None


class CounterPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=60)
    services: list[str] | None = None
    all_services: bool | None = Field(default=None, description="true: take every item again")
    state: Literal["open", "paused", "closed"] | None = None


class CounterBrief(BaseModel):
    id: int
    number: int
    name: str
    state: str
    services: list[str] | None
    current: str | None
    staff: str | None = None


class DisplayCounter(BaseModel):
    number: int
    name: str
    state: str
    current: dict[str, object] | None


class DisplayCall(BaseModel):
    number: str
    counter: int | None
    service_name: str
    channel: str
    at: datetime
    text: str


class DisplayWaiting(BaseModel):
    service: str
    name: str
    name_en: str
    prefix: str
    waiting: int
    green: int


class DisplayNotice(BaseModel):
    id: int
    kind: str  # scroll | policy
    title: str
    text: str
    start_date: date
    end_date: date


class DisplaySnapshot(BaseModel):
    seq: int
    hall: str
    hall_name: str
    hotline: str | None
    notice: str | None
    notices: list[DisplayNotice] = Field(
        default_factory=list, description="notices active today (kiosk_server.notices)"
    )
    local_time: datetime
    open_now: bool = Field(description="within today's opening hours (holidays closed)")
    opens_at: datetime | None = Field(description="the next opening when closed")
    day_kind: Literal["normal", "holiday", "makeup", "special"]
    counters: list[DisplayCounter]
    calls: list[DisplayCall]
    waiting: list[DisplayWaiting]
    waiting_total: int


class QueueItem(BaseModel):
    position: int
    ticket_id: int
    number: str
    service: str
    service_name: str
    channel: str
    issued_at: datetime
    waited_minutes: int
    ahead: int
    estimated_wait_minutes: int | None
    counter: int | None


class CatalogDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    services: list[ServiceIn]
