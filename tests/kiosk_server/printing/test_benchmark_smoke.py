"""The print-latency benchmark still runs end to end (a few tickets, 58 mm)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import percentile, summary_ms
from benchmarks.print_latency import run


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 99) == 99.0
    assert percentile(values, 100) == 100.0
    assert percentile([7.0], 99) == 7.0
    s = summary_ms([0.010, 0.020, 0.030])
    assert s["n"] == 3 and s["p50_ms"] == 20.0 and s["max_ms"] == 30.0


@pytest.mark.asyncio
async def test_benchmark_prints_every_ticket(tmp_path: Path) -> None:
    result = await run(5, 58, tmp_path)
    assert result["not_printed"] == 0
    lat = result["issue_to_last_byte"]
    assert lat["n"] == 5 and 0 < lat["p50_ms"] <= lat["p99_ms"] <= lat["max_ms"]
    # The response waits for the outcome, so it never beats the printer's last byte.
    assert result["issue_to_response"]["max_ms"] >= lat["p50_ms"]
