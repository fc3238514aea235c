"""A realistic sample ticket, and ``python -m hardware_sim.printer.sample OUT.png``.

The PNG is made the way the emulator makes it: ticket -> ESC/POS bytes ->
decoder -> renderer, so it shows exactly what a printer would print.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone
from pathlib import Path

from PIL import Image

from hardware_sim.printer.decoder import decode
from hardware_sim.printer.render import render_png
from ticket_printer.layout import Layout, render_ticket
from ticket_printer.view import TicketView

CHINA = timezone(timedelta(hours=8))


def sample_ticket(**overrides: object) -> TicketView:
    """A green-channel enrolment ticket at a township hall."""
    fields: dict[str, object] = {
        "hall_name": "长江镇医保服务站",
        "number": "A012",
        "service_name": "城乡居民参保登记",
        "service_name_en": "Urban-rural resident enrolment",
        "channel": "green",
        "ahead": 3,
        "estimated_wait_minutes": 12,
        "issued_at": datetime(2025, 11, 25, 9, 42, tzinfo=CHINA),
        "materials": [
            "居民身份证或户口簿原件",
            "新生儿：出生医学证明原件及监护人身份证",
            "委托他人办理的，另带受托人身份证原件",
        ],
        "status_url": "https://hall.example.gov.cn/t/3f9c2a7b81d4",
        "hotline": "12393",
        "notice": "过号请重新取号",
        "guide": "即时办结事项，请在叫号后到任一窗口办理。",
    }
    fields.update(overrides)
    return TicketView(**fields)  # type: ignore[arg-type]


def sample_png(layout: Layout | None = None, **overrides: object) -> Image.Image:
    layout = layout or Layout()
    data = render_ticket(sample_ticket(**overrides), layout)
    (ticket,) = decode(data, layout.dots)
    return render_png(ticket, layout.dots)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a sample printed ticket as PNG.")
    p.add_argument("out", type=Path)
    p.add_argument("--paper", type=int, choices=(58, 80), default=80)
    args = p.parse_args(argv)
    sample_png(Layout(paper_mm=args.paper)).save(args.out, optimize=True)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
