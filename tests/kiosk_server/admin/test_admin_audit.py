"""Every change the admin console makes is in the hall's audit log: who, what, on what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk_server.auth.principal import Role
from kiosk_server.auth.service import create_user
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.factories import PASSWORD, HallKit, login_all, make_hall

pytestmark = pytest.mark.asyncio


async def ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201, 204), r.text
    return r.json() if r.content else None


async def hall_log(client: httpx.AsyncClient, hall: HallKit) -> list[tuple[str, str, str | None]]:
    r = await client.get(f"/api/v1/halls/{hall.code}/audit", headers=hall.auth("supervisor"))
    assert r.status_code == 200, r.text
    return [(e["actor"], e["action"], e["target"]) for e in reversed(r.json()["entries"])]


async def test_each_admin_change_writes_an_audit_row(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    admin = hall.auth("admin")
    base = f"/api/v1/halls/{hall.code}"
    await ok(await client.patch(base, json={"hotline": "12393"}, headers=admin))
    item = {"code": "pension", "name_zh": "养老待遇资格认证", "prefix": "P"}
    await ok(await client.post(f"{base}/services", json=item, headers=admin))
    await ok(
        await client.patch(f"{base}/services/pension", json={"target_minutes": 8}, headers=admin)
    )
    catalogue = {"services": [{**item, "guide": "本人到场"}]}
    await ok(await client.put(f"{base}/catalog", json=catalogue, headers=admin))
    counter = await ok(
        await client.post(f"{base}/counters", json={"number": 7, "name": "帮办"}, headers=admin)
    )
    await ok(
        await client.patch(
            f"/api/v1/counters/{counter['id']}", json={"name": "帮办代办"}, headers=admin
        )
    )
    device = await ok(
        await client.post(
            f"{base}/devices", json={"kind": "kiosk", "name": "二号取号机"}, headers=admin
        )
    )
    await ok(await client.delete(f"/api/v1/devices/{device['id']}", headers=admin))
    notice = {
        "kind": "scroll",
        "text": "12月起集中缴费",
        "start_date": "2026-11-25",
        "end_date": "2026-12-31",
    }
    n = await ok(await client.post(f"{base}/notices", json=notice, headers=admin))
    await ok(
        await client.patch(f"/api/v1/notices/{n['id']}", json={"title": "缴费"}, headers=admin)
    )
    await ok(await client.delete(f"/api/v1/notices/{n['id']}", headers=admin))

    who = "demo-admin"
    assert await hall_log(client, hall) == [
        (who, "hall.update", "demo"),
        (who, "service.create", "pension"),
        (who, "service.update", "pension"),
        (who, "catalog.import", None),
        (who, "counter.create", "counter 7"),
        (who, "counter.update", "counter 7"),
        (who, "device.create", "kiosk:二号取号机"),
        (who, "device.revoke", "kiosk:二号取号机"),
        (who, "notice.create", f"notice {n['id']}"),
        (who, "notice.update", f"notice {n['id']}"),
        (who, "notice.delete", f"notice {n['id']}"),
    ]


async def test_refused_change_writes_no_audit_row(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await client.post(
        f"/api/v1/halls/{hall.code}/services",
        json={"code": "pension", "name_zh": "养老", "prefix": "A"},  # A is enrolment's
        headers=hall.auth("admin"),
    )
    assert r.status_code == 409
    assert await hall_log(client, hall) == []


async def test_account_changes_show_in_the_hall_log(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    admin = hall.auth("admin")
    body = {"username": "liu", "password": "initial-pw-1", "role": "staff", "halls": ["demo"]}
    user = await ok(await client.post("/api/v1/users", json=body, headers=admin))
    await ok(
        await client.patch(
            f"/api/v1/users/{user['id']}", json={"role": "supervisor"}, headers=admin
        )
    )
    assert await hall_log(client, hall) == [
        ("demo-admin", "user.create", "liu"),
        ("demo-admin", "user.update", "liu"),
    ]


async def county_admin(client: httpx.AsyncClient, ctx: AppContext) -> dict[str, str]:
    async with unit_of_work(ctx.db) as uow:
        await create_user(uow.session, "county", PASSWORD, Role.ADMIN, all_halls=True)
    r = await client.post("/api/v1/auth/token", json={"username": "county", "password": PASSWORD})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_an_account_of_two_halls_is_logged_in_each_and_a_hall_it_leaves_sees_it_go(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    east = await make_hall(ctx, "east")
    west = await make_hall(ctx, "west")
    await login_all(client, east)
    await login_all(client, west)
    county = await county_admin(client, ctx)
    body = {"username": "zhou", "password": "initial-pw-1", "role": "staff"}
    user = await ok(
        await client.post("/api/v1/users", json={**body, "halls": ["demo", "east"]}, headers=county)
    )
    await ok(
        await client.patch(f"/api/v1/users/{user['id']}", json={"halls": ["east"]}, headers=county)
    )
    entries = [("county", "user.create", "zhou"), ("county", "user.update", "zhou")]
    assert await hall_log(client, hall) == entries
    assert await hall_log(client, east) == entries
    assert await hall_log(client, west) == []
    # Once it has left, demo's log no longer hears of it.
    await ok(
        await client.patch(
            f"/api/v1/users/{user['id']}", json={"display_name": "周"}, headers=county
        )
    )
    assert await hall_log(client, hall) == entries
    assert len(await hall_log(client, east)) == 3


async def test_reset_deactivation_and_own_password_change_are_in_the_hall_log(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    admin = hall.auth("admin")
    users = (await client.get("/api/v1/users", headers=admin)).json()
    uid = next(u["id"] for u in users if u["username"] == "demo-staff2")
    await ok(
        await client.patch(
            f"/api/v1/users/{uid}", json={"reset_password": "reset-pw-22"}, headers=admin
        )
    )
    await ok(await client.patch(f"/api/v1/users/{uid}", json={"active": False}, headers=admin))
    change = {"old_password": PASSWORD, "new_password": "my-own-pw-9"}
    await ok(await client.post("/api/v1/auth/password", json=change, headers=hall.auth("staff")))
    assert await hall_log(client, hall) == [
        ("demo-admin", "user.update", "demo-staff2"),
        ("demo-admin", "user.update", "demo-staff2"),
        ("demo-staff", "user.password_change", "demo-staff"),
    ]
    r = await client.get(f"/api/v1/halls/{hall.code}/audit", headers=hall.auth("supervisor"))
    details = [e["detail"] for e in reversed(r.json()["entries"])]
    # The log says a password was reset, never what it is.
    assert details[:2] == [{"password_reset": True}, {"active": False}]
    assert "reset-pw-22" not in r.text and "my-own-pw-9" not in r.text
