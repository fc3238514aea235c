"""The keypad / rating-pad bridge process pieces against the real server (uvicorn on
a real port) and emulated devices on a real pty."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn

from display_client.serial_bridge.counters import TokenError, pick_tokens, serve_devices
from hardware_sim.serial.devices import Keypad, RatingPad, SimBus
from hardware_sim.serial.testing import eventually
from kiosk_server.auth.principal import DeviceKind
from kiosk_server.auth.service import create_device
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.devices import protocol as p
from kiosk_server.devices.actions import OFFLINE, THANKS
from kiosk_server.devices.protocol import Key, NackReason
from kiosk_server.events import repository as events_repo
from kiosk_server.tickets import repository as tickets_repo
from tests.conftest import LiveServer
from tests.factories import HallKit, act, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio

KEYPAD, PAD = 0x11, 0x21


@dataclass
class Rig:
    kit: HallKit
    client: httpx.AsyncClient
    bus: SimBus
    keypad: Keypad
    pad: RatingPad
    tokens: dict[str, str]
    task: asyncio.Task[None]

    async def events(self, ctx: AppContext) -> list[tuple[str, dict[str, Any]]]:
        async with unit_of_work(ctx.db, write=False) as uow:
            rows = await events_repo.since(uow.session, self.kit.hall_id, 0, 1000)
        return [(r.type, dict(r.data)) for r in rows]


async def wait(bus: SimBus, predicate: Any, within: float = 5.0) -> bool:
    return await asyncio.to_thread(bus.wait_for, predicate, within)


@pytest_asyncio.fixture
async def rig(live: LiveServer, ctx: AppContext, tmp_path: Path) -> AsyncIterator[Rig]:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await make_hall(ctx)
        await login_all(client, kit)
        async with unit_of_work(ctx.db) as uow:
            keypad_token, _ = await create_device(
                uow.session, kit.hall_id, DeviceKind.KEYPAD, "呼叫器1", kit.counter_ids[1]
            )
        tokens = {"keypad_1": keypad_token, "rating_pad_1": kit.tokens["pad"]}
        keypad, pad = Keypad(KEYPAD), RatingPad(PAD)
        bus = SimBus([keypad, pad], link_path=str(tmp_path / "ttyCOUNTER"), name="counter-bus")
        bus.plug()
        task = asyncio.create_task(
            serve_devices(
                server=live.url,
                hall=kit.code,
                port=bus.path,
                keypads={1: KEYPAD},
                rating_pads={1: PAD},
                tokens=tokens,
            )
        )
        try:
            # The bridge is up once a key gets an answer (ACK or NACK); presses made
            # before it opened the port are lost, as on a real line.
            for _ in range(50):
                keypad.press(Key.RESUME)
                if await wait(bus, lambda: bool(keypad.acked or keypad.nacked), 0.2):
                    break
            assert keypad.acked or keypad.nacked
            yield Rig(kit, client, bus, keypad, pad, tokens, task)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            bus.close()


async def test_keypad_call_next_emits_the_same_event_as_the_page_button(
    rig: Rig, ctx: AppContext
) -> None:
    await issue(rig.client, rig.kit, "enrol")
    await issue(rig.client, rig.kit, "enrol")
    seq = rig.keypad.press(Key.CALL_NEXT)
    assert await wait(rig.bus, lambda: seq in rig.keypad.acked)
    assert await wait(rig.bus, lambda: rig.keypad.display == "叫号 A001")
    r = await act(rig.client, rig.kit, 2, "call-next")
    assert r.status_code == 200 and r.json()["ticket"]["number"] == "A002"
    called = [(t, d) for t, d in await rig.events(ctx) if t == "ticket.called"]
    assert [(d["number"], d["counter"]) for _, d in called] == [("A001", 1), ("A002", 2)]
    by_keypad, by_page = called[0][1], called[1][1]
    assert by_keypad.keys() == by_page.keys()
    same = {k for k in by_page if k not in ("ticket_id", "number", "counter")}
    assert {k: by_keypad[k] for k in same} == {k: by_page[k] for k in same}


async def test_pad_press_stores_a_rating_for_the_counters_last_ticket(
    rig: Rig, ctx: AppContext
) -> None:
    await issue(rig.client, rig.kit, "enrol")
    for key in (Key.CALL_NEXT, Key.START):
        seq = rig.keypad.press(key)
        assert await wait(rig.bus, lambda s=seq: s in rig.keypad.acked)
    seq = rig.keypad.press(Key.FINISH, "2")  # 2 = 容缺受理
    assert await wait(rig.bus, lambda: seq in rig.keypad.acked)
    # ticket.finished lights the pad with the ticket number.
    assert await wait(rig.bus, lambda: rig.pad.prompting and rig.pad.prompt == "A001")
    seq = rig.pad.press(4)
    assert await wait(rig.bus, lambda: seq in rig.pad.acked and rig.pad.message == THANKS)
    assert not rig.pad.prompting
    async with unit_of_work(ctx.db, write=False) as uow:
        ticket = await tickets_repo.by_number(
            uow.session, rig.kit.hall_id, ctx.clock.now().astimezone().date(), "A001"
        )
        assert ticket is not None and ticket.outcome == "incomplete_papers"
        rating = await tickets_repo.rating_for(uow.session, ticket.id)
    assert rating is not None and rating.score == 4
    # A second press has nothing to rate: refused, nothing stored twice.
    seq = rig.pad.press(1)
    assert await wait(rig.bus, lambda: any(s == seq for s, _ in rig.pad.nacked))


async def test_bad_checksum_changes_nothing(rig: Rig, ctx: AppContext) -> None:
    await issue(rig.client, rig.kit, "enrol")
    before = await rig.events(ctx)
    raw = bytearray(p.encode(p.key(KEYPAD, 77, Key.CALL_NEXT)))
    raw[-2] ^= 0x5A  # checksum byte
    rig.bus.write_raw(bytes(raw))
    # A good frame behind it is answered, so the bad one has been read and dropped.
    seq = rig.keypad.press(Key.RECALL)  # nothing called yet: refused, no event
    assert await wait(rig.bus, lambda: any(s == seq for s, _ in rig.keypad.nacked))
    assert 77 not in rig.keypad.acked and all(s != 77 for s, _ in rig.keypad.nacked)
    assert await rig.events(ctx) == before
    r = await rig.client.get(f"/api/v1/halls/{rig.kit.code}/queue", headers=rig.kit.auth("staff"))
    assert [t["number"] for t in r.json()] == ["A001"]  # still waiting, not called


async def test_keypad_token_acts_only_on_its_own_counter(rig: Rig) -> None:
    headers = {"Authorization": f"Bearer {rig.tokens['keypad_1']}"}
    me = (await rig.client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["counter_number"] == 1 and me["counter_id"] == rig.kit.counter_ids[1]
    r = await rig.client.post(
        f"/api/v1/counters/{rig.kit.counter_ids[2]}/call-next", headers=headers
    )
    assert r.status_code == 403
    # A rating pad token cannot press counter buttons at all.
    r = await rig.client.post(
        f"/api/v1/counters/{rig.kit.counter_ids[1]}/call-next", headers=rig.kit.auth("pad")
    )
    assert r.status_code == 403


async def test_survives_the_port_disappearing_and_coming_back(rig: Rig) -> None:
    await issue(rig.client, rig.kit, "enrol")
    await issue(rig.client, rig.kit, "enrol")
    for key in (Key.CALL_NEXT, Key.START, Key.FINISH):
        seq = rig.keypad.press(key)
        assert await wait(rig.bus, lambda s=seq: s in rig.keypad.acked)
    assert await wait(rig.bus, lambda: rig.pad.prompting)
    rig.bus.unplug(power_loss=True)  # the pad forgets its prompt
    assert not rig.pad.prompting
    rig.bus.plug()
    # On reopen the bridge lights the pad again: the rating is still due.
    assert await wait(rig.bus, lambda: rig.pad.prompting and rig.pad.prompt == "A001", 10.0)
    seq = rig.keypad.press(Key.CALL_NEXT)
    assert await wait(rig.bus, lambda: rig.keypad.display == "叫号 A002")


async def test_survives_the_server_restarting(rig: Rig, live: LiveServer) -> None:
    await issue(rig.client, rig.kit, "enrol")
    await live.stop()
    seq = rig.keypad.press(Key.CALL_NEXT)
    assert await wait(rig.bus, lambda: (seq, NackReason.UNAVAILABLE) in rig.keypad.nacked)
    assert await wait(rig.bus, lambda: rig.keypad.display == OFFLINE)
    # The same server comes back on the same port (the database kept everything).
    live.server = uvicorn.Server(
        uvicorn.Config(
            live.app, host="127.0.0.1", port=live.port, log_level="warning", lifespan="on"
        )
    )
    await live.start()
    seq = rig.keypad.press(Key.CALL_NEXT)
    assert await wait(rig.bus, lambda: seq in rig.keypad.acked)
    assert await wait(rig.bus, lambda: rig.keypad.display == "叫号 A001")
    # The event feed reconnected too: finishing lights the pad.
    for key in (Key.START, Key.FINISH):
        seq = rig.keypad.press(key)
        assert await wait(rig.bus, lambda s=seq: s in rig.keypad.acked)
    assert await eventually(lambda: rig.pad.prompting and rig.pad.prompt == "A001", 10.0)


async def test_tokens_must_cover_every_device() -> None:
    assert pick_tokens({"keypad_1": "k", "rating_pad_2": "r"}, {1: 0x11}, {1: 0x21, 2: 0x22}) == {
        1: "k",
        2: "r",
    }
    with pytest.raises(TokenError):
        pick_tokens({"rating_pad_1": "r"}, {1: 0x11}, {1: 0x21})  # keypad needs its own
    with pytest.raises(TokenError):
        pick_tokens({}, {}, {3: 0x23})
