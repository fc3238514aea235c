"""Close codes a screen can act on, and ?since= for accounts of several halls."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosedError

from kiosk_server.auth.principal import Role
from kiosk_server.auth.service import create_user
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.conftest import LiveServer
from tests.factories import PASSWORD, HallKit, issue, login, login_all, make_hall

pytestmark = pytest.mark.asyncio


async def recv(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return data


async def close_code(url: str) -> int | None:
    async with websockets.connect(url) as ws:
        with pytest.raises(ConnectionClosedError) as err:
            await recv(ws)
    assert err.value.rcvd is not None
    return err.value.rcvd.code


async def two_halls(client: httpx.AsyncClient, ctx: AppContext) -> tuple[HallKit, HallKit]:
    demo = await make_hall(ctx)
    east = await make_hall(ctx, "east")
    await login_all(client, demo)
    await login_all(client, east)
    return demo, east


async def test_display_socket_expired_token_closes_4401(
    live: LiveServer, ctx: AppContext, clock: FixedClock
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await make_hall(ctx)
        await login_all(client, kit)
        url = f"{live.ws_url}/ws/halls/{kit.code}/display?token={kit.tokens['staff']}"
        async with websockets.connect(url) as ws:
            assert (await recv(ws))["type"] == "hello"  # valid now
        clock.advance(minutes=ctx.settings.token_minutes + 1)
        assert await close_code(url) == 4401
        garbage = f"{live.ws_url}/ws/halls/{kit.code}/display?token=not-a-token"
        assert await close_code(garbage) == 4401
        # No token at all is still the public screen.
        async with websockets.connect(f"{live.ws_url}/ws/halls/{kit.code}/display") as ws:
            assert (await recv(ws))["type"] == "hello"


async def test_display_socket_other_halls_token_closes_4403(
    live: LiveServer, ctx: AppContext
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        demo, east = await two_halls(client, ctx)
        for token in (east.tokens["display"], east.tokens["staff"]):
            url = f"{live.ws_url}/ws/halls/{demo.code}/display?token={token}"
            assert await close_code(url) == 4403
        own = f"{live.ws_url}/ws/halls/{demo.code}/display?token={demo.tokens['display']}"
        async with websockets.connect(own) as ws:
            assert (await recv(ws))["type"] == "hello"
        bad_since = f"{live.ws_url}/ws/halls/{demo.code}/display?since=-1"
        assert await close_code(bad_since) == 4400


async def both_halls_account(client: httpx.AsyncClient, ctx: AppContext, halls: list[int]) -> str:
    async with unit_of_work(ctx.db) as uow:
        await create_user(uow.session, "roamer", PASSWORD, Role.SUPERVISOR, hall_ids=halls)
    kit = HallKit(code="", hall_id=0, counter_ids={})
    return await login(client, kit, "roamer")


async def test_staff_since_catches_up_the_hall_named(live: LiveServer, ctx: AppContext) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        demo, east = await two_halls(client, ctx)
        token = await both_halls_account(client, ctx, [demo.hall_id, east.hall_id])
        base = (await client.get(f"/api/v1/halls/{demo.code}/display")).json()["seq"]
        await issue(client, demo)
        await issue(client, east)
        await issue(client, demo)
        url = f"{live.ws_url}/ws/staff?token={token}&hall={demo.code}&since={base}"
        async with websockets.connect(url) as ws:
            got = [await recv(ws) for _ in range(3)]
        assert [(m["type"], m["hall"], m["seq"]) for m in got] == [
            ("ticket.issued", demo.code, base + 1),
            ("ticket.issued", demo.code, base + 2),
            ("hello", demo.code, base + 2),
        ]


async def test_staff_since_without_hall_says_it_was_not_applied(
    live: LiveServer, ctx: AppContext
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        demo, east = await two_halls(client, ctx)
        token = await both_halls_account(client, ctx, [demo.hall_id, east.hall_id])
        await issue(client, demo)
        async with websockets.connect(f"{live.ws_url}/ws/staff?token={token}&since=0") as ws:
            first, second = await recv(ws), await recv(ws)
            # Live events still flow after the resyncs.
            await issue(client, east)
            live_ev = await recv(ws)
        by_hall = {m["hall"]: m for m in (first, second)}
        assert set(by_hall) == {demo.code, east.code}
        for code, m in by_hall.items():
            assert m["type"] == "resync"  # fetch the snapshot: the catch-up did not happen
            assert "hall=" in m["since_ignored"]
            snap = (await client.get(f"/api/v1/halls/{code}/display")).json()
            assert m["seq"] <= snap["seq"]
        assert (live_ev["type"], live_ev["hall"]) == ("ticket.issued", east.code)
        # Without since= the hello is plain.
        async with websockets.connect(f"{live.ws_url}/ws/staff?token={token}") as ws:
            hellos = [await recv(ws), await recv(ws)]
        assert all(m["type"] == "hello" and "since_ignored" not in m for m in hellos)


async def test_display_socket_for_an_unknown_hall_closes_4404(live: LiveServer) -> None:
    # Not a bare HTTP 403 before the handshake: the screen can say "wrong hall code".
    assert await close_code(f"{live.ws_url}/ws/halls/no-such-hall/display") == 4404
