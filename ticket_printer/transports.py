"""Printer URLs, connections and status queries.

Supported URLs (the ``HALLQ_PRINTER`` style setting)::

    dummy://                               bytes kept in memory, status ok
    tcp://HOST[:9100]                      raw TCP ("JetDirect"), reads status back
    serial:///dev/ttyUSB0?baudrate=9600    RS-232 / USB-serial, reads status back
    usb://VID:PID                          USB printer class via pyusb, reads status back
    file:///dev/usb/lp0                    character device, write only

Every URL takes ``?status=required|optional|off`` (default ``required``):
whether a job may be sent when the printer did not answer ``DLE EOT``.

All calls block but none blocks longer than its ``timeout``; the server runs
them in a worker thread.  Each call opens its own connection and closes it,
because raw-TCP printers serve one connection at a time.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal, get_args
from urllib.parse import parse_qsl, urlsplit

from ticket_printer.status import (
    QUERY_OFFLINE_CAUSE,
    QUERY_PAPER,
    QUERY_PRINTER,
    CoverOpen,
    Paper,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    PrinterTimeout,
    cover_open_from_cause,
    error_for,
    is_status_byte,
    paper_end_stop_from_cause,
    paper_from_sensor,
    printer_online,
)

__all__ = [
    "CoverOpen",
    "DummyPrinter",
    "FilePrinter",
    "PaperOut",
    "Printer",
    "PrinterError",
    "PrinterOffline",
    "PrinterStatus",
    "PrinterTarget",
    "PrinterTimeout",
    "SerialOptions",
    "SerialPrinter",
    "TcpPrinter",
    "UsbPrinter",
    "open_printer",
    "parse_printer_url",
]

Scheme = Literal["dummy", "tcp", "serial", "usb", "file"]
StatusMode = Literal["required", "optional", "off"]
DummyState = Literal["ok", "near_end", "paper_out", "cover_open", "offline"]

URL_FORMS = (
    "dummy://, tcp://HOST:9100, serial:///dev/ttyUSB0?baudrate=9600, usb://VID:PID, "
    "file:///dev/usb/lp0"
)
_SERIAL_KEYS = ("baudrate", "bytesize", "parity", "stopbits", "xonxoff", "rtscts", "dsrdtr")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class SerialOptions:
    baudrate: int = 9600
    bytesize: int = 8
    parity: Literal["N", "E", "O", "M", "S"] = "N"
    stopbits: float = 1
    xonxoff: bool = False
    rtscts: bool = False
    dsrdtr: bool = False


@dataclass(frozen=True)
class PrinterTarget:
    """A validated printer URL."""

    scheme: Scheme
    url: str
    host: str | None = None
    port: int | None = None
    path: str | None = None
    serial: SerialOptions | None = None
    vendor_id: int | None = None
    product_id: int | None = None
    in_ep: int | None = None
    out_ep: int | None = None
    status_mode: StatusMode = "required"
    dummy_state: DummyState = "ok"

    @property
    def reads_back(self) -> bool:
        """Whether the transport can carry the printer's status replies."""
        return self.scheme in ("tcp", "serial", "usb", "dummy")

    def __str__(self) -> str:
        return self.url


def _bad(url: str, why: str) -> ValueError:
    return ValueError(f"invalid printer URL {url!r}: {why}. Accepted forms: {URL_FORMS}")


def _flag(url: str, key: str, value: str) -> bool:
    v = value.lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise _bad(url, f"option {key}={value!r} must be true or false")


def _int(url: str, key: str, value: str, lo: int, hi: int) -> int:
    try:
        n = int(value, 0)
    except ValueError:
        raise _bad(url, f"option {key}={value!r} is not a number") from None
    if not lo <= n <= hi:
        raise _bad(url, f"option {key}={n} is outside {lo}..{hi}")
    return n


