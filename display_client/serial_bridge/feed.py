"""The hall's display event stream, kept alive across server restarts.

Contract with the server:
- ``GET {server}/api/v1/halls/{hall}/display`` (bearer display token) returns the
  snapshot ``{"seq": N, "counters": [{"number", "state", "current"}...]}``;
- ``{ws}/ws/halls/{hall}/display?since=SEQ&token=TOKEN`` streams the events
  after SEQ as JSON text messages ``{"seq", "type", "at", "data"}``; a message
  ``{"type": "resync"}`` means events were lost: fetch the snapshot again.

On any failure (refused, reset, closed, bad JSON, timeout) the feed waits with
exponential backoff and reconnects with ``since`` = the last event applied, so
nothing is shown twice and nothing is missed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

log = logging.getLogger(__name__)


class PlanLike(Protocol):
    @property
    def resync(self) -> bool: ...


class FeedConsumer(Protocol):
    @property
    def last_seq(self) -> int | None: ...

    async def on_event(self, event: Mapping[str, Any]) -> PlanLike: ...

    async def on_snapshot(self, snapshot: Mapping[str, Any]) -> None: ...


def ws_base(server: str) -> str:
    parts = urlsplit(server)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None or not parts.netloc:
        raise ValueError(f"server URL must be http(s)://host[:port], not {server!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


class DisplayFeed:
    def __init__(
        self,
        server: str,
        hall: str,
        token: str,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 5.0,
        open_timeout: float = 10.0,
        http_timeout: float = 10.0,
    ) -> None:
        self.http_base = server.rstrip("/")
        self.ws_base = ws_base(server)
        self.hall = hall
        self.token = token
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.open_timeout = open_timeout
        self.http_timeout = http_timeout
        self.connections = 0
        self.snapshots = 0
        self.failures = 0
        self.connected = False

    def ws_url(self, since: int | None) -> str:
        query: dict[str, str] = {"token": self.token}
        if since is not None:
            query["since"] = str(since)
        return f"{self.ws_base}/ws/halls/{quote(self.hall, safe='')}/display?{urlencode(query)}"

    @property
    def snapshot_url(self) -> str:
        return f"{self.http_base}/api/v1/halls/{quote(self.hall, safe='')}/display"

    async def fetch_snapshot(self, client: httpx.AsyncClient) -> Mapping[str, Any]:
        resp = await client.get(
            self.snapshot_url, headers={"Authorization": f"Bearer {self.token}"}
        )
        resp.raise_for_status()
        data = resp.json()
        if not isinstance(data, dict):
            raise ValueError("display snapshot is not a JSON object")
        self.snapshots += 1
        return data

    async def run(self, consumer: FeedConsumer) -> None:
        """Run until cancelled."""
        delay = self.backoff_initial
        # Hall LAN: never route the screens' feed through a proxy from the environment.
        async with httpx.AsyncClient(timeout=self.http_timeout, trust_env=False) as client:
            while True:
                before = self.connections
                try:
                    await self._session(client, consumer)
                except (
                    OSError,
                    TimeoutError,
                    WebSocketException,
                    httpx.HTTPError,
                    ValueError,
                ) as e:
                    self.failures += 1
                    log.warning("display feed: %s; reconnecting in %.1fs", e, delay)
                finally:
                    self.connected = False
                if self.connections > before:
                    delay = self.backoff_initial  # it was up: a restart, start backoff afresh
                # Jitter: the hall's bridges must not all knock at the same instant.
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.backoff_max)

    async def _session(self, client: httpx.AsyncClient, consumer: FeedConsumer) -> None:
        if consumer.last_seq is None:
            await consumer.on_snapshot(await self.fetch_snapshot(client))
        url = self.ws_url(consumer.last_seq)
        async with connect(url, open_timeout=self.open_timeout, proxy=None) as ws:
            self.connections += 1
            self.connected = True
            log.info("display feed connected (since=%s)", consumer.last_seq)
            async for message in ws:
                try:
                    event = json.loads(message)
                except ValueError:
                    log.warning("display feed: message is not JSON, ignored")
                    continue
                if not isinstance(event, dict):
                    continue
                plan = await consumer.on_event(event)
                if plan.resync:
                    await consumer.on_snapshot(await self.fetch_snapshot(client))


async def run_bridge(
    feed: DisplayFeed, consumer: FeedConsumer, serial_task: Any, *others: Any
) -> None:
    """Run the feed, the serial reader (and ``others``, e.g. a status reporter) together;
    any of them failing stops them all."""
    tasks = [asyncio.ensure_future(c) for c in (feed.run(consumer), serial_task, *others)]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for t in done:
            t.result()
    finally:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
