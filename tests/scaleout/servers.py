"""Real `hallq serve` processes sharing one PostgreSQL database and one Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from kiosk_server.settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def server_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")}
    env.update(
        HALLQ_ENVIRONMENT="test",
        HALLQ_DATA_DIR=str(settings.data_dir),
        HALLQ_DATABASE_URL=settings.effective_database_url,
        HALLQ_EVENT_BUS_URL=settings.event_bus_url,
        HALLQ_SECRET_KEY=settings.secret_key,
        HALLQ_TICKER_SECONDS="3600",
        HALLQ_LOGIN_ATTEMPTS_PER_MINUTE="1000",
        HALLQ_ISSUE_PER_MINUTE_PER_DEVICE="100000",
        PYTHONPATH=str(ROOT),
    )
    return env


class ServerProcess:
    def __init__(self, settings: Settings, log: Path, workers: int = 1) -> None:
        self.settings = settings
        self.port = free_port()
        self.log = log
        self.workers = workers
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "kiosk_server.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
        ]

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                self.command(),
                env=server_env(self.settings),
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = 30, bus: bool = True) -> dict[str, Any]:
        """Until /readyz says the database (and, with ``bus``, the event bus) is up."""
        assert self.proc is not None
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as client:
            async with asyncio.timeout(timeout):
                while True:
                    if self.proc.poll() is not None:
                        raise RuntimeError(f"server exited: {self.log.read_text()[-3000:]}")
                    try:
                        r = await client.get("/readyz")
                        body: dict[str, Any] = r.json()
                        if r.status_code == 200 and (
                            not bus or body["checks"]["event_bus"] == "ok"
                        ):
                            return body
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The whole session: with --workers the supervisor has children.
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def start_all(servers: Sequence[ServerProcess]) -> None:
    for s in servers:
        s.start()


async def recv_json(ws: Any, timeout: float = 5.0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return data
