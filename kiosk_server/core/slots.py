"""Appointment slots: which days and times can be booked, and when a booking may
check in (pure, no I/O).

Slots are cut from the hall's opening hours. Official public holidays have none
even when the weekly hours say open; a make-up working day (调休, a Saturday or
Sunday worked in lieu) gets a normal weekday's hours. Dates the hall set by hand
(``OpeningHours.special``) win over the calendar: the hall knows best.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kiosk_server.core.hours import DayKind as DayKind  # re-exported: slots speak of day kinds
from kiosk_server.core.hours import OpeningHours, Span

DEFAULT_SLOT_MINUTES = 30
DEFAULT_CAPACITY = 2
DEFAULT_HORIZON_DAYS = 7
CHECK_IN_EARLY_MINUTES = 30
CHECK_IN_LATE_MINUTES = 15

# Booking codes: "YY" (what the kiosk scanner recognises as ours) and 8 digits.
# Digits because the kiosk's check-in keypad and a phone keypad have them and an
# elderly resident reads them out without confusing O/0 or I/1; the prefix may
# be left off when typing. 10**8 codes against the public look-up rate limit
# (and only masked data behind a code) make guessing unrewarding.
CODE_PREFIX = "YY"
CODE_ALPHABET = "0123456789"
CODE_LENGTH = 8


def day_kind(hours: OpeningHours, day: date) -> DayKind:
    return hours.day_kind(day)


def bookable_spans(hours: OpeningHours, day: date) -> Sequence[Span]:
    """Opening spans of ``day`` in which appointments are offered: always by the
    official calendar, since a booking is made days ahead."""
    return hours.calendar_spans(day)


@dataclass(frozen=True)
class SlotTime:
    start: datetime  # aware, in the hall's zone
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def slots_on(hours: OpeningHours, day: date, tz: ZoneInfo, minutes: int) -> list[SlotTime]:
    """Slots of ``minutes`` cut from each opening span; a short tail is dropped
    because a resident booked into it could not be served before closing."""
    if minutes <= 0:
        raise ValueError("a slot lasts at least one minute")
    step = timedelta(minutes=minutes)
    out: list[SlotTime] = []
    for start, end in bookable_spans(hours, day):
        cursor = datetime.combine(day, start, tzinfo=tz)
        # 24:00 is stored as 23:59:59; round it up so whole slots fit.
        close_t = end if end != time(23, 59, 59) else None
        close = (
            datetime.combine(day, close_t, tzinfo=tz)
            if close_t is not None
            else datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
        )
        while cursor + step <= close:
            out.append(SlotTime(cursor, cursor + step))
            cursor += step
    return out


def bookable_days(today: date, horizon_days: int) -> list[date]:
    """Today and the following ``horizon_days`` days (the booking horizon)."""
    return [today + timedelta(days=i) for i in range(horizon_days + 1)]


def in_horizon(day: date, today: date, horizon_days: int) -> bool:
    return today <= day <= today + timedelta(days=horizon_days)


def is_bookable(slot_start: datetime, now: datetime) -> bool:
    """A slot that has started is in the past for booking purposes."""
    return slot_start > now


class CheckIn(StrEnum):
    EARLY = "early"
    OK = "ok"
    LATE = "late"


@dataclass(frozen=True)
class CheckInWindow:
    opens: datetime
    closes: datetime

    def verdict(self, now: datetime) -> CheckIn:
        if now < self.opens:
            return CheckIn.EARLY
        if now > self.closes:
            return CheckIn.LATE
        return CheckIn.OK


def check_in_window(
    slot_start: datetime,
    early_minutes: int = CHECK_IN_EARLY_MINUTES,
    late_minutes: int = CHECK_IN_LATE_MINUTES,
) -> CheckInWindow:
    """From ``early_minutes`` before the slot to ``late_minutes`` after its start,
    both ends included."""
    return CheckInWindow(
        slot_start - timedelta(minutes=early_minutes),
        slot_start + timedelta(minutes=late_minutes),
    )


def no_show_after(
    slot_start: datetime, slot_end: datetime, late_minutes: int = CHECK_IN_LATE_MINUTES
) -> datetime:
    """When an unchecked booking becomes a no-show: the end of its slot, but
    never while check-in is still allowed (a slot shorter than the grace)."""
    return max(slot_end, slot_start + timedelta(minutes=late_minutes))


def mask_name(name: str) -> str:
    """张*三 style: first and last character kept; two-character names keep the first."""
    n = "".join(name.split())
    if len(n) <= 1:
        return n
    if len(n) == 2:
        return n[0] + "*"
    return n[0] + "*" * (len(n) - 2) + n[-1]


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:]


def normalise_phone(raw: str) -> str | None:
    """A mainland mobile number (11 digits, 1[3-9]...), or None if it is not one.

    Spaces, dashes and a +86/86 prefix are accepted as typed on a phone.
    """
    digits = "".join(c for c in raw if c not in " -")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 11 and digits.isdigit() and digits[0] == "1" and digits[1] in "3456789":
        return digits
    return None


def normalise_name(raw: str) -> str:
    return "".join(raw.split())


def normalise_code(raw: str) -> str:
    """Upper-case, spaces/dashes dropped; the "YY" prefix may be left off when typed."""
    code = "".join(c for c in raw if c not in " -").upper()
    if len(code) == CODE_LENGTH:
        code = CODE_PREFIX + code
    return code


def valid_code(code: str) -> bool:
    body = code[len(CODE_PREFIX) :]
    return (
        code.startswith(CODE_PREFIX)
        and len(body) == CODE_LENGTH
        and all(c in CODE_ALPHABET for c in body)
    )
