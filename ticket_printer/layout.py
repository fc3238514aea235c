"""Ticket layout: a :class:`TicketView` plus a :class:`Layout` become ESC/POS bytes.

Two steps: :func:`compose_ticket` lays the ticket out as printer lines in
columns (independent of how they are sent), then :func:`render_ticket` turns
those lines into bytes, either as Chinese text (``FS &`` + GB18030) or as one
bitmap for printers without a Chinese font.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from PIL import Image

from ticket_printer import cjk
from ticket_printer.raster import (
    HALF_W,
    PAPER_DOTS,
    Align,
    PaperCanvas,
    TextStyle,
    has_glyph,
    qr_image,
    qr_modules,
)
from ticket_printer.view import TicketView

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
CHINESE_MODE_ON = FS + b"&"
INIT = ESC + b"@"

#: QR error correction: M survives a smudge or a fold and keeps the code small.
QR_EC = "M"
_ESCPOS_EC = {"L": 0, "M": 1, "Q": 2, "H": 3}

MATERIALS_TITLE = "请备齐以下材料（一次性告知）："
QR_CAPTION = "扫码查看排队进度"


@dataclass(frozen=True)
class Layout:
    """How to print: paper, rendering route, and which sections to show.

    ``hall_name`` and ``hotline`` override the ticket's own values when set
    (a kiosk may print a shorter header than the hall's registered name).
    """

    paper_mm: Literal[58, 80] = 80
    text_mode: Literal["native", "image"] = "native"
    qr_mode: Literal["native", "image"] = "native"
    hall_name: str | None = None
    hotline: str | None = None
    show_hall_name: bool = True
    show_service_name_en: bool = False
    show_channel: bool = True
    show_wait: bool = True
    show_issued_at: bool = True
    show_materials: bool = True
    show_guide: bool = True
    show_qr: bool = True
    show_hotline: bool = True
    show_notice: bool = True
    #: Upper bound for the number's GS ! magnification (the printer allows 8).
    number_max_scale: int = 8
    #: Characters outside two-byte GB18030: draw their line as a bitmap, or substitute.
    rare_chars: cjk.RareCharPolicy = "image"
    cut: Literal["full", "partial"] = "partial"

    def __post_init__(self) -> None:
        if self.paper_mm not in PAPER_DOTS:
            raise ValueError(f"paper_mm must be 58 or 80, not {self.paper_mm!r}")
        if self.text_mode not in ("native", "image"):
            raise ValueError(f"text_mode must be 'native' or 'image', not {self.text_mode!r}")
        if self.qr_mode not in ("native", "image"):
            raise ValueError(f"qr_mode must be 'native' or 'image', not {self.qr_mode!r}")
        if not 1 <= self.number_max_scale <= 8:
            raise ValueError("number_max_scale must be between 1 and 8")

    @property
    def dots(self) -> int:
        """Printable width in dots (8 dots/mm heads: 384 for 58 mm, 576 for 80 mm)."""
        return PAPER_DOTS[self.paper_mm]

    @property
    def columns(self) -> int:
        """Half-width columns per line in font A: 32 for 58 mm, 48 for 80 mm."""
        return self.dots // HALF_W


@dataclass(frozen=True)
class TextLine:
    """One printed line; ``text`` already fits ``columns // style.width``."""

    text: str
    style: TextStyle = TextStyle()
    align: Align = "left"
    #: Characters only a bitmap can show; the line is sent as an image.
    image_chars: frozenset[str] = frozenset()


@dataclass(frozen=True)
class QrBlock:
    data: str
    module: int


@dataclass(frozen=True)
class Spacer:
    dots: int


Block = TextLine | QrBlock | Spacer


PLAIN = TextStyle()


class _Composer:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.cols = layout.columns
        self.blocks: list[Block] = []
        policy: cjk.RareCharPolicy = layout.rare_chars
        # In image mode every glyph the font has can be drawn directly.
        self.policy = "image" if layout.text_mode == "image" else policy

    def prepare(self, text: str) -> cjk.PreparedText:
        return cjk.prepare(text, policy=self.policy, has_glyph=has_glyph)

    def para(
        self, text: str, style: TextStyle = PLAIN, align: Align = "left", indent: int = 0
    ) -> None:
        prepared = self.prepare(text)
        width = max(2, self.cols // style.width)
        for line in cjk.wrap(prepared.text, width, indent=indent):
            chars = frozenset(c for c in line if c in prepared.image_chars)
            self.blocks.append(TextLine(line, style, align, chars))

    def fitting_style(self, text: str, big: TextStyle, small: TextStyle) -> TextStyle:
        """``big`` when the text fits one line at its size, else ``small``."""
        cols = cjk.text_columns(self.prepare(text).text)
        return big if cols * big.width <= self.cols else small

    def rule(self) -> None:
        self.blocks.append(TextLine("-" * self.cols))

    def space(self, dots: int) -> None:
        self.blocks.append(Spacer(dots))


def _wait_text(minutes: int) -> str:
    if minutes < 1:
        return "预计很快就能办理"
    if minutes < 60:
        return f"预计等待约 {minutes} 分钟"
    hours, rest = divmod(minutes, 60)
    return f"预计等待约 {hours} 小时 {rest} 分钟" if rest else f"预计等待约 {hours} 小时"


def qr_module_size(data: str, dots: int) -> int:
    """Dots per QR module: as large as fits about half the paper, 3..8."""
    budget = int(dots * (0.5 if dots >= 576 else 0.62))
    return max(3, min(8, budget // qr_modules(data, QR_EC)))


def compose_ticket(ticket: TicketView, layout: Layout) -> list[Block]:
    """Lay the ticket out as printer lines, top to bottom."""
    c = _Composer(layout)
    bold = TextStyle(bold=True)
    tall = TextStyle(bold=True, height=2)
    big = TextStyle(bold=True, width=2, height=2)

    hall = layout.hall_name or ticket.hall_name
    if layout.show_hall_name and hall:
        c.para(hall, c.fitting_style(hall, big, tall), "center")
        c.rule()

    number = c.prepare(ticket.number.strip()).text
    scale = max(1, min(layout.number_max_scale, c.cols // max(1, cjk.text_columns(number))))
    c.space(6)
    c.para(number, TextStyle(bold=True, width=scale, height=scale), "center")
    c.space(6)

    c.para(ticket.service_name, c.fitting_style(ticket.service_name, big, tall), "center")
    if layout.show_service_name_en and ticket.service_name_en:
        c.para(ticket.service_name_en, TextStyle(), "center")

    if layout.show_channel and ticket.channel == "green":
        c.space(8)
        # Inverted double size, padded so the black box frames the words.
        mark = TextStyle(bold=True, invert=True, width=2, height=2)
        c.blocks.append(TextLine(" 绿色通道 ", mark, "center"))
        c.space(8)
    elif layout.show_channel and ticket.channel == "appointment":
        c.space(8)
        c.para("【预约办理】", big, "center")
        c.space(8)

    if layout.show_wait:
        c.para(f"前面还有 {ticket.ahead} 人等候", tall, "center")
        if ticket.estimated_wait_minutes is not None:
            c.para(_wait_text(ticket.estimated_wait_minutes), TextStyle(), "center")
    if layout.show_issued_at:
        c.para(f"取号时间：{ticket.issued_at:%Y-%m-%d %H:%M}", TextStyle(), "center")

    materials = [m.strip() for m in ticket.materials if m.strip()]
    if layout.show_materials and materials:
        c.rule()
        c.para(MATERIALS_TITLE, bold)
        for i, item in enumerate(materials, 1):
            prefix = f"{i}. "
            c.para(prefix + item, indent=cjk.text_columns(prefix))

    if layout.show_guide and ticket.guide and ticket.guide.strip():
        c.rule()
        c.para("办事指南：" + ticket.guide.strip())

    if layout.show_qr and ticket.status_url:
        module = qr_module_size(ticket.status_url, layout.dots)
        c.rule()
        # Four modules of quiet zone above and below so phones find the code.
        c.space(4 * module)
        c.blocks.append(QrBlock(ticket.status_url, module))
        c.space(2 * module)
        c.para(QR_CAPTION, TextStyle(), "center")

    hotline = layout.hotline or ticket.hotline
    if (layout.show_hotline and hotline) or (layout.show_notice and ticket.notice):
        c.rule()
    if layout.show_hotline and hotline:
        c.para(f"服务监督电话：{hotline}", TextStyle(), "center")
    if layout.show_notice and ticket.notice:
        c.para(ticket.notice, bold, "center")
    return c.blocks


def paint(blocks: list[Block], dots: int) -> PaperCanvas:
    """Draw composed blocks on a paper canvas (image mode and previews)."""
    canvas = PaperCanvas(dots)
    for b in blocks:
        if isinstance(b, TextLine):
            canvas.text([(b.text, b.style)], b.align)
        elif isinstance(b, QrBlock):
            canvas.qr(b.data, b.module, QR_EC, "center")
        else:
            canvas.feed(b.dots)
    return canvas


def render_ticket_image(ticket: TicketView, layout: Layout) -> Image.Image:
    """A 1-bit preview of the printed ticket, ``layout.dots`` wide."""
    return paint(compose_ticket(ticket, layout), layout.dots).to_image(margin=16)


def _builder(dots: int) -> Any:
    """A python-escpos byte collector that knows the paper width and can cut."""
    # Imported late: escpos.capabilities calls logging.basicConfig() on import,
    # which would pre-empt the server's own logging set-up.
    from escpos.capabilities import Profile
    from escpos.printer import Dummy

    profile = Profile(
        columns=dots // HALF_W,
        features={"paperFullCut": True, "paperPartCut": True, "bitImageRaster": True},
    )
    # An instance attribute, so the shared profile class stays untouched;
    # python-escpos reads the media width from here when printing images.
    profile.profile_data = {
        **profile.profile_data,
        "media": {"dpi": 203, "width": {"mm": dots // 8, "pixels": dots}},
    }
    return Dummy(profile=profile)


class _NativeWriter:
    """Emits text lines, tracking printer state so each command is sent once."""

    def __init__(self, p: Any, dots: int) -> None:
        self.p = p
        self.dots = dots
        self.align: Align = "left"
        self.style = TextStyle()

    def _set_align(self, align: Align) -> None:
        if align != self.align:
            self.p.set(align=align)
            self.align = align

    def _set_style(self, st: TextStyle) -> None:
        cur = self.style
        if st.width != cur.width or st.height != cur.height:
            self.p.set(custom_size=True, width=st.width, height=st.height)
        if st.bold != cur.bold:
            self.p.set(bold=st.bold)
        if st.invert != cur.invert:
            self.p.set(invert=st.invert)
        if st.underline != cur.underline:
            self.p.set(underline=st.underline)
        self.style = st

    def line(self, line: TextLine) -> None:
        if line.image_chars:
            self._bitmap(PaperCanvas(self.dots), line)
            return
        self._set_align(line.align)
        self._set_style(line.style)
        self.p._raw(cjk.encode(line.text) + b"\n")

    def _bitmap(self, canvas: PaperCanvas, line: TextLine) -> None:
        canvas.text([(line.text, line.style)], line.align)
        # The bitmap carries its own alignment; reset it so the image starts at x=0.
        self._set_align("left")
        self.p.image(canvas.to_image(), impl="bitImageRaster")

    def qr(self, block: QrBlock, mode: Literal["native", "image"]) -> None:
        self._set_align("center")
        if mode == "native":
            self.p.qr(block.data, ec=_ESCPOS_EC[QR_EC], size=block.module, native=True)
        else:
            canvas = PaperCanvas(self.dots)
            canvas.image(qr_image(block.data, block.module, QR_EC), "center")
            self._set_align("left")
            self.p.image(canvas.to_image(), impl="bitImageRaster")

    def feed(self, dots: int) -> None:
        while dots > 0:
            step = min(255, dots)
            self.p._raw(ESC + b"J" + bytes([step]))
            dots -= step

    def reset(self) -> None:
        self._set_style(TextStyle())
        self._set_align("left")


def render_ticket(ticket: TicketView, layout: Layout) -> bytes:
    """The complete ESC/POS job for one ticket, ending with a cut."""
    blocks = compose_ticket(ticket, layout)
    p = _builder(layout.dots)
    p._raw(INIT)
    if layout.text_mode == "image":
        p.image(paint(blocks, layout.dots).to_image(margin=8), impl="bitImageRaster")
    else:
        p._raw(CHINESE_MODE_ON)
        w = _NativeWriter(p, layout.dots)
        for b in blocks:
            if isinstance(b, TextLine):
                w.line(b)
            elif isinstance(b, QrBlock):
                w.qr(b, layout.qr_mode)
            else:
                w.feed(b.dots)
        w.reset()
    p.cut(mode="FULL" if layout.cut == "full" else "PART")
    return bytes(p.output)
