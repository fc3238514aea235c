"""Ticket printing: layout to ESC/POS bytes, printer transports and status.

Typical server use (in a worker thread)::

    printer = open_printer(settings.printer_url)          # validated URL
    data = render_ticket(ticket_view, Layout(paper_mm=80))
    result = deliver(printer, data, timeout=10, attempts=3)
"""

from ticket_printer.layout import Layout, compose_ticket, render_ticket, render_ticket_image
from ticket_printer.spool import DeliveryResult, deliver
from ticket_printer.status import (
    CoverOpen,
    PaperOut,
    PrinterError,
    PrinterOffline,
    PrinterStatus,
    PrinterTimeout,
)
from ticket_printer.transports import Printer, PrinterTarget, open_printer, parse_printer_url
from ticket_printer.view import TicketView

__all__ = [
    "CoverOpen",
    "DeliveryResult",
    "Layout",
    "PaperOut",
    "Printer",
    "PrinterError",
    "PrinterOffline",
    "PrinterStatus",
    "PrinterTarget",
    "PrinterTimeout",
    "TicketView",
    "compose_ticket",
    "deliver",
    "open_printer",
    "parse_printer_url",
    "render_ticket",
    "render_ticket_image",
]
