"""Counter LED screens (窗口屏): hall events -> frames, and the port that carries them.

``LedPlanner`` is pure: it keeps what each counter's screen should show and
turns events and snapshots into the frames that make the screens show it. The
screen itself does the flashing (LED_TEXT carries the seconds), so there are no
host timers. ``LedBridge`` writes those frames on a ``SerialLink`` and sends
every screen's state again whenever the port is (re)opened, because a screen
that lost power or a port that came back knows nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk_server.devices import protocol as p
from kiosk_server.devices.link import SerialLink
from kiosk_server.devices.protocol import Command, Frame, FrameDecoder

log = logging.getLogger(__name__)

IDLE_TEXT = "热情为您服务"
PAUSED_TEXT = "暂停服务"
CALL_FLASH_SECONDS = 3
RECALL_WINDOW = 5.0  # a recall this soon after the same number was flashed is not resent

CALL_EVENTS = frozenset({"ticket.called", "ticket.called_back"})
RECALL_EVENTS = frozenset({"ticket.recalled"})
# The ticket leaves the counter: the screen goes back to idle (or paused).
LEAVE_EVENTS = frozenset(
    {"ticket.finished", "ticket.no_show", "ticket.held", "ticket.transferred", "ticket.cancelled"}
)
COUNTER_STATES = {
    "counter.paused": "paused",
    "counter.resumed": "open",
    "counter.opened": "open",
    "counter.closed": "closed",
}


def call_text(number: str) -> str:
    return f"请 {number}"


def _counter_of(data: Mapping[str, Any]) -> int | None:
    raw = data.get("counter")
    if isinstance(raw, Mapping):
        raw = raw.get("number")
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return None


def _number_of(data: Mapping[str, Any]) -> str | None:
    raw = data.get("number")
    if raw is None and isinstance(data.get("ticket"), Mapping):
        raw = data["ticket"].get("number")
    return raw if isinstance(raw, str) and raw else None


@dataclass
class CounterScreen:
    counter: int
    address: int
    state: str = "open"  # open | paused | closed
    current: str | None = None  # ticket number at the counter
    flashed: tuple[str, float] | None = None  # last number sent flashing, and when
    sent: str | None = None  # text last written (None: unknown, always write)


@dataclass(frozen=True)
class Plan:
    frames: list[Frame] = field(default_factory=list)
    resync: bool = False  # the caller must fetch the snapshot


class LedPlanner:
    def __init__(
        self,
        mapping: Mapping[int, int],
        *,
        clock: Callable[[], float] = time.monotonic,
        flash_seconds: int = CALL_FLASH_SECONDS,
        recall_window: float = RECALL_WINDOW,
        idle_text: str = IDLE_TEXT,
        paused_text: str = PAUSED_TEXT,
    ) -> None:
        addresses = list(mapping.values())
        if len(set(addresses)) != len(addresses):
            raise ValueError("two counters mapped to one screen address")
        self.screens = {c: CounterScreen(c, a) for c, a in mapping.items()}
        self.clock = clock
        self.flash_seconds = flash_seconds
        self.recall_window = recall_window
        self.idle_text = idle_text
        self.paused_text = paused_text
        self.last_seq: int | None = None
        self.suppressed_recalls = 0

    def text_for(self, screen: CounterScreen) -> str:
        # Paused wins over a current ticket: staff pressed 暂停 so nobody walks up.
        if screen.state in ("paused", "closed"):
            return self.paused_text
        if screen.current:
            return call_text(screen.current)
        return self.idle_text

    def _steady(self, screen: CounterScreen) -> list[Frame]:
        text = self.text_for(screen)
        if text == screen.sent:
            return []
        screen.sent = text
        return [p.led_text(screen.address, text)]

    def _flash(self, screen: CounterScreen, number: str) -> list[Frame]:
        screen.current = number
        if screen.state != "open":
            return self._steady(screen)
        screen.flashed = (number, self.clock())
        screen.sent = call_text(number)
        return [p.led_text(screen.address, screen.sent, self.flash_seconds)]

    def on_event(self, event: Mapping[str, Any]) -> Plan:
        kind = event.get("type")
        if kind == "resync":
            return Plan(resync=True)
        seq = event.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            if self.last_seq is not None and seq <= self.last_seq:
                return Plan()  # replayed after a reconnect: already shown
            self.last_seq = seq
        data = event.get("data")
        if not isinstance(kind, str) or not isinstance(data, Mapping):
            return Plan()
        counter = _counter_of(data)
        number = _number_of(data)
        screen = self.screens.get(counter) if counter is not None else None
        frames: list[Frame] = []
        if kind in CALL_EVENTS or kind in RECALL_EVENTS:
            if screen is None or number is None:
                return Plan()
            now = self.clock()
            if (
                kind in RECALL_EVENTS
                and screen.flashed is not None
                and screen.flashed[0] == number
                and screen.current == number
                and now - screen.flashed[1] < self.recall_window
            ):
                self.suppressed_recalls += 1
                return Plan()
            # A number shown at another counter (transferred and called there) leaves it.
            for other in self.screens.values():
                if other is not screen and other.current == number:
                    other.current = None
                    frames += self._steady(other)
            frames += self._flash(screen, number)
        elif kind == "ticket.started":
            if screen is not None and number is not None:
                screen.current = number
                frames += self._steady(screen)
        elif kind in LEAVE_EVENTS:
            for s in self.screens.values():
                if (s is screen and (number is None or s.current == number)) or (
                    number is not None and s.current == number
                ):
                    s.current = None
                    frames += self._steady(s)
        elif kind in COUNTER_STATES and screen is not None:
            screen.state = COUNTER_STATES[kind]
            frames += self._steady(screen)
        elif (
            kind == "counter.updated"  # an admin edit, e.g. closing the counter
            and screen is not None
            and data.get("state") in ("open", "paused", "closed")
        ):
            screen.state = str(data["state"])
            frames += self._steady(screen)
        return Plan(frames)

    def on_snapshot(self, snapshot: Mapping[str, Any]) -> list[Frame]:
        seq = snapshot.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            self.last_seq = seq
        listed: set[int] = set()
        for entry in snapshot.get("counters") or []:
            if not isinstance(entry, Mapping):
                continue
            counter = _counter_of({"counter": entry.get("number")})
            screen = self.screens.get(counter) if counter is not None else None
            if screen is None:
                continue
            listed.add(screen.counter)
            state = entry.get("state")
            screen.state = state if state in ("open", "paused", "closed") else "open"
            current = entry.get("current")
            number = _number_of(current) if isinstance(current, Mapping) else None
            if number != screen.current:
                screen.flashed = None  # called while we were away: show it steady
            screen.current = number
        for counter, screen in self.screens.items():
            if counter not in listed:
                log.warning("counter %s is mapped to a screen but not in the hall", counter)
                screen.state, screen.current = "closed", None
        return [f for s in self.screens.values() for f in self._steady(s)]

    def refresh_all(self) -> list[Frame]:
        """Every screen's full state, for a port just (re)opened; a call still
        inside its flash time flashes for the rest of it."""
        now = self.clock()
        frames: list[Frame] = []
        for screen in self.screens.values():
            text = self.text_for(screen)
            flash = 0
            if screen.flashed is not None and screen.current == screen.flashed[0]:
                left = self.flash_seconds - (now - screen.flashed[1])
                if left > 0 and text == call_text(screen.current):
                    flash = math.ceil(left)
            screen.sent = text
            frames.append(p.led_text(screen.address, text, flash))
        return frames

    def forget_sent(self) -> None:
        """After a failed write nothing is known about the screens."""
        for screen in self.screens.values():
            screen.sent = None

    def render(self) -> list[str]:
        """What each screen should be showing, for logs and the bridge's status."""
        return [
            f"{s.counter}号窗口 0x{s.address:02X}: {self.text_for(s)}"
            for s in sorted(self.screens.values(), key=lambda s: s.counter)
        ]


