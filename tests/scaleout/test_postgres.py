"""The core's concurrency tests, and a full ticket life, on PostgreSQL.

The test functions are imported from the SQLite suite and run again here: this
folder's conftest swaps the ``settings`` fixture for a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.events.models import EventRow
from kiosk_server.tickets.models import Ticket
from tests.factories import ID_YOUNG_1990, HallKit, act
from tests.kiosk_server.tickets.test_concurrency import (
    test_300_concurrent_issues_give_distinct_gap_free_numbers as test_pg_300_concurrent_issues,
)
from tests.kiosk_server.tickets.test_concurrency import (
    test_four_counters_calling_at_once_get_disjoint_tickets as test_pg_four_counters_at_once,
)

pytestmark = pytest.mark.asyncio

__all__ = ["test_pg_300_concurrent_issues", "test_pg_four_counters_at_once"]


async def issue(
    client: httpx.AsyncClient, kit: HallKit, service: str, **body: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/halls/{kit.code}/tickets",
        json={"service": service, **body},
        headers=kit.auth("kiosk"),
    )


async def test_pg_one_person_one_open_ticket_under_concurrency(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # On PostgreSQL two transactions run side by side (SQLite would serialize them):
    # the duplicate check must still see the other one's ticket.
    async def one() -> httpx.Response:
        return await issue(client, hall, "enrol", id_number=ID_YOUNG_1990)

    responses = await asyncio.gather(*(one() for _ in range(12)))
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 11, codes


async def test_pg_issues_and_calls_interleaved_without_deadlock(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    # Issue locks the number row and the hall row, call-next the hall row then
    # tickets: mixed at once they must neither deadlock nor lose a ticket.
    for _ in range(8):
        assert (await issue(client, hall, "enrol")).status_code == 201
    called: list[str] = []

    async def kiosk(i: int) -> None:
        r = await issue(client, hall, "payment" if i % 2 else "enrol")
        assert r.status_code == 201, r.text

    async def counter(n: int) -> None:
        for _ in range(6):
            r = await act(client, hall, n, "call-next")
            assert r.status_code == 200, r.text
            t = r.json()["ticket"]
            if t is not None:
                called.append(t["number"])
                assert (await act(client, hall, n, "start")).status_code == 200
                r = await act(client, hall, n, "finish", outcome="completed")
                assert r.status_code == 200, r.text

    await asyncio.gather(*(kiosk(i) for i in range(40)), *(counter(n) for n in (1, 2, 3, 4)))
    assert len(called) == len(set(called)) > 0
    async with unit_of_work(ctx.db, write=False) as uow:
        tickets = (await uow.session.execute(select(Ticket))).scalars().all()
        rows = (
            (await uow.session.execute(select(EventRow).where(EventRow.hall_id == hall.hall_id)))
            .scalars()
            .all()
        )
    assert len(tickets) == 48
    # Event numbers are gap-free and unique: screens rely on them.
    seqs = sorted(r.seq for r in rows)
    assert seqs == list(range(1, len(seqs) + 1))
