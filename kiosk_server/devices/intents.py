"""Keypad and rating-pad frames -> intents: what the counter wants done.

Pure translation, no I/O. An intent names the same action as the matching
button on the counter page (``action`` values are the page's), so whatever
executes it — the HTTP adapter in a bridge process, or the service in the
server — does exactly what the button does.

Devices retry a frame when an ACK is lost, with the same sequence byte: a
repeat of the last sequence from an address within ``repeat_window`` seconds is
reported as a duplicate, to be acknowledged again but not acted on twice.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from kiosk_server.core.states import Outcome
from kiosk_server.devices import protocol as p
from kiosk_server.devices.protocol import Command, Frame, Key

log = logging.getLogger(__name__)

# key -> (action name as on the counter page, label shown on the keypad LCD)
KEY_ACTIONS: dict[Key, tuple[str, str]] = {
    Key.CALL_NEXT: ("call_next", "叫号"),
    Key.RECALL: ("recall", "重呼"),
    Key.START: ("start", "开始办理"),
    Key.FINISH: ("finish", "办结"),
    Key.NO_SHOW: ("no_show", "过号"),
    Key.HOLD: ("hold", "挂起"),
    Key.CALL_BACK: ("call_back", "回呼"),
    Key.TRANSFER: ("transfer", "转移"),
    Key.PAUSE: ("pause", "暂停"),
    Key.RESUME: ("resume", "恢复"),
    Key.CALL: ("call", "指定叫号"),
}
ACTION_LABELS = {action: label for action, label in KEY_ACTIONS.values()}

# 办结 key argument: the digit typed before it picks the outcome (none = completed).
FINISH_OUTCOMES: dict[str, Outcome] = {
    "": Outcome.COMPLETED,
    "1": Outcome.COMPLETED,
    "2": Outcome.INCOMPLETE_PAPERS,
    "3": Outcome.INFORMED,
    "4": Outcome.PROXY,
}
TICKET_NUMBER = re.compile(r"^[A-Z]{1,2}\d{3,4}$")
COUNTER_NUMBER = re.compile(r"^[1-9]\d{0,2}$")


@dataclass(frozen=True)
class KeypadIntent:
    address: int
    counter: int
    action: str
    seq: int
    number: str | None = None  # call / call_back: the ticket number
    outcome: Outcome | None = None  # finish
    to_counter: int | None = None  # transfer

    @property
    def label(self) -> str:
        return ACTION_LABELS[self.action]


@dataclass(frozen=True)
class RatingIntent:
    address: int
    counter: int
    score: int  # 5 非常满意 … 1 非常不满意
    seq: int


@dataclass(frozen=True)
class Ignored:
    """A frame that must not be acted on; ``duplicate`` ones are acknowledged again."""

    address: int
    seq: int
    reason: str
    duplicate: bool = False


class RepeatFilter:
    def __init__(self, window: float, clock: Callable[[], float]) -> None:
        self.window = window
        self.clock = clock
        self._last: dict[int, tuple[int, float]] = {}

    def is_repeat(self, address: int, seq: int) -> bool:
        now = self.clock()
        last = self._last.get(address)
        self._last[address] = (seq, now)
        # The sequence wraps after 256 presses, so an old equal number is a new press.
        return last is not None and last[0] == seq and now - last[1] <= self.window


class KeypadTranslator:
    def __init__(
        self,
        counters: Mapping[int, int],
        *,
        repeat_window: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.counters = dict(counters)  # keypad address -> counter
        self.repeats = RepeatFilter(repeat_window, clock)

    def translate(self, frame: Frame) -> KeypadIntent | Ignored:
        if frame.command != Command.KEY:
            raise ValueError(f"not a key frame: {frame.describe()}")
        event = p.parse_key(frame)
        counter = self.counters.get(frame.address)
        if counter is None:
            return Ignored(frame.address, event.seq, f"no counter has keypad 0x{frame.address:02X}")
        if self.repeats.is_repeat(frame.address, event.seq):
            return Ignored(frame.address, event.seq, "repeated frame", duplicate=True)
        action, _ = KEY_ACTIONS[event.key]
        arg = event.arg
        base = KeypadIntent(frame.address, counter, action, event.seq)
        if event.key in (Key.CALL, Key.CALL_BACK):
            if arg and not TICKET_NUMBER.match(arg):
                return Ignored(frame.address, event.seq, f"{arg!r} is not a ticket number")
            if not arg:
                return Ignored(frame.address, event.seq, f"{action} needs a ticket number")
            return replace(base, number=arg)
        if event.key is Key.TRANSFER:
            if not COUNTER_NUMBER.match(arg):
                return Ignored(frame.address, event.seq, "转移 needs the target counter number")
            if int(arg) == counter:
                return Ignored(frame.address, event.seq, "cannot transfer to the same counter")
            return replace(base, to_counter=int(arg))
        if event.key is Key.FINISH:
            outcome = FINISH_OUTCOMES.get(arg)
            if outcome is None:
                return Ignored(frame.address, event.seq, f"no outcome {arg!r} (1-4)")
            return replace(base, outcome=outcome)
        if arg:
            return Ignored(frame.address, event.seq, f"{action} takes no argument, got {arg!r}")
        return base


class RatingTranslator:
    def __init__(
        self,
        counters: Mapping[int, int],
        *,
        repeat_window: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.counters = dict(counters)  # rating-pad address -> counter
        self.repeats = RepeatFilter(repeat_window, clock)

    def translate(self, frame: Frame) -> RatingIntent | Ignored:
        if frame.command != Command.RATING:
            raise ValueError(f"not a rating frame: {frame.describe()}")
        press = p.parse_rating(frame)
        counter = self.counters.get(frame.address)
        if counter is None:
            return Ignored(
                frame.address, press.seq, f"no counter has rating pad 0x{frame.address:02X}"
            )
        if self.repeats.is_repeat(frame.address, press.seq):
            return Ignored(frame.address, press.seq, "repeated frame", duplicate=True)
        return RatingIntent(frame.address, counter, press.score, press.seq)
