from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest
import zxingcpp
from PIL import Image

from hardware_sim.printer import PrinterEmulator
from hardware_sim.printer.sample import sample_ticket
from ticket_printer import cjk
from ticket_printer.layout import Layout, render_ticket
from ticket_printer.transports import PaperOut, PrinterTimeout, open_printer

URL = "https://hall.example.gov.cn/t/3f9c2a7b81d4"
REPO = Path(__file__).resolve().parents[2]

Paper = Literal[58, 80]


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "printer-out"


@pytest.fixture
def emu80(out: Path) -> Iterator[PrinterEmulator]:
    with PrinterEmulator(out, paper_mm=80) as emu:
        yield emu


def url_of(emu: PrinterEmulator) -> str:
    host, port = emu.start_tcp()
    return f"tcp://{host}:{port}"


def qr_texts(path: Path | None) -> list[str]:
    assert path is not None
    with Image.open(path) as img:
        return [c.text for c in zxingcpp.read_barcodes(img)]


@pytest.mark.parametrize("paper", [58, 80])
def test_real_ticket_over_tcp(out: Path, paper: Paper) -> None:
    with PrinterEmulator(out, paper_mm=paper) as emu:
        printer = open_printer(url_of(emu))
        printer.send(render_ticket(sample_ticket(), Layout(paper_mm=paper)), timeout=5)
        (printed,) = emu.wait_for_tickets(1)
    t = printed.ticket
    assert "A012" in t.text
    assert "城乡居民参保登记" in t.text
    assert "绿色通道" in t.text
    assert "居民身份证或户口簿原件" in t.text
    assert t.warnings == [] and t.auto_wraps == 0
    # Files per cut: decoded text and a PNG at the paper's dot width.
    assert printed.txt_path == out / "ticket-0001.txt"
    txt = printed.txt_path.read_text(encoding="utf-8")
    assert "城乡居民参保登记" in txt and "A012" in txt and f"[二维码] {URL}" in txt
    assert printed.png_path is not None
    with Image.open(printed.png_path) as png:
        assert png.width == {58: 384, 80: 576}[paper]
    assert qr_texts(printed.png_path) == [URL]


def test_normal_ticket_has_no_green_mark(emu80: PrinterEmulator) -> None:
    open_printer(url_of(emu80)).send(
        render_ticket(sample_ticket(channel="normal", number="B003"), Layout()), timeout=5
    )
    (printed,) = emu80.wait_for_tickets(1)
    assert "B003" in printed.ticket.text
    assert "绿色通道" not in printed.ticket.text


@pytest.mark.parametrize("paper", [58, 80])
def test_mixed_materials_wrap_within_the_printed_width(out: Path, paper: Paper) -> None:
    materials = [
        "居民身份证（或社保卡）原件及复印件2份，A4纸单面复印",
        "Household register 户口簿 (all pages) 首页及本人页",
        "异地就医备案表（可在 https://ybj.example.gov.cn/ydjy 下载打印）",
    ]
    layout = Layout(paper_mm=paper)
    with PrinterEmulator(out, paper_mm=paper) as emu:
        open_printer(url_of(emu)).send(
            render_ticket(sample_ticket(materials=materials), layout), timeout=5
        )
        (printed,) = emu.wait_for_tickets(1)
    t = printed.ticket
    assert t.auto_wraps == 0
    lines = t.lines
    start = lines.index("请备齐以下材料（一次性告知）：") + 1
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("---"))
    body = lines[start:end]
    assert all(cjk.text_columns(line) <= layout.columns for line in body)
    assert len(body) > len(materials)  # something had to wrap
    assert "".join(body).replace(" ", "") == "".join(
        f"{i}.{m}" for i, m in enumerate(materials, 1)
    ).replace(" ", "")


def test_paper_out_fails_the_job_before_sending(emu80: PrinterEmulator) -> None:
    emu80.set_state("paper_out")
    printer = open_printer(url_of(emu80))
    assert printer.status(timeout=2).state == "paper_out"
    with pytest.raises(PaperOut):
        printer.send(render_ticket(sample_ticket(), Layout()), timeout=5)
    assert emu80.tickets == []
    # Paper loaded again: the next job prints.
    emu80.set_state("ok")
    printer.send(render_ticket(sample_ticket(), Layout()), timeout=5)
    assert len(emu80.wait_for_tickets(1)) == 1


def test_jobs_sent_blind_to_a_paper_out_printer_are_discarded(emu80: PrinterEmulator) -> None:
    emu80.set_state("paper_out")
    open_printer(url_of(emu80) + "?status=off").send(
        render_ticket(sample_ticket(), Layout()), timeout=5
    )
    assert emu80.tickets == [] and emu80.discarded == 1


