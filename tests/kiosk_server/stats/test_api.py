from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from kiosk_server.clock import FixedClock
from kiosk_server.settings import Settings
from kiosk_server.stats import cli
from tests.factories import HallKit, act, issue, serve
from tests.kiosk_server.stats.seed import seed_day

pytestmark = pytest.mark.asyncio


async def test_figures_of_a_seeded_day(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await seed_day(client, hall, clock)
    r = await client.get(f"/api/v1/halls/{hall.code}/figures", headers=hall.auth("supervisor"))
    assert r.status_code == 200, r.text
    body = r.json()
    o = body["overall"]
    assert (o["issued"], o["served"], o["no_show"]) == (3, 2, 1)
    assert (o["wait_avg"], o["wait_max"]) == (2.67, 5.0)  # waits 5, 3, 0
    assert (o["instant_served"], o["instant_over_target"], o["instant_over_target_share"]) == (
        2,
        1,
        0.5,
    )
    assert o["instant_service_avg"] == 9.0 and o["instant_meets_standard"] is True
    rt = o["ratings"]
    assert (rt["count"], rt["rating_rate"], rt["satisfaction"], rt["strict_satisfaction"]) == (
        2,
        1.0,
        0.5,
        0.5,
    )
    assert [c["label"] for c in body["by_counter"]] == ["1号窗口", "2号窗口"]
    assert body["extensions"]["followups"]["opened"] == 1
    assert body["start"] == body["end"] == "2026-11-25"
    # A range that holds nothing is empty, not an error.
    r = await client.get(
        f"/api/v1/halls/{hall.code}/figures",
        params={"from": "2026-11-01", "to": "2026-11-02"},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 200 and r.json()["overall"]["issued"] == 0


async def test_figures_need_a_supervisor(client: httpx.AsyncClient, hall: HallKit) -> None:
    for path in ("figures", "dashboard", "reports"):
        r = await client.get(f"/api/v1/halls/{hall.code}/{path}", headers=hall.auth("staff1"))
        assert r.status_code == 403, path
    r = await client.get(
        f"/api/v1/halls/{hall.code}/figures",
        params={"from": "2026-11-05", "to": "2026-11-01"},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 422


async def test_dashboard_now(client: httpx.AsyncClient, hall: HallKit, clock: FixedClock) -> None:
    await seed_day(client, hall, clock)
    await issue(client, hall, "payment")
    await issue(client, hall, "payment")
    await issue(client, hall, "enrol")
    r = await client.post(
        f"/api/v1/counters/{hall.counter_ids[3]}/call-next", headers=hall.auth("staff3")
    )
    assert r.status_code == 200
    await client.post(f"/api/v1/counters/{hall.counter_ids[3]}/start", headers=hall.auth("staff3"))
    clock.advance(minutes=11)
    r = await client.get(f"/api/v1/halls/{hall.code}/dashboard", headers=hall.auth("supervisor"))
    assert r.status_code == 200
    d = r.json()
    waiting = {w["service"]: w["waiting"] for w in d["waiting"]}
    assert waiting["payment"] == 1 and waiting["enrol"] == 1 and d["waiting_total"] == 2
    c3 = next(c for c in d["counters"] if c["counter"] == 3)
    assert c3["ticket_state"] == "serving" and c3["elapsed_seconds"] == 660 and c3["overtime"]
    assert [o["counter"] for o in d["overtime"]] == [3]
    assert [f["score"] for f in d["bad_ratings_today"]] == [1]


async def test_daily_xlsx_report_cells(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await seed_day(client, hall, clock)
    r = await client.get(
        f"/api/v1/halls/{hall.code}/reports",
        params={"date": "2026-11-25", "format": "xlsx"},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:5] == ["汇总", "按事项", "按窗口", "按人员", "按时段"]
    ws = wb["汇总"]
    assert ws["A1"].value == "demo医保服务站 医保服务数据报表（2026年11月25日）"
    assert [c.value for c in ws[2]] == ["指标", "数值", "标准", "是否达标"]
    values = {row[0].value: row for row in ws.iter_rows(min_row=3)}
    assert values["取号数"][1].value == 3
    assert values["办结数"][1].value == 2
    assert values["即时办结事项平均办理时长（分钟）"][1].value == 9.0
    assert values["即时办结事项平均办理时长（分钟）"][3].value == "达标"
    assert values["即时办结事项超时占比"][1].value == 0.5
    assert values["即时办结事项超时占比"][1].number_format == "0.00%"
    assert values["即时办结事项超10分钟办件数"][1].value == 1
    assert values["即时办结事项超10分钟占比"][1].value == 0.5
    assert values["即时办结事项超10分钟占比"][1].number_format == "0.00%"
    sat = values["满意率（好差评口径：非常满意+满意+基本满意）"]
    assert (sat[1].value, sat[2].value, sat[3].value) == (0.5, "≥95%", "未达标")
    assert values["满意率（严格口径：非常满意+满意）"][1].value == 0.5
    assert values["评价：非常不满意"][1].value == 1
    assert values["差评整改：新增"][1].value == 1
    counters = wb["按窗口"]
    assert counters["A3"].value == "1号窗口" and counters["C3"].value == 1  # served at 1
    hours = wb["按时段"]
    assert hours["A3"].value == "10:00-11:00" and hours["B3"].value == 3
    # Every breakdown carries the same columns; by hour, one more for throughput.
    items_header = [c.value for c in wb["按事项"][2]]
    hours_header = [c.value for c in hours[2]]
    assert hours_header == ["时段", *items_header[1:], "本时段办结数（按办结时间）"]
    assert [c.value for c in wb["按人员"][2]] == items_header
    for column in ("取消数", "当前等候人数", "等候中位数（分钟）", "最长等候（分钟）",
                   "绿色通道取号数", "绿色通道等候P90（分钟）", "普通等候P90（分钟）",
                   "即时超10分钟占比", "评价：非常满意", "评价：非常不满意",
                   "满意率（好差评口径）", "满意率（严格口径）"):  # fmt: skip
        assert column in items_header, column

    def row_of(sheet: Any, label: str) -> dict[str, Any]:
        header = [c.value for c in sheet[2]]
        row = next(r for r in sheet.iter_rows(min_row=3) if r[0].value == label)
        return {h: c for h, c in zip(header, row, strict=True)}

    # 10:00 A001 (wait 5, served 12), 10:17 A002 (wait 3, served 6), 10:26 A003 no-show
    # (wait 0); A001 rated 非常不满意, A002 非常满意.
    ten = row_of(hours, "10:00-11:00")
    assert {h: c.value for h, c in ten.items() if h != "时段"} == {
        "取号数": 3, "办结数": 2, "办理结果：办结": 2, "办理结果：容缺受理": 0,
        "办理结果：一次性告知": 0, "办理结果：帮办代办": 0, "过号数": 1, "取消数": 0, "转移数": 0,
        "当前等候人数": 0, "平均等候（分钟）": 2.67, "等候中位数（分钟）": 3.0,
        "等候P90（分钟）": 5.0, "最长等候（分钟）": 5.0, "平均办理（分钟）": 9.0,
        "办理P90（分钟）": 12.0, "即时办件数": 2, "即时平均（分钟）": 9.0,
        "即时平均是否达标（≤10分钟）": "达标", "即时超时数": 1, "即时超时占比": 0.5,
        "即时超10分钟数": 1, "即时超10分钟占比": 0.5, "绿色通道取号数": 0,
        "绿色通道等候P90（分钟）": None, "普通等候P90（分钟）": 5.0, "评价数": 2, "评价率": 1.0,
        "评价：非常满意": 1, "评价：满意": 0, "评价：基本满意": 0, "评价：不满意": 0,
        "评价：非常不满意": 1, "差评数": 1, "满意率（好差评口径）": 0.5,
        "满意率（严格口径）": 0.5, "本时段办结数（按办结时间）": 2,
    }  # fmt: skip
    assert ten["等候中位数（分钟）"].number_format == "0.00"
    assert ten["满意率（严格口径）"].number_format == "0.00%"
    enrol = row_of(wb["按事项"], "城乡居民参保登记")
    assert (enrol["取号数"].value, enrol["过号数"].value, enrol["最长等候（分钟）"].value) == (
        3,
        1,
        5.0,
    )
    assert (enrol["评价：非常不满意"].value, enrol["满意率（好差评口径）"].value) == (1, 0.5)
    fu = wb["差评整改"]
    assert fu["A3"].value == "A001" and fu["D3"].value == "非常不满意"


async def test_monthly_csv_report(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await seed_day(client, hall, clock)
    r = await client.get(
        f"/api/v1/halls/{hall.code}/reports",
        params={"month": "2026-11", "format": "csv"},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 200
    text = r.content.decode("utf-8-sig")
    assert text.startswith("demo医保服务站 医保服务数据报表（2026年11月）")
    assert "满意率（好差评口径：非常满意+满意+基本满意）,50.00%,≥95%,未达标" in text
    assert "按日" in text and "2026-11-25" in text
    assert "filename*=UTF-8''" in r.headers["content-disposition"]


async def test_cli_writes_the_monthly_xlsx(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock, settings: Settings, tmp_path: Path
) -> None:
    await seed_day(client, hall, clock)
    out = tmp_path / "nov.xlsx"
    argv = ["--hall", "demo", "--month", "2026-11", "--format", "xlsx", "--out", str(out)]
    argv += ["--data-dir", str(settings.data_dir)]
    # The CLI runs its own event loop, as it does from the shell.
    assert await asyncio.to_thread(cli.main, argv) == 0
    ws = load_workbook(out)["汇总"]
    assert ws["A1"].value == "demo医保服务站 医保服务数据报表（2026年11月）"
    assert ws["B3"].value == 3
    assert await asyncio.to_thread(cli.main, [*argv[:2], "--month", "2026-13"]) == 2


async def test_reports_count_outcomes_overall_and_per_item(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    for service, outcome in [
        ("enrol", "completed"),
        ("enrol", "incomplete_papers"),  # 容缺受理
        ("payment", "informed"),  # 一次性告知
        ("payment", "proxy"),  # 帮办代办
    ]:
        await issue(client, hall, service)
        await serve(client, hall, 1, outcome=outcome, clock=clock, minutes=4)
    await issue(client, hall, "enrol")  # transferred to payment, then finished there
    await act(client, hall, 1, "call-next")
    assert (await act(client, hall, 1, "transfer", service="payment")).status_code == 200
    await serve(client, hall, 2, outcome="completed")
    await issue(client, hall, "enrol")  # no-show
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "no-show")
    sup = hall.auth("supervisor")
    body = (await client.get(f"/api/v1/halls/{hall.code}/figures", headers=sup)).json()
    assert body["overall"]["outcomes"] == {
        "completed": 2,
        "incomplete_papers": 1,
        "informed": 1,
        "proxy": 1,
    }
    items = {f["key"]: f for f in body["by_service"]}
    assert items["enrol"]["outcomes"]["incomplete_papers"] == 1
    assert (items["enrol"]["transferred"], items["enrol"]["no_show"]) == (1, 1)
    assert items["payment"]["outcomes"] == {
        "completed": 1,
        "incomplete_papers": 0,
        "informed": 1,
        "proxy": 1,
    }

    r = await client.get(
        f"/api/v1/halls/{hall.code}/reports", params={"format": "xlsx"}, headers=sup
    )
    wb = load_workbook(io.BytesIO(r.content))
    summary = {row[0].value: row[1].value for row in wb["汇总"].iter_rows(min_row=3)}
    assert (
        summary["办理结果：办结"],
        summary["办理结果：容缺受理"],
        summary["办理结果：一次性告知"],
        summary["办理结果：帮办代办"],
        summary["转移数"],
        summary["过号数"],
    ) == (2, 1, 1, 1, 1, 1)
    # Every row is labelled in Chinese first, extensions included (预约办理, not appointments).
    assert all(not str(label)[0].isascii() for label in summary), [
        label for label in summary if str(label)[0].isascii()
    ]
    assert summary["预约办理：预约数"] == 0
    sheet = wb["按事项"]
    header = [c.value for c in sheet[2]]
    rows = {row[0].value: dict(zip(header, (c.value for c in row), strict=True))
            for row in sheet.iter_rows(min_row=3)}  # fmt: skip
    enrol, payment = rows["城乡居民参保登记"], rows["参保缴费"]
    assert (enrol["办理结果：办结"], enrol["办理结果：容缺受理"]) == (1, 1)
    assert (enrol["转移数"], enrol["过号数"]) == (1, 1)
    assert (payment["办理结果：一次性告知"], payment["办理结果：帮办代办"]) == (1, 1)
    assert payment["办理结果：办结"] == 1  # the transferred resident, finished here

    r = await client.get(
        f"/api/v1/halls/{hall.code}/reports", params={"format": "csv"}, headers=sup
    )
    text = r.content.decode("utf-8-sig")
    assert "办理结果：容缺受理,1,," in text and "办理结果：帮办代办,1,," in text
    assert "appointments" not in text
