"""Transaction timing against the item's target (10 minutes for instant items)."""

from __future__ import annotations

from datetime import datetime


def minutes_between(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60.0


def is_overtime(started_at: datetime, now: datetime, target_minutes: int) -> bool:
    return minutes_between(started_at, now) > target_minutes


def clock_level(elapsed_seconds: float, target_minutes: int) -> str:
    """ok / amber at 80 % of the target / red past it: the counter page's clock."""
    target = target_minutes * 60
    if elapsed_seconds > target:
        return "red"
    if elapsed_seconds >= 0.8 * target:
        return "amber"
    return "ok"
