"""Draw thermal-printer output in printer dots with a CJK TrueType font.

Used twice: by ``text_mode="image"`` (the whole ticket goes to the printer as
one bitmap) and by the printer emulator (the PNG of what a printer would have
printed).  Geometry follows an ESC/POS printer with font A: 12x24-dot
half-width cells, 24x24 full-width cells, ``GS !`` multiplies both.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import qrcode
from PIL import Image, ImageChops, ImageDraw, ImageFont

from ticket_printer.cjk import char_columns

Align = Literal["left", "center", "right"]

DOTS_PER_MM = 8
#: Printable width in dots of the two paper widths we support (203 dpi heads).
PAPER_DOTS: dict[int, int] = {58: 384, 80: 576}

CELL_H = 24
HALF_W = 12
FONT_B_HALF_W = 9
FONT_B_H = 17
#: ESC 2 default line spacing in dots; a taller line advances by its own height.
DEFAULT_LINE_SPACING = 30

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)

QR_EC = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


class FontNotFound(RuntimeError):
    pass


@lru_cache(maxsize=1)
def font_path() -> str:
    """The CJK font: ``HALLQ_CJK_FONT`` if set, else the first installed candidate."""
    env = os.environ.get("HALLQ_CJK_FONT")
    if env:
        if not os.path.exists(env):
            raise FontNotFound(f"HALLQ_CJK_FONT={env} does not exist")
        return env
    for path in FONT_CANDIDATES:
        if os.path.exists(path):
            return path
    raise FontNotFound(
        "no CJK font found; install fonts-wqy-zenhei or set HALLQ_CJK_FONT to a .ttf/.ttc"
    )


@lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(), size)


@lru_cache(maxsize=1)
def _notdef() -> bytes:
    return _probe("\U0010fffd")


def _probe(ch: str) -> bytes:
    img = Image.new("L", (32, 32), 0)
    ImageDraw.Draw(img).text((4, 26), ch, font=_font(22), fill=255, anchor="ls")
    return img.tobytes()


@lru_cache(maxsize=4096)
def has_glyph(ch: str) -> bool:
    """Whether the CJK font draws ``ch`` (rather than its missing-glyph box)."""
    if ch.isspace():
        return True
    return _probe(ch) != _notdef()


@dataclass(frozen=True)
class TextStyle:
    bold: bool = False
    underline: int = 0
    invert: bool = False
    width: int = 1
    height: int = 1
    font_b: bool = False

    def cell_width(self, ch: str) -> int:
        half = FONT_B_HALF_W if self.font_b else HALF_W
        return half * char_columns(ch) * self.width

    @property
    def cell_height(self) -> int:
        return (FONT_B_H if self.font_b else CELL_H) * self.height


@lru_cache(maxsize=8192)
def _glyph(ch: str, style: TextStyle) -> Image.Image:
    """One character cell as an "L" image, 255 = ink (before inversion)."""
    base_h = FONT_B_H if style.font_b else CELL_H
    base_w = (FONT_B_HALF_W if style.font_b else HALF_W) * char_columns(ch)
    # Draw at the unscaled cell size times the height factor, then stretch the
    # width: that is how a printer's GS ! magnification looks.
    cell_h = base_h * style.height
    cell_w = base_w * style.height
    size = max(8, round(cell_h * 22 / 24))
    font = _font(size)
    length = math.ceil(font.getlength(ch)) if ch.strip() else 0
    tmp_w = max(cell_w, length + 2)
    img = Image.new("L", (tmp_w, cell_h), 0)
    if length:
        ImageDraw.Draw(img).text(
            (tmp_w / 2, round(cell_h * 20 / 24)), ch, font=font, fill=255, anchor="ms"
        )
    target = (base_w * style.width, cell_h)
    if img.size != target:
        img = img.resize(target, Image.Resampling.LANCZOS)
    img = img.point(lambda v: 255 if v >= 110 else 0)
    if style.bold:
        # Emphasis prints each dot twice, offset by one (magnified) dot.
        shift = max(1, style.width)
        shifted = ImageChops.offset(img, shift, 0)
        shifted.paste(0, (0, 0, shift, cell_h))
        img = ImageChops.lighter(img, shifted)
    if style.underline:
        thick = min(2, style.underline) * style.height
        img.paste(255, (0, cell_h - thick, target[0], cell_h))
    if style.invert:
        img = ImageChops.invert(img)
    return img


def render_runs(
    runs: Sequence[tuple[str, TextStyle]],
    width: int,
    align: Align = "left",
    line_spacing: int = DEFAULT_LINE_SPACING,
) -> Image.Image:
    """One printed line as an "L" image (0 = ink, 255 = paper), ``width`` dots wide.

    Characters of different heights share a baseline at the bottom of the line,
    as on a real printer.  Text past ``width`` is cut off: wrapping is the
    caller's business.
    """
    cells = [(ch, st) for text, st in runs for ch in text]
    height = max([st.cell_height for _, st in cells] + [CELL_H])
    advance = max(line_spacing, height)
    ink = Image.new("L", (width, advance), 0)
    used = sum(st.cell_width(ch) for ch, st in cells)
    x = 0
    if align == "center":
        x = max(0, (width - used) // 2)
    elif align == "right":
        x = max(0, width - used)
    for ch, st in cells:
        g = _glyph(ch, st)
        if x + g.width > width:
            break
        ink.paste(g, (x, height - g.height))
        x += g.width
    return ImageChops.invert(ink)


def qr_image(data: str, module: int, ec: str = "M", border: int = 0) -> Image.Image:
    """A QR code as an "L" image (0 = ink) with ``module`` dots per module."""
    code = qrcode.QRCode(
        version=None, error_correction=QR_EC.get(ec, QR_EC["M"]), box_size=module, border=border
    )
    code.add_data(data)
    code.make(fit=True)
    img: Image.Image = code.make_image(fill_color="black", back_color="white").get_image()
    return img.convert("L")


def qr_modules(data: str, ec: str = "M") -> int:
    """Modules per side of the smallest QR code holding ``data``."""
    code = qrcode.QRCode(version=None, error_correction=QR_EC.get(ec, QR_EC["M"]), border=0)
    code.add_data(data)
    code.make(fit=True)
    return int(code.modules_count)


class PaperCanvas:
    """A strip of paper ``width`` dots wide that grows as lines are printed."""

    def __init__(self, width: int) -> None:
        self.width = width
        self._parts: list[Image.Image] = []

    @property
    def height(self) -> int:
        return sum(p.height for p in self._parts)

    def text(
        self,
        runs: Sequence[tuple[str, TextStyle]],
        align: Align = "left",
        line_spacing: int = DEFAULT_LINE_SPACING,
    ) -> None:
        self._parts.append(render_runs(runs, self.width, align, line_spacing))

    def feed(self, dots: int) -> None:
        if dots > 0:
            self._parts.append(Image.new("L", (self.width, dots), 255))

    def image(self, img: Image.Image, align: Align = "left") -> None:
        """Place a bitmap (0 = ink); wider than the paper is clipped on the right."""
        src = img.convert("L")
        row = Image.new("L", (self.width, src.height), 255)
        x = 0
        if align == "center":
            x = max(0, (self.width - src.width) // 2)
        elif align == "right":
            x = max(0, self.width - src.width)
        row.paste(src.crop((0, 0, min(src.width, self.width - x), src.height)), (x, 0))
        self._parts.append(row)

    def qr(self, data: str, module: int, ec: str = "M", align: Align = "center") -> None:
        self.image(qr_image(data, module, ec), align)

    def to_image(self, margin: int = 0) -> Image.Image:
        """The printed strip as a 1-bit image, with ``margin`` blank dots top and bottom."""
        out = Image.new("L", (self.width, self.height + 2 * margin), 255)
        y = margin
        for p in self._parts:
            out.paste(p, (0, y))
            y += p.height
        return out.convert("1", dither=Image.Dither.NONE)
