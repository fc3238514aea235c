from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from hardware_sim.serial.scanner import ScannerSim
from hardware_sim.serial.status import read_statuses
from hardware_sim.serial.testing import eventually
from kiosk_server.core.idnumber import check_digit
from kiosk_server.devices.bridge import ScannerBridge
from kiosk_server.devices.link import SerialLink
from kiosk_server.devices.scanner import LineSplitter, Scan, ScanKind, classify, issue_fields

FIRST17 = "11010519491231002"
ID = FIRST17 + check_digit(FIRST17)
BAD_ID = FIRST17 + ("0" if check_digit(FIRST17) != "0" else "1")


def test_lines_split_on_cr_lf_and_crlf_across_chunks() -> None:
    s = LineSplitter()
    assert s.feed(b"YY12345678\r") == ["YY12345678"]
    assert s.feed(b"\nabc") == []  # the LF of CRLF is no extra line
    assert s.feed(b"def\n\n\rXYZ\r\n") == ["abcdef", "XYZ"]
    assert s.stats.lines == 3


def test_overlong_line_dropped_whole() -> None:
    s = LineSplitter(max_line=8)
    assert s.feed(b"0123456789ABCDEF\r\nok\r\n") == ["ok"]
    assert s.stats.too_long == 1


def test_gb18030_and_garbage_lines() -> None:
    s = LineSplitter()
    assert s.feed("医保凭证\n".encode("gb18030")) == ["医保凭证"]
    assert s.feed(b"\x81\x30\xff\xff\n") == []
    assert s.stats.undecodable == 1


def test_classify() -> None:
    today = date(2024, 5, 6)
    assert classify(ID, today=today) == Scan(ScanKind.ID_NUMBER, ID)
    assert classify(ID.lower(), today=today).kind is ScanKind.ID_NUMBER
    bad = classify(BAD_ID, today=today)
    assert bad.kind is ScanKind.INVALID and "check digit" in bad.reason
    assert classify("110105491231002").kind is ScanKind.INVALID  # old 15-digit
    assert classify("yy20240506a1") == Scan(ScanKind.APPOINTMENT, "YY20240506A1")
    assert classify("https://example.invalid/q?x=1").kind is ScanKind.OPAQUE
    assert classify("  ").kind is ScanKind.INVALID


def test_id_number_never_shown_in_full() -> None:
    scan = classify(ID)
    assert ID not in repr(scan) and ID not in scan.masked
    assert scan.masked == ID[:6] + "********" + ID[-4:]


@pytest.mark.asyncio
async def test_scanner_over_pty_reaches_kiosk_handler(tmp_path: Path) -> None:
    got: list[Scan] = []

    async def on_scan(scan: Scan) -> None:
        got.append(scan)

    with ScannerSim(link_path=str(tmp_path / "ttyACM0"), status_dir=tmp_path / "sim") as sim:
        link = SerialLink(sim.path, read_timeout=0.05, backoff_initial=0.01, backoff_max=0.05)
        bridge = ScannerBridge(link, on_scan)
        task = asyncio.create_task(bridge.run())
        try:
            async with asyncio.timeout(5):
                await link.wait_connected()
            sim.scan(ID)
            sim.scan("YY20240506A1", terminator="\r")
            sim.scan("医保电子凭证码", encoding="gb18030", terminator="\n")
            assert await eventually(lambda: len(got) == 3)
        finally:
            await link.close()
            await asyncio.wait_for(task, 5)
    assert [g.kind for g in got] == [ScanKind.ID_NUMBER, ScanKind.APPOINTMENT, ScanKind.OPAQUE]
    assert got[0].value == ID
    assert got[2].value == "医保电子凭证码"
    [status] = read_statuses(tmp_path / "sim")
    assert status["scanned"] == 3
    assert ID not in (tmp_path / "sim" / "scanner.status.json").read_text()


def test_issue_fields_match_the_kiosk_request() -> None:
    assert issue_fields(classify(ID)) == {"id_number": ID}
    assert issue_fields(classify("YY20240506A1")) == {"appointment_code": "YY20240506A1"}
    assert len("YY" + "9" * 14) == 16 and classify("YY" + "9" * 14).kind is ScanKind.APPOINTMENT
    assert classify("YY" + "9" * 15).kind is ScanKind.OPAQUE  # too long for the ticket API
    assert issue_fields(classify(BAD_ID)) == {}
    assert issue_fields(classify("https://example.invalid/q")) == {}
