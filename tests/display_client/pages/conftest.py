from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest_asyncio

from kiosk_server.context import AppContext
from tests.conftest import LiveServer
from tests.factories import HallKit, login_all, make_hall


@dataclass
class Site:
    """A real server with the demo-like hall, and an API client to drive it."""

    live: LiveServer
    api: httpx.AsyncClient
    kit: HallKit

    def url(self, path: str) -> str:
        return f"{self.live.url}{path}"


@pytest_asyncio.fixture
async def site(live: LiveServer, ctx: AppContext) -> AsyncIterator[Site]:
    async with httpx.AsyncClient(base_url=live.url) as client:
        kit = await make_hall(ctx)
        await login_all(client, kit)
        yield Site(live, client, kit)
