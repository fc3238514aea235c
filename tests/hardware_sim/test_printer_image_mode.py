"""HALLQ_PRINTER_TEXT_MODE / HALLQ_PRINTER_QR_MODE: the server draws tickets as bitmaps for
a printer without a Chinese font; through the emulator the PNG still has a readable QR."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import zxingcpp
from PIL import Image
from pydantic import ValidationError

from hardware_sim.printer import PrinterEmulator
from kiosk_server.settings import Settings
from tests.factories import HallKit, issue, printing_to


@pytest.fixture
def settings(settings: Settings, emu_pair: tuple[PrinterEmulator, str]) -> Settings:
    return printing_to(settings, emu_pair[1], printer_text_mode="image", printer_qr_mode="image")


@pytest.mark.asyncio
async def test_image_mode_prints_a_bitmap_whose_qr_reads(
    client: httpx.AsyncClient, hall: HallKit, emu_pair: tuple[PrinterEmulator, str]
) -> None:
    emu = emu_pair[0]
    t = await issue(client, hall, "enrol")
    assert t["printed"] is True, t["print_error"]
    (printed,) = await asyncio.to_thread(emu.wait_for_tickets, 1)
    # No text for the printer's font and no QR command: everything came as bitmaps.
    assert printed.ticket.lines == [] and printed.ticket.qr_payloads == []
    assert printed.ticket.images
    assert printed.png_path is not None
    with Image.open(printed.png_path) as png:
        decoded = [r.text for r in zxingcpp.read_barcodes(png)]
    assert decoded == [t["status_url"]]


def test_modes_are_read_from_the_environment_and_validated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HALLQ_PRINTER_TEXT_MODE", "image")
    monkeypatch.setenv("HALLQ_PRINTER_QR_MODE", "native")
    s = Settings(environment="test")
    assert (s.printer_text_mode, s.printer_qr_mode) == ("image", "native")
    monkeypatch.setenv("HALLQ_PRINTER_QR_MODE", "bitmap")
    with pytest.raises(ValidationError, match="printer_qr_mode"):
        Settings(environment="test")
