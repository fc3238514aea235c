"""A print job that fails on the emulated printer counts in ``hallq_print_failures``."""

from __future__ import annotations

import re

import httpx
import pytest

from hardware_sim.printer import PrinterEmulator
from kiosk_server.settings import Settings
from tests.factories import HallKit, issue, printing_to

pytestmark = pytest.mark.asyncio


@pytest.fixture
def settings(settings: Settings, emu_pair: tuple[PrinterEmulator, str]) -> Settings:
    return printing_to(settings, emu_pair[1])


async def failures(client: httpx.AsyncClient, hall: str) -> float:
    r = await client.get("/metrics")
    assert r.status_code == 200
    m = re.search(rf'^hallq_print_failures_total{{hall="{hall}"}} (\S+)$', r.text, re.M)
    return float(m.group(1)) if m else 0.0


async def test_paper_out_shows_in_metrics(
    client: httpx.AsyncClient, hall: HallKit, emu_pair: tuple[PrinterEmulator, str]
) -> None:
    emu = emu_pair[0]
    t = await issue(client, hall, "enrol")
    assert t["printed"] is True
    assert await failures(client, hall.code) == 0  # a printed ticket is no failure

    emu.set_state("paper_out")
    t = await issue(client, hall, "enrol")
    assert t["printed"] is False
    assert await failures(client, hall.code) == 1
    # The reprint is tried even though the paper looked out, and fails again.
    r = await client.post(f"/api/v1/tickets/{t['id']}/reprint", headers=hall.auth("staff1"))
    assert r.status_code == 201 and r.json()["state"] == "failed", r.text
    assert await failures(client, hall.code) == 2

    emu.set_state("ok")
    r = await client.post(f"/api/v1/tickets/{t['id']}/reprint", headers=hall.auth("staff1"))
    assert r.json()["state"] == "printed", r.text
    assert await failures(client, hall.code) == 2
