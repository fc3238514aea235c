"""A real hallq server for benchmarks: `hallq init --demo --always-open` in a
temp dir, `hallq serve` in a subprocess on a free loopback port."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoServer:
    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="hallq-bench-")
        self.data_dir = Path(self._tmp.name) / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.tokens: dict[str, str] = {}
        self.env = {
            **os.environ,
            "HALLQ_DATA_DIR": str(self.data_dir),
            "HALLQ_ISSUE_PER_MINUTE_PER_DEVICE": "100000000",
            "HALLQ_LOGIN_ATTEMPTS_PER_MINUTE": "100000",
            **(env or {}),
        }
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DemoServer:
        cli = [sys.executable, "-m", "kiosk_server.cli"]
        subprocess.run(
            [*cli, "init", "--demo", "--always-open", "--admin-password", PASSWORD],
            env=self.env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.tokens = json.loads((self.data_dir / "demo-tokens.json").read_text())
        self._proc = subprocess.Popen(
            [*cli, "serve", "--port", str(self.port), "--log-level", "warning"],
            env=self.env,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not come up in 30 s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._tmp.cleanup()

    async def staff_token(self, client: httpx.AsyncClient, user: str = "staff1") -> str:
        r = await client.post("/api/v1/auth/token", json={"username": user, "password": PASSWORD})
        r.raise_for_status()
        token: str = r.json()["access_token"]
        return token

    async def counter_ids(self, client: httpx.AsyncClient, token: str) -> dict[int, int]:
        r = await client.get(
            "/api/v1/halls/demo/counters", headers={"Authorization": f"Bearer {token}"}
        )
        r.raise_for_status()
        data: Any = r.json()
        rows = data["counters"] if isinstance(data, dict) else data
        return {int(c["number"]): int(c["id"]) for c in rows}
