from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.tickets.models import NumberCounter, Ticket
from tests.factories import ID_ELDERLY_1949, ID_YOUNG_1990, HallKit, issue, make_id

pytestmark = pytest.mark.asyncio


async def test_issue_returns_the_contract(client: httpx.AsyncClient, hall: HallKit) -> None:
    t = await issue(client, hall, "enrol")
    assert t["number"] == "A001"
    assert t["service"] == "enrol" and t["service_name"] == "城乡居民参保登记"
    assert t["channel"] == "normal" and t["state"] == "waiting"
    assert t["ahead"] == 0 and t["estimated_wait_minutes"] == 0
    assert t["status_url"].startswith("http://hall.test/t/")
    token = t["status_url"].rsplit("/", 1)[1]
    assert str(t["id"]) != token and len(token) >= 20
    t2 = await issue(client, hall, "enrol")
    assert t2["number"] == "A002" and t2["ahead"] == 1
    t3 = await issue(client, hall, "payment")
    assert t3["number"] == "C001"


async def test_elderly_id_goes_to_green_and_is_not_stored(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    t = await issue(client, hall, "enrol", id_number=ID_ELDERLY_1949)
    assert t["channel"] == "green" and t["age_band"] == "70-79"
    young = await issue(client, hall, "payment", id_number=ID_YOUNG_1990)
    assert young["channel"] == "normal"
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = (await uow.session.execute(select(Ticket))).scalars().all()
    for row in rows:
        for value in vars(row).values():
            assert ID_ELDERLY_1949 not in str(value) and ID_YOUNG_1990 not in str(value)
    assert all(r.id_hash and len(r.id_hash) == 64 for r in rows)


async def test_elderly_threshold_uses_the_full_birth_date(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # The clock is 2026-11-25: born 1966-11-25 is 60 today, born 1966-11-26 is 59.
    sixty = await issue(client, hall, "enrol", id_number=make_id("19661125"))
    fifty_nine = await issue(client, hall, "payment", id_number=make_id("19661126"))
    assert sixty["channel"] == "green" and fifty_nine["channel"] == "normal"


async def test_one_open_ticket_per_person_per_item(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    first = await issue(client, hall, "enrol", id_number=ID_YOUNG_1990)
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets",
        json={"service": "enrol", "id_number": ID_YOUNG_1990},
        headers=hall.auth("kiosk"),
    )
    assert r.status_code == 409
    assert first["number"] in r.json()["error"]["message"]
    other_item = await issue(client, hall, "payment", id_number=ID_YOUNG_1990)
    assert other_item["number"] == "C001"


@pytest.mark.parametrize(
    ("id_number", "fragment"),
    [
        ("110105199003071230", "check digit"),
        ("110105491231002", "15-digit"),
        ("1101051990023012", "18 characters"),
    ],
)
async def test_bad_id_number_is_422_and_issues_nothing(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, id_number: str, fragment: str
) -> None:
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets",
        json={"service": "enrol", "id_number": id_number},
        headers=hall.auth("kiosk"),
    )
    assert r.status_code == 422
    assert fragment in r.json()["error"]["message"]
    assert r.json()["error"]["details"]["field"] == "id_number"
    t = await issue(client, hall, "enrol")
    assert t["number"] == "A001"  # the refused request took no number


async def test_idempotency_key_returns_the_same_ticket(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    a = await issue(client, hall, "enrol", idempotency_key="tap-123")
    headers = {**hall.auth("kiosk"), "Idempotency-Key": "tap-123"}
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=headers
    )
    assert r.status_code == 200 and r.headers["Idempotent-Replayed"] == "true"
    assert r.json()["id"] == a["id"] and r.json()["number"] == "A001"
    b = await issue(client, hall, "enrol")
    assert b["number"] == "A002"


async def test_numbers_restart_each_service_day(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock, ctx: AppContext
) -> None:
    await issue(client, hall, "enrol")
    await issue(client, hall, "enrol")
    clock.advance(days=1)
    t = await issue(client, hall, "enrol")
    assert t["number"] == "A001"
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = (await uow.session.execute(select(Ticket))).scalars().all()
    assert len(rows) == 3  # yesterday's tickets are kept


async def test_number_999_is_the_last(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    day = (clock.now() + timedelta(hours=8)).date()
    async with unit_of_work(ctx.db) as uow:
        uow.session.add(
            NumberCounter(hall_id=hall.hall_id, service_day=day, prefix="A", last_number=998)
        )
    t = await issue(client, hall, "enrol")
    assert t["number"] == "A999"
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=hall.auth("kiosk")
    )
    assert r.status_code == 409 and "999" in r.json()["error"]["message"]
    # Other prefixes still work.
    assert (await issue(client, hall, "payment"))["number"] == "C001"


async def test_kiosk_refused_outside_hours_but_staff_may_issue(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    clock.advance(hours=10)  # 20:00 local
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=hall.auth("kiosk")
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "hall_closed"
    assert r.json()["error"]["details"]["opens_at"].startswith("2026-11-26T08:30")
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=hall.auth("staff")
    )
    assert r.status_code == 201


async def test_public_status_follows_the_ticket(client: httpx.AsyncClient, hall: HallKit) -> None:
    t = await issue(client, hall, "enrol", id_number=ID_YOUNG_1990)
    token = t["status_url"].rsplit("/", 1)[1]
    r = await client.get(f"/api/v1/tickets/{token}")
    assert r.status_code == 200
    body = r.json()
    assert body["number"] == "A001" and body["state"] == "waiting" and body["ahead"] == 0
    assert "id_hash" not in body and "age_band" not in body and "id" not in body
    assert (await client.get("/api/v1/tickets/not-a-real-token")).status_code == 404
