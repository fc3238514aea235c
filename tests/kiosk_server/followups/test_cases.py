from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from kiosk_server.clock import FixedClock
from tests.factories import ID_YOUNG_1990, SHANGHAI, HallKit, issue, login_all, serve

pytestmark = pytest.mark.asyncio


async def _cases(client: httpx.AsyncClient, hall: HallKit, **params: str) -> list[dict]:
    r = await client.get(
        f"/api/v1/halls/{hall.code}/cases", params=params, headers=hall.auth("staff1")
    )
    assert r.status_code == 200, r.text
    rows: list[dict] = r.json()
    return rows


async def test_proxy_outcome_opens_case_with_working_day_deadline(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await issue(client, hall, "enrol", id_number=ID_YOUNG_1990)
    t = await serve(client, hall, 1, outcome="proxy")
    await issue(client, hall, "enrol")
    await serve(client, hall, 2)  # an ordinary finish opens nothing
    [c] = await _cases(client, hall)
    assert c["number"] == t["number"] and c["state"] == "accepted"
    assert c["staff"] == "demo-staff1" or c["staff"]
    # Materials complete Wed 25 Nov: Thu 26, Fri 27, Mon 30 Nov.
    assert (c["materials_complete_on"], c["deadline"]) == ("2026-11-25", "2026-11-30")
    # Masked reference only: never the ID number or any run of it.
    assert ID_YOUNG_1990 not in str(c) and ID_YOUNG_1990[6:14] not in c["resident_ref"]
    assert c["resident_ref"].startswith("20261125-" + t["number"] + "#")

    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI))
    [c] = await _cases(client, hall)
    assert c["overdue"] is True
    assert [x["id"] for x in await _cases(client, hall, overdue="true")] == [c["id"]]

    url = f"/api/v1/cases/{c['id']}"
    staff = hall.auth("staff1")
    r = await client.patch(url, json={"state": "handed_over"}, headers=staff)
    assert r.status_code == 409 and "submitted" in r.json()["error"]["details"]["allowed"]
    r = await client.patch(url, json={"state": "submitted"}, headers=staff)
    assert r.status_code == 200 and r.json()["overdue"] is False
    assert r.json()["submitted_late"] is True  # submitted on 1 Dec, due 30 Nov
    for state in ("result_returned", "handed_over"):
        r = await client.patch(url, json={"state": state}, headers=staff)
        assert r.status_code == 200 and r.json()["state"] == state
    assert [h["state"] for h in r.json()["history"]] == [
        "accepted",
        "submitted",
        "result_returned",
        "handed_over",
    ]
    assert await _cases(client, hall, state="handed_over") != []
    assert await _cases(client, hall, state="accepted") == []


async def test_deadline_across_national_day_and_make_up_saturday(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    clock.set(datetime(2026, 9, 29, 10, 0, tzinfo=SHANGHAI))  # Tuesday
    await login_all(client, hall)  # logins issued "later" than the moved clock are refused
    await issue(client, hall, "enrol")
    await serve(client, hall, 1, outcome="proxy")
    [c] = await _cases(client, hall)
    # Wed 30 Sep, then 1-7 Oct off: Thu 8 and Fri 9 Oct.
    assert (c["materials_complete_on"], c["deadline"]) == ("2026-09-29", "2026-10-09")
    clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI))  # the last paper came today
    r = await client.patch(
        f"/api/v1/cases/{c['id']}",
        json={"materials_complete_on": "2026-09-30"},
        headers=hall.auth("staff1"),
    )
    assert r.status_code == 200
    # 1-7 Oct off; Thu 8, Fri 9, and the make-up Saturday 10 Oct are the three days.
    assert r.json()["deadline"] == "2026-10-10"


