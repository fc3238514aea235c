"""明日窗口安排建议: how many counters to open each hour of a coming day.

The glue between a hall's own data and the simulator's staffing planner
(``hardware_sim.plan.make_plan``, pure, simulating with the real queue core).
The simulator package is imported inside the functions that need it, so
``kiosk_server`` does not load it until a supervisor asks for a plan.

Which history:
  the 28 complete service days before today (today is still running, so its
  counts would be low). Halls have a weekly rhythm, so the plan uses the days
  of the plan day's weekday when at least ``MIN_SAME_WEEKDAY`` of them had
  tickets; otherwise every official working day (Chinese calendar: holidays
  off, make-up days on) that had tickets. Days without tickets are days the
  hall was closed and are not counted; arrivals are averaged over the days used
  (``hardware_sim.history.build_scenario``).

What is planned:
  the plan day's opening hours as the hall has them, public holidays closed and
  make-up working days with weekday hours (the rule appointment slots follow,
  ``core.slots.bookable_spans``); the hall's routing policy; at most the
  counters the hall has, since a window that does not exist cannot be opened:
  when even all of them miss the target the answer says so (``met`` false).
  ``SIM_DAYS`` simulated days (the planner's default, so the dashboard's plan
  is judged like ``hallq plan``'s) with a fixed seed, so the same history always
  gives the same plan. Hours the hall is closed (a lunch break's hour) are left
  out of the answer; the simulator still sees one open day from the first
  opening to the last closing, with nobody arriving in the break.

Cost:
  ``make_plan`` is CPU-bound: measured on 2 cores (township-like halls),
  0.65 s for 4 counters and 180 tickets a day, 1.2 s for 8 counters and 365 a
  day, 3.0 s for 12 counters and 550 a day (8 days with the old per-day check:
  0.27, 3.2 and 3.4 s). It runs in a
  worker thread, one plan at a time per process so the queue's own requests
  keep a core, and the answer is kept in memory per hall, date, target and
  hall settings for ``CACHE_TTL``. It is derived data: the tickets in the
  database stay the truth and a restart only costs a recomputation.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

from kiosk_server.auth.principal import Principal, Role
from kiosk_server.context import AppContext
from kiosk_server.core.hours import Span, format_span
from kiosk_server.core.slots import DayKind, bookable_spans, day_kind
from kiosk_server.core.workdays import is_workday
from kiosk_server.db.uow import unit_of_work
from kiosk_server.errors import ValidationFailed
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig

if TYPE_CHECKING:
    from hardware_sim.history import TicketFacts
    from hardware_sim.plan import Plan
    from hardware_sim.scenario import Scenario

HISTORY_DAYS = 28
MIN_SAME_WEEKDAY = 3
SIM_DAYS = 60
SEED = 1
MAX_DAYS_AHEAD = 31
CACHE_TTL = timedelta(hours=1)
CACHE_SIZE = 64

Basis = Literal["same_weekday", "working_days"]
Reason = Literal["closed", "holiday", "no_history"]


class PlanHour(BaseModel):
    hour: int  # local hour 0-23
    label: str  # "09:00-10:00", "08:30-09:00" for the open part of the hour
    counters: int
    wait_p90_min: float | None  # simulated p90 wait of tickets taken in this hour
    green_wait_p90_min: float | None
    late: bool  # the hour misses the target even so (only when met is false)


class PlanOut(BaseModel):
    met: bool
    hours: list[PlanHour]
    counters_by_hour: dict[str, int]  # "09" -> counters
    counter_hours: int
    peak_counters: int
    simulated_days: int
    tickets_per_day: float
    wait_p90_min: float | None
    green_wait_p90_min: float | None
    normal_wait_max_min: float | None
    within_15_min_share: float | None


class HistoryOut(BaseModel):
    start: date
    end: date
    basis: Basis | None  # None: no usable day
    days: int  # days the plan is based on
    tickets: int


class PlanAnswer(BaseModel):
    hall: str
    date: date
    open: bool
    opening_hours: list[str]  # ["08:30-12:00", "13:30-17:00"]
    counters_available: int
    wait_p90_target_min: float
    green_p90_target_min: float
    history: HistoryOut | None
    plan: PlanOut | None
    reason: Reason | None  # why there is no plan
    message: str | None
    computed_at: datetime


def choose_days(facts: Sequence[TicketFacts], day: date) -> tuple[Basis | None, list[date]]:
    """The history days a plan for ``day`` is built from (see the module's docstring)."""
    with_tickets = sorted({f.day for f in facts})
    same = [d for d in with_tickets if d.weekday() == day.weekday()]
    if len(same) >= MIN_SAME_WEEKDAY:
        return "same_weekday", same
    working = [d for d in with_tickets if is_workday(d)]
    return ("working_days", working) if working else (None, [])


def _minute(t: time) -> int:
    # 24:00 is stored as 23:59:59.
    return 24 * 60 - 1 if t == time(23, 59, 59) else t.hour * 60 + t.minute


def _open_hours(spans: Sequence[Span]) -> dict[int, str]:
    """Local hours that overlap an opening span, labelled with the open part
    (08:30-09:00 on a 08:30 opening); a lunch break's closed hour drops out."""
    out: dict[int, tuple[int, int]] = {}
    for a, b in spans:
        start, end = _minute(a), _minute(b)
        for h in range(start // 60, (end - 1) // 60 + 1):
            lo, hi = max(start, h * 60), min(end, h * 60 + 60)
            old = out.get(h)
            out[h] = (min(lo, old[0]), max(hi, old[1])) if old else (lo, hi)
    return {
        h: f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d}"
        for h, (lo, hi) in sorted(out.items())
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 2)


def plan_out(plan: Plan, hours: dict[int, str], sim_days: int) -> PlanOut:
    green_target = plan.target_p90 / 3.0
    rows = []
    for h, label in hours.items():
        p90, green = plan.by_hour.get(h, (None, None))
        rows.append(
            PlanHour(
                hour=h,
                label=label,
                counters=plan.counters_by_hour.get(h, 0),
                wait_p90_min=_finite(p90),
                green_wait_p90_min=_finite(green),
                late=(p90 or 0.0) > plan.target_p90 or (green or 0.0) > green_target,
            )
        )
    f = plan.figures
    return PlanOut(
        met=plan.met,
        hours=rows,
        counters_by_hour={f"{r.hour:02d}": r.counters for r in rows},
        counter_hours=sum(r.counters for r in rows),
        peak_counters=max((r.counters for r in rows), default=0),
        simulated_days=sim_days,
        tickets_per_day=round(f["tickets"] / sim_days, 1),
        wait_p90_min=f["all_wait_p90_min"],
        green_wait_p90_min=f["elderly_wait_p90_min"],
        normal_wait_max_min=f["normal_wait_max_min"],
        within_15_min_share=f["within_15_min_share"],
    )


def _plan_day(scenario: Scenario, spans: Sequence[Span]) -> Scenario:
    """The history's demand in the plan day's opening hours."""
    return replace(
        scenario,
        open_minute=_minute(spans[0][0]),
        close_minute=_minute(spans[-1][1]),
    )


def _cache(ctx: AppContext) -> OrderedDict[Hashable, tuple[datetime, PlanAnswer]]:
    cache: OrderedDict[Hashable, tuple[datetime, PlanAnswer]] = ctx.extras.setdefault(
        "stats.plan_cache", OrderedDict()
    )
    return cache


def _lock(ctx: AppContext) -> asyncio.Lock:
    lock: asyncio.Lock = ctx.extras.setdefault("stats.plan_lock", asyncio.Lock())
    return lock


def _cached(ctx: AppContext, key: Hashable, now: datetime) -> PlanAnswer | None:
    hit = _cache(ctx).get(key)
    if hit is not None and now - hit[0] < CACHE_TTL:
        return hit[1]
    return None


def _remember(ctx: AppContext, key: Hashable, now: datetime, answer: PlanAnswer) -> None:
    cache = _cache(ctx)
    cache[key] = (now, answer)
    cache.move_to_end(key)
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)