def parse_printer_url(url: str) -> PrinterTarget:
    """Validate a printer URL; raise ValueError saying what is wrong and what is accepted."""
    raw = url.strip()
    if not raw:
        raise _bad(url, "it is empty")
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in get_args(Scheme):
        raise _bad(url, f"unknown scheme {parts.scheme!r}" if parts.scheme else "no scheme")
    if parts.fragment:
        raise _bad(url, "fragments (#...) are not allowed")
    opts: dict[str, str] = {}
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _bad(url, f"cannot read the options {parts.query!r}") from None
    for k, v in pairs:
        if k in opts:
            raise _bad(url, f"option {k!r} given twice")
        opts[k] = v

    mode = opts.pop("status", "required").lower()
    if mode not in get_args(StatusMode):
        raise _bad(url, f"status={mode!r} must be required, optional or off")
    status_mode: StatusMode = mode  # type: ignore[assignment]

    def reject_unknown(allowed: tuple[str, ...]) -> None:
        if opts:
            extra = ", ".join(sorted(opts))
            allowed_text = ", ".join(("status", *allowed))
            raise _bad(url, f"unknown option(s) {extra} for {scheme}:// (allowed: {allowed_text})")

    if scheme == "dummy":
        state = opts.pop("state", "ok")
        reject_unknown(("state",))
        if parts.netloc or parts.path not in ("", "/"):
            raise _bad(url, "dummy:// takes no host or path")
        if state not in get_args(DummyState):
            raise _bad(url, f"state={state!r} must be one of {', '.join(get_args(DummyState))}")
        return PrinterTarget("dummy", raw, status_mode=status_mode, dummy_state=state)  # type: ignore[arg-type]

    if scheme == "tcp":
        reject_unknown(())
        host = parts.hostname
        if not host:
            raise _bad(url, "tcp:// needs a host, e.g. tcp://192.168.1.50:9100")
        try:
            port = parts.port or 9100
        except ValueError:
            raise _bad(url, "the port must be a number between 1 and 65535") from None
        if parts.path not in ("", "/") or parts.username or parts.password:
            raise _bad(url, "tcp:// takes only HOST:PORT")
        shown = f"[{host}]" if ":" in host else host
        return PrinterTarget(
            "tcp", f"tcp://{shown}:{port}", host=host, port=port, status_mode=status_mode
        )

    if scheme == "serial":
        device = parts.path if not parts.netloc else parts.netloc + parts.path
        if not device or device == "/":
            raise _bad(url, "serial:// needs a device, e.g. serial:///dev/ttyUSB0")
        parity = opts.pop("parity", "N").upper()
        if parity not in ("N", "E", "O", "M", "S"):
            raise _bad(url, f"parity={parity!r} must be N, E, O, M or S")
        stop_raw = opts.pop("stopbits", "1")
        if stop_raw not in ("1", "1.5", "2"):
            raise _bad(url, f"stopbits={stop_raw!r} must be 1, 1.5 or 2")
        so = SerialOptions(
            baudrate=_int(url, "baudrate", opts.pop("baudrate", "9600"), 50, 4_000_000),
            bytesize=_int(url, "bytesize", opts.pop("bytesize", "8"), 5, 8),
            parity=parity,  # type: ignore[arg-type]
            stopbits=float(stop_raw),
            xonxoff=_flag(url, "xonxoff", opts.pop("xonxoff", "0")),
            rtscts=_flag(url, "rtscts", opts.pop("rtscts", "0")),
            dsrdtr=_flag(url, "dsrdtr", opts.pop("dsrdtr", "0")),
        )
        reject_unknown(_SERIAL_KEYS)
        return PrinterTarget("serial", raw, path=device, serial=so, status_mode=status_mode)

    if scheme == "usb":
        in_ep = _int(url, "in_ep", opts.pop("in_ep"), 0, 255) if "in_ep" in opts else None
        out_ep = _int(url, "out_ep", opts.pop("out_ep"), 0, 255) if "out_ep" in opts else None
        reject_unknown(("in_ep", "out_ep"))
        ids = parts.netloc.split(":")
        if len(ids) != 2 or parts.path not in ("", "/"):
            raise _bad(url, "usb:// needs VENDOR:PRODUCT in hex, e.g. usb://0416:5011")
        try:
            vid, pid = (int(x.removeprefix("0x").removeprefix("0X"), 16) for x in ids)
        except ValueError:
            raise _bad(url, "vendor and product ids must be hexadecimal, e.g. 0416:5011") from None
        if not (0 <= vid <= 0xFFFF and 0 <= pid <= 0xFFFF):
            raise _bad(url, "vendor and product ids are 16-bit (at most 4 hex digits)")
        return PrinterTarget(
            "usb",
            f"usb://{vid:04x}:{pid:04x}",
            vendor_id=vid,
            product_id=pid,
            in_ep=in_ep,
            out_ep=out_ep,
            status_mode=status_mode,
        )

    # file
    reject_unknown(())
    if parts.netloc not in ("", "localhost"):
        raise _bad(url, "file:// takes an absolute path, e.g. file:///dev/usb/lp0")
    if not parts.path.startswith("/") or parts.path == "/":
        raise _bad(url, "file:// needs an absolute path, e.g. file:///dev/usb/lp0")
    return PrinterTarget("file", raw, path=parts.path, status_mode="off")


