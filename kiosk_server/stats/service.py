"""Turns the database into figure records and the figures into the supervisor's views."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from kiosk_server.auth.principal import Principal, Role
from kiosk_server.context import AppContext
from kiosk_server.core.states import TicketState
from kiosk_server.core.timing import over_target
from kiosk_server.counters import repository as counters_repo
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.errors import ValidationFailed
from kiosk_server.followups import repository as followups_repo
from kiosk_server.followups.service import case_out, case_summary, followup_out, followup_summary
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall
from kiosk_server.stats import repository as repo
from kiosk_server.stats.figures import FigureInput, RatingRecord, Report, TicketRecord, build_report

MAX_DAYS = 366

# Other packages (appointments…) add figures: ctx.extras["stats_extensions"] is a
# list of async fn(ctx, uow, hall, start, end) -> (name, dict), copied into
# Report.extensions[name] and shown in the reports' summary.
StatsExtension = Callable[
    [AppContext, UnitOfWork, Hall, date, date], Awaitable[tuple[str, dict[str, Any]]]
]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    label: str  # for titles: 2026-11-25 or 2026年11月

    @classmethod
    def day(cls, d: date) -> Period:
        return cls(d, d, f"{d:%Y年%m月%d日}")

    @classmethod
    def month(cls, text: str) -> Period:
        try:
            first = datetime.strptime(text, "%Y-%m").date()
        except ValueError:
            raise ValidationFailed(
                f"{text!r} is not a month like 2026-11", details={"field": "month"}
            ) from None
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return cls(first, nxt - timedelta(days=1), f"{first:%Y年%m月}")

    @classmethod
    def range(cls, start: date, end: date) -> Period:
        if end < start:
            raise ValidationFailed("the period ends before it starts", details={"field": "to"})
        if (end - start).days >= MAX_DAYS:
            raise ValidationFailed(f"a period is at most {MAX_DAYS} days", details={"field": "to"})
        if start == end:
            return cls.day(start)
        return cls(start, end, f"{start:%Y年%m月%d日}至{end:%Y年%m月%d日}")


def open_minutes(config: HallConfig, start: date, end: date) -> float:
    """Minutes the hall is open over the period (the utilisation denominator per counter)."""
    total = 0.0
    day = start
    while day <= end:
        for a, b in config.hours.spans_on(day):
            total += (datetime.combine(day, b) - datetime.combine(day, a)).total_seconds() / 60
        day += timedelta(days=1)
    return total


async def figure_input(
    ctx: AppContext, uow: UnitOfWork, hall: Hall, start: date, end: date
) -> FigureInput:
    s = uow.session
    config = HallConfig.of(hall)
    services = {x.id: x for x in await halls_repo.list_services(s, hall.id, enabled_only=False)}
    counters = {c.id: c.number for c in await halls_repo.list_counters(s, hall.id)}
    tickets = await repo.tickets_between(s, hall.id, start, end)
    clocks = await counters_repo.clocks_between(s, [hall.id], start, end)
    ratings = await repo.ratings_for_days(s, hall.id, start, end)
    user_ids = {u for t in tickets for u in (t.served_by_id, t.called_by_id) if u is not None}
    user_ids |= {r.staff_user_id for r in ratings if r.staff_user_id is not None}
    names = await repo.user_names(s, user_ids)
    records = []
    for t in tickets:
        svc = services[t.service_id]
        staff_id = t.served_by_id or t.called_by_id
        records.append(
            TicketRecord(
                id=t.id,
                number=t.number,
                service=svc.code,
                service_name=svc.name_zh,
                instant=svc.instant,
                target_minutes=svc.target_minutes,
                channel=t.channel,
                state=t.state,
                issued_at=t.order_at,
                first_called_at=t.first_called_at,
                started_at=t.started_at,
                finished_at=t.finished_at,
                counter=counters.get(t.counter_id) if t.counter_id else None,
                staff=names.get(staff_id) if staff_id else None,
                staff_id=staff_id,
                outcome=t.outcome,
                transferred_from=t.transferred_from_id,
                served_seconds=(
                    counters_repo.ticket_clock(clocks, t).closed_seconds
                    if t.started_at is not None
                    else None
                ),
            )
        )
    by_id = {r.id: r for r in records}
    rating_records = [
        RatingRecord(
            ticket_id=r.ticket_id,
            score=r.score,
            created_at=r.created_at,
            service=by_id[r.ticket_id].service if r.ticket_id in by_id else None,
            counter=counters.get(r.counter_id) if r.counter_id else None,
            staff=names.get(r.staff_user_id) if r.staff_user_id else None,
            staff_id=r.staff_user_id,
        )
        for r in ratings
    ]
    extensions = await _followup_extensions(ctx, uow, hall, config, start, end)
    for ext in ctx.extras.get("stats_extensions", []):
        name, data = await ext(ctx, uow, hall, start, end)
        extensions[name] = data
    return FigureInput(
        tickets=records,
        ratings=rating_records,
        tz=config.tz,
        start=start,
        end=end,
        open_minutes=open_minutes(config, start, end) or None,
        extensions=extensions,
    )


async def _followup_extensions(
    ctx: AppContext, uow: UnitOfWork, hall: Hall, config: HallConfig, start: date, end: date
) -> dict[str, dict[str, Any]]:
    s = uow.session
    today = config.service_day(ctx.clock.now())
    # Overdue as of the period's end (or today, if earlier): re-running last
    # month's report later must not change what it says was overdue.
    as_of = min(end, today)
    past = as_of < today
    fus = [
        followup_out(
            f,
            as_of,
            await followups_repo.user_name(s, f.staff_user_id),
            as_of=config if past else None,
        )
        for f in await followups_repo.list_followups(s, hall.id)
        if start <= config.service_day(f.opened_at) <= end
    ]
    cases = [
        case_out(c, config, as_of, from_history=past)
        for c in await followups_repo.list_cases(s, hall.id, day_from=start, day_to=end)
    ]
    return {
        "followups": {
            **followup_summary(fus, as_of if past else None, config.service_day),
            "as_of": as_of.isoformat(),
            "items": [f.model_dump(mode="json") for f in fus],
        },
        "cases": {
            **case_summary(cases, as_of if past else None, config.service_day),
            "as_of": as_of.isoformat(),
            "items": [c.model_dump(mode="json") for c in cases],
        },
    }


async def report(
    ctx: AppContext, uow: UnitOfWork, who: Principal | None, hall_code: str, period: Period
) -> tuple[Hall, Report]:
    """``who`` None: the local CLI, which has the database file and so every right."""
    hall = await halls_repo.get_hall(uow.session, hall_code)
    if who is not None:
        who.require_role(Role.SUPERVISOR, hall.id)
    data = await figure_input(ctx, uow, hall, period.start, period.end)
    return hall, build_report(data)


def today(ctx: AppContext, hall: Hall) -> date:
    return HallConfig.of(hall).service_day(ctx.clock.now())


async def live(ctx: AppContext, uow: UnitOfWork, who: Principal, hall_code: str) -> dict[str, Any]:
    """The dashboard's "now": waiting per item, transactions over target, today's bad ratings."""
    s = uow.session
    hall = await halls_repo.get_hall(s, hall_code)
    who.require_role(Role.SUPERVISOR, hall.id)
    config = HallConfig.of(hall)
    now = ctx.clock.now()
    day = config.service_day(now)
    services = {x.id: x for x in await halls_repo.list_services(s, hall.id, enabled_only=False)}
    counters = {c.id: c for c in await halls_repo.list_counters(s, hall.id)}
    tickets = await repo.tickets_between(s, hall.id, day, day)
    at_counters = [t for t in tickets if t.state in ("called", "serving")]
    clocks = await counters_repo.clocks_for(s, [t.id for t in at_counters])
    waiting: dict[str, dict[str, Any]] = {}
    for x in services.values():
        if x.enabled:
            waiting[x.code] = {
                "service": x.code,
                "name": x.name_zh,
                "name_en": x.name_en,
                "waiting": 0,
            }
    overtime = []
    counter_rows = []
    for w in tickets:
        if w.state == TicketState.WAITING.value:
            ws = services[w.service_id]
            row = waiting.setdefault(
                ws.code,
                {"service": ws.code, "name": ws.name_zh, "name_en": ws.name_en, "waiting": 0},
            )
            row["waiting"] += 1
    for c in counters.values():
        t = next((x for x in at_counters if x.counter_id == c.id), None)
        svc = services[t.service_id] if t else None
        elapsed = None
        clock_since = None
        if t is not None and t.started_at is not None:
            # Serving time over every segment (a hold and call-back neither
            # resets it nor counts the time held).
            clock = counters_repo.ticket_clock(clocks, t)
            served = clock.seconds(now)
            elapsed = int(served)
            if clock.running_since is not None:
                clock_since = now - timedelta(seconds=served)
        over = bool(svc and elapsed is not None and over_target(elapsed, svc.target_minutes))
        counter_rows.append(
            {
                "counter": c.number,
                "name": c.name,
                "state": c.state,
                "number": t.number if t else None,
                "ticket_state": t.state if t else None,
                "service_name": svc.name_zh if svc else None,
                # Where the page's ticking clock counts from: now minus the
                # serving time so far (the first start unless the ticket was
                # held); None while the clock is stopped (called back, not
                # started again). first_started_at is the real first start.
                "started_at": clock_since.isoformat() if clock_since else None,
                "first_started_at": t.started_at.isoformat() if t and t.started_at else None,
                "elapsed_seconds": elapsed,
                "target_minutes": svc.target_minutes if svc else None,
                "overtime": over,
            }
        )
        if over and t and svc:
            overtime.append(
                {
                    "counter": c.number,
                    "number": t.number,
                    "service_name": svc.name_zh,
                    "elapsed_seconds": elapsed,
                    "target_minutes": svc.target_minutes,
                }
            )
    fus = [
        followup_out(f, day, await followups_repo.user_name(s, f.staff_user_id))
        for f in await followups_repo.list_followups(s, hall.id)
    ]
    return {
        "hall": hall.code,
        "hall_name": hall.name,
        "date": day.isoformat(),
        "now": now.isoformat(),
        "waiting": list(waiting.values()),
        "waiting_total": sum(int(w["waiting"]) for w in waiting.values()),
        "counters": counter_rows,
        "overtime": overtime,
        "bad_ratings_today": [
            f.model_dump(mode="json") for f in fus if config.service_day(f.opened_at) == day
        ],
        "followups_overdue": [f.model_dump(mode="json") for f in fus if f.overdue],
    }
