"""The admin console in a real browser against a real server."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk_server.context import AppContext
from tests.browser_conftest import PageFactory
from tests.conftest import LiveServer
from tests.factories import PASSWORD, HallKit, login_all, make_hall

pytestmark = [pytest.mark.asyncio, pytest.mark.browser]


async def setup(live: LiveServer, ctx: AppContext) -> HallKit:
    kit = await make_hall(ctx)
    async with httpx.AsyncClient(base_url=live.url) as client:
        await login_all(client, kit)
    return kit


async def open_admin(
    page: Any, live: LiveServer, tab: str = "hall", user: str = "demo-admin"
) -> None:
    await page.goto(f"{live.url}/admin#{tab}")
    await page.fill("#login-form [name=username]", user)
    await page.fill("#login-form [name=password]", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_selector(f"body[data-loaded={tab}]")


async def test_every_section_loads_and_switches_language(
    live: LiveServer, ctx: AppContext, page_factory: PageFactory
) -> None:
    await setup(live, ctx)
    page = await page_factory(width=1400, height=900)
    await open_admin(page, live)
    assert await page.input_value("#hall-form [name=name]") == "demo医保服务站"
    assert await page.input_value("#hall-form [name=day_wed]") == "08:30-12:00, 13:30-17:00"
    for tab in ("catalog", "counters", "staff", "devices", "notices", "hall"):
        await page.click(f".tabs [data-tab={tab}]")
        await page.wait_for_selector(f"body[data-loaded={tab}]")
        assert await page.is_visible(f"#tab-{tab}")
    await page.click("#lang")
    assert await page.text_content(".tabs [data-tab=catalog]") == "Catalogue"