# --------------------------------------------------------------------------- connections


class _Conn(ABC):
    """One open connection; every method honours an absolute ``deadline`` (monotonic)."""

    def __init__(self, where: str) -> None:
        self.where = where

    @abstractmethod
    def write(self, data: bytes, deadline: float) -> None: ...

    @abstractmethod
    def read_byte(self, deadline: float) -> int | None:
        """Next byte from the printer, or None when none came before ``deadline``."""

    def drain(self) -> None:  # noqa: B027 - write-only transports have nothing to drain
        """Discard bytes that arrived unasked (late replies, ASB blocks)."""

    @abstractmethod
    def close(self, deadline: float) -> None: ...


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


_WHAT_ZH = {"connecting": "连接", "sending": "发送"}


def _timeout(where: str, what: str, budget: float) -> PrinterTimeout:
    return PrinterTimeout(
        f"打印机响应超时（{_WHAT_ZH.get(what, what)}）",
        f"{where}: timed out after {budget:.1f} s while {what}",
    )


class _TcpConn(_Conn):
    def __init__(self, host: str, port: int, deadline: float, where: str) -> None:
        super().__init__(where)
        self._buf = bytearray()
        budget = _remaining(deadline)
        if budget <= 0:
            raise _timeout(where, "connecting", 0)
        try:
            self.sock = socket.create_connection((host, port), timeout=budget)
        except TimeoutError:
            raise _timeout(where, "connecting", budget) from None
        except OSError as e:
            raise PrinterOffline(
                f"无法连接打印机（{e.strerror or e}）",
                f"{where}: cannot connect: {e}",
                PrinterStatus.unreachable(f"cannot connect: {e}"),
            ) from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes, deadline: float) -> None:
        left = _remaining(deadline)
        if left <= 0:
            raise _timeout(self.where, "sending", 0)
        self.sock.settimeout(left)
        try:
            self.sock.sendall(data)
        except TimeoutError:
            raise _timeout(self.where, "sending", left) from None
        except OSError as e:
            raise PrinterOffline(
                "打印机连接中断", f"{self.where}: connection lost while sending: {e}"
            ) from None

    def read_byte(self, deadline: float) -> int | None:
        while not self._buf:
            left = _remaining(deadline)
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(64)
            except TimeoutError:
                return None
            except OSError as e:
                raise PrinterOffline(
                    "打印机连接中断", f"{self.where}: connection lost while reading: {e}"
                ) from None
            if not chunk:
                raise PrinterOffline(
                    "打印机断开了连接", f"{self.where}: printer closed the connection"
                )
            self._buf += chunk
        b = self._buf[0]
        del self._buf[0]
        return b

    def drain(self) -> None:
        self._buf.clear()
        self.sock.setblocking(False)
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass
        finally:
            self.sock.setblocking(True)

    def close(self, deadline: float) -> None:
        # Half-close and wait (briefly) for the printer to close its side: it
        # then has read every byte, and closing with unread input would send a
        # RST that can make the printer drop the tail of the job.
        try:
            self.sock.shutdown(socket.SHUT_WR)
            end = min(deadline, time.monotonic() + 2.0)
            while _remaining(end) > 0:
                self.sock.settimeout(_remaining(end))
                if not self.sock.recv(4096):
                    break
        except OSError:
            pass
        finally:
            self.sock.close()


