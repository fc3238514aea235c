"""Scale-out benchmark: issue throughput and call -> screen latency for
one process on SQLite, one on PostgreSQL, and two processes on PostgreSQL + Redis.

    .venv/bin/python -m benchmarks.scaleout [--issues 300] [--calls 40] [--concurrency 20]

Needs PostgreSQL (HALLQ_BENCH_PG, default postgresql://postgres@127.0.0.1:5432/postgres)
and Redis (HALLQ_BENCH_REDIS, default redis://127.0.0.1:6379/0) for the last two rows.
Each configuration gets a fresh database; real `hallq serve` processes, real HTTP and
WebSocket clients on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("HALLQ_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("HALLQ_BENCH_REDIS", "redis://127.0.0.1:6379/0")
SECRET = "benchmark-secret-key-that-is-long-enough-0123456789"
PASSWORD = "bench-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Config:
    label: str
    database: str  # sqlite | postgresql
    bus: str  # memory | redis
    processes: int


CONFIGS = [
    Config("1 process, SQLite", "sqlite", "memory", 1),
    Config("1 process, PostgreSQL", "postgresql", "memory", 1),
    Config("2 processes, PostgreSQL + Redis", "postgresql", "redis", 2),
]


def env_for(db_url: str, bus: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALLQ_")}
    env.update(
        HALLQ_ENVIRONMENT="test",  # fast password hashing; production otherwise
        HALLQ_DATA_DIR=str(data_dir),
        HALLQ_DATABASE_URL=db_url,
        HALLQ_EVENT_BUS_URL=bus,
        HALLQ_SECRET_KEY=SECRET,
        HALLQ_TICKER_SECONDS="3600",
        HALLQ_LOGIN_ATTEMPTS_PER_MINUTE="1000",
        HALLQ_ISSUE_PER_MINUTE_PER_DEVICE="1000000",
        HALLQ_PRINTER_URL="none://",
        PYTHONPATH=str(ROOT),
    )
    return env


async def prepare(env: dict[str, str]) -> dict[str, Any]:
    """Migrate, create a hall that is always open, a kiosk token and four staff."""
    code = f"""
import asyncio, json
from kiosk_server.auth.principal import DeviceKind, Role
from kiosk_server.auth.service import create_device, create_user
from kiosk_server.bootstrap import create_hall
from kiosk_server.context import AppContext
from kiosk_server.db.migrate import upgrade
from kiosk_server.db.uow import unit_of_work
from kiosk_server.halls import repository as halls_repo
from kiosk_server.settings import Settings

async def main():
    ctx = AppContext.build(Settings())
    await upgrade(ctx.db.engine)
    async with unit_of_work(ctx.db) as uow:
        hall = await create_hall(uow.session, "bench", "基准测试厅", always_open=True)
        kiosk, _ = await create_device(uow.session, hall.id, DeviceKind.KIOSK, "kiosk")
        counters = {{}}
        for c in await halls_repo.list_counters(uow.session, hall.id):
            await create_user(uow.session, f"s{{c.number}}", {PASSWORD!r}, Role.STAFF,
                              hall_ids=[hall.id])
            counters[c.number] = c.id
    await ctx.db.dispose()
    print(json.dumps({{"kiosk": kiosk, "counters": counters}}))

