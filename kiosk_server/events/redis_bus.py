"""Redis pub/sub event bus: one subscription per process, local fan-out.

The database stays the truth (seq is allocated there); Redis only carries the
news. If Redis goes away, HTTP keeps working, the subscriber reconnects with
backoff and screens resync from the database through ``since``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random

import redis.asyncio as aioredis

from kiosk_server.events.bus import HallEvent, LocalFanout

log = logging.getLogger(__name__)
CHANNEL = "hallq:events"


class RedisBus(LocalFanout):
    def __init__(self, url: str, queue_size: int) -> None:
        super().__init__(queue_size)
        self.url = url
        self._client: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._connected = False
        # Bumped on every (re)connect so listeners know they may have missed events.
        self.generation = 0

    async def start(self) -> None:
        self._client = aioredis.from_url(
            self.url, socket_connect_timeout=2, socket_timeout=5, health_check_interval=10
        )
        self._task = asyncio.create_task(self._listen(), name="redis-bus")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._client is not None:
            await self._client.aclose()
        for sub in list(self.subscribers):
            sub.close()
        self.subscribers.clear()

    @property
    def healthy(self) -> bool:
        return self._connected

    async def publish(self, event: HallEvent) -> None:
        assert self._client is not None
        try:
            await self._client.publish(CHANNEL, json.dumps(event.to_json_dict()))
        except Exception as exc:  # the event is in the database; screens will resync
            log.warning("redis publish failed: %s", exc)
            self._connected = False

    async def _listen(self) -> None:
        delay = 0.2
        while True:
            try:
                assert self._client is not None
                pubsub = self._client.pubsub()
                await pubsub.subscribe(CHANNEL)
                self._connected = True
                self.generation += 1
                # Anyone connected while we were away may have missed events.
                for sub in list(self.subscribers):
                    sub.force_resync()
                delay = 0.2
                async for msg in pubsub.listen():
                    if msg.get("type") != "message":
                        continue
                    try:
                        ev = HallEvent.from_json_dict(json.loads(msg["data"]))
                    except (ValueError, KeyError, TypeError):
                        log.warning("ignored malformed bus message")
                        continue
                    self.deliver(ev)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._connected:
                    log.warning("redis bus lost: %s; reconnecting", exc)
                self._connected = False
                await asyncio.sleep(delay + random.uniform(0, delay / 2))
                delay = min(delay * 2, 5.0)