class _SerialConn(_Conn):
    def __init__(self, device: str, opts: SerialOptions, deadline: float, where: str) -> None:
        super().__init__(where)
        import serial  # pyserial; imported here so the module loads without it

        self._serial = serial
        try:
            self.port: Any = serial.Serial(
                port=device,
                baudrate=opts.baudrate,
                bytesize=opts.bytesize,
                parity=opts.parity,
                stopbits=opts.stopbits,
                xonxoff=opts.xonxoff,
                rtscts=opts.rtscts,
                dsrdtr=opts.dsrdtr,
                timeout=max(0.0, _remaining(deadline)),
                write_timeout=max(0.0, _remaining(deadline)),
            )
        except (serial.SerialException, ValueError, OSError) as e:
            raise PrinterOffline(
                "无法打开打印机串口",
                f"{where}: cannot open {device}: {e}",
                PrinterStatus.unreachable(f"cannot open {device}: {e}"),
            ) from None

    def write(self, data: bytes, deadline: float) -> None:
        left = _remaining(deadline)
        if left <= 0:
            raise _timeout(self.where, "sending", 0)
        self.port.write_timeout = left
        try:
            self.port.write(data)
        except self._serial.SerialTimeoutException:
            raise _timeout(self.where, "sending", left) from None
        except (self._serial.SerialException, OSError) as e:
            raise PrinterOffline("打印机串口中断", f"{self.where}: write failed: {e}") from None

    def read_byte(self, deadline: float) -> int | None:
        left = _remaining(deadline)
        if left <= 0:
            return None
        self.port.timeout = left
        try:
            got: bytes = self.port.read(1)
        except (self._serial.SerialException, OSError) as e:
            raise PrinterOffline("打印机串口中断", f"{self.where}: read failed: {e}") from None
        return got[0] if got else None

    def drain(self) -> None:
        with contextlib.suppress(self._serial.SerialException, OSError):
            self.port.reset_input_buffer()

    def close(self, deadline: float) -> None:
        with contextlib.suppress(self._serial.SerialException, OSError):
            self.port.close()


class _UsbConn(_Conn):
    """USB printer class device through python-escpos's ``Usb`` (needs pyusb)."""

    def __init__(self, t: PrinterTarget, deadline: float, where: str) -> None:
        super().__init__(where)
        try:
            import usb.core  # noqa: F401 - fail early with a clear message
            from escpos.printer import Usb
        except ImportError:
            raise PrinterError(
                "缺少 USB 打印组件 pyusb", f"{where}: install pyusb (and libusb) to use usb://"
            ) from None
        kwargs: dict[str, Any] = {"timeout": int(max(1, _remaining(deadline) * 1000))}
        if t.in_ep is not None:
            kwargs["in_ep"] = t.in_ep
        if t.out_ep is not None:
            kwargs["out_ep"] = t.out_ep
        self.printer: Any = Usb(t.vendor_id, t.product_id, **kwargs)
        try:
            self.printer.open()
        except Exception as e:  # escpos raises DeviceNotFoundError, pyusb USBError
            raise PrinterOffline(
                "找不到 USB 打印机",
                f"{where}: {e}",
                PrinterStatus.unreachable(str(e)),
            ) from None
        self.dev: Any = self.printer.device

    def _ms(self, deadline: float) -> int:
        return max(1, int(_remaining(deadline) * 1000))

    def write(self, data: bytes, deadline: float) -> None:
        import usb.core

        left = _remaining(deadline)
        try:
            self.dev.write(self.printer.out_ep, data, self._ms(deadline))
        except usb.core.USBTimeoutError:
            raise _timeout(self.where, "sending", left) from None
        except usb.core.USBError as e:
            raise PrinterOffline("USB 打印机通信失败", f"{self.where}: {e}") from None

    def read_byte(self, deadline: float) -> int | None:
        import usb.core

        if _remaining(deadline) <= 0:
            return None
        try:
            got = self.dev.read(self.printer.in_ep, 64, self._ms(deadline))
        except usb.core.USBTimeoutError:
            return None
        except usb.core.USBError as e:
            raise PrinterOffline("USB 打印机通信失败", f"{self.where}: {e}") from None
        return int(got[0]) if len(got) else None

    def drain(self) -> None:
        import usb.core

        with contextlib.suppress(usb.core.USBError):
            for _ in range(8):
                if not len(self.dev.read(self.printer.in_ep, 64, 1)):
                    break

    def close(self, deadline: float) -> None:
        with contextlib.suppress(Exception):
            self.printer.close()


