"""An item's service guide (办事指南), set by an admin, prints on its tickets:
admin API -> kiosk -> spooler -> TCP -> the ESC/POS printer emulator, decoded."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from hardware_sim.printer import PrinterEmulator
from kiosk_server.settings import Settings
from tests.factories import HallKit, issue, printing_to

pytestmark = pytest.mark.asyncio

GUIDE = "本人持身份证到窗口现场认证，约5分钟办结。"


@pytest.fixture
def settings(settings: Settings, emu_pair: tuple[PrinterEmulator, str]) -> Settings:
    return printing_to(settings, emu_pair[1])


def flat(text: str) -> str:
    # The ticket wraps long lines; compare the words, not the line breaks.
    return text.replace("\n", "").replace(" ", "")


async def test_the_guide_an_admin_sets_prints_on_the_ticket_and_removing_it_stops_that(
    client: httpx.AsyncClient, hall: HallKit, emu_pair: tuple[PrinterEmulator, str]
) -> None:
    emu = emu_pair[0]
    url = f"/api/v1/halls/{hall.code}/services/record_query"
    r = await client.patch(url, json={"guide": GUIDE}, headers=hall.auth("admin"))
    assert r.status_code == 200 and r.json()["guide"] == GUIDE

    t = await issue(client, hall, "record_query")
    assert t["printed"] is True, t
    (printed,) = await asyncio.to_thread(emu.wait_for_tickets, 1)
    assert t["number"] in printed.text
    assert "办事指南：" + GUIDE in flat(printed.text)

    # Cleared (null), the next ticket has no guide section at all.
    r = await client.patch(url, json={"guide": None}, headers=hall.auth("admin"))
    assert r.status_code == 200 and r.json()["guide"] is None
    t2 = await issue(client, hall, "record_query")
    assert t2["printed"] is True, t2
    _, second = await asyncio.to_thread(emu.wait_for_tickets, 2)
    assert t2["number"] in second.text
    assert "办事指南" not in second.text
