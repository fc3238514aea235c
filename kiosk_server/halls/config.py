"""Translate a hall row into the core's plain objects (time zone, hours, policy)."""

from __future__ import annotations

import json
from collections import OrderedDict
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
        # Parsing the hours is most of the cost, and every issue and call needs
        # the config: keep the last few, keyed by everything they are made of.
        key = (
            hall.id,
            hall.code,
            hall.name,
            hall.timezone,
            json.dumps(hall.policy or {}, sort_keys=True),
            json.dumps(hall.opening_hours or {}, sort_keys=True),
            hall.peak_start,
            hall.peak_end,
            hall.official_calendar is not False,
            hall.elderly_age,
        )
        return _config(cls, key, hall)

    @classmethod
    def _build(cls, hall: Hall) -> HallConfig:
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


_CACHE: OrderedDict[tuple[object, ...], HallConfig] = OrderedDict()
_CACHE_SIZE = 64


def _config(cls: type[HallConfig], key: tuple[object, ...], hall: Hall) -> HallConfig:
    found = _CACHE.get(key)
    if found is None:
        found = cls._build(hall)
        _CACHE[key] = found
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    return found