class _FileConn(_Conn):
    def __init__(self, path: str, where: str) -> None:
        super().__init__(where)
        # No O_CREAT: a missing /dev/usb/lp0 is an unplugged printer, not a new file.
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK)
        except FileNotFoundError:
            raise PrinterOffline(
                "找不到打印设备",
                f"{where}: {path} does not exist",
                PrinterStatus.unreachable(f"{path} does not exist"),
            ) from None
        except OSError as e:
            raise PrinterOffline(
                "无法打开打印设备",
                f"{where}: cannot open {path}: {e}",
                PrinterStatus.unreachable(str(e)),
            ) from None

    def write(self, data: bytes, deadline: float) -> None:
        view = memoryview(data)
        while view:
            left = _remaining(deadline)
            if left <= 0:
                raise _timeout(self.where, "sending", 0)
            _, ready, _ = select.select([], [self.fd], [], left)
            if not ready:
                continue
            try:
                n = os.write(self.fd, view)
            except BlockingIOError:
                continue
            except OSError as e:
                raise PrinterOffline("打印设备写入失败", f"{self.where}: {e}") from None
            view = view[n:]

    def read_byte(self, deadline: float) -> int | None:
        return None

    def close(self, deadline: float) -> None:
        os.close(self.fd)


# --------------------------------------------------------------------------- printers


class Printer(ABC):
    """A printer reached through a URL.  No I/O happens until a method is called."""

    #: Longest wait for status replies before a job; the rest of the budget is for sending.
    query_timeout = 2.0

    def __init__(self, target: PrinterTarget) -> None:
        self.target = target
        #: The most recent status read, by :meth:`status` or before a job (None before any).
        self.last_status: PrinterStatus | None = None
        # One conversation at a time: raw-TCP and serial printers serve a single
        # connection, so a status poll must not cut into a job.
        self._busy = threading.Lock()

    @abstractmethod
    def _connect(self, deadline: float) -> _Conn: ...

    @property
    def _asks_status(self) -> bool:
        return self.target.reads_back and self.target.status_mode != "off"

    def status(self, timeout: float = 2.0) -> PrinterStatus:
        """Ask the printer how it is (``DLE EOT`` 1, 4, and 2 when offline).

        Never raises for printer trouble: an unreachable printer is
        ``offline``, a silent one ``unknown``.
        """
        deadline = time.monotonic() + timeout
        if not self._asks_status:
            why = "status queries are off" if self.target.reads_back else "transport is write-only"
            return PrinterStatus.unknown(why)
        if not self._busy.acquire(timeout=max(0.0, timeout)):
            return self.last_status or PrinterStatus.unknown("busy with a print job")
        try:
            try:
                conn = self._connect(deadline)
            except PrinterError as e:
                return e.status or PrinterStatus.unreachable(e.reason_en)
            try:
                st = self._query(conn, deadline)
            except PrinterError as e:
                st = e.status or PrinterStatus.unreachable(e.reason_en)
            finally:
                conn.close(deadline)
            self.last_status = st
            return st
        finally:
            self._busy.release()

    def send(self, data: bytes, timeout: float = 10.0) -> None:
        """Check the status, then send one job; raise a :class:`PrinterError` if it cannot print."""
        start = time.monotonic()
        deadline = start + timeout
        if not self._busy.acquire(timeout=max(0.0, timeout)):
            raise PrinterTimeout(
                "打印机正忙", f"{self.target}: another job held the printer for {timeout:.1f} s"
            )
        try:
            self._send(data, timeout, deadline)
        finally:
            self._busy.release()

    def _send(self, data: bytes, timeout: float, deadline: float) -> None:
        conn = self._connect(deadline)
        try:
            if self._asks_status:
                # A silent printer must not eat the whole budget when status is optional.
                asked = min(deadline, time.monotonic() + min(self.query_timeout, timeout / 2))
                st = self._query(conn, asked)
                self.last_status = st
                err = error_for(st, str(self.target))
                if err is not None:
                    raise err
                if st.state == "unknown" and self.target.status_mode == "required":
                    raise PrinterTimeout(
                        "打印机未应答状态查询",
                        f"{self.target}: no valid reply to DLE EOT ({st.detail}); "
                        "add ?status=optional to the URL if this printer never answers",
                        st,
                    )
            conn.write(data, deadline)
        finally:
            conn.close(deadline)

    def _ask(self, conn: _Conn, query: bytes, deadline: float) -> int | None:
        conn.drain()
        conn.write(query, deadline)
        while True:
            b = conn.read_byte(deadline)
            if b is None or is_status_byte(b):
                return b
            # Not a status reply (an automatic status block, noise): keep reading.

    def _query(self, conn: _Conn, deadline: float) -> PrinterStatus:
        b1 = self._ask(conn, QUERY_PRINTER, deadline)
        if b1 is None:
            return PrinterStatus.unknown("no valid reply to DLE EOT 1")
        online = printer_online(b1)
        b4 = self._ask(conn, QUERY_PAPER, deadline)
        paper: Paper = "unknown" if b4 is None else paper_from_sensor(b4)
        cover: bool | None = False if online else None
        detail = "" if b4 is not None else "no valid reply to DLE EOT 4"
        if not online:
            b2 = self._ask(conn, QUERY_OFFLINE_CAUSE, deadline)
            if b2 is not None:
                cover = cover_open_from_cause(b2)
                if paper_end_stop_from_cause(b2):
                    paper = "out"
            else:
                detail = "no valid reply to DLE EOT 2"
        return PrinterStatus(online=online, paper=paper, cover_open=cover, detail=detail)


