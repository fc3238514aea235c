"""The supervisor dashboard's plan for tomorrow (明日窗口安排建议) in a real browser:
the hours and counters the API plans, loaded without holding up the dashboard."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import pytest

from kiosk_server.context import AppContext
from kiosk_server.stats import plan as stats_plan
from tests.browser_conftest import PageFactory, save_screenshot
from tests.conftest import LiveServer
from tests.factories import PASSWORD, add_history_day, login_all, make_hall
from tests.kiosk_server.stats.test_plan_api import BUSY, OPEN_HOURS, THURSDAYS

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def open_page(page: Any, url: str, user: str = "demo-supervisor") -> None:
    await page.goto(url)
    await page.fill("#login-form [name=username]", user)
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector("body[data-ready='1']")


async def test_panel_shows_the_planned_hours_and_does_not_hold_up_the_dashboard(
    live: LiveServer,
    ctx: AppContext,
    page_factory: PageFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kit = await make_hall(ctx)
    for day in THURSDAYS:
        await add_history_day(ctx, kit, day, BUSY, minutes=6.0, green_every=4)
    # Hold the simulation until the dashboard has shown itself.
    release = threading.Event()
    simulate = stats_plan._simulate

    def held(*args: Any) -> Any:
        release.wait(timeout=30)
        return simulate(*args)

    monkeypatch.setattr(stats_plan, "_simulate", held)
    page = await page_factory(width=1600, height=1300)
    try:
        await open_page(page, f"{live.url}/supervisor/{kit.code}")
        assert await page.get_attribute("#plan", "data-state") == "loading"
        assert "正在" in (await page.text_content("#plan-summary") or "")
        assert await page.locator("#chart-hourly canvas").count() >= 1
    finally:
        release.set()
    await page.wait_for_selector("#plan[data-state='ready']")

    async with httpx.AsyncClient(base_url=live.url) as client:
        await login_all(client, kit)
        r = await client.get(f"/api/v1/halls/{kit.code}/plan", headers=kit.auth("supervisor"))
    body = r.json()
    assert await page.text_content("#plan h2 [data-i18n='plan.title']") == "明日窗口安排建议"
    assert await page.text_content("#plan-date") == "2026-11-26 周四"
    rows = page.locator("#plan-table tbody tr")
    assert await rows.count() == len(body["plan"]["hours"]) == len(OPEN_HOURS)
    for i, h in enumerate(body["plan"]["hours"]):
        row = rows.nth(i)
        assert await row.get_attribute("data-hour") == str(h["hour"])
        text = await row.text_content() or ""
        assert text.startswith(h["label"].replace("-", "–")), text
        assert await row.locator("[data-counters]").text_content() == str(h["counters"])
        assert f"/ {body['counters_available']}" in text
        assert await row.locator(".plan-bar span.on").count() == h["counters"]
    assert await page.get_attribute("#plan-summary [data-met]", "data-met") == "1"
    assert "15 分钟" in (await page.text_content("#plan-summary") or "")
    assert "近 4 个周四" in (await page.text_content("#plan-note") or "")
    await save_screenshot(page, "supervisor-plan", full_page=True)

    await page.click("#lang")
    assert await page.text_content("#plan h2 [data-i18n='plan.title']") == (
        "Counters for tomorrow (suggested)"
    )
    assert await page.text_content("#plan-date") == "2026-11-26 Thursday"
    assert "last 4 Thursdays" in (await page.text_content("#plan-note") or "")
    assert await rows.count() == len(OPEN_HOURS)


async def test_panel_says_when_there_is_no_history(
    live: LiveServer, ctx: AppContext, page_factory: PageFactory
) -> None:
    kit = await make_hall(ctx)
    page = await page_factory(width=1600, height=1300)
    await open_page(page, f"{live.url}/supervisor/{kit.code}")
    await page.wait_for_selector("#plan[data-state='no_history']")
    assert "取号记录不足" in (await page.text_content("#plan-summary") or "")
    assert await page.is_hidden("#plan-table")
