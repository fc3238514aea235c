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


class HeldTicket(BaseModel):
    """A held (挂起) ticket the counter may call back."""

    id: int
    number: str
    service: str
    service_name: str
    service_name_en: str
    channel: str
    counter: int | None = Field(description="number of the counter that held it")
    here: bool = Field(description="held at this counter")


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
    held: list[HeldTicket] = Field(
        default_factory=list,
        description="today's held tickets of the hall, this counter's first",
    )


class ActionResult(BaseModel):
    ticket: TicketOut | None
    counter: CounterOut
