"""/metrics after an end-to-end run over a real socket: tickets issued, calls,
waits (issue to first call, by the hall clock), finished transactions and
service time, and the WebSocket clients connected at the moment of the scrape."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from tests.conftest import LiveServer
from tests.factories import HallKit, act, issue, login_all, make_hall

pytestmark = pytest.mark.asyncio

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    r = await client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    out: Samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def ws_clients_become(client: httpx.AsyncClient, want: float) -> float | None:
    """The gauge once the server has noticed the sockets (a deadline, not a sleep)."""
    deadline = time.monotonic() + 5
    while True:
        got = value(await scrape(client), "hallq_websocket_clients")
        if got == want or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.02)


async def test_metrics_after_an_end_to_end_run(live: LiveServer, clock: FixedClock) -> None:
    ctx: AppContext = live.app.state.ctx
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit: HallKit = await make_hall(ctx)
        await login_all(client, kit)
        assert value(await scrape(client), "hallq_websocket_clients") == 0

        screen = await websockets.connect(f"{live.ws_url}/ws/halls/{kit.code}/display")
        staff = await websockets.connect(
            f"{live.ws_url}/ws/staff?token={kit.tokens['staff']}&hall={kit.code}"
        )
        try:
            assert '"hello"' in str(await screen.recv())
            assert '"hello"' in str(await staff.recv())
            assert value(await scrape(client), "hallq_websocket_clients") == 2

            await issue(client, kit, "enrol")
            await issue(client, kit, "enrol", channel="green")
            clock.advance(minutes=7)
            r = await act(client, kit, 1, "call-next")
            assert r.status_code == 200, r.text
            assert (await act(client, kit, 1, "start")).status_code == 200
            clock.advance(minutes=3)
            r = await act(client, kit, 1, "finish", outcome="completed")
            assert r.status_code == 200, r.text
            r = await act(client, kit, 2, "call-next")
            assert r.status_code == 200, r.text
        finally:
            await screen.close()
            await staff.close()

        m = await scrape(client)
        hall = {"hall": kit.code}
        assert value(m, "hallq_tickets_issued_total", channel="normal", **hall) == 1
        assert value(m, "hallq_tickets_issued_total", channel="green", **hall) == 1
        assert value(m, "hallq_calls_total", **hall) == 2
        # Waits: 7 minutes for the ticket called first, 10 for the one called at
        # counter 2 after the first was served (both issued at the same minute).
        assert value(m, "hallq_wait_minutes_count", **hall) == 2
        assert value(m, "hallq_wait_minutes_sum", **hall) == pytest.approx(17)
        assert value(m, "hallq_wait_minutes_bucket", le="5.0", **hall) == 0
        assert value(m, "hallq_wait_minutes_bucket", le="10.0", **hall) == 2
        assert value(m, "hallq_wait_minutes_bucket", le="+Inf", **hall) == 2
        assert value(m, "hallq_transactions_finished_total", outcome="completed", **hall) == 1
        assert value(m, "hallq_service_minutes_count", **hall) == 1
        assert value(m, "hallq_service_minutes_sum", **hall) == pytest.approx(3)
        # Both sockets closed: the gauge falls back once the server notices.
        assert await ws_clients_become(client, 0) == 0
