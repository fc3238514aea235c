"""Printer status (``DLE EOT``) and the typed errors a print job can end with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

DLE_EOT = b"\x10\x04"
#: Real-time status requests: 1 printer, 2 offline cause, 3 error cause, 4 paper roll sensor.
QUERY_PRINTER = DLE_EOT + b"\x01"
QUERY_OFFLINE_CAUSE = DLE_EOT + b"\x02"
QUERY_ERROR_CAUSE = DLE_EOT + b"\x03"
QUERY_PAPER = DLE_EOT + b"\x04"

Paper = Literal["ok", "near_end", "out", "unknown"]
State = Literal["ok", "paper_near_end", "paper_out", "cover_open", "offline", "unknown"]

#: What each state means to hall staff, for the kiosk and the device list.
STATE_TEXT: dict[str, str] = {
    "ok": "正常",
    "paper_near_end": "纸将用完",
    "paper_out": "缺纸",
    "cover_open": "上盖打开",
    "offline": "离线",
    "unknown": "状态未知",
}


def is_status_byte(b: int) -> bool:
    """Whether ``b`` has the fixed bits of a ``DLE EOT`` reply.

    Every reply to ``DLE EOT n`` has bit 0 = 0, bit 1 = 1, bit 4 = 1, bit 7 = 0.
    Anything else (an ASB block, line noise, an echo) is not a status answer.
    """
    return (b & 0x93) == 0x12


def printer_online(b: int) -> bool:
    """``DLE EOT 1``: bit 3 set means offline."""
    return not (b & 0x08)


def paper_from_sensor(b: int) -> Paper:
    """``DLE EOT 4``: bits 5-6 paper end, bits 2-3 paper near end."""
    if b & 0x60 == 0x60:
        return "out"
    if b & 0x0C == 0x0C:
        return "near_end"
    return "ok"


def cover_open_from_cause(b: int) -> bool:
    """``DLE EOT 2``: bit 2 set means the cover is open."""
    return bool(b & 0x04)


def paper_end_stop_from_cause(b: int) -> bool:
    """``DLE EOT 2``: bit 5 set means printing stopped at paper end."""
    return bool(b & 0x20)


@dataclass(frozen=True)
class PrinterStatus:
    """What the printer said about itself; ``None``/``"unknown"`` where it did not say.

    A printer that does not answer is never reported as having paper.
    """

    online: bool | None
    paper: Paper
    cover_open: bool | None
    #: Why a field is unknown, or the transport error (English, for logs).
    detail: str = ""

    @property
    def state(self) -> State:
        """One summary word, worst first."""
        if self.cover_open:
            return "cover_open"
        if self.paper == "out":
            return "paper_out"
        if self.online is False:
            return "offline"
        if self.online is None or self.paper == "unknown":
            return "unknown"
        if self.paper == "near_end":
            return "paper_near_end"
        return "ok"

    @property
    def can_print(self) -> bool:
        return self.state in ("ok", "paper_near_end")

    @property
    def text(self) -> str:
        return STATE_TEXT[self.state]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the device list and ``device.status`` events."""
        return {
            "state": self.state,
            "text": self.text,
            "online": self.online,
            "paper": self.paper,
            "cover_open": self.cover_open,
            "detail": self.detail,
        }

    @classmethod
    def unknown(cls, detail: str) -> PrinterStatus:
        return cls(online=None, paper="unknown", cover_open=None, detail=detail)

    @classmethod
    def unreachable(cls, detail: str) -> PrinterStatus:
        return cls(online=False, paper="unknown", cover_open=None, detail=detail)


class PrinterError(Exception):
    """A print job or status query failed; ``code`` is stable, the texts are for people."""

    code = "error"

    def __init__(self, reason_zh: str, reason_en: str, status: PrinterStatus | None = None):
        super().__init__(f"{reason_zh} / {reason_en}")
        self.reason_zh = reason_zh
        self.reason_en = reason_en
        self.status = status

    @property
    def retryable(self) -> bool:
        """Whether trying again may help without someone touching the printer."""
        return False


class PrinterOffline(PrinterError):
    code = "offline"

    @property
    def retryable(self) -> bool:
        return True


class PaperOut(PrinterError):
    code = "paper_out"


class CoverOpen(PrinterError):
    code = "cover_open"


class PrinterTimeout(PrinterError):
    code = "timeout"

    @property
    def retryable(self) -> bool:
        return True


def error_for(status: PrinterStatus, where: str) -> PrinterError | None:
    """The error a job must fail with for ``status``, or None when printing may go on."""
    state = status.state
    if state == "paper_out":
        return PaperOut("打印机缺纸，请更换纸卷", f"{where}: printer is out of paper", status)
    if state == "cover_open":
        return CoverOpen("打印机上盖未关好", f"{where}: printer cover is open", status)
    if state == "offline":
        return PrinterOffline(
            "打印机离线", f"{where}: printer is offline ({status.detail or 'no detail'})", status
        )
    return None
