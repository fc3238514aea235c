"""The database is the only truth: a new app on the same data directory continues
exactly; and bad input is refused in the error shape without changing anything."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk_server.app import create_app
from kiosk_server.clock import FixedClock
from kiosk_server.settings import Settings
from tests.factories import HallKit, act, issue, login, login_all, make_hall

pytestmark = pytest.mark.asyncio


async def test_restart_on_same_data_dir_keeps_the_queue(
    settings: Settings, clock: FixedClock
) -> None:
    app1 = create_app(settings, clock=clock)
    async with (
        app1.router.lifespan_context(app1),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app1), base_url="http://t") as c,
    ):
        kit = await make_hall(app1.state.ctx)
        await login_all(c, kit)
        for _ in range(3):
            await issue(c, kit, "enrol")
        await issue(c, kit, "payment", channel="green")
        await act(c, kit, 2, "call-next")
        await act(c, kit, 2, "start")
        queue_before = (await c.get("/api/v1/halls/demo/queue", headers=kit.auth("staff"))).json()
        display_before = (await c.get("/api/v1/halls/demo/display")).json()
    app2 = create_app(settings, clock=clock)
    async with (
        app2.router.lifespan_context(app2),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app2), base_url="http://t") as c,
    ):
        kit2 = HallKit(code=kit.code, hall_id=kit.hall_id, counter_ids=kit.counter_ids)
        await login_all(c, kit2)
        kit2.tokens.update(
            {k: v for k, v in kit.tokens.items() if k in ("kiosk", "display", "pad")}
        )
        assert (
            await c.get("/api/v1/halls/demo/queue", headers=kit2.auth("staff"))
        ).json() == queue_before
        display_after = (await c.get("/api/v1/halls/demo/display")).json()
        assert display_after["seq"] == display_before["seq"]
        assert display_after["counters"] == display_before["counters"]
        counter = (
            await c.get(f"/api/v1/counters/{kit.counter_ids[2]}", headers=kit2.auth("staff2"))
        ).json()
        assert counter["ticket"]["state"] == "serving"
        nxt = await issue(c, kit2, "enrol")
        assert nxt["number"] == "A004"


BAD_ISSUES: list[tuple[dict[str, Any] | str, int, str]] = [
    ({}, 422, "malformed_request"),
    ({"service": ""}, 422, "malformed_request"),
    ({"service": "enrol", "channel": "vip"}, 422, "malformed_request"),
    ({"service": "enrol", "extra": 1}, 422, "malformed_request"),
    ({"service": "x" * 5000}, 422, "malformed_request"),
    ({"service": "no_such_item"}, 404, "not_found"),
    ({"service": "enrol", "id_number": "123"}, 422, "invalid_value"),
    ({"service": 12}, 422, "malformed_request"),
    ("not json at all", 422, "malformed_request"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD_ISSUES)
async def test_bad_issue_payloads(
    client: httpx.AsyncClient, hall: HallKit, body: Any, status: int, code: str
) -> None:
    headers = {**hall.auth("kiosk"), "Content-Type": "application/json"}
    content = body if isinstance(body, str) else None
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets",
        json=None if content else body,
        content=content.encode() if content else None,
        headers=headers,
    )
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"]
    # Nothing was issued: the next ticket is still A001.
    assert (await issue(client, hall, "enrol"))["number"] == "A001"


async def test_unknown_hall_and_paths(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await client.get("/api/v1/halls/nowhere")
    assert r.status_code == 404 and "nowhere" in r.json()["error"]["message"]
    r = await client.post(
        "/api/v1/halls/nowhere/tickets", json={"service": "enrol"}, headers=hall.auth("kiosk")
    )
    assert r.status_code == 404
    r = await client.get("/api/v1/no/such/path")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = await client.get("/api/v1/counters/99999999999999999999", headers=hall.auth("staff"))
    assert r.status_code == 422
    r = await client.post(
        f"/api/v1/counters/{hall.counter_ids[1]}/call",
        json={"number": "ZZZZ"},
        headers=hall.auth("staff1"),
    )
    assert r.status_code == 400 and "A012" in r.json()["error"]["message"]


async def test_auth_errors(client: httpx.AsyncClient, hall: HallKit, clock: FixedClock) -> None:
    r = await client.post(f"/api/v1/halls/{hall.code}/tickets", json={"service": "enrol"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = await client.post(
        "/api/v1/auth/token", json={"username": "demo-staff", "password": "wrong-password"}
    )
    assert r.status_code == 401
    # The display device may not issue tickets; staff may not change settings.
    r = await client.post(
        f"/api/v1/halls/{hall.code}/tickets",
        json={"service": "enrol"},
        headers=hall.auth("display"),
    )
    assert r.status_code == 403
    r = await client.patch(
        f"/api/v1/halls/{hall.code}", json={"hotline": "12393"}, headers=hall.auth("staff")
    )
    assert r.status_code == 403
    # Tokens expire on the app's clock.
    clock.advance(hours=13)
    r = await client.get("/api/v1/auth/me", headers=hall.auth("staff"))
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    # Logging in again works on the app's clock, even days ahead of the wall clock.
    clock.advance(days=3)
    fresh = await login(client, hall, "demo-staff", "staff")
    r = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {fresh}"})
    assert r.status_code == 200


async def test_tokens_of_one_hall_do_not_work_in_another(
    client: httpx.AsyncClient, hall: HallKit, ctx: Any
) -> None:
    other = await make_hall(ctx, "village1", counters=1, kind="village")
    await login_all(client, other)
    r = await client.post(
        f"/api/v1/halls/{other.code}/tickets", json={"service": "enrol"}, headers=hall.auth("kiosk")
    )
    assert r.status_code == 403
    r = await client.post(
        f"/api/v1/counters/{other.counter_ids[1]}/call-next", headers=hall.auth("staff")
    )
    assert r.status_code == 403
    r = await client.get(f"/api/v1/halls/{other.code}/queue", headers=hall.auth("supervisor"))
    assert r.status_code == 403
    # The village point's default catalogue is the six village items.
    services = (await client.get(f"/api/v1/halls/{other.code}/services")).json()
    assert len(services) == 6


async def test_login_is_rate_limited(client: httpx.AsyncClient, hall: HallKit, ctx: Any) -> None:
    ctx.settings.login_attempts_per_minute = 5
    ctx.extras.pop("limiter:login", None)
    codes = []
    for _ in range(7):
        r = await client.post(
            "/api/v1/auth/token", json={"username": "demo-admin", "password": "nope-nope"}
        )
        codes.append(r.status_code)
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]


async def test_null_fields_in_settings_patch_are_ignored_not_a_500(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # Found by the fuzzer: {"policy": null} crashed the settings update.
    r = await client.patch(
        f"/api/v1/halls/{hall.code}",
        json={"policy": None, "name": None},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 200
    assert r.json()["policy"]["name"] == "green_burst" and r.json()["name"] == "demo医保服务站"


async def test_broken_unicode_is_a_400_and_saves_nothing(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # Found by the fuzzer: a lone surrogate in a name was a 500.
    body = b'{"code": "h2", "name": "\\ud800bad"}'
    r = await client.post(
        "/api/v1/halls",
        content=body,
        headers={**hall.auth("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422), r.text
    r = await client.patch(
        f"/api/v1/halls/{hall.code}",
        content=b'{"hotline": "\\udfff"}',
        headers={**hall.auth("admin"), "Content-Type": "application/json"},
    )
    assert r.status_code in (400, 422) and r.json()["error"]["message"]
    assert (await client.get(f"/api/v1/halls/{hall.code}")).json()["hotline"] == "0512-12393"
