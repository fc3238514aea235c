"""The public hall-screen socket carries display-safe events only.

Ratings and follow-ups (score, number, counter) reach staff sockets; a screen
gets a seq-only placeholder instead, so its seq stays gap-free and a call after
a rating arrives with the seq the staff side sees.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets

from kiosk_server.context import AppContext
from kiosk_server.events.display import DISPLAY_TYPES
from tests.conftest import LiveServer
from tests.factories import HallKit, act, issue, login_all, make_hall, rate_ticket, serve

pytestmark = pytest.mark.asyncio
PLACEHOLDER_KEYS = {"seq", "type", "hall"}


async def recv(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return data


async def until(ws: Any, type_: str, nth: int = 1) -> list[dict[str, Any]]:
    """Messages up to and including the ``nth`` of ``type_``."""
    got: list[dict[str, Any]] = []
    while sum(m["type"] == type_ for m in got) < nth:
        got.append(await recv(ws))
    return got


async def setup(client: httpx.AsyncClient, ctx: AppContext) -> HallKit:
    kit = await make_hall(ctx)
    await login_all(client, kit)
    return kit


async def served_and_rated_badly(client: httpx.AsyncClient, kit: HallKit) -> dict[str, Any]:
    """A is served at counter 1 and rated 1 (opens a follow-up); B is then called."""
    await issue(client, kit)
    await issue(client, kit)
    first = await serve(client, kit, 1, outcome="incomplete_papers")
    r = await rate_ticket(client, kit, first["id"], 1)
    assert r.status_code == 201, r.text
    r = await act(client, kit, 1, "call-next")
    assert r.status_code == 200, r.text
    return first


def assert_display_safe(msgs: list[dict[str, Any]], start: int) -> None:
    events = [m for m in msgs if m["type"] not in ("hello", "resync")]
    # Gap-free: every seq after the start arrives, in order, once.
    assert [m["seq"] for m in events] == list(range(start + 1, start + 1 + len(events)))
    for m in events:
        if m["type"] == "hidden":
            assert set(m) == PLACEHOLDER_KEYS, m  # no type, time or data leaks through
        else:
            assert m["type"] in DISPLAY_TYPES, m
    text = json.dumps(msgs, ensure_ascii=False)
    assert "rating" not in text and "followup" not in text and "score" not in text
    finished = [m for m in events if m["type"] == "ticket.finished"]
    private = {"outcome", "service_seconds", "over_target"}
    assert finished and all(not private & set(m["data"]) for m in finished), finished


async def test_rating_and_follow_up_never_reach_a_live_screen(
    live: LiveServer, ctx: AppContext
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await setup(client, ctx)
        staff = await websockets.connect(
            f"{live.ws_url}/ws/staff?token={kit.tokens['staff']}&hall={kit.code}"
        )
        screen = await websockets.connect(f"{live.ws_url}/ws/halls/{kit.code}/display")
        try:
            start = (await recv(staff))["seq"]
            hello = await recv(screen)
            assert hello == {"type": "hello", "hall": kit.code, "seq": start}
            await served_and_rated_badly(client, kit)
            # Staff do see both (otherwise this test would prove nothing).
            staff_msgs = await until(staff, "ticket.called", 2)
            staff_types = [m["type"] for m in staff_msgs]
            # The follow-up rides in the rating's own event: a bad rating is one
            # event, like a good one, so counting placeholders tells nothing.
            rated = [m for m in staff_msgs if m["type"] == "rating.created"]
            assert len(rated) == 1 and rated[0]["data"]["followup_id"] is not None
            assert not [t for t in staff_types if t.startswith("followup.")]
            assert staff_types[-1] == "ticket.called"
            screen_msgs = await until(screen, "ticket.called", 2)
            assert_display_safe(screen_msgs, start)
            assert [m["seq"] for m in screen_msgs] == [m["seq"] for m in staff_msgs]
            assert screen_msgs[-1]["data"]["number"] == staff_msgs[-1]["data"]["number"]
            hidden = [m["seq"] for m in screen_msgs if m["type"] == "hidden"]
            assert hidden == [m["seq"] for m in staff_msgs if m["type"].split(".")[0] in (
                "rating", "followup")]  # fmt: skip
        finally:
            await staff.close()
            await screen.close()


async def test_catch_up_with_since_withholds_them_too(live: LiveServer, ctx: AppContext) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await setup(client, ctx)
        start = (await client.get(f"/api/v1/halls/{kit.code}/display")).json()["seq"]
        await served_and_rated_badly(client, kit)
        async with websockets.connect(
            f"{live.ws_url}/ws/halls/{kit.code}/display?since={start}"
        ) as ws:
            msgs = await until(ws, "hello")
        assert_display_safe(msgs, start)
        called = [m for m in msgs if m["type"] == "ticket.called"]
        top = msgs[-1]["seq"]
        assert called[-1]["seq"] == top  # the call after the rating, at the hall's seq
        # One placeholder for the bad rating (its follow-up rides along), as for a good one.
        assert sum(m["type"] == "hidden" for m in msgs) == 1


async def test_a_screen_after_a_rating_gets_the_next_call_at_the_next_seq(
    live: LiveServer, ctx: AppContext
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await setup(client, ctx)
        await issue(client, kit)
        await issue(client, kit)
        first = await serve(client, kit, 2)
        assert (await rate_ticket(client, kit, first["id"], 5)).status_code == 201
        # The screen's seq comes from the snapshot, taken after the rating.
        snap = (await client.get(f"/api/v1/halls/{kit.code}/display")).json()
        async with websockets.connect(
            f"{live.ws_url}/ws/halls/{kit.code}/display?since={snap['seq']}"
        ) as ws:
            assert (await recv(ws))["seq"] == snap["seq"]
            await act(client, kit, 2, "call-next")
            called = await recv(ws)
        assert called["type"] == "ticket.called" and called["seq"] == snap["seq"] + 1


async def test_snapshot_holds_no_rating_or_staff(live: LiveServer, ctx: AppContext) -> None:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await setup(client, ctx)
        await served_and_rated_badly(client, kit)
        r = await client.get(f"/api/v1/halls/{kit.code}/display")
        assert r.status_code == 200
        text = r.text
        for word in ("score", "rating", "followup", "outcome", "incomplete_papers"):
            assert word not in text, word
        # Nor who serves at the counters (staff names are for the counter's own pad).
        for n in kit.counter_ids:
            assert f"{kit.code}-staff{n}" not in text
        assert r.json()["counters"][0]["current"]["number"]  # the call is there
