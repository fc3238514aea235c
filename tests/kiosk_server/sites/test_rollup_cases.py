"""The roll-up's proxy cases: open and overdue as of the period's end, as the hall
reports count them, so a past period's roll-up does not change when re-run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from kiosk_server.auth.principal import Role
from kiosk_server.auth.service import create_user
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.sites.service import add_site
from tests.factories import PASSWORD, SHANGHAI, HallKit, issue, login_all, serve

pytestmark = pytest.mark.asyncio


async def token(client: httpx.AsyncClient, user: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def village_proxy_case(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    """A 异地转诊备案 at village v-a, finished as 帮办代办: returns the case's id."""
    r = await client.post("/api/v1/halls/v-a/tickets", json={"service": "referral"}, headers=auth)
    assert r.status_code == 201, r.text
    number = r.json()["number"]
    desk = (await client.get("/api/v1/halls/v-a/counters", headers=auth)).json()[0]["id"]
    for action, body in (("call-next", None), ("start", None), ("finish", {"outcome": "proxy"})):
        r = await client.post(f"/api/v1/counters/{desk}/{action}", json=body, headers=auth)
        assert r.status_code == 200, r.text
    cases = (await client.get("/api/v1/halls/v-a/cases", headers=auth)).json()
    return int(next(c["id"] for c in cases if c["number"] == number))


async def move(client: httpx.AsyncClient, case_id: int, auth: dict[str, str], **body: Any) -> None:
    r = await client.patch(f"/api/v1/cases/{case_id}", json=body, headers=auth)
    assert r.status_code == 200, r.text


async def cases_of(
    client: httpx.AsyncClient, auth: dict[str, str], first: str, last: str
) -> dict[str, Any]:
    r = await client.get("/api/v1/rollup", params={"from": first, "to": last}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    out: dict[str, Any] = {
        s["code"]: (s["open_proxy_cases"], s["overdue_proxy_cases"]) for s in body["sites"]
    }
    out["total"] = (body["total"]["open_proxy_cases"], body["total"]["overdue_proxy_cases"])
    out["as_of"] = body["cases_as_of"]
    return out


async def test_rollup_counts_cases_as_of_the_periods_end(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    # Friday 20 Nov: three cases at village v-a and one at the township hall, all
    # due (3 working days) on Wednesday 25 Nov.
    clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    async with unit_of_work(ctx.db) as uow:
        va = await add_site(uow.session, "v-a", "东村医保服务点", "village")
        await create_user(uow.session, "va-staff", PASSWORD, Role.STAFF, hall_ids=[va.id])
        await create_user(uow.session, "county", PASSWORD, Role.ADMIN, all_halls=True)
    await login_all(client, hall)
    staff, county = await token(client, "va-staff"), await token(client, "county")
    submitted, waiting, returned = [await village_proxy_case(client, staff) for _ in range(3)]
    await issue(client, hall, "enrol")
    await serve(client, hall, 1, outcome="proxy")
    listed = (await client.get("/api/v1/halls/v-a/cases", headers=staff)).json()
    assert {c["deadline"] for c in listed} == {"2026-11-25"}

    # Mon 23 Nov: one case goes back for missing papers (no longer open).
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI))
    await move(client, returned, staff, state="returned_incomplete")
    # Wed 2 Dec: one submitted (late); the returned one accepted again with papers
    # complete today, so it is open and due on 7 Dec.
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    await move(client, submitted, staff, state="submitted")
    await move(client, returned, staff, state="accepted", materials_complete_on="2026-12-02")

    # Today: three open at v-a, only the untouched one overdue.
    now = await cases_of(client, county, "2026-12-02", "2026-12-02")
    assert now == {"demo": (1, 1), "v-a": (3, 1), "total": (4, 2), "as_of": "2026-12-02"}
    # A period that runs on past today counts as of today.
    assert await cases_of(client, county, "2026-12-01", "2026-12-31") == now

    # November: on the 30th two v-a cases were open and overdue (the returned one
    # was not open), whatever happened to them since.
    november = await cases_of(client, county, "2026-11-01", "2026-11-30")
    assert november == {"demo": (1, 1), "v-a": (2, 2), "total": (3, 3), "as_of": "2026-11-30"}
    # Up to Sunday 22 Nov: all four open, none overdue yet (due on the 25th).
    early = await cases_of(client, county, "2026-11-20", "2026-11-22")
    assert early == {"demo": (1, 0), "v-a": (3, 0), "total": (4, 0), "as_of": "2026-11-22"}
    # Before any case was opened: nothing.
    before = await cases_of(client, county, "2026-11-19", "2026-11-19")
    assert before["total"] == (0, 0)

    # Weeks later, with the case handed back to the resident: November says the same.
    clock.set(datetime(2026, 12, 18, 10, 0, tzinfo=SHANGHAI))
    await move(client, submitted, staff, state="result_returned")
    await move(client, submitted, staff, state="handed_over")
    assert await cases_of(client, county, "2026-11-01", "2026-11-30") == november
    assert (await cases_of(client, county, "2026-12-18", "2026-12-18"))["v-a"] == (2, 2)
