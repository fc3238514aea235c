from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hardware_sim.printer import PrinterEmulator
from kiosk_server.settings import Settings


@pytest.fixture
def emu_pair(tmp_path: Path) -> Iterator[tuple[PrinterEmulator, str]]:
    """The ESC/POS printer emulator on a free TCP port (real sockets, real decoding)."""
    with PrinterEmulator(tmp_path / "printer-out", paper_mm=80) as e:
        host, port = e.start_tcp()
        yield e, f"tcp://{host}:{port}"


@pytest.fixture
def emu(emu_pair: tuple[PrinterEmulator, str]) -> PrinterEmulator:
    return emu_pair[0]


@pytest.fixture
def emu_url(emu_pair: tuple[PrinterEmulator, str]) -> str:
    return emu_pair[1]


@pytest.fixture
def settings(settings: Settings, emu_url: str) -> Settings:
    # A generous wait: the emulator answers in milliseconds, but a loaded CI box may not.
    return settings.model_copy(update={"printer_url": emu_url, "print_wait_seconds": 5.0})
