from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from display_client.serial_bridge.feed import DisplayFeed, run_bridge
from display_client.serial_bridge.led import IDLE_TEXT, PAUSED_TEXT, LedBridge, LedPlanner
from hardware_sim.serial.devices import LedScreen, SimBus
from hardware_sim.serial.testing import eventually
from kiosk_server.devices import protocol as p
from kiosk_server.devices.link import SerialLink
from tests.display_client.hallserver import HallServer

pytestmark = pytest.mark.asyncio

MAP = {1: 0x01, 2: 0x02, 3: 0x03}


def screen(bus: SimBus, address: int) -> LedScreen:
    d = bus[address]
    assert isinstance(d, LedScreen)
    return d


async def shows(bus: SimBus, address: int, text: str) -> bool:
    return await asyncio.to_thread(bus.wait_for, lambda: screen(bus, address).text == text, 5.0)


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SimBus]:
    b = SimBus(
        [LedScreen(a) for a in MAP.values()] + [LedScreen(0x09)],
        link_path=str(tmp_path / "ttyUSB0"),
        name="led-bus",
        status_dir=tmp_path / "sim",
    )
    b.plug()
    yield b
    b.close()


@pytest_asyncio.fixture
async def server() -> AsyncIterator[HallServer]:
    s = HallServer()
    s.snapshot = {
        "seq": 10,
        "counters": [
            {"number": 1, "state": "open", "current": None},
            {"number": 2, "state": "paused", "current": None},
            {"number": 3, "state": "open", "current": None},
        ],
    }
    await s.start()
    yield s
    if s._server is not None:
        await s.stop()


@dataclass
class Running:
    bridge: LedBridge
    feed: DisplayFeed
    link: SerialLink
    task: asyncio.Task[None]


@pytest_asyncio.fixture
async def running(bus: SimBus, server: HallServer) -> AsyncIterator[Running]:
    link = SerialLink(bus.path, backoff_initial=0.01, backoff_max=0.05, read_timeout=0.05)
    bridge = LedBridge(link, LedPlanner(MAP))
    feed = DisplayFeed(
        server.url, server.hall, server.token, backoff_initial=0.01, backoff_max=0.05
    )
    task = asyncio.create_task(run_bridge(feed, bridge, bridge.run_serial()))
    yield Running(bridge, feed, link, task)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await link.close()


async def test_snapshot_then_call_reaches_right_screen(
    bus: SimBus, server: HallServer, running: Running
) -> None:
    assert await shows(bus, 0x02, PAUSED_TEXT)
    assert await shows(bus, 0x01, IDLE_TEXT)
    assert server.snapshot_auth == ["Bearer dev-token"]
    await server.publish("ticket.called", number="A012", counter=3)
    assert await shows(bus, 0x03, "请 A012")
    s3 = screen(bus, 0x03)
    assert s3.writes[-1].flash_seconds == 3
    # The exact bytes on the wire are GB18030.
    led_frames = [f for f in bus.received if f.address == 0x03 and f.command == p.Command.LED_TEXT]
    assert led_frames[-1].payload == b"\x03" + "请 A012".encode("gb18030")
    assert screen(bus, 0x09).text == ""  # the unmapped screen on the same line is untouched
    assert server.since_seen == [10]


async def test_recall_within_window_not_sent_twice(
    bus: SimBus, server: HallServer, running: Running
) -> None:
    await server.publish("ticket.called", number="A012", counter=1)
    assert await shows(bus, 0x01, "请 A012")
    await server.publish("ticket.recalled", number="A012", counter=1)
    await server.publish("ticket.finished", number="A012", counter=1)
    assert await shows(bus, 0x01, IDLE_TEXT)
    texts = [w.text for w in screen(bus, 0x01).writes]
    assert texts.count("请 A012") == 1
    assert running.bridge.planner.suppressed_recalls == 1


async def test_bad_checksum_frame_changes_nothing(
    bus: SimBus, server: HallServer, running: Running
) -> None:
    await server.publish("ticket.called", number="A012", counter=3)
    assert await shows(bus, 0x03, "请 A012")
    raw = bytearray(p.encode(p.led_text(0x03, "请 B999", 3)))
    raw[-2] ^= 0xFF
    writes_before = len(screen(bus, 0x03).writes)
    assert await running.link.write(bytes(raw))
    assert await asyncio.to_thread(
        bus.wait_for, lambda: bus.decoder.stats.rejected["bad_checksum"] == 1
    )
    assert screen(bus, 0x03).text == "请 A012"
    assert len(screen(bus, 0x03).writes) == writes_before


async def test_port_disappears_and_comes_back_screens_restored(
    bus: SimBus, server: HallServer, running: Running
) -> None:
    await server.publish("ticket.called", number="A012", counter=3)
    assert await shows(bus, 0x03, "请 A012")
    bus.unplug(power_loss=True)
    assert await eventually(lambda: not running.link.connected)
    # Events while the port is gone are not lost: the state is what gets resent.
    await server.publish("counter.paused", counter=1)
    assert await eventually(lambda: running.bridge.last_seq == 12)
    bus.plug()
    assert await shows(bus, 0x01, PAUSED_TEXT)
    assert await shows(bus, 0x02, PAUSED_TEXT)
    assert await shows(bus, 0x03, "请 A012")
    await server.publish("ticket.called", number="A013", counter=3)
    assert await shows(bus, 0x03, "请 A013")


async def test_server_restart_reconnects_with_since(
    bus: SimBus, server: HallServer, running: Running
) -> None:
    await server.publish("ticket.called", number="A012", counter=3)
    assert await shows(bus, 0x03, "请 A012")
    await server.stop()
    assert await eventually(lambda: not running.feed.connected)
    assert await eventually(lambda: running.feed.failures >= 2)  # refused while down
    await server.start()  # same port
    assert await eventually(lambda: running.feed.connections == 2)
    assert server.since_seen == [10, 11]
    await server.publish("ticket.finished", number="A012", counter=3)
    assert await shows(bus, 0x03, IDLE_TEXT)
    assert len(server.snapshot_auth) == 1  # resumed from seq, no snapshot needed


async def test_resync_message_fetches_snapshot(
    bus: SimBus, server: HallServer, running: Running
) -> None:
    assert await shows(bus, 0x01, IDLE_TEXT)
    assert await eventually(lambda: server.clients == 1)
    server.snapshot = {
        "seq": 30,
        "counters": [
            {"number": 1, "state": "open", "current": {"number": "C101"}},
            {"number": 2, "state": "open", "current": None},
            {"number": 3, "state": "closed", "current": None},
        ],
    }
    await server.send_raw('{"type": "resync"}')
    assert await shows(bus, 0x01, "请 C101")
    assert await shows(bus, 0x02, IDLE_TEXT)
    assert await shows(bus, 0x03, PAUSED_TEXT)
    assert running.bridge.last_seq == 30
