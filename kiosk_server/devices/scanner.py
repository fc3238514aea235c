"""QR / ID-card scanners: lines of text on a serial port (no framing).

A scanner in "serial keyboard" mode sends each code followed by CR, LF or CRLF.
``LineSplitter`` cuts the stream into lines, ``classify`` says what a line is:
an 18-character resident ID number, one of our appointment codes, or any other
QR payload (the national medical-insurance e-voucher included), which is passed
on as an opaque identifier. ID numbers are personal data: ``Scan`` never shows
one in full in its repr, logs or status.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from kiosk_server.core.idnumber import InvalidIdNumber, mask_id, parse_id_number

log = logging.getLogger(__name__)

# Our appointment codes as printed in the booking confirmation QR: "YY" + 6-14
# upper-case letters/digits (the ticket API takes codes of up to 16 characters).
# Configurable because the appointments package owns the format.
DEFAULT_APPOINTMENT_PATTERN = r"^YY[0-9A-Z]{6,14}$"
_ID_SHAPE = re.compile(r"^\d{17}[\dXx]$")
_OLD_ID = re.compile(r"^\d{15}$")


class ScanKind(StrEnum):
    ID_NUMBER = "id_number"
    APPOINTMENT = "appointment"
    OPAQUE = "opaque"
    INVALID = "invalid"


@dataclass(frozen=True)
class Scan:
    kind: ScanKind
    value: str = field(repr=False)
    reason: str = ""

    @property
    def masked(self) -> str:
        """What may be logged or shown on a screen."""
        if self.kind is ScanKind.ID_NUMBER:
            return mask_id(self.value)
        if self.kind is ScanKind.APPOINTMENT:
            return self.value
        if len(self.value) <= 4:
            return "*" * len(self.value)
        return self.value[:4] + f"…({len(self.value)})"

    def __repr__(self) -> str:
        return f"Scan(kind={self.kind.value}, value={self.masked!r}, reason={self.reason!r})"


def classify(
    line: str,
    *,
    appointment_pattern: str = DEFAULT_APPOINTMENT_PATTERN,
    today: date | None = None,
) -> Scan:
    text = line.strip()
    if not text:
        return Scan(ScanKind.INVALID, "", "empty line")
    if _ID_SHAPE.match(text):
        try:
            parsed = parse_id_number(text, today=today)
        except InvalidIdNumber as e:
            # Looks like an ID but fails its check digit/date: a misread, not a QR code.
            return Scan(ScanKind.INVALID, text.upper(), str(e))
        return Scan(ScanKind.ID_NUMBER, parsed.value)
    if _OLD_ID.match(text):
        return Scan(ScanKind.INVALID, text, "old 15-digit ID number")
    if re.match(appointment_pattern, text.upper()):
        return Scan(ScanKind.APPOINTMENT, text.upper())
    return Scan(ScanKind.OPAQUE, text)


@dataclass
class LineStats:
    lines: int = 0
    too_long: int = 0
    undecodable: int = 0


class LineSplitter:
    """Bytes in, complete text lines out. A line longer than ``max_line`` is dropped whole."""

    def __init__(self, *, max_line: int = 1024, name: str = "scanner") -> None:
        self.max_line = max_line
        self.name = name
        self.stats = LineStats()
        self._buf = bytearray()
        self._discarding = False  # inside an over-long line: drop until its terminator

    def feed(self, data: bytes) -> list[str]:
        out: list[str] = []
        for b in data:
            if b in (0x0D, 0x0A):
                if self._discarding:
                    self._discarding = False
                elif self._buf:
                    line = self._decode(bytes(self._buf))
                    if line is not None and line.strip():
                        self.stats.lines += 1
                        out.append(line.strip())
                self._buf.clear()  # CRLF: the LF finds an empty buffer and is skipped
                continue
            if self._discarding:
                continue
            self._buf.append(b)
            if len(self._buf) > self.max_line:
                self.stats.too_long += 1
                log.warning("%s: line over %d bytes dropped", self.name, self.max_line)
                self._buf.clear()
                self._discarding = True
        return out

    def _decode(self, raw: bytes) -> str | None:
        for encoding in ("utf-8", "gb18030"):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        self.stats.undecodable += 1
        log.warning("%s: line of %d bytes is neither UTF-8 nor GB18030", self.name, len(raw))
        return None


def issue_fields(scan: Scan) -> dict[str, str]:
    """The fields a scan fills in the kiosk's ticket request
    (``POST /api/v1/halls/{hall}/tickets``), exactly as if typed on the kiosk page;
    nothing for a scan the kiosk cannot use (it shows the error instead)."""
    if scan.kind is ScanKind.ID_NUMBER:
        return {"id_number": scan.value}
    if scan.kind is ScanKind.APPOINTMENT:
        return {"appointment_code": scan.value}
    return {}
