"""Counter actions: every button of the counter page (and of a hardware keypad)
goes through here, and every transition through the core's state machine."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk_server.audit.service import record
from kiosk_server.auth.models import User
from kiosk_server.auth.principal import DeviceKind, Principal, Role
from kiosk_server.context import AppContext
from kiosk_server.core.numbering import parse_number
from kiosk_server.core.policy import PolicyState, after_call, eligible
from kiosk_server.core.states import Action, TicketState, TransitionError, next_state
from kiosk_server.core.timing import clock_level, over_target
from kiosk_server.counters import repository as counters_repo
from kiosk_server.counters.schemas import (
    ActionResult,
    CounterOut,
    Finish,
    HeldTicket,
    Transfer,
)
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.errors import BadRequest, Conflict, Forbidden, InvalidTransition, NotFound
from kiosk_server.events.service import emit
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Counter, Hall, Service
from kiosk_server.tickets import repository as repo
from kiosk_server.tickets.models import Ticket
from kiosk_server.tickets.queue import QueueView, load_queue
from kiosk_server.tickets.service import event_data, ticket_out


@dataclass
class Desk:
    """A counter, its hall, and the ticket at it, loaded for one action."""

    counter: Counter
    hall: Hall
    config: HallConfig
    current: Ticket | None
    # Whom the transaction is credited to: the user, or for a counter's own keypad
    # the staff member signed in at that counter.
    user_id: int | None = None


def _require_counter_access(who: Principal, counter: Counter) -> None:
    """Staff accounts, or the caller keypad installed at this very counter."""
    if who.kind == "device" and who.device_kind is DeviceKind.KEYPAD:
        who.require_hall(counter.hall_id)
        if who.device_counter_id != counter.id:
            raise Forbidden(f"this keypad is not installed at counter {counter.number}")
        return
    who.require_role(Role.STAFF, counter.hall_id)


async def _desk(ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int) -> Desk:
    s = uow.session
    counter = await halls_repo.get_counter(s, counter_id)
    _require_counter_access(who, counter)
    # Lock the hall row: call-next reads and writes the hall's green-run counter.
    hall = await halls_repo.get_hall_by_id(s, counter.hall_id, lock=True)
    # Re-read the counter under the lock: on PostgreSQL another action may have
    # changed it (sign-in, pause) between our first read and the lock.
    await s.refresh(counter)
    if who.role is Role.STAFF and counter.staff_user_id not in (None, who.user_id):
        other = await s.get(User, counter.staff_user_id)
        name = other.display_name or other.username if other else "another user"
        raise Conflict(
            f"counter {counter.number} is signed in by {name}; they must sign out first "
            "(or a supervisor can act on it)"
        )
    if who.role is Role.STAFF and counter.staff_user_id is None:
        counter.staff_user_id = who.user_id
    current = await repo.at_counter(s, counter.id)
    user_id = who.user_id if who.kind == "user" else counter.staff_user_id
    return Desk(counter, hall, HallConfig.of(hall), current, user_id)


def _refuse(t: Ticket, action: Action, reason: str | None = None) -> InvalidTransition:
    err = TransitionError(TicketState(t.state), action, reason)
    return InvalidTransition(
        f"ticket {t.number}: {err}",
        details={
            "number": t.number,
            "state": t.state,
            "allowed": [a.value for a in err.allowed],
        },
    )


def _transition(t: Ticket, action: Action) -> TicketState:
    try:
        return next_state(TicketState(t.state), action, recalls=t.recall_count)
    except TransitionError as exc:
        raise InvalidTransition(
            f"ticket {t.number}: {exc}",
            details={
                "number": t.number,
                "state": t.state,
                "allowed": [a.value for a in exc.allowed],
            },
        ) from None


def _need_current(desk: Desk, action: str) -> Ticket:
    if desk.current is None:
        raise Conflict(
            f"counter {desk.counter.number} has no called ticket to {action}; call a number first"
        )
    return desk.current


def _need_free(desk: Desk) -> None:
    if desk.current is not None:
        t = desk.current
        raise Conflict(
            f"counter {desk.counter.number} still has {t.number} ({t.state}); "
            "finish it, mark it no-show, hold or transfer it before calling another",
            details={"number": t.number, "state": t.state},
        )
    if desk.counter.state != "open":
        raise Conflict(
            f"counter {desk.counter.number} is {desk.counter.state}; resume it before calling"
        )


async def _service(uow: UnitOfWork, t: Ticket) -> Service:
    return await halls_repo.get_service_by_id(uow.session, t.service_id)


async def _stop_clock(uow: UnitOfWork, t: Ticket, now: datetime) -> float | None:
    """End the running serving segment (hold, finish, transfer); the serving time so far."""
    if t.started_at is None:
        return None
    clock = (await counters_repo.clock(uow.session, t)).stop(now)
    await counters_repo.save_clock(uow.session, t.id, clock)
    return clock.closed_seconds


def _count_call(ctx: AppContext, uow: UnitOfWork, desk: Desk, t: Ticket) -> None:
    if t.first_called_at is None or t.first_called_at != t.called_at:
        return  # recalls and call-backs are not a new wait

    async def _count() -> None:
        ctx.metrics.calls.labels(desk.hall.code).inc()
        wait = (t.first_called_at - t.order_at).total_seconds() / 60 if t.first_called_at else 0
        ctx.metrics.wait_minutes.labels(desk.hall.code).observe(wait)

    uow.after_commit(_count)


async def _emit_ticket(
    ctx: AppContext,
    uow: UnitOfWork,
    desk: Desk,
    type_: str,
    t: Ticket,
    extra: dict[str, Any] | None = None,
) -> None:
    service = await _service(uow, t)
    data = event_data(t, service, desk.counter.number)
    data["counter_name"] = desk.counter.name
    if extra:
        data.update(extra)
    await emit(ctx, uow, desk.hall.id, desk.hall.code, type_, data)


async def _call(
    ctx: AppContext,
    uow: UnitOfWork,
    who: Principal,
    desk: Desk,
    t: Ticket,
    action: Action,
    now: datetime,
) -> Ticket:
    from_state = TicketState(t.state)
    _transition(t, action)
    values: dict[str, Any] = {
        "state": TicketState.CALLED.value,
        "counter_id": desk.counter.id,
        "called_at": now,
        "called_by_id": desk.user_id,
        "recall_count": 0,
    }
    if t.first_called_at is None:
        values["first_called_at"] = now
    if not await repo.claim(uow.session, t.id, from_state, values):
        raise Conflict(f"ticket {t.number} was just taken by another counter; call again")
    await uow.session.refresh(t)
    return t


async def call_next(
    ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int
) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    _need_free(desk)
    s = uow.session
    now = ctx.clock.now()
    queue = await load_queue(ctx, s, desk.hall, now)
    services = frozenset(desk.counter.services) if desk.counter.services is not None else None
    candidates = [e for e in queue.ordered if eligible(e, services, desk.counter.number)]
    state = PolicyState(desk.hall.consecutive_green)
    policy = desk.config.policy()
    for entry in policy.order(candidates, state, now):
        values: dict[str, Any] = {
            "state": TicketState.CALLED.value,
            "counter_id": desk.counter.id,
            "called_at": now,
            "first_called_at": now,
            "called_by_id": desk.user_id,
        }
        # One conditional update: if another counter claimed it first, try the next.
        if await repo.claim(s, entry.ticket_id, TicketState.WAITING, values):
            desk.hall.consecutive_green = after_call(state, entry).consecutive_green
            t = await repo.by_id(s, entry.ticket_id)
            assert t is not None  # claimed just now in this transaction
            await s.refresh(t)  # the claim was a Core UPDATE: reload what it set
            await _emit_ticket(ctx, uow, desk, "ticket.called", t)
            _count_call(ctx, uow, desk, t)
            record(
                ctx,
                uow,
                who,
                "ticket.call",
                hall_id=desk.hall.id,
                target=t.number,
                detail={"counter": desk.counter.number},
            )
            return await _result(ctx, uow, desk, t)
    return await _result(ctx, uow, desk, None)


async def call_number(
    ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int, number: str
) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    _need_free(desk)
    try:
        prefix, _n = parse_number(number)
    except ValueError as exc:
        raise BadRequest(str(exc), details={"field": "number"}) from None
    now = ctx.clock.now()
    t = await repo.by_number(
        uow.session, desk.hall.id, desk.config.service_day(now), number.strip().upper()
    )
    if t is None:
        raise NotFound(f"no ticket {number.upper()} was issued today")
    if t.state == TicketState.HELD.value:
        action = Action.CALL_BACK
    elif t.state == TicketState.NO_SHOW.value and who.has_role(Role.SUPERVISOR):
        # A no-show called back at the supervisor's discretion.
        _transition(t, Action.REQUEUE)
        t.state = TicketState.WAITING.value
        await uow.session.flush()
        action = Action.CALL
    else:
        action = Action.CALL
    if action is Action.CALL and t.state == TicketState.WAITING.value:
        service = await _service(uow, t)
        services = desk.counter.services
        if services is not None and service.code not in services:
            raise Conflict(
                f"counter {desk.counter.number} does not take {service.name_zh}; transfer it instead"
            )
    t = await _call(ctx, uow, who, desk, t, action, now)
    if action is Action.CALL and t.channel == "green":
        desk.hall.consecutive_green += 1
    elif action is Action.CALL:
        desk.hall.consecutive_green = 0
    await _emit_ticket(
        ctx, uow, desk, "ticket.called", t, {"called_back": action is Action.CALL_BACK}
    )
    record(
        ctx,
        uow,
        who,
        "ticket.call_number",
        hall_id=desk.hall.id,
        target=t.number,
        detail={"counter": desk.counter.number},
    )
    return await _result(ctx, uow, desk, t)


async def recall(ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    t = _need_current(desk, "recall")
    _transition(t, Action.RECALL)
    t.recall_count += 1
    t.called_at = ctx.clock.now()
    await uow.session.flush()
    await _emit_ticket(ctx, uow, desk, "ticket.recalled", t)
    record(ctx, uow, who, "ticket.recall", hall_id=desk.hall.id, target=t.number)
    return await _result(ctx, uow, desk, t)


async def start(ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    t = _need_current(desk, "start")
    t.state = _transition(t, Action.START).value
    now = ctx.clock.now()
    # Started again after a hold and call-back: the first start stays and the
    # clock goes on from the serving time already spent (time held not counted).
    clock = (await counters_repo.clock(uow.session, t)).start(now)
    if t.started_at is None:
        t.started_at = now
    t.served_by_id = desk.user_id
    await counters_repo.save_clock(uow.session, t.id, clock)
    await _emit_ticket(ctx, uow, desk, "ticket.started", t)
    record(ctx, uow, who, "ticket.start", hall_id=desk.hall.id, target=t.number)
    return await _result(ctx, uow, desk, t)


async def finish(
    ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int, body: Finish
) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    t = _need_current(desk, "finish")
    if t.state == TicketState.CALLED.value:
        raise _refuse(
            t, Action.FINISH, "the transaction has not been started (press 开始办理 first)"
        )
    t.state = _transition(t, Action.FINISH).value
    t.finished_at = ctx.clock.now()
    t.outcome = body.outcome.value
    if t.served_by_id is None:
        t.served_by_id = desk.user_id
    service_seconds = await _stop_clock(uow, t, t.finished_at)
    await uow.session.flush()
    service = await _service(uow, t)
    await _emit_ticket(
        ctx,
        uow,
        desk,
        "ticket.finished",
        t,
        {
            "outcome": t.outcome,
            "service_seconds": service_seconds,
            "over_target": service_seconds is not None
            and over_target(service_seconds, service.target_minutes),
        },
    )
    record(
        ctx,
        uow,
        who,
        "ticket.finish",
        hall_id=desk.hall.id,
        target=t.number,
        detail={"outcome": t.outcome},
    )
    for hook in ctx.hooks.after_finish:
        await hook(uow, (desk.hall, service, t, who))

    async def _count() -> None:
        ctx.metrics.finished.labels(desk.hall.code, t.outcome or "").inc()
        if service_seconds is not None:
            ctx.metrics.service_minutes.labels(desk.hall.code).observe(service_seconds / 60)

    uow.after_commit(_count)
    return await _result(ctx, uow, desk, t)


async def no_show(
    ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int
) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    t = _need_current(desk, "mark as no-show")
    t.state = _transition(t, Action.NO_SHOW).value
    t.finished_at = ctx.clock.now()
    await uow.session.flush()
    await _emit_ticket(ctx, uow, desk, "ticket.no_show", t)
    record(ctx, uow, who, "ticket.no_show", hall_id=desk.hall.id, target=t.number)
    return await _result(ctx, uow, desk, t)


async def hold(ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    t = _need_current(desk, "hold")
    t.state = _transition(t, Action.HOLD).value
    # The resident fetches a paper: the serving clock stops until the restart.
    await _stop_clock(uow, t, ctx.clock.now())
    await uow.session.flush()
    await _emit_ticket(ctx, uow, desk, "ticket.held", t)
    record(ctx, uow, who, "ticket.hold", hall_id=desk.hall.id, target=t.number)
    return await _result(ctx, uow, desk, t)


async def transfer(
    ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int, body: Transfer
) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    if body.service is None and body.counter is None:
        raise BadRequest("say where to transfer: a service item code, a counter number, or both")
    t = _need_current(desk, "transfer")
    s = uow.session
    service = await _service(uow, t)
    if body.service is not None:
        found = await halls_repo.get_service(s, desk.hall.id, body.service)
        if found is None or not found.enabled:
            raise NotFound(
                f"this hall has no service item {body.service!r}", details={"field": "service"}
            )
        service = found
    target = None
    if body.counter is not None:
        target = await halls_repo.counter_by_number(s, desk.hall.id, body.counter)
        if target is None:
            raise NotFound(
                f"there is no counter {body.counter} in this hall", details={"field": "counter"}
            )
        if target.state == "closed":
            raise Conflict(f"counter {target.number} is closed")
        if target.services is not None and service.code not in target.services:
            raise Conflict(f"counter {target.number} does not take {service.name_zh}")
    t.state = _transition(t, Action.TRANSFER).value
    t.finished_at = ctx.clock.now()
    await _stop_clock(uow, t, t.finished_at)
    await s.flush()
    # The resident keeps the number and the place they had by issue time.
    moved = Ticket(
        hall_id=t.hall_id,
        service_day=t.service_day,
        prefix=t.prefix,
        seq_number=t.seq_number,
        number=t.number,
        service_id=service.id,
        channel=t.channel,
        state=TicketState.WAITING.value,
        issued_at=t.issued_at,
        order_at=t.order_at,
        target_counter_id=target.id if target else None,
        transferred_from_id=t.id,
        # A token of its own (the column is 40 characters; appending to the old
        # one overflowed it after a few transfers). The resident's QR carries the
        # first token, and the status page follows transferred_from_id to here.
        public_token=secrets.token_urlsafe(16),
        id_hash=t.id_hash,
        age_band=t.age_band,
        slot_start=t.slot_start,
        slot_end=t.slot_end,
        appointment_code=t.appointment_code,
    )
    s.add(moved)
    await s.flush()
    await _emit_ticket(
        ctx,
        uow,
        desk,
        "ticket.transferred",
        moved,
        {
            "from_ticket_id": t.id,
            "to_service": service.code,
            "to_counter": target.number if target else None,
        },
    )
    record(
        ctx,
        uow,
        who,
        "ticket.transfer",
        hall_id=desk.hall.id,
        target=t.number,
        detail={"service": service.code, "counter": target.number if target else None},
    )
    return await _result(ctx, uow, desk, moved)


async def set_state(
    ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int, state: str
) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    old = desk.counter.state
    if state == old:
        return await _result(ctx, uow, desk, desk.current)
    if state == "closed" and desk.current is not None:
        raise Conflict(
            f"counter {desk.counter.number} still has {desk.current.number}; finish it first"
        )
    desk.counter.state = state
    if state == "closed":
        desk.counter.staff_user_id = None
    await uow.session.flush()
    type_ = {"paused": "counter.paused", "open": "counter.resumed", "closed": "counter.closed"}[
        state
    ]
    await emit(
        ctx,
        uow,
        desk.hall.id,
        desk.hall.code,
        type_,
        {"counter": desk.counter.number, "counter_id": desk.counter.id, "state": state},
    )
    record(ctx, uow, who, type_, hall_id=desk.hall.id, target=f"counter {desk.counter.number}")
    return await _result(ctx, uow, desk, desk.current)


async def sign_out(
    ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int
) -> ActionResult:
    desk = await _desk(ctx, uow, who, counter_id)
    desk.counter.staff_user_id = None
    record(
        ctx,
        uow,
        who,
        "counter.sign_out",
        hall_id=desk.hall.id,
        target=f"counter {desk.counter.number}",
    )
    return await _result(ctx, uow, desk, desk.current)


async def describe(ctx: AppContext, uow: UnitOfWork, who: Principal, counter_id: int) -> CounterOut:
    s = uow.session
    counter = await halls_repo.get_counter(s, counter_id)
    _require_counter_access(who, counter)
    hall = await halls_repo.get_hall_by_id(s, counter.hall_id)
    desk = Desk(counter, hall, HallConfig.of(hall), await repo.at_counter(s, counter.id))
    return await _counter_out(ctx, uow, desk)


async def _staff_name(uow: UnitOfWork, user_id: int | None) -> str | None:
    """A staff member's display name (accounts are deactivated, never deleted)."""
    if user_id is None:
        return None
    user = await uow.session.get(User, user_id)
    return (user.display_name or user.username) if user else None


