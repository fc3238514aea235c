"""The serving-times revision: matches the models, upgrades a fresh database and
fills in an existing one from the times its tickets already carry."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from kiosk_server import cli
from kiosk_server.bootstrap import create_hall
from kiosk_server.context import AppContext
from kiosk_server.counters.models import ServingTime
from kiosk_server.db import models
from kiosk_server.db.engine import Database
from kiosk_server.db.migrate import alembic_config, current_heads, upgrade
from kiosk_server.db.uow import unit_of_work
from kiosk_server.halls import repository as halls_repo
from kiosk_server.settings import Settings
from kiosk_server.tickets.models import Ticket
from tests.factories import WEDNESDAY_10AM

pytestmark = pytest.mark.asyncio

REVISION = "0007_serving_times"


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def test_migration_matches_the_model(client: httpx.AsyncClient, ctx: AppContext) -> None:
    # The client fixture ran the app's start-up, which upgraded to every head.
    def diff(conn: Connection) -> list[object]:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(mc, models.Base.metadata))

    async with ctx.db.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert [c for c in changes if "serving_times" in repr(c)] == []
    assert REVISION in await current_heads(ctx.db.engine)


async def test_db_upgrade_on_a_fresh_database(tmp_path: Path) -> None:
    argv = ["db", "upgrade", "--data-dir", str(tmp_path / "fresh")]
    assert await asyncio.to_thread(cli.main, argv) == 0
    db = Database(Settings(data_dir=tmp_path / "fresh"))
    try:
        assert await current_heads(db.engine) == heads()
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert "serving_times" in tables
    finally:
        await db.dispose()


async def test_db_upgrade_fills_an_existing_database(settings: Settings) -> None:
    t0 = WEDNESDAY_10AM
    db = Database(settings)
    try:
        # A database at every other head, as an installed hall has it.
        for rev in sorted(heads() - {REVISION}):
            await upgrade(db.engine, rev)
        assert REVISION not in await current_heads(db.engine)
        async with unit_of_work(db) as uow:
            hall = await create_hall(uow.session, "old", "老厅", counters=2)
            svc = (await halls_repo.list_services(uow.session, hall.id))[0]
            rows = {
                # state: (started after t0, finished after t0), in minutes
                "done": (0, 8),
                "serving": (5, None),
                "held": (2, None),
                "waiting": (None, None),
            }
            ids = {}
            for n, (state, (start, end)) in enumerate(rows.items(), start=1):
                t = Ticket(
                    hall_id=hall.id,
                    service_day=t0.date(),
                    prefix=svc.prefix,
                    seq_number=n,
                    number=f"{svc.prefix}{n:03d}",
                    service_id=svc.id,
                    channel="normal",
                    state=state,
                    issued_at=t0,
                    order_at=t0,
                    started_at=None if start is None else t0 + timedelta(minutes=start),
                    finished_at=None if end is None else t0 + timedelta(minutes=end),
                    public_token=secrets.token_urlsafe(16),
                )
                uow.session.add(t)
                await uow.session.flush()
                ids[state] = t.id
    finally:
        await db.dispose()

    argv = ["db", "upgrade", "--data-dir", str(settings.data_dir)]
    assert await asyncio.to_thread(cli.main, argv) == 0

    db = Database(settings)
    try:
        assert await current_heads(db.engine) == heads()
        async with unit_of_work(db, write=False) as uow:
            found = {
                r.ticket_id: (r.served_seconds, r.running_since, r.segments)
                for r in (await uow.session.execute(select(ServingTime))).scalars()
            }
        assert found == {
            ids["done"]: (480.0, None, 1),  # finish - start
            ids["serving"]: (0.0, t0 + timedelta(minutes=5), 1),  # runs from its start
            ids["held"]: (0.0, None, 1),  # when it was held is not known
        }
        # Upgrading again changes nothing.
        assert await asyncio.to_thread(cli.main, argv) == 0
    finally:
        await db.dispose()
