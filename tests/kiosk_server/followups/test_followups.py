from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from kiosk_server.clock import FixedClock
from tests.factories import SHANGHAI, HallKit, issue, rate_ticket, serve

pytestmark = pytest.mark.asyncio


async def _bad_rating(client: httpx.AsyncClient, hall: HallKit, score: int = 1) -> dict:
    await issue(client, hall, "enrol")
    t = await serve(client, hall, 1)
    r = await rate_ticket(client, hall, t["id"], score)
    assert r.status_code == 201, r.text
    return t


async def _followups(client: httpx.AsyncClient, hall: HallKit, **params: str) -> list[dict]:
    r = await client.get(
        f"/api/v1/halls/{hall.code}/followups", params=params, headers=hall.auth("supervisor")
    )
    assert r.status_code == 200, r.text
    rows: list[dict] = r.json()
    return rows


async def test_bad_rating_opens_follow_up_that_becomes_overdue(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    t = await _bad_rating(client, hall, 1)
    [f] = await _followups(client, hall)
    assert (f["number"], f["score"], f["score_label"], f["counter"]) == (
        t["number"],
        1,
        "非常不满意",
        1,
    )
    # Opened Wed 25 Nov: call back by Thu 26, resolve within 5 working days (Wed 2 Dec).
    assert (f["callback_due"], f["resolve_due"]) == ("2026-11-26", "2026-12-02")
    assert f["state"] == "open" and f["overdue"] is False

    clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI))
    [f] = await _followups(client, hall)
    assert f["callback_overdue"] is True and f["overdue"] is True
    assert [x["id"] for x in await _followups(client, hall, overdue="true")] == [f["id"]]

    url = f"/api/v1/followups/{f['id']}"
    sup = hall.auth("supervisor")
    r = await client.patch(
        url, json={"called_back": True, "callback_note": "已电话回访"}, headers=sup
    )
    assert r.status_code == 200 and r.json()["state"] == "called_back"
    assert r.json()["callback_overdue"] is False and r.json()["overdue"] is False

    clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=SHANGHAI))
    [f] = await _followups(client, hall)
    assert f["resolve_overdue"] is True

    r = await client.patch(url, json={"resolved": True}, headers=sup)
    assert r.status_code == 409  # cause and action first
    r = await client.patch(
        url,
        json={
            "cause": "等候过久",
            "action_taken": "增开窗口",
            "second_opinion": 4,
            "resolved": True,
        },
        headers=sup,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "resolved" and body["overdue"] is False
    assert body["second_opinion"] == 4 and body["updated_by"] == "demo-supervisor"

    audit = await client.get(
        f"/api/v1/halls/{hall.code}/audit", params={"action": "followup.update"}, headers=sup
    )
    # The refused close (409) rolled back: two edits are recorded.
    assert [e["detail"].get("state") for e in audit.json()["entries"]] == [
        "resolved",
        "called_back",
    ]


async def test_only_the_two_lowest_levels_open_one(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await _bad_rating(client, hall, 3)
    assert await _followups(client, hall) == []
    await _bad_rating(client, hall, 2)
    assert [f["score"] for f in await _followups(client, hall)] == [2]


async def test_staff_cannot_read_or_edit_follow_ups(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await _bad_rating(client, hall, 1)
    r = await client.get(f"/api/v1/halls/{hall.code}/followups", headers=hall.auth("staff1"))
    assert r.status_code == 403
    [f] = await _followups(client, hall)
    r = await client.patch(
        f"/api/v1/followups/{f['id']}", json={"cause": "x"}, headers=hall.auth("staff1")
    )
    assert r.status_code == 403


async def test_resolution_days_follow_the_hall_setting(
    client: httpx.AsyncClient, hall: HallKit, ctx: object
) -> None:
    from kiosk_server.context import AppContext
    from kiosk_server.db.uow import unit_of_work
    from kiosk_server.halls import repository as halls_repo

    assert isinstance(ctx, AppContext)
    async with unit_of_work(ctx.db) as uow:
        h = await halls_repo.get_hall(uow.session, hall.code)
        h.policy = {**h.policy, "followup_resolve_days": 10}
    await _bad_rating(client, hall, 1)
    [f] = await _followups(client, hall)
    assert f["resolve_due"] == "2026-12-09"  # 10 working days after Wed 25 Nov
