"""Emulated RS-485 devices: counter LED screens, caller keypads, rating pads.

A ``SimBus`` is one serial line (one pty) with any number of devices on it, as
on a real RS-485 bus: it decodes the host's frames with the same codec the
drivers use, hands each frame to the device with that address (broadcast to all,
without replies), writes the replies back, and publishes its state (what every
device shows) to a JSON status file for ``hallq sim status``. Tests script the
devices (``press``) and wait for state with ``wait_for`` — a condition variable,
not a sleep.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hardware_sim.serial.pty import PtyPort
from hardware_sim.serial.status import write_status
from kiosk_server.devices import protocol as p
from kiosk_server.devices.protocol import Command, DeviceKind, Frame, FrameDecoder, Key, NackReason

Clock = Callable[[], float]


def cells(text: str) -> int:
    """Display width: a Chinese character takes two LED cells."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def fit(text: str, width: int) -> str:
    """Pad or cut ``text`` to exactly ``width`` cells."""
    out, used = [], 0
    for c in text:
        w = cells(c)
        if used + w > width:
            break
        out.append(c)
        used += w
    return "".join(out) + " " * (width - used)


class SimDevice:
    kind: DeviceKind
    label = "设备"

    def __init__(self, address: int) -> None:
        if not 1 <= address <= 0xFE:
            raise ValueError(f"device address {address} must be 0x01-0xFE")
        self.address = address
        self.bus: SimBus | None = None

    def handle(self, frame: Frame, command: Command, broadcast: bool) -> list[Frame]:
        if command is Command.PING:
            return [] if broadcast else [p.pong(self.address, self.kind)]
        return [] if broadcast else [p.device_nack(self.address, command, NackReason.UNSUPPORTED)]

    def shows(self) -> str:
        return ""

    def reset(self) -> None:
        """Power loss: forget everything the host told the device."""

    def state(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "type": self.kind.name.lower(),
            "label": self.label,
            "shows": self.shows(),
        }

    def _send(self, frame: Frame) -> bool:
        if self.bus is None:
            raise RuntimeError("device not on a bus")
        return self.bus.send(frame)


RECENT_WRITES = 20  # texts an LED screen's status keeps


@dataclass(frozen=True)
class LedWrite:
    text: str
    flash_seconds: int
    at: float


class LedScreen(SimDevice):
    """窗口屏: one line of red LED text; flashes for N seconds then holds steady."""

    kind = DeviceKind.LED
    label = "窗口屏"

    def __init__(self, address: int, *, width: int = 16, clock: Clock = time.monotonic) -> None:
        super().__init__(address)
        self.width = width  # cells; 16 cells = 8 Chinese characters
        self.clock = clock
        self.text = ""
        self.flash_until = 0.0
        self.brightness = 100
        self.writes: list[LedWrite] = []

    def handle(self, frame: Frame, command: Command, broadcast: bool) -> list[Frame]:
        now = self.clock()
        if command is Command.LED_TEXT:
            shown = p.parse_led_text(frame)
            self.text = shown.text
            self.flash_until = now + shown.flash_seconds
            self.writes.append(LedWrite(shown.text, shown.flash_seconds, now))
        elif command is Command.LED_CLEAR:
            self.text = ""
            self.flash_until = 0.0
            self.writes.append(LedWrite("", 0, now))
        elif command is Command.LED_BRIGHTNESS:
            self.brightness = frame.payload[0]
        else:
            return super().handle(frame, command, broadcast)
        return [] if broadcast else [p.device_ack(self.address, command)]

    def reset(self) -> None:
        self.text, self.flash_until, self.brightness = "", 0.0, 100

    def flashing(self, now: float | None = None) -> bool:
        return (self.clock() if now is None else now) < self.flash_until

    def shows(self) -> str:
        return self.text

    def render(self, now: float | None = None) -> str:
        """The strip as a resident sees it; ``*`` marks flashing, ``…`` text that scrolls."""
        overflow = cells(self.text) > self.width
        mark = "*" if self.flashing(now) else " "
        return f"┃{fit(self.text, self.width)}┃{mark}{'…' if overflow else ''}"

    def state(self) -> dict[str, Any]:
        remaining = max(0.0, self.flash_until - self.clock())
        return super().state() | {
            "flashing": remaining > 0,
            "flash_until_epoch": time.time() + remaining if remaining else None,
            "brightness": self.brightness,
            "width": self.width,
            "render": self.render(),
            # What the screen showed lately, oldest first: a call flashes for seconds
            # only, so a status read later would miss it.
            "recent": [w.text for w in self.writes[-RECENT_WRITES:]],
        }


class Keypad(SimDevice):
    """呼叫器: buttons send KEY frames; a small LCD shows what the host tells it."""

    kind = DeviceKind.KEYPAD
    label = "呼叫器"

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.display = ""
        self.seq = 0
        self.acked: list[int] = []
        self.nacked: list[tuple[int, int]] = []

    def press(self, key: Key, arg: str = "", *, repeat: int = 1) -> int:
        """Press a key; ``repeat`` > 1 resends the same frame (a retry after a lost ACK)."""
        self.seq = (self.seq + 1) & 0xFF
        frame = p.key(self.address, self.seq, key, arg)
        for _ in range(repeat):
            self._send(frame)
        return self.seq

    def reset(self) -> None:
        self.display = ""

    def handle(self, frame: Frame, command: Command, broadcast: bool) -> list[Frame]:
        if command is Command.KEYPAD_SHOW:
            self.display = p.parse_text(frame)
        elif command is Command.ACK:
            self.acked.append(frame.payload[0])
            return []
        elif command is Command.NACK:
            self.nacked.append((frame.payload[0], frame.payload[1]))
            return []
        else:
            return super().handle(frame, command, broadcast)
        return [] if broadcast else [p.device_ack(self.address, command)]

    def shows(self) -> str:
        return self.display

    def state(self) -> dict[str, Any]:
        return super().state() | {"acked": len(self.acked), "nacked": len(self.nacked)}


