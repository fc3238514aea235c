"""Ticket issue throughput and latency on SQLite, one server process.

    python -m benchmarks.issue_throughput [--tickets 600]

1, 16 and 64 concurrent kiosk clients issue tickets over HTTP against a real
`hallq serve` (demo hall, always open). Targets: >= 500 issues/s, p99 <= 50 ms.

Two printer set-ups, because printing is part of the issue request:
``agent://`` is how a central server runs (each kiosk's print agent renders
its own tickets; the server records the job), ``dummy://`` is the demo's
in-process printer, where the server also renders every ticket to ESC/POS and
the response waits for the outcome, as the kiosk's does.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx

from benchmarks import machine, print_table, summary_ms, write_result
from benchmarks._server import DemoServer

SERVICES = ["enrol", "record_query", "payment", "chronic_disease", "reimbursement"]


async def _round(server: DemoServer, clients: int, tickets: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {server.tokens['kiosk']}"}
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(tickets))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            for i in counter:
                body = {"service": SERVICES[i % len(SERVICES)]}
                began = time.perf_counter()
                r = await client.post("/api/v1/halls/demo/tickets", json=body, headers=headers)
                if r.status_code in (200, 201):
                    latencies.append(time.perf_counter() - began)
                else:
                    # Counted, not fatal: the table must show failures under load.
                    errors.append(f"{r.status_code}")

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    return {
        "clients": clients,
        "issues_per_s": round(len(latencies) / elapsed, 1),
        "errors": len(errors),
        **summary_ms(latencies),
    }


async def _run(tickets: int) -> list[dict[str, Any]]:
    rows = []
    for printer in ("agent://", "dummy://"):
        for clients in (1, 16, 64):
            # A fresh server per round: the daily numbers run to 999 per prefix.
            with DemoServer({"HALLQ_PRINTER_URL": printer}) as server:
                await _round(server, clients, 50)  # warm-up
                rows.append({"printer": printer, **await _round(server, clients, tickets)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.issue_throughput")
    p.add_argument("--tickets", type=int, default=600)
    args = p.parse_args(argv)
    rows = asyncio.run(_run(args.tickets))
    print_table("Ticket issue over HTTP, SQLite, one process", rows)
    write_result(
        "issue_throughput",
        {"target": {"issues_per_s": 500, "p99_ms": 50}, "rows": rows, "machine": machine()},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
