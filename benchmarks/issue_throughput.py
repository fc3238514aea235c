"""Ticket issue throughput and latency on SQLite, one server process.

    python -m benchmarks.issue_throughput [--tickets 600]

1, 16 and 64 concurrent kiosk clients issue tickets over HTTP against a real
`hallq serve` (demo hall, always open). Targets: >= 500 issues/s, p99 <= 50 ms.

The load comes from ``wrk`` where it is installed (Debian's package): httpx
in Python tops out near 600 requests/s on two cores even against ``/healthz``,
so it would measure itself. Without wrk the httpx client runs and the table
says so. Each round also measures ``GET /healthz`` with the same client: the
ceiling of the HTTP stack on this machine, for scale.

Two printer set-ups, because printing is part of the issue request:
``agent://`` is how a central server runs (each kiosk's print agent renders
its own tickets; the server records the job), ``dummy://`` is the demo's
in-process printer, where the server also renders every ticket to ESC/POS and
the response waits for the outcome, as the kiosk's does.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import tempfile
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


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local items = {%(items)s}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, nil, nil, '{"service": "' .. items[(i %% #items) + 1] .. '"}')
end
"""

_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if m is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return round(float(m.group(1)) * _UNIT_MS[m.group(2)], 2)


def _wrk(url: str, clients: int, seconds: int, script: str | None) -> dict[str, Any]:
    cmd = ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as f:
        if script is not None:
            f.write(script)
            f.flush()
            cmd += ["-s", f.name]
        out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    lat = dict(re.findall(r"^[ \t]+(50|90|99)%[ \t]+(\S+)[ \t]*$", out, re.M))
    if len(lat) != 3:
        raise RuntimeError(f"could not read wrk's latency distribution:\n{out}")
    return {
        "clients": clients,
        "issues_per_s": round(rate, 1),
        "requests": total,
        "errors": errors,
        "p50_ms": _ms(lat["50"]),
        "p90_ms": _ms(lat["90"]),
        "p99_ms": _ms(lat["99"]),
    }


def _wrk_rounds(printer: str, seconds: int) -> list[dict[str, Any]]:
    rows = []
    items = ", ".join(f'"{s}"' for s in SERVICES)
    for clients in (1, 16, 64):
        # A fresh server per round: the daily numbers run to 999 per prefix.
        with DemoServer({"HALLQ_PRINTER_URL": printer}) as server:
            script = WRK_SCRIPT % {"token": server.tokens["kiosk"], "items": items}
            url = f"{server.url}/api/v1/halls/demo/tickets"
            warm = _wrk(url, clients, 1, script)  # warm-up
            row = _wrk(url, clients, seconds, script)
            ceiling = _wrk(f"{server.url}/healthz", clients, 2, None)
            batches = _batch_sizes(server)
            rows.append(
                {
                    "printer": printer,
                    "client": "wrk",
                    **{k: v for k, v in row.items() if k != "requests"},
                    # Nobody is called during a round: every issue stays in the
                    # queue, which each issue reads whole to estimate the wait.
                    "queue_at_end": warm["requests"] + row["requests"],
                    "mean_batch": batches,
                    "healthz_per_s": ceiling["issues_per_s"],
                }
            )
    return rows


def _batch_sizes(server: DemoServer) -> float | None:
    """Mean issues per transaction over the round (group commit), from /metrics."""
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    count = re.search(r"^hallq_issue_batch_size_count ([\d.]+)$", text, re.M)
    total = re.search(r"^hallq_issue_batch_size_sum ([\d.]+)$", text, re.M)
    if count is None or total is None or float(count.group(1)) == 0:
        return None
    return round(float(total.group(1)) / float(count.group(1)), 1)


async def _healthz(server: DemoServer, clients: int, n: int) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    counter = iter(range(n))
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            for _ in counter:
                await client.get("/healthz")

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return round(n / (time.perf_counter() - began), 1)


async def _run(tickets: int, printers: list[str]) -> list[dict[str, Any]]:
    rows = []
    for printer in printers:
        for clients in (1, 16, 64):
            # A fresh server per round: the daily numbers run to 999 per prefix.
            with DemoServer({"HALLQ_PRINTER_URL": printer}) as server:
                await _round(server, clients, 50)  # warm-up
                row = await _round(server, clients, tickets)
                ceiling = await _healthz(server, clients, 1000)
                rows.append(
                    {"printer": printer, "client": "httpx", **row, "healthz_per_s": ceiling}
                )
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.issue_throughput")
    p.add_argument("--tickets", type=int, default=600, help="per round, with the httpx client")
    p.add_argument("--seconds", type=int, default=3, help="per round, with wrk")
    p.add_argument("--client", choices=["auto", "wrk", "httpx"], default="auto")
    p.add_argument("--printer", action="append", help="default: agent:// and dummy://")
    args = p.parse_args(argv)
    printers = args.printer or ["agent://", "dummy://"]
    use_wrk = args.client == "wrk" or (args.client == "auto" and shutil.which("wrk"))
    if use_wrk:
        rows = [r for printer in printers for r in _wrk_rounds(printer, args.seconds)]
    else:
        print("(wrk not found: the httpx client limits what can be measured; apt-get install wrk)")
        rows = asyncio.run(_run(args.tickets, printers))
    print_table("Ticket issue over HTTP, SQLite, one process", rows)
    write_result(
        "issue_throughput",
        {"target": {"issues_per_s": 500, "p99_ms": 50}, "rows": rows, "machine": machine()},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
