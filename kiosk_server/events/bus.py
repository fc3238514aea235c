"""The event-bus port and its in-memory implementation.

Events are published after the transaction that made them commits. Each
subscriber has a bounded queue: a subscriber that falls behind is dropped (it
reconnects with ``since`` and catches up from the database) and never slows
the others down.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from kiosk_server.events import display


@dataclass(frozen=True)
class HallEvent:
    hall_id: int
    hall_code: str
    seq: int
    type: str
    at: str  # ISO 8601 UTC
    data: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "type": self.type,
            "at": self.at,
            "hall": self.hall_code,
            "data": self.data,
        }

    @cached_property
    def wire_text(self) -> str:
        """The wire form serialized once, however many screens it goes to."""
        return json.dumps(self.wire(), ensure_ascii=False, separators=(",", ":"))

    @cached_property
    def display_text(self) -> str:
        """The form public hall screens get (see events.display), serialized once."""
        return display.dumps(
            display.display_wire(self.seq, self.type, self.at, self.hall_code, self.data)
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "hall_id": self.hall_id,
            "hall_code": self.hall_code,
            "seq": self.seq,
            "type": self.type,
            "at": self.at,
            "data": self.data,
        }

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> HallEvent:
        return cls(
            hall_id=int(d["hall_id"]),
            hall_code=str(d["hall_code"]),
            seq=int(d["seq"]),
            type=str(d["type"]),
            at=str(d["at"]),
            data=dict(d["data"]),
        )


class Subscription:
    """A bounded mailbox. ``overflowed`` is set when events had to be dropped."""

    def __init__(self, hall_ids: frozenset[int] | None, maxsize: int) -> None:
        self.hall_ids = hall_ids
        self.queue: asyncio.Queue[HallEvent | None] = asyncio.Queue(maxsize=maxsize)
        self.overflowed = False
        self.client_left = False

    def wants(self, ev: HallEvent) -> bool:
        return self.hall_ids is None or ev.hall_id in self.hall_ids

    def offer(self, ev: HallEvent) -> None:
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(ev)
        except asyncio.QueueFull:
            # Wake the reader so it notices and tells its client to resync.
            self.force_resync()

    def force_resync(self) -> None:
        """Make the reader tell its client to fetch the snapshot (events may be lost)."""
        self.overflowed = True
        self.close()

    def leave(self) -> None:
        """The client went away: wake the reader so it stops."""
        self.client_left = True
        self.close()

    def close(self) -> None:
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[HallEvent]:
        while True:
            ev = await self.queue.get()
            if ev is None:
                return
            yield ev


class EventBus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, event: HallEvent) -> None: ...

    def subscribe(self, hall_ids: frozenset[int] | None) -> Subscription: ...

    def unsubscribe(self, sub: Subscription) -> None: ...

    @property
    def healthy(self) -> bool: ...


class LocalFanout:
    """Delivers to this process's subscribers; shared by every bus implementation."""

    def __init__(self, queue_size: int) -> None:
        self.queue_size = queue_size
        self.subscribers: set[Subscription] = set()

    def subscribe(self, hall_ids: frozenset[int] | None) -> Subscription:
        sub = Subscription(hall_ids, self.queue_size)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    def deliver(self, event: HallEvent) -> None:
        for sub in list(self.subscribers):
            if sub.wants(event):
                sub.offer(event)


class MemoryBus(LocalFanout):
    """One process: publish is local delivery."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for sub in list(self.subscribers):
            sub.close()
        self.subscribers.clear()

    async def publish(self, event: HallEvent) -> None:
        self.deliver(event)

    @property
    def healthy(self) -> bool:
        return True


def make_bus(url: str, queue_size: int) -> EventBus:
    if url.startswith("memory://"):
        return MemoryBus(queue_size)
    if url.startswith(("redis://", "rediss://")):
        from kiosk_server.events.redis_bus import RedisBus

        return RedisBus(url, queue_size)
    raise ValueError(f"unsupported event bus URL {url!r}")
