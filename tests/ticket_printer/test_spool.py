from __future__ import annotations

import socket

import pytest

from hardware_sim.printer import PrinterEmulator
from hardware_sim.printer.sample import sample_ticket
from ticket_printer.layout import Layout, render_ticket
from ticket_printer.spool import deliver
from ticket_printer.transports import open_printer

JOB = render_ticket(sample_ticket(), Layout())


def test_delivers_once_when_the_printer_is_ready() -> None:
    with PrinterEmulator() as emu:
        host, port = emu.start_tcp()
        result = deliver(open_printer(f"tcp://{host}:{port}"), JOB, timeout=5)
        assert result.ok and result.code is None and result.reason is None
        assert len(result.attempts) == 1
        assert result.attempts[0].status is not None
        assert result.attempts[0].status.state == "ok"
        assert len(emu.wait_for_tickets(1)) == 1


def test_paper_out_fails_at_once_without_retrying() -> None:
    waits: list[float] = []
    with PrinterEmulator(state="paper_out") as emu:
        host, port = emu.start_tcp()
        result = deliver(open_printer(f"tcp://{host}:{port}"), JOB, timeout=5, sleep=waits.append)
    assert not result.ok
    assert result.code == "paper_out"
    assert len(result.attempts) == 1 and waits == []
    assert result.reason is not None and "缺纸" in result.reason


def test_unreachable_printer_is_retried_with_growing_waits() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits: list[float] = []
    result = deliver(
        open_printer(f"tcp://127.0.0.1:{port}"),
        JOB,
        timeout=1,
        attempts=3,
        backoff=0.5,
        sleep=waits.append,
    )
    assert not result.ok and result.code == "offline"
    assert [a.number for a in result.attempts] == [1, 2, 3]
    assert all(not a.ok and a.code == "offline" for a in result.attempts)
    assert waits == [0.5, 1.0]


def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        deliver(open_printer("dummy://"), b"x", attempts=0)
