"""Database access for tickets, numbers and ratings. Queries live only here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.core.states import AT_COUNTER_STATES, OPEN_STATES, TicketState
from kiosk_server.counters.models import ServingTime
from kiosk_server.tickets.models import NumberCounter, Rating, Ticket


def _take_number_stmt(dialect: str) -> Any:
    # On the table, not the mapped class: a plain statement, not the ORM's bulk path.
    table: Table = NumberCounter.__table__  # type: ignore[assignment]
    ins: Any = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return (
        ins.values(
            hall_id=bindparam("hall_id"),
            service_day=bindparam("day"),
            prefix=bindparam("prefix"),
            last_number=1,
        )
        .on_conflict_do_update(
            index_elements=["hall_id", "service_day", "prefix"],
            set_={"last_number": table.c.last_number + 1},
        )
        .returning(table.c.last_number)
    )


# Built once: an upsert's cache key is costly to work out again on every issue.
_TAKE_NUMBER = {d: _take_number_stmt(d) for d in ("sqlite", "postgresql")}


_TICKETS: Table = Ticket.__table__  # type: ignore[assignment]
_TICKET_COLUMNS = [c for c in _TICKETS.columns if c.key != "id"]
_INSERT_TICKET = insert(_TICKETS).returning(_TICKETS.c.id)
_RECORD_ESTIMATE = (
    update(_TICKETS)
    .where(_TICKETS.c.id == bindparam("ticket_id"))
    .values(estimate_at_issue=bindparam("estimate"), ahead_at_issue=bindparam("ahead"))
)


async def insert_ticket(session: AsyncSession, ticket: Ticket) -> int:
    """Insert a new ticket with one INSERT ... RETURNING and give the object its
    id. The issue path's hot spot: the ORM's flush costs several times the
    statement. Every column is written from the object (none left to a default
    the object would not show); the object stays outside the session, a value
    the rest of the request reads."""
    values = {c.key: getattr(ticket, c.key) for c in _TICKET_COLUMNS}
    ticket.id = int((await session.execute(_INSERT_TICKET, values)).scalar_one())
    return ticket.id


async def record_estimates(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """What tickets were told at issue (``ticket_id``, ``estimate``, ``ahead``),
    for several tickets in one statement."""
    if rows:
        await session.execute(_RECORD_ESTIMATE, rows)


async def take_number(session: AsyncSession, hall_id: int, day: date, prefix: str) -> int:
    """Increment and return the day's counter for ``prefix`` in the caller's transaction."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    params = {"hall_id": hall_id, "day": day, "prefix": prefix}
    return int((await session.execute(_TAKE_NUMBER[dialect], params)).scalar_one())


async def give_back_number(session: AsyncSession, hall_id: int, day: date, prefix: str) -> None:
    """Undo take_number when the number turned out to be unusable (past 999)."""
    await session.execute(
        update(NumberCounter)
        .where(
            NumberCounter.hall_id == hall_id,
            NumberCounter.service_day == day,
            NumberCounter.prefix == prefix,
        )
        .values(last_number=NumberCounter.last_number - 1)
    )


