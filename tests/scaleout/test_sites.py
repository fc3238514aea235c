"""Multi-site on PostgreSQL: village points with their own catalogue and no
kiosk, staff confined to their own site (403 elsewhere), and the county/town
roll-up of every site's figures side by side."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk_server.auth.principal import Role
from kiosk_server.auth.service import create_user
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.sites.service import add_site
from tests.factories import PASSWORD, HallKit

pytestmark = pytest.mark.asyncio

VILLAGE_ITEMS = [
    "enrol",
    "record_query",
    "retiree_remote",
    "long_term_residence",
    "remote_worker",
    "referral",
]


async def token(client: httpx.AsyncClient, user: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def setup_county(ctx: AppContext, hall: HallKit) -> dict[str, int]:
    """Township hall `demo` (from the fixture), villages v-a and v-b, and their people."""
    async with unit_of_work(ctx.db) as uow:
        s = uow.session
        va = await add_site(s, "v-a", "东村医保服务点", "village")
        vb = await add_site(s, "v-b", "西村医保服务点", "village")
        await create_user(s, "va-staff", PASSWORD, Role.STAFF, hall_ids=[va.id])
        await create_user(s, "vb-staff", PASSWORD, Role.STAFF, hall_ids=[vb.id])
        await create_user(s, "town", PASSWORD, Role.SUPERVISOR, hall_ids=[hall.hall_id, va.id])
        await create_user(s, "county", PASSWORD, Role.ADMIN, all_halls=True)
        return {"v-a": va.id, "v-b": vb.id}


async def counter_id(client: httpx.AsyncClient, code: str, auth: dict[str, str]) -> int:
    r = await client.get(f"/api/v1/halls/{code}/counters", headers=auth)
    assert r.status_code == 200, r.text
    rows: list[dict[str, Any]] = r.json()
    assert len(rows) == 1  # a village point has one desk
    return int(rows[0]["id"])


async def test_village_point_has_six_items_one_counter_and_no_kiosk(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    await setup_county(ctx, hall)
    county = await token(client, "county")
    r = await client.post(
        "/api/v1/sites", json={"code": "v-c", "name": "南村医保服务点"}, headers=county
    )
    assert r.status_code == 201, r.text
    site = r.json()
    assert site["kind"] == "village" and site["counters"] == 1 and site["has_kiosk"] is False
    assert site["services"] == VILLAGE_ITEMS
    public = (await client.get("/api/v1/halls/v-c/services")).json()
    assert [s["code"] for s in public] == VILLAGE_ITEMS
    # Only a county account adds sites; a hall's own admin cannot.
    r = await client.post(
        "/api/v1/sites", json={"code": "v-d", "name": "北村"}, headers=hall.auth("admin")
    )
    assert r.status_code == 403  # a permission, not a clash with existing data
    assert r.json()["error"]["code"] == "forbidden"
    r = await client.post("/api/v1/sites", json={"code": "v-c", "name": "重名"}, headers=county)
    assert r.status_code == 409


async def test_staff_of_one_village_cannot_read_or_act_on_another(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    await setup_county(ctx, hall)
    va, vb = await token(client, "va-staff"), await token(client, "vb-staff")
    # No kiosk: the staff member issues the ticket from the counter page.
    r = await client.post("/api/v1/halls/v-a/tickets", json={"service": "enrol"}, headers=va)
    assert r.status_code == 201, r.text
    ticket = r.json()
    desk_a = await counter_id(client, "v-a", va)
    # Village B's staff: every read and action on village A is refused.
    assert (
        await client.get(f"/api/v1/tickets/by-id/{ticket['id']}", headers=vb)
    ).status_code == 403
    assert (await client.get("/api/v1/halls/v-a/counters", headers=vb)).status_code == 403
    r = await client.post(f"/api/v1/counters/{desk_a}/call-next", headers=vb)
    assert r.status_code == 403
    r = await client.post("/api/v1/halls/v-a/tickets", json={"service": "enrol"}, headers=vb)
    assert r.status_code == 403
    r = await client.post(f"/api/v1/tickets/by-id/{ticket['id']}/cancel", headers=vb)
    assert r.status_code == 403
    # ... and nothing changed: village A's own staff calls the ticket.
    r = await client.post(f"/api/v1/counters/{desk_a}/call-next", headers=va)
    assert r.status_code == 200 and r.json()["ticket"]["number"] == ticket["number"]
    assert (
        await client.get(f"/api/v1/tickets/by-id/{ticket['id']}", headers=va)
    ).status_code == 200
    # Staff see no roll-up at all.
    assert (await client.get("/api/v1/rollup", headers=va)).status_code == 403


async def serve(
    client: httpx.AsyncClient,
    clock: FixedClock,
    code: str,
    auth: dict[str, str],
    service: str,
    wait_min: float,
    service_min: float,
    outcome: str = "completed",
    score: int | None = None,
) -> None:
    r = await client.post(f"/api/v1/halls/{code}/tickets", json={"service": service}, headers=auth)
    assert r.status_code == 201, r.text
    token_ = r.json()["status_url"].rstrip("/").rsplit("/", 1)[-1]
    desk = await counter_id(client, code, auth)
    clock.advance(minutes=wait_min)
    assert (
        await client.post(f"/api/v1/counters/{desk}/call-next", headers=auth)
    ).status_code == 200
    assert (await client.post(f"/api/v1/counters/{desk}/start", headers=auth)).status_code == 200
    clock.advance(minutes=service_min)
    r = await client.post(
        f"/api/v1/counters/{desk}/finish", json={"outcome": outcome}, headers=auth
    )
    assert r.status_code == 200, r.text
    if score is not None:
        r = await client.post(f"/api/v1/tickets/{token_}/rating", json={"score": score})
        assert r.status_code == 201, r.text


async def test_rollup_shows_every_site_side_by_side(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    await setup_county(ctx, hall)
    va, vb = await token(client, "va-staff"), await token(client, "vb-staff")
    # Village A: waits 4, 6 and 2 min; two instant items served in 5 and 12 min (one
    # over 10), rated 5 and 1; a proxy item (帮办代办, not instant) that opens a case.
    await serve(client, clock, "v-a", va, "enrol", 4, 5, score=5)
    await serve(client, clock, "v-a", va, "record_query", 6, 12, score=1)
    await serve(client, clock, "v-a", va, "referral", 2, 8, outcome="proxy")
    # Village B: one resident waiting, none served.
    r = await client.post("/api/v1/halls/v-b/tickets", json={"service": "enrol"}, headers=vb)
    assert r.status_code == 201
    county = await token(client, "county")
    day = "2026-11-25"
    r = await client.get(f"/api/v1/rollup?from={day}&to={day}", headers=county)
    assert r.status_code == 200, r.text
    body = r.json()
    sites = {s["code"]: s for s in body["sites"]}
    assert set(sites) == {"demo", "v-a", "v-b"}
    a = sites["v-a"]
    assert (a["kind"], a["counters"], a["issued"], a["served"]) == ("village", 1, 3, 3)
    assert a["wait_p50_minutes"] == 4.0 and a["wait_p90_minutes"] == 6.0
    assert a["instant_served"] == 2 and a["instant_over_10min_share"] == 0.5
    assert a["outcomes"] == {"completed": 2, "incomplete_papers": 0, "informed": 0, "proxy": 1}
    assert a["ratings"] == 2 and a["rating_rate"] == 0.6667
    assert a["satisfaction"] == 0.5 and a["bad_ratings"] == 1
    assert a["satisfaction_meets_standard"] is False
    assert a["open_proxy_cases"] == 1 and a["overdue_proxy_cases"] == 0
    b = sites["v-b"]
    assert (b["issued"], b["served"], b["waiting_now"], b["wait_p50_minutes"]) == (1, 0, 1, None)
    assert sites["demo"]["issued"] == 0 and sites["demo"]["kind"] == "township"
    total = body["total"]
    assert (total["issued"], total["served"], total["open_proxy_cases"]) == (4, 3, 1)
    assert total["counters"] == 4 + 1 + 1
    # A town account sees only its own sites; kind= narrows to villages.
    town = await token(client, "town")
    r = await client.get(f"/api/v1/rollup?from={day}", headers=town)
    assert [s["code"] for s in r.json()["sites"]] == ["demo", "v-a"]
    r = await client.get(f"/api/v1/rollup?from={day}&kind=village", headers=county)
    assert [s["code"] for s in r.json()["sites"]] == ["v-a", "v-b"]
    # Another day has nothing; a reversed or year-long period is refused.
    r = await client.get("/api/v1/rollup?from=2026-11-24&to=2026-11-24", headers=county)
    assert r.json()["total"]["issued"] == 0
    r = await client.get("/api/v1/rollup?from=2026-11-25&to=2026-11-24", headers=county)
    assert r.status_code == 400
    r = await client.get("/api/v1/rollup?from=2025-01-01&to=2026-11-24", headers=county)
    assert r.status_code == 400


async def test_rollup_share_over_10_minutes_is_against_the_standard(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    await setup_county(ctx, hall)
    county = await token(client, "county")
    # The village raised 参保信息查询's own target to 15 minutes; the standard stays 10.
    r = await client.patch(
        "/api/v1/halls/v-a/services/record_query", json={"target_minutes": 15}, headers=county
    )
    assert r.status_code == 200, r.text
    va = await token(client, "va-staff")
    await serve(client, clock, "v-a", va, "enrol", 1, 5)  # target 10: within both
    await serve(client, clock, "v-a", va, "record_query", 1, 12, outcome="informed")
    await serve(client, clock, "v-a", va, "record_query", 1, 16, outcome="incomplete_papers")
    r = await client.get("/api/v1/rollup?from=2026-11-25&kind=village", headers=county)
    a = next(s for s in r.json()["sites"] if s["code"] == "v-a")
    assert a["instant_served"] == 3
    assert a["instant_over_10min_share"] == 0.6667  # 12 and 16 minutes
    assert a["instant_over_target_share"] == 0.3333  # only 16 is over its 15
    assert a["outcomes"] == {"completed": 1, "incomplete_papers": 1, "informed": 1, "proxy": 0}
    assert r.json()["total"]["instant_over_10min_share"] == 0.6667
