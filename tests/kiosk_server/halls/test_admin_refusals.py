"""Admin changes that would break the running day are refused whole, naming the rule
(details.reason, which the console renders in its language) with an English and a
Chinese sentence; permission refusals are 403."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import HallKit, act, issue

pytestmark = pytest.mark.asyncio


async def test_a_hall_admin_creating_a_hall_is_forbidden_not_a_conflict(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    r = await client.post(
        "/api/v1/halls", json={"code": "h2", "name": "新厅"}, headers=hall.auth("admin")
    )
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "forbidden" and err["details"]["reason"] == "county_only"
    assert err["message"] == (
        "only a county-level admin (all halls) can create halls (只有县级管理员（全部大厅）才能新建大厅)"
    )
    assert [h["code"] for h in (await client.get("/api/v1/halls")).json()] == ["demo"]


async def test_disabling_counts_people_in_good_english_and_changes_nothing(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    url = f"/api/v1/halls/{hall.code}/services/payment"
    await issue(client, hall, "payment")
    r = await client.patch(url, json={"enabled": False}, headers=hall.auth("admin"))
    assert r.status_code == 409
    assert r.json()["error"]["message"].startswith(
        "1 person holds a ticket for 参保缴费 today (waiting or at a counter);"
    )
    await issue(client, hall, "payment")
    # Refused whole: the new name sent along is not applied either.
    r = await client.patch(
        url, json={"enabled": False, "name_zh": "缴费（新）"}, headers=hall.auth("admin")
    )
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["details"] == {
        "reason": "waiting_disable",
        "field": "enabled",
        "service": "payment",
        "service_name": "参保缴费",
        "waiting": 2,
    }
    assert err["message"] == (
        "2 people hold tickets for 参保缴费 today (waiting or at a counter); "
        "serve or transfer them before disabling it "
        "(今天还有 2 人取了“参保缴费”的号尚未办结，请先办理完或转移后再停用)"
    )
    items = (await client.get(f"/api/v1/halls/{hall.code}/services")).json()
    payment = next(s for s in items if s["code"] == "payment")
    assert payment["enabled"] is True and payment["name_zh"] == "参保缴费"


async def test_reletter_while_people_wait_and_reused_prefix_name_their_rule(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    admin = hall.auth("admin")
    url = f"/api/v1/halls/{hall.code}/services"
    r = await client.post(
        url, json={"code": "pension", "name_zh": "养老", "prefix": "A"}, headers=admin
    )
    assert r.status_code == 409
    assert r.json()["error"]["details"] == {
        "reason": "prefix_taken",
        "field": "prefix",
        "prefix": "A",
        "service": "enrol",
        "service_name": "城乡居民参保登记",
    }
    await issue(client, hall, "payment")
    r = await client.patch(f"{url}/payment", json={"prefix": "Y"}, headers=admin)
    assert r.status_code == 409
    assert r.json()["error"]["details"]["reason"] == "waiting_prefix"
    assert "请在闭厅后再更改号码字母" in r.json()["error"]["message"]
    r = await client.post(
        url, json={"code": "enrol", "name_zh": "重复", "prefix": "Q"}, headers=admin
    )
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "code_taken"


async def test_counter_refusals_name_their_rule(client: httpx.AsyncClient, hall: HallKit) -> None:
    admin = hall.auth("admin")
    r = await client.post(f"/api/v1/halls/{hall.code}/counters", json={"number": 2}, headers=admin)
    assert r.status_code == 409
    assert r.json()["error"]["details"] == {
        "reason": "counter_exists",
        "field": "number",
        "number": 2,
    }
    await issue(client, hall, "enrol")
    assert (await act(client, hall, 1, "call-next")).status_code == 200
    counter = f"/api/v1/counters/{hall.counter_ids[1]}"
    r = await client.patch(counter, json={"state": "closed"}, headers=admin)
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["details"]["reason"] == "counter_busy" and err["details"]["ticket"] == "A001"
    assert err["message"].endswith("(1 号窗口正在办理 A001，请办结后再关闭)")
    r = await client.patch(counter, json={"services": []}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "counter_services"