asyncio.run(main())
"""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, env=env, stdout=subprocess.PIPE, cwd=ROOT
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError("preparing the hall failed")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "kiosk_server.cli", "serve", "--port", str(self.port)]
        cmd += ["--log-level", "warning"]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                cmd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )

    async def ready(self) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as c:
            async with asyncio.timeout(60):
                while True:
                    if self.proc.poll() is not None:
                        raise RuntimeError(f"server on {self.port} exited")
                    try:
                        r = await c.get("/readyz")
                        if r.status_code == 200 and r.json()["checks"]["event_bus"] == "ok":
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


async def issue_throughput(
    servers: list[Server], kiosk: str, n: int, concurrency: int
) -> tuple[float, float]:
    """Tickets per second and p95 response time (ms), spread over every process."""
    clients = [httpx.AsyncClient(base_url=s.url, timeout=30) for s in servers]
    gate = asyncio.Semaphore(concurrency)
    times: list[float] = []

    async def one(i: int) -> None:
        async with gate:
            t0 = time.perf_counter()
            r = await clients[i % len(clients)].post(
                "/api/v1/halls/bench/tickets",
                json={"service": "enrol" if i % 2 else "payment"},
                headers={"Authorization": f"Bearer {kiosk}"},
            )
            times.append(time.perf_counter() - t0)
            if r.status_code != 201:
                raise RuntimeError(r.text)

    start = time.perf_counter()
    try:
        await asyncio.gather(*(one(i) for i in range(n)))
    finally:
        for c in clients:
            await c.aclose()
    elapsed = time.perf_counter() - start
    times.sort()
    return n / elapsed, times[int(0.95 * (len(times) - 1))] * 1000


async def call_latency(
    servers: list[Server], counters: dict[str, int], calls: int
) -> tuple[float, float]:
    """Call through the first process, screen on the last: p50 and p95 (ms)."""
    a, b = servers[0], servers[-1]
    async with httpx.AsyncClient(base_url=a.url, timeout=30) as c:
        r = await c.post("/api/v1/auth/token", json={"username": "s1", "password": PASSWORD})
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        desk = counters["1"]
        ws_url = b.url.replace("http://", "ws://") + "/ws/halls/bench/display"
        samples: list[float] = []
        async with websockets.connect(ws_url) as ws:
            json.loads(await ws.recv())  # hello
            for _ in range(calls):
                t0 = time.perf_counter()
                r = await c.post(f"/api/v1/counters/{desk}/call-next", headers=auth)
                if r.status_code != 200 or r.json()["ticket"] is None:
                    raise RuntimeError(f"call-next: {r.text}")
                while True:
                    ev = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if ev.get("type") == "ticket.called":
                        break
                samples.append((time.perf_counter() - t0) * 1000)
                await c.post(f"/api/v1/counters/{desk}/no-show", headers=auth)
                # Drain the no-show event so the next wait sees only the call.
                while json.loads(await asyncio.wait_for(ws.recv(), 10)).get("type") != (
                    "ticket.no_show"
                ):
                    pass
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


async def run_config(cfg: Config, args: argparse.Namespace) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="hallq-bench-"))
    dbname = None
    if cfg.database == "sqlite":
        db_url = f"sqlite+aiosqlite:///{tmp / 'hallq.db'}"
    else:
        dbname = f"hallq_bench_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'CREATE DATABASE "{dbname}"')
        await conn.close()
        db_url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        db_url += f"/{dbname}"
    bus = "memory://" if cfg.bus == "memory" else f"{REDIS}?channel=hallq-bench-{tmp.name}"
    env = env_for(db_url, bus, tmp)
    servers: list[Server] = []
    try:
        setup = await prepare(env)
        servers = [Server(env, tmp / f"server{i}.log") for i in range(cfg.processes)]
        await asyncio.gather(*(s.ready() for s in servers))
        rate, p95 = await issue_throughput(servers, setup["kiosk"], args.issues, args.concurrency)
        lat50, lat95 = await call_latency(servers, setup["counters"], args.calls)
        return {"label": cfg.label, "rate": rate, "issue_p95": p95, "lat50": lat50, "lat95": lat95}
    finally:
        for s in servers:
            s.stop()
        if dbname:
            conn = await asyncpg.connect(PG_ADMIN)
            await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            await conn.close()


def table(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"{args.issues} issues at concurrency {args.concurrency}; {args.calls} calls "
        f"(call through the first process, screen on the last); {os.cpu_count()} CPUs",
        "",
        "| configuration | issues/s | issue p95 (ms) | call->screen p50 (ms) | p95 (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['rate']:.0f} | {r['issue_p95']:.0f} | "
            f"{r['lat50']:.1f} | {r['lat95']:.1f} |"
        )
    return "\n".join(lines)


async def amain(args: argparse.Namespace) -> int:
    rows = []
    for cfg in CONFIGS:
        if args.only and args.only not in cfg.label:
            continue
        print(f"running: {cfg.label} ...", file=sys.stderr)
        rows.append(await run_config(cfg, args))
    print(table(rows, args))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--issues", type=int, default=300)
    p.add_argument("--calls", type=int, default=40)
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--only", help="run the configurations whose label contains this")
    args = p.parse_args(argv)
    if args.calls > args.issues:
        p.error("--calls must not exceed --issues (each call needs a waiting ticket)")
    return asyncio.run(amain(args))


if __name__ == "__main__":
    raise SystemExit(main())
