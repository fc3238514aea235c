"""Bridges between a serial line and the queue: counter devices and scanners.

``CounterDeviceBridge`` serves one RS-485 line of caller keypads and rating
pads: every KEY / RATING frame becomes an intent, is carried out by a
``CounterActions``, and is answered (ACK or NACK, plus the text for the
device's display). Frames are translated in arrival order; each device's
actions run one at a time, different devices' in parallel, so a slow server
answer at one counter does not hold up the others.

``ScannerBridge`` turns scanner lines into ``Scan`` objects for the kiosk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from kiosk_server.devices import protocol as p
from kiosk_server.devices.actions import CounterActions, DeviceReply
from kiosk_server.devices.intents import (
    Ignored,
    KeypadIntent,
    KeypadTranslator,
    RatingIntent,
    RatingTranslator,
)
from kiosk_server.devices.link import SerialLink
from kiosk_server.devices.protocol import Command, Frame, FrameDecoder, NackReason
from kiosk_server.devices.scanner import (
    DEFAULT_APPOINTMENT_PATTERN,
    LineSplitter,
    Scan,
    classify,
)

log = logging.getLogger(__name__)

INVALID_KEY = "按键无效"
Translated = KeypadIntent | RatingIntent | Ignored


class CounterDeviceBridge:
    def __init__(
        self,
        link: SerialLink,
        actions: CounterActions,
        *,
        keypads: Mapping[int, int],
        rating_pads: Mapping[int, int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        overlap = set(keypads) & set(rating_pads)
        if overlap:
            raise ValueError(f"addresses used twice on the line: {sorted(overlap)}")
        self.link = link
        self.actions = actions
        self.keypads = KeypadTranslator(keypads, clock=clock)
        self.ratings = RatingTranslator(rating_pads, clock=clock)
        self.pads_of_counter: dict[int, list[int]] = {}
        for address, counter in rating_pads.items():
            self.pads_of_counter.setdefault(counter, []).append(address)
        self.last_finished = actions.last_finished
        self.decoder = FrameDecoder(name=f"devices {link.name}")
        self.stats: Counter[str] = Counter()
        self._locks: dict[int, asyncio.Lock] = {}
        self._last_replies: dict[int, list[Frame]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        link.on_open(self._on_open)

    # ------------------------------------------------------------ serial side

    async def run(self) -> None:
        try:
            async for chunk in self.link.chunks():
                for frame in self.decoder.feed(chunk):
                    self.dispatch(frame)
        finally:
            for t in list(self._tasks):
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until every received frame has been carried out and answered."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def dispatch(self, frame: Frame) -> None:
        if frame.command == Command.KEY:
            self._spawn(frame, self.keypads.translate(frame))
        elif frame.command == Command.RATING:
            self._spawn(frame, self.ratings.translate(frame))
        elif frame.command == Command.DEVICE_NACK:
            self.stats["device_nack"] += 1
            log.warning("device 0x%02X refused %s", frame.address, frame.describe())
        elif frame.command in (Command.DEVICE_ACK, Command.PONG):
            self.stats[Command(frame.command).name.lower()] += 1
        else:
            # Host-to-device commands seen on the line: another master, or our own echo.
            self.stats["unexpected"] += 1
            log.warning("unexpected %s on the device line", frame.describe())

    def _spawn(self, frame: Frame, translated: Translated) -> None:
        # Translated now, in arrival order (the repeat filter depends on it); carried
        # out in order per device by the lock (asyncio locks are FIFO).
        lock = self._locks.setdefault(frame.address, asyncio.Lock())

        async def serialised() -> None:
            async with lock:
                await self._answer(frame, translated)

        task = asyncio.get_running_loop().create_task(serialised())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, frame: Frame, translated: Translated) -> None:
        address = frame.address
        seq = frame.payload[0]
        if isinstance(translated, Ignored):
            if translated.duplicate:
                self.stats["duplicate"] += 1
                await self._write(self._last_replies.get(address, [p.ack(address, seq)]))
                return
            self.stats["ignored"] += 1
            log.warning("0x%02X: %s", address, translated.reason)
            replies = [p.nack(address, seq, NackReason.BAD_PAYLOAD)]
            if frame.command == Command.KEY:
                replies.append(p.keypad_show(address, INVALID_KEY))
            self._last_replies[address] = replies
            await self._write(replies)
            return
        if isinstance(translated, KeypadIntent):
            reply = await self._carry_out(self.actions.keypad(translated))
            self.stats[f"key.{translated.action}"] += 1
            screen = p.keypad_show(address, _fit(reply.text))
        else:
            reply = await self._carry_out(self.actions.rate(translated))
            self.stats["rating"] += 1
            screen = p.rating_reset(address, _fit(reply.text))
        head = p.ack(address, seq) if reply.ok else p.nack(address, seq, reply.reason)
        self._last_replies[address] = [head, screen]
        await self._write([head, screen])

    async def _carry_out(self, call: Awaitable[DeviceReply]) -> DeviceReply:
        try:
            return await call
        except Exception:
            log.exception("device action failed")
            return DeviceReply(False, "系统错误", NackReason.UNAVAILABLE)

    async def _write(self, frames: list[Frame]) -> None:
        for f in frames:
            if not await self.link.write(p.encode(f)):
                return  # device retries; its repeat gets the stored replies

    async def _on_open(self) -> None:
        # A pad that lost power forgets its prompt: light it again if a rating is due.
        for counter in self.last_finished.by_counter:
            await self._prompt(counter)

    # ------------------------------------------------------------ hall side

    async def note_event(self, event: Mapping[str, Any]) -> None:
        """Feed the hall's events: they light or clear the counter's rating pad."""
        counter = self.last_finished.note(event)
        if counter is not None:
            await self._prompt(counter)

    async def _prompt(self, counter: int) -> None:
        target = self.last_finished.take(counter)
        frames = [
            p.rating_prompt(a, _fit(target[1] or "")) if target else p.rating_reset(a)
            for a in self.pads_of_counter.get(counter, [])
        ]
        await self._write(frames)


def _fit(text: str, limit: int = 32) -> str:
    """Cut text to what a device display takes (GB18030 bytes)."""
    while len(text.encode(p.TEXT_ENCODING)) > limit:
        text = text[:-1]
    return text


class ScannerBridge:
    def __init__(
        self,
        link: SerialLink,
        on_scan: Callable[[Scan], Awaitable[None]],
        *,
        appointment_pattern: str = DEFAULT_APPOINTMENT_PATTERN,
    ) -> None:
        self.link = link
        self.on_scan = on_scan
        self.appointment_pattern = appointment_pattern
        self.splitter = LineSplitter(name=f"scanner {link.name}")
        self.scans: Counter[str] = Counter()

    async def run(self) -> None:
        async for chunk in self.link.chunks():
            for line in self.splitter.feed(chunk):
                scan = classify(line, appointment_pattern=self.appointment_pattern)
                self.scans[scan.kind.value] += 1
                log.info("scanned %s %s", scan.kind.value, scan.masked)
                try:
                    await self.on_scan(scan)
                except Exception:
                    log.exception("scan handler failed for %s", scan.kind.value)
