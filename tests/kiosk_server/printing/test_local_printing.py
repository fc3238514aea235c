"""The server prints tickets itself: kiosk -> API -> spooler -> TCP -> emulator."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import zxingcpp
from sqlalchemy import select

from hardware_sim.printer import PrinterEmulator
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.events.models import EventRow
from kiosk_server.printing.runtime import runtime
from tests.conftest import LiveServer
from tests.factories import HallKit, issue

pytestmark = pytest.mark.asyncio

ENROL_MATERIALS = ["居民身份证或户口簿原件", "新生儿提供出生医学证明"]


async def jobs(client: httpx.AsyncClient, hall: HallKit, ticket_id: int) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/tickets/{ticket_id}/print-jobs", headers=hall.auth("staff"))
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()
    return out


async def device_events(ctx: AppContext, hall: HallKit) -> list[dict[str, Any]]:
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = await uow.session.execute(
            select(EventRow)
            .where(EventRow.hall_id == hall.hall_id, EventRow.type == "device.status")
            .order_by(EventRow.seq)
        )
        return [r.data for r in rows.scalars()]


async def test_green_ticket_prints_number_item_channel_materials_and_qr(
    client: httpx.AsyncClient, hall: HallKit, emu: PrinterEmulator
) -> None:
    t = await issue(client, hall, "enrol", channel="green")
    assert t["printed"] is True and t["print_error"] is None
    (printed,) = await asyncio.to_thread(emu.wait_for_tickets, 1)
    text = printed.text
    assert t["number"] in text
    assert "城乡居民参保登记" in text
    assert "绿色通道" in text
    for m in ENROL_MATERIALS:
        assert m in text.replace("\n", "").replace(" ", "")
    assert "demo医保服务站" in text
    assert printed.ticket.qr_payloads == [t["status_url"]]
    # The QR must also read back from the printed picture, not only from the bytes.
    decoded = [r.text for r in zxingcpp.read_barcodes(printed.image)]
    assert t["status_url"] in decoded
    assert emu.discarded == 0

    (job,) = await jobs(client, hall, t["id"])
    assert job["state"] == "printed" and job["printed"] is True
    assert job["attempts"] == 1 and job["target"] == "local" and not job["reprint"]
    assert job["device_id"] is not None


async def test_normal_ticket_is_not_marked_green(
    client: httpx.AsyncClient, hall: HallKit, emu: PrinterEmulator
) -> None:
    t = await issue(client, hall, "record_query")
    assert t["printed"] is True
    (printed,) = await asyncio.to_thread(emu.wait_for_tickets, 1)
    assert t["number"] in printed.text and "参保信息查询" in printed.text
    assert "绿色通道" not in printed.text


async def test_paper_out_keeps_the_ticket_and_a_reprint_prints_it(
    client: httpx.AsyncClient, hall: HallKit, emu: PrinterEmulator, ctx: AppContext
) -> None:
    emu.set_state("paper_out")
    t = await issue(client, hall, "enrol")
    assert t["printed"] is False
    assert t["print_error"] == "打印机缺纸，请更换纸卷"  # for residents: Chinese, no URL
    assert emu.tickets == [] and emu.discarded == 0  # the status check stopped the job

    # The ticket stays issued and waiting in the queue.
    r = await client.get(f"/api/v1/tickets/by-id/{t['id']}", headers=hall.auth("staff"))
    assert r.json()["state"] == "waiting"
    (job,) = await jobs(client, hall, t["id"])
    assert job["state"] == "failed" and job["code"] == "paper_out" and "缺纸" in job["reason"]

    # Kiosk and supervisor see the printer is out of paper; a device.status event went out.
    r = await client.get("/api/v1/halls/demo/printer", headers=hall.auth("kiosk"))
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["mode"] == "local" and state["state"] == "paper_out"
    assert state["can_print"] is False and state["text"] == "缺纸"
    r = await client.get("/api/v1/halls/demo/devices", headers=hall.auth("supervisor"))
    printers = [d for d in r.json() if d["kind"] == "printer"]
    assert [p["status"]["state"] for p in printers] == ["paper_out"]
    events = await device_events(ctx, hall)
    assert [e["status"]["state"] for e in events] == ["paper_out"]
    assert events[0]["device_id"] == printers[0]["id"]

    # Paper back: staff reprint it.
    emu.set_state("ok")
    r = await client.post(f"/api/v1/tickets/{t['id']}/reprint", headers=hall.auth("staff1"))
    assert r.status_code == 201, r.text
    again = r.json()
    assert again["state"] == "printed" and again["reprint"] is True
    (printed,) = await asyncio.to_thread(emu.wait_for_tickets, 1)
    assert t["number"] in printed.text
    assert [j["state"] for j in await jobs(client, hall, t["id"])] == ["failed", "printed"]
    assert [e["status"]["state"] for e in await device_events(ctx, hall)] == ["paper_out", "ok"]
    r = await client.get("/api/v1/halls/demo/printer", headers=hall.auth("kiosk"))
    assert r.json()["state"] == "ok" and r.json()["can_print"] is True


async def test_known_paper_out_fails_fast_without_contacting_the_printer(
    client: httpx.AsyncClient, hall: HallKit, emu: PrinterEmulator, ctx: AppContext
) -> None:
    rt = runtime(ctx)
    emu.set_state("paper_out")
    st = await rt.poll_status(ctx, force=True)
    assert st is not None and st.state == "paper_out"
    asked = emu.status_requests
    t = await issue(client, hall, "payment")
    assert t["printed"] is False and "缺纸" in t["print_error"]
    assert emu.status_requests == asked  # failed from the monitor's fresh status
    (job,) = await jobs(client, hall, t["id"])
    assert job["attempts"] == 0 and job["code"] == "paper_out"

    emu.set_state("ok")
    st = await rt.poll_status(ctx, force=True)
    assert st is not None and st.state == "ok"
    t2 = await issue(client, hall, "payment")
    assert t2["printed"] is True
    assert [e["status"]["state"] for e in await device_events(ctx, hall)] == ["paper_out", "ok"]


async def test_status_duty_polls_on_its_period_only(
    client: httpx.AsyncClient, hall: HallKit, emu: PrinterEmulator, ctx: AppContext
) -> None:
    rt = runtime(ctx)
    await rt.poll_status(ctx, force=True)
    asked = emu.status_requests
    emu.set_state("cover_open")
    # Within printer_status_seconds the duty keeps the last answer.
    st = await rt.poll_status(ctx)
    assert st is not None and st.state == "ok" and emu.status_requests == asked
    st = await rt.poll_status(ctx, force=True)
    assert st is not None and st.state == "cover_open"
    r = await client.get("/api/v1/halls/demo/printer", headers=hall.auth("staff"))
    assert r.json()["state"] == "cover_open" and r.json()["text"] == "上盖打开"


async def test_idempotent_replay_prints_once(
    client: httpx.AsyncClient, hall: HallKit, emu: PrinterEmulator
) -> None:
    first = await issue(client, hall, "enrol", idempotency_key="tap-1")
    again = await issue(client, hall, "enrol", idempotency_key="tap-1")
    assert again["id"] == first["id"] and again["replayed"] is True
    assert len(await jobs(client, hall, first["id"])) == 1
    await asyncio.to_thread(emu.wait_for_tickets, 1)
    assert len(emu.tickets) == 1


async def test_reprint_and_job_lists_check_who_asks(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    from tests.factories import login, make_hall

    t = await issue(client, hall, "enrol")
    other = await make_hall(ctx, "other")
    await login(client, other, "other-staff", "staff")
    url = f"/api/v1/tickets/{t['id']}/reprint"
    assert (await client.post(url, headers=hall.auth("kiosk"))).status_code == 403
    assert (await client.post(url, headers=other.auth("staff"))).status_code == 403
    assert (await client.post(url)).status_code == 401
    r = await client.post("/api/v1/tickets/999999/reprint", headers=hall.auth("staff"))
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"

    r = await client.get("/api/v1/halls/demo/printer", headers=hall.auth("display"))
    assert r.status_code == 403
    r = await client.get("/api/v1/halls/demo/printer", headers=other.auth("staff"))
    assert r.status_code == 403
    r = await client.get("/api/v1/halls/demo/print-jobs", headers=hall.auth("staff"))
    assert r.status_code == 403
    r = await client.get(
        "/api/v1/halls/demo/print-jobs?state=printed", headers=hall.auth("supervisor")
    )
    assert r.status_code == 200
    assert [j["ticket_id"] for j in r.json()] == [t["id"]]
    r = await client.get(
        "/api/v1/halls/demo/print-jobs?state=failed", headers=hall.auth("supervisor")
    )
    assert r.json() == []


async def test_a_hung_printer_never_holds_up_issuing(
    client: httpx.AsyncClient, hall: HallKit, emu: PrinterEmulator, ctx: AppContext
) -> None:
    # "offline" in the emulator: connected but silent, like a hung printer.
    emu.set_state("offline")
    ctx.settings.print_wait_seconds = 0.2
    ctx.settings.print_timeout_seconds = 3.0
    ctx.settings.print_attempts = 1
    started = time.monotonic()
    t = await issue(client, hall, "enrol")
    # The response came back while the job was still being tried (the status
    # query alone may take 1.5 s of the 3 s budget).
    assert t["printed"] is None and t["print_error"] is None
    assert time.monotonic() - started < 3.0
    r = await client.get(f"/api/v1/tickets/by-id/{t['id']}", headers=hall.auth("staff"))
    assert r.json()["state"] == "waiting"
    deadline = time.monotonic() + 10
    while True:
        (job,) = await jobs(client, hall, t["id"])
        if job["state"] != "queued" or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert job["state"] == "failed" and job["code"] == "timeout"
    assert emu.tickets == []


async def test_a_print_agent_is_refused_when_the_server_prints_itself(
    live: LiveServer, ctx: AppContext, emu_url: str
) -> None:
    from kiosk_server.auth.principal import DeviceKind
    from kiosk_server.auth.service import create_device
    from tests.factories import make_hall
    from ticket_printer.agent import AgentRejected, PrintAgent

    kit = await make_hall(ctx)
    async with unit_of_work(ctx.db) as uow:
        token, _ = await create_device(uow.session, kit.hall_id, DeviceKind.PRINTER, "agent")
    agent = PrintAgent(live.url, token, emu_url)
    with pytest.raises(AgentRejected, match="prints itself"):
        await asyncio.wait_for(agent.run(), 10)
