"""Held tickets in the counter snapshot (for the 回呼 picker), and transfer chains."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from tests.factories import HallKit, act, issue, login, make_hall

pytestmark = pytest.mark.asyncio


async def snapshot(client: httpx.AsyncClient, hall: HallKit, at: int, who: str) -> httpx.Response:
    return await client.get(f"/api/v1/counters/{hall.counter_ids[at]}", headers=hall.auth(who))


async def hold_next(client: httpx.AsyncClient, hall: HallKit, at: int) -> str:
    r = await act(client, hall, at, "call-next")
    number: str = r.json()["ticket"]["number"]
    r = await act(client, hall, at, "hold")
    assert r.status_code == 200 and r.json()["ticket"]["state"] == "held", r.text
    return number


async def test_snapshot_lists_the_halls_held_tickets_this_counters_first(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    for _ in range(3):
        await issue(client, hall, "enrol")
        clock.advance(seconds=5)
    held_at_2 = await hold_next(client, hall, 2)
    clock.advance(seconds=5)
    held_at_1 = await hold_next(client, hall, 1)

    body = (await snapshot(client, hall, 1, "staff1")).json()
    assert [(h["number"], h["counter"], h["here"]) for h in body["held"]] == [
        (held_at_1, 1, True),
        (held_at_2, 2, False),
    ]
    assert body["held"][0]["service"] == "enrol" and body["held"][0]["service_name"]
    # The other counter sees the same holds, its own first.
    other = (await snapshot(client, hall, 2, "staff2")).json()
    assert [h["number"] for h in other["held"]] == [held_at_2, held_at_1]

    # Calling one back takes it off the list, in the action's own answer too.
    r = await act(client, hall, 1, "call", number=held_at_2)
    assert r.status_code == 200 and r.json()["ticket"]["state"] == "called"
    assert [h["number"] for h in r.json()["counter"]["held"]] == [held_at_1]
    # Tickets neither held nor of this hall never appear.
    assert [h["number"] for h in (await snapshot(client, hall, 3, "staff3")).json()["held"]] == [
        held_at_1
    ]


async def test_holds_of_an_earlier_day_are_not_offered(
    client: httpx.AsyncClient, hall: HallKit, clock: FixedClock
) -> None:
    await issue(client, hall, "enrol")
    await hold_next(client, hall, 1)
    assert len((await snapshot(client, hall, 1, "staff1")).json()["held"]) == 1
    clock.advance(days=1)
    await login(client, hall, "demo-staff1", "staff1")  # yesterday's login has expired
    assert (await snapshot(client, hall, 1, "staff1")).json()["held"] == []


async def test_held_list_follows_the_counter_snapshots_access_rules(
    client: httpx.AsyncClient, hall: HallKit, ctx: AppContext
) -> None:
    await issue(client, hall, "enrol")
    await hold_next(client, hall, 1)
    # A kiosk or a display is not staff.
    for device in ("kiosk", "display"):
        r = await snapshot(client, hall, 1, device)
        assert r.status_code == 403, r.text
    # Staff of another hall may not read this hall's counters.
    other = await make_hall(ctx, "other")
    await login(client, other, "other-staff", "staff")
    r = await client.get(f"/api/v1/counters/{hall.counter_ids[1]}", headers=other.auth("staff"))
    assert r.status_code == 403 and "held" not in r.text
    # And the other hall's own counter shows none of this hall's holds.
    r = await client.get(f"/api/v1/counters/{other.counter_ids[1]}", headers=other.auth("staff"))
    assert r.status_code == 200 and r.json()["held"] == []


async def status(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    r = await client.get(f"/api/v1/tickets/{token}")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def token_of(ticket: dict[str, Any]) -> str:
    token: str = ticket["status_url"].rsplit("/t/", 1)[1]
    return token


async def test_six_transfers_keep_the_first_qr_on_the_live_ticket(
    client: httpx.AsyncClient, hall: HallKit
) -> None:
    first = await issue(client, hall, "enrol")
    tokens = [token_of(first)]
    at = 1
    for n in range(6):
        r = await act(client, hall, at, "call-next")
        assert r.json()["ticket"]["number"] == first["number"], r.text
        to = 2 if at == 1 else 1
        r = await act(client, hall, at, "transfer", counter=to)
        assert r.status_code == 200, f"transfer {n + 1}: {r.text}"
        moved = r.json()["ticket"]
        # A fresh token each time, as long as an issued one however long the chain
        # (the column holds 40 characters), never reused.
        token = token_of(moved)
        assert len(token) == len(tokens[0]) and token not in tokens
        tokens.append(token)
        at = to
    # Every link of the chain, the resident's original QR above all, shows the
    # live ticket: waiting for counter 1 ...
    for token in tokens:
        s = await status(client, token)
        assert s["number"] == first["number"] and s["state"] == "waiting"
    # ... and, once called, called to that counter.
    r = await act(client, hall, at, "call-next")
    assert r.json()["ticket"]["number"] == first["number"]
    s = await status(client, tokens[0])
    assert s["state"] == "called" and s["counter"] == at
    ticket = await client.get(
        f"/api/v1/tickets/by-id/{r.json()['ticket']['id']}", headers=hall.auth("staff")
    )
    assert ticket.json()["state"] == "called"
