from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hardware_sim.printer import PrinterEmulator
from hardware_sim.printer.sample import sample_ticket
from ticket_printer.layout import Layout, render_ticket
from ticket_printer.transports import (
    CoverOpen,
    DummyPrinter,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterTimeout,
    open_printer,
    parse_printer_url,
)

JOB = render_ticket(sample_ticket(), Layout())


class ScriptedPrinter:
    """A raw TCP 'printer' whose DLE EOT answers are scripted, recording all it receives."""

    def __init__(self, answer: Callable[[int], bytes]) -> None:
        self.answer = answer
        self.received = bytearray()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                pending = b""
                while data := conn.recv(4096):
                    self.received += data
                    pending += data
                    while (i := pending.find(b"\x10\x04")) >= 0 and len(pending) > i + 2:
                        conn.sendall(self.answer(pending[i + 2]))
                        pending = pending[i + 3 :]

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def emulator() -> Iterator[PrinterEmulator]:
    with PrinterEmulator(paper_mm=80) as emu:
        yield emu


def tcp_url(emu: PrinterEmulator) -> str:
    host, port = emu.start_tcp()
    return f"tcp://{host}:{port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("dummy://", {"scheme": "dummy"}),
        ("dummy://?state=paper_out", {"dummy_state": "paper_out"}),
        (
            "tcp://192.168.1.50",
            {"host": "192.168.1.50", "port": 9100, "url": "tcp://192.168.1.50:9100"},
        ),
        ("TCP://printer.local:9101", {"host": "printer.local", "port": 9101}),
        ("tcp://[::1]:9100", {"host": "::1", "url": "tcp://[::1]:9100"}),
        ("tcp://10.0.0.9:9100?status=optional", {"status_mode": "optional"}),
        ("serial:///dev/ttyUSB0?baudrate=9600", {"path": "/dev/ttyUSB0"}),
        ("serial://COM3?baudrate=115200&rtscts=1", {"path": "COM3"}),
        ("usb://0416:5011", {"vendor_id": 0x0416, "product_id": 0x5011}),
        (
            "usb://0x04b8:0x0202?in_ep=0x82&out_ep=1",
            {"vendor_id": 0x04B8, "in_ep": 0x82, "out_ep": 1},
        ),
        ("file:///dev/usb/lp0", {"path": "/dev/usb/lp0", "status_mode": "off"}),
    ],
)
def test_parse_valid_urls(url: str, expected: dict[str, object]) -> None:
    target = parse_printer_url(url)
    for key, value in expected.items():
        assert getattr(target, key) == value, key


