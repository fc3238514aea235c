from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class FollowUpState(StrEnum):
    OPEN = "open"
    CALLED_BACK = "called_back"
    RESOLVED = "resolved"


class CaseState(StrEnum):
    ACCEPTED = "accepted"  # 已受理
    SUBMITTED = "submitted"  # 已上报
    RESULT_RETURNED = "result_returned"  # 结果已返回
    HANDED_OVER = "handed_over"  # 已送达
    RETURNED_INCOMPLETE = "returned_incomplete"  # 材料不全退回


CASE_STATE_LABELS = {
    CaseState.ACCEPTED: "已受理",
    CaseState.SUBMITTED: "已上报",
    CaseState.RESULT_RETURNED: "结果已返回",
    CaseState.HANDED_OVER: "已送达",
    CaseState.RETURNED_INCOMPLETE: "材料不全退回",
}
FOLLOWUP_STATE_LABELS = {
    FollowUpState.OPEN: "待回访",
    FollowUpState.CALLED_BACK: "已回访",
    FollowUpState.RESOLVED: "已整改",
}


class FollowUpOut(BaseModel):
    id: int
    ticket_id: int
    number: str
    service: str
    service_name: str
    counter: int | None
    staff: str | None
    score: int
    score_label: str
    reason: str | None
    state: FollowUpState
    state_label: str
    opened_at: datetime
    callback_due: date
    resolve_due: date
    callback_overdue: bool
    resolve_overdue: bool
    overdue: bool
    called_back_at: datetime | None
    callback_note: str | None
    cause: str | None
    action_taken: str | None
    second_opinion: int | None
    second_opinion_note: str | None
    resolved_at: datetime | None
    updated_by: str | None


class FollowUpPatch(BaseModel):
    """What the supervisor records; ``called_back``/``resolved`` move the state forward."""

    model_config = ConfigDict(extra="forbid")
    called_back: bool | None = None
    callback_note: str | None = Field(default=None, max_length=2000)
    cause: str | None = Field(default=None, max_length=2000)
    action_taken: str | None = Field(default=None, max_length=2000)
    second_opinion: int | None = Field(default=None, ge=1, le=5)
    second_opinion_note: str | None = Field(default=None, max_length=2000)
    resolved: bool | None = None


class CaseOut(BaseModel):
    id: int
    ticket_id: int
    number: str
    service_day: date
    service: str
    service_name: str
    staff: str | None
    resident_ref: str
    materials_complete_on: date
    deadline: date
    state: CaseState
    state_label: str
    overdue: bool
    submitted_late: bool
    opened_at: datetime
    submitted_at: datetime | None
    result_at: datetime | None
    closed_at: datetime | None
    note: str | None
    history: list[dict[str, str | None]]


class CasePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    state: CaseState | None = None
    materials_complete_on: date | None = Field(
        default=None,
        description="the day the materials were complete: between the case's service day and today",
    )
    # Entered in full by staff, stored masked only (张*三, 138****5678).
    resident_name: str | None = Field(default=None, max_length=40)
    resident_phone: str | None = Field(default=None, max_length=20, pattern=r"^[0-9+\- ]{4,20}$")
    note: str | None = Field(default=None, max_length=2000)