def test_state_file_switches_the_state_at_runtime(out: Path) -> None:
    state_file = out / "state"
    with PrinterEmulator(out, state_file=state_file) as emu:
        printer = open_printer(url_of(emu))
        assert printer.status(timeout=2).state == "ok"
        state_file.write_text("cover_open\n", encoding="utf-8")
        assert printer.status(timeout=2).state == "cover_open"
        state_file.write_text("nonsense", encoding="utf-8")
        assert printer.status(timeout=2).state == "ok"


def test_offline_emulator_never_answers(emu80: PrinterEmulator) -> None:
    emu80.set_state("offline")
    printer = open_printer(url_of(emu80))
    assert printer.status(timeout=0.3).state == "unknown"
    with pytest.raises(PrinterTimeout):
        printer.send(b"\x1b@hello\n\x1dV\x00", timeout=0.3)


def test_garbage_connection_does_not_stop_the_emulator(emu80: PrinterEmulator) -> None:
    url = url_of(emu80)
    host, port = url.removeprefix("tcp://").rsplit(":", 1)
    with socket.create_connection((host, int(port))) as s:
        s.sendall(bytes(range(256)) * 4 + b"\x1d(k\xff\xff")
        s.shutdown(socket.SHUT_WR)
        s.recv(1024)  # the emulator closes its side once it has read everything
    open_printer(url).send(render_ticket(sample_ticket(), Layout()), timeout=5)
    printed = emu80.wait_for_tickets(1)
    assert "城乡居民参保登记" in printed[-1].ticket.text


def test_numbering_continues_after_existing_files(out: Path) -> None:
    out.mkdir(parents=True)
    (out / "ticket-0007.png").write_bytes(b"")
    with PrinterEmulator(out) as emu:
        open_printer(url_of(emu)).send(render_ticket(sample_ticket(), Layout()), timeout=5)
        (printed,) = emu.wait_for_tickets(1)
    assert printed.index == 8 and printed.txt_path == out / "ticket-0008.txt"


def test_image_mode_ticket_png_has_a_readable_qr(emu80: PrinterEmulator) -> None:
    open_printer(url_of(emu80)).send(
        render_ticket(sample_ticket(), Layout(text_mode="image")), timeout=5
    )
    (printed,) = emu80.wait_for_tickets(1)
    assert printed.ticket.lines == []
    assert qr_texts(printed.png_path) == [URL]


def test_pty_serial_mode(out: Path) -> None:
    with PrinterEmulator(out, paper_mm=58) as emu:
        path = emu.start_pty()
        printer = open_printer(f"serial://{path}?baudrate=9600")
        printer.send(render_ticket(sample_ticket(), Layout(paper_mm=58)), timeout=5)
        (printed,) = emu.wait_for_tickets(1)
    assert "城乡居民参保登记" in printed.ticket.text
    assert qr_texts(printed.png_path) == [URL]


def test_cli_prints_tickets_and_stops_on_sigterm(out: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hardware_sim.printer",
            "--listen",
            "127.0.0.1:0",
            "--pty",
            "--out",
            str(out),
            "--paper",
            "58",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    try:
        assert proc.stdout is not None
        listen = proc.stdout.readline().strip()
        assert listen.startswith("listening on tcp://127.0.0.1:")
        pty_line = proc.stdout.readline().strip()
        assert pty_line.startswith("pty: /dev/")
        printer = open_printer(listen.removeprefix("listening on "))
        printer.send(render_ticket(sample_ticket(), Layout(paper_mm=58)), timeout=10)
        serial = open_printer(f"serial://{pty_line.removeprefix('pty: ')}")
        assert serial.status(timeout=2).state == "ok"
        (out / "state").write_text("paper_out", encoding="utf-8")
        assert printer.status(timeout=2).state == "paper_out"
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert "stopped after 1 ticket(s)" in stdout
    assert "城乡居民参保登记" in (out / "ticket-0001.txt").read_text(encoding="utf-8")
    assert qr_texts(out / "ticket-0001.png") == [URL]


@pytest.mark.parametrize(
    "argv", [["--listen", "nohost"], ["--listen", "127.0.0.1:x"], ["--state", "jammed"]]
)
def test_cli_rejects_bad_arguments(argv: list[str]) -> None:
    from hardware_sim.printer.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_docs_example_ticket_matches_the_current_layout() -> None:
    from hardware_sim.printer.sample import sample_png

    committed = REPO / "docs" / "ticket-example.png"
    assert qr_texts(committed) == [URL]
    # Same size as a fresh rendering: regenerate with
    # `python -m hardware_sim.printer.sample docs/ticket-example.png` after layout changes.
    with Image.open(committed) as img:
        assert img.size == sample_png().size
