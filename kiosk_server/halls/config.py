"""Translate a hall row into the core's plain objects (time zone, hours, policy)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from kiosk_server.core.hours import OpeningHours
from kiosk_server.core.policy import Policy, PolicyParams, make_policy
from kiosk_server.halls.models import Hall


def _t(text: str | None) -> time | None:
    if not text:
        return None
    h, m = text.split(":")
    return time(int(h), int(m))


@dataclass(frozen=True)
class HallConfig:
    id: int
    code: str
    name: str
    tz: ZoneInfo
    hours: OpeningHours
    params: PolicyParams
    elderly_age: int

    @classmethod
    def of(cls, hall: Hall) -> HallConfig:
        p = hall.policy or {}
        params = PolicyParams(
            name=str(p.get("name", "green_burst")),
            green_burst=int(p.get("green_burst", 2)),
            max_wait_minutes=int(p.get("max_wait_minutes", 30)),
            peak_green_burst=(
                int(p["peak_green_burst"]) if p.get("peak_green_burst") is not None else None
            ),
            peak_start=_t(hall.peak_start),
            peak_end=_t(hall.peak_end),
        )
        return cls(
            id=hall.id,
            code=hall.code,
            name=hall.name,
            tz=ZoneInfo(hall.timezone),
            hours=OpeningHours.from_json(
                hall.opening_hours or {},
                # None only on an object not yet flushed: the column's default.
                official_calendar=hall.official_calendar is not False,
            ),
            params=params,
            elderly_age=hall.elderly_age,
        )

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def service_day(self, moment: datetime) -> date:
        return self.local(moment).date()

    def policy(self) -> Policy:
        return make_policy(self.params, lambda now: self.local(now).time())
