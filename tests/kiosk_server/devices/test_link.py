from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from hardware_sim.serial.devices import LedScreen, SimBus
from hardware_sim.serial.testing import eventually
from kiosk_server.devices import protocol as p
from kiosk_server.devices.link import SerialLink
from kiosk_server.devices.protocol import Command, FrameDecoder

pytestmark = pytest.mark.asyncio


class Reader:
    """Consumes a link's chunks into frames, as every bridge does."""

    def __init__(self, link: SerialLink) -> None:
        self.link = link
        self.decoder = FrameDecoder(name="test")
        self.frames: list[p.Frame] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for chunk in self.link.chunks():
            self.frames += self.decoder.feed(chunk)

    async def stop(self) -> None:
        await self.link.close()
        await asyncio.wait_for(self.task, 5)


def fast_link(path: str) -> SerialLink:
    return SerialLink(path, backoff_initial=0.01, backoff_max=0.05, read_timeout=0.05)


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SimBus]:
    b = SimBus([LedScreen(0x01), LedScreen(0x03)], link_path=str(tmp_path / "ttyLED"), name="led")
    b.plug()
    yield b
    b.close()


@pytest_asyncio.fixture
async def reader(bus: SimBus) -> AsyncIterator[Reader]:
    r = Reader(fast_link(bus.path))
    yield r
    await r.stop()


async def test_frames_cross_a_real_pty_both_ways(bus: SimBus, reader: Reader) -> None:
    async with asyncio.timeout(5):
        await reader.link.wait_connected()
    assert await reader.link.write(p.encode(p.led_text(0x03, "请 A012", 3)))
    screen = bus[0x03]
    assert isinstance(screen, LedScreen)
    assert await asyncio.to_thread(bus.wait_for, lambda: screen.text == "请 A012")
    assert await eventually(lambda: p.device_ack(0x03, Command.LED_TEXT) in reader.frames)
    assert bus[0x01].shows() == ""  # only the addressed screen changed


async def test_survives_port_disappearing_and_coming_back(bus: SimBus, reader: Reader) -> None:
    opened: list[int] = []

    async def on_open() -> None:
        opened.append(reader.link.opens)

    reader.link.on_open(on_open)
    link = reader.link
    assert await eventually(lambda: link.connected)
    bus.unplug()
    assert await eventually(lambda: not link.connected)
    assert link.disconnects == 1
    # While unplugged: writes fail fast, never hang, and the link keeps trying.
    t0 = time.monotonic()
    assert not await link.write(p.encode(p.led_clear(0x01)))
    assert time.monotonic() - t0 < 0.5
    assert await eventually(lambda: link.open_failures >= 2)
    bus.plug()  # a new pty behind the same path
    assert await eventually(lambda: link.connected)
    assert link.opens == 2 and link.open_failures == 0
    assert await link.write(p.encode(p.led_text(0x01, "热情为您服务")))
    assert await asyncio.to_thread(bus.wait_for, lambda: bus[0x01].shows() == "热情为您服务")
    assert await eventually(lambda: len(opened) >= 1)


async def test_write_failure_drops_the_port_and_reopens(bus: SimBus, reader: Reader) -> None:
    link = reader.link
    assert await eventually(lambda: link.connected)
    bus.unplug()
    bus.plug()
    # Whichever notices first (write or read), the link ends up on the new pty.
    await link.write(b"\x00")
    assert await eventually(lambda: link.connected and link.opens == 2)
    assert await link.write(p.encode(p.led_text(0x03, "暂停服务")))
    assert await asyncio.to_thread(bus.wait_for, lambda: bus[0x03].shows() == "暂停服务")


async def test_close_while_port_missing_returns_promptly(tmp_path: Path) -> None:
    link = fast_link(str(tmp_path / "nothing-here"))
    r = Reader(link)
    assert await eventually(lambda: link.open_failures >= 3)
    t0 = time.monotonic()
    await r.stop()
    assert time.monotonic() - t0 < 1.0
    assert not link.connected


async def test_close_while_reading_returns_promptly(bus: SimBus) -> None:
    link = SerialLink(bus.path, read_timeout=2.0)  # a long read must still be interrupted
    r = Reader(link)
    assert await eventually(lambda: link.connected)
    t0 = time.monotonic()
    await r.stop()
    assert time.monotonic() - t0 < 1.0


async def test_second_opener_is_refused_while_first_holds_port(bus: SimBus, reader: Reader) -> None:
    assert await eventually(lambda: reader.link.connected)
    other = fast_link(bus.path)
    r2 = Reader(other)
    assert await eventually(lambda: other.open_failures >= 1)
    assert not other.connected
    await r2.stop()


async def test_cancelled_reader_releases_the_port(bus: SimBus) -> None:
    first = fast_link(bus.path)
    r = Reader(first)
    assert await eventually(lambda: first.connected)
    r.task.cancel()  # the consumer goes away mid-read, without close()
    await asyncio.gather(r.task, return_exceptions=True)
    assert not first.connected
    # The port was closed once the worker let go of it: another opener gets the lock.
    second = fast_link(bus.path)
    r2 = Reader(second)
    assert await eventually(lambda: second.connected)
    assert await second.write(p.encode(p.led_text(0x01, "热情为您服务")))
    assert await asyncio.to_thread(bus.wait_for, lambda: bus[0x01].shows() == "热情为您服务")
    await r2.stop()
    await first.close()
