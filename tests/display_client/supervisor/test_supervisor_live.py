"""The supervisor dashboard live: an overtime event raises an alert; exports download files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from kiosk_server import ticker
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from tests.browser_conftest import PageFactory
from tests.conftest import LiveServer
from tests.display_client.supervisor.test_supervisor_page import open_page
from tests.factories import HallKit, act, issue, login_all, make_hall, serve
from tests.kiosk_server.stats.seed import seed_day

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]

DASHBOARD = "**/api/v1/halls/*/dashboard"


async def start_serving(client: httpx.AsyncClient, kit: HallKit, at: int) -> str:
    await issue(client, kit, "enrol")  # an instant item: 10-minute target
    r = await act(client, kit, at, "call-next")
    assert r.status_code == 200, r.text
    assert (await act(client, kit, at, "start")).status_code == 200
    number: str = r.json()["ticket"]["number"]
    return number


async def test_overtime_event_raises_an_alert(
    live: LiveServer, ctx: AppContext, clock: FixedClock, page_factory: PageFactory
) -> None:
    kit = await make_hall(ctx)
    async with httpx.AsyncClient(base_url=live.url) as client:
        await login_all(client, kit)
        number = await start_serving(client, kit, 3)
        clock.advance(minutes=4)
        page = await page_factory(width=1400, height=1000)
        await open_page(page, f"{live.url}/supervisor/{kit.code}")
        await page.wait_for_selector("#live.on")  # the staff WebSocket is up
        assert await page.locator("#alerts li.empty").count() == 1  # 4 of 10 minutes

        # Hold the dashboard's reloads: the alert must come from the event itself,
        # not from the next "now" the page fetches.
        held: list[Any] = []
        await page.route(DASHBOARD, lambda route: held.append(route))
        clock.advance(minutes=7)  # 11 minutes of service
        assert await ticker.overtime(ctx) == 1
        alert = page.locator("#alerts li:not(.empty)")
        await alert.wait_for()
        assert await alert.text_content() == f"3号窗口 {number} 办理已 11 分钟（时限 10 分钟）"
        assert await alert.count() == 1
        # The held reload then brings the same transaction: still one alert.
        await page.unroute(DASHBOARD)
        for route in held:
            await route.continue_()
        await page.wait_for_selector("#counters tr[data-counter='3'] td.clock-red")
        assert await page.locator("#alerts li:not(.empty)").count() == 1


async def test_export_buttons_download_the_reports(
    live: LiveServer,
    ctx: AppContext,
    clock: FixedClock,
    page_factory: PageFactory,
    tmp_path: Path,
) -> None:
    kit = await make_hall(ctx)
    async with httpx.AsyncClient(base_url=live.url) as client:
        await login_all(client, kit)
        await seed_day(client, kit, clock)
    page = await page_factory(width=1600, height=1000, accept_downloads=True)
    await open_page(page, f"{live.url}/supervisor/{kit.code}")

    async with page.expect_download() as info:
        await page.click("[data-export=day-xlsx]")
    download = await info.value
    assert download.suggested_filename == "demo-report-20261125-20261125.xlsx"
    target = tmp_path / download.suggested_filename
    await download.save_as(target)
    wb = load_workbook(target)
    assert wb.sheetnames[:5] == ["汇总", "按事项", "按窗口", "按人员", "按时段"]
    summary = {row[0].value: row[1].value for row in wb["汇总"].iter_rows(min_row=3)}
    assert (summary["取号数"], summary["办结数"], summary["过号数"]) == (3, 2, 1)
    assert summary["差评整改：新增"] == 1

    async with page.expect_download() as info:
        await page.click("[data-export=day-csv]")
    download = await info.value
    assert download.suggested_filename.endswith(".csv")
    raw = await asyncio.to_thread(Path(await download.path()).read_bytes)
    text = raw.decode("utf-8-sig")
    assert text.startswith("demo医保服务站 医保服务数据报表（2026年11月25日）")
    assert "满意率（好差评口径：非常满意+满意+基本满意）,50.00%,≥95%,未达标" in text
    hour_header = next(line for line in text.splitlines() if line.startswith("时段,"))
    assert "等候中位数（分钟）" in hour_header and hour_header.endswith(
        "本时段办结数（按办结时间）"
    )
    assert await page.locator("#flash:not(.hidden)").count() == 0


async def test_cases_page_accepts_a_returned_case_with_a_materials_date(
    live: LiveServer, ctx: AppContext, page_factory: PageFactory
) -> None:
    kit = await make_hall(ctx)
    async with httpx.AsyncClient(base_url=live.url) as client:
        await login_all(client, kit)
        await issue(client, kit, "enrol")
        await serve(client, kit, 1, outcome="proxy")  # Wed 25 Nov, due Mon 30 Nov
        r = await client.get(f"/api/v1/halls/{kit.code}/cases", headers=kit.auth("staff1"))
        [case] = r.json()
        r = await client.patch(
            f"/api/v1/cases/{case['id']}",
            json={"state": "returned_incomplete"},
            headers=kit.auth("staff1"),
        )
        assert r.status_code == 200, r.text
    page = await page_factory()
    await open_page(page, f"{live.url}/supervisor/{kit.code}/cases", user="demo-staff1")
    row = page.locator(f"#cases tbody tr[data-id='{case['id']}']")
    # No date: the server's message is shown and nothing changes.
    await row.locator("[data-materials]").fill("")
    await row.locator("button:has-text('重新受理')").click()
    await page.wait_for_selector("#flash:not(.hidden)")
    assert "材料齐全日期" in (await page.text_content("#flash") or "")
    assert "材料不全退回" in (await row.text_content() or "")
    # The papers came in today (the hall's day): accepted again, due three working days on.
    await row.locator("[data-materials]").fill("2026-11-25")
    await row.locator("button:has-text('重新受理')").click()
    await page.wait_for_selector(
        f"#cases tbody tr[data-id='{case['id']}'] .pill:has-text('已受理')"
    )
    assert "2026-11-30" in (await row.text_content() or "")
    assert await page.locator("#flash:not(.hidden)").count() == 0
