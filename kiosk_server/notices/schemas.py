from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

NoticeKind = Literal["scroll", "policy"]


class NoticeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: NoticeKind = Field(description="scroll: the scrolling line; policy: a policy notice")
    title: str = Field(default="", max_length=100)
    text: str = Field(min_length=1, max_length=500)
    start_date: date = Field(description="first day shown (hall's local date)")
    end_date: date = Field(description="last day shown, inclusive")
    sort_order: int = Field(default=0, ge=0, le=10_000)


class NoticePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: NoticeKind | None = None
    title: str | None = Field(default=None, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=500)
    start_date: date | None = None
    end_date: date | None = None
    sort_order: int | None = Field(default=None, ge=0, le=10_000)


class NoticeOut(BaseModel):
    id: int
    hall: str
    kind: NoticeKind
    title: str
    text: str
    start_date: date
    end_date: date
    sort_order: int
    active: bool
    status: Literal["scheduled", "active", "expired"]
