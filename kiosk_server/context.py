"""Everything a request or background task needs, built once per app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk_server.clock import Clock, SystemClock
from kiosk_server.db.engine import Database
from kiosk_server.events.bus import EventBus, make_bus
from kiosk_server.metrics import Metrics
from kiosk_server.settings import Settings

if TYPE_CHECKING:
    from kiosk_server.db.uow import UnitOfWork

# Hooks that later domain packages register (printing, appointments, follow-ups)
# so the core services call them without importing those packages.
TicketHook = Callable[["UnitOfWork", Any], Awaitable[None]]


@dataclass
class Hooks:
    after_issue: list[TicketHook] = field(default_factory=list)
    after_finish: list[TicketHook] = field(default_factory=list)
    after_rating: list[TicketHook] = field(default_factory=list)


@dataclass
class AppContext:
    settings: Settings
    db: Database
    bus: EventBus
    clock: Clock
    hooks: Hooks = field(default_factory=Hooks)
    metrics: Metrics = field(default_factory=Metrics)
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> AppContext:
        if settings.environment == "test":
            from kiosk_server.auth.security import use_test_hashing

            use_test_hashing()
        return cls(
            settings=settings,
            db=Database(settings),
            bus=make_bus(settings.event_bus_url, settings.ws_queue_size),
            clock=clock or SystemClock(),
        )
