from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kiosk_server.appointments.models import Appointment
from kiosk_server.appointments.service import decrypt_phone, mark_no_shows
from kiosk_server.audit.models import AuditEntry
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.factories import SHANGHAI, HallKit, act, issue

pytestmark = pytest.mark.asyncio

API = "/api/v1"
TOMORROW = date(2026, 11, 26)  # a Thursday; the clock stands at Wed 2026-11-25 10:00


def at(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=SHANGHAI)


async def book(
    client: httpx.AsyncClient,
    kit: HallKit,
    start: datetime,
    *,
    service: str = "enrol",
    name: str = "张三丰",
    phone: str = "13812341234",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"{API}/halls/{kit.code}/appointments",
        json={"service": service, "slot_start": start.isoformat(), "name": name, "phone": phone},
        headers=headers or {},
    )


async def booked(
    client: httpx.AsyncClient, kit: HallKit, start: datetime, **kw: Any
) -> dict[str, Any]:
    r = await book(client, kit, start, **kw)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def set_capacity(client: httpx.AsyncClient, kit: HallKit, capacity: int) -> None:
    r = await client.put(
        f"{API}/halls/{kit.code}/appointment-config",
        json={"capacity": capacity},
        headers=kit.auth("admin"),
    )
    assert r.status_code == 200, r.text


