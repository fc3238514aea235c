"""What a decoded ticket looks like on paper: a PNG and a plain-text rendering."""

from __future__ import annotations

from PIL import Image, ImageDraw

from hardware_sim.printer.decoder import (
    DecodedTicket,
    PaperFeed,
    PrintedImage,
    PrintedQr,
    PrintedText,
)
from ticket_printer.cjk import text_columns
from ticket_printer.raster import HALF_W, PaperCanvas

#: Blank paper above the first line and below the last, in dots.
MARGIN = 16


def render_png(ticket: DecodedTicket, paper_dots: int) -> Image.Image:
    """The ticket as printed: black dots on white, ``paper_dots`` wide.

    Native QR codes are drawn from their decoded payload with the module
    size the job asked for, so a QR reader gets the payload back.
    """
    canvas = PaperCanvas(paper_dots)
    for e in ticket.elements:
        if isinstance(e, PrintedText):
            canvas.text(e.runs, e.align, e.line_spacing)
        elif isinstance(e, PrintedQr):
            canvas.qr(e.payload, e.module, e.ec, e.align)
        elif isinstance(e, PrintedImage):
            canvas.image(e.image, e.align)
        elif isinstance(e, PaperFeed):
            canvas.feed(e.dots)
    img = canvas.to_image(margin=MARGIN).convert("L")
    if ticket.cut:
        # A dashed tear line marks where the cutter went.
        draw = ImageDraw.Draw(img)
        y = img.height - 1
        for x in range(0, img.width, 12):
            draw.line((x, y, x + 6, y), fill=160)
    return img


def render_text(ticket: DecodedTicket, paper_dots: int) -> str:
    """Plain text, lines centred or right-aligned as printed; graphics as markers."""
    cols = paper_dots // HALF_W
    out: list[str] = []
    for e in ticket.elements:
        if isinstance(e, PrintedText):
            text = e.text.rstrip()
            gap = max(0, cols - text_columns(text))
            pad = gap // 2 if e.align == "center" else gap if e.align == "right" else 0
            # Written unmagnified so the text stays searchable.
            out.append(" " * pad + text)
        elif isinstance(e, PrintedQr):
            out.append(f"[二维码] {e.payload}")
        elif isinstance(e, PrintedImage):
            out.append(f"[图像 {e.image.width}x{e.image.height}]")
    return "\n".join(out) + "\n"
