"""Account and device refusals name their rule in details.reason (with the values
its text needs), say it in English with the Chinese in parentheses, change
nothing, and have a "v.<reason>" text in both languages of the admin console."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk_server.auth.principal import Role
from kiosk_server.auth.service import create_user
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from tests.factories import PASSWORD, HallKit

pytestmark = pytest.mark.asyncio

CATALOGUE = Path(__file__).parents[3] / "display_client/web/static/admin-i18n.js"


def console_texts() -> dict[str, dict[str, str]]:
    """The console's "v.<reason>" strings per language (zh-CN block, then en)."""
    source = CATALOGUE.read_text(encoding="utf-8")
    zh, en = source.split("\n  en: {\n", 1)
    pattern = re.compile(r'^\s+"v\.([a-z_]+)": "(.*)",$', re.MULTILINE)
    return {lang: dict(pattern.findall(block)) for lang, block in (("zh-CN", zh), ("en", en))}


TEXTS = console_texts()


def refused(
    r: httpx.Response, status: int, reason: str, *, exact: bool = True, **values: Any
) -> dict[str, Any]:
    """The refusal's shape; its message is the console's text with the values (``exact``;
    a shared reason such as county_only has a general text in the console)."""
    assert r.status_code == status, r.text
    err: dict[str, Any] = r.json()["error"]
    details = err["details"]
    assert details["reason"] == reason
    for key, value in values.items():
        assert details[key] == value, key
    assert reason in TEXTS["zh-CN"] and reason in TEXTS["en"]
    if not exact:
        return err
    chinese = TEXTS["zh-CN"][reason].format(**details)
    english = TEXTS["en"][reason].replace("'", "").format(**details)
    assert err["message"].endswith(f" ({chinese})"), err["message"]
    assert err["message"].replace("'", "").startswith(english), err["message"]
    return err


async def audit(client: httpx.AsyncClient, hall: HallKit) -> list[str]:
    r = await client.get(f"/api/v1/halls/{hall.code}/audit", headers=hall.auth("supervisor"))
    return [e["action"] for e in r.json()["entries"]]


async def user_id(client: httpx.AsyncClient, hall: HallKit, username: str) -> int:
    users = (await client.get("/api/v1/users", headers=hall.auth("admin"))).json()
    return int(next(u["id"] for u in users if u["username"] == username))


NEW = {"username": "liu", "password": "initial-pw-1", "role": "staff", "halls": ["demo"]}