async def test_offer_lists_items_with_materials_and_days(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    r = await client.get(f"{API}/halls/demo/appointment-offer")
    assert r.status_code == 200
    body = r.json()
    assert body["today"] == "2026-11-25" and body["horizon_days"] == 7
    enrol = next(i for i in body["items"] if i["code"] == "enrol")
    assert enrol["materials"] and enrol["name_zh"]
    days = {d["date"]: d for d in body["days"]}
    assert len(days) == 8
    assert days["2026-11-25"]["open"]  # still slots after 10:00 today
    assert not days["2026-11-28"]["open"]  # Saturday
    assert days["2026-11-30"]["open"]


async def test_slots_show_free_places_and_refuse_past_and_far_days(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    r = await client.get(
        f"{API}/halls/demo/slots", params={"service": "enrol", "date": "2026-11-25"}
    )
    assert r.status_code == 200, r.text
    slots = r.json()["slots"]
    assert slots[0]["label"] == "08:30-09:00" and not slots[0]["bookable"]  # past
    ten = next(s for s in slots if s["label"] == "10:00-10:30")
    assert not ten["bookable"]  # started at 10:00 = now
    nxt = next(s for s in slots if s["label"] == "10:30-11:00")
    assert nxt["bookable"] and nxt["free"] == 2 and nxt["capacity"] == 2
    for day, code in (("2026-11-24", "slot_past"), ("2026-12-03", "invalid_value")):
        r = await client.get(f"{API}/halls/demo/slots", params={"service": "enrol", "date": day})
        assert r.status_code == 422 and r.json()["error"]["code"] == code
    r = await client.get(
        f"{API}/halls/demo/slots", params={"service": "nope", "date": "2026-11-26"}
    )
    assert r.status_code == 404 and r.json()["error"]["details"]["field"] == "service"


async def test_booking_stores_only_masked_and_hashed_personal_data(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    data = await booked(client, hall, at(TOMORROW, 9), phone="138 1234 5678")
    assert data["code"].startswith("YY") and len(data["code"]) == 10
    assert data["name_masked"] == "张*丰" and data["phone_masked"] == "138****5678"
    assert data["state"] == "booked" and data["source"] == "phone"
    assert data["slot_label"] == "09:00-09:30" and data["materials"]
    assert data["check_in_opens"].startswith("2026-11-26T08:30")
    async with unit_of_work(ctx.db, write=False) as uow:
        row = (await uow.session.execute(select(Appointment))).scalar_one()
        stored = " ".join(str(v) for v in vars(row).values())
        assert "张三丰" not in stored and "13812345678" not in stored
        assert decrypt_phone(ctx, row.phone_enc, row.code) == "13812345678"
    r = await client.get(f"{API}/appointments/{data['code'].lower()}")
    assert r.status_code == 200 and r.json()["state_label"] == "已预约"
    r = await client.get(f"{API}/appointments/{data['code'][2:]}")  # prefix left off
    assert r.status_code == 200
    r = await client.get(f"{API}/appointments/YY00000000")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.post(
        f"{API}/halls/demo/appointments/find", json={"name": "张 三丰", "phone": "13812345678"}
    )
    assert [x["code"] for x in r.json()] == [data["code"]]
    r = await client.post(
        f"{API}/halls/demo/appointments/find", json={"name": "张三", "phone": "13812345678"}
    )
    assert r.json() == []
    qr = await client.get(f"{API}/appointments/{data['code']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in qr.text


@pytest.mark.parametrize(
    ("patch", "status", "code", "field"),
    [
        ({"service": "nope"}, 404, "not_found", "service"),
        ({"phone": "1381234"}, 422, "invalid_value", "phone"),
        ({"phone": "23812341234"}, 422, "invalid_value", "phone"),
        ({"name": "张3"}, 422, "invalid_value", "name"),
        ({"slot_start": "2026-11-25T09:00:00+08:00"}, 422, "slot_past", "slot_start"),
        ({"slot_start": "2026-11-25T10:00:00+08:00"}, 422, "slot_past", "slot_start"),
        ({"slot_start": "2026-11-26T09:10:00+08:00"}, 404, "not_found", "slot_start"),
        ({"slot_start": "2026-11-28T09:00:00+08:00"}, 404, "not_found", "slot_start"),
        ({"slot_start": "2026-12-04T09:00:00+08:00"}, 422, "invalid_value", "date"),
        ({"slot_start": "2026-11-26T09:00:00"}, 422, "invalid_value", "slot_start"),
    ],
)
async def test_bad_bookings_get_the_error_shape(
    client: httpx.AsyncClient,
    hall: HallKit,
    patch: dict[str, str],
    status: int,
    code: str,
    field: str,
) -> None:
    body = {
        "service": "enrol",
        "slot_start": at(TOMORROW, 9).isoformat(),
        "name": "张三丰",
        "phone": "13812341234",
        **patch,
    }
    r = await client.post(f"{API}/halls/demo/appointments", json=body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"]
    assert err["details"]["field"] == field


async def test_malformed_payload_is_rejected(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await client.post(f"{API}/halls/demo/appointments", json={"service": "enrol"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_request"


async def test_one_booking_per_person_item_and_day(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    first = await booked(client, hall, at(TOMORROW, 9))
    r = await book(client, hall, at(TOMORROW, 14))
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_booked"
    assert r.json()["error"]["details"]["code"] == first["code"]
    # Another item, another day, or another person with the same phone is fine.
    await booked(client, hall, at(TOMORROW, 14), service="record_query")
    await booked(client, hall, at(date(2026, 11, 27), 9))
    await booked(client, hall, at(TOMORROW, 9), name="张小丰")
    # After cancelling, the person may book the item that day again.
    r = await client.delete(f"{API}/appointments/{first['code']}")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    await booked(client, hall, at(TOMORROW, 14))


async def test_cancel_frees_the_place(client: httpx.AsyncClient, hall: HallKit) -> None:
    await set_capacity(client, hall, 1)
    a = await booked(client, hall, at(TOMORROW, 9))
    r = await book(client, hall, at(TOMORROW, 9), name="李四", phone="13900000000")
    assert r.status_code == 409 and r.json()["error"]["code"] == "slot_full"
    slots = (
        await client.get(
            f"{API}/halls/demo/slots", params={"service": "enrol", "date": "2026-11-26"}
        )
    ).json()["slots"]
    nine = next(s for s in slots if s["label"] == "09:00-09:30")
    assert nine["free"] == 0 and not nine["bookable"]
    assert (await client.delete(f"{API}/appointments/{a['code']}")).status_code == 200
    # Twice is harmless and does not free a second place.
    assert (await client.delete(f"{API}/appointments/{a['code']}")).json()["state"] == "cancelled"
    await booked(client, hall, at(TOMORROW, 9), name="李四", phone="13900000000")
    r = await book(client, hall, at(TOMORROW, 9), name="王五", phone="13900000001")
    assert r.status_code == 409 and r.json()["error"]["code"] == "slot_full"


async def test_concurrent_booking_of_the_last_place(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await set_capacity(client, hall, 1)
    people = [(f"居民{chr(0x4E00 + i)}", f"1390000{i:04d}") for i in range(8)]
    results = await asyncio.gather(
        *(book(client, hall, at(TOMORROW, 9), name=n, phone=p) for n, p in people)
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 7, [r.text for r in results]
    assert all(r.json()["error"]["code"] == "slot_full" for r in results if r.status_code == 409)
    slots = (
        await client.get(
            f"{API}/halls/demo/slots", params={"service": "enrol", "date": "2026-11-26"}
        )
    ).json()["slots"]
    assert next(s for s in slots if s["label"] == "09:00-09:30")["booked"] == 1


async def check_in(client: httpx.AsyncClient, kit: HallKit, code: str) -> httpx.Response:
    return await client.post(
        f"{API}/halls/{kit.code}/appointments/{code}/check-in", headers=kit.auth("kiosk")
    )


async def test_check_in_window_edges(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    a = await booked(client, hall, at(TOMORROW, 9))
    b = await booked(client, hall, at(TOMORROW, 9), name="李四", phone="13900000000")
    clock.set(at(TOMORROW, 8, 29))
    r = await check_in(client, hall, a["code"])
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "check_in_too_early" and err["details"]["come_back_at"] == "08:30"
    assert "08:30" in err["message"]
    clock.set(at(TOMORROW, 8, 30))
    r = await check_in(client, hall, a["code"])
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["channel"] == "appointment" and ticket["service"] == "enrol"
    got = (await client.get(f"{API}/appointments/{a['code']}")).json()
    assert got["state"] == "checked_in" and got["ticket_number"] == ticket["number"]
    r = await check_in(client, hall, a["code"])
    assert r.status_code == 409 and ticket["number"] in r.json()["error"]["message"]
    clock.set(
        at(
            TOMORROW,
            9,
            15,
        )
        + timedelta(seconds=1)
    )
    r = await check_in(client, hall, b["code"])
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "check_in_too_late" and err["details"]["offer"] == "normal_ticket"
    assert err["details"]["service"] == "enrol"
    # The resident takes a normal ticket instead.
    assert (await issue(client, hall, "enrol"))["channel"] == "normal"


async def test_check_in_through_the_ticket_endpoint_and_at_the_last_second(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    a = await booked(client, hall, at(TOMORROW, 9))
    clock.set(at(TOMORROW, 9, 15))
    t = await issue(client, hall, "payment", appointment_code=a["code"])
    assert t["channel"] == "appointment" and t["service"] == "enrol"  # the booking's item wins
    other = await client.post(
        f"{API}/halls/other/tickets",
        json={"service": "enrol", "appointment_code": a["code"]},
        headers=hall.auth("kiosk"),
    )
    assert other.status_code == 404


async def test_check_in_needs_no_service_but_a_walk_in_does(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    a = await booked(client, hall, at(TOMORROW, 9))
    clock.set(at(TOMORROW, 9, 5))
    r = await client.post(
        f"{API}/halls/{hall.code}/tickets",
        json={"appointment_code": a["code"]},
        headers=hall.auth("kiosk"),
    )
    assert r.status_code == 201, r.text
    assert r.json()["service"] == "enrol" and r.json()["channel"] == "appointment"
    bare = await client.post(
        f"{API}/halls/{hall.code}/tickets", json={}, headers=hall.auth("kiosk")
    )
    assert bare.status_code == 422
    assert "service" in bare.json()["error"]["message"]


async def test_checked_in_ticket_is_called_before_earlier_walk_ins_while_its_slot_is_current(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    # Today (staff logins stay valid): the 11:00 slot, checked in at 10:35.
    today = date(2026, 11, 25)
    a = await booked(client, hall, at(today, 11))
    clock.set(at(today, 10, 35))
    walk_ins = [await issue(client, hall, "enrol") for _ in range(3)]
    appt = (await check_in(client, hall, a["code"])).json()
    assert appt["channel"] == "appointment"
    # Before the slot starts the appointment waits behind the walk-ins.
    clock.set(at(today, 10, 45))
    r = await act(client, hall, 1, "call-next")
    assert r.status_code == 200, r.text
    assert r.json()["ticket"]["number"] == walk_ins[0]["number"]
    # Once the slot is current it goes first.
    clock.set(at(today, 11, 1))
    r = await act(client, hall, 2, "call-next")
    assert r.json()["ticket"]["number"] == appt["number"]
    r = await act(client, hall, 3, "call-next")
    assert r.json()["ticket"]["number"] == walk_ins[1]["number"]


async def test_cancelled_and_no_show_bookings_cannot_check_in(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock, ctx: AppContext
) -> None:
    a = await booked(client, hall, at(TOMORROW, 9))
    b = await booked(client, hall, at(TOMORROW, 9), name="李四", phone="13900000000")
    c = await booked(client, hall, at(TOMORROW, 14), name="王五", phone="13900000001")
    await client.delete(f"{API}/appointments/{a['code']}")
    clock.set(at(TOMORROW, 9, 0))
    r = await check_in(client, hall, a["code"])
    assert r.status_code == 409 and r.json()["error"]["details"]["state"] == "cancelled"
    clock.set(at(TOMORROW, 9, 29))
    assert await mark_no_shows(ctx) == 0
    clock.set(at(TOMORROW, 9, 30))
    assert await mark_no_shows(ctx) == 1
    assert (await client.get(f"{API}/appointments/{b['code']}")).json()["state"] == "no_show"
    assert (await client.get(f"{API}/appointments/{c['code']}")).json()["state"] == "booked"
    r = await check_in(client, hall, b["code"])
    assert r.json()["error"]["code"] == "check_in_too_late"
    r = await client.delete(f"{API}/appointments/{b['code']}")
    assert r.status_code == 409


async def test_staff_book_for_a_resident_and_kiosk_cannot_check_in_elsewhere(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    data = await booked(client, hall, at(TOMORROW, 10), headers=hall.auth("staff1"))
    assert data["source"] == "staff"
    r = await book(client, hall, at(TOMORROW, 10), name="李四", headers=hall.auth("display"))
    assert r.status_code == 403
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = (await uow.session.execute(select(AuditEntry))).scalars().all()
    assert any(e.action == "appointment.book" and e.target == data["code"] for e in rows)
    r = await client.post(
        f"{API}/halls/demo/appointments/{data['code']}/check-in", headers=hall.auth("display")
    )
    assert r.status_code == 403


async def test_closing_a_day_cancels_and_lists_bookings_and_reveal_is_audited(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    a = await booked(client, hall, at(TOMORROW, 9))
    b = await booked(
        client, hall, at(TOMORROW, 14), service="payment", name="李四", phone="13900000000"
    )
    keep = await booked(client, hall, at(date(2026, 11, 27), 9), name="王五", phone="13900000001")
    body = {"date": "2026-11-26", "reason": "系统停电检修"}
    r = await client.post(
        f"{API}/halls/demo/appointments/close", json=body, headers=hall.auth("staff")
    )
    assert r.status_code == 403
    r = await client.post(
        f"{API}/halls/demo/appointments/close", json=body, headers=hall.auth("admin")
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert {x["code"] for x in out["cancelled"]} == {a["code"], b["code"]}
    assert {x["phone_masked"] for x in out["cancelled"]} == {"138****1234", "139****0000"}
    got = (await client.get(f"{API}/appointments/{a['code']}")).json()
    assert got["state"] == "cancelled_by_hall" and got["cancel_reason"] == "系统停电检修"
    assert (await client.get(f"{API}/appointments/{keep['code']}")).json()["state"] == "booked"
    slots = (
        await client.get(
            f"{API}/halls/demo/slots", params={"service": "enrol", "date": "2026-11-26"}
        )
    ).json()["slots"]
    assert all(s["closed"] and not s["bookable"] for s in slots)
    r = await book(client, hall, at(TOMORROW, 10), name="赵六", phone="13900000002")
    assert r.status_code == 409 and r.json()["error"]["code"] == "slot_closed"
    r = await client.get(f"{API}/appointments/{a['code']}/phone", headers=hall.auth("staff"))
    assert r.status_code == 403
    r = await client.get(f"{API}/appointments/{a['code']}/phone", headers=hall.auth("supervisor"))
    assert r.status_code == 200 and r.json()["phone"] == "13812341234"
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = (await uow.session.execute(select(AuditEntry))).scalars().all()
    assert [e.target for e in rows if e.action == "appointment.reveal_phone"] == [a["code"]]


async def test_closing_one_slot_of_one_item(client: httpx.AsyncClient, hall: HallKit) -> None:
    a = await booked(client, hall, at(TOMORROW, 9))
    b = await booked(client, hall, at(TOMORROW, 9, 30), name="李四", phone="13900000000")
    r = await client.post(
        f"{API}/halls/demo/appointments/close",
        json={
            "date": "2026-11-26",
            "service": "enrol",
            "slot_start": at(TOMORROW, 9).isoformat(),
            "reason": "业务培训",
        },
        headers=hall.auth("admin"),
    )
    assert r.status_code == 200 and r.json()["closed_slots"] == 1
    assert [x["code"] for x in r.json()["cancelled"]] == [a["code"]]
    assert (await client.get(f"{API}/appointments/{b['code']}")).json()["state"] == "booked"
    await booked(client, hall, at(TOMORROW, 9), service="payment")
    r = await client.post(
        f"{API}/halls/demo/appointments/close",
        json={"date": "2026-11-26", "slot_start": at(TOMORROW, 9, 10).isoformat(), "reason": "x"},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 404


async def test_figures_per_day(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock, ctx: AppContext
) -> None:
    # Today's slots, so the morning's staff logins still hold at closing time.
    today = date(2026, 11, 25)
    a = await booked(client, hall, at(today, 11))
    await booked(client, hall, at(today, 11), name="李四", phone="13900000000")
    c = await booked(client, hall, at(today, 14), name="王五", phone="13900000001")
    await booked(client, hall, at(TOMORROW, 9), name="王五", phone="13900000001")
    await client.delete(f"{API}/appointments/{c['code']}")
    clock.set(at(today, 11, 0))
    assert (await check_in(client, hall, a["code"])).status_code == 201
    clock.set(at(today, 17, 30))
    assert await mark_no_shows(ctx) == 1
    r = await client.get(
        f"{API}/halls/demo/appointments/stats",
        params={"from": "2026-11-25", "to": "2026-11-30"},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    assert r.json()["days"] == [
        {
            "date": "2026-11-25",
            "booked": 3,
            "checked_in": 1,
            "no_show": 1,
            "cancelled": 1,
            "cancelled_by_hall": 0,
        },
        {
            "date": "2026-11-26",
            "booked": 1,
            "checked_in": 0,
            "no_show": 0,
            "cancelled": 0,
            "cancelled_by_hall": 0,
        },
    ]
    assert r.json()["totals"]["booked"] == 4
    # The same figures reach the supervisor's figures and the daily report.
    r = await client.get(
        f"{API}/halls/demo/figures",
        params={"from": "2026-11-25", "to": "2026-11-25"},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    ext = r.json()["extensions"]["appointments"]
    assert ext["totals"] == {
        "booked": 3,
        "checked_in": 1,
        "no_show": 1,
        "cancelled": 1,
        "cancelled_by_hall": 0,
        "check_in_rate": 0.5,
    }
    assert ext["预约数"] == 3 and ext["预约未到数"] == 1
    r = await client.get(
        f"{API}/halls/demo/reports",
        params={"format": "csv", "date": "2026-11-25"},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    csv_text = r.content.decode("utf-8-sig")
    assert "预约办理：预约数,3" in csv_text and "预约办理：预约签到数,1" in csv_text
    assert "预约办理：预约签到率,50.00%" in csv_text
    r = await client.get(
        f"{API}/halls/demo/appointments/stats",
        params={"from": "2026-11-25", "to": "2026-11-30"},
        headers=hall.auth("staff"),
    )
    assert r.status_code == 403
    r = await client.get(
        f"{API}/halls/demo/appointments", params={"date": "2026-11-25"}, headers=hall.auth("staff1")
    )
    assert [x["state"] for x in r.json()] == ["checked_in", "no_show", "cancelled"]


async def test_config_limits_items_and_capacity(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await client.put(
        f"{API}/halls/demo/appointment-config",
        json={"services": ["enrol"], "capacities": {"enrol": 5}, "horizon_days": 2},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 200, r.text
    offer = (await client.get(f"{API}/halls/demo/appointment-offer")).json()
    assert [i["code"] for i in offer["items"]] == ["enrol"] and offer["items"][0]["capacity"] == 5
    assert len(offer["days"]) == 3
    r = await book(client, hall, at(TOMORROW, 9), service="payment")
    assert r.status_code == 404
    r = await client.put(
        f"{API}/halls/demo/appointment-config",
        json={"services": ["nope"]},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 422
    r = await client.put(
        f"{API}/halls/demo/appointment-config", json={"enabled": False}, headers=hall.auth("admin")
    )
    r = await book(client, hall, at(TOMORROW, 9))
    assert r.status_code == 404 and "暂未开放预约" in r.json()["error"]["message"]


async def test_first_slot_checks_in_before_the_doors_open(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    """The 08:30 slot may check in from 08:00, when the hall is still closed to
    walk-ins: the booking lets the resident in, a walk-in is still refused."""
    a = await booked(client, hall, at(TOMORROW, 8, 30))
    clock.set(at(TOMORROW, 8, 10))
    walk_in = await client.post(
        f"{API}/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=hall.auth("kiosk")
    )
    assert walk_in.status_code == 409 and walk_in.json()["error"]["code"] == "hall_closed"
    r = await check_in(client, hall, a["code"])
    assert r.status_code == 201, r.text
    assert r.json()["channel"] == "appointment"
    # Earlier than the window is still refused, with the window's own reason.
    b = await booked(client, hall, at(TOMORROW, 8, 30), name="李四", phone="13912345678")
    clock.set(at(TOMORROW, 7, 50))
    early = await check_in(client, hall, b["code"])
    assert early.status_code == 409 and early.json()["error"]["code"] != "hall_closed"
