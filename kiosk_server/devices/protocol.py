"""The hallq serial frame format: a pure codec, no I/O.

Frame layout (documented with examples in docs/serial-protocol.md)::

    [FF]  68  L  L  68  ADDR  CMD  PAYLOAD...  CS  16

``FF`` (or ``FE``) preamble bytes are optional; ``L`` = 2 + len(payload) and is
sent twice (the M-Bus long-frame trick: a corrupted length is caught before we
wait for a frame that never ends); ``CS`` is the sum of ADDR, CMD and PAYLOAD
modulo 256. Screen text is GB18030.

The decoder is streaming and never raises on line noise: every rejected frame is
logged, counted by reason, and dropped; it never reaches a handler.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum

log = logging.getLogger(__name__)

START = 0x68
END = 0x16
PREAMBLE = 0xFF
PREAMBLE_BYTES = frozenset({0xFF, 0xFE})
BROADCAST = 0xFF
MAX_BODY = 255  # L is one byte: address + command + payload
MAX_PAYLOAD = MAX_BODY - 2
HEADER_LEN = 4  # 68 L L 68
OVERHEAD = 6  # header + checksum + end
TEXT_ENCODING = "gb18030"


class Command(IntEnum):
    # host -> device
    PING = 0x01
    ACK = 0x02  # host accepted a device event: payload seq
    NACK = 0x03  # host refused a device event: payload seq, reason
    LED_TEXT = 0x10  # payload flash seconds (1 byte) + GB18030 text
    LED_CLEAR = 0x11
    LED_BRIGHTNESS = 0x12  # payload percent 0-100
    KEYPAD_SHOW = 0x20  # GB18030 text for the keypad's small LCD
    RATING_PROMPT = 0x30  # GB18030 text (ticket number); pad lights its keys
    RATING_RESET = 0x31  # optional GB18030 text (thanks); pad goes idle
    # device -> host
    PONG = 0x81  # payload device kind
    DEVICE_ACK = 0x82  # payload: the command executed
    DEVICE_NACK = 0x83  # payload: the command refused, reason
    KEY = 0xA0  # payload seq, key code, ASCII argument
    RATING = 0xB0  # payload seq, score 1-5


class DeviceKind(IntEnum):
    LED = 0x01
    KEYPAD = 0x02
    RATING_PAD = 0x03


class Key(IntEnum):
    """Caller-keypad keys: one per button on the counter page."""

    CALL_NEXT = 0x01  # 叫号
    RECALL = 0x02  # 重呼
    START = 0x03  # 开始办理
    FINISH = 0x04  # 办结 (argument: outcome digit)
    NO_SHOW = 0x05  # 过号
    HOLD = 0x06  # 挂起
    CALL_BACK = 0x07  # 回呼 (argument: held ticket number)
    TRANSFER = 0x08  # 转移 (argument: target counter number)
    PAUSE = 0x09  # 暂停
    RESUME = 0x0A  # 恢复
    CALL = 0x0B  # 指定叫号 (argument: ticket number)


class NackReason(IntEnum):
    BAD_PAYLOAD = 0x01  # frame well formed but the payload makes no sense
    REFUSED = 0x02  # the server refused the action (wrong state, no ticket...)
    UNAVAILABLE = 0x03  # the server could not be reached
    UNSUPPORTED = 0x04  # device cannot do this (e.g. text it cannot show)


class Reject(StrEnum):
    WRONG_LENGTH = "wrong_length"
    BAD_END = "bad_end"
    BAD_CHECKSUM = "bad_checksum"
    UNKNOWN_COMMAND = "unknown_command"
    BAD_PAYLOAD = "bad_payload"
    TRUNCATED = "truncated"


class FrameError(ValueError):
    """A frame that cannot be encoded or whose payload does not fit its command."""

    def __init__(self, reason: Reject, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Frame:
    address: int
    command: int
    payload: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.address <= 0xFF:
            raise FrameError(Reject.BAD_PAYLOAD, f"address {self.address} is not one byte")
        if not 0 <= self.command <= 0xFF:
            raise FrameError(Reject.BAD_PAYLOAD, f"command {self.command} is not one byte")
        if len(self.payload) > MAX_PAYLOAD:
            raise FrameError(
                Reject.WRONG_LENGTH,
                f"payload is {len(self.payload)} bytes, at most {MAX_PAYLOAD} fit in a frame",
            )

    def describe(self) -> str:
        try:
            name = Command(self.command).name
        except ValueError:
            name = f"0x{self.command:02X}"
        return f"{name}@0x{self.address:02X} [{self.payload.hex(' ').upper()}]"


def checksum(body: bytes) -> int:
    return sum(body) & 0xFF


def encode(frame: Frame, *, preamble: bool = True) -> bytes:
    body = bytes((frame.address, frame.command)) + frame.payload
    length = len(body)
    head = bytes((PREAMBLE,)) if preamble else b""
    return head + bytes((START, length, length, START)) + body + bytes((checksum(body), END))


# ---------------------------------------------------------------- payloads


@dataclass(frozen=True)
class LedText:
    flash_seconds: int
    text: str


@dataclass(frozen=True)
class KeyEvent:
    seq: int
    key: Key
    arg: str


@dataclass(frozen=True)
class RatingPress:
    seq: int
    score: int


_ARG = re.compile(rb"^[0-9A-Z]{0,8}$")
MAX_TEXT = {  # bytes of GB18030 each device can hold
    Command.LED_TEXT: 64,
    Command.KEYPAD_SHOW: 32,
    Command.RATING_PROMPT: 32,
    Command.RATING_RESET: 32,
}


def _text(raw: bytes, command: Command) -> str:
    limit = MAX_TEXT[command]
    if len(raw) > limit:
        raise FrameError(
            Reject.WRONG_LENGTH, f"{command.name} text is {len(raw)} bytes, at most {limit}"
        )
    try:
        return raw.decode(TEXT_ENCODING)
    except UnicodeDecodeError:
        raise FrameError(Reject.BAD_PAYLOAD, f"{command.name} text is not valid GB18030") from None


def _fixed(payload: bytes, command: Command, size: int) -> None:
    if len(payload) != size:
        raise FrameError(
            Reject.WRONG_LENGTH,
            f"{command.name} carries {size} payload bytes, this frame has {len(payload)}",
        )


def _check_payload(command: Command, p: bytes) -> None:
    """Validate ``p`` against ``command``'s payload shape; raise FrameError if it does not fit."""
    if command in (Command.PING, Command.LED_CLEAR):
        _fixed(p, command, 0)
    elif command in (Command.PONG, Command.LED_BRIGHTNESS, Command.ACK, Command.DEVICE_ACK):
        _fixed(p, command, 1)
        if command is Command.LED_BRIGHTNESS and p[0] > 100:
            raise FrameError(Reject.BAD_PAYLOAD, f"brightness {p[0]}% is over 100%")
    elif command in (Command.NACK, Command.DEVICE_NACK):
        _fixed(p, command, 2)
    elif command is Command.LED_TEXT:
        if len(p) < 1:
            raise FrameError(Reject.WRONG_LENGTH, "LED_TEXT needs a flash-seconds byte")
        _text(p[1:], command)
    elif command in (Command.KEYPAD_SHOW, Command.RATING_PROMPT, Command.RATING_RESET):
        _text(p, command)
    elif command is Command.KEY:
        if not 2 <= len(p) <= 10:
            raise FrameError(Reject.WRONG_LENGTH, f"KEY carries 2-10 payload bytes, not {len(p)}")
        if p[1] not in Key._value2member_map_:
            raise FrameError(Reject.BAD_PAYLOAD, f"unknown key code 0x{p[1]:02X}")
        if not _ARG.match(p[2:]):
            raise FrameError(Reject.BAD_PAYLOAD, "KEY argument must be ASCII 0-9/A-Z")
    elif command is Command.RATING:
        _fixed(p, command, 2)
        if not 1 <= p[1] <= 5:
            raise FrameError(Reject.BAD_PAYLOAD, f"rating score {p[1]} is not 1-5")