async def plan_for(
    ctx: AppContext, who: Principal, hall_code: str, day: date | None, target: float
) -> PlanAnswer:
    """The counters to open per hour on ``day`` (default tomorrow) for a p90 wait target."""
    now = ctx.clock.now()
    async with unit_of_work(ctx.db, write=False) as uow:
        s = uow.session
        hall = await halls_repo.get_hall(s, hall_code)
        who.require_role(Role.SUPERVISOR, hall.id)
        config = HallConfig.of(hall)
        today = config.service_day(now)
        day = day or today + timedelta(days=1)
        if not today <= day <= today + timedelta(days=MAX_DAYS_AHEAD):
            raise ValidationFailed(
                f"a plan is for today or one of the next {MAX_DAYS_AHEAD} days",
                details={"field": "date"},
            )
        spans = tuple(bookable_spans(config.hours, day))
        n_counters = len(await halls_repo.list_counters(s, hall.id))
        answer = PlanAnswer(
            hall=hall.code,
            date=day,
            open=bool(spans),
            opening_hours=[format_span(x) for x in spans],
            counters_available=n_counters,
            wait_p90_target_min=target,
            green_p90_target_min=round(target / 3.0, 2),
            history=None,
            plan=None,
            reason=None,
            message=None,
            computed_at=now,
        )
        if not spans:
            holiday = day_kind(config.hours, day) is DayKind.HOLIDAY
            answer.reason = "holiday" if holiday else "closed"
            answer.message = (
                f"{day} is a public holiday: the hall is closed"
                if holiday
                else f"the hall is closed on {day} (its opening hours)"
            )
            return answer
        # Settings that change the plan are part of the key: editing the hall's
        # hours, policy or counters gives a new plan at once.
        key = (hall.id, day, target, today, spans, config.params, n_counters)
        hit = _cached(ctx, key, now)
        if hit is not None:
            return hit
        from hardware_sim.history import build_scenario, ticket_facts

        start, end = today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1)
        facts = await ticket_facts(s, hall, start, end)
        basis, days = choose_days(facts, day)
        chosen = set(days)
        used = [f for f in facts if f.day in chosen]
        answer.history = HistoryOut(
            start=start, end=end, basis=basis, days=len(days), tickets=len(used)
        )
        if not used:
            answer.reason = "no_history"
            answer.message = (
                f"no tickets on working days from {start} to {end}: not enough history to plan"
            )
            return answer
        services = list(await halls_repo.list_services(s, hall.id, enabled_only=False))
        scenario = _plan_day(build_scenario(hall, services, used, start, end), spans)
    # The simulation runs outside the transaction: no database session is held.
    async with _lock(ctx):
        # Another request may have computed it while this one waited.
        hit = _cached(ctx, key, now)
        if hit is not None:
            return hit
        answer.plan = await asyncio.to_thread(
            _simulate, scenario, target, config, n_counters, _open_hours(spans)
        )
    _remember(ctx, key, now, answer)
    return answer


def _simulate(
    scenario: Scenario, target: float, config: HallConfig, counters: int, hours: dict[int, str]
) -> PlanOut:
    from hardware_sim.plan import make_plan

    plan = make_plan(
        scenario, target, config.params, days=SIM_DAYS, seed=SEED, max_counters=max(1, counters)
    )
    return plan_out(plan, hours, SIM_DAYS)