class TcpPrinter(Printer):
    def _connect(self, deadline: float) -> _Conn:
        assert self.target.host is not None and self.target.port is not None
        return _TcpConn(self.target.host, self.target.port, deadline, str(self.target))


class SerialPrinter(Printer):
    def _connect(self, deadline: float) -> _Conn:
        assert self.target.path is not None and self.target.serial is not None
        return _SerialConn(self.target.path, self.target.serial, deadline, str(self.target))


class UsbPrinter(Printer):
    def _connect(self, deadline: float) -> _Conn:
        return _UsbConn(self.target, deadline, str(self.target))


class FilePrinter(Printer):
    def _connect(self, deadline: float) -> _Conn:
        assert self.target.path is not None
        return _FileConn(self.target.path, str(self.target))


_DUMMY_STATUS: dict[str, PrinterStatus] = {
    "ok": PrinterStatus(True, "ok", False),
    "near_end": PrinterStatus(True, "near_end", False),
    "paper_out": PrinterStatus(False, "out", False),
    "cover_open": PrinterStatus(False, "ok", True),
    "offline": PrinterStatus.unreachable("dummy printer set offline"),
}


@dataclass
class _DummyStore:
    jobs: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class DummyPrinter(Printer):
    """Keeps every job in memory; its state can be switched for tests and demos."""

    def __init__(self, target: PrinterTarget) -> None:
        super().__init__(target)
        self._store = _DummyStore()
        self.state: DummyState = target.dummy_state

    def set_state(self, state: DummyState) -> None:
        if state not in _DUMMY_STATUS:
            raise ValueError(f"unknown dummy state {state!r}")
        self.state = state

    @property
    def jobs(self) -> list[bytes]:
        with self._store.lock:
            return list(self._store.jobs)

    @property
    def output(self) -> bytes:
        return b"".join(self.jobs)

    def _connect(self, deadline: float) -> _Conn:  # pragma: no cover - not used
        raise NotImplementedError

    def status(self, timeout: float = 2.0) -> PrinterStatus:
        return _DUMMY_STATUS[self.state]

    def send(self, data: bytes, timeout: float = 10.0) -> None:
        st = _DUMMY_STATUS[self.state]
        self.last_status = st
        err = error_for(st, str(self.target))
        if err is not None:
            raise err
        with self._store.lock:
            self._store.jobs.append(bytes(data))


def open_printer(url: str | PrinterTarget) -> Printer:
    """The printer for a URL (validated); connects only when used."""
    target = parse_printer_url(url) if isinstance(url, str) else url
    classes: dict[str, type[Printer]] = {
        "dummy": DummyPrinter,
        "tcp": TcpPrinter,
        "serial": SerialPrinter,
        "usb": UsbPrinter,
        "file": FilePrinter,
    }
    return classes[target.scheme](target)
