"""PostgreSQL: a row lock held by a stuck transaction is a quick 503, not a hung request."""

from __future__ import annotations

import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select

from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.settings import Settings
from kiosk_server.tickets.models import Ticket
from tests.factories import HallKit
from tests.scaleout.conftest import pg_settings

pytestmark = pytest.mark.asyncio


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    return pg_settings(tmp_path, pg_url).model_copy(update={"pg_lock_timeout_ms": 300})


async def test_a_held_hall_lock_gives_a_503_quickly_and_saves_nothing(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, settings: Settings
) -> None:
    assert settings.database_url is not None
    other = await asyncpg.connect(settings.database_url.replace("+asyncpg", ""), timeout=5)
    try:
        tx = other.transaction()
        await tx.start()
        # A stuck session (a hung admin script, say) holds the hall row.
        await other.execute("SELECT id FROM halls WHERE code = $1 FOR UPDATE", hall.code)
        began = time.monotonic()
        r = await client.post(
            f"/api/v1/halls/{hall.code}/tickets",
            json={"service": "enrol"},
            headers=hall.auth("kiosk"),
        )
        waited = time.monotonic() - began
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "busy"
        assert waited < 5, waited  # the lock timeout (0.3 s), not forever
        await tx.rollback()
    finally:
        await other.close()
    async with unit_of_work(ctx.db, write=False) as uow:
        count = (await uow.session.execute(select(func.count()).select_from(Ticket))).scalar_one()
    assert count == 0
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=hall.auth("kiosk")
    )
    assert r.status_code == 201 and r.json()["number"] == "A001"
