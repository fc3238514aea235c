"""Call -> hall screen latency with 200 screens connected.

    python -m benchmarks.call_latency [--screens 200] [--calls 100]

200 WebSocket clients follow /ws/halls/demo/display on a real `hallq serve`;
a counter calls tickets one after another; for each call, the time from
sending call-next to each screen receiving its ticket.called. Target p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import time
from typing import Any

import httpx
import websockets

from benchmarks import machine, print_table, summary_ms, write_result
from benchmarks._server import DemoServer


async def _run(screens: int, calls: int) -> dict[str, Any]:
    with DemoServer() as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            kiosk = {"Authorization": f"Bearer {server.tokens['kiosk']}"}
            for i in range(calls):
                r = await client.post(
                    "/api/v1/halls/demo/tickets",
                    json={"service": ["enrol", "payment"][i % 2]},
                    headers=kiosk,
                )
                r.raise_for_status()
            token = await server.staff_token(client)
            staff = {"Authorization": f"Bearer {token}"}
            counter_id = (await server.counter_ids(client, token))[1]
            url = f"{server.ws_url}/ws/halls/demo/display?token={server.tokens['display']}"
            received: dict[str, list[float]] = {}
            ready = asyncio.Event()
            connected = 0

            async def screen() -> None:
                nonlocal connected
                async with websockets.connect(url, max_size=None) as ws:
                    connected += 1
                    if connected == screens:
                        ready.set()
                    async for raw in ws:
                        msg = json.loads(raw)
                        if msg.get("type") == "ticket.called":
                            number = str(msg.get("data", {}).get("number"))
                            received.setdefault(number, []).append(time.perf_counter())

            tasks = [asyncio.create_task(screen()) for _ in range(screens)]
            await asyncio.wait_for(ready.wait(), 60)
            await asyncio.sleep(0.5)  # let the snapshots go out
            # The 200 screens share this one Python process (on a hall they are
            # 200 browsers): keep its own collector's pauses out of the figures,
            # as `hallq serve` does for the server.
            gc.collect()
            gc.freeze()
            latencies: list[float] = []
            for _ in range(calls):
                began = time.perf_counter()
                r = await client.post(f"/api/v1/counters/{counter_id}/call-next", headers=staff)
                if r.status_code != 200:
                    raise RuntimeError(f"call-next: {r.status_code} {r.text}")
                number = str(r.json()["ticket"]["number"])
                deadline = time.perf_counter() + 10
                while len(received.get(number, [])) < screens and time.perf_counter() < deadline:
                    await asyncio.sleep(0.002)
                got = received.get(number, [])
                latencies.extend(t - began for t in got)
                # Serve it out so the counter is free for the next call.
                await client.post(f"/api/v1/counters/{counter_id}/start", headers=staff)
                r = await client.post(
                    f"/api/v1/counters/{counter_id}/finish",
                    json={"outcome": "completed"},
                    headers=staff,
                )
                if r.status_code != 200:
                    raise RuntimeError(f"finish: {r.status_code} {r.text}")
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    expected = screens * calls
    return {
        "screens": screens,
        "calls": calls,
        "delivered": len(latencies),
        "expected": expected,
        **summary_ms(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.call_latency")
    p.add_argument("--screens", type=int, default=200)
    # 100 calls: with 40, the p99 of each run was the single slowest call and
    # moved between 26 and 80 ms from run to run; with 100 it holds within a few ms.
    p.add_argument("--calls", type=int, default=100)
    args = p.parse_args(argv)
    row = asyncio.run(_run(args.screens, args.calls))
    print_table("Call -> hall screen (ticket.called on every screen)", [row])
    write_result("call_latency", {"target": {"p99_ms": 50}, "rows": [row], "machine": machine()})
    return 0 if row["delivered"] == row["expected"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
