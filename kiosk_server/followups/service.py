"""Bad-rating follow-ups (差评整改) and proxy cases (帮办代办).

Deadlines are dates in the hall's zone counted in official working days;
"overdue" is computed on read from the clock, so it is never stale.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from kiosk_server.audit.service import record
from kiosk_server.auth.principal import Principal, Role
from kiosk_server.context import AppContext
from kiosk_server.core.workdays import add_workdays
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.errors import Conflict, NotFound, ValidationFailed
from kiosk_server.events.service import emit
from kiosk_server.followups import repository as repo
from kiosk_server.followups.models import FollowUp, ProxyCase
from kiosk_server.followups.schemas import (
    CASE_STATE_LABELS,
    FOLLOWUP_STATE_LABELS,
    CaseOut,
    CasePatch,
    CaseState,
    FollowUpOut,
    FollowUpPatch,
    FollowUpState,
)
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall, Service
from kiosk_server.tickets.models import Rating, Ticket

CALLBACK_WORKING_DAYS = 1
DEFAULT_RESOLVE_WORKING_DAYS = 5
PROXY_WORKING_DAYS = 3
BAD_MAX_SCORE = 2
RATING_LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

CASE_TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.ACCEPTED: frozenset({CaseState.SUBMITTED, CaseState.RETURNED_INCOMPLETE}),
    CaseState.SUBMITTED: frozenset({CaseState.RESULT_RETURNED, CaseState.RETURNED_INCOMPLETE}),
    CaseState.RESULT_RETURNED: frozenset({CaseState.HANDED_OVER}),
    # Papers brought in later: accepted again with a new completion date.
    CaseState.RETURNED_INCOMPLETE: frozenset({CaseState.ACCEPTED}),
    CaseState.HANDED_OVER: frozenset(),
}


def mask_name(name: str) -> str:
    """张三 -> 张*, 张小三 -> 张*三: the public-screen convention."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) < 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def resident_ref(ticket: Ticket) -> str:
    """A reference that finds the resident's ticket again but never shows the ID number."""
    tail = f"#{ticket.id_hash[:6]}" if ticket.id_hash else ""
    return f"{ticket.service_day:%Y%m%d}-{ticket.number}{tail}"


def resolve_days(hall: Hall) -> int:
    value = (hall.policy or {}).get("followup_resolve_days", DEFAULT_RESOLVE_WORKING_DAYS)
    try:
        return max(1, min(60, int(value)))
    except (TypeError, ValueError):
        return DEFAULT_RESOLVE_WORKING_DAYS


def _today(ctx: AppContext, hall: Hall) -> date:
    return HallConfig.of(hall).service_day(ctx.clock.now())


# --- follow-ups -----------------------------------------------------------------


def followup_flags(
    f: FollowUp, today: date, day_of: Callable[[datetime], date] | None = None
) -> tuple[bool, bool]:
    """(call-back overdue, resolution overdue) at the end of ``today``.

    Without ``day_of`` the follow-up's current state is used (the live view).
    With it (a timestamp's service day) the state on ``today`` is read from the
    call-back and resolution times, so a report of a past period says what was
    overdue at its end, however often it is re-run later.
    """
    if day_of is None:
        called_back = f.state != FollowUpState.OPEN.value
        resolved = f.state == FollowUpState.RESOLVED.value
    else:
        called_back = f.called_back_at is not None and day_of(f.called_back_at) <= today
        resolved = f.resolved_at is not None and day_of(f.resolved_at) <= today
    return (not called_back and today > f.callback_due), (not resolved and today > f.resolve_due)


def followup_out(
    f: FollowUp, today: date, staff: str | None, *, as_of: HallConfig | None = None
) -> FollowUpOut:
    """``as_of``: the hall's config, to flag overdue as of a past ``today`` (reports)."""
    cb, rs = followup_flags(f, today, as_of.service_day if as_of else None)
    state = FollowUpState(f.state)
    return FollowUpOut(
        id=f.id,
        ticket_id=f.ticket_id,
        number=f.number,
        service=f.service_code,
        service_name=f.service_name,
        counter=f.counter_number,
        staff=staff,
        score=f.score,
        score_label=RATING_LABELS.get(f.score, str(f.score)),
        reason=f.reason,
        state=state,
        state_label=FOLLOWUP_STATE_LABELS[state],
        opened_at=f.opened_at,
        callback_due=f.callback_due,
        resolve_due=f.resolve_due,
        callback_overdue=cb,
        resolve_overdue=rs,
        overdue=cb or rs,
        called_back_at=f.called_back_at,
        callback_note=f.callback_note,
        cause=f.cause,
        action_taken=f.action_taken,
        second_opinion=f.second_opinion,
        second_opinion_note=f.second_opinion_note,
        resolved_at=f.resolved_at,
        updated_by=f.updated_by,
    )


