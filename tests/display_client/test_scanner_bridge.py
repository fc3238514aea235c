"""`hallq scanner-bridge`: a serial scanner (emulated on a real pty) -> the kiosk
page's WebSocket, with ID numbers never logged in full."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from display_client.serial_bridge.scanner import (
    ScannerRelay,
    is_loopback,
    main,
    parse_listen,
)
from hardware_sim.serial.scanner import ScannerSim
from hardware_sim.serial.testing import eventually
from kiosk_server import cli as hallq
from kiosk_server.core.idnumber import mask_id
from kiosk_server.devices.link import SerialLink
from tests.factories import ID_ELDERLY_1949, ID_YOUNG_1990

ROOT = Path(__file__).resolve().parents[2]
APPOINTMENT = "YY20261125A7"

# The test's own WebSocket client must not log frames either (they hold the ID).
_client_log = logging.getLogger("tests.scanner_bridge.client")
_client_log.setLevel(logging.WARNING)


@dataclass
class Rig:
    sim: ScannerSim
    relay: ScannerRelay
    url: str


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[ScannerSim]:
    with ScannerSim(link_path=str(tmp_path / "ttyACM0")) as s:
        yield s


def fast_link(path: str) -> SerialLink:
    return SerialLink(path, read_timeout=0.05, backoff_initial=0.01, backoff_max=0.05)


@pytest_asyncio.fixture
async def rig(sim: ScannerSim) -> AsyncIterator[Rig]:
    relay = ScannerRelay(fast_link(sim.path), origins=["http://hall.example:8000"])
    port = await relay.start("127.0.0.1", 0)
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(5):
            await relay.link.wait_connected()
        yield Rig(sim, relay, f"ws://127.0.0.1:{port}")
    finally:
        await relay.close()
        await asyncio.wait_for(task, 5)


def page(url: str, **kw: Any) -> Any:
    return connect(url, logger=_client_log, open_timeout=5, **kw)


async def next_message(
    ws: ClientConnection, want: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The next message ``want`` accepts (others, e.g. status pushes, are skipped)."""
    async with asyncio.timeout(5):
        while True:
            msg: dict[str, Any] = json.loads(await ws.recv())
            if want(msg):
                return msg


def is_scan(m: dict[str, Any]) -> bool:
    return m["type"] == "scan"


def port_state(state: str) -> Callable[[dict[str, Any]], bool]:
    return lambda m: m["type"] == "status" and m["port"]["state"] == state


