from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest

from kiosk_server.app import create_app
from kiosk_server.clock import FixedClock
from kiosk_server.ops import backup, restore
from kiosk_server.settings import DEMO_ADMIN_PASSWORD, Settings
from tests.factories import HallKit, act, issue, login_all

pytestmark = pytest.mark.asyncio


async def test_backup_restores_the_same_day_into_a_fresh_directory(
    client: httpx.AsyncClient, hall: HallKit, settings: Settings, clock: FixedClock, tmp_path: Path
) -> None:
    for _ in range(3):
        await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    queue = (await client.get("/api/v1/halls/demo/queue", headers=hall.auth("staff"))).json()
    # The server is still running: the online backup must be consistent anyway.
    out = backup(settings, tmp_path / "b" / "hallq.db")
    fresh = settings.model_copy(update={"data_dir": tmp_path / "fresh"})
    restore(fresh, out)
    app = create_app(fresh, clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        kit = HallKit(code=hall.code, hall_id=hall.hall_id, counter_ids=hall.counter_ids)
        await login_all(c, kit)
        assert (await c.get("/api/v1/halls/demo/queue", headers=kit.auth("staff"))).json() == queue
        counter = (
            await c.get(f"/api/v1/counters/{hall.counter_ids[1]}", headers=kit.auth("staff1"))
        ).json()
        assert counter["ticket"]["number"] == "A001"


async def test_restore_refuses_to_overwrite_and_bad_files(
    settings: Settings, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database")
    with pytest.raises(SystemExit):
        restore(settings, junk)
    with pytest.raises(SystemExit, match="no backup"):
        restore(settings, tmp_path / "missing.db")


async def test_readyz_and_metrics(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await client.get("/readyz")
    assert r.status_code == 200 and r.json()["checks"]["database"] == "ok"
    await issue(client, hall, "enrol", channel="green")
    await act(client, hall, 1, "call-next")
    text = (await client.get("/metrics")).text
    assert 'hallq_tickets_issued_total{channel="green",hall="demo"} 1.0' in text
    assert 'hallq_calls_total{hall="demo"} 1.0' in text


async def test_production_refuses_demo_password_and_default_secret(tmp_path: Path) -> None:
    from kiosk_server.auth.principal import Role
    from kiosk_server.auth.service import create_user
    from kiosk_server.db.uow import unit_of_work

    with pytest.raises(ValueError, match="SECRET_KEY"):
        Settings(environment="production", data_dir=tmp_path)
    dev = Settings(
        environment="development",
        data_dir=tmp_path,
        secret_key="x" * 40,
        public_base_url="https://hallq.example.gov.cn",
    )
    setup = create_app(dev)
    async with setup.router.lifespan_context(setup), unit_of_work(setup.state.ctx.db) as uow:
        await create_user(uow.session, "admin", DEMO_ADMIN_PASSWORD, Role.ADMIN, all_halls=True)
    prod = dev.model_copy(update={"environment": "production"})
    app = create_app(prod)
    with pytest.raises(RuntimeError, match="demo password: admin"):
        async with app.router.lifespan_context(app):
            pass


async def test_readyz_reads_while_another_process_holds_the_write_lock(
    client: httpx.AsyncClient, hall: HallKit, settings: Settings
) -> None:
    # The probe is a read: a backup or a CLI command writing must not make the
    # hall look down (nor the probe queue for the write lock itself).
    path = settings.effective_database_url.split("///", 1)[1]
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        r = await client.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json()["checks"]["database"] == "ok"
    finally:
        other.execute("ROLLBACK")
        other.close()
