"""PostgreSQL and Redis for the scale-out tests.

Each test gets a fresh PostgreSQL database (dropped afterwards) and its own
Redis channel. Outside CI, when PostgreSQL or Redis is not reachable, the tests
are skipped with the reason; with CI=true they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio
import redis

from kiosk_server.settings import Settings

PG_ADMIN = os.environ.get("HALLQ_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("HALLQ_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]


def unavailable(what: str, why: str) -> None:
    message = f"{what} not reachable ({why}); the scale-out tests need it"
    if IN_CI:
        pytest.fail(f"CI=true: {message}", pytrace=False)
    pytest.skip(message)


def pg_url_for(name: str) -> str:
    """The SQLAlchemy URL of database ``name`` on the admin server."""
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}"


async def create_database() -> str:
    name = f"hallq_test_{secrets.token_hex(5)}"
    try:
        conn = await asyncpg.connect(PG_ADMIN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable("PostgreSQL", f"{PG_ADMIN}: {type(exc).__name__}: {exc}")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name


async def drop_database(name: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN, timeout=3)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest_asyncio.fixture
async def pg_url() -> AsyncIterator[str]:
    name = await create_database()
    try:
        yield pg_url_for(name)
    finally:
        await drop_database(name)


def redis_alive(url: str = REDIS) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


@pytest.fixture
def redis_url() -> str:
    """A Redis URL with a channel of this test's own."""
    if not redis_alive():
        unavailable("Redis", REDIS)
    return f"{REDIS}?channel=hallq-test-{secrets.token_hex(4)}"


def start_redis() -> None:
    Path("/var/lib/redis").mkdir(parents=True, exist_ok=True)
    Path("/var/log/redis").mkdir(parents=True, exist_ok=True)
    subprocess.run(REDIS_START, check=True, capture_output=True, timeout=10)


async def wait_redis(alive: bool, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while redis_alive() != alive:
            await asyncio.sleep(0.05)


@pytest.fixture
def restartable_redis(redis_url: str) -> Iterator[str]:
    """Redis that the test may stop; it is always running again afterwards."""
    try:
        yield redis_url
    finally:
        if not redis_alive():
            start_redis()
            for _ in range(100):
                if redis_alive():
                    break
                asyncio.run(asyncio.sleep(0.05))


def pg_settings(tmp_path: Path, database_url: str, bus: str = "memory://") -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        event_bus_url=bus,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        ticker_seconds=3600,
        login_attempts_per_minute=1000,
        issue_per_minute_per_device=100_000,
        public_base_url="http://hall.test",
    )


@pytest.fixture
def settings(tmp_path: Path, pg_url: str) -> Settings:
    """Overrides the suite's SQLite settings: app/client/hall/live run on PostgreSQL."""
    return pg_settings(tmp_path, pg_url)
