from __future__ import annotations

import httpx
import pytest

from kiosk_server.clock import FixedClock
from tests.factories import ID_ELDERLY_1949, HallKit, act, issue

pytestmark = pytest.mark.asyncio


async def test_full_transaction_is_timed(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    t = await issue(client, hall, "enrol")
    clock.advance(minutes=4)
    r = await act(client, hall, 3, "call-next")
    assert r.status_code == 200
    body = r.json()
    assert body["ticket"]["number"] == t["number"] and body["ticket"]["state"] == "called"
    assert body["ticket"]["counter"] == 3 and body["counter"]["ticket"]["number"] == "A001"
    assert (await act(client, hall, 3, "start")).status_code == 200
    clock.advance(minutes=8, seconds=30)
    counter = await client.get(
        f"/api/v1/counters/{hall.counter_ids[3]}", headers=hall.auth("staff3")
    )
    assert counter.json()["elapsed_seconds"] == 510 and counter.json()["clock"] == "amber"
    r = await act(client, hall, 3, "finish", outcome="incomplete_papers")
    assert r.status_code == 200
    done = r.json()["ticket"]
    assert done["state"] == "done" and done["outcome"] == "incomplete_papers"
    called, started, finished = done["called_at"], done["started_at"], done["finished_at"]
    assert called and started and finished
    assert r.json()["counter"]["ticket"] is None


async def test_call_next_with_nobody_waiting(client: httpx.AsyncClient, hall: HallKit) -> None:
    r = await act(client, hall, 1, "call-next")
    assert r.status_code == 200 and r.json()["ticket"] is None


async def test_green_burst_through_the_api(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    normal = await issue(client, hall, "enrol")
    greens = []
    for _ in range(3):
        clock.advance(seconds=10)
        greens.append(await issue(client, hall, "payment", channel="green"))
    order = []
    for _ in range(4):
        r = await act(client, hall, 1, "call-next")
        order.append(r.json()["ticket"]["number"])
        await act(client, hall, 1, "no-show")
    assert order == [
        greens[0]["number"],
        greens[1]["number"],
        normal["number"],
        greens[2]["number"],
    ]


async def test_recall_limit_then_no_show(client: httpx.AsyncClient, hall: HallKit) -> None:
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    for n in range(1, 4):
        r = await act(client, hall, 1, "recall")
        assert r.status_code == 200 and r.json()["ticket"]["recall_count"] == n
    r = await act(client, hall, 1, "recall")
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["code"] == "invalid_transition" and "no-show" in err["message"]
    assert (await act(client, hall, 1, "no-show")).json()["ticket"]["state"] == "no_show"


async def test_forbidden_transitions_say_what_is_allowed(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    r = await act(client, hall, 1, "finish", outcome="completed")
    assert r.status_code == 409
    err = r.json()["error"]
    assert err["details"]["state"] == "called"
    assert set(err["details"]["allowed"]) == {"recall", "start", "no_show", "hold", "transfer"}
    r = await act(client, hall, 1, "call-next")
    assert r.status_code == 409 and "A001" in r.json()["error"]["message"]


async def test_hold_and_call_back(client: httpx.AsyncClient, hall: HallKit) -> None:
    await issue(client, hall, "enrol")
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "start")
    r = await act(client, hall, 1, "hold")
    assert r.json()["ticket"]["state"] == "held" and r.json()["counter"]["ticket"] is None
    nxt = await act(client, hall, 1, "call-next")
    assert nxt.json()["ticket"]["number"] == "A002"
    await act(client, hall, 1, "no-show")
    back = await act(client, hall, 1, "call", number="A001")
    assert back.status_code == 200 and back.json()["ticket"]["state"] == "called"


async def test_transfer_keeps_number_and_place(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    first = await issue(client, hall, "enrol")
    clock.advance(minutes=1)
    await issue(client, hall, "payment")
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "start")
    r = await act(client, hall, 1, "transfer", service="payment")
    assert r.status_code == 200
    moved = r.json()["ticket"]
    assert (
        moved["number"] == "A001" and moved["service"] == "payment" and moved["state"] == "waiting"
    )
    # It keeps its original issue time, so it is called before C001.
    nxt = await act(client, hall, 2, "call-next")
    assert nxt.json()["ticket"]["number"] == "A001"
    token = first["status_url"].rsplit("/", 1)[1]
    status = (await client.get(f"/api/v1/tickets/{token}")).json()
    assert status["state"] == "called" and status["counter"] == 2 and status["service"] == "payment"


async def test_transfer_to_a_counter(client: httpx.AsyncClient, hall: HallKit) -> None:
    await issue(client, hall, "enrol")
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    r = await act(client, hall, 1, "transfer", counter=4)
    assert r.status_code == 200
    # Counter 2 skips the ticket meant for counter 4.
    assert (await act(client, hall, 2, "call-next")).json()["ticket"]["number"] == "A002"
    assert (await act(client, hall, 4, "call-next")).json()["ticket"]["number"] == "A001"


async def test_pause_blocks_calls_until_resume(client: httpx.AsyncClient, hall: HallKit) -> None:
    await issue(client, hall, "enrol")
    assert (await act(client, hall, 1, "pause")).json()["counter"]["state"] == "paused"
    r = await act(client, hall, 1, "call-next")
    assert r.status_code == 409 and "resume" in r.json()["error"]["message"]
    await act(client, hall, 1, "resume")
    assert (await act(client, hall, 1, "call-next")).json()["ticket"]["number"] == "A001"


async def test_staff_cannot_use_a_counter_another_signed_into(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next", who="staff1")
    r = await act(client, hall, 1, "recall", who="staff2")
    assert r.status_code == 409 and "signed in" in r.json()["error"]["message"]
    assert (await act(client, hall, 1, "recall", who="supervisor")).status_code == 200


@pytest.mark.parametrize("outcome", ["completed", "incomplete_papers", "informed", "proxy"])
async def test_outcomes(client: httpx.AsyncClient, hall: HallKit, outcome: str) -> None:
    await issue(client, hall, "enrol", id_number=ID_ELDERLY_1949)
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "start")
    r = await act(client, hall, 1, "finish", outcome=outcome)
    assert r.json()["ticket"]["outcome"] == outcome


async def test_bad_outcome_is_422_and_changes_nothing(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    await issue(client, hall, "enrol")
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "start")
    r = await act(client, hall, 1, "finish", outcome="magic")
    assert r.status_code == 422 and r.json()["error"]["code"] == "malformed_request"
    counter = await client.get(
        f"/api/v1/counters/{hall.counter_ids[1]}", headers=hall.auth("staff1")
    )
    assert counter.json()["ticket"]["state"] == "serving"


async def test_rating_once_per_finished_ticket(client: httpx.AsyncClient, hall: HallKit) -> None:
    t = await issue(client, hall, "enrol")
    token = t["status_url"].rsplit("/", 1)[1]
    r = await client.post(f"/api/v1/tickets/{token}/rating", json={"score": 5})
    assert r.status_code == 409  # not served yet
    await act(client, hall, 1, "call-next")
    await act(client, hall, 1, "start")
    await act(client, hall, 1, "finish", outcome="completed")
    r = await client.post(
        f"/api/v1/tickets/{t['id']}/rating",
        json={"score": 2, "reason": "等候时间长"},
        headers=hall.auth("pad"),
    )
    assert r.status_code == 201 and r.json()["label"] == "不满意"
    again = await client.post(f"/api/v1/tickets/{token}/rating", json={"score": 5})
    assert again.status_code == 409
    r = await client.post(f"/api/v1/tickets/{t['id']}/rating", json={"score": 5})
    assert r.status_code == 403
    bad = await client.post(f"/api/v1/tickets/{token}/rating", json={"score": 6})
    assert bad.status_code == 422


async def test_action_responses_name_who_served(client: httpx.AsyncClient, hall: HallKit) -> None:
    await issue(client, hall, "enrol")
    called = (await act(client, hall, 1, "call-next")).json()
    assert called["ticket"]["served_by"] is None  # called, nobody has served it yet
    started = (await act(client, hall, 1, "start")).json()
    assert started["ticket"]["served_by"] == "demo-staff1"
    assert started["counter"]["ticket"]["served_by"] == "demo-staff1"
    counter = await client.get(
        f"/api/v1/counters/{hall.counter_ids[1]}", headers=hall.auth("staff1")
    )
    assert counter.json()["ticket"]["served_by"] == "demo-staff1"
    # A supervisor closing it at counter 1 does not take the credit.
    done = (await act(client, hall, 1, "finish", who="supervisor", outcome="completed")).json()
    assert done["ticket"]["served_by"] == "demo-staff1"
    by_id = await client.get(
        f"/api/v1/tickets/by-id/{done['ticket']['id']}", headers=hall.auth("staff1")
    )
    assert by_id.json()["served_by"] == done["ticket"]["served_by"]


async def test_a_rating_pad_rates_only_its_own_counters_tickets(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    # The kit's pad stands at counter 1; a ticket served at counter 2 is not its to rate.
    t = await issue(client, hall, "enrol")
    await act(client, hall, 2, "call-next")
    await act(client, hall, 2, "start")
    await act(client, hall, 2, "finish", outcome="completed")
    r = await client.post(
        f"/api/v1/tickets/{t['id']}/rating", json={"score": 1}, headers=hall.auth("pad")
    )
    assert r.status_code == 403 and "another counter" in r.json()["error"]["message"]
    # The resident can still rate it from the phone.
    token = t["status_url"].rsplit("/", 1)[1]
    r = await client.post(f"/api/v1/tickets/{token}/rating", json={"score": 5})
    assert r.status_code == 201
