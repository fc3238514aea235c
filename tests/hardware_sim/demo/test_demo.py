"""`hallq demo` for a short run, as a user starts it: a child process on a free port."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hardware_sim.cli import main as sim_main
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_demo_brings_up_a_living_hall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "demo"
    port = free_port()
    env = os.environ | {
        "HALLQ_DEMO_SPEED": "150",  # a busy morning in a few seconds
        "PYTHONPATH": str(ROOT),
    }
    env.pop("HALLQ_DATA_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk_server.cli", "demo", "--data-dir", str(data)]
        + ["--port", str(port), "--duration", "10"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    assert f"http://127.0.0.1:{port}/display/demo" in out and "/docs" in out
    assert "hallq demo stopped" in out

    # The server recorded tickets issued, called and finished, and some ratings.
    db = sqlite3.connect(data / "hallq.db")
    try:
        states = dict(db.execute("SELECT state, COUNT(*) FROM tickets GROUP BY state").fetchall())
        issued = sum(states.values())
        called_numbers = {
            n for (n,) in db.execute("SELECT number FROM tickets WHERE called_at IS NOT NULL")
        }
        called = (len(called_numbers),)
        ratings = db.execute("SELECT COUNT(*) FROM ratings").fetchone()
    finally:
        db.close()
    assert issued >= 2, states
    assert called[0] >= 1
    assert states.get("done", 0) >= 1, states
    assert ratings[0] >= 1  # pressed on the emulated rating pads, through their bridge

    # The emulated printer printed the tickets.
    printed = sorted((data / "printer-out").glob("ticket-*.txt"))
    assert printed and (data / "printer-out" / printed[0].name.replace(".txt", ".png")).exists()
    text = "\n".join(p.read_text(encoding="utf-8") for p in printed)
    assert re.search(r"[A-Z]\d{3}", text)

    # The LED screens showed called numbers (every call flashes `请 A012` on one).
    statuses = {
        s["name"]: s
        for s in (json.loads(f.read_text()) for f in (data / "sim").glob("*.status.json"))
    }
    assert {"led-bus", "counter-bus", "printer", "traffic"} <= statuses.keys()
    assert statuses["led-bus"]["frames"] >= 2
    # A call flashes `请 <number>` on its counter's screen: some screen showed a number
    # that was really called in this run (the start-up refresh only shows idle texts),
    # and no screen showed a number that never was.
    screens = [d for d in statuses["led-bus"]["devices"] if d["type"] == "led"]
    shown = {
        m.group(1)
        for d in screens
        for t in d["recent"]
        if (m := re.fullmatch(r"请 ([A-Z]\d{3})", t))
    }
    assert shown, [d["recent"] for d in screens]
    assert shown <= called_numbers, (shown, called_numbers)
    # ... and the resident holding it got it from the printer.
    assert any(n in text for n in shown)
    assert statuses["printer"]["tickets"] == len(printed)
    # (an issue request cut off by the stop may be stored but not counted)
    assert issued - 1 <= statuses["traffic"]["counts"]["issued"] <= issued
    # `hallq sim status` lists every device and what it shows.
    capsys.readouterr()
    assert sim_main(["status", "--dir", str(data / "sim")]) == 0
    view = capsys.readouterr().out
    assert view.count("窗口屏") == 4 and view.count("评价器") == 4
    assert "打印机" in view and "客流" in view
    assert re.search(r"┃请 [A-Z]\d{3}", view) or "热情为您服务" in view
