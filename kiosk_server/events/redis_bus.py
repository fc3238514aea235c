"""Redis pub/sub event bus: one subscription per process, local fan-out.

The database stays the truth (seq is allocated there); Redis only carries the
news between processes. Events made by this process reach its own screens
directly (no round trip, and they keep flowing while Redis is away); events of
other processes arrive through the one subscription. Publishing runs in a
background task, so a slow or absent Redis never holds up an HTTP response.

If Redis goes away, HTTP keeps working, the subscriber reconnects with backoff,
and on reconnect every local subscriber is told to resync: the screens then
catch up from the database through ``since``.

The URL may carry ``?channel=NAME`` so several deployments (or test runs) can
share one Redis without hearing each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from kiosk_server.events.bus import HallEvent, LocalFanout

log = logging.getLogger(__name__)
CHANNEL = "hallq:events"
# Events waiting to be published; past this (Redis away for long) the oldest
# news is dropped: it is in the database and the screens will resync.
PUBLISH_BACKLOG = 10_000
START_WAIT_SECONDS = 2.0


def split_channel(url: str) -> tuple[str, str]:
    """Take our own ``channel`` query parameter out of a redis:// URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    channel = CHANNEL
    rest: list[tuple[str, str]] = []
    for key, value in query:
        if key == "channel":
            channel = value or CHANNEL
        else:
            rest.append((key, value))
    return urlunsplit(parts._replace(query=urlencode(rest))), channel


class RedisBus(LocalFanout):
    def __init__(
        self,
        url: str,
        queue_size: int,
        *,
        max_backoff: float = 5.0,
        poll_seconds: float = 1.0,
    ) -> None:
        super().__init__(queue_size)
        self.url, self.channel = split_channel(url)
        self.origin = uuid.uuid4().hex
        self.max_backoff = max_backoff
        self.poll_seconds = poll_seconds
        self._client: aioredis.Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox: asyncio.Queue[str] = asyncio.Queue(maxsize=PUBLISH_BACKLOG)
        self._connected = False
        self._ready = asyncio.Event()
        # Bumped on every (re)connect; tests and /readyz can watch it.
        self.generation = 0
        self.published = 0
        self.dropped = 0

    async def start(self) -> None:
        # No transparent retries: a silent reconnect of the subscription would
        # hide the events lost meanwhile. We notice every break and resync.
        self._client = aioredis.from_url(
            self.url,
            socket_connect_timeout=2,
            socket_timeout=5,
            socket_keepalive=True,
            health_check_interval=5,
            retry=Retry(NoBackoff(), 0),
        )
        self._tasks = [
            asyncio.create_task(self._listen(), name="redis-bus-listen"),
            asyncio.create_task(self._publisher(), name="redis-bus-publish"),
        ]
        # Give the subscription a moment so the first screens are not told to
        # resync at once; without Redis we start anyway (HTTP must serve).
        if not await self.wait_connected(START_WAIT_SECONDS):
            log.warning("redis not reachable at start-up; serving, will keep trying")

    async def wait_connected(self, timeout: float) -> bool:
        """For start-up checks and tests: True once the subscription is live."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._ready.wait()
        return self._connected

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        for sub in list(self.subscribers):
            sub.close()
        self.subscribers.clear()

    @property
    def healthy(self) -> bool:
        return self._connected

    async def publish(self, event: HallEvent) -> None:
        self.deliver(event)  # this process's own screens, at once
        body: dict[str, Any] = {"origin": self.origin, "event": event.to_json_dict()}
        message = json.dumps(body, ensure_ascii=False)
        try:
            self._outbox.put_nowait(message)
        except asyncio.QueueFull:
            self._outbox.get_nowait()
            self._outbox.put_nowait(message)
            self.dropped += 1

    async def _publisher(self) -> None:
        delay = 0.1
        while True:
            message = await self._outbox.get()
            while True:
                try:
                    assert self._client is not None
                    await self._client.publish(self.channel, message)
                    self.published += 1
                    delay = 0.1
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Keep the message and retry: other processes' screens rely on it.
                    # If Redis stays away they get a resync on its return anyway.
                    log.warning("redis publish failed: %s", exc)
                    await asyncio.sleep(delay + random.uniform(0, delay / 2))
                    delay = min(delay * 2, self.max_backoff)

    def _receive(self, raw: Any) -> None:
        try:
            body = json.loads(raw)
            if body.get("origin") == self.origin:
                return  # delivered locally when published
            ev = HallEvent.from_json_dict(body["event"])
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("ignored malformed bus message")
            return
        self.deliver(ev)

    async def _listen(self) -> None:
        delay = 0.1
        while True:
            assert self._client is not None
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._connected = True
                self.generation += 1
                self._ready.set()
                if self.subscribers:
                    log.info("redis bus (re)connected; telling screens to resync")
                # Anyone connected while we were away may have missed events.
                for sub in list(self.subscribers):
                    sub.force_resync()
                delay = 0.1
                while True:
                    msg = await pubsub.get_message(timeout=self.poll_seconds)
                    if msg is not None and msg.get("type") == "message":
                        self._receive(msg["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._connected:
                    log.warning("redis bus lost: %s; reconnecting", exc)
                self._connected = False
                self._ready.clear()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(delay + random.uniform(0, delay / 2))
            delay = min(delay * 2, self.max_backoff)
