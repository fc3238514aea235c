"""Notices through the API: dates, the hall-screen snapshot, events, audit, access."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from kiosk_server.audit.models import AuditEntry
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.events.models import EventRow
from kiosk_server.notices.service import announce_date_changes
from tests.factories import HallKit

pytestmark = pytest.mark.asyncio

STANDING = "医保服务热线 0512-12393 · 过号请重新取号 · 老年人、残疾人优先办理（绿色通道）"


async def events(ctx: AppContext, hall_id: int, type_: str) -> list[dict[str, Any]]:
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = await uow.session.execute(
            select(EventRow).where(EventRow.hall_id == hall_id, EventRow.type == type_)
        )
        return [r.data for r in rows.scalars()]


async def snapshot(client: httpx.AsyncClient, kit: HallKit) -> dict[str, Any]:
    r = await client.get(f"/api/v1/halls/{kit.code}/display")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def add(
    client: httpx.AsyncClient, kit: HallKit, *, who: str = "admin", **body: Any
) -> httpx.Response:
    return await client.post(f"/api/v1/halls/{kit.code}/notices", json=body, headers=kit.auth(who))


async def test_active_scroll_notice_joins_the_line_and_policy_notice_is_listed(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    r = await add(
        client,
        hall,
        kind="scroll",
        text="12月1日起城乡居民医保开始缴费",
        start_date="2026-11-20",
        end_date="2026-11-30",
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "active" and r.json()["active"] is True
    r = await add(
        client,
        hall,
        kind="policy",
        title="门诊慢特病认定",
        text="每月15日集中评审",
        start_date="2026-11-25",
        end_date="2026-11-25",
    )
    assert r.status_code == 201
    future = await add(
        client, hall, kind="scroll", text="元旦放假", start_date="2026-12-30", end_date="2027-01-01"
    )
    assert future.json()["status"] == "scheduled"
    snap = await snapshot(client, hall)
    assert snap["notice"] == STANDING + " · 12月1日起城乡居民医保开始缴费"
    assert [(n["kind"], n["title"]) for n in snap["notices"]] == [
        ("scroll", ""),
        ("policy", "门诊慢特病认定"),
    ]
    # Each change went out as hall.updated carrying the line the screen shows.
    sent = await events(ctx, hall.hall_id, "hall.updated")
    assert len(sent) == 3
    assert sent[-1]["notice"] == snap["notice"]
    assert [n["text"] for n in sent[-1]["notices"]] == [n["text"] for n in snap["notices"]]
    async with unit_of_work(ctx.db, write=False) as uow:
        rows = await uow.session.execute(select(AuditEntry.action, AuditEntry.actor))
        actions = [(a, b) for a, b in rows]
    assert actions.count(("notice.create", "demo-admin")) == 3


async def test_edit_and_delete_change_the_screen(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    r = await add(
        client, hall, kind="scroll", text="旧通知", start_date="2026-11-01", end_date="2026-12-31"
    )
    nid = r.json()["id"]
    r = await client.patch(
        f"/api/v1/notices/{nid}", json={"text": "新通知"}, headers=hall.auth("admin")
    )
    assert r.status_code == 200 and r.json()["text"] == "新通知"
    assert (await snapshot(client, hall))["notice"].endswith(" · 新通知")
    # Moving its end before today takes it off the screen.
    r = await client.patch(
        f"/api/v1/notices/{nid}", json={"end_date": "2026-11-24"}, headers=hall.auth("admin")
    )
    assert r.json()["status"] == "expired"
    assert (await snapshot(client, hall))["notice"] == STANDING
    r = await client.delete(f"/api/v1/notices/{nid}", headers=hall.auth("admin"))
    assert r.status_code == 204
    r = await client.get(f"/api/v1/halls/{hall.code}/notices", headers=hall.auth("supervisor"))
    assert r.json() == []
    changes = [e["change"] for e in await events(ctx, hall.hall_id, "hall.updated")]
    assert changes == ["created", "updated", "updated", "deleted"]


async def test_end_before_start_is_refused_with_a_field(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    r = await add(
        client, hall, kind="scroll", text="x", start_date="2026-11-25", end_date="2026-11-24"
    )
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["details"]["field"] == "end_date" and "结束日期不能早于开始日期" in err["message"]
    ok = await add(
        client, hall, kind="scroll", text="x", start_date="2026-11-25", end_date="2026-11-26"
    )
    r = await client.patch(
        f"/api/v1/notices/{ok.json()['id']}",
        json={"start_date": "2026-11-27"},
        headers=hall.auth("admin"),
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "end_date"


async def test_only_admins_of_the_hall_write(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    body = {"kind": "scroll", "text": "x", "start_date": "2026-11-25", "end_date": "2026-11-25"}
    assert (await add(client, hall, who="supervisor", **body)).status_code == 403
    assert (await add(client, hall, who="kiosk", **body)).status_code == 403
    r = await client.get(f"/api/v1/halls/{hall.code}/notices", headers=hall.auth("staff"))
    assert r.status_code == 403
    from tests.factories import login, make_hall

    other = await make_hall(ctx, "other")
    await login(client, other, "other-admin", "admin")
    r = await add(client, other, **body)
    assert r.status_code == 201
    r = await client.patch(
        f"/api/v1/notices/{r.json()['id']}", json={"text": "y"}, headers=hall.auth("admin")
    )
    assert r.status_code == 403


async def test_midnight_changes_the_active_set_and_the_duty_announces_it(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext, clock: FixedClock
) -> None:
    await add(
        client, hall, kind="scroll", text="明天起", start_date="2026-11-26", end_date="2026-11-26"
    )
    assert await announce_date_changes(ctx) == 0  # nothing changed today
    before = len(await events(ctx, hall.hall_id, "hall.updated"))
    clock.advance(hours=14)  # Thursday 00:00 in Shanghai
    assert await announce_date_changes(ctx) == 1
    sent = await events(ctx, hall.hall_id, "hall.updated")
    assert len(sent) == before + 1
    assert sent[-1]["change"] == "date" and sent[-1]["notice"].endswith(" · 明天起")
    assert await announce_date_changes(ctx) == 0  # announced once
    clock.advance(days=1)
    assert await announce_date_changes(ctx) == 1
    assert (await snapshot(client, hall))["notice"] == STANDING


async def test_hall_settings_change_keeps_dated_notices_in_the_event(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    await add(
        client,
        hall,
        kind="scroll",
        text="本周六延时服务",
        start_date="2026-11-23",
        end_date="2026-11-29",
    )
    r = await client.patch(
        f"/api/v1/halls/{hall.code}", json={"notice": "欢迎"}, headers=hall.auth("admin")
    )
    assert r.status_code == 200
    sent = await events(ctx, hall.hall_id, "hall.updated")
    assert sent[-1]["notice"] == "欢迎 · 本周六延时服务"
    assert (await snapshot(client, hall))["notice"] == "欢迎 · 本周六延时服务"
