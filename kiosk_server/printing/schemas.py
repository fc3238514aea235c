from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

JobState = Literal["queued", "sent", "printed", "failed"]


class PrintJobOut(BaseModel):
    id: int
    ticket_id: int
    number: str
    target: Literal["local", "agent"]
    state: JobState
    printed: bool
    attempts: int
    code: str | None
    reason: str | None
    reprint: bool
    device_id: int | None
    created_at: datetime
    updated_at: datetime


class PrinterStateOut(BaseModel):
    """What the kiosk page needs to warn a resident before the tap."""

    mode: Literal["local", "agent", "off"]
    state: str
    text: str
    can_print: bool
    device_id: int | None
    agents_connected: int | None
    status: dict[str, Any]
