"""A scenario from a hall's own history, for ``hallq plan --hall``.

Reads the hall's tickets between two dates (the only database access of the
simulator package lives here) and turns them into the scenario format:
arrivals per hour per item averaged over the days that had tickets, service
minutes (mean, sd, outliers dropped as the estimator does), the green share per
hour and the no-show rate. Counters are left to the planner.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hardware_sim.scenario import CounterSpec, Item, Scenario, ServiceMinutes
from kiosk_server.core.estimate import _without_outliers
from kiosk_server.core.states import Channel, TicketState
from kiosk_server.counters.models import ServingTime
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall, Service
from kiosk_server.tickets.models import Ticket


@dataclass(frozen=True)
class TicketFacts:
    service_id: int
    day: date
    issued_local: datetime
    green: bool
    state: str
    service_minutes: float | None


async def ticket_facts(
    session: AsyncSession, hall: Hall, date_from: date, date_to: date
) -> list[TicketFacts]:
    config = HallConfig.of(hall)
    stmt = (
        select(
            Ticket.service_id,
            Ticket.service_day,
            Ticket.issued_at,
            Ticket.channel,
            Ticket.state,
            Ticket.started_at,
            Ticket.finished_at,
            # A transferred ticket continues as another row: count the resident once.
            Ticket.transferred_from_id,
            # Serving time over every segment (a hold's time not counted).
            ServingTime.served_seconds,
        )
        .outerjoin(ServingTime, ServingTime.ticket_id == Ticket.id)
        .where(
            Ticket.hall_id == hall.id,
            Ticket.service_day >= date_from,
            Ticket.service_day <= date_to,
        )
    )
    out: list[TicketFacts] = []
    for sid, day, issued, channel, state, started, finished, moved, served in (
        await session.execute(stmt)
    ).all():
        if moved is not None:
            continue
        minutes = None
        if state == TicketState.DONE.value and served is not None:
            minutes = served / 60.0
        elif state == TicketState.DONE.value and started and finished:
            minutes = (finished - started).total_seconds() / 60.0
        out.append(
            TicketFacts(
                sid, day, config.local(issued), channel == Channel.GREEN.value, state, minutes
            )
        )
    return out


def build_scenario(
    hall: Hall, services: list[Service], facts: list[TicketFacts], date_from: date, date_to: date
) -> Scenario:
    if not facts:
        raise LookupError(f"hall {hall.code} has no tickets from {date_from} to {date_to}")
    days = len({f.day for f in facts})
    by_service: dict[int, list[TicketFacts]] = defaultdict(list)
    for f in facts:
        by_service[f.service_id].append(f)
    items: list[Item] = []
    for s in services:
        rows = by_service.get(s.id)
        if not rows:
            continue
        per_hour: dict[int, float] = defaultdict(float)
        for f in rows:
            per_hour[f.issued_local.hour] += 1.0 / days
        samples = [f.service_minutes for f in rows if f.service_minutes is not None]
        kept = _without_outliers(samples) if samples else []
        mean = statistics.fmean(kept) if kept else max(1.0, 0.6 * s.target_minutes)
        sd = statistics.stdev(kept) if len(kept) >= 2 else 0.0
        items.append(
            Item(
                code=s.code,
                prefix=s.prefix,
                instant=s.instant,
                target_minutes=s.target_minutes,
                service_minutes=ServiceMinutes(max(0.1, round(mean, 2)), round(sd, 2)),
                arrivals_per_hour={h: round(v, 2) for h, v in sorted(per_hour.items())},
            )
        )
    first = min(f.issued_local for f in facts)
    hours_seen = sorted({f.issued_local.hour for f in facts})
    open_minute = min(f.issued_local.hour * 60 + f.issued_local.minute for f in facts)
    open_minute = min(open_minute, hours_seen[0] * 60 + 30) // 30 * 30
    close_minute = min(24 * 60 - 1, (hours_seen[-1] + 1) * 60)
    green: dict[int, list[bool]] = defaultdict(list)
    for f in facts:
        green[f.issued_local.hour].append(f.green)
    called = [f for f in facts if f.state in (TicketState.DONE.value, TicketState.NO_SHOW.value)]
    no_shows = sum(1 for f in called if f.state == TicketState.NO_SHOW.value)
    return Scenario(
        name=f"{hall.name} ({hall.code}) history {date_from} to {date_to}",
        description=f"Built from {len(facts)} tickets over {days} day(s) from {first:%Y-%m-%d}.",
        open_minute=open_minute,
        close_minute=close_minute,
        counters=(CounterSpec(1, ((open_minute, close_minute),), None),),
        items=tuple(items),
        elderly_age=hall.elderly_age,
        elderly_share_by_hour={h: round(sum(v) / len(v), 3) for h, v in sorted(green.items())},
        no_show_rate=round(no_shows / len(called), 4) if called else 0.0,
    )


async def scenario_from_history(
    session: AsyncSession, hall_code: str, date_from: date, date_to: date
) -> Scenario:
    hall = await halls_repo.get_hall(session, hall_code)
    services = list(await halls_repo.list_services(session, hall.id, enabled_only=False))
    facts = await ticket_facts(session, hall, date_from, date_to)
    return build_scenario(hall, services, facts, date_from, date_to)


async def scenario_from_history_cli(
    hall_code: str, date_from: date, date_to: date, data_dir: str | None
) -> Scenario:
    from kiosk_server.db.engine import Database
    from kiosk_server.settings import Settings

    settings = Settings(data_dir=Path(data_dir)) if data_dir else Settings()
    db = Database(settings)
    try:
        async with db.read_sessions() as session:
            return await scenario_from_history(session, hall_code, date_from, date_to)
    finally:
        await db.dispose()
