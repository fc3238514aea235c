from __future__ import annotations

import queue

import pytest

from hardware_sim.printer import PrinterEmulator
from ticket_printer.monitor import StatusMonitor
from ticket_printer.status import PrinterStatus
from ticket_printer.transports import open_printer


def test_poll_once_reports_only_changes() -> None:
    seen: list[str] = []
    with PrinterEmulator() as emu:
        host, port = emu.start_tcp()
        printer = open_printer(f"tcp://{host}:{port}")
        monitor = StatusMonitor(printer, on_change=lambda s: seen.append(s.state))
        assert monitor.poll_once().state == "ok"
        monitor.poll_once()
        emu.set_state("near_end")
        monitor.poll_once()
        emu.set_state("paper_out")
        assert monitor.poll_once().state == "paper_out"
    assert seen == ["ok", "paper_near_end", "paper_out"]
    assert printer.last_status is not None and printer.last_status.state == "paper_out"


def test_background_thread_notices_paper_out() -> None:
    changes: queue.Queue[PrinterStatus] = queue.Queue()
    with PrinterEmulator() as emu:
        host, port = emu.start_tcp()
        monitor = StatusMonitor(
            open_printer(f"tcp://{host}:{port}"), interval=0.05, on_change=changes.put
        )
        monitor.start()
        try:
            assert changes.get(timeout=5).state == "ok"
            emu.set_state("paper_out")
            assert changes.get(timeout=5).state == "paper_out"
        finally:
            monitor.stop()
    assert monitor._thread is not None and not monitor._thread.is_alive()


def test_a_failing_listener_does_not_stop_polling() -> None:
    def explode(status: PrinterStatus) -> None:
        raise RuntimeError("listener bug")

    monitor = StatusMonitor(open_printer("dummy://"), on_change=explode)
    assert monitor.poll_once().state == "ok"
    assert monitor.latest is not None


def test_rejects_non_positive_interval() -> None:
    with pytest.raises(ValueError):
        StatusMonitor(open_printer("dummy://"), interval=0)
