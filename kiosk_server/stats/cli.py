"""`hallq report`: write a daily or monthly report file from the database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from kiosk_server.clock import SystemClock
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.errors import DomainError
from kiosk_server.settings import Settings
from kiosk_server.stats import service
from kiosk_server.stats.router import render


async def build_report_file(
    settings: Settings, hall: str, period: service.Period, fmt: str
) -> bytes:
    ctx = AppContext.build(settings, clock=SystemClock())
    try:
        async with unit_of_work(ctx.db, write=False) as uow:
            h, rep = await service.report(ctx, uow, None, hall, period)
        body, _ = render(rep, h.name, period, fmt)
    finally:
        await ctx.db.dispose()
    return body


def main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="hallq report", description="write the daily or monthly report (信息上报)"
    )
    p.add_argument("--hall", required=True, help="hall code, e.g. demo")
    when = p.add_mutually_exclusive_group(required=True)
    when.add_argument("--date", type=date.fromisoformat, help="a day, YYYY-MM-DD")
    when.add_argument("--month", help="a month, YYYY-MM")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("--out", help="output file (default: <hall>-<period>.<format>)")
    p.add_argument("--data-dir", help="where the SQLite database lives (HALLQ_DATA_DIR)")
    a = p.parse_args(list(argv))
    settings = Settings(data_dir=Path(a.data_dir)) if a.data_dir else Settings()
    try:
        period = service.Period.month(a.month) if a.month else service.Period.day(a.date)
        out = Path(a.out or f"{a.hall}-{a.month or a.date}.{a.format}")
        body = asyncio.run(build_report_file(settings, a.hall, period, a.format))
    except DomainError as exc:
        print(f"hallq report: {exc}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    print(f"report written to {out}")
    return 0
