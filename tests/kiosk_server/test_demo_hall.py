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


VILLAGE_DIRECT = {"城乡居民参保登记", "参保信息查询"}
VILLAGE_PROXY = {
    "异地安置退休人员备案",
    "异地长期居住人员备案",
    "常驻异地工作人员备案",
    "异地转诊人员备案",
}
# The topics the standard names as most asked about at a township hall.
TOWNSHIP_TOPICS = [
    "参保缴费",
    "门诊慢特病",
    "大病保险",
    "医疗救助",
    "异地就医",
    "零星",
    "补充商业保险",
]


async def test_the_demo_hall_is_the_towns_hall_with_the_village_items_and_township_topics(
    client: httpx.AsyncClient, ctx: AppContext
) -> None:
    async with unit_of_work(ctx.db) as uow:
        await create_demo(uow.session, "demo-test-pw")
    hall = (await client.get(f"/api/v1/halls/{DEMO_HALL}")).json()
    assert hall["name"] == "长江镇医保服务站"
    assert hall["kind"] == "township"
    counters = (await client.get(f"/api/v1/halls/{DEMO_HALL}/display")).json()["counters"]
    assert [c["number"] for c in counters] == [1, 2, 3, 4]
    items = (await client.get(f"/api/v1/halls/{DEMO_HALL}/services")).json()
    by_name = {i["name_zh"]: i for i in items}
    assert set(by_name) >= VILLAGE_DIRECT | VILLAGE_PROXY
    for topic in TOWNSHIP_TOPICS:
        assert any(topic in name for name in by_name), topic
    # Every item tells the resident what to bring, and instant items are timed at 10 minutes.
    for item in items:
        assert len(item["materials"]) >= 1, item["code"]
        assert all(isinstance(m, str) and m.strip() for m in item["materials"]), item["code"]
        if item["instant"]:
            assert item["target_minutes"] == 10, item["code"]
    assert len({i["prefix"] for i in items}) >= 2
