"""Faults that must not stop the queue: the database briefly locked by another
process, the printer gone, the event bus losing a subscriber."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import httpx
import pytest

from kiosk_server.context import AppContext
from kiosk_server.settings import Settings
from tests.factories import HallKit, issue

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