async def test_materials_date_stays_between_service_day_and_today(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await issue(client, hall, "enrol")
    await serve(client, hall, 1, outcome="proxy")  # Wed 25 Nov, due Mon 30 Nov
    [c] = await _cases(client, hall)
    clock.set(datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI))
    url = f"/api/v1/cases/{c['id']}"
    staff = hall.auth("staff1")
    # A date in the future (or before the resident came) would hide the overdue case.
    for bad in ("2027-03-01", "2026-12-02", "2026-11-24"):
        r = await client.patch(url, json={"materials_complete_on": bad}, headers=staff)
        assert r.status_code == 422, bad
        err = r.json()["error"]
        assert err["code"] == "invalid_value" and bad in err["message"]
        assert err["details"] == {
            "field": "materials_complete_on",
            "earliest": "2026-11-25",
            "latest": "2026-12-01",
        }
    [still] = await _cases(client, hall)
    assert (still["materials_complete_on"], still["deadline"]) == ("2026-11-25", "2026-11-30")
    assert still["overdue"] is True
    # Within the bounds: accepted, and the log keeps the old values beside the new.
    r = await client.patch(url, json={"materials_complete_on": "2026-11-26"}, headers=staff)
    assert r.status_code == 200, r.text
    assert (r.json()["deadline"], r.json()["overdue"]) == ("2026-12-01", False)
    assert r.json()["history"][-1]["materials_complete_on"] == "2026-11-25 → 2026-11-26"
    audit = await client.get(
        f"/api/v1/halls/{hall.code}/audit",
        params={"action": "case.update"},
        headers=hall.auth("supervisor"),
    )
    entries = [e for e in audit.json()["entries"] if e["action"] == "case.update"]
    assert len(entries) == 1  # the refused attempts changed nothing
    detail = entries[0]["detail"]
    assert (detail["materials_complete_on_old"], detail["materials_complete_on"]) == (
        "2026-11-25",
        "2026-11-26",
    )
    assert (detail["deadline_old"], detail["deadline"]) == ("2026-11-30", "2026-12-01")
    assert entries[0]["actor"] == "demo-staff1"


async def test_resident_details_are_stored_masked(client: httpx.AsyncClient, hall: HallKit) -> None:
    await issue(client, hall, "enrol")
    await serve(client, hall, 1, outcome="proxy")
    [c] = await _cases(client, hall)
    r = await client.patch(
        f"/api/v1/cases/{c['id']}",
        json={"resident_name": "张小三", "resident_phone": "13812345678"},
        headers=hall.auth("staff1"),
    )
    assert r.status_code == 200
    ref = r.json()["resident_ref"]
    assert "张*三" in ref and "138****5678" in ref and "小" not in ref
    assert "13812345678" not in str(await _cases(client, hall))


async def test_accepting_a_returned_case_again_needs_a_new_materials_date(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await issue(client, hall, "enrol")
    await serve(client, hall, 1, outcome="proxy")  # Wed 25 Nov, due Mon 30 Nov
    [c] = await _cases(client, hall)
    url = f"/api/v1/cases/{c['id']}"
    staff = hall.auth("staff1")
    clock.set(datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI))
    r = await client.patch(url, json={"state": "returned_incomplete"}, headers=staff)
    assert r.status_code == 200, r.text
    # The resident brings the missing paper on Thu 3 Dec, after the old deadline.
    clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=SHANGHAI))
    r = await client.patch(url, json={"state": "accepted"}, headers=staff)
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert "materials_complete_on" in err["message"] and "材料齐全日期" in err["message"]
    assert err["details"] == {
        "field": "materials_complete_on",
        "earliest": "2026-11-26",
        "latest": "2026-12-03",
    }
    # The papers were incomplete when the case was returned: no date before that.
    r = await client.patch(
        url, json={"state": "accepted", "materials_complete_on": "2026-11-25"}, headers=staff
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["earliest"] == "2026-11-26"
    [still] = await _cases(client, hall)
    assert (still["state"], still["deadline"]) == ("returned_incomplete", "2026-11-30")

    r = await client.patch(
        url, json={"state": "accepted", "materials_complete_on": "2026-12-03"}, headers=staff
    )
    assert r.status_code == 200, r.text
    body = r.json()
    # Three working days from Thu 3 Dec: Fri 4, Mon 7, Tue 8 Dec; not overdue at once.
    assert (body["state"], body["materials_complete_on"], body["deadline"]) == (
        "accepted",
        "2026-12-03",
        "2026-12-08",
    )
    assert body["overdue"] is False
    assert body["history"][-1]["materials_complete_on"] == "2026-11-25 → 2026-12-03"
    clock.set(datetime(2026, 12, 9, 9, 0, tzinfo=SHANGHAI))
    [late] = await _cases(client, hall)
    assert late["overdue"] is True
