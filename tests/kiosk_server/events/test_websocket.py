from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from kiosk_server.context import AppContext
from tests.conftest import LiveServer
from tests.factories import HallKit, login_all, make_hall

pytestmark = pytest.mark.asyncio


async def recv(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return data


async def setup_live(client: httpx.AsyncClient, ctx: AppContext) -> HallKit:
    kit = await make_hall(ctx)
    await login_all(client, kit)
    return kit


async def test_display_gets_called_with_next_seq_and_catches_up(
    live: LiveServer, ctx: AppContext
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await setup_live(client, ctx)
        snap = (await client.get(f"/api/v1/halls/{kit.code}/display")).json()
        async with websockets.connect(
            f"{live.ws_url}/ws/halls/{kit.code}/display?since={snap['seq']}"
        ) as ws:
            hello = await recv(ws)
            assert hello["type"] == "hello" and hello["seq"] == snap["seq"]
            r = await client.post(
                f"/api/v1/halls/{kit.code}/tickets",
                json={"service": "enrol"},
                headers=kit.auth("kiosk"),
            )
            assert r.status_code == 201
            issued = await recv(ws)
            assert issued["type"] == "ticket.issued" and issued["seq"] == snap["seq"] + 1
            await client.post(
                f"/api/v1/counters/{kit.counter_ids[3]}/call-next", headers=kit.auth("staff3")
            )
            called = await recv(ws)
            assert called["type"] == "ticket.called" and called["seq"] == issued["seq"] + 1
            assert called["data"]["number"] == "A001" and called["data"]["counter"] == 3
            last_seen = called["seq"]
        # While disconnected: a recall and a start happen.
        await client.post(
            f"/api/v1/counters/{kit.counter_ids[3]}/recall", headers=kit.auth("staff3")
        )
        await client.post(
            f"/api/v1/counters/{kit.counter_ids[3]}/start", headers=kit.auth("staff3")
        )
        async with websockets.connect(
            f"{live.ws_url}/ws/halls/{kit.code}/display?since={last_seen}"
        ) as ws:
            first, second = await recv(ws), await recv(ws)
            assert (first["type"], first["seq"]) == ("ticket.recalled", last_seen + 1)
            assert (second["type"], second["seq"]) == ("ticket.started", last_seen + 2)
            assert (await recv(ws))["type"] == "hello"


async def test_too_old_since_asks_for_snapshot(live: LiveServer, ctx: AppContext) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await setup_live(client, ctx)
        for _ in range(3):
            await client.post(
                f"/api/v1/halls/{kit.code}/tickets",
                json={"service": "enrol"},
                headers=kit.auth("kiosk"),
            )
        from kiosk_server.db.uow import unit_of_work
        from kiosk_server.events import repository

        async with unit_of_work(ctx.db) as uow:
            await repository.prune(uow.session, kit.hall_id, keep=1)
        async with websockets.connect(f"{live.ws_url}/ws/halls/{kit.code}/display?since=0") as ws:
            msg = await recv(ws)
            assert msg["type"] == "resync" and msg["seq"] == 3


async def test_display_events_hold_nothing_personal(live: LiveServer, ctx: AppContext) -> None:
    from tests.factories import ID_ELDERLY_1949

    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await setup_live(client, ctx)
        ws = await websockets.connect(f"{live.ws_url}/ws/halls/{kit.code}/display")
        await recv(ws)
        await client.post(
            f"/api/v1/halls/{kit.code}/tickets",
            json={"service": "enrol", "id_number": ID_ELDERLY_1949},
            headers=kit.auth("kiosk"),
        )
        msg = await recv(ws)
        text = json.dumps(msg, ensure_ascii=False)
        assert ID_ELDERLY_1949 not in text and "19491231" not in text and "id_hash" not in text
        assert msg["data"]["channel"] == "green"
        await ws.close()


async def test_staff_socket_needs_a_token(live: LiveServer, ctx: AppContext) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await setup_live(client, ctx)
        # Refused after the handshake with 4401, so the page knows to log in again.
        async with websockets.connect(f"{live.ws_url}/ws/staff") as refused:
            with pytest.raises(websockets.exceptions.ConnectionClosed) as err:
                await refused.recv()
        assert err.value.rcvd is not None and err.value.rcvd.code == 4401
        async with websockets.connect(
            f"{live.ws_url}/ws/staff?token={kit.tokens['staff']}&hall={kit.code}"
        ) as ws:
            assert (await recv(ws))["type"] == "hello"
            await client.post(
                f"/api/v1/counters/{kit.counter_ids[1]}/pause", headers=kit.auth("staff1")
            )
            msg = await recv(ws)
            assert msg["type"] == "counter.paused" and msg["data"]["counter"] == 1