class LedBridge:
    """Writes a planner's frames to the LED line; refreshes all screens on (re)open."""

    def __init__(self, link: SerialLink, planner: LedPlanner) -> None:
        self.link = link
        self.planner = planner
        self.decoder = FrameDecoder(name=f"led {link.name}")
        self.acks = 0
        self.nacks = 0
        self.write_failures = 0
        # Plan and write under one lock: a refresh computed before an event but
        # written after it would put the old text back on the screen.
        self._lock = asyncio.Lock()
        link.on_open(self.refresh)

    @property
    def last_seq(self) -> int | None:
        return self.planner.last_seq

    async def _send(self, frames: list[Frame]) -> None:
        for frame in frames:
            if not await self.link.write(p.encode(frame)):
                self.write_failures += 1
                # The refresh on reopen will send the full state; nothing to queue.
                self.planner.forget_sent()
                return

    async def refresh(self) -> None:
        async with self._lock:
            await self._send(self.planner.refresh_all())

    async def on_event(self, event: Mapping[str, Any]) -> Plan:
        async with self._lock:
            plan = self.planner.on_event(event)
            await self._send(plan.frames)
        return plan

    async def on_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        async with self._lock:
            await self._send(self.planner.on_snapshot(snapshot))

    async def run_serial(self) -> None:
        """Read the line (screens answer with ACK/NACK) until the link is closed."""
        async for chunk in self.link.chunks():
            for frame in self.decoder.feed(chunk):
                if frame.command == Command.DEVICE_ACK:
                    self.acks += 1
                elif frame.command == Command.DEVICE_NACK:
                    self.nacks += 1
                    log.warning("screen 0x%02X refused: %s", frame.address, frame.describe())
