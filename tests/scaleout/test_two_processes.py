"""Two `hallq serve` processes sharing PostgreSQL and Redis, no sticky sessions:
a call made through process A reaches a screen connected to process B with the
next seq, and a Redis restart in the middle makes the screen resync without
missing anything."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import websockets

from kiosk_server.context import AppContext
from kiosk_server.settings import Settings
from tests.factories import HallKit, login_all, make_hall
from tests.scaleout.conftest import (
    REDIS,
    create_database,
    drop_database,
    pg_settings,
    pg_url_for,
    redis_alive,
    unavailable,
    wait_redis,
)
from tests.scaleout.servers import ServerProcess, recv_json, start_all

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Pair:
    a: ServerProcess
    b: ServerProcess
    kit: HallKit
    client_a: httpx.AsyncClient
    client_b: httpx.AsyncClient


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


async def make_hall_in(settings: Settings) -> HallKit:
    ctx = AppContext.build(settings)
    try:
        return await make_hall(ctx, always_open=True)
    finally:
        await ctx.db.dispose()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    # One pair of processes for the module: starting Python processes is the slow part.
    tmp_path = tmp_path_factory.mktemp("pair")
    if not redis_alive():
        unavailable("Redis", REDIS)
    name = await create_database()
    settings = pg_settings(tmp_path, pg_url_for(name), f"{REDIS}?channel=hallq-test-{name}")
    # A is `hallq serve --workers 2`; B a single process.
    a = ServerProcess(settings, tmp_path / "a.log", workers=2)
    b = ServerProcess(settings, tmp_path / "b.log")
    # Both start at once: they race to migrate the empty database (advisory lock).
    start_all([a, b])
    try:
        await asyncio.gather(a.wait_ready(), b.wait_ready())
        assert a.proc is not None
        async with asyncio.timeout(30):
            while len(children(a.proc.pid)) < 2:
                await asyncio.sleep(0.05)
        kit = await make_hall_in(settings)
        async with (
            httpx.AsyncClient(base_url=a.url, timeout=10) as ca,
            httpx.AsyncClient(base_url=b.url, timeout=10) as cb,
        ):
            await login_all(ca, kit)  # tokens from A work on B: no sticky sessions
            yield Pair(a, b, kit, ca, cb)
    finally:
        a.stop()
        b.stop()
        await drop_database(name)


async def call_next(client: httpx.AsyncClient, kit: HallKit, n: int) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/counters/{kit.counter_ids[n]}/call-next", headers=kit.auth(f"staff{n}")
    )
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def issue(client: httpx.AsyncClient, kit: HallKit) -> str:
    r = await client.post(
        f"/api/v1/halls/{kit.code}/tickets", json={"service": "enrol"}, headers=kit.auth("kiosk")
    )
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    return number


async def test_call_through_a_reaches_screen_on_b_with_next_seq(pair: Pair) -> None:
    kit = pair.kit
    snap = (await pair.client_b.get(f"/api/v1/halls/{kit.code}/display")).json()
    url = f"{pair.b.ws_url}/ws/halls/{kit.code}/display?since={snap['seq']}"
    async with websockets.connect(url) as ws:
        hello = await recv_json(ws)
        assert hello == {"type": "hello", "hall": kit.code, "seq": snap["seq"]}
        number = await issue(pair.client_a, kit)
        issued = await recv_json(ws)
        assert issued["type"] == "ticket.issued" and issued["seq"] == snap["seq"] + 1
        sent = time.perf_counter()
        await call_next(pair.client_a, kit, 3)
        called = await recv_json(ws)
        latency = time.perf_counter() - sent
        assert called["type"] == "ticket.called" and called["seq"] == issued["seq"] + 1
        assert called["data"]["number"] == number and called["data"]["counter"] == 3
        assert latency < 2.0
        # And the other way round: B's own action reaches B's screen too.
        await pair.client_b.post(
            f"/api/v1/counters/{kit.counter_ids[3]}/recall", headers=kit.auth("staff3")
        )
        recalled = await recv_json(ws)
        assert recalled["seq"] == called["seq"] + 1


async def test_every_screen_of_every_worker_gets_every_call(pair: Pair) -> None:
    kit = pair.kit
    snap = (await pair.client_a.get(f"/api/v1/halls/{kit.code}/display")).json()
    # Screens on A's port (the kernel spreads them over its two workers) and on B.
    urls = [pair.a.ws_url] * 6 + [pair.b.ws_url] * 2
    screens = [
        await websockets.connect(f"{u}/ws/halls/{kit.code}/display?since={snap['seq']}")
        for u in urls
    ]
    try:
        for ws in screens:
            assert (await recv_json(ws))["type"] == "hello"
        for client in (pair.client_a, pair.client_b, pair.client_a):
            await issue(client, kit)
        await call_next(pair.client_b, kit, 1)
        for ws in screens:
            got = [await recv_json(ws) for _ in range(4)]
            assert [e["seq"] for e in got] == [snap["seq"] + i for i in (1, 2, 3, 4)]
            assert got[-1]["type"] == "ticket.called"
    finally:
        for ws in screens:
            await ws.close()


async def test_redis_restart_screen_resyncs_and_misses_nothing(
    pair: Pair, restartable_redis: str
) -> None:
    # Runs after the test above on the same pair of processes.
    from tests.scaleout.conftest import start_redis

    kit = pair.kit
    seen: dict[int, dict[str, Any]] = {}
    snap = (await pair.client_b.get(f"/api/v1/halls/{kit.code}/display")).json()
    base = snap["seq"]
    url = f"{pair.b.ws_url}/ws/halls/{kit.code}/display?since={base}"
    async with websockets.connect(url) as ws:
        assert (await recv_json(ws))["type"] == "hello"
        await issue(pair.client_a, kit)
        ev = await recv_json(ws)
        seen[ev["seq"]] = ev
        last = ev["seq"]

        proc = await asyncio.create_subprocess_exec(
            "redis-cli", "-h", "127.0.0.1", "shutdown", "nosave"
        )
        await proc.wait()
        await wait_redis(alive=False)
        # Redis is away: HTTP keeps working on both processes, promptly.
        started = time.perf_counter()
        missed = [await issue(pair.client_a, kit), await issue(pair.client_b, kit)]
        called = await call_next(pair.client_a, kit, 2)
        assert time.perf_counter() - started < 3.0
        ready = await pair.client_a.get("/readyz")
        assert ready.status_code == 200  # the database is the truth; still ready
        start_redis()
        await wait_redis(alive=True)
        # B's subscription comes back and tells this screen to resync.
        async with asyncio.timeout(15):
            while True:
                msg = await recv_json(ws, timeout=15)
                if msg["type"] == "resync":
                    break
                seen[msg["seq"]] = msg
                last = max(last, msg["seq"])
    # The screen reconnects from the last seq it holds and catches up.
    async with websockets.connect(
        f"{pair.b.ws_url}/ws/halls/{kit.code}/display?since={last}"
    ) as ws:
        # Catch-up events first, then "hello" with the seq it reached.
        while (msg := await recv_json(ws))["type"] != "hello":
            seen[msg["seq"]] = msg
        top = (await pair.client_b.get(f"/api/v1/halls/{kit.code}/display")).json()["seq"]
        assert msg["seq"] == top and max(seen) == top
        await pair.b.wait_ready()
        # Live again after the restart: a call through A reaches B.
        await call_next(pair.client_a, kit, 4)
        ev = await recv_json(ws)
        assert ev["type"] == "ticket.called" and ev["seq"] == top + 1
        seen[ev["seq"]] = ev
    assert sorted(seen) == list(range(base + 1, ev["seq"] + 1))
    issued = {e["data"]["number"] for e in seen.values() if e["type"] == "ticket.issued"}
    assert set(missed) <= issued
    calls = [e for e in seen.values() if e["type"] == "ticket.called"]
    assert called["ticket"]["number"] in {e["data"]["number"] for e in calls}
    assert redis_alive()
