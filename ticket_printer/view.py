"""The ticket as the printer sees it: a plain value object, never a database row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Channel = Literal["normal", "green", "appointment"]
CHANNELS: tuple[Channel, ...] = ("normal", "green", "appointment")


@dataclass(frozen=True)
class TicketView:
    """Everything a printed ticket shows.

    The server builds this from its own models so the printing code never
    depends on the database layer.
    """

    hall_name: str
    number: str
    service_name: str
    service_name_en: str | None
    channel: Channel
    ahead: int
    estimated_wait_minutes: int | None
    issued_at: datetime
    materials: list[str] = field(default_factory=list)
    status_url: str = ""
    hotline: str | None = None
    notice: str = "过号请重新取号"
    guide: str | None = None

    def __post_init__(self) -> None:
        # Fail at construction rather than print a misleading ticket later.
        if not self.number.strip():
            raise ValueError("ticket number must not be empty")
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {CHANNELS}")
        if self.ahead < 0:
            raise ValueError("ahead must be >= 0")
        if self.estimated_wait_minutes is not None and self.estimated_wait_minutes < 0:
            raise ValueError("estimated_wait_minutes must be >= 0")
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware (hall local time)")
