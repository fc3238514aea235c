"""The county/town roll-up and setting up a site (township hall or village point)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.audit.service import record
from kiosk_server.auth.principal import Principal, Role
from kiosk_server.bootstrap import create_hall
from kiosk_server.context import AppContext
from kiosk_server.core.timing import ServingClock
from kiosk_server.counters import repository as counters_repo
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.errors import BadRequest, NotFound
from kiosk_server.followups.models import ProxyCase
from kiosk_server.followups.service import case_out, case_state_on
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall, Service
from kiosk_server.halls.service import county_only, hall_exists
from kiosk_server.sites import repository as repo
from kiosk_server.sites.schemas import Rollup, SiteCreate, SiteFigures, SiteOut
from kiosk_server.stats.figures import (
    SATISFACTION_STANDARD,
    Figures,
    RatingRecord,
    TicketRecord,
    figures,
)
from kiosk_server.tickets.models import Rating, Ticket

MAX_DAYS = 366


def _records(
    tickets: Sequence[Ticket], services: dict[int, Service], clocks: Mapping[int, ServingClock]
) -> dict[int, list[TicketRecord]]:
    out: dict[int, list[TicketRecord]] = {}
    for t in tickets:
        svc = services[t.service_id]
        out.setdefault(t.hall_id, []).append(
            TicketRecord(
                id=t.id,
                number=t.number,
                service=svc.code,
                service_name=svc.name_zh,
                instant=svc.instant,
                target_minutes=svc.target_minutes,
                channel=t.channel,
                state=t.state,
                issued_at=t.issued_at,
                first_called_at=t.first_called_at,
                started_at=t.started_at,
                finished_at=t.finished_at,
                outcome=t.outcome,
                transferred_from=t.transferred_from_id,
                served_seconds=(
                    counters_repo.ticket_clock(clocks, t).closed_seconds
                    if t.started_at is not None
                    else None
                ),
            )
        )
    return out


def _rating_records(ratings: Sequence[Rating]) -> dict[int, list[RatingRecord]]:
    out: dict[int, list[RatingRecord]] = {}
    for r in ratings:
        out.setdefault(r.hall_id, []).append(
            RatingRecord(ticket_id=r.ticket_id, score=r.score, created_at=r.created_at)
        )
    return out


def _row(
    code: str,
    name: str,
    kind: str,
    counters: int,
    f: Figures,
    cases: tuple[int, int],
) -> SiteFigures:
    sat = f.ratings.satisfaction
    return SiteFigures(
        code=code,
        name=name,
        kind=kind,
        counters=counters,
        issued=f.issued,
        served=f.served,
        no_show=f.no_show,
        transferred=f.transferred,
        outcomes=dict(f.outcomes),
        waiting_now=f.waiting_now,
        wait_avg_minutes=f.wait_avg,
        wait_p50_minutes=f.wait_p50,
        wait_p90_minutes=f.wait_p90,
        instant_served=f.instant_served,
        instant_service_avg_minutes=f.instant_service_avg,
        instant_over_10min_share=f.instant_over_10min_share,
        instant_over_target_share=f.instant_over_target_share,
        instant_meets_standard=f.instant_meets_standard,
        ratings=f.ratings.count,
        rating_rate=f.ratings.rating_rate,
        satisfaction=sat,
        strict_satisfaction=f.ratings.strict_satisfaction,
        satisfaction_meets_standard=None if sat is None else sat >= SATISFACTION_STANDARD,
        bad_ratings=f.ratings.bad,
        open_proxy_cases=cases[0],
        overdue_proxy_cases=cases[1],
    )


def _case_counts(
    cases: Sequence[ProxyCase], config: HallConfig, as_of: date, past: bool
) -> tuple[int, int]:
    """(open, overdue) at the end of ``as_of``. Overdue is decided by the hall
    reports' own rule (``case_out(..., from_history=past)``), so a roll-up of a past
    period says what was overdue when it ended, and re-running it later agrees."""
    open_, overdue = 0, 0
    for c in cases:
        if past and case_state_on(c, config, as_of) not in repo.OPEN_CASE_STATES:
            continue
        open_ += 1
        if case_out(c, config, as_of, from_history=past).overdue:
            overdue += 1
    return open_, overdue


async def rollup(
    ctx: AppContext,
    uow: UnitOfWork,
    who: Principal,
    first: date | None,
    last: date | None,
    kind: str | None = None,
) -> Rollup:
    """Every site the account may see, side by side, with a total row."""
    who.require_role(Role.SUPERVISOR)
    s = uow.session
    sites = [h for h in await repo.halls(s, who.hall_ids) if kind is None or h.kind == kind]
    now = ctx.clock.now()
    # Sites of one deployment share a time zone; the first one's local day is "today".
    today = HallConfig.of(sites[0]).service_day(now) if sites else now.date()
    last = last or first or today
    first = first or last
    if first > last:
        raise BadRequest("'from' must not be after 'to'")
    if (last - first) > timedelta(days=MAX_DAYS):
        raise BadRequest(f"a roll-up covers at most {MAX_DAYS} days; ask for a shorter period")
    ids = [h.id for h in sites]
    services = {svc.id: svc for svc in await repo.services(s, ids)} if ids else {}
    tickets = (
        _records(
            await repo.tickets(s, ids, first, last),
            services,
            await counters_repo.clocks_between(s, ids, first, last),
        )
        if ids
        else {}
    )
    ratings = _rating_records(await repo.ratings(s, ids, first, last)) if ids else {}
    # As in the hall reports (stats.service): overdue as of the period's end, or
    # today if the period runs on; a past end reads each case's history.
    as_of = min(last, today)
    past = as_of < today
    if not ids:
        found: Sequence[ProxyCase] = []
    elif past:
        # Local days start at most a day before the UTC date: a safe lower bound.
        since = datetime.combine(as_of - timedelta(days=1), time.min, UTC)
        found = await repo.cases_maybe_open_on(s, ids, as_of, since)
    else:
        found = await repo.open_cases(s, ids)
    by_hall: dict[int, list[ProxyCase]] = {}
    for c in found:
        by_hall.setdefault(c.hall_id, []).append(c)
    cases = {
        h.id: _case_counts(by_hall.get(h.id, []), HallConfig.of(h), as_of, past) for h in sites
    }
    counters = await repo.counter_counts(s, ids) if ids else {}
    rows = [
        _row(
            h.code,
            h.name,
            h.kind,
            counters.get(h.id, 0),
            figures(h.code, h.name, tickets.get(h.id, []), ratings.get(h.id, [])),
            cases[h.id],
        )
        for h in sites
    ]
    every_ticket = [t for h in sites for t in tickets.get(h.id, [])]
    every_rating = [r for h in sites for r in ratings.get(h.id, [])]
    total = _row(
        "total",
        "合计",
        "total",
        sum(counters.values()),
        figures("total", "合计", every_ticket, every_rating),
        (sum(n for n, _ in cases.values()), sum(n for _, n in cases.values())),
    )
    return Rollup(start=first, end=last, cases_as_of=as_of, sites=rows, total=total)


async def add_site(
    session: AsyncSession,
    code: str,
    name: str,
    kind: str,
    counters: int | None = None,
    has_kiosk: bool | None = None,
) -> Hall:
    """A township hall (4 counters, kiosk, full catalogue) or a village point
    (1 counter, no kiosk, the six village items), unless told otherwise."""
    try:
        await halls_repo.get_hall(session, code)
    except NotFound:
        pass
    else:
        raise hall_exists(code)
    default_counters = 1 if kind == "village" else 4
    hall = await create_hall(session, code, name, kind=kind, counters=counters or default_counters)
    if has_kiosk is not None:
        hall.has_kiosk = has_kiosk
    await session.flush()
    return hall


async def site_out(session: AsyncSession, hall: Hall) -> SiteOut:
    services = await halls_repo.list_services(session, hall.id)
    counters = await halls_repo.list_counters(session, hall.id)
    return SiteOut(
        code=hall.code,
        name=hall.name,
        kind=hall.kind,
        counters=len(counters),
        has_kiosk=hall.has_kiosk,
        services=[svc.code for svc in services],
    )


async def create_site(
    ctx: AppContext, uow: UnitOfWork, who: Principal, body: SiteCreate
) -> SiteOut:
    who.require_role(Role.ADMIN)
    if who.hall_ids is not None:
        raise county_only("add sites", "添加服务点")
    hall = await add_site(
        uow.session, body.code, body.name, body.kind, body.counters, body.has_kiosk
    )
    record(
        ctx, uow, who, "site.create", hall_id=hall.id, target=hall.code, detail={"kind": hall.kind}
    )
    return await site_out(uow.session, hall)
