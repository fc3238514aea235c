"""The hall's queue as the core sees it: policy order, counters' load, estimates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.context import AppContext
from kiosk_server.core.estimate import (
    CounterLoad,
    DispatchEstimator,
    GreenOutlook,
    ServiceTimes,
    ahead_counts,
    robust_typical,
)
from kiosk_server.core.policy import PolicyState, QueueEntry
from kiosk_server.core.states import Channel, TicketState
from kiosk_server.core.timing import ServingClock
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Counter, Hall, Service
from kiosk_server.tickets import repository as repo
from kiosk_server.tickets.models import Ticket
from kiosk_server.tickets.repository import OpenTicket

HISTORY_TTL = timedelta(seconds=60)


def entry_of(
    t: Ticket | OpenTicket, service_code: str, counter_numbers: dict[int, int]
) -> QueueEntry:
    return QueueEntry(
        ticket_id=t.id,
        number=t.number,
        service=service_code,
        channel=Channel(t.channel),
        issued_at=t.order_at,
        slot_start=t.slot_start,
        slot_end=t.slot_end,
        counter=counter_numbers.get(t.target_counter_id) if t.target_counter_id else None,
    )


@dataclass
class QueueView:
    hall: Hall
    config: HallConfig
    services: dict[int, Service]
    counters: list[Counter]
    ordered: list[QueueEntry]
    estimates: list[float | None]
    loads: list[CounterLoad]
    at_counter: dict[int, OpenTicket]  # counter id -> ticket called/serving there
    tickets: dict[int, OpenTicket]  # waiting tickets by id
    # Worked out on first use, for every position at once (a batch of issues or a
    # queue listing asks for many).
    _positions: dict[int, int] | None = field(default=None, repr=False)
    _ahead: list[int] | None = field(default=None, repr=False)

    def position(self, ticket_id: int) -> int | None:
        if self._positions is None:
            self._positions = {e.ticket_id: i for i, e in enumerate(self.ordered)}
        return self._positions.get(ticket_id)

    def ahead_of(self, index: int) -> int:
        if self._ahead is None:
            self._ahead = ahead_counts(self.ordered, self.loads)
        return self._ahead[index]

    def waiting_by_service(self) -> dict[int, tuple[int, int]]:
        """service id -> (waiting, of which green)."""
        out: dict[int, tuple[int, int]] = {}
        for t in self.tickets.values():
            w, g = out.get(t.service_id, (0, 0))
            out[t.service_id] = (w + 1, g + (1 if t.channel == Channel.GREEN.value else 0))
        return out


def _minutes_until(config: HallConfig, local: datetime, at: time) -> float:
    moment = datetime.combine(local.date(), at, tzinfo=config.tz)
    return (moment - local).total_seconds() / 60.0


def counter_shifts(config: HallConfig, now: datetime) -> list[tuple[float, float | None]]:
    """(available in, closes in) minutes of the shifts an open counter still works
    today, from the hall's hours (counters have no hours of their own): the rule
    the simulator applies to a counter whose hours are the hall's. A shift ends
    with its span, except the day's last, which serves the queue out; a span still
    to come (after lunch) is a shift that starts then."""
    local = config.local(now)
    spans = config.hours.spans_on(local.date())
    out: list[tuple[float, float | None]] = []
    for start, end in spans:
        ends_in = _minutes_until(config, local, end)
        last = (start, end) == spans[-1]
        if ends_in <= 0 and not last:
            continue
        out.append((max(0.0, _minutes_until(config, local, start)), None if last else ends_in))
    # No hours today (or none known): the open counter serves on, as before.
    return out or [(0.0, None)]


def issuing_ends_in(config: HallConfig, now: datetime) -> float | None:
    """Minutes until the kiosk stops issuing (the end of the span it is in): the
    greens still to come arrive until then. Outside the hours none are expected
    (the model has no gap for lunch; those after it would be guesses); on a day
    without hours there is no limit, as before."""
    local = config.local(now)
    spans = config.hours.spans_on(local.date())
    if not spans:
        return None
    for start, end in spans:
        if start <= local.time() < end:
            return _minutes_until(config, local, end)
    return 0.0


def elapsed_minutes(busy: OpenTicket, now: datetime) -> float:
    """How long the transaction at a counter has run, as the counter page shows
    it: once started, the serving clock (summed segments, without the time a
    held ticket waited); called and not started, since the call."""
    seconds = 0.0
    if busy.started_at is not None:
        if busy.served_seconds is not None:
            seconds = ServingClock(busy.served_seconds, busy.running_since).seconds(now)
        elif busy.state == TicketState.SERVING.value:
            # A row written without its clock (imports, tests): one segment.
            seconds = (now - busy.started_at).total_seconds()
    elif busy.called_at is not None:
        seconds = (now - busy.called_at).total_seconds()
    return max(0.0, seconds / 60.0)


async def service_times(
    ctx: AppContext, session: AsyncSession, hall_id: int, services: Sequence[Service], now: datetime
) -> ServiceTimes:
    cache_key = f"service_times:{hall_id}"
    cached = ctx.extras.get(cache_key)
    if cached is not None and now - cached[0] < HISTORY_TTL:
        times: ServiceTimes = cached[1]
        return times
    history = await repo.recent_service_minutes(session, hall_id, now - timedelta(days=14))
    code_of = {s.id: s.code for s in services}
    typical: dict[str, float] = {}
    for service_id, samples in history.items():
        value = robust_typical(samples)
        if value is not None and service_id in code_of:
            typical[code_of[service_id]] = value
    # Without history, assume a transaction takes 60 % of its target.
    fallback = {s.code: max(1.0, 0.6 * s.target_minutes) for s in services}
    by_code = {code_of[k]: tuple(v) for k, v in history.items() if k in code_of}
    times = ServiceTimes(typical=typical, fallback=fallback, samples=by_code)
    ctx.extras[cache_key] = (now, times)
    return times


GREEN_RATE_WINDOW = timedelta(minutes=60)


async def green_outlook(
    ctx: AppContext,
    session: AsyncSession,
    hall: Hall,
    config: HallConfig,
    services: dict[int, Service],
    times: ServiceTimes,
    now: datetime,
) -> GreenOutlook | None:
    """Greens expected to arrive, from the last hour's rate (cached like the history)."""
    cache_key = f"green_rate:{hall.id}"
    cached = ctx.extras.get(cache_key)
    if cached is not None and now - cached[0] < HISTORY_TTL:
        ids: list[int] = cached[1]
    else:
        ids = await repo.green_issued_since(
            session, hall.id, config.service_day(now), now - GREEN_RATE_WINDOW
        )
        ctx.extras[cache_key] = (now, ids)
    known = [services[i].code for i in ids if i in services]
    if not known:
        return None
    # Just after opening the window is shorter than an hour; a few minutes say
    # little about the rate, so count at least 10.
    local = config.local(now)
    spans = config.hours.spans_on(local.date())
    span = GREEN_RATE_WINDOW
    if spans:
        opened = local.replace(
            hour=spans[0][0].hour, minute=spans[0][0].minute, second=0, microsecond=0
        )
        span = min(span, max(timedelta(minutes=10), local - opened))
    return GreenOutlook.for_policy(
        config.params,
        now,
        per_minute=len(known) / (span.total_seconds() / 60.0),
        service_minutes=sum(times.minutes(c) for c in known) / len(known),
        until_minutes=issuing_ends_in(config, now),
        local_time=local.time(),
    )