async def open_followup(
    ctx: AppContext,
    uow: UnitOfWork,
    hall: Hall,
    t: Ticket,
    r: Rating,
    event_data: dict[str, object],
) -> None:
    """after_rating hook: a rating in the two lowest levels opens a follow-up,
    announced to staff in the rating's own event (``followup_id``)."""
    if r.score > BAD_MAX_SCORE:
        return
    s = uow.session
    if await repo.followup_for_ticket(s, t.id) is not None:
        return
    service = await halls_repo.get_service_by_id(s, t.service_id)
    counter = await halls_repo.get_counter(s, t.counter_id) if t.counter_id else None
    now = ctx.clock.now()
    opened = HallConfig.of(hall).service_day(now)
    f = FollowUp(
        hall_id=hall.id,
        ticket_id=t.id,
        rating_id=r.id,
        number=t.number,
        service_code=service.code,
        service_name=service.name_zh,
        counter_number=counter.number if counter else None,
        staff_user_id=r.staff_user_id,
        score=r.score,
        reason=r.reason,
        state=FollowUpState.OPEN.value,
        opened_at=now,
        callback_due=add_workdays(opened, CALLBACK_WORKING_DAYS),
        resolve_due=add_workdays(opened, resolve_days(hall)),
    )
    s.add(f)
    await s.flush()
    record(ctx, uow, None, "followup.open", hall_id=hall.id, target=t.number,
           detail={"followup_id": f.id, "score": r.score})  # fmt: skip
    # The rater stays confidential: the event carries the number and score only.
    event_data["followup_id"] = f.id
    event_data["callback_due"] = f.callback_due.isoformat()


