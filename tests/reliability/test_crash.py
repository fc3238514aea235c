"""The real server as a process, killed with SIGKILL under load, restarted on the
same data directory: every acknowledged ticket is there, numbers continue
without a duplicate, the counters' current tickets are intact."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
HALLQ = [sys.executable, "-m", "kiosk_server.cli"]


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "HALLQ_DATA_DIR": str(data_dir),
        "HALLQ_ENVIRONMENT": "development",
        "HALLQ_PRINTER_URL": "none://",
        "HALLQ_ISSUE_PER_MINUTE_PER_DEVICE": "100000",
    }
    with open(data_dir.parent / "server.log", "ab") as log:
        return subprocess.Popen(
            [*HALLQ, "serve", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(300):
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}; see server.log")
            try:
                if (await c.get(f"{url}/readyz", timeout=1)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("server did not become ready")


async def test_sigkill_mid_load_loses_no_acknowledged_ticket(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "HALLQ_DATA_DIR": str(data)}
    subprocess.run(
        [*HALLQ, "init", "--demo", "--always-open", "--admin-password", "crash-test-pw"],
        env=env,
        check=True,
        capture_output=True,
    )
    tokens = json.loads((data / "demo-tokens.json").read_text())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(data, port)
    acknowledged: list[str] = []
    try:
        await wait_ready(url, proc)
        async with httpx.AsyncClient(base_url=url, timeout=5) as c:
            token = (
                await c.post(
                    "/api/v1/auth/token", json={"username": "staff2", "password": "crash-test-pw"}
                )
            ).json()["access_token"]
            counters = (
                await c.get(
                    "/api/v1/halls/demo/counters", headers={"Authorization": f"Bearer {token}"}
                )
            ).json()
            c2 = next(x["id"] for x in counters if x["number"] == 2)
            kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
            for _ in range(5):
                r = await c.post(
                    "/api/v1/halls/demo/tickets", json={"service": "enrol"}, headers=kiosk
                )
                acknowledged.append(r.json()["number"])
            staff = {"Authorization": f"Bearer {token}"}
            current = (await c.post(f"/api/v1/counters/{c2}/call-next", headers=staff)).json()[
                "ticket"
            ]["number"]
            await c.post(f"/api/v1/counters/{c2}/start", headers=staff)

            async def client_loop(i: int) -> None:
                while True:
                    try:
                        r = await c.post(
                            "/api/v1/halls/demo/tickets",
                            json={"service": "enrol" if i % 2 else "payment"},
                            headers=kiosk,
                        )
                    except httpx.HTTPError:
                        return
                    if r.status_code == 201:
                        acknowledged.append(r.json()["number"])

            loops = [asyncio.create_task(client_loop(i)) for i in range(12)]
            while len(acknowledged) < 120:
                await asyncio.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
            await asyncio.gather(*loops)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    proc = start_server(data, port)
    try:
        await wait_ready(url, proc)
        async with httpx.AsyncClient(base_url=url, timeout=5) as c:
            token = (
                await c.post(
                    "/api/v1/auth/token", json={"username": "staff2", "password": "crash-test-pw"}
                )
            ).json()["access_token"]
            staff = {"Authorization": f"Bearer {token}"}
            queue = (await c.get("/api/v1/halls/demo/queue", headers=staff)).json()
            waiting = {q["number"] for q in queue}
            counter = (await c.get(f"/api/v1/counters/{c2}", headers=staff)).json()
            assert (
                counter["ticket"]["number"] == current and counter["ticket"]["state"] == "serving"
            )
            lost = set(acknowledged) - waiting - {current}
            assert not lost, f"acknowledged but missing after the crash: {sorted(lost)}"
            kiosk = {"Authorization": f"Bearer {tokens['kiosk']}"}
            after = (
                await c.post("/api/v1/halls/demo/tickets", json={"service": "enrol"}, headers=kiosk)
            ).json()["number"]
            assert after not in set(acknowledged)
            highest = max(int(n[1:]) for n in acknowledged if n.startswith("A"))
            assert int(after[1:]) > highest
            print(
                f"\ncrash test: {len(acknowledged)} tickets acknowledged before SIGKILL, all found after restart"
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