async def load_queue(
    ctx: AppContext,
    session: AsyncSession,
    hall: Hall,
    now: datetime,
    all_services: Sequence[Service] | None = None,
    open_rows: Sequence[OpenTicket] | None = None,
) -> QueueView:
    """``all_services``, ``open_rows``: the hall's whole catalogue and today's
    open tickets, when the caller has them already."""
    config = HallConfig.of(hall)
    day = config.service_day(now)
    if all_services is None:
        all_services = await halls_repo.list_services(session, hall.id, enabled_only=False)
    services = {s.id: s for s in all_services}
    counters = list(await halls_repo.list_counters(session, hall.id))
    counter_numbers = {c.id: c.number for c in counters}
    if open_rows is None:
        open_rows = await repo.open_ticket_rows(session, hall.id, day)
    waiting_rows = {t.id: t for t in open_rows if t.state == TicketState.WAITING.value}
    at_counter = {
        t.counter_id: t
        for t in open_rows
        if t.counter_id is not None
        and t.state in (TicketState.CALLED.value, TicketState.SERVING.value)
    }
    entries = [
        entry_of(t, services[t.service_id].code, counter_numbers) for t in waiting_rows.values()
    ]
    policy = config.policy()
    ordered = list(policy.order(entries, PolicyState(hall.consecutive_green), now))
    shifts = counter_shifts(config, now)
    loads: list[CounterLoad] = []
    for c in counters:
        if c.state != "open":
            continue
        busy = at_counter.get(c.id)
        busy_code = services[busy.service_id].code if busy is not None else None
        elapsed = elapsed_minutes(busy, now) if busy is not None else 0.0
        services_of = frozenset(c.services) if c.services is not None else None
        for i, (available, closes) in enumerate(shifts):
            # The transaction in hand holds the counter's first shift still to come.
            loads.append(
                CounterLoad(
                    number=c.number,
                    services=services_of,
                    busy_service=busy_code if i == 0 else None,
                    busy_elapsed_minutes=elapsed if i == 0 else 0.0,
                    available_in_minutes=available,
                    closes_in_minutes=closes,
                )
            )
    times = await service_times(ctx, session, hall.id, all_services, now)
    outlook = await green_outlook(ctx, session, hall, config, services, times, now)
    estimates = DispatchEstimator(times, green_outlook=outlook).estimate(ordered, loads)
    return QueueView(
        hall=hall,
        config=config,
        services=services,
        counters=counters,
        ordered=ordered,
        estimates=estimates,
        loads=loads,
        at_counter=at_counter,
        tickets=waiting_rows,
    )
