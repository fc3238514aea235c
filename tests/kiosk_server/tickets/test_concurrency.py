from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.tickets.models import Ticket
from tests.factories import HallKit, act

pytestmark = pytest.mark.asyncio


async def test_300_concurrent_issues_give_distinct_gap_free_numbers(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    async def one(i: int) -> httpx.Response:
        service = "enrol" if i % 3 else "payment"
        return await client.post(
            f"/api/v1/halls/{hall.code}/tickets",
            json={"service": service},
            headers=hall.auth("kiosk"),
        )

    responses = await asyncio.gather(*(one(i) for i in range(300)))
    assert all(r.status_code == 201 for r in responses), {r.status_code for r in responses}
    numbers = [r.json()["number"] for r in responses]
    assert len(set(numbers)) == 300
    for prefix in ("A", "C"):
        got = sorted(int(n[1:]) for n in numbers if n[0] == prefix)
        assert got == list(range(1, len(got) + 1))
    async with unit_of_work(ctx.db, write=False) as uow:
        assert len((await uow.session.execute(select(Ticket))).scalars().all()) == 300


async def test_four_counters_calling_at_once_get_disjoint_tickets(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    for _ in range(40):
        r = await client.post(
            f"/api/v1/halls/{hall.code}/tickets",
            json={"service": "enrol"},
            headers=hall.auth("kiosk"),
        )
        assert r.status_code == 201
    called: list[str] = []

    async def counter_loop(n: int) -> None:
        while True:
            r = await act(client, hall, n, "call-next")
            assert r.status_code == 200, r.text
            ticket = r.json()["ticket"]
            if ticket is None:
                return
            called.append(ticket["number"])
            assert (await act(client, hall, n, "no-show")).status_code == 200

    await asyncio.gather(*(counter_loop(n) for n in (1, 2, 3, 4)))
    assert len(called) == 40 and len(set(called)) == 40