def validate(frame: Frame) -> Command:
    """Return the frame's Command, or raise FrameError (unknown command, bad payload)."""
    try:
        command = Command(frame.command)
    except ValueError:
        raise FrameError(Reject.UNKNOWN_COMMAND, f"unknown command 0x{frame.command:02X}") from None
    _check_payload(command, frame.payload)
    return command


# builders: every frame the system sends goes through one of these, so an
# invalid frame is caught where it is made, not by the device.


def _built(frame: Frame) -> Frame:
    validate(frame)
    return frame


def led_text(address: int, text: str, flash_seconds: int = 0) -> Frame:
    if not 0 <= flash_seconds <= 255:
        raise FrameError(Reject.BAD_PAYLOAD, f"flash {flash_seconds}s does not fit one byte")
    try:
        raw = text.encode(TEXT_ENCODING)
    except UnicodeEncodeError:  # only lone surrogates fail: GB18030 covers Unicode
        raise FrameError(Reject.BAD_PAYLOAD, f"{text!r} cannot be encoded as GB18030") from None
    return _built(Frame(address, Command.LED_TEXT, bytes((flash_seconds,)) + raw))


def led_clear(address: int) -> Frame:
    return Frame(address, Command.LED_CLEAR)


def led_brightness(address: int, percent: int) -> Frame:
    if not 0 <= percent <= 100:
        raise FrameError(Reject.BAD_PAYLOAD, f"brightness {percent}% is not 0-100")
    return Frame(address, Command.LED_BRIGHTNESS, bytes((percent,)))


