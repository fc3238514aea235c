from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kiosk_server.core.states import Channel, Outcome


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="service item code; may be left out with an appointment_code (the booking names it)",
    )
    channel: Literal["normal", "green"] | None = Field(
        default=None,
        description="green: 老年人/行动不便 declared at the kiosk; elderly ID numbers are routed there automatically",
    )
    id_number: str | None = Field(default=None, max_length=40)
    appointment_code: str | None = Field(default=None, max_length=16)

    @model_validator(mode="after")
    def _service_or_appointment(self) -> IssueRequest:
        if self.service is None and not self.appointment_code:
            raise ValueError("name the service item (service), or give an appointment_code")
        return self


class TicketOut(BaseModel):
    id: int
    number: str
    service: str
    service_name: str
    service_name_en: str
    channel: Channel
    state: str
    ahead: int | None
    estimated_wait_minutes: int | None
    issued_at: datetime
    status_url: str
    counter: int | None = None
    counter_name: str | None = None
    served_by: str | None = Field(
        default=None,
        description="display name of the staff member who served it (staff views; kept after deactivation)",
    )
    called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    recall_count: int = 0
    outcome: Outcome | None = None
    age_band: str | None = None
    target_minutes: int
    materials: list[str] = []
    printed: bool | None = None
    print_error: str | None = None
    replayed: bool = False


class PublicTicketOut(BaseModel):
    """What a resident's phone sees: nothing personal."""

    number: str
    hall: str
    hall_name: str
    service: str
    service_name: str
    channel: Channel
    state: str
    state_label: str
    ahead: int | None
    estimated_wait_minutes: int | None
    issued_at: datetime
    counter: int | None = None
    called_at: datetime | None = None
    rated: bool = False
    can_rate: bool = False
    hotline: str | None = None


class RatingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: int = Field(
        ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"
    )
    reason: str | None = Field(default=None, max_length=200)


class RatingOut(BaseModel):
    ticket_id: int
    score: int
    label: str
    reason: str | None
    created_at: datetime