class RatingPad(SimDevice):
    """评价器: five keys 非常满意…非常不满意, lit only while the host asks for a rating."""

    kind = DeviceKind.RATING_PAD
    label = "评价器"
    SCORES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}

    def __init__(self, address: int) -> None:
        super().__init__(address)
        self.prompting = False
        self.prompt = ""
        self.message = ""
        self.seq = 0
        self.acked: list[int] = []
        self.nacked: list[tuple[int, int]] = []

    def press(self, score: int, *, repeat: int = 1) -> int:
        self.seq = (self.seq + 1) & 0xFF
        frame = p.rating(self.address, self.seq, score)
        for _ in range(repeat):
            self._send(frame)
        return self.seq

    def reset(self) -> None:
        self.prompting, self.prompt, self.message = False, "", ""

    def handle(self, frame: Frame, command: Command, broadcast: bool) -> list[Frame]:
        if command is Command.RATING_PROMPT:
            self.prompting = True
            self.prompt = p.parse_text(frame)
            self.message = ""
        elif command is Command.RATING_RESET:
            self.prompting = False
            self.message = p.parse_text(frame)
        elif command is Command.ACK:
            self.acked.append(frame.payload[0])
            return []
        elif command is Command.NACK:
            self.nacked.append((frame.payload[0], frame.payload[1]))
            return []
        else:
            return super().handle(frame, command, broadcast)
        return [] if broadcast else [p.device_ack(self.address, command)]

    def shows(self) -> str:
        if self.prompting:
            return f"请评价 {self.prompt}".strip()
        return self.message

    def state(self) -> dict[str, Any]:
        return super().state() | {"prompting": self.prompting}


class SimBus:
    """One serial line with devices on it, served over a real pty."""

    def __init__(
        self,
        devices: Sequence[SimDevice],
        *,
        link_path: str | None = None,
        name: str = "bus",
        status_dir: Path | None = None,
    ) -> None:
        self.name = name
        self.status_dir = status_dir
        self.devices: dict[int, SimDevice] = {}
        for d in devices:
            if d.address in self.devices:
                raise ValueError(f"two devices at address 0x{d.address:02X}")
            d.bus = self
            self.devices[d.address] = d
        self.decoder = FrameDecoder(name=f"sim {name}")
        self.received: list[Frame] = []  # every accepted frame, for assertions
        self.sent: list[Frame] = []
        self._cond = threading.Condition()
        self.port = PtyPort(self._on_data, link_path=link_path, name=name)

    def __enter__(self) -> SimBus:
        self.plug()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def path(self) -> str:
        return self.port.path

    def plug(self) -> str:
        path = self.port.plug()
        self._publish()
        return path

    def unplug(self, *, power_loss: bool = False) -> None:
        """Port vanishes; with ``power_loss`` the devices also forget what they showed."""
        self.port.unplug()
        if power_loss:
            with self._cond:
                for d in self.devices.values():
                    d.reset()
        self._publish()

    def close(self) -> None:
        self.port.close()
        self._publish()

    def __getitem__(self, address: int) -> SimDevice:
        return self.devices[address]

    def send(self, frame: Frame) -> bool:
        with self._cond:
            self.sent.append(frame)
        return self.port.write(p.encode(frame))

    def write_raw(self, data: bytes) -> bool:
        """Put arbitrary bytes on the line (noise, corrupted frames)."""
        return self.port.write(data)

    def _on_data(self, data: bytes) -> None:
        with self._cond:
            rejected_before = self.decoder.stats.rejected_total
            frames = self.decoder.feed(data)
            replies: list[Frame] = []
            for frame in frames:
                self.received.append(frame)
                command = Command(frame.command)  # the decoder only lets known ones through
                if frame.address == p.BROADCAST:
                    for d in self.devices.values():
                        d.handle(frame, command, True)
                elif frame.address in self.devices:
                    replies += self.devices[frame.address].handle(frame, command, False)
            if frames or self.decoder.stats.rejected_total != rejected_before:
                # File first, then wake waiters: whoever waited may read the status next.
                self._publish()
                self._cond.notify_all()
        for r in replies:
            self.send(r)

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Block until ``predicate()`` holds (checked after every frame) or timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
            return True

    def status(self) -> dict[str, Any]:
        with self._cond:
            return {
                "name": self.name,
                "kind": "bus",
                "path": self.port.link_path or self.port.slave_name,
                "plugged": self.port.plugged,
                "frames": self.decoder.stats.frames,
                "rejected": dict(self.decoder.stats.rejected),
                "skipped_bytes": self.decoder.stats.skipped_bytes,
                "devices": [
                    d.state() for d in sorted(self.devices.values(), key=lambda d: d.address)
                ],
            }

    def render(self) -> str:
        lines = [f"{self.name}  {self.port.link_path or self.port.slave_name}"]
        for d in sorted(self.devices.values(), key=lambda d: d.address):
            shown = d.render() if isinstance(d, LedScreen) else d.shows()
            lines.append(f"  0x{d.address:02X} {d.label} {shown}")
        return "\n".join(lines)

    def _publish(self) -> None:
        if self.status_dir is not None:
            write_status(self.status_dir, self.name, self.status())