async def _counter_out(ctx: AppContext, uow: UnitOfWork, desk: Desk) -> CounterOut:
    s = uow.session
    now = ctx.clock.now()
    queue = await load_queue(ctx, s, desk.hall, now)
    services = frozenset(desk.counter.services) if desk.counter.services is not None else None
    mine = sum(1 for e in queue.ordered if eligible(e, services, desk.counter.number))
    ticket = None
    elapsed = None
    level = None
    if desk.current is not None:
        t = desk.current
        svc = queue.services[t.service_id]
        ticket = ticket_out(
            ctx, t, svc, counter_number=desk.counter.number, counter_name=desk.counter.name
        )
        ticket.served_by = await _staff_name(uow, t.served_by_id)
        if t.started_at is not None:
            # Serving time over every segment; paused while a called-back
            # resident has not been started again.
            elapsed = int((await counters_repo.clock(s, t)).seconds(now))
            level = clock_level(elapsed, svc.target_minutes)
        elif t.called_at is not None:
            elapsed = int((now - t.called_at).total_seconds())
    staff = await _staff_name(uow, desk.counter.staff_user_id)
    return CounterOut(
        id=desk.counter.id,
        hall=desk.hall.code,
        number=desk.counter.number,
        name=desk.counter.name,
        state=desk.counter.state,
        services=list(desk.counter.services) if desk.counter.services is not None else None,
        staff=staff,
        ticket=ticket,
        elapsed_seconds=elapsed,
        clock=level,
        waiting_for_me=mine,
        held=await _held(uow, desk, queue, now),
    )


