"""Rate limits under several workers: with a redis:// event bus the counts live in
Redis (one fixed window per minute and key), so two app instances sharing one
Redis share the login allowance; without Redis each falls back to its own count
and no request fails because Redis is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import redis.asyncio as aioredis
from fastapi import FastAPI

from kiosk_server.app import create_app
from kiosk_server.auth.service import RateLimiter, SharedWindow
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.errors import TooManyRequests
from kiosk_server.events.redis_bus import split_channel
from kiosk_server.settings import Settings
from tests.factories import PASSWORD, make_hall
from tests.scaleout.conftest import pg_settings

pytestmark = pytest.mark.asyncio

# Mid-minute, so that the window is the same for every attempt of a test.
NOW = datetime(2026, 11, 25, 2, 0, 30, tzinfo=UTC)


def limited(settings: Settings, per_minute: int) -> Settings:
    return settings.model_copy(update={"login_attempts_per_minute": per_minute})


@pytest_asyncio.fixture
async def two_apps(
    tmp_path: Path, pg_url: str, redis_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two instances of the app (two workers) on one database and one Redis."""
    settings = limited(pg_settings(tmp_path, pg_url, redis_url), 3)
    apps = [create_app(settings, clock=FixedClock(NOW)) for _ in range(2)]
    async with AsyncExitStack() as stack:
        clients = []
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://hall.test")
                )
            )
        await make_hall(apps[0].state.ctx)
        yield clients[0], clients[1]


async def attempt(client: httpx.AsyncClient, username: str, password: str) -> int:
    r = await client.post("/api/v1/auth/token", json={"username": username, "password": password})
    if r.status_code == 429:
        assert r.json()["error"]["code"] == "rate_limited"
    return r.status_code


async def test_two_instances_sharing_redis_share_the_login_limit(
    two_apps: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    a, b = two_apps
    # Three attempts in all, spread over both workers, use up the allowance of 3 ...
    assert [await attempt(c, "demo-admin", "wrong-password") for c in (a, b, a)] == [401] * 3
    # ... so the fourth is refused on either, even with the right password.
    assert await attempt(b, "demo-admin", PASSWORD) == 429
    assert await attempt(a, "demo-admin", PASSWORD) == 429
    # Another account has its own allowance on both.
    assert await attempt(b, "demo-staff", PASSWORD) == 200
    assert await attempt(a, "demo-staff", PASSWORD) == 200


async def test_shared_windows_count_per_key_and_start_afresh_each_minute(redis_url: str) -> None:
    clock = FixedClock(NOW)
    first = RateLimiter(2, SharedWindow(redis_url, "issue", clock))
    second = RateLimiter(2, SharedWindow(redis_url, "issue", clock))
    other_deployment = RateLimiter(2, SharedWindow(f"{redis_url}-elsewhere", "issue", clock))
    try:
        await first.hit("device:1", "tickets from this kiosk")
        await second.hit("device:1", "tickets from this kiosk")
        with pytest.raises(TooManyRequests):
            await first.hit("device:1", "tickets from this kiosk")
        await second.hit("device:2", "tickets from this kiosk")  # another kiosk
        await other_deployment.hit("device:1", "tickets from this kiosk")  # another channel
        clock.advance(seconds=60)
        await second.hit("device:1", "tickets from this kiosk")  # a new minute
        # The counters in Redis expire on their own: nothing is left behind for long.
        url, channel = split_channel(redis_url)
        raw = aioredis.from_url(url)
        try:
            keys = await raw.keys(f"{channel}:ratelimit:*")
            assert len(keys) == 3
            assert all(0 < ttl <= 120 for ttl in [await raw.ttl(k) for k in keys])
        finally:
            await raw.aclose()
    finally:
        for lim in (first, second, other_deployment):
            assert lim.shared is not None
            await lim.shared.close()
    # Nothing was counted in process memory while Redis answered.
    assert first.hits == {} and second.hits == {}


async def test_without_redis_logins_work_and_each_process_limits_on_its_own(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        event_bus_url=f"redis://127.0.0.1:{unused_tcp_port}/0",  # nobody listens here
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        ticker_seconds=3600,
        login_attempts_per_minute=2,
        issue_per_minute_per_device=100_000,
        public_base_url="http://hall.test",
    )
    app: FastAPI = create_app(settings, clock=FixedClock(NOW))
    async with app.router.lifespan_context(app):
        ctx: AppContext = app.state.ctx
        await make_hall(ctx)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
            assert await attempt(c, "demo-admin", PASSWORD) == 200
            assert await attempt(c, "demo-admin", "wrong-password") == 401
            assert await attempt(c, "demo-admin", PASSWORD) == 429
            assert await attempt(c, "demo-staff", PASSWORD) == 200
        lim = ctx.extras["limiter:login"]
        assert isinstance(lim, RateLimiter) and set(lim.hits) == {
            "127.0.0.1:demo-admin",
            "127.0.0.1:demo-staff",
        }
