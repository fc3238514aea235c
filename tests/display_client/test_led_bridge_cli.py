from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from display_client.serial_bridge.cli import main, parse_map
from display_client.serial_bridge.led import IDLE_TEXT
from hardware_sim.serial.devices import LedScreen, SimBus
from kiosk_server import cli as hallq
from tests.display_client.hallserver import HallServer

ROOT = Path(__file__).resolve().parents[2]


def test_parse_map() -> None:
    assert parse_map("1=0x01, 2=0x02,10=16") == {1: 1, 2: 2, 10: 16}
    for bad in ("", "1", "1=0x00", "1=0xFF", "1=1,1=2", "1=1,2=1", "a=1"):
        with pytest.raises(ValueError):
            parse_map(bad)


def test_bad_map_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--server", "http://x", "--hall", "H1", "--token", "t", "--port", "/dev/null"]
    assert main([*args, "--map", "1=0x100"]) == 2
    assert "--map" in capsys.readouterr().err
    # Reached through the `hallq` command as well.
    assert hallq.main(["led-bridge", *args, "--map", "3=0xFF"]) == 2


def test_missing_token_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALLQ_DEVICE_TOKEN", raising=False)
    args = ["--server", "http://x", "--hall", "H1", "--port", "/dev/null", "--map", "1=1"]
    assert main(args) == 2


@pytest.fixture
def bus(tmp_path: Path) -> Iterator[SimBus]:
    with SimBus([LedScreen(1), LedScreen(2)], link_path=str(tmp_path / "ttyUSB0")) as b:
        yield b


@pytest_asyncio.fixture
async def server() -> AsyncIterator[HallServer]:
    s = HallServer()
    s.snapshot = {
        "seq": 3,
        "counters": [{"number": 1, "state": "open"}, {"number": 2, "state": "open"}],
    }
    await s.start()
    yield s
    await s.stop()


@pytest.mark.asyncio
async def test_bridge_process_end_to_end(bus: SimBus, server: HallServer) -> None:
    env = os.environ | {"HALLQ_DEVICE_TOKEN": server.token, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "display_client.serial_bridge.cli",
        "--server", server.url, "--hall", server.hall, "--port", bus.path, "--map", "1=0x01,2=0x02",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        s2 = bus[2]
        assert await asyncio.to_thread(bus.wait_for, lambda: s2.shows() == IDLE_TEXT, 10.0)
        await server.publish("ticket.called", number="A012", counter=2)
        assert await asyncio.to_thread(bus.wait_for, lambda: s2.shows() == "请 A012", 5.0)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 10)
    assert proc.returncode == 0, err.decode()
