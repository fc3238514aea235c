"""Emitting hall events: seq allocated in the database, published after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.events import repository as repo
from kiosk_server.events.bus import HallEvent
from kiosk_server.events.display import display_wire
from kiosk_server.events.models import EventRow


async def emit(
    ctx: AppContext,
    uow: UnitOfWork,
    hall_id: int,
    hall_code: str,
    type_: str,
    data: dict[str, Any],
    at: datetime | None = None,
    *,
    seq: int | None = None,
    rows: list[dict[str, Any]] | None = None,
) -> HallEvent:
    """``seq``: a number taken from :func:`reserve_seqs`, and ``rows``: where to
    put the stored event for :func:`store_rows` (several events of a transaction
    numbered in one statement and stored in one); otherwise the next number is
    allocated and the row added to the session."""
    moment = at or ctx.clock.now()
    if seq is None:
        seq = await repo.next_seq(uow.session, hall_id)
    if rows is not None:
        rows.append({"hall_id": hall_id, "seq": seq, "type": type_, "at": moment, "data": data})
    else:
        uow.session.add(EventRow(hall_id=hall_id, seq=seq, type=type_, at=moment, data=data))
    event = HallEvent(
        hall_id=hall_id,
        hall_code=hall_code,
        seq=seq,
        type=type_,
        at=moment.isoformat(),
        data=data,
    )

    async def _publish() -> None:
        await ctx.bus.publish(event)

    uow.after_commit(_publish)
    return event


async def reserve_seqs(uow: UnitOfWork, hall_id: int, count: int) -> int:
    """Allocate ``count`` consecutive event numbers; returns the first."""
    return await repo.next_seq(uow.session, hall_id, count)


async def store_rows(uow: UnitOfWork, rows: list[dict[str, Any]]) -> None:
    """Store the events :func:`emit` collected in ``rows``, in one statement."""
    await repo.insert_many(uow.session, rows)


def row_to_wire(row: EventRow, hall_code: str) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "type": row.type,
        "at": row.at.isoformat(),
        "hall": hall_code,
        "data": row.data,
    }


def row_to_display_wire(row: EventRow, hall_code: str) -> dict[str, Any]:
    """A stored event as a public hall screen gets it on catch-up (see events.display)."""
    return display_wire(row.seq, row.type, row.at.isoformat(), hall_code, row.data)