async def by_idempotency_key(session: AsyncSession, hall_id: int, key: str) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.hall_id == hall_id, Ticket.idempotency_key == key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def open_ticket_for_person(
    session: AsyncSession, hall_id: int, day: date, service_id: int, id_hash: str
) -> Ticket | None:
    stmt = select(Ticket).where(
        Ticket.hall_id == hall_id,
        Ticket.service_day == day,
        Ticket.service_id == service_id,
        Ticket.id_hash == id_hash,
        Ticket.state.in_([s.value for s in OPEN_STATES]),
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def waiting(session: AsyncSession, hall_id: int, day: date) -> Sequence[Ticket]:
    stmt = select(Ticket).where(
        Ticket.hall_id == hall_id,
        Ticket.service_day == day,
        Ticket.state == TicketState.WAITING.value,
    )
    return (await session.execute(stmt)).scalars().all()


async def open_tickets(session: AsyncSession, hall_id: int, day: date) -> Sequence[Ticket]:
    stmt = select(Ticket).where(
        Ticket.hall_id == hall_id,
        Ticket.service_day == day,
        Ticket.state.in_([s.value for s in OPEN_STATES]),
    )
    return (await session.execute(stmt)).scalars().all()


class OpenTicket(NamedTuple):
    """What the queue needs of an open ticket: read as plain columns, because a
    busy hall's queue is read on every issue and call, and whole ORM rows made
    that the dearest part of the request. A named tuple: made from a row in one
    C call (a frozen dataclass set its 15 fields one by one, a third of the read)."""

    id: int
    number: str
    service_id: int
    channel: str
    state: str
    issued_at: datetime
    order_at: datetime
    slot_start: datetime | None
    slot_end: datetime | None
    target_counter_id: int | None
    counter_id: int | None
    called_at: datetime | None
    started_at: datetime | None
    # The serving clock (serving_times), None for a ticket never started or one
    # whose row was written without it: a hold and call-back do not restart it.
    served_seconds: float | None
    running_since: datetime | None

    @classmethod
    def new(cls, t: Ticket) -> OpenTicket:
        """The row a ticket just issued has (waiting, never called)."""
        return cls(
            t.id,
            t.number,
            t.service_id,
            t.channel,
            t.state,
            t.issued_at,
            t.order_at,
            t.slot_start,
            t.slot_end,
            t.target_counter_id,
            t.counter_id,
            t.called_at,
            t.started_at,
            None,
            None,
        )


_CLOCK_FIELDS = ("served_seconds", "running_since")
_OPEN_COLUMNS = tuple(
    getattr(ServingTime if f in _CLOCK_FIELDS else Ticket, f) for f in OpenTicket._fields
)


async def open_ticket_rows(session: AsyncSession, hall_id: int, day: date) -> list[OpenTicket]:
    """The day's open tickets (waiting, called, serving, held) as plain rows, with
    their serving clocks in the same query (read on every issue)."""
    stmt = (
        select(*_OPEN_COLUMNS)
        .select_from(Ticket)
        .outerjoin(ServingTime, ServingTime.ticket_id == Ticket.id)
        .where(
            Ticket.hall_id == hall_id,
            Ticket.service_day == day,
            Ticket.state.in_([s.value for s in OPEN_STATES]),
        )
    )
    return [OpenTicket._make(row) for row in await session.execute(stmt)]


async def at_counter(session: AsyncSession, counter_id: int) -> Ticket | None:
    stmt = (
        select(Ticket)
        .where(
            Ticket.counter_id == counter_id,
            Ticket.state.in_([s.value for s in AT_COUNTER_STATES]),
        )
        .order_by(Ticket.called_at.desc())
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def last_finished_at_counter(session: AsyncSession, counter_id: int) -> Ticket | None:
    stmt = (
        select(Ticket)
        .where(Ticket.counter_id == counter_id, Ticket.state == TicketState.DONE.value)
        .order_by(Ticket.finished_at.desc())
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def by_number(session: AsyncSession, hall_id: int, day: date, number: str) -> Ticket | None:
    """The live ticket carrying ``number`` today (the newest row of a transfer chain)."""
    stmt = (
        select(Ticket)
        .where(Ticket.hall_id == hall_id, Ticket.service_day == day, Ticket.number == number)
        .order_by(Ticket.id.desc())
    )
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def by_id(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)


async def by_token(session: AsyncSession, token: str) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.public_token == token)
    return (await session.execute(stmt)).scalar_one_or_none()


async def successor(session: AsyncSession, ticket_id: int) -> Ticket | None:
    stmt = select(Ticket).where(Ticket.transferred_from_id == ticket_id)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def claim(
    session: AsyncSession, ticket_id: int, from_state: TicketState, values: dict[str, Any]
) -> bool:
    """Move a ticket out of ``from_state`` with one conditional update.

    Two counters calling at once both run this; only one sees rowcount 1.
    """
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state == from_state.value)
        .values(**values)
        .execution_options(synchronize_session="fetch")
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]


async def recent_service_minutes(
    session: AsyncSession, hall_id: int, since: datetime, per_service: int = 60
) -> dict[int, list[float]]:
    """Service durations (minutes) of recently finished tickets, per service id."""
    stmt = (
        select(Ticket.service_id, Ticket.started_at, Ticket.finished_at)
        .where(
            Ticket.hall_id == hall_id,
            Ticket.state == TicketState.DONE.value,
            Ticket.finished_at >= since,
            Ticket.started_at.is_not(None),
        )
        .order_by(Ticket.finished_at.desc())
        .limit(per_service * 20)
    )
    out: dict[int, list[float]] = {}
    for service_id, started, finished in (await session.execute(stmt)).all():
        bucket = out.setdefault(service_id, [])
        if len(bucket) < per_service and started and finished:
            bucket.append((finished - started).total_seconds() / 60.0)
    return out


async def serving_overdue_candidates(session: AsyncSession) -> Sequence[Ticket]:
    stmt = select(Ticket).where(
        Ticket.state == TicketState.SERVING.value, Ticket.overtime_notified.is_(False)
    )
    return (await session.execute(stmt)).scalars().all()


async def recent_calls(
    session: AsyncSession, hall_id: int, day: date, limit: int
) -> Sequence[Ticket]:
    stmt = (
        select(Ticket)
        .where(
            Ticket.hall_id == hall_id,
            Ticket.service_day == day,
            Ticket.called_at.is_not(None),
        )
        .order_by(Ticket.called_at.desc())
        .limit(limit)
    )
    return (await session.execute(stmt)).scalars().all()


async def rating_for(session: AsyncSession, ticket_id: int) -> Rating | None:
    stmt = select(Rating).where(Rating.ticket_id == ticket_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def green_issued_since(
    session: AsyncSession, hall_id: int, day: date, since: datetime
) -> list[int]:
    """Service ids of the green-channel tickets issued today since ``since``
    (the wait estimator's recent green rate)."""
    stmt = select(Ticket.service_id).where(
        Ticket.hall_id == hall_id,
        Ticket.service_day == day,
        Ticket.channel == "green",
        Ticket.issued_at >= since,
    )
    return list((await session.execute(stmt)).scalars().all())


async def mark_overtime_notified(session: AsyncSession, ticket_id: int) -> bool:
    """Claim the right to announce a ticket's overtime: true for exactly one
    caller even when several server processes run the ticker."""
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.overtime_notified.is_(False))
        .values(overtime_notified=True)
        .execution_options(synchronize_session=False)
    )
    return (result.rowcount or 0) == 1  # type: ignore[attr-defined]