def ping(address: int) -> Frame:
    return Frame(address, Command.PING)


def pong(address: int, kind: DeviceKind) -> Frame:
    return Frame(address, Command.PONG, bytes((kind,)))


def ack(address: int, seq: int) -> Frame:
    return Frame(address, Command.ACK, bytes((seq & 0xFF,)))


def nack(address: int, seq: int, reason: NackReason) -> Frame:
    return Frame(address, Command.NACK, bytes((seq & 0xFF, reason)))


def device_ack(address: int, command: int) -> Frame:
    return Frame(address, Command.DEVICE_ACK, bytes((command,)))


def device_nack(address: int, command: int, reason: NackReason) -> Frame:
    return Frame(address, Command.DEVICE_NACK, bytes((command, reason)))


def _text_frame(address: int, command: Command, text: str) -> Frame:
    return _built(Frame(address, command, text.encode(TEXT_ENCODING)))


def keypad_show(address: int, text: str) -> Frame:
    return _text_frame(address, Command.KEYPAD_SHOW, text)


def rating_prompt(address: int, text: str = "") -> Frame:
    return _text_frame(address, Command.RATING_PROMPT, text)


def rating_reset(address: int, text: str = "") -> Frame:
    return _text_frame(address, Command.RATING_RESET, text)


def key(address: int, seq: int, key: Key, arg: str = "") -> Frame:
    return _built(Frame(address, Command.KEY, bytes((seq & 0xFF, key)) + arg.encode("ascii")))


def rating(address: int, seq: int, score: int) -> Frame:
    return _built(Frame(address, Command.RATING, bytes((seq & 0xFF, score & 0xFF))))


# parsers: only called on frames the decoder accepted (so shapes are known good)


def parse_led_text(frame: Frame) -> LedText:
    return LedText(frame.payload[0], frame.payload[1:].decode(TEXT_ENCODING))


def parse_text(frame: Frame) -> str:
    return frame.payload.decode(TEXT_ENCODING)


