"""The supervisor dashboard in a real browser on a seeded day: figures match the API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from tests.browser_conftest import PageFactory, save_screenshot
from tests.conftest import LiveServer
from tests.factories import PASSWORD, HallKit, issue, login_all, make_hall, serve
from tests.kiosk_server.stats.seed import seed_day

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def mins(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


async def open_page(page: Any, url: str, user: str = "demo-supervisor") -> None:
    await page.goto(url)
    await page.fill("#login-form [name=username]", user)
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']")


async def kpi(page: Any, key: str) -> str:
    text: str = await page.text_content(f"[data-kpi={key}] .value")
    return text.strip()


async def test_dashboard_shows_the_apis_figures(
    live: LiveServer, ctx: AppContext, clock: FixedClock, page_factory: PageFactory
) -> None:
    kit = await make_hall(ctx)
    async with httpx.AsyncClient(base_url=live.url) as client:
        await login_all(client, kit)
        await seed_day(client, kit, clock)
        await issue(client, kit, "payment")
        await issue(client, kit, "enrol", channel="green")
        r = await client.get(f"/api/v1/halls/{kit.code}/figures", headers=kit.auth("supervisor"))
        figures = r.json()

        page = await page_factory(width=1600, height=1300)
        await open_page(page, f"{live.url}/supervisor/{kit.code}")
        o = figures["overall"]
        rt = o["ratings"]
        assert await kpi(page, "issued") == str(o["issued"]) == "5"
        assert await kpi(page, "served") == str(o["served"])
        assert await kpi(page, "no_show") == str(o["no_show"])
        assert await kpi(page, "wait_avg") == mins(o["wait_avg"])
        assert await kpi(page, "instant_avg") == mins(o["instant_service_avg"]) == "9.0"
        assert await kpi(page, "instant_over") == pct(o["instant_over_target_share"]) == "50.0%"
        assert await kpi(page, "satisfaction") == pct(rt["satisfaction"]) == "50.0%"
        assert await kpi(page, "strict") == pct(rt["strict_satisfaction"])
        assert await kpi(page, "rating_rate") == pct(rt["rating_rate"])
        assert await kpi(page, "waiting_now") == "2"
        assert "kpi bad" in (await page.get_attribute("[data-kpi=satisfaction]", "class") or "")
        assert await page.text_content("#waiting [data-total]") == "2"
        assert await page.locator("#bad li.bad").count() == 1
        assert await page.locator("#followups tbody tr").count() == 1
        # ECharts is served locally and drew every chart.
        assert await page.evaluate("typeof window.echarts") == "object"
        for chart in ("hourly", "wait", "service", "util", "sat"):
            assert await page.locator(f"#chart-{chart} canvas").count() >= 1

        # Live: a call at counter 3 arrives over the staff WebSocket.
        r = await client.post(
            f"/api/v1/counters/{kit.counter_ids[3]}/call-next", headers=kit.auth("staff3")
        )
        assert r.status_code == 200
        await page.wait_for_function(
            "document.querySelector('#waiting [data-total]').textContent === '1'"
        )
        row = page.locator("#counters tr[data-counter='3']")
        assert r.json()["ticket"]["number"] in (await row.text_content() or "")
        await client.post(
            f"/api/v1/counters/{kit.counter_ids[3]}/start", headers=kit.auth("staff3")
        )
        clock.advance(minutes=4)

        await page.wait_for_timeout(400)  # let the debounced reload and charts settle
        await save_screenshot(page, "supervisor", full_page=True)

        # The follow-up is recorded from the page.
        await page.click("#followups tbody tr button")
        await page.fill("#followup-form [name=cause]", "等候时间长")
        await page.fill("#followup-form [name=action_taken]", "高峰增开窗口")
        await page.check("#followup-form [name=called_back]")
        await page.check("#followup-form [name=resolved]")
        await page.click("#followup-form button[type=submit]")
        await page.wait_for_selector("#followup-form", state="hidden")
        r = await client.get(f"/api/v1/halls/{kit.code}/followups", headers=kit.auth("supervisor"))
        assert r.json()[0]["state"] == "resolved" and r.json()[0]["cause"] == "等候时间长"


async def test_staff_login_is_refused_and_cases_page_moves_a_case(
    live: LiveServer, ctx: AppContext, page_factory: PageFactory
) -> None:
    kit: HallKit = await make_hall(ctx)
    async with httpx.AsyncClient(base_url=live.url) as client:
        await login_all(client, kit)
        await issue(client, kit, "enrol")
        await serve(client, kit, 1, outcome="proxy")
    page = await page_factory()
    await page.goto(f"{live.url}/supervisor/{kit.code}")
    await page.fill("#login-form [name=username]", "demo-staff1")
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("#flash:not(.hidden)")
    assert "监管" in (await page.text_content("#flash") or "")

    # Staff handle proxy cases: the same login opens the cases page.
    await page.goto(f"{live.url}/supervisor/{kit.code}/cases")
    await page.wait_for_selector("body[data-ready='1']")
    rows = page.locator("#cases tbody tr")
    assert await rows.count() == 1
    assert "2026-11-30" in (await rows.first.text_content() or "")
    await page.click("#cases tbody tr button:has-text('上报')")
    await page.wait_for_selector("#cases tbody tr .pill:has-text('已上报')")
