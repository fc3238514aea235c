"""A small hall day driven through the API, shared by the stats tests and the page test.

10:00 A001 issued; 10:05 called at counter 1 (wait 5), served 12 min (over 10).
10:17 A002 issued; 10:20 called at counter 2 (wait 3), served 6 min.
10:26 A003 issued and called at counter 1 at once (wait 0): no-show.
A001 rated 1 (opens a follow-up), A002 rated 5.
"""

from __future__ import annotations

from typing import Any

import httpx

from kiosk_server.clock import FixedClock
from tests.factories import HallKit, act, issue, rate_ticket


async def seed_day(client: httpx.AsyncClient, hall: HallKit, clock: FixedClock) -> dict[str, Any]:
    t1 = await issue(client, hall, "enrol")
    clock.advance(minutes=5)
    assert (await act(client, hall, 1, "call-next")).status_code == 200
    assert (await act(client, hall, 1, "start")).status_code == 200
    clock.advance(minutes=12)
    r = await act(client, hall, 1, "finish", outcome="completed")
    assert r.status_code == 200, r.text
    t2 = await issue(client, hall, "enrol")
    clock.advance(minutes=3)
    assert (await act(client, hall, 2, "call-next")).status_code == 200
    assert (await act(client, hall, 2, "start")).status_code == 200
    clock.advance(minutes=6)
    assert (await act(client, hall, 2, "finish", outcome="completed")).status_code == 200
    t3 = await issue(client, hall, "enrol")
    assert (await act(client, hall, 1, "call-next")).status_code == 200
    assert (await act(client, hall, 1, "no-show")).status_code == 200
    assert (await rate_ticket(client, hall, t1["id"], 1)).status_code == 201
    assert (await rate_ticket(client, hall, t2["id"], 5)).status_code == 201
    return {"tickets": [t1, t2, t3]}
