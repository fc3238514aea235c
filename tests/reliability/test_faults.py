"""Faults that must not stop the queue: the database briefly locked by another
process, the printer gone, the event bus (Redis) lost and back."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import redis

from kiosk_server.app import create_app
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.events.redis_bus import RedisBus
from kiosk_server.settings import Settings
from tests.conftest import free_port
from tests.factories import HallKit, act, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio


def hold_write_lock(path: str, seconds: float, started: threading.Event) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    conn.execute("ROLLBACK")
    conn.close()


async def test_briefly_locked_database_only_delays(
    client: httpx.AsyncClient, hall: HallKit, settings: Settings
) -> None:
    started = threading.Event()
    db = str(settings.data_dir / "hallq.db")
    t = threading.Thread(target=hold_write_lock, args=(db, 0.5, started))
    t.start()
    started.wait(5)
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=hall.auth("kiosk")
    )
    t.join()
    assert r.status_code == 201 and r.json()["number"] == "A001"


async def test_locked_past_the_busy_timeout_is_a_clear_503(
    client: httpx.AsyncClient, hall: HallKit, settings: Settings, ctx: AppContext
) -> None:
    started = threading.Event()
    db = str(settings.data_dir / "hallq.db")
    # Shorten the busy wait for this test's (new) connections only.
    await ctx.db.engine.dispose()
    import sqlalchemy

    @sqlalchemy.event.listens_for(ctx.db.engine.sync_engine, "connect")
    def _short(dbapi_conn: object, _r: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cur.execute("PRAGMA busy_timeout=100")
        cur.close()

    t = threading.Thread(target=hold_write_lock, args=(db, 1.5, started))
    t.start()
    started.wait(5)
    try:
        r = await client.post(
            f"/api/v1/halls/{hall.code}/tickets",
            json={"service": "enrol"},
            headers=hall.auth("kiosk"),
        )
        assert r.status_code == 503 and r.json()["error"]["code"] == "busy"
    finally:
        await asyncio.to_thread(t.join)
    # Nothing was half-saved: the next ticket is A001.
    assert (await issue(client, hall, "enrol"))["number"] == "A001"


class OwnRedis:
    """A redis-server of this test's own on a free port, so stopping it touches
    nobody else's Redis; the same port again on restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def alive(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=0.5).ping())
        except (redis.RedisError, OSError):
            return False

    async def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await until(self.alive, "redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


async def until(condition: Callable[[], object], message: str, within: float = 15) -> None:
    """Wait for a condition with a deadline (polling, not sleeping a fixed time)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        await asyncio.sleep(0.05)


@pytest_asyncio.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed; the event-bus fault test needs it")
    r = OwnRedis(tmp_path)
    await r.start()
    try:
        yield r
    finally:
        r.stop()


async def test_event_bus_lost_leaves_the_queue_working_and_shows_on_readyz(
    own_redis: OwnRedis, settings: Settings, clock: FixedClock
) -> None:
    app = create_app(settings.model_copy(update={"event_bus_url": own_redis.url}), clock=clock)
    ctx: AppContext = app.state.ctx
    bus = ctx.bus
    assert isinstance(bus, RedisBus)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as client:
            kit = await make_hall(ctx)
            await login_all(client, kit)

            async def bus_state() -> tuple[int, str]:
                r = await client.get("/readyz")
                return r.status_code, r.json()["checks"]["event_bus"]

            assert await bus_state() == (200, "ok")

            own_redis.stop()
            await until(lambda: not bus.healthy, "the bus did not notice Redis going away")
            # Ready (the database serves) but the bus is shown as reconnecting.
            assert await bus_state() == (200, "reconnecting")

            # The queue goes on over HTTP while the bus is away.
            published = bus.published
            first = await issue(client, kit, "enrol")
            second = await issue(client, kit, "enrol")
            assert (first["number"], second["number"]) == ("A001", "A002")
            r = await act(client, kit, 1, "call-next")
            assert r.status_code == 200 and r.json()["ticket"]["number"] == "A001"
            r = await client.get(f"/api/v1/halls/{kit.code}/display")
            assert r.status_code == 200
            r = await client.get(f"/api/v1/halls/{kit.code}/queue", headers=kit.auth("staff"))
            assert [t["number"] for t in r.json()] == ["A002"]

            # Redis returns: the bus reconnects and the events kept meanwhile go out.
            await own_redis.start()
            await until(lambda: bus.healthy, "the bus did not reconnect", within=30)
            assert await bus_state() == (200, "ok")
            await until(
                lambda: bus.published > published,
                "the events of the outage were not published after Redis came back",
            )
