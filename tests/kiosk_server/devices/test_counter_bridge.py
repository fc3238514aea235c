from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from hardware_sim.serial.devices import Keypad, RatingPad, SimBus
from hardware_sim.serial.testing import eventually
from kiosk_server.devices import protocol as p
from kiosk_server.devices.actions import HttpCounterActions
from kiosk_server.devices.bridge import CounterDeviceBridge
from kiosk_server.devices.link import SerialLink
from kiosk_server.devices.protocol import Key, NackReason
from tests.kiosk_server.devices.counterserver import CounterServer

pytestmark = pytest.mark.asyncio

TOKEN = "counter-token"


@pytest.fixture
def api() -> Iterator[CounterServer]:
    with CounterServer() as s:
        s.answers["/call-next"] = (200, {"ticket": {"id": 55, "number": "A012"}})
        yield s


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SimBus]:
    b = SimBus(
        [Keypad(0x11), Keypad(0x13), RatingPad(0x23), Keypad(0x19)],
        link_path=str(tmp_path / "ttyS1"),
        name="counter-bus",
    )
    b.plug()
    yield b
    b.close()


@dataclass
class Running:
    bridge: CounterDeviceBridge
    actions: HttpCounterActions
    link: SerialLink


async def _start(bus: SimBus, url: str) -> AsyncIterator[Running]:
    link = SerialLink(bus.path, backoff_initial=0.01, backoff_max=0.05, read_timeout=0.05)
    actions = HttpCounterActions(url, TOKEN)
    bridge = CounterDeviceBridge(link, actions, keypads={0x11: 1, 0x13: 3}, rating_pads={0x23: 3})
    task = asyncio.create_task(bridge.run())
    async with asyncio.timeout(5):
        await link.wait_connected()
    yield Running(bridge, actions, link)
    await link.close()
    await asyncio.wait_for(task, 5)
    await actions.aclose()


@pytest_asyncio.fixture
async def running(bus: SimBus, api: CounterServer) -> AsyncIterator[Running]:
    async for r in _start(bus, api.url):
        yield r


def keypad(bus: SimBus, address: int) -> Keypad:
    d = bus[address]
    assert isinstance(d, Keypad)
    return d


def pad(bus: SimBus) -> RatingPad:
    d = bus[0x23]
    assert isinstance(d, RatingPad)
    return d


async def until(bus: SimBus, predicate: object) -> bool:
    assert callable(predicate)
    return await asyncio.to_thread(bus.wait_for, predicate, 5.0)


async def test_call_next_key_posts_the_page_request(
    bus: SimBus, api: CounterServer, running: Running
) -> None:
    kp = keypad(bus, 0x13)
    seq = kp.press(Key.CALL_NEXT)
    assert await until(bus, lambda: kp.display == "叫号 A012")
    assert kp.acked == [seq]
    [req] = api.posts()
    assert (req.path, req.auth, req.body) == (
        "/api/v1/counters/3/call-next",
        f"Bearer {TOKEN}",
        None,
    )


async def test_keys_in_order_each_once(bus: SimBus, api: CounterServer, running: Running) -> None:
    kp = keypad(bus, 0x11)
    kp.press(Key.CALL_NEXT)
    kp.press(Key.START)
    kp.press(Key.FINISH, "3")
    kp.press(Key.TRANSFER, "3")
    assert await until(bus, lambda: len(kp.acked) == 4)
    assert [(r.path, r.body) for r in api.posts()] == [
        ("/api/v1/counters/1/call-next", None),
        ("/api/v1/counters/1/start", None),
        ("/api/v1/counters/1/finish", {"outcome": "informed"}),
        ("/api/v1/counters/1/transfer", {"counter": 3}),
    ]


async def test_retransmitted_press_acts_once_acks_twice(
    bus: SimBus, api: CounterServer, running: Running
) -> None:
    kp = keypad(bus, 0x13)
    seq = kp.press(Key.RECALL, repeat=2)
    assert await until(bus, lambda: kp.acked == [seq, seq])
    await running.bridge.idle()
    assert [r.path for r in api.posts()] == ["/api/v1/counters/3/recall"]
    assert running.bridge.stats["duplicate"] == 1


async def test_refused_action_nacks_and_tells_staff(
    bus: SimBus, api: CounterServer, running: Running
) -> None:
    api.answers["/recall"] = (409, {"detail": "already recalled 3 times"})
    kp = keypad(bus, 0x13)
    seq = kp.press(Key.RECALL)
    assert await until(bus, lambda: kp.display == "重呼失败")
    assert kp.nacked == [(seq, NackReason.REFUSED)]