@pytest.mark.asyncio
async def test_scans_reach_the_page_and_id_numbers_are_never_logged(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # Nobody connected: the scan is dropped, not kept for whoever connects next.
    rig.sim.scan(ID_YOUNG_1990)
    assert await eventually(lambda: rig.relay.dropped == 1)

    async with page(rig.url) as ws:
        hello = await next_message(ws, lambda m: m["type"] == "status")
        assert hello["port"]["state"] == "open" and hello["dropped"] == 1
        rig.sim.scan(APPOINTMENT.lower(), terminator="\r")
        assert await next_message(ws, is_scan) == {"type": "scan", "text": APPOINTMENT}
        rig.sim.scan(ID_ELDERLY_1949, terminator="\n")
        assert await next_message(ws, is_scan) == {"type": "scan", "text": ID_ELDERLY_1949}
        rig.sim.scan("医保电子凭证码", encoding="gb18030")
        assert await next_message(ws, is_scan) == {"type": "scan", "text": "医保电子凭证码"}

        await ws.send(json.dumps({"type": "status"}))
        status = await next_message(ws, lambda m: m["type"] == "status")
    assert status["scans"] == {"id_number": 2, "appointment": 1, "opaque": 1}
    assert status["delivered"] == 3 and status["dropped"] == 1 and status["pages"] == 1
    assert status["last"] == {"kind": "opaque", "shows": "医保电子…(7)"}

    logged = caplog.text
    assert mask_id(ID_ELDERLY_1949) in logged and mask_id(ID_YOUNG_1990) in logged
    for full in (ID_ELDERLY_1949, ID_YOUNG_1990):
        assert full not in logged
        assert all(full not in str(r.args) for r in caplog.records)


@pytest.mark.asyncio
async def test_status_never_holds_a_full_id_number(rig: Rig) -> None:
    async with page(rig.url) as ws:
        await next_message(ws, port_state("open"))
        rig.sim.scan(ID_ELDERLY_1949)
        await next_message(ws, is_scan)
        await ws.send("not json")  # ignored
        await ws.send(json.dumps({"type": "status"}))
        raw = await asyncio.wait_for(ws.recv(), 5)
    assert ID_ELDERLY_1949 not in str(raw)
    assert json.loads(raw)["last"] == {"kind": "id_number", "shows": mask_id(ID_ELDERLY_1949)}


@pytest.mark.asyncio
async def test_port_gone_and_back_resumes_delivery(rig: Rig) -> None:
    async with page(rig.url) as ws:
        await next_message(ws, port_state("open"))
        rig.sim.scan(APPOINTMENT)
        assert (await next_message(ws, is_scan))["text"] == APPOINTMENT

        # Unplugged: the page is told (for the staff indicator); the bridge keeps running.
        rig.sim.unplug()
        down = await next_message(ws, port_state("down"))
        assert down["port"]["disconnects"] == 1

        rig.sim.plug()
        up = await next_message(ws, port_state("open"))
        assert up["port"]["opens"] == 2
        rig.sim.scan(ID_ELDERLY_1949)
        assert (await next_message(ws, is_scan))["text"] == ID_ELDERLY_1949


@pytest.mark.asyncio
async def test_pages_from_other_origins_are_refused(rig: Rig) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with page(rig.url, origin="http://evil.example"):
            pass
    assert refused.value.response.status_code == 403
    async with page(rig.url, origin="http://hall.example:8000") as ws:
        await next_message(ws, port_state("open"))
        rig.sim.scan(APPOINTMENT)
        assert (await next_message(ws, is_scan))["text"] == APPOINTMENT


def test_listen_address_parsing() -> None:
    assert parse_listen("127.0.0.1:8766") == ("127.0.0.1", 8766)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    for bad in ("8766", ":8766", "127.0.0.1:x", "127.0.0.1:70000"):
        with pytest.raises(ValueError):
            parse_listen(bad)
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.8.0.1", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.5", "::", "kiosk.local"))


@pytest.mark.parametrize("listen", ["0.0.0.0:8766", "192.168.1.20:8766", "[::]:8766"])
def test_non_loopback_listen_is_refused(listen: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--serial", "/dev/null", "--listen", listen]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen" in err and "ID numbers" in err and "--allow-remote" in err
    # The same through the `hallq` command.
    assert hallq.main(["scanner-bridge", "--serial", "/dev/null", "--listen", listen]) == 2


@pytest.mark.asyncio
async def test_bridge_process_end_to_end(sim: ScannerSim) -> None:
    """`hallq scanner-bridge -v` as a process: delivers, survives nothing connected,
    stops on SIGTERM, and even at DEBUG its log holds only the masked ID."""
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kiosk_server.cli", "scanner-bridge",
        "--serial", sim.path, "--listen", "127.0.0.1:0", "-v",
        env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(10):
            while not (m := re.search(r"listening on (ws://127\.0\.0\.1:\d+)", "".join(lines))):
                line = await proc.stderr.readline()
                assert line, "".join(lines)
                lines.append(line.decode())
        async with page(m.group(1)) as ws:
            await next_message(ws, port_state("open"))
            sim.scan(ID_ELDERLY_1949)
            assert (await next_message(ws, is_scan))["text"] == ID_ELDERLY_1949
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = await asyncio.wait_for(proc.stderr.read(), 10)
        await asyncio.wait_for(proc.wait(), 10)
    log = "".join(lines) + rest.decode()
    assert proc.returncode == 0, log
    assert mask_id(ID_ELDERLY_1949) in log
    assert ID_ELDERLY_1949 not in log
