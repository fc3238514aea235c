"""Roll-up and site set-up payloads."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{1,39}$"


class SiteFigures(BaseModel):
    """One site's figures for the period, or the total over all sites shown."""

    code: str
    name: str
    kind: str  # township | village | total
    counters: int
    issued: int
    served: int
    no_show: int
    transferred: int
    outcomes: dict[str, int] = Field(
        description="finished transactions by outcome: completed (办结), incomplete_papers "
        "(容缺受理), informed (一次性告知), proxy (帮办代办)"
    )
    waiting_now: int
    wait_avg_minutes: float | None
    wait_p50_minutes: float | None
    wait_p90_minutes: float | None
    instant_served: int
    instant_service_avg_minutes: float | None
    instant_over_10min_share: float | None = Field(
        description="share of instant transactions (即时办结) whose service time was over "
        "10 minutes, the standard's limit, whatever the item's own target"
    )
    instant_over_target_share: float | None = Field(
        description="share of instant transactions over their item's own target "
        "(target_minutes: 10 unless an admin changed it; the hall reports' 即时办结事项超时占比)"
    )
    instant_meets_standard: bool | None
    ratings: int
    rating_rate: float | None
    satisfaction: float | None = Field(description="非常满意+满意+基本满意 over all ratings")
    strict_satisfaction: float | None = Field(
        default=None, description="非常满意+满意 only (the strict reading)"
    )
    satisfaction_meets_standard: bool | None
    bad_ratings: int
    open_proxy_cases: int = Field(
        description="帮办代办 cases open (accepted, submitted or result returned) at the end "
        "of cases_as_of, whenever they were opened"
    )
    overdue_proxy_cases: int = Field(
        description="of those, accepted and past their 3-working-day deadline on cases_as_of "
        "(the hall reports' rule)"
    )


class Rollup(BaseModel):
    start: date
    end: date
    cases_as_of: date = Field(
        description="the day proxy cases are counted at: the period's end, or today if the "
        "period runs on"
    )
    sites: list[SiteFigures]
    total: SiteFigures


class SiteCreate(BaseModel):
    code: str = Field(pattern=CODE_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    kind: Literal["township", "village"] = "village"
    counters: int | None = Field(
        default=None, ge=1, le=30, description="default: 1 for a village point, 4 for a hall"
    )
    has_kiosk: bool | None = Field(
        default=None, description="default: no kiosk at a village point (staff issue tickets)"
    )


class SiteOut(BaseModel):
    code: str
    name: str
    kind: str
    counters: int
    has_kiosk: bool
    services: list[str]
