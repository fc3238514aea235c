from __future__ import annotations

import csv
import io

import httpx
import pytest

from kiosk_server.clock import FixedClock
from tests.factories import HallKit, act, issue, rate_ticket

pytestmark = pytest.mark.asyncio


async def test_every_action_of_a_run_is_in_the_log_and_it_cannot_be_edited(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await issue(client, hall, "enrol")
    await issue(client, hall, "payment")
    assert (await act(client, hall, 1, "call-next")).status_code == 200
    assert (await act(client, hall, 1, "start")).status_code == 200
    clock.advance(minutes=3)
    r = await act(client, hall, 1, "finish", outcome="completed")
    assert r.status_code == 200
    finished = r.json()["ticket"]
    assert (await act(client, hall, 2, "call-next")).status_code == 200
    assert (await act(client, hall, 2, "transfer", service="enrol")).status_code == 200
    r = await client.patch(
        f"/api/v1/halls/{hall.code}", json={"hotline": "12393"}, headers=hall.auth("admin")
    )
    assert r.status_code == 200, r.text
    assert (await rate_ticket(client, hall, finished["id"], 2)).status_code == 201
    sup = hall.auth("supervisor")
    [f] = (await client.get(f"/api/v1/halls/{hall.code}/followups", headers=sup)).json()
    r = await client.patch(f"/api/v1/followups/{f['id']}", json={"cause": "解释不清"}, headers=sup)
    assert r.status_code == 200

    url = f"/api/v1/halls/{hall.code}/audit"
    r = await client.get(url, headers=sup)
    assert r.status_code == 200
    entries = r.json()["entries"]
    got = [(e["actor"], e["action"]) for e in reversed(entries)]
    assert got == [
        ("demo-staff1", "ticket.call"),
        ("demo-staff1", "ticket.start"),
        ("demo-staff1", "ticket.finish"),
        ("demo-staff2", "ticket.call"),
        ("demo-staff2", "ticket.transfer"),
        ("demo-admin", "hall.update"),
        ("system", "followup.open"),
        ("demo-supervisor", "followup.update"),
    ]
    assert entries[0]["detail"]["cause"] == "解释不清"
    assert entries[0]["at"].endswith("+08:00")  # shown in the hall's time

    # Filters and paging.
    r = await client.get(url, params={"actor": "demo-staff2"}, headers=sup)
    assert [e["action"] for e in r.json()["entries"]] == ["ticket.transfer", "ticket.call"]
    r = await client.get(url, params={"limit": 3}, headers=sup)
    page = r.json()
    assert len(page["entries"]) == 3 and page["next_before_id"] == page["entries"][-1]["id"]
    r = await client.get(url, params={"before_id": page["next_before_id"]}, headers=sup)
    assert len(r.json()["entries"]) == 5
    r = await client.get(url, params={"from": "2026-11-26"}, headers=sup)
    assert r.json()["entries"] == []

    # Export.
    r = await client.get(url, params={"format": "csv"}, headers=sup)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0] == ["编号", "时间", "操作人", "操作", "对象", "详情"]
    assert len(rows) == 9 and rows[-1][3] == "ticket.call"

    # Nobody edits it: no write method exists, for any role.
    entry = f"{url}/{entries[0]['id']}"
    for method in ("PUT", "PATCH", "DELETE"):
        r = await client.request(method, entry, json={}, headers=hall.auth("admin"))
        assert r.status_code in (404, 405), (method, r.status_code)
        r = await client.request(method, url, json={}, headers=hall.auth("admin"))
        assert r.status_code == 405, (method, r.status_code)
    r = await client.post(url, json={"action": "forged"}, headers=hall.auth("admin"))
    assert r.status_code == 405
    again = (await client.get(url, headers=sup)).json()["entries"]
    assert again == entries


async def test_staff_cannot_read_the_log(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await client.get(f"/api/v1/halls/{hall.code}/audit", headers=hall.auth("staff1"))
    assert r.status_code == 403
    r = await client.get(f"/api/v1/halls/{hall.code}/audit")
    assert r.status_code == 401