async def _held(uow: UnitOfWork, desk: Desk, queue: QueueView, now: datetime) -> list[HeldTicket]:
    """Held tickets for the 回呼 picker, from the server so that a hold made at a
    keypad, in another browser or before a reload is there too."""
    day = desk.config.service_day(now)
    numbers = {c.id: c.number for c in queue.counters}
    out = []
    for t in await counters_repo.held_tickets(uow.session, desk.hall.id, day):
        svc = queue.services[t.service_id]
        out.append(
            HeldTicket(
                id=t.id,
                number=t.number,
                service=svc.code,
                service_name=svc.name_zh,
                service_name_en=svc.name_en,
                channel=t.channel,
                counter=numbers.get(t.counter_id) if t.counter_id is not None else None,
                here=t.counter_id == desk.counter.id,
            )
        )
    # This counter's own holds first; the sort is stable, so oldest first within each.
    return sorted(out, key=lambda h: not h.here)


async def _result(ctx: AppContext, uow: UnitOfWork, desk: Desk, t: Ticket | None) -> ActionResult:
    at_desk = t is not None and t.counter_id == desk.counter.id
    desk.current = t if at_desk and t is not None and t.state in ("called", "serving") else None
    ticket = None
    if t is not None:
        svc = await _service(uow, t)
        number = desk.counter.number if at_desk else None
        name = desk.counter.name if at_desk else None
        ticket = ticket_out(ctx, t, svc, counter_number=number, counter_name=name)
        # Staff views name who served it, as GET /tickets/by-id/{id} does.
        ticket.served_by = await _staff_name(uow, t.served_by_id)
    return ActionResult(ticket=ticket, counter=await _counter_out(ctx, uow, desk))
