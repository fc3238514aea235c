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
) -> HallEvent:
    moment = at or ctx.clock.now()
    seq = await repo.next_seq(uow.session, hall_id)
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
