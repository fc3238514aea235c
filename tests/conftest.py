from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from hardware_sim.printer import PrinterEmulator
from kiosk_server.app import create_app
from kiosk_server.clock import FixedClock
from kiosk_server.context import AppContext
from kiosk_server.settings import Settings
from tests.factories import WEDNESDAY_10AM, HallKit, login_all, make_hall

pytest_plugins = ["tests.browser_conftest"]


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(WEDNESDAY_10AM)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Each test gets its own database file.
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        ticker_seconds=3600,
        login_attempts_per_minute=1000,
        issue_per_minute_per_device=100_000,
        public_base_url="http://hall.test",
    )


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> FastAPI:
    return create_app(settings, clock=clock)


@pytest.fixture
def ctx(app: FastAPI) -> AppContext:
    c: AppContext = app.state.ctx
    return c


@pytest_asyncio.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as c:
            yield c


@pytest_asyncio.fixture
async def hall(client: httpx.AsyncClient, ctx: AppContext) -> HallKit:
    kit = await make_hall(ctx)
    await login_all(client, kit)
    return kit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The app served by uvicorn on a real port, inside the test's event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                lifespan="on",
                ws="websockets-sansio",
                timeout_graceful_shutdown=2,
            )
        )
        self.task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


@pytest_asyncio.fixture
async def live(app: FastAPI) -> AsyncIterator[LiveServer]:
    srv = LiveServer(app)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"


@pytest.fixture
def emu_pair(tmp_path: Path) -> Iterator[tuple[PrinterEmulator, str]]:
    """The ESC/POS printer emulator (80 mm) on a free TCP port, and its printer URL
    (real sockets, real decoding). Point the server at it with ``printing_to``."""
    with PrinterEmulator(tmp_path / "printer-out", paper_mm=80) as e:
        host, port = e.start_tcp()
        yield e, f"tcp://{host}:{port}"


@pytest.fixture
def emu(emu_pair: tuple[PrinterEmulator, str]) -> PrinterEmulator:
    return emu_pair[0]


@pytest.fixture
def emu_url(emu_pair: tuple[PrinterEmulator, str]) -> str:
    return emu_pair[1]
