from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from kiosk_server.core.states import Outcome
from kiosk_server.tickets.schemas import TicketOut


class CallNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")
    number: str = Field(min_length=2, max_length=8, examples=["A012"])


class Finish(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Outcome = Outcome.COMPLETED


class Transfer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    service: str | None = Field(default=None, max_length=40, description="item code to move to")
    counter: int | None = Field(default=None, ge=1, le=999, description="counter number to move to")


class CounterOut(BaseModel):
    id: int
    hall: str
    number: int
    name: str
    state: str
    services: list[str] | None
    staff: str | None
    ticket: TicketOut | None
    elapsed_seconds: int | None
    clock: str | None  # ok | amber | red
    waiting_for_me: int


class ActionResult(BaseModel):
    ticket: TicketOut | None
    counter: CounterOut
