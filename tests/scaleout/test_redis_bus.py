"""RedisBus against a real Redis: cross-process delivery, own events delivered
once, channels isolated, malformed messages ignored, a slow screen dropped
without holding up the others."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from kiosk_server.events.bus import HallEvent
from kiosk_server.events.redis_bus import RedisBus, split_channel

pytestmark = pytest.mark.asyncio


def event(seq: int, hall_id: int = 1) -> HallEvent:
    return HallEvent(hall_id, "demo", seq, "ticket.called", "2026-11-25T02:00:00+00:00", {})


async def test_two_buses_share_events_once_each(redis_url: str) -> None:
    a, b = RedisBus(redis_url, 8), RedisBus(redis_url, 8)
    other = RedisBus(redis_url.rsplit("=", 1)[0] + "=someone-else", 8)
    await a.start(), await b.start(), await other.start()
    try:
        assert a.healthy and b.healthy
        on_a, on_b = a.subscribe(None), b.subscribe(frozenset({1}))
        stranger = other.subscribe(None)
        not_mine = b.subscribe(frozenset({2}))
        await a.publish(event(1))
        got_b = await asyncio.wait_for(on_b.queue.get(), 5)
        assert got_b == event(1)
        assert on_a.queue.get_nowait() == event(1)  # delivered locally at once
        # A malformed message on the channel is ignored; the next good one arrives.
        url, channel = split_channel(redis_url)
        raw = aioredis.from_url(url)
        await raw.publish(channel, b"not json")
        await raw.aclose()
        await b.publish(event(2))
        assert await asyncio.wait_for(on_a.queue.get(), 5) == event(2)
        assert on_b.queue.get_nowait() == event(2)
        await asyncio.sleep(0.2)  # time for any stray duplicate to arrive
        assert on_a.queue.empty() and on_b.queue.empty()
        assert stranger.queue.empty() and not_mine.queue.empty()
    finally:
        await a.stop(), await b.stop(), await other.stop()


async def test_slow_screen_is_dropped_others_keep_receiving(redis_url: str) -> None:
    a, b = RedisBus(redis_url, 8), RedisBus(redis_url, 8)
    await a.start(), await b.start()
    try:
        slow, fast = b.subscribe(None), b.subscribe(None)
        received: list[int] = []

        async def read_fast() -> None:
            async for ev in fast:
                received.append(ev.seq)
                if ev.seq == 50:
                    return

        reader = asyncio.create_task(read_fast())
        for seq in range(1, 51):
            await a.publish(event(seq))
        await asyncio.wait_for(reader, 10)
        assert received == list(range(1, 51))
        # The slow one never read: it was told to resync (its iterator ends).
        assert slow.overflowed
        assert [ev async for ev in slow] == []
    finally:
        await a.stop(), await b.stop()


async def test_starts_without_redis_and_serves(unused_tcp_port: int) -> None:
    bus = RedisBus(f"redis://127.0.0.1:{unused_tcp_port}/0", 8, max_backoff=0.2)
    await bus.start()  # returns after a short wait, not an error
    try:
        assert not bus.healthy
        sub = bus.subscribe(None)
        await bus.publish(event(1))  # local screens still get it
        assert sub.queue.get_nowait() == event(1)
    finally:
        await bus.stop()
