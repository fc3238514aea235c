"""Opening hours per weekday with per-date overrides (extended hours, closures),
and the official calendar: a hall that follows it is closed on public holidays
and opens on make-up working days (调休) with its weekday hours. Dates the hall
set by hand win over the calendar: the hall knows best.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

import chinese_calendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")

Span = tuple[time, time]


def parse_span(text: str) -> Span:
    m = _SPAN.match(text.strip())
    if not m:
        raise ValueError(f"{text!r} is not a time span like 08:30-12:00")
    start = time(int(m.group(1)), int(m.group(2)))
    end_h, end_m = int(m.group(3)), int(m.group(4))
    end = time(23, 59, 59) if end_h == 24 else time(end_h, end_m)
    if end <= start:
        raise ValueError(f"{text!r}: the end must be after the start")
    return (start, end)


def format_span(span: Span) -> str:
    return f"{span[0]:%H:%M}-{span[1]:%H:%M}"


class DayKind(StrEnum):
    NORMAL = "normal"
    HOLIDAY = "holiday"  # official public holiday
    MAKEUP = "makeup"  # weekend day worked in lieu: weekday hours
    SPECIAL = "special"  # hours set by the hall for this date


# Holidays fixed by date, for a year whose official notice the calendar package
# does not carry yet (published each winter): better to close on New Year's Day
# than to open. Lunar-calendar holidays cannot be guessed; halls set them by date.
FIXED_HOLIDAYS = {(1, 1): "New Year's Day", (5, 1): "Labour Day", (10, 1): "National Day",
                  (10, 2): "National Day", (10, 3): "National Day"}  # fmt: skip


def calendar_covers(year: int) -> bool:
    """Whether the official holiday notice for ``year`` is known here."""
    try:
        chinese_calendar.is_holiday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def official_day_kind(day: date) -> DayKind:
    """What the official calendar says of ``day`` (no hall's own dates)."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return DayKind.HOLIDAY if (day.month, day.day) in FIXED_HOLIDAYS else DayKind.NORMAL
    if on_holiday and name is not None:
        return DayKind.HOLIDAY
    if not on_holiday and day.weekday() >= 5:
        return DayKind.MAKEUP
    return DayKind.NORMAL


@dataclass(frozen=True)
class OpeningHours:
    weekly: Mapping[str, Sequence[Span]] = field(default_factory=dict)
    # A date listed here replaces its weekday's hours ([] = closed that day).
    special: Mapping[date, Sequence[Span]] = field(default_factory=dict)
    # Closed on public holidays, open on make-up working days (a real hall);
    # off for an always-open demo or a simulation.
    official_calendar: bool = False

    @classmethod
    def from_json(
        cls, data: Mapping[str, object], *, official_calendar: bool = False
    ) -> OpeningHours:
        weekly: dict[str, list[Span]] = {}
        special: dict[date, list[Span]] = {}
        for key, spans in data.items():
            if not isinstance(spans, list):
                raise ValueError(f"opening hours for {key!r} must be a list of spans")
            parsed = sorted(parse_span(str(s)) for s in spans)
            for a, b in zip(parsed, parsed[1:], strict=False):
                if b[0] < a[1]:
                    raise ValueError(f"opening hours for {key!r} overlap")
            if key in WEEKDAYS:
                weekly[key] = parsed
            else:
                try:
                    special[date.fromisoformat(key)] = parsed
                except ValueError:
                    raise ValueError(
                        f"{key!r} is neither a weekday ({', '.join(WEEKDAYS)}) nor a date YYYY-MM-DD"
                    ) from None
        return cls(weekly=weekly, special=special, official_calendar=official_calendar)

    def to_json(self) -> dict[str, list[str]]:
        out = {k: [format_span(s) for s in v] for k, v in self.weekly.items()}
        out.update({d.isoformat(): [format_span(s) for s in v] for d, v in self.special.items()})
        return out

    def day_kind(self, day: date) -> DayKind:
        if day in self.special:
            return DayKind.SPECIAL
        return official_day_kind(day)

    def weekday_hours(self) -> Sequence[Span]:
        """A normal working day's hours (for a make-up day): the first weekday that has any."""
        for name in WEEKDAYS[:5]:
            spans = self.weekly.get(name)
            if spans:
                return spans
        return ()

    def calendar_spans(self, day: date) -> Sequence[Span]:
        """The day's hours under the official calendar, whatever this hall follows."""
        kind = self.day_kind(day)
        if kind is DayKind.SPECIAL:
            return self.special[day]
        if kind is DayKind.HOLIDAY:
            return ()
        weekly = self.weekly.get(WEEKDAYS[day.weekday()], ())
        if kind is DayKind.MAKEUP and not weekly:
            return self.weekday_hours()
        return weekly

    def spans_on(self, day: date) -> Sequence[Span]:
        if self.official_calendar:
            return self.calendar_spans(day)
        if day in self.special:
            return self.special[day]
        return self.weekly.get(WEEKDAYS[day.weekday()], ())

    def is_open(self, local: datetime) -> bool:
        t = local.time()
        return any(s <= t < e for s, e in self.spans_on(local.date()))

    def next_opening(self, local: datetime, horizon_days: int = 14) -> datetime | None:
        """The next moment the hall opens after ``local`` (naive local time)."""
        for offset in range(horizon_days + 1):
            day = local.date() + timedelta(days=offset)
            for start, _end in self.spans_on(day):
                moment = datetime.combine(day, start, tzinfo=local.tzinfo)
                if moment > local:
                    return moment
        return None


DEFAULT_HOURS: dict[str, list[str]] = {
    d: ["08:30-12:00", "13:30-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")
}