async def test_a_short_password_is_refused_wherever_one_is_set(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    admin = hall.auth("admin")
    r = await client.post("/api/v1/users", json={**NEW, "password": "short"}, headers=admin)
    refused(r, 422, "password_short", field="password", min_length=8)
    uid = await user_id(client, hall, "demo-staff2")
    r = await client.patch(
        f"/api/v1/users/{uid}", json={"reset_password": "1234567"}, headers=admin
    )
    refused(r, 422, "password_short", field="reset_password")
    change = {"old_password": PASSWORD, "new_password": "tiny"}
    r = await client.post("/api/v1/auth/password", json=change, headers=hall.auth("staff"))
    refused(r, 422, "password_short", field="new_password")
    # Nothing changed: no account, the old passwords still work.
    assert "liu" not in [
        u["username"] for u in (await client.get("/api/v1/users", headers=admin)).json()
    ]
    for name in ("demo-staff2", "demo-staff"):
        r = await client.post("/api/v1/auth/token", json={"username": name, "password": PASSWORD})
        assert r.status_code == 200
    assert await audit(client, hall) == []


async def test_a_taken_username_and_an_account_without_halls_are_refused(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    admin = hall.auth("admin")
    r = await client.post("/api/v1/users", json={**NEW, "username": "demo-staff"}, headers=admin)
    refused(r, 409, "username_taken", field="username", username="demo-staff")
    r = await client.post("/api/v1/users", json={**NEW, "halls": []}, headers=admin)
    refused(r, 422, "halls_required", field="halls")
    uid = await user_id(client, hall, "demo-staff2")
    r = await client.patch(f"/api/v1/users/{uid}", json={"halls": []}, headers=admin)
    refused(r, 422, "halls_required", field="halls")
    r = await client.get("/api/v1/users", headers=admin)
    assert next(u for u in r.json() if u["id"] == uid)["halls"] == ["demo"]
    assert await audit(client, hall) == []


async def test_an_admin_may_not_deactivate_or_demote_themself(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    admin = hall.auth("admin")
    me = await user_id(client, hall, "demo-admin")
    r = await client.patch(f"/api/v1/users/{me}", json={"active": False}, headers=admin)
    refused(r, 409, "own_deactivate", field="active")
    r = await client.patch(
        f"/api/v1/users/{me}", json={"role": "staff", "display_name": "x"}, headers=admin
    )
    refused(r, 409, "own_demote", field="role", role="staff")
    r = await client.get("/api/v1/auth/me", headers=admin)
    assert r.json()["role"] == "admin" and r.json()["display_name"] == "admin员"
    assert await audit(client, hall) == []


async def test_county_wide_accounts_are_for_county_admins(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    admin = hall.auth("admin")
    r = await client.post("/api/v1/users", json={**NEW, "all_halls": True}, headers=admin)
    err = refused(r, 403, "county_only", exact=False)
    assert "every hall" in err["message"]
    async with unit_of_work(ctx.db) as uow:
        county = await create_user(uow.session, "county", PASSWORD, Role.STAFF, all_halls=True)
    r = await client.patch(f"/api/v1/users/{county.id}", json={"active": False}, headers=admin)
    err = refused(r, 403, "county_only", exact=False)
    assert "county-level account" in err["message"]


async def test_unknown_user_device_and_counter_are_named(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    admin = hall.auth("admin")
    r = await client.patch("/api/v1/users/9999", json={"active": False}, headers=admin)
    refused(r, 404, "no_user", user_id=9999)
    r = await client.delete("/api/v1/devices/9999", headers=admin)
    refused(r, 404, "no_device", device_id=9999)
    pad = {"kind": "rating_pad", "name": "九号评价器", "counter": 9}
    r = await client.post(f"/api/v1/halls/{hall.code}/devices", json=pad, headers=admin)
    refused(r, 404, "no_counter", field="counter", number=9)
    assert await audit(client, hall) == []


@pytest.mark.parametrize("kind", ["rating_pad", "keypad"])
async def test_a_device_at_a_counter_needs_the_counter(
    client: httpx.AsyncClient, hall: HallKit, kind: str
) -> None:
    r = await client.post(
        f"/api/v1/halls/{hall.code}/devices",
        json={"kind": kind, "name": "新设备"},
        headers=hall.auth("admin"),
    )
    refused(r, 422, "device_counter", field="counter", device_kind=kind)
    r = await client.get(f"/api/v1/halls/{hall.code}/devices", headers=hall.auth("admin"))
    assert "新设备" not in [d["name"] for d in r.json()]


async def test_own_password_change_refusals(client: httpx.AsyncClient, hall: HallKit) -> None:
    staff = hall.auth("staff")
    wrong = {"old_password": "not-my-password", "new_password": "my-own-pw-9"}
    r = await client.post("/api/v1/auth/password", json=wrong, headers=staff)
    # 403, not 401: the console logs out on a 401, and this token is fine.
    refused(r, 403, "password_wrong", field="old_password")
    same = {"old_password": PASSWORD, "new_password": PASSWORD}
    r = await client.post("/api/v1/auth/password", json=same, headers=staff)
    refused(r, 422, "password_same", field="new_password")
    assert (await client.get("/api/v1/auth/me", headers=staff)).status_code == 200


async def test_login_refusals_name_the_rule_without_telling_which_part_was_wrong(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    async def attempt(username: str, password: str) -> httpx.Response:
        return await client.post(
            "/api/v1/auth/token", json={"username": username, "password": password}
        )

    unknown = refused(await attempt("nobody", PASSWORD), 401, "login_failed")
    wrong = refused(await attempt("demo-staff", "wrong-password"), 401, "login_failed")
    assert unknown == wrong
    uid = await user_id(client, hall, "demo-staff2")
    await client.patch(f"/api/v1/users/{uid}", json={"active": False}, headers=hall.auth("admin"))
    refused(await attempt("demo-staff2", PASSWORD), 401, "account_inactive")


async def test_every_console_reason_has_both_languages() -> None:
    assert TEXTS["zh-CN"].keys() == {k for k in TEXTS["en"] if not k.endswith("_one")}
