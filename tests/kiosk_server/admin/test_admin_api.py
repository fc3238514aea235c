"""Server rules behind the admin console: forced password change, refused catalogue
imports that would break the running day, the QR endpoint, served-by names."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
import zxingcpp
from PIL import Image

from tests.factories import PASSWORD, HallKit, act, issue

pytestmark = pytest.mark.asyncio


async def token_for(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_reset_password_forces_a_change_before_anything_else(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={"username": "liu", "password": "initial-pw-1", "role": "staff", "halls": ["demo"]},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 201 and r.json()["must_change_password"] is True
    uid = r.json()["id"]
    r = await client.post(
        "/api/v1/auth/token", json={"username": "liu", "password": "initial-pw-1"}
    )
    assert r.json()["must_change_password"] is True
    auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = await client.get("/api/v1/halls/demo/queue", headers=auth)
    assert r.status_code == 403 and r.json()["error"]["details"]["reason"] == "must_change_password"
    r = await client.get("/api/v1/auth/me", headers=auth)
    assert r.status_code == 200 and r.json()["must_change_password"] is True
    r = await client.post(
        "/api/v1/auth/password",
        json={"old_password": "initial-pw-1", "new_password": "my-own-pw-9"},
        headers=auth,
    )
    assert r.status_code == 204
    # The same token works now: the flag is read on every request.
    assert (await client.get("/api/v1/halls/demo/queue", headers=auth)).status_code == 200
    # An admin reset sets the flag again.
    r = await client.patch(
        f"/api/v1/users/{uid}", json={"reset_password": "reset-pw-22"}, headers=hall.auth("admin")
    )
    assert r.json()["must_change_password"] is True
    assert (await client.get("/api/v1/halls/demo/queue", headers=auth)).status_code == 403
    fresh = await token_for(client, "liu", "reset-pw-22")
    assert (await client.get("/api/v1/halls/demo/queue", headers=fresh)).status_code == 403


async def test_import_that_disables_or_reletters_a_waited_for_item_changes_nothing(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await issue(client, hall, "payment")
    doc = {
        "services": [
            {"code": "new_one", "name_zh": "新事项", "prefix": "Z"},
            {"code": "payment", "name_zh": "参保缴费", "prefix": "C", "enabled": False},
        ]
    }
    r = await client.put(f"/api/v1/halls/{hall.code}/catalog", json=doc, headers=hall.auth("admin"))
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["details"] == {
        "reason": "import_waiting_disable",
        "field": "services",
        "service": "payment",
        "service_name": "参保缴费",
        "waiting": 1,
    }
    assert err["message"] == (
        "1 person holds a ticket for 参保缴费 (payment) today; the file would disable it, "
        "so nothing was imported (今天还有 1 人取了“参保缴费”（payment）的号尚未办结，"
        "文件会停用它，因此没有导入任何内容)"
    )
    doc["services"][1] = {"code": "payment", "name_zh": "参保缴费", "prefix": "Y"}
    r = await client.put(f"/api/v1/halls/{hall.code}/catalog", json=doc, headers=hall.auth("admin"))
    assert r.status_code == 409 and "change its prefix" in r.json()["error"]["message"]
    assert r.json()["error"]["details"]["reason"] == "import_waiting_prefix"
    codes = [s["code"] for s in (await client.get(f"/api/v1/halls/{hall.code}/services")).json()]
    assert "new_one" not in codes and "payment" in codes
    # An unchanged waited-for item does not block the rest of the file.
    doc["services"][1] = {"code": "payment", "name_zh": "参保缴费（新）", "prefix": "C"}
    r = await client.put(f"/api/v1/halls/{hall.code}/catalog", json=doc, headers=hall.auth("admin"))
    assert r.status_code == 200, r.text


async def test_qr_endpoint_encodes_the_link(client: httpx.AsyncClient, hall: HallKit) -> None:
    link = "http://hall.test/rate/1?hall=demo&device_token=hqd_abc"
    r = await client.post("/api/v1/admin/qr", json={"text": link}, headers=hall.auth("admin"))
    assert r.status_code == 200
    url = r.json()["data_url"]
    assert url.startswith("data:image/png;base64,")
    img = Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1])))
    assert [x.text for x in zxingcpp.read_barcodes(img)] == [link]
    r = await client.post("/api/v1/admin/qr", json={"text": link}, headers=hall.auth("supervisor"))
    assert r.status_code == 403


async def test_served_by_name_survives_deactivation(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    t = await issue(client, hall, "enrol")
    assert (await act(client, hall, 2, "call-next")).status_code == 200
    assert (await act(client, hall, 2, "start")).status_code == 200
    assert (await act(client, hall, 2, "finish", outcome="completed")).status_code == 200
    users = (await client.get("/api/v1/users", headers=hall.auth("admin"))).json()
    uid = next(u["id"] for u in users if u["username"] == "demo-staff2")
    r = await client.patch(
        f"/api/v1/users/{uid}", json={"active": False}, headers=hall.auth("admin")
    )
    assert r.status_code == 200 and r.json()["active"] is False
    r = await client.post(
        "/api/v1/auth/token", json={"username": "demo-staff2", "password": PASSWORD}
    )
    assert r.status_code == 401
    assert (await act(client, hall, 2, "call-next")).status_code == 401  # old token dead too
    r = await client.get(f"/api/v1/tickets/by-id/{t['id']}", headers=hall.auth("supervisor"))
    assert r.status_code == 200 and r.json()["served_by"] == "demo-staff2"