def parse_key(frame: Frame) -> KeyEvent:
    p = frame.payload
    return KeyEvent(p[0], Key(p[1]), p[2:].decode("ascii"))


def parse_rating(frame: Frame) -> RatingPress:
    return RatingPress(frame.payload[0], frame.payload[1])


# ----------------------------------------------------------------- decoder


@dataclass
class DecoderStats:
    frames: int = 0
    skipped_bytes: int = 0  # line noise outside any frame (preamble bytes not counted)
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


class FrameDecoder:
    """Turns a byte stream into frames; resynchronises on the next ``68`` after noise.

    ``partial_timeout`` bounds how long an incomplete frame may hold the buffer: a
    header forged by noise (``68 FF FF 68``) would otherwise delay the real frames
    behind it until 261 bytes arrived. Call ``feed(b"", now)`` on read timeouts.
    """

    def __init__(
        self,
        *,
        name: str = "serial",
        partial_timeout: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.partial_timeout = partial_timeout
        self.clock = clock
        self.stats = DecoderStats()
        self._buf = bytearray()
        self._partial_since: float | None = None

    def _reject(self, reason: Reject, detail: str, raw: bytes) -> None:
        self.stats.rejected[reason.value] += 1
        log.warning(
            "%s: rejected frame (%s): %s; bytes %s", self.name, reason.value, detail, raw.hex(" ")
        )

    def _skip(self, n: int) -> None:
        self.stats.skipped_bytes += sum(1 for b in self._buf[:n] if b not in PREAMBLE_BYTES)
        del self._buf[:n]

    def feed(self, data: bytes, now: float | None = None) -> list[Frame]:
        now = self.clock() if now is None else now
        if (
            self._buf
            and self._partial_since is not None
            and now - self._partial_since >= self.partial_timeout
        ):
            self._reject(Reject.TRUNCATED, "frame incomplete after timeout", bytes(self._buf[:16]))
            del self._buf[:1]
            self._partial_since = None
        before = len(self._buf)
        self._buf += data
        out = self._scan()
        if not self._buf:
            self._partial_since = None
        elif self._partial_since is None or len(self._buf) < before + len(data):
            # A new partial frame starts now (the old one was completed or dropped).
            self._partial_since = now
        return out

    def _scan(self) -> list[Frame]:
        out: list[Frame] = []
        buf = self._buf
        while True:
            start = buf.find(START)
            if start < 0:
                self._skip(len(buf))
                break
            if start:
                self._skip(start)
            if len(buf) < HEADER_LEN:
                break  # wait for the rest of the header
            if buf[3] != START:
                # Not a header: a stray 68 (also inside GB18030 text). Silent resync.
                self._skip(1)
                continue
            l1, l2 = buf[1], buf[2]
            if l1 != l2 or l1 < 2:
                self._reject(Reject.WRONG_LENGTH, f"length bytes {l1:02X} {l2:02X}", bytes(buf[:4]))
                del buf[:1]
                continue
            total = l1 + OVERHEAD
            if len(buf) < total:
                break
            raw = bytes(buf[:total])
            if raw[-1] != END:
                # Length points past the frame end: corrupt length or a truncated frame
                # followed by the next one. Drop one byte only, the next frame may be inside.
                self._reject(Reject.BAD_END, f"byte {raw[-1]:02X} where 16 was due", raw)
                del buf[:1]
                continue
            body = raw[HEADER_LEN:-2]
            if checksum(body) != raw[-2]:
                self._reject(
                    Reject.BAD_CHECKSUM, f"sum {checksum(body):02X}, frame says {raw[-2]:02X}", raw
                )
                del buf[:total]
                continue
            del buf[:total]
            frame = Frame(body[0], body[1], bytes(body[2:]))
            try:
                validate(frame)
            except FrameError as e:
                self._reject(e.reason, str(e), raw)
                continue
            self.stats.frames += 1
            out.append(frame)
        return out
