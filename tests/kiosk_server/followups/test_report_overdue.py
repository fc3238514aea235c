"""Overdue follow-ups and proxy cases in a report: counted as of the period's end.

A month's report re-run weeks later must say what was overdue when the month
ended, not what is overdue on the day it is re-run.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from kiosk_server.clock import FixedClock
from tests.factories import SHANGHAI, HallKit, issue, login_all, rate_ticket, serve

pytestmark = pytest.mark.asyncio


async def _november(client: httpx.AsyncClient, hall: HallKit) -> dict[str, Any]:
    r = await client.get(
        f"/api/v1/halls/{hall.code}/reports",
        params={"month": "2026-11", "format": "xlsx"},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    wb = load_workbook(io.BytesIO(r.content))
    summary = {row[0].value: row[1].value for row in wb["汇总"].iter_rows(min_row=3)}
    fu = {row[0].value: row[7].value for row in wb["差评整改"].iter_rows(min_row=3)}
    cases = {row[0].value: row[8].value for row in wb["帮办代办"].iter_rows(min_row=3)}
    titles = (wb["差评整改"]["A1"].value, wb["帮办代办"]["A1"].value)
    return {"summary": summary, "followups": fu, "cases": cases, "titles": titles}


async def _resolve(client: httpx.AsyncClient, hall: HallKit, followup_id: int) -> None:
    r = await client.patch(
        f"/api/v1/followups/{followup_id}",
        json={"cause": "等候时间长", "action_taken": "高峰增开窗口", "resolved": True},
        headers=hall.auth("supervisor"),
    )
    assert r.status_code == 200, r.text


async def test_november_report_counts_overdue_as_of_30_november(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    # Friday 20 Nov: three bad ratings (call back by Mon 23, resolve by Fri 27 Nov)
    # and two proxy cases (submit by Wed 25 Nov).
    clock.set(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    await login_all(client, hall)  # logins issued "later" than the moved clock are refused
    rated = []
    for _ in range(3):
        await issue(client, hall, "enrol")
        rated.append(await serve(client, hall, 1))
    for t in rated:
        assert (await rate_ticket(client, hall, t["id"], 1)).status_code == 201
    cases = []
    for _ in range(2):
        await issue(client, hall, "enrol")
        cases.append(await serve(client, hall, 2, outcome="proxy"))
    sup = hall.auth("supervisor")
    fus = (await client.get(f"/api/v1/halls/{hall.code}/followups", headers=sup)).json()
    by_number = {f["number"]: f for f in fus}
    on_time, late, never = (by_number[t["number"]] for t in rated)
    assert (on_time["callback_due"], on_time["resolve_due"]) == ("2026-11-23", "2026-11-27")
    listed = await client.get(f"/api/v1/halls/{hall.code}/cases", headers=hall.auth("staff1"))
    case_ids = {c["number"]: c["id"] for c in listed.json()}
    assert {c["deadline"] for c in listed.json()} == {"2026-11-25"}

    # Mon 23 Nov: one follow-up resolved in time.
    clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI))
    await _resolve(client, hall, on_time["id"])
    # Wed 2 Dec, after the month: the second follow-up resolved and a case submitted, late.
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))
    await _resolve(client, hall, late["id"])
    submitted = cases[0]["number"]
    r = await client.patch(
        f"/api/v1/cases/{case_ids[submitted]}",
        json={"state": "submitted"},
        headers=hall.auth("staff1"),
    )
    assert r.status_code == 200 and r.json()["submitted_late"] is True

    # Today only the untouched follow-up and case are overdue...
    live = await client.get(
        f"/api/v1/halls/{hall.code}/followups", params={"overdue": "true"}, headers=sup
    )
    assert [f["number"] for f in live.json()] == [never["number"]]
    live_cases = await client.get(
        f"/api/v1/halls/{hall.code}/cases",
        params={"overdue": "true"},
        headers=hall.auth("staff1"),
    )
    assert [c["number"] for c in live_cases.json()] == [cases[1]["number"]]

    # ...but on 30 November two follow-ups and both cases were.
    first = await _november(client, hall)
    s = first["summary"]
    assert s["逾期统计截至"] == "2026-11-30"
    assert (s["差评整改：新增"], s["差评整改：逾期"]) == (3, 2)
    assert s["帮办代办：受理"] == 2
    assert s["帮办代办：逾期未上报"] == 2
    # What was done in December is not November's: one resolved, nothing submitted.
    assert s["差评整改：已整改"] == 1
    assert (s["帮办代办：已上报"], s["帮办代办：超期上报"]) == (0, 0)
    assert first["followups"] == {
        on_time["number"]: None,
        late["number"]: "逾期",
        never["number"]: "逾期",
    }
    assert first["cases"] == {submitted: "逾期未上报", cases[1]["number"]: "逾期未上报"}
    assert all("逾期截至2026-11-30" in title for title in first["titles"])

    # Re-run weeks later: the same answer.
    clock.set(datetime(2026, 12, 18, 10, 0, tzinfo=SHANGHAI))
    again = await _november(client, hall)

    def followup_rows(summary: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in summary.items() if "整改" in str(k) or "代办" in str(k)}

    assert followup_rows(again["summary"]) == followup_rows(s)
    assert (again["followups"], again["cases"]) == (first["followups"], first["cases"])


async def test_report_of_the_current_month_counts_overdue_as_of_today(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    # Wed 25 Nov: a bad rating (call back by Thu 26) and a case (submit by Mon 30 Nov).
    await issue(client, hall, "enrol")
    t = await serve(client, hall, 1)
    assert (await rate_ticket(client, hall, t["id"], 2)).status_code == 201
    await issue(client, hall, "enrol")
    await serve(client, hall, 2, outcome="proxy")
    clock.set(datetime(2026, 11, 27, 10, 0, tzinfo=SHANGHAI))  # Friday, mid-month
    s = (await _november(client, hall))["summary"]
    assert s["逾期统计截至"] == "2026-11-27"
    assert (s["差评整改：逾期"], s["帮办代办：逾期未上报"]) == (1, 0)  # case due on the 30th
