"""The demo hall as `hallq init --demo` creates it: its screen notice quotes its own hotline."""

from __future__ import annotations

import httpx
import pytest

from kiosk_server.bootstrap import DEMO_HALL, DEMO_HOTLINE, create_demo, create_hall, demo_notice
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.halls import repository as halls_repo

pytestmark = pytest.mark.asyncio


async def test_demo_notice_quotes_the_halls_hotline(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    async with unit_of_work(ctx.db) as uow:
        await create_demo(uow.session, "demo-test-pw")
    async with unit_of_work(ctx.db, write=False) as uow:
        hall = await halls_repo.get_hall(uow.session, DEMO_HALL)
    assert hall.hotline == DEMO_HOTLINE == "0512-12393"
    assert hall.notice is not None
    assert hall.notice.startswith(f"医保服务热线 {hall.hotline} · ")
    assert "热线 12393" not in hall.notice
    # The hall screen shows that notice and the hotline beside it.
    snap = (await client.get(f"/api/v1/halls/{DEMO_HALL}/display")).json()
    assert snap["notice"] == hall.notice and snap["hotline"] == DEMO_HOTLINE


async def test_a_hall_without_a_hotline_gets_no_hotline_in_its_notice(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    async with unit_of_work(ctx.db) as uow:
        hall = await create_hall(uow.session, "nohotline", "无热线服务点", hotline=None)
    assert hall.notice == demo_notice(None) == "过号请重新取号 · 老年人、残疾人优先办理（绿色通道）"
    assert demo_notice("0512-66660000").startswith("医保服务热线 0512-66660000 · ")
