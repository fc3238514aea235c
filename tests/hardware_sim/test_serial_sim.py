from __future__ import annotations

import argparse
import io
import json
import os
import time
from pathlib import Path

import pytest
import serial

from hardware_sim.serial import cli
from hardware_sim.serial.devices import Keypad, LedScreen, RatingPad, SimBus, cells, fit
from kiosk_server.devices import protocol as p
from kiosk_server.devices.protocol import FrameDecoder, Key


def open_driver(path: str) -> serial.Serial:
    return serial.serial_for_url(path, baudrate=9600, timeout=0.05)


def test_led_emulator_keeps_text_per_address_and_renders(tmp_path: Path) -> None:
    clock_t = [100.0]
    s1, s3 = LedScreen(0x01, clock=lambda: clock_t[0]), LedScreen(0x03, clock=lambda: clock_t[0])
    with SimBus([s1, s3], name="led", status_dir=tmp_path) as bus:
        drv = open_driver(bus.path)
        try:
            drv.write(
                p.encode(p.led_text(0x03, "请 A012", 3))
                + p.encode(p.led_text(0xFF, "热情为您服务"))
            )
            assert bus.wait_for(lambda: s1.text == "热情为您服务")
            # Broadcast got no reply, the addressed write got an ACK.
            dec = FrameDecoder()
            frames: list[p.Frame] = []
            deadline = time.monotonic() + 5
            while not frames and time.monotonic() < deadline:
                frames += dec.feed(drv.read(64))
            assert frames == [p.device_ack(0x03, p.Command.LED_TEXT)]
        finally:
            drv.close()
    assert s3.text == "热情为您服务"  # broadcast reached every screen
    assert [w.text for w in s3.writes] == ["请 A012", "热情为您服务"]
    assert s3.writes[0].flash_seconds == 3
    clock_t[0] = 101.0
    s3.flash_until = 102.0
    assert s3.render() == "┃热情为您服务    ┃*"
    clock_t[0] = 103.0
    assert s3.render() == "┃热情为您服务    ┃ "


def test_cells_and_fit() -> None:
    assert cells("请 A012") == 7
    assert fit("请 A012", 8) == "请 A012 "
    assert fit("热情为您服务热情为您服务", 16) == "热情为您服务热情"
    assert LedScreen(1, width=8).render().startswith("┃        ┃")


def test_status_view_lists_every_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leds = SimBus([LedScreen(0x01), LedScreen(0x03)], name="led-bus", status_dir=tmp_path)
    pads = SimBus([Keypad(0x11), RatingPad(0x21)], name="counter-bus", status_dir=tmp_path)
    with leds, pads:
        drv = open_driver(leds.path)
        drv2 = open_driver(pads.path)
        try:
            bad = bytearray(p.encode(p.led_text(0x01, "请 B999")))
            bad[-2] ^= 1
            drv.write(p.encode(p.led_text(0x03, "请 A012", 30)) + bytes(bad))
            drv.write(p.encode(p.led_text(0x01, "暂停服务")))
            drv2.write(
                p.encode(p.rating_prompt(0x21, "A011")) + p.encode(p.keypad_show(0x11, "叫号 A012"))
            )
            assert leds.wait_for(lambda: leds[0x01].shows() == "暂停服务")
            assert pads.wait_for(lambda: pads[0x11].shows() == "叫号 A012")
        finally:
            drv.close()
            drv2.close()
        assert cli.main(["status", "--dir", str(tmp_path)]) == 0
        out = capsys.readouterr().out
        assert cli.main(["status", "--dir", str(tmp_path), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
    lines = out.splitlines()
    assert any(
        line.startswith("总线 led-bus") and "拒收 1 (bad_checksum 1)" in line for line in lines
    )
    assert "  0x03 窗口屏 ┃请 A012         ┃ 闪烁" in lines
    assert "  0x01 窗口屏 ┃暂停服务        ┃" in lines
    assert "  0x11 呼叫器 叫号 A012" in lines
    assert "  0x21 评价器 请评价 A011 待评价" in lines
    assert {s["name"] for s in data} == {"led-bus", "counter-bus"}


def test_status_view_when_nothing_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["status", "--dir", str(tmp_path / "none")]) == 0
    assert "没有正在运行的模拟设备" in capsys.readouterr().out


def test_flash_mark_follows_the_clock() -> None:
    state = {
        "name": "b",
        "kind": "bus",
        "plugged": True,
        "devices": [
            {
                "address": 3,
                "type": "led",
                "label": "窗口屏",
                "shows": "请 A012",
                "width": 8,
                "flash_until_epoch": 1000.0,
            }
        ],
    }
    assert "闪烁" in cli.render([state], Path("/x"), now=999.0)
    assert "闪烁" not in cli.render([state], Path("/x"), now=1001.0)


def test_scripted_sim_set_over_ptys(tmp_path: Path) -> None:
    args = argparse.Namespace(led="1,2", keypad="0x11", rating="0x21", scanner=True)
    sims = cli.SimSet(tmp_path, args)
    started = sims.start()
    try:
        assert len(started) == 3
        assert os.path.islink(tmp_path / "ttyCOUNTER")
        drv = open_driver(str(tmp_path / "ttyCOUNTER"))
        scan = open_driver(str(tmp_path / "ttySCAN"))
        try:
            assert sims.command("press 0x11 transfer 5") == "seq 1"
            assert sims.command("rate 0x21 5") == "seq 1"
            assert sims.command("scan YY20240506A1") == "scanned"
            dec = FrameDecoder()
            frames: list[p.Frame] = []
            deadline = time.monotonic() + 5
            while len(frames) < 2 and time.monotonic() < deadline:
                frames += dec.feed(drv.read(64))
            assert frames == [p.key(0x11, 1, Key.TRANSFER, "5"), p.rating(0x21, 1, 5)]
            assert scan.read_until(b"\n") == b"YY20240506A1\r\n"
        finally:
            drv.close()
            scan.close()
        assert sims.command("press 0x21 call_next") == "not a keypad"
        assert sims.command("bogus").startswith("commands:")
        assert "总线 led-bus" in sims.command("show")
        assert sims.command("unplug led-bus") == "unplugged"
        assert not (tmp_path / "ttyLED").exists()
        assert sims.command("plug led-bus").startswith("plugged at")
    finally:
        sims.stop()
    assert list(tmp_path.glob("*.status.json")) == []


def test_serial_command_reads_stdin_until_quit(tmp_path: Path) -> None:
    args = cli.build_parser().parse_args(["serial", "--dir", str(tmp_path), "--led", "1"])
    out = io.StringIO()
    assert cli.cmd_serial(args, out, io.StringIO("press 0x01 call_next\nshow\nquit\nnever\n")) == 0
    text = out.getvalue()
    assert text.startswith(f"led-bus: {tmp_path / 'ttyLED'}")
    assert "not a keypad" in text and "0x01 窗口屏" in text
    assert not (tmp_path / "ttyLED").exists()


def test_sim_process_cleans_up_on_sigterm(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hardware_sim.serial.cli",
            "serial",
            "--dir",
            str(tmp_path),
            "--led",
            "1",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=root,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().decode().startswith("led-bus:")  # running
    assert (tmp_path / "led-bus.status.json").exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert proc.stdin is not None
    proc.stdin.close()
    proc.stdout.close()
    assert not (tmp_path / "ttyLED").exists()
    assert list(tmp_path.glob("*.status.json")) == []
