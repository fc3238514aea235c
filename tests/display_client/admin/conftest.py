from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from kiosk_server.context import AppContext
from tests.conftest import LiveServer
from tests.factories import HallKit, login_all, make_hall


@pytest_asyncio.fixture
async def site(
    live: LiveServer, ctx: AppContext
) -> AsyncIterator[tuple[HallKit, httpx.AsyncClient]]:
    """The demo-like hall on a real server, and an API client logged in as everyone."""
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await make_hall(ctx)
        await login_all(client, kit)
        yield kit, client