def test_serial_options_are_parsed() -> None:
    t = parse_printer_url("serial:///dev/ttyS0?baudrate=19200&parity=e&stopbits=2&xonxoff=yes")
    assert t.serial is not None
    assert (t.serial.baudrate, t.serial.parity, t.serial.stopbits, t.serial.xonxoff) == (
        19200,
        "E",
        2.0,
        True,
    )
    assert t.serial.dsrdtr is False


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty"),
        ("192.168.1.50:9100", "scheme"),
        ("lpt://1", "unknown scheme"),
        ("tcp://", "needs a host"),
        ("tcp://host:99999", "port"),
        ("tcp://host:9100/queue", "only HOST:PORT"),
        ("tcp://host?baud=9600", "unknown option"),
        ("serial://", "needs a device"),
        ("serial:///dev/ttyUSB0?baud=9600", "unknown option"),
        ("serial:///dev/ttyUSB0?baudrate=fast", "not a number"),
        ("serial:///dev/ttyUSB0?parity=X", "parity"),
        ("serial:///dev/ttyUSB0?baudrate=9600&baudrate=115200", "twice"),
        ("usb://0416", "VENDOR:PRODUCT"),
        ("usb://04g6:5011", "hexadecimal"),
        ("usb://10416:5011", "16-bit"),
        ("file://dev/usb/lp0", "absolute path"),
        ("dummy://?state=jammed", "state"),
        ("tcp://host?status=maybe", "status"),
    ],
)
def test_parse_rejects_bad_urls_clearly(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        parse_printer_url(url)
    assert "tcp://HOST:9100" in str(info.value)  # the accepted forms are listed


# --------------------------------------------------------------------------- TCP + emulator


@pytest.mark.parametrize(
    ("state", "summary", "paper", "cover"),
    [
        ("ok", "ok", "ok", False),
        ("near_end", "paper_near_end", "near_end", False),
        ("paper_out", "paper_out", "out", False),
        ("cover_open", "cover_open", "ok", True),
    ],
)
def test_status_over_tcp(
    emulator: PrinterEmulator, state: str, summary: str, paper: str, cover: bool
) -> None:
    emulator.set_state(state)  # type: ignore[arg-type]
    st = open_printer(tcp_url(emulator)).status(timeout=2)
    assert (st.state, st.paper, st.cover_open) == (summary, paper, cover)
    assert st.to_dict()["state"] == summary


def test_send_prints_when_ok(emulator: PrinterEmulator) -> None:
    printer = open_printer(tcp_url(emulator))
    printer.send(JOB, timeout=5)
    (ticket,) = emulator.wait_for_tickets(1)
    assert "城乡居民参保登记" in ticket.ticket.text
    assert printer.last_status is not None and printer.last_status.state == "ok"
    assert emulator.status_requests >= 2  # DLE EOT 1 and 4 before the job


@pytest.mark.parametrize(("state", "error"), [("paper_out", PaperOut), ("cover_open", CoverOpen)])
def test_send_refuses_before_sending(
    emulator: PrinterEmulator, state: str, error: type[PrinterError]
) -> None:
    emulator.set_state(state)  # type: ignore[arg-type]
    printer = open_printer(tcp_url(emulator))
    with pytest.raises(error) as info:
        printer.send(JOB, timeout=5)
    assert info.value.status is not None and info.value.status.state == state
    assert "/" in str(info.value) and info.value.reason_zh
    assert not info.value.retryable
    # Nothing but the status queries went over the wire.
    assert emulator.bytes_received <= 9
    assert emulator.tickets == [] and emulator.discarded == 0


def test_near_end_still_prints(emulator: PrinterEmulator) -> None:
    emulator.set_state("near_end")
    printer = open_printer(tcp_url(emulator))
    printer.send(JOB, timeout=5)
    assert len(emulator.wait_for_tickets(1)) == 1
    assert printer.last_status is not None and printer.last_status.state == "paper_near_end"


def test_silent_printer_is_unknown_not_paper_ok(emulator: PrinterEmulator) -> None:
    emulator.set_state("offline")  # accepts bytes, never answers
    printer = open_printer(tcp_url(emulator))
    started = time.monotonic()
    st = printer.status(timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert st.state == "unknown" and st.paper == "unknown" and st.online is None
    with pytest.raises(PrinterTimeout) as info:
        printer.send(JOB, timeout=0.3)
    assert "status=optional" in info.value.reason_en
    assert info.value.retryable


def test_refused_connection_is_offline() -> None:
    printer = open_printer(f"tcp://127.0.0.1:{free_port()}")
    st = printer.status(timeout=1)
    assert st.state == "offline" and st.online is False
    with pytest.raises(PrinterOffline) as info:
        printer.send(JOB, timeout=1)
    assert "无法连接打印机" in info.value.reason_zh


@pytest.mark.parametrize("garbage", [b"\x00", b"\xff", b"\x7f", b"\x10"])
def test_invalid_reply_bytes_are_not_status(garbage: bytes) -> None:
    fake = ScriptedPrinter(lambda n: garbage)
    try:
        st = open_printer(f"tcp://127.0.0.1:{fake.port}").status(timeout=0.3)
    finally:
        fake.close()
    assert st.state == "unknown" and st.paper == "unknown"


def test_noise_before_a_valid_reply_is_skipped() -> None:
    # An automatic-status block (first byte 0x10 pattern) arrives before each answer.
    replies = {1: 0x12, 4: 0x7E, 2: 0x32}
    fake = ScriptedPrinter(lambda n: b"\x14\x00\x00\x0f" + bytes([replies.get(n, 0x12)]))
    try:
        st = open_printer(f"tcp://127.0.0.1:{fake.port}").status(timeout=2)
    finally:
        fake.close()
    assert st.state == "paper_out"


def test_status_optional_prints_on_a_printer_that_never_answers() -> None:
    fake = ScriptedPrinter(lambda n: b"")
    try:
        open_printer(f"tcp://127.0.0.1:{fake.port}?status=optional").send(JOB, timeout=1)
        off = open_printer(f"tcp://127.0.0.1:{fake.port}?status=off")
        off.send(b"second", timeout=1)
        assert off.status().state == "unknown"
    finally:
        fake.close()
    assert JOB in fake.received and fake.received.endswith(b"second")


# --------------------------------------------------------------------------- serial (pty)


def test_serial_over_a_pty(emulator: PrinterEmulator) -> None:
    path = emulator.start_pty()
    printer = open_printer(f"serial://{path}?baudrate=115200")
    assert printer.status(timeout=2).state == "ok"
    printer.send(JOB, timeout=5)
    (ticket,) = emulator.wait_for_tickets(1)
    assert "A012" in ticket.ticket.text and ticket.source.startswith("pty")
    emulator.set_state("paper_out")
    with pytest.raises(PaperOut):
        printer.send(JOB, timeout=2)


def test_missing_serial_device_is_offline(tmp_path: Path) -> None:
    printer = open_printer(f"serial://{tmp_path}/ttyUSB9")
    assert printer.status(timeout=1).state == "offline"
    with pytest.raises(PrinterOffline):
        printer.send(JOB, timeout=1)


# --------------------------------------------------------------------------- file, dummy, usb


def test_file_printer_appends_and_has_no_status(tmp_path: Path) -> None:
    dev = tmp_path / "lp0"
    dev.write_bytes(b"")
    printer = open_printer(f"file://{dev}")
    printer.send(b"one", timeout=1)
    printer.send(b"two", timeout=1)
    assert dev.read_bytes() == b"onetwo"
    assert printer.status().state == "unknown"


def test_file_printer_never_creates_the_device(tmp_path: Path) -> None:
    printer = open_printer(f"file://{tmp_path}/lp0")
    with pytest.raises(PrinterOffline, match="找不到打印设备"):
        printer.send(b"x", timeout=1)
    assert not (tmp_path / "lp0").exists()


def test_dummy_printer_keeps_jobs_and_follows_its_state() -> None:
    printer = open_printer("dummy://")
    assert isinstance(printer, DummyPrinter)
    printer.send(b"a")
    printer.send(b"b")
    assert printer.jobs == [b"a", b"b"] and printer.output == b"ab"
    printer.set_state("paper_out")
    assert printer.status().state == "paper_out"
    with pytest.raises(PaperOut):
        printer.send(b"c")
    assert printer.jobs == [b"a", b"b"]
    with pytest.raises(PrinterOffline):
        open_printer("dummy://?state=offline").send(b"x")


def test_usb_without_pyusb_says_what_is_missing() -> None:
    pytest.importorskip("escpos")
    try:
        import usb.core  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("pyusb is installed; this checks the message when it is not")
    printer = open_printer("usb://0416:5011")
    with pytest.raises(PrinterError, match="pyusb") as info:
        printer.send(b"x", timeout=1)
    assert info.value.code == "error"
    assert printer.status().state == "offline"


def test_status_poll_does_not_cut_into_a_running_job() -> None:
    release = threading.Event()
    stalled = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def stalled_printer() -> None:
        # Answers the status queries, then stops reading: the job stalls mid-send.
        conn, _ = server.accept()
        with conn:
            for n in (1, 4):
                assert conn.recv(3) == b"\x10\x04" + bytes([n])
                conn.sendall(b"\x12")
            stalled.set()
            release.wait(5)

    t = threading.Thread(target=stalled_printer, daemon=True)
    t.start()
    printer = open_printer(f"tcp://127.0.0.1:{port}")
    errors: list[BaseException] = []

    def job() -> None:
        try:
            printer.send(b"\x00" * (32 * 1024 * 1024), timeout=1.0)
        except BaseException as e:
            errors.append(e)

    worker = threading.Thread(target=job)
    worker.start()
    assert stalled.wait(5)
    started = time.monotonic()
    st = printer.status(timeout=0.2)
    assert time.monotonic() - started < 0.5
    assert st.state == "ok"  # the status the job read, not a second connection
    worker.join(5)
    release.set()
    server.close()
    assert len(errors) == 1 and isinstance(errors[0], PrinterTimeout)
