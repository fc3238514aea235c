"""The LED bridge against the real server (uvicorn on a real port) and emulated
screens on a real pty: the hall is learnt from the token, events reach the
screens, and the port's state shows on the hall's devices endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from display_client.serial_bridge.cli import run_leds
from display_client.serial_bridge.device import PORT_GONE, HallUnknown, learn_hall
from display_client.serial_bridge.led import IDLE_TEXT, PAUSED_TEXT
from hardware_sim.serial.devices import LedScreen, SimBus
from kiosk_server.auth.principal import DeviceKind
from kiosk_server.auth.service import create_device
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.devices.link import SerialLink
from tests.conftest import LiveServer
from tests.factories import HallKit, act, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]
MAP = {1: 0x01, 2: 0x02, 3: 0x03}
BRIDGE_NAME = "窗口屏桥接"


@dataclass
class Rig:
    kit: HallKit
    client: httpx.AsyncClient
    bus: SimBus
    token: str
    device_id: int


def screen(bus: SimBus, address: int) -> LedScreen:
    d = bus[address]
    assert isinstance(d, LedScreen)
    return d


async def shows(bus: SimBus, address: int, text: str, within: float = 10.0) -> bool:
    return await asyncio.to_thread(bus.wait_for, lambda: screen(bus, address).text == text, within)


async def bridge_status(rig: Rig) -> dict[str, Any]:
    r = await rig.client.get(
        f"/api/v1/halls/{rig.kit.code}/devices", headers=rig.kit.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    (dev,) = [d for d in r.json() if d["id"] == rig.device_id]
    assert dev["kind"] == "led_bridge" and dev["name"] == BRIDGE_NAME
    status: dict[str, Any] = dev["status"]
    return status


async def state_becomes(rig: Rig, state: str, within: float = 10.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if (await bridge_status(rig)).get("state") == state:
            return True
        await asyncio.sleep(0.05)
    return False


@pytest_asyncio.fixture
async def rig(live: LiveServer, ctx: AppContext, tmp_path: Path) -> AsyncIterator[Rig]:
    async with httpx.AsyncClient(base_url=live.url, trust_env=False) as client:
        kit = await make_hall(ctx)
        await make_hall(ctx, "other")  # a second hall: the token must pick its own
        await login_all(client, kit)
        async with unit_of_work(ctx.db) as uow:
            token, dev = await create_device(
                uow.session, kit.hall_id, DeviceKind.LED_BRIDGE, BRIDGE_NAME
            )
            await uow.session.flush()
            device_id = dev.id
        bus = SimBus(
            [LedScreen(a) for a in MAP.values()], link_path=str(tmp_path / "ttyUSB0"), name="led"
        )
        bus.plug()
        try:
            yield Rig(kit, client, bus, token, device_id)
        finally:
            bus.close()


@contextlib.asynccontextmanager
async def bridge_running(rig: Rig, live: LiveServer) -> AsyncIterator[None]:
    link = SerialLink(rig.bus.path, backoff_initial=0.02, backoff_max=0.1, read_timeout=0.05)
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        task = asyncio.create_task(
            # No --hall: the bridge learns it from its token.
            run_leds(client, live.url, None, rig.token, link, MAP, status_poll=0.02)
        )
        try:
            yield
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await link.close()


async def test_staff_call_and_pause_reach_the_screens(rig: Rig, live: LiveServer) -> None:
    async with bridge_running(rig, live):
        assert await shows(rig.bus, 0x02, IDLE_TEXT)
        for _ in range(3):
            await issue(rig.client, rig.kit, "enrol")
        r = await act(rig.client, rig.kit, 2, "call-next")
        assert r.status_code == 200, r.text
        number = r.json()["ticket"]["number"]
        assert number.startswith("A0")
        assert await shows(rig.bus, 0x02, f"请 {number}")
        assert screen(rig.bus, 0x02).writes[-1].flash_seconds > 0
        # The emulator decoded the GB18030 payload; the other screens kept their text.
        assert screen(rig.bus, 0x01).text == IDLE_TEXT
        assert screen(rig.bus, 0x03).text == IDLE_TEXT
        r = await act(rig.client, rig.kit, 2, "pause")
        assert r.status_code == 200, r.text
        assert await shows(rig.bus, 0x02, PAUSED_TEXT)
        assert screen(rig.bus, 0x01).text == IDLE_TEXT


async def test_port_state_shows_on_the_devices_endpoint(rig: Rig, live: LiveServer) -> None:
    async with bridge_running(rig, live):
        assert await state_becomes(rig, "ok")
        ok = await bridge_status(rig)
        assert rig.bus.path in ok["detail"]
        rig.bus.unplug(power_loss=True)
        assert await state_becomes(rig, PORT_GONE)
        # Back: the screens get their text again and the status says so.
        rig.bus.plug()
        assert await state_becomes(rig, "ok")
        assert await shows(rig.bus, 0x01, IDLE_TEXT)


async def test_learn_hall_from_device_tokens(rig: Rig, live: LiveServer) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        assert await learn_hall(client, live.url, rig.token) == rig.kit.code
        with pytest.raises(HallUnknown, match="refused"):
            await learn_hall(client, live.url, "hqd_not-a-token")
        with pytest.raises(HallUnknown, match="--hall"):
            await learn_hall(client, live.url, rig.kit.tokens["supervisor"])


async def test_cli_as_in_the_issue_without_hall(rig: Rig, live: LiveServer) -> None:
    """``hallq led-bridge --server URL --token T --port P --map 1=0x01,2=0x02,...``"""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    env.pop("HALLQ_DEVICE_TOKEN", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kiosk_server.cli", "led-bridge",
        "--server", live.url, "--token", rig.token, "--port", rig.bus.path,
        "--map", "1=0x01,2=0x02,3=0x03",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert await shows(rig.bus, 0x02, IDLE_TEXT, 20.0)
        await issue(rig.client, rig.kit, "enrol")
        r = await act(rig.client, rig.kit, 2, "call-next")
        number = r.json()["ticket"]["number"]
        assert await shows(rig.bus, 0x02, f"请 {number}")
        assert await state_becomes(rig, "ok")
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, err.decode()


async def test_cli_with_a_user_token_and_no_hall_exits_2(rig: Rig, live: LiveServer) -> None:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kiosk_server.cli", "led-bridge",
        "--server", live.url, "--token", rig.kit.tokens["supervisor"], "--port", rig.bus.path,
        "--map", "1=0x01",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 2
    assert "--hall" in err.decode()
