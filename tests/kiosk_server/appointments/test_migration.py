from __future__ import annotations

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from kiosk_server.context import AppContext
from kiosk_server.db import models

pytestmark = pytest.mark.asyncio

TABLES = {"appointments", "appointment_slots", "appointment_configs"}


async def test_migration_matches_the_models(client: httpx.AsyncClient, ctx: AppContext) -> None:
    # The client fixture ran the app's start-up, which upgraded to every head.
    def diff(conn: Connection) -> list[object]:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(mc, models.Base.metadata))

    async with ctx.db.engine.connect() as conn:
        changes = await conn.run_sync(diff)

    def touches_ours(change: object) -> bool:
        text = repr(change)
        return any(f"'{t}'" in text or f"table_name='{t}'" in text for t in TABLES) or any(
            f"Table('{t}'" in text for t in TABLES
        )

    ours = [c for c in changes if touches_ours(c)]
    assert ours == []
    async with ctx.db.engine.connect() as conn:
        rows = await conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='index'")
        names = {r[0] for r in rows}
    assert "uq_appointments_person_day" in names
