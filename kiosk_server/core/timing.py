"""Transaction timing against the item's target (10 minutes for instant items).

A transaction is timed only while it is being served. A resident sent to fetch
a paper is held (挂起) and later called back (回呼) and started again: the
service time is the sum of the serving segments (start → hold, start → finish),
and the time spent held is not counted. The first start is never overwritten,
so holding and calling back neither loses a segment nor resets the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime


def minutes_between(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60.0


@dataclass(frozen=True)
class ServingClock:
    """The serving time of one transaction.

    ``closed_seconds`` is the total of the segments already ended (by a hold, a
    finish or a transfer); ``running_since`` is the start of the segment being
    served now, or None while the ticket is not being served.
    """

    closed_seconds: float = 0.0
    running_since: datetime | None = None
    segments: int = 0

    def start(self, now: datetime) -> ServingClock:
        """Start (or restart after a call-back) a serving segment; a running one goes on."""
        if self.running_since is not None:
            return self
        return replace(self, running_since=now, segments=self.segments + 1)

    def stop(self, now: datetime) -> ServingClock:
        """End the running segment (hold, finish, transfer) and add it to the total."""
        if self.running_since is None:
            return self
        return ServingClock(self.seconds(now), None, self.segments)

    def seconds(self, now: datetime) -> float:
        """Serving time up to ``now``: the ended segments plus the running one."""
        running = 0.0
        if self.running_since is not None:
            running = max(0.0, (now - self.running_since).total_seconds())
        return self.closed_seconds + running


def over_target(served_seconds: float, target_minutes: int) -> bool:
    """Past the item's target: the overtime alert and the counter clock's red."""
    return served_seconds > target_minutes * 60


def clock_level(elapsed_seconds: float, target_minutes: int) -> str:
    """ok / amber at 80 % of the target / red past it: the counter page's clock."""
    target = target_minutes * 60
    if over_target(elapsed_seconds, target_minutes):
        return "red"
    if elapsed_seconds >= 0.8 * target:
        return "amber"
    return "ok"
