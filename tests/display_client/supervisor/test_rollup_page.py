"""The county/town roll-up page in a real browser: every site the account may see,
side by side, with the API's figures; a one-hall supervisor sees only that hall."""

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
from tests.browser_conftest import PageFactory, save_screenshot
from tests.conftest import LiveServer
from tests.factories import PASSWORD, HallKit, issue, login_all, make_hall
from tests.kiosk_server.stats.seed import seed_day

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def mins(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


def within10(s: dict[str, Any]) -> str:
    over = s["instant_over_10min_share"]
    return "—" if over is None else pct(round(1 - over, 4))


# Column -> the text the page must show for a site's (or the total's) figures.
EXPECTED = {
    "issued": lambda s: str(s["issued"]),
    "served": lambda s: str(s["served"]),
    "waiting_now": lambda s: str(s["waiting_now"]),
    "wait_p90": lambda s: mins(s["wait_p90_minutes"]),
    "instant_avg": lambda s: mins(s["instant_service_avg_minutes"]),
    "within10": within10,
    "satisfaction": lambda s: pct(s["satisfaction"]),
    "strict": lambda s: pct(s["strict_satisfaction"]),
    "rating_rate": lambda s: pct(s["rating_rate"]),
    "cases_open": lambda s: str(s["open_proxy_cases"]),
    "cases_overdue": lambda s: str(s["overdue_proxy_cases"]),
}


async def token(client: httpx.AsyncClient, user: str) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def village_serve(
    client: httpx.AsyncClient,
    clock: FixedClock,
    auth: dict[str, str],
    service: str,
    minutes: float,
    outcome: str = "completed",
    score: int | None = None,
) -> None:
    """Village v-a has no kiosk: its staff issue the ticket and serve it at the desk."""
    r = await client.post("/api/v1/halls/v-a/tickets", json={"service": service}, headers=auth)
    assert r.status_code == 201, r.text
    phone = r.json()["status_url"].rstrip("/").rsplit("/", 1)[-1]
    desk = (await client.get("/api/v1/halls/v-a/counters", headers=auth)).json()[0]["id"]
    clock.advance(minutes=2)
    for action in ("call-next", "start"):
        assert (await client.post(f"/api/v1/counters/{desk}/{action}", headers=auth)).is_success
    clock.advance(minutes=minutes)
    r = await client.post(
        f"/api/v1/counters/{desk}/finish", json={"outcome": outcome}, headers=auth
    )
    assert r.status_code == 200, r.text
    if score is not None:
        r = await client.post(f"/api/v1/tickets/{phone}/rating", json={"score": score})
        assert r.status_code == 201, r.text


async def seed_county(client: httpx.AsyncClient, ctx: AppContext, clock: FixedClock) -> HallKit:
    """Township hall `demo` below the standard (a 12-minute instant item, half the
    ratings bad), village v-a within it, village v-b with nothing yet."""
    kit = await make_hall(ctx)
    async with unit_of_work(ctx.db) as uow:
        va = await add_site(uow.session, "v-a", "东村医保服务点", "village")
        await add_site(uow.session, "v-b", "西村医保服务点", "village")
        await create_user(uow.session, "va-staff", PASSWORD, Role.STAFF, hall_ids=[va.id])
        await create_user(uow.session, "county", PASSWORD, Role.ADMIN, all_halls=True)
    await login_all(client, kit)
    await seed_day(client, kit, clock)
    await issue(client, kit, "payment")  # one waiting at the township hall
    staff = await token(client, "va-staff")
    await village_serve(client, clock, staff, "enrol", 5, score=5)
    await village_serve(client, clock, staff, "record_query", 4, score=4)
    await village_serve(client, clock, staff, "referral", 8, outcome="proxy")  # opens a case
    return kit


async def log_in(page: Any, url: str, user: str) -> None:
    await page.goto(url)
    await page.fill("#login-form [name=username]", user)
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")


async def cell(page: Any, site: str, col: str) -> str:
    text: str = await page.text_content(f"#rollup tr[data-site='{site}'] td[data-col='{col}']")
    return text.strip()


async def row_order(page: Any) -> list[str]:
    codes: list[str] = await page.eval_on_selector_all(
        "#rollup tbody tr", "rows => rows.map(r => r.dataset.site)"
    )
    return codes


async def test_county_rollup_shows_every_site_with_the_apis_figures(
    live: LiveServer, ctx: AppContext, clock: FixedClock, page_factory: PageFactory
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        await seed_county(client, ctx, clock)
        r = await client.get("/api/v1/rollup", headers=await token(client, "county"))
        assert r.status_code == 200, r.text
        body = r.json()
    sites = {s["code"]: s for s in body["sites"]}
    assert set(sites) == {"demo", "v-a", "v-b"}

    page = await page_factory(width=1600, height=460)
    await log_in(page, f"{live.url}/rollup", "county")
    await page.wait_for_selector("body[data-ready='1']")
    # Today by default, as the API's own default period.
    assert await page.input_value("#period [name=from]") == body["start"] == "2026-11-25"
    assert await page.input_value("#period [name=to]") == body["end"]
    assert await row_order(page) == ["demo", "v-a", "v-b"]
    for code, s in [*sites.items(), ("total", body["total"])]:
        for col, want in EXPECTED.items():
            assert await cell(page, code, col) == want(s), (code, col)
    # The figures the seed set, so the comparison above is not of empty tables.
    demo, va = sites["demo"], sites["v-a"]
    assert await cell(page, "demo", "within10") == "50.0%"
    assert await cell(page, "demo", "satisfaction") == "50.0%"
    assert await cell(page, "v-a", "within10") == "100.0%"
    assert await cell(page, "v-a", "satisfaction") == "100.0%"
    assert (demo["waiting_now"], va["open_proxy_cases"]) == (1, 1)
    assert await cell(page, "v-a", "kind") == "村（社区）"
    assert await cell(page, "demo", "kind") == "乡镇"
    assert await cell(page, "total", "name") == "合计"
    assert await page.locator("#rollup tfoot a").count() == 0  # the total is no hall
    # Below the standard: the township hall's row and its two cells stand out.
    assert await page.locator("#rollup tbody tr.below").count() == 1
    assert await page.get_attribute("#rollup tr[data-site='demo']", "class") == "below"
    bad = await page.eval_on_selector_all(
        "#rollup tr[data-site='demo'] td.bad", "cells => cells.map(c => c.dataset.col)"
    )
    assert bad == ["within10", "satisfaction"]
    assert await page.locator("#rollup tr[data-site='v-a'] td.bad").count() == 0
    assert "3 个站点，1 个未达标" in (await page.text_content("#summary") or "")
    await save_screenshot(page, "rollup", full_page=True)

    # Sorting by a column, then the other way.
    await page.click("#rollup th[data-sort='issued']")
    assert await row_order(page) == ["v-b", "v-a", "demo"]  # 0, 3, 4 tickets
    await page.click("#rollup th[data-sort='issued']")
    assert await row_order(page) == ["demo", "v-a", "v-b"]
    await page.click("#rollup th[data-sort='satisfaction']")
    assert await row_order(page) == ["demo", "v-a", "v-b"]  # no ratings at v-b: last

    # Kind filter: the villages only, as the API's kind=village.
    await page.select_option("#period [name=kind]", "village")
    await page.wait_for_function("document.querySelectorAll('#rollup tbody tr').length === 2")
    assert sorted(await row_order(page)) == ["v-a", "v-b"]
    await page.select_option("#period [name=kind]", "")
    await page.wait_for_function("document.querySelectorAll('#rollup tbody tr').length === 3")

    # English on the switch.
    await page.click("#lang")
    assert (await page.text_content("#rollup th[data-sort='name']") or "").strip() == "Site"
    assert await cell(page, "v-a", "kind") == "Village"
    await page.click("#lang")
    assert (await page.text_content("#rollup th[data-sort='name']") or "").strip() == "站点"

    # Each hall's name opens its supervisor dashboard, still logged in.
    link = page.locator("#rollup tr[data-site='demo'] td[data-col='name'] a")
    assert await link.get_attribute("href") == "/supervisor/demo"
    await link.click()
    await page.wait_for_url(f"{live.url}/supervisor/demo")
    await page.wait_for_selector("body[data-ready='1']")
    kpi = await page.text_content("[data-kpi=issued] .value")
    assert (kpi or "").strip() == str(demo["issued"])


async def test_one_hall_supervisor_sees_only_their_hall_and_staff_are_refused(
    live: LiveServer, ctx: AppContext, clock: FixedClock, page_factory: PageFactory
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        await seed_county(client, ctx, clock)
        r = await client.get("/api/v1/rollup", headers=await token(client, "demo-supervisor"))
        body = r.json()
    assert [s["code"] for s in body["sites"]] == ["demo"]

    page = await page_factory(width=1400, height=600)
    await log_in(page, f"{live.url}/rollup", "demo-supervisor")
    await page.wait_for_selector("body[data-ready='1']")
    assert await row_order(page) == ["demo"]
    for col, want in EXPECTED.items():
        assert await cell(page, "total", col) == want(body["total"]), col
    assert await cell(page, "total", "issued") == "4"  # the township hall's alone

    staff = await page_factory()
    await log_in(staff, f"{live.url}/rollup", "va-staff")
    await staff.wait_for_selector("#flash:not(.hidden)")
    assert "监管" in (await staff.text_content("#flash") or "")
    assert await staff.locator("#board").is_hidden()
    assert await staff.locator("#login-view").is_visible()
