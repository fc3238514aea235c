"""The caller cache never outlives a change: revoking a device, deactivating an
account or moving it to another hall takes effect on the very next request,
even when the token was used (and cached) a moment before."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import delete

from kiosk_server.auth.models import UserHall
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.factories import HallKit, issue, make_hall

pytestmark = pytest.mark.asyncio


async def test_revoked_kiosk_is_refused_on_the_next_request(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await issue(client, hall, "enrol")  # the kiosk's token is now cached
    devices = (await client.get("/api/v1/halls/demo/devices", headers=hall.auth("admin"))).json()
    kiosk = next(d for d in devices if d["kind"] == "kiosk")
    r = await client.delete(f"/api/v1/devices/{kiosk['id']}", headers=hall.auth("admin"))
    assert r.status_code == 204
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"}, headers=hall.auth("kiosk")
    )
    assert r.status_code == 401
    assert "revoked" in r.json()["error"]["message"]


async def test_moving_staff_to_another_hall_applies_at_once(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    await make_hall(ctx, "east")
    staff = hall.auth("staff")
    assert (await client.get("/api/v1/halls/demo/queue", headers=staff)).status_code == 200
    users = (await client.get("/api/v1/users", headers=hall.auth("admin"))).json()
    uid = next(u["id"] for u in users if u["username"] == "demo-staff")
    # A county admin is not needed: the demo admin may only move within its own
    # halls, so change the membership the way a bulk job would, with one DELETE.
    async with unit_of_work(ctx.db) as uow:
        await uow.session.execute(delete(UserHall).where(UserHall.user_id == uid))
    r = await client.get("/api/v1/halls/demo/queue", headers=staff)
    assert r.status_code == 403


async def test_a_failed_change_keeps_the_cache_and_the_account(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    users = (await client.get("/api/v1/users", headers=hall.auth("admin"))).json()
    me = next(u["id"] for u in users if u["username"] == "demo-admin")
    # Refused (cannot deactivate oneself): the transaction rolls back.
    r = await client.patch(
        f"/api/v1/users/{me}", json={"active": False}, headers=hall.auth("admin")
    )
    assert r.status_code == 409
    assert (await client.get("/api/v1/users", headers=hall.auth("admin"))).status_code == 200