async def test_bad_checksum_key_frame_does_nothing(
    bus: SimBus, api: CounterServer, running: Running
) -> None:
    raw = bytearray(p.encode(p.key(0x13, 77, Key.CALL_NEXT)))
    raw[-2] ^= 0x5A
    bus.write_raw(bytes(raw))
    assert await eventually(lambda: running.bridge.decoder.stats.rejected["bad_checksum"] == 1)
    kp = keypad(bus, 0x13)
    seq = kp.press(Key.PAUSE)  # the line still works afterwards
    assert await until(bus, lambda: kp.acked == [seq])
    assert [r.path for r in api.posts()] == ["/api/v1/counters/3/pause"]


async def test_unknown_keypad_address_gets_nack(
    bus: SimBus, api: CounterServer, running: Running
) -> None:
    kp = keypad(bus, 0x19)  # on the line, not in the map
    seq = kp.press(Key.CALL_NEXT)
    assert await until(bus, lambda: kp.display == "按键无效")
    assert kp.nacked == [(seq, NackReason.BAD_PAYLOAD)]
    assert api.posts() == []


async def test_rating_press_rates_last_finished_ticket(
    bus: SimBus, api: CounterServer, running: Running
) -> None:
    rp = pad(bus)
    rp.press(5)  # nothing finished yet
    assert await until(bus, lambda: rp.message == "暂无可评价业务")
    assert api.posts() == []
    await running.bridge.note_event(
        {
            "seq": 9,
            "type": "ticket.finished",
            "data": {"counter": 3, "ticket_id": 55, "number": "A012"},
        }
    )
    assert await until(bus, lambda: rp.prompting and rp.prompt == "A012")
    seq = rp.press(4)
    assert await until(bus, lambda: not rp.prompting and rp.message == "谢谢您的评价")
    assert seq in rp.acked
    assert [(r.path, r.body) for r in api.posts()] == [("/api/v1/tickets/55/rating", {"score": 4})]
    rp.press(1)  # a second press does not rate again
    assert await until(bus, lambda: rp.message == "暂无可评价业务")
    assert len(api.posts()) == 1


async def test_next_call_closes_the_rating_window(
    bus: SimBus, api: CounterServer, running: Running
) -> None:
    rp = pad(bus)
    await running.bridge.note_event(
        {
            "seq": 9,
            "type": "ticket.finished",
            "data": {"counter": 3, "ticket_id": 55, "number": "A012"},
        }
    )
    assert await until(bus, lambda: rp.prompting)
    await running.bridge.note_event(
        {"seq": 10, "type": "ticket.called", "data": {"counter": 3, "number": "A013"}}
    )
    assert await until(bus, lambda: not rp.prompting)
    rp.press(5)
    assert await until(bus, lambda: rp.message == "暂无可评价业务")
    assert api.posts() == []


async def test_server_unreachable_keypad_says_so(bus: SimBus) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, not listening: refused
        kp = keypad(bus, 0x11)
        async for _ in _start(bus, dead):
            seq = kp.press(Key.CALL_NEXT)
            assert await until(bus, lambda: kp.display == "服务器未连接")
            assert kp.nacked == [(seq, NackReason.UNAVAILABLE)]


async def test_pad_prompt_restored_after_port_comes_back(
    bus: SimBus, api: CounterServer, running: Running
) -> None:
    rp = pad(bus)
    await running.bridge.note_event(
        {
            "seq": 9,
            "type": "ticket.finished",
            "data": {"counter": 3, "ticket_id": 55, "number": "A012"},
        }
    )
    assert await until(bus, lambda: rp.prompting)
    bus.unplug(power_loss=True)
    assert not rp.prompting
    assert await eventually(lambda: not running.link.connected)
    bus.plug()
    assert await until(bus, lambda: rp.prompting and rp.prompt == "A012")
    rp.press(5)
    assert await until(bus, lambda: rp.message == "谢谢您的评价")


async def test_counter_ids_and_per_keypad_tokens(bus: SimBus, api: CounterServer) -> None:
    link = SerialLink(bus.path, backoff_initial=0.01, backoff_max=0.05, read_timeout=0.05)
    actions = HttpCounterActions(api.url, {1: "kp-1", 3: "kp-3"}, counter_ids={1: 41, 3: 43})
    bridge = CounterDeviceBridge(link, actions, keypads={0x11: 1, 0x13: 3}, rating_pads={})
    task = asyncio.create_task(bridge.run())
    try:
        async with asyncio.timeout(5):
            await link.wait_connected()
        k1, k3 = keypad(bus, 0x11), keypad(bus, 0x13)
        k1.press(Key.CALL, "B007")
        k3.press(Key.HOLD)
        assert await until(bus, lambda: len(k1.acked) == 1 and len(k3.acked) == 1)
    finally:
        await link.close()
        await asyncio.wait_for(task, 5)
        await actions.aclose()
    assert sorted((r.path, r.auth, r.body) for r in api.posts()) == [
        ("/api/v1/counters/41/call", "Bearer kp-1", {"number": "B007"}),
        ("/api/v1/counters/43/hold", "Bearer kp-3", None),
    ]
