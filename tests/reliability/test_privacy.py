"""After an end-to-end run with known personal data, none of it appears in
full in the database file, the logs, any public endpoint, the hall-screen
WebSocket or the printed ticket."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
import websockets

from hardware_sim.printer import PrinterEmulator
from kiosk_server.context import AppContext
from kiosk_server.settings import Settings
from tests.conftest import LiveServer
from tests.factories import ID_ELDERLY_1949, login_all, make_hall, printing_to

pytestmark = pytest.mark.asyncio
NAME = "欧阳修远"
PHONE = "13912345678"
SECRETS = [ID_ELDERLY_1949, ID_ELDERLY_1949.lower(), "19491231", NAME, PHONE, "139 1234 5678"]


@pytest.fixture
def settings(settings: Settings, emu_url: str) -> Settings:
    return printing_to(settings, emu_url)


def leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


async def test_no_personal_data_leaks(
    live: LiveServer,
    ctx: AppContext,
    settings: Settings,
    emu: PrinterEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    seen_on_screen: list[str] = []
    async with httpx.AsyncClient(base_url=live.url) as c:
        kit = await make_hall(ctx)
        await login_all(c, kit)
        ws = await websockets.connect(f"{live.ws_url}/ws/halls/{kit.code}/display")

        async def listen() -> None:
            async for msg in ws:
                seen_on_screen.append(str(msg))

        listener = asyncio.create_task(listen())
        # A resident with an ID number takes a ticket; it prints.
        r = await c.post(
            f"/api/v1/halls/{kit.code}/tickets",
            json={"service": "enrol", "id_number": ID_ELDERLY_1949},
            headers=kit.auth("kiosk"),
        )
        assert r.status_code == 201 and r.json()["channel"] == "green"
        ticket = r.json()
        token = ticket["status_url"].rsplit("/", 1)[1]
        # Another books an appointment from a phone with name and mobile.
        tomorrow = (
            ctx.clock.now().astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(days=1)
        ).date()
        slots = (
            await c.get(
                f"/api/v1/halls/{kit.code}/slots",
                params={"service": "enrol", "date": tomorrow.isoformat()},
            )
        ).json()
        code = None
        free = [
            s
            for s in (slots.get("slots", []) if isinstance(slots, dict) else slots)
            if s.get("free", 0) > 0
        ]
        assert free, slots
        if free:
            b = await c.post(
                f"/api/v1/halls/{kit.code}/appointments",
                json={
                    "service": "enrol",
                    "slot_start": free[0]["start"],
                    "name": NAME,
                    "phone": PHONE,
                },
            )
            assert b.status_code == 201, b.text
            code = b.json()["code"]
        # Served, finished as a proxy case, rated from the phone.
        counter = kit.counter_ids[1]
        for action, body in (
            ("call-next", None),
            ("start", None),
            ("finish", {"outcome": "proxy"}),
        ):
            r = await c.post(
                f"/api/v1/counters/{counter}/{action}", json=body, headers=kit.auth("staff1")
            )
            assert r.status_code == 200, r.text
        assert (
            await c.post(f"/api/v1/tickets/{token}/rating", json={"score": 1, "reason": "等太久"})
        ).status_code == 201
        public = [
            f"/api/v1/halls/{kit.code}",
            f"/api/v1/halls/{kit.code}/services",
            f"/api/v1/halls/{kit.code}/display",
            f"/api/v1/tickets/{token}",
            *([f"/api/v1/appointments/{code}"] if code else []),
        ]
        for path in public:
            body_text = (await c.get(path)).text
            assert not leaks(body_text), (path, leaks(body_text))
        # Even staff views show no full ID number.
        staff_text = (
            await c.get(f"/api/v1/tickets/by-id/{ticket['id']}", headers=kit.auth("supervisor"))
        ).text
        assert not leaks(staff_text)
        await asyncio.sleep(0.3)  # let the last events reach the screen socket
        listener.cancel()
        await ws.close()
    assert any("ticket.called" in m for m in seen_on_screen)
    assert not leaks("\n".join(seen_on_screen))
    printed = "\n".join(t.text for t in emu.tickets)
    assert ticket["number"] in printed
    assert not leaks(printed)
    log_text = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert not leaks(log_text)
    db_dir = settings.data_dir
    for f in db_dir.glob("hallq.db*"):
        raw = f.read_bytes()
        for s in SECRETS:
            assert s.encode() not in raw, (f.name, s)
            assert s.encode("gb18030") not in raw, (f.name, s)
    print(
        f"\nprivacy: {len(public)} public endpoints, {len(seen_on_screen)} screen messages, {len(emu.tickets)} printed tickets, database files checked; booking made: {code is not None}"
    )