async def list_followups(
    ctx: AppContext,
    uow: UnitOfWork,
    who: Principal,
    hall_code: str,
    *,
    state: FollowUpState | None = None,
    overdue: bool | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> list[FollowUpOut]:
    s = uow.session
    hall = await halls_repo.get_hall(s, hall_code)
    who.require_role(Role.SUPERVISOR, hall.id)
    config = HallConfig.of(hall)
    today = config.service_day(ctx.clock.now())
    out = []
    for f in await repo.list_followups(s, hall.id, state=state.value if state else None):
        opened = config.service_day(f.opened_at)
        if (day_from and opened < day_from) or (day_to and opened > day_to):
            continue
        item = followup_out(f, today, await repo.user_name(s, f.staff_user_id))
        if overdue is not None and item.overdue != overdue:
            continue
        out.append(item)
    return out


async def update_followup(
    ctx: AppContext, uow: UnitOfWork, who: Principal, followup_id: int, body: FollowUpPatch
) -> FollowUpOut:
    s = uow.session
    f = await repo.get_followup(s, followup_id)
    if f is None:
        raise NotFound(f"there is no follow-up with id {followup_id}")
    who.require_role(Role.SUPERVISOR, f.hall_id)
    hall = await halls_repo.get_hall_by_id(s, f.hall_id)
    now = ctx.clock.now()
    changes: dict[str, Any] = {}
    for name in ("callback_note", "cause", "action_taken", "second_opinion", "second_opinion_note"):
        value = getattr(body, name)
        if value is not None and value != getattr(f, name):
            setattr(f, name, value)
            changes[name] = value
    if body.called_back and f.state == FollowUpState.OPEN.value:
        f.state = FollowUpState.CALLED_BACK.value
        f.called_back_at = now
        changes["state"] = f.state
    if body.resolved and f.state != FollowUpState.RESOLVED.value:
        if not (f.cause or "").strip() or not (f.action_taken or "").strip():
            raise Conflict(
                "record the cause and what was done before closing the follow-up "
                "(请先填写差评原因和整改措施)"
            )
        if f.called_back_at is None:
            f.called_back_at = now
        f.state = FollowUpState.RESOLVED.value
        f.resolved_at = now
        changes["state"] = f.state
    if changes:
        f.updated_by = who.actor
        record(ctx, uow, who, "followup.update", hall_id=f.hall_id, target=f.number,
               detail={"followup_id": f.id, **changes})  # fmt: skip
        await emit(ctx, uow, hall.id, hall.code, "followup.updated",
                   {"followup_id": f.id, "number": f.number, "state": f.state}, now)  # fmt: skip
    await s.flush()
    return followup_out(f, _today(ctx, hall), await repo.user_name(s, f.staff_user_id))


def followup_summary(
    rows: Sequence[FollowUpOut],
    as_of: date | None = None,
    day_of: Callable[[datetime], date] | None = None,
) -> dict[str, Any]:
    """Counts; with ``as_of`` (a past report's end) and the hall's ``day_of``, a
    follow-up resolved after that day still counts as open, so the report reads
    the same when run again later."""

    def resolved(f: FollowUpOut) -> bool:
        if f.state is not FollowUpState.RESOLVED:
            return False
        if as_of is None or day_of is None or f.resolved_at is None:
            return True
        return day_of(f.resolved_at) <= as_of

    done = sum(1 for f in rows if resolved(f))
    return {
        "opened": len(rows),
        "open": len(rows) - done,
        "resolved": done,
        "overdue": sum(1 for f in rows if f.overdue),
        "callback_overdue": sum(1 for f in rows if f.callback_overdue),
    }


# --- proxy cases ----------------------------------------------------------------


def case_flags(c: ProxyCase, today: date, submitted_on: date | None) -> tuple[bool, bool]:
    overdue = c.state == CaseState.ACCEPTED.value and today > c.deadline
    late = submitted_on is not None and submitted_on > c.deadline
    return overdue, late


def _history(c: ProxyCase) -> list[tuple[datetime, dict[str, Any]]]:
    """The case's logged changes with their times (what cannot be read is skipped)."""
    out = []
    for h in c.history or []:
        try:
            out.append((datetime.fromisoformat(h["at"]), h))
        except (KeyError, TypeError, ValueError):
            continue  # the log is written by this module; skip what it cannot read
    return out


def case_state_on(c: ProxyCase, config: HallConfig, day: date) -> str | None:
    """The case's state at the end of ``day``, read from its (chronological) history."""
    state: str | None = None
    for at, h in _history(c):
        if config.service_day(at) <= day:
            state = h.get("state") or state
    return state


def case_overdue_on(c: ProxyCase, config: HallConfig, day: date) -> bool:
    """Whether the case was accepted and past its deadline at the end of a past ``day``.

    Read from the case's history (state changes and materials-date changes are
    logged with their time), so a past period's report does not change later.
    """
    if case_state_on(c, config, day) != CaseState.ACCEPTED.value:
        return False  # not accepted then (or not opened yet)
    later_change = next(
        (
            h["materials_complete_on"]
            for at, h in _history(c)
            if config.service_day(at) > day and isinstance(h.get("materials_complete_on"), str)
        ),
        None,
    )
    if later_change is None:
        return day > c.deadline
    # "old → new": the date in force on ``day`` is the old one of the first later change.
    try:
        materials = date.fromisoformat(later_change.split("→")[0].strip())
    except ValueError:
        return day > c.deadline
    return day > add_workdays(materials, PROXY_WORKING_DAYS)


def case_out(
    c: ProxyCase, config: HallConfig, today: date, *, from_history: bool = False
) -> CaseOut:
    """``from_history``: ``today`` is a past day; flag overdue as it stood then (reports)."""
    submitted_on = config.service_day(c.submitted_at) if c.submitted_at else None
    overdue, late = case_flags(c, today, submitted_on)
    if from_history:
        overdue = case_overdue_on(c, config, today)
    state = CaseState(c.state)
    return CaseOut(
        id=c.id,
        ticket_id=c.ticket_id,
        number=c.number,
        service_day=c.service_day,
        service=c.service_code,
        service_name=c.service_name,
        staff=c.staff_name,
        resident_ref=c.resident_ref,
        materials_complete_on=c.materials_complete_on,
        deadline=c.deadline,
        state=state,
        state_label=CASE_STATE_LABELS[state],
        overdue=overdue,
        submitted_late=late,
        opened_at=c.opened_at,
        submitted_at=c.submitted_at,
        result_at=c.result_at,
        closed_at=c.closed_at,
        note=c.note,
        history=[dict(h) for h in c.history or []],
    )


async def open_case(
    ctx: AppContext, uow: UnitOfWork, hall: Hall, service: Service, t: Ticket, who: Principal
) -> None:
    """after_finish hook: the outcome 帮办代办 opens a case due in 3 working days."""
    if t.outcome != "proxy":
        return
    s = uow.session
    if await repo.case_for_ticket(s, t.id) is not None:
        return
    now = ctx.clock.now()
    # Finishing a proxy transaction means the hall accepted complete materials today.
    complete = HallConfig.of(hall).service_day(now)
    staff_id = t.served_by_id or who.user_id
    c = ProxyCase(
        hall_id=hall.id,
        ticket_id=t.id,
        number=t.number,
        service_day=t.service_day,
        service_code=service.code,
        service_name=service.name_zh,
        staff_user_id=staff_id,
        staff_name=await repo.user_name(s, staff_id),
        resident_ref=resident_ref(t),
        materials_complete_on=complete,
        deadline=add_workdays(complete, PROXY_WORKING_DAYS),
        state=CaseState.ACCEPTED.value,
        opened_at=now,
        history=[{"at": now.isoformat(), "state": CaseState.ACCEPTED.value, "by": who.actor}],
    )
    s.add(c)
    await s.flush()
    record(ctx, uow, who, "case.open", hall_id=hall.id, target=t.number,
           detail={"case_id": c.id, "deadline": c.deadline.isoformat()})  # fmt: skip


async def list_cases(
    ctx: AppContext,
    uow: UnitOfWork,
    who: Principal,
    hall_code: str,
    *,
    state: CaseState | None = None,
    service: str | None = None,
    overdue: bool | None = None,
    day_from: date | None = None,
    day_to: date | None = None,
) -> list[CaseOut]:
    s = uow.session
    hall = await halls_repo.get_hall(s, hall_code)
    who.require_role(Role.STAFF, hall.id)
    config = HallConfig.of(hall)
    today = config.service_day(ctx.clock.now())
    rows = await repo.list_cases(
        s, hall.id, state=state.value if state else None, service=service,
        day_from=day_from, day_to=day_to,
    )  # fmt: skip
    out = [case_out(c, config, today) for c in rows]
    return [c for c in out if overdue is None or c.overdue == overdue]


def _check_materials_date(
    c: ProxyCase, config: HallConfig, value: date, today: date, earliest: date | None = None
) -> None:
    """The materials were completed between the case's service day and today.

    The 3-working-day deadline counts from this date, so a date in the future
    (or before the resident came) would move the deadline and hide an overdue case.
    ``earliest``: a later lower bound (papers brought after the case was returned).
    """
    if earliest is None:
        earliest = min(c.service_day, config.service_day(c.opened_at))
    if earliest <= value <= today:
        return
    raise ValidationFailed(
        f"materials_complete_on must be between {earliest.isoformat()} "
        f"and today {today.isoformat()}; {value.isoformat()} is not "
        "(材料齐全日期须在受理日（或退回日）与今天之间)",
        details={
            "field": "materials_complete_on",
            "earliest": earliest.isoformat(),
            "latest": today.isoformat(),
        },
    )


async def update_case(
    ctx: AppContext, uow: UnitOfWork, who: Principal, case_id: int, body: CasePatch
) -> CaseOut:
    s = uow.session
    c = await repo.get_case(s, case_id)
    if c is None:
        raise NotFound(f"there is no proxy case with id {case_id}")
    who.require_role(Role.STAFF, c.hall_id)
    hall = await halls_repo.get_hall_by_id(s, c.hall_id)
    config = HallConfig.of(hall)
    now = ctx.clock.now()
    changes: dict[str, Any] = {}
    today = config.service_day(now)
    # Accepted again after a return: the papers are complete on a new day, and the
    # 3 working days count from it (the old deadline may already have passed).
    reaccept = body.state is CaseState.ACCEPTED and c.state == CaseState.RETURNED_INCOMPLETE.value
    returned_on: date | None = None
    if reaccept:
        returned_on = config.service_day(c.closed_at) if c.closed_at else None
        if body.materials_complete_on is None:
            # The same status as a date out of range: the one field is not acceptable.
            raise ValidationFailed(
                "accepting a returned case again needs the day its materials became complete "
                "(重新受理须填写材料齐全日期): send materials_complete_on",
                details={
                    "field": "materials_complete_on",
                    "earliest": (returned_on or c.service_day).isoformat(),
                    "latest": today.isoformat(),
                },
            )
    if body.materials_complete_on is not None and (
        reaccept or body.materials_complete_on != c.materials_complete_on
    ):
        if c.state not in (CaseState.ACCEPTED.value, CaseState.RETURNED_INCOMPLETE.value):
            raise Conflict("the materials date can only change before the case is submitted")
        _check_materials_date(c, config, body.materials_complete_on, today, returned_on)
        old_on, old_deadline = c.materials_complete_on, c.deadline
        c.materials_complete_on = body.materials_complete_on
        c.deadline = add_workdays(body.materials_complete_on, PROXY_WORKING_DAYS)
        # Moving the date moves the deadline: the log keeps the old values beside the new.
        changes["materials_complete_on"] = c.materials_complete_on.isoformat()
        changes["materials_complete_on_old"] = old_on.isoformat()
        changes["deadline"] = c.deadline.isoformat()
        changes["deadline_old"] = old_deadline.isoformat()
    refs = []
    if body.resident_name:
        refs.append(mask_name(body.resident_name))
    if body.resident_phone:
        refs.append(mask_phone(body.resident_phone))
    if refs:
        c.resident_ref = f"{c.service_day:%Y%m%d}-{c.number} " + " ".join(refs)
        changes["resident_ref"] = c.resident_ref  # masked: safe for the audit log
    if body.note is not None and body.note != c.note:
        c.note = body.note
        changes["note"] = body.note
    if body.state is not None and body.state.value != c.state:
        current = CaseState(c.state)
        if body.state not in CASE_TRANSITIONS[current]:
            allowed = ", ".join(sorted(x.value for x in CASE_TRANSITIONS[current])) or "none"
            raise Conflict(
                f"a case that is {current.value} cannot become {body.state.value} "
                f"(allowed: {allowed})",
                details={"state": current.value, "allowed": sorted(x.value for x in CASE_TRANSITIONS[current])},
            )  # fmt: skip
        c.state = body.state.value
        if body.state is CaseState.SUBMITTED:
            c.submitted_at = now
        elif body.state is CaseState.RESULT_RETURNED:
            c.result_at = now
        elif body.state in (CaseState.HANDED_OVER, CaseState.RETURNED_INCOMPLETE):
            c.closed_at = now
        elif body.state is CaseState.ACCEPTED:
            c.closed_at = None
            c.submitted_at = None
        changes["state"] = c.state
    if changes:
        entry = {"at": now.isoformat(), "state": c.state, "by": who.actor, "note": body.note}
        if "materials_complete_on" in changes:
            old, new = changes["materials_complete_on_old"], changes["materials_complete_on"]
            entry["materials_complete_on"] = f"{old} → {new}"
        c.history = [*(c.history or []), entry]
        record(ctx, uow, who, "case.update", hall_id=c.hall_id, target=c.number,
               detail={"case_id": c.id, **changes})  # fmt: skip
    await s.flush()
    return case_out(c, config, config.service_day(now))


def case_summary(
    rows: Sequence[CaseOut],
    as_of: date | None = None,
    day_of: Callable[[datetime], date] | None = None,
) -> dict[str, Any]:
    """Counts; with ``as_of`` and ``day_of``, a case submitted after that day is not
    counted as submitted (``by_state`` stays the state now)."""
    submitted = [
        c
        for c in rows
        if c.submitted_at is not None
        and (as_of is None or day_of is None or day_of(c.submitted_at) <= as_of)
    ]
    return {
        "opened": len(rows),
        "by_state": {s.value: sum(1 for c in rows if c.state is s) for s in CaseState},
        "overdue": sum(1 for c in rows if c.overdue),
        "submitted": len(submitted),
        "submitted_late": sum(1 for c in submitted if c.submitted_late),
        "submitted_on_time_share": (
            round(sum(1 for c in submitted if not c.submitted_late) / len(submitted), 4)
            if submitted
            else None
        ),
    }
