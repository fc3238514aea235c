"""An ESC/POS interpreter: bytes in, printed tickets out.

It models a Chinese 203-dpi receipt printer with font A (12x24 / 24x24) and
a two-byte GB18030 font, and understands what hallq's tickets use plus the
common commands around them.  Anything else is logged and skipped; the
decoder never raises on bad input.

Feed it bytes as they arrive (:meth:`EscPosDecoder.feed`); it returns events:
status requests that need an answer now, and tickets completed by a cut.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from PIL import Image

from ticket_printer.raster import DEFAULT_LINE_SPACING, Align, TextStyle

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT, FF, CAN, NUL = 0x0A, 0x0D, 0x09, 0x0C, 0x18, 0x00

#: Bigger declared payloads are treated as corrupt rather than waited for.
MAX_PAYLOAD = 8 * 1024 * 1024
MAX_WARNINGS = 200

CODEPAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
}
_ALIGN: dict[int, Align] = {
    0: "left",
    1: "center",
    2: "right",
    48: "left",
    49: "center",
    50: "right",
}
_QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}
MISSING = "□"


@dataclass(frozen=True)
class PrintedText:
    runs: tuple[tuple[str, TextStyle], ...]
    align: Align = "left"
    line_spacing: int = DEFAULT_LINE_SPACING

    @property
    def text(self) -> str:
        return "".join(t for t, _ in self.runs)

    @property
    def style(self) -> TextStyle:
        """Style of the first non-blank run (a line is usually one style)."""
        for t, st in self.runs:
            if t.strip():
                return st
        return self.runs[0][1]


@dataclass(frozen=True)
class PrintedQr:
    payload: str
    module: int
    ec: str
    align: Align
    model: int = 2


@dataclass(frozen=True)
class PrintedImage:
    #: Mode "1" bitmap, black = printed dot.
    image: Image.Image
    align: Align
    source: str


@dataclass(frozen=True)
class PaperFeed:
    dots: int


Element = PrintedText | PrintedQr | PrintedImage | PaperFeed


@dataclass
class DecodedTicket:
    elements: list[Element] = field(default_factory=list)
    cut: Literal["full", "partial"] | None = None
    warnings: list[str] = field(default_factory=list)
    #: Lines the printer wrapped itself because they were wider than the paper.
    auto_wraps: int = 0

    @property
    def text_lines(self) -> list[PrintedText]:
        return [e for e in self.elements if isinstance(e, PrintedText)]

    @property
    def lines(self) -> list[str]:
        return [e.text for e in self.text_lines]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def qr_payloads(self) -> list[str]:
        return [e.payload for e in self.elements if isinstance(e, PrintedQr)]

    @property
    def images(self) -> list[PrintedImage]:
        return [e for e in self.elements if isinstance(e, PrintedImage)]

    def line_with(self, fragment: str) -> PrintedText | None:
        for line in self.text_lines:
            if fragment in line.text:
                return line
        return None

    @property
    def has_content(self) -> bool:
        return any(not isinstance(e, PaperFeed) for e in self.elements)


@dataclass(frozen=True)
class StatusRequest:
    """``DLE EOT n`` (real-time) or ``GS r n`` / ``GS I n`` (in-sequence)."""

    command: Literal["dle_eot", "gs_r", "gs_i"]
    n: int


@dataclass(frozen=True)
class TicketDone:
    ticket: DecodedTicket


Event = StatusRequest | TicketDone


class EscPosDecoder:
    def __init__(self, paper_dots: int = 576, *, chinese_default: bool = False) -> None:
        self.paper_dots = paper_dots
        self.chinese_default = chinese_default
        self._buf = bytearray()
        self._events: list[Event] = []
        self._ticket = DecodedTicket()
        self._reset()

    # ------------------------------------------------------------------ state

    def _reset(self) -> None:
        """``ESC @``: back to power-on settings (the paper already printed stays)."""
        self.chinese = self.chinese_default
        self.codepage = 0
        self.style = TextStyle()
        self.align: Align = "left"
        self.line_spacing = DEFAULT_LINE_SPACING
        self._runs: list[tuple[str, TextStyle]] = []
        self._line_dots = 0
        self._line_align: Align = "left"
        self._line_had_graphics = False
        self._qr_data: bytes | None = None
        self._qr_module = 3
        self._qr_ec = "L"
        self._qr_model = 2
        self._graphics: Image.Image | None = None
        self._warned_single_byte = False

    def warn(self, msg: str) -> None:
        w = self._ticket.warnings
        if len(w) < MAX_WARNINGS:
            w.append(msg)
        elif len(w) == MAX_WARNINGS:
            w.append("further warnings suppressed")

    # ------------------------------------------------------------------ public

    def feed(self, data: bytes) -> list[Event]:
        """Consume bytes; return the events they completed, in order."""
        self._buf += data
        i = 0
        buf = self._buf
        n = len(buf)
        while i < n:
            used = self._step(buf, i)
            if used is None:
                break
            i += used
        del buf[:i]
        events, self._events = self._events, []
        return events

    def finish(self) -> DecodedTicket | None:
        """End of stream: the uncut remainder as a ticket (None if nothing was printed)."""
        if self._buf:
            self.warn(f"stream ended inside a command: {bytes(self._buf[:16]).hex(' ')}")
            self._buf.clear()
        self._print_line(feed=False)
        t = self._ticket
        self._ticket = DecodedTicket()
        return t if t.has_content else None

    # ------------------------------------------------------------------ text

    def _put_char(self, ch: str) -> None:
        if not self._runs:
            self._line_align = self.align
        st = self.style
        w = st.cell_width(ch)
        if self._line_dots + w > self.paper_dots:
            self._ticket.auto_wraps += 1
            self._print_line(feed=True)
            self._line_align = self.align
        if self._runs and self._runs[-1][1] == st:
            self._runs[-1] = (self._runs[-1][0] + ch, st)
        else:
            self._runs.append((ch, st))
        self._line_dots += w

    def _print_line(self, feed: bool) -> None:
        if self._runs:
            self._ticket.elements.append(
                PrintedText(tuple(self._runs), self._line_align, self.line_spacing)
            )
        elif feed and not self._line_had_graphics:
            self._ticket.elements.append(PaperFeed(self.line_spacing))
        self._runs = []
        self._line_dots = 0
        self._line_had_graphics = False

    def _flush_for_graphics(self) -> None:
        if self._runs:
            self._print_line(feed=False)

    def _emit(self, element: Element) -> None:
        self._ticket.elements.append(element)

    def _text_byte(self, buf: bytearray, i: int) -> int | None:
        c = buf[i]
        if c < 0x80:
            if c == 0x7F:
                self.warn("DEL byte skipped")
            else:
                self._put_char(chr(c))
            return 1
        if not self.chinese:
            if not self._warned_single_byte:
                self._warned_single_byte = True
                self.warn(
                    f"byte 0x{c:02X} outside Chinese mode (FS & not sent?): printed from "
                    f"code page {CODEPAGES.get(self.codepage, 'cp437')}"
                )
            self._put_char(bytes([c]).decode(CODEPAGES.get(self.codepage, "cp437"), "replace"))
            return 1
        if c == 0x80 or c == 0xFF:
            self.warn(f"byte 0x{c:02X} is not a GB18030 lead byte")
            return 1
        if len(buf) - i < 2:
            return None
        c2 = buf[i + 1]
        if 0x30 <= c2 <= 0x39:
            if len(buf) - i < 4:
                return None
            seq = bytes(buf[i : i + 4])
            try:
                ch = seq.decode("gb18030")
            except UnicodeDecodeError:
                self.warn(f"malformed GB18030 sequence {seq.hex(' ')}")
                return 1
            self.warn(f"four-byte GB18030 code for {ch!r} is not in a two-byte printer font")
            self._put_char(MISSING)
            return 4
        if 0x40 <= c2 <= 0xFE and c2 != 0x7F:
            try:
                ch = bytes(buf[i : i + 2]).decode("gb18030")
            except UnicodeDecodeError:
                self.warn(f"undecodable two-byte code {bytes(buf[i : i + 2]).hex(' ')}")
                return 2
            self._put_char(ch)
            return 2
        self.warn(f"invalid GB18030 trail byte 0x{c2:02X} after 0x{c:02X}")
        return 1

    # ------------------------------------------------------------------ parser

    def _step(self, buf: bytearray, i: int) -> int | None:
        c = buf[i]
        if c == ESC:
            return self._esc(buf, i)
        if c == GS:
            return self._gs(buf, i)
        if c == FS:
            return self._fs(buf, i)
        if c == DLE:
            return self._dle(buf, i)
        if c == LF:
            self._print_line(feed=True)
            return 1
        if c in (CR, NUL):
            return 1
        if c == FF:
            self._print_line(feed=False)
            return 1
        if c == CAN:
            self._runs, self._line_dots = [], 0
            return 1
        if c == HT:
            col = self._line_dots // 12
            for _ in range(8 - col % 8):
                self._put_char(" ")
            return 1
        if c < 0x20:
            self.warn(f"unknown control byte 0x{c:02X} skipped")
            return 1
        return self._text_byte(buf, i)

    def _esc(self, buf: bytearray, i: int) -> int | None:
        avail = len(buf) - i
        if avail < 2:
            return None
        x = buf[i + 1]
        cmd = chr(x) if 0x20 <= x < 0x7F else f"0x{x:02X}"
        no_arg = {ord("@"), ord("2"), ord("i"), ord("m"), ord("S"), ord("L"), ord("<")}
        if x in no_arg:
            if x == ord("@"):
                self._print_line(feed=False)
                self._reset()
            elif x == ord("2"):
                self.line_spacing = DEFAULT_LINE_SPACING
            elif x in (ord("i"), ord("m")):
                self._cut("full" if x == ord("i") else "partial")
            elif x == ord("L"):
                self.warn("ESC L (page mode) is not supported; staying in standard mode")
            return 2
        if x in (ord("$"), ord("\\")):
            if avail < 4:
                return None
            self.warn(f"ESC {cmd} (horizontal position) ignored")
            return 4
        if x == ord("c"):
            return 4 if avail >= 4 else None
        if x == ord("p"):
            return 5 if avail >= 5 else None
        if x == ord("B"):  # buzzer on Chinese printers: ESC B n t
            return 4 if avail >= 4 else None
        if x == ord("W"):
            return 10 if avail >= 10 else None
        if x == ord("D"):
            for j in range(i + 2, min(len(buf), i + 2 + 33)):
                if buf[j] == 0:
                    return j - i + 1
            return None if len(buf) - i < 35 else self._bad(buf, i, "ESC D without NUL", 2)
        if x == ord("*"):
            return self._esc_star(buf, i)
        if x == ord("&"):
            return self._esc_amp(buf, i)
        if x == ord("("):
            if avail < 5:
                return None
            p = buf[i + 3] | buf[i + 4] << 8
            if avail < 5 + p:
                return None
            self.warn(
                f"ESC ( {chr(buf[i + 2]) if 0x20 <= buf[i + 2] < 0x7F else buf[i + 2]} ignored"
            )
            return 5 + p
        one_arg = set(b"!EG-adJK3MtR{V re U%=?T")
        if x not in one_arg:
            self.warn(f"unknown command ESC {cmd} skipped")
            return 2
        if avail < 3:
            return None
        n = buf[i + 2]
        if x == ord("!"):
            self.style = replace(
                self.style,
                font_b=bool(n & 0x01),
                bold=bool(n & 0x08),
                height=2 if n & 0x10 else 1,
                width=2 if n & 0x20 else 1,
                underline=1 if n & 0x80 else 0,
            )
        elif x in (ord("E"), ord("G")):
            self.style = replace(self.style, bold=bool(n & 1))
        elif x == ord("-"):
            self.style = replace(
                self.style, underline={0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(n, 0)
            )
        elif x == ord("a"):
            if n not in _ALIGN:
                self.warn(f"ESC a {n}: invalid alignment")
            elif self._runs:
                # Epson: justification is only taken at the start of a line.
                self.warn("ESC a in the middle of a line ignored")
            else:
                self.align = _ALIGN[n]
        elif x == ord("d"):
            self._print_line(feed=False)
            self._emit(PaperFeed(n * self.line_spacing))
        elif x == ord("J"):
            had = bool(self._runs)
            self._print_line(feed=False)
            if n:
                self._emit(PaperFeed(max(0, n - (self.line_spacing if had else 0))))
        elif x == ord("3"):
            self.line_spacing = n
        elif x == ord("M"):
            self.style = replace(self.style, font_b=n in (1, 49))
        elif x == ord("t"):
            self.codepage = n
        return 3

    def _esc_star(self, buf: bytearray, i: int) -> int | None:
        if len(buf) - i < 5:
            return None
        m, cols = buf[i + 2], buf[i + 3] | buf[i + 4] << 8
        if m not in (0, 1, 32, 33):
            return self._bad(buf, i, f"ESC * with invalid mode {m}", 3)
        per = 1 if m in (0, 1) else 3
        total = 5 + cols * per
        if len(buf) - i < total:
            return None
        data = bytes(buf[i + 5 : i + total])
        rows = 8 * per
        img = Image.new("1", (max(1, cols), rows), 1)
        px = img.load()
        assert px is not None
        for col in range(cols):
            for byte_i in range(per):
                v = data[col * per + byte_i]
                for bit in range(8):
                    if v & (0x80 >> bit):
                        px[col, byte_i * 8 + bit] = 0
        sx = 2 if m in (0, 32) else 1
        sy = 3 if m in (0, 1) else 1
        if sx != 1 or sy != 1:
            img = img.resize((img.width * sx, img.height * sy), Image.Resampling.NEAREST)
        self._flush_for_graphics()
        self._emit(PrintedImage(img, self.align, "ESC *"))
        self._line_had_graphics = True
        return total

    def _esc_amp(self, buf: bytearray, i: int) -> int | None:
        # ESC & y c1 c2 [x d1...d(y*x)]...: user-defined characters, skipped.
        if len(buf) - i < 5:
            return None
        y, c1, c2 = buf[i + 2], buf[i + 3], buf[i + 4]
        if c2 < c1:
            return self._bad(buf, i, "ESC & with c2 < c1", 5)
        j = i + 5
        for _ in range(c2 - c1 + 1):
            if j >= len(buf):
                return None
            j += 1 + y * buf[j]
        if j > len(buf):
            return None
        self.warn("ESC & (user-defined characters) ignored")
        return j - i

    def _gs(self, buf: bytearray, i: int) -> int | None:
        avail = len(buf) - i
        if avail < 2:
            return None
        x = buf[i + 1]
        cmd = chr(x) if 0x20 <= x < 0x7F else f"0x{x:02X}"
        if x == ord("V"):
            if avail < 3:
                return None
            m = buf[i + 2]
            if m in (0, 48):
                self._cut("full")
                return 3
            if m in (1, 49):
                self._cut("partial")
                return 3
            if m in (65, 66, 97, 98, 103, 104):
                if avail < 4:
                    return None
                self._print_line(feed=False)
                if buf[i + 3]:
                    self._emit(PaperFeed(buf[i + 3]))
                self._cut("full" if m in (65, 97, 103) else "partial")
                return 4
            return self._bad(buf, i, f"GS V with invalid mode {m}", 3)
        if x == ord("v"):
            return self._gs_v0(buf, i)
        if x == ord("("):
            return self._gs_paren(buf, i)
        if x == ord("8"):
            return self._gs_8(buf, i)
        if x == ord("k"):
            return self._gs_k(buf, i)
        if x == ord("*"):
            if avail < 4:
                return None
            total = 4 + buf[i + 2] * buf[i + 3] * 8
            if avail < total:
                return None
            self.warn("GS * (downloaded bit image) ignored")
            return total
        if x in (ord("L"), ord("W"), ord("$"), ord("\\"), ord("P")):
            if avail < 4:
                return None
            self.warn(f"GS {cmd} ignored")
            return 4
        if x == ord(":"):
            return 2
        if x == ord("^"):
            return 5 if avail >= 5 else None
        one_arg = set(b"!BHfhwabrIT/E")
        if x not in one_arg:
            self.warn(f"unknown command GS {cmd} skipped")
            return 2
        if avail < 3:
            return None
        n = buf[i + 2]
        if x == ord("!"):
            self.style = replace(self.style, width=(n >> 4 & 7) + 1, height=(n & 7) + 1)
        elif x == ord("B"):
            self.style = replace(self.style, invert=bool(n & 1))
        elif x == ord("r"):
            self._events.append(StatusRequest("gs_r", n))
        elif x == ord("I"):
            self._events.append(StatusRequest("gs_i", n))
        elif x == ord("/"):
            self.warn("GS / (print downloaded bit image) ignored")
        return 3

    def _raster(self, data: bytes, width_bytes: int, rows: int) -> Image.Image:
        return Image.frombytes("1", (width_bytes * 8, rows), data, "raw", "1;I")

    def _gs_v0(self, buf: bytearray, i: int) -> int | None:
        if len(buf) - i < 3:
            return None
        if buf[i + 2] != ord("0"):
            return self._bad(buf, i, "GS v not followed by 0", 2)
        if len(buf) - i < 8:
            return None
        m = buf[i + 3]
        xb = buf[i + 4] | buf[i + 5] << 8
        y = buf[i + 6] | buf[i + 7] << 8
        k = xb * y
        if m not in (0, 1, 2, 3, 48, 49, 50, 51) or k > MAX_PAYLOAD:
            return self._bad(buf, i, f"GS v 0 with mode {m}, {xb}x{y}", 2)
        if len(buf) - i < 8 + k:
            return None
        if k:
            img = self._raster(bytes(buf[i + 8 : i + 8 + k]), xb, y)
            sx = 2 if m & 1 else 1
            sy = 2 if m & 2 else 1
            if sx != 1 or sy != 1:
                img = img.resize((img.width * sx, img.height * sy), Image.Resampling.NEAREST)
            self._flush_for_graphics()
            self._emit(PrintedImage(img, self.align, "GS v 0"))
        return 8 + k

    def _gs_paren(self, buf: bytearray, i: int) -> int | None:
        if len(buf) - i < 5:
            return None
        fn_letter = buf[i + 2]
        p = buf[i + 3] | buf[i + 4] << 8
        if len(buf) - i < 5 + p:
            return None
        body = bytes(buf[i + 5 : i + 5 + p])
        if fn_letter == ord("k"):
            self._two_d(body)
        elif fn_letter == ord("L"):
            self._graphics_cmd(body)
        else:
            self.warn(f"GS ( {chr(fn_letter) if 0x20 <= fn_letter < 0x7F else fn_letter} ignored")
        return 5 + p

    def _gs_8(self, buf: bytearray, i: int) -> int | None:
        if len(buf) - i < 3:
            return None
        if buf[i + 2] != ord("L"):
            return self._bad(buf, i, "GS 8 not followed by L", 2)
        if len(buf) - i < 7:
            return None
        p = int.from_bytes(buf[i + 3 : i + 7], "little")
        if p > MAX_PAYLOAD:
            return self._bad(buf, i, f"GS 8 L with {p} bytes", 2)
        if len(buf) - i < 7 + p:
            return None
        self._graphics_cmd(bytes(buf[i + 7 : i + 7 + p]))
        return 7 + p

    def _graphics_cmd(self, body: bytes) -> None:
        if len(body) < 2:
            self.warn("GS ( L too short")
            return
        fn = body[1]
        if fn in (50, 2):
            if self._graphics is None:
                self.warn("GS ( L print without stored graphics")
                return
            self._flush_for_graphics()
            self._emit(PrintedImage(self._graphics, self.align, "GS ( L"))
            self._graphics = None
        elif fn == 112:
            if len(body) < 10:
                self.warn("GS ( L store: header too short")
                return
            bx, by = body[3], body[4]
            w = body[6] | body[7] << 8
            h = body[8] | body[9] << 8
            row = (w + 7) // 8
            data = body[10:]
            if len(data) < row * h:
                self.warn("GS ( L store: data shorter than declared")
                return
            img = self._raster(data[: row * h], row, h).crop((0, 0, w, h))
            if bx == 2 or by == 2:
                img = img.resize((w * bx, h * by), Image.Resampling.NEAREST)
            self._graphics = img
        else:
            self.warn(f"GS ( L function {fn} ignored")

    def _two_d(self, body: bytes) -> None:
        if len(body) < 2:
            self.warn("GS ( k too short")
            return
        cn, fn = body[0], body[1]
        if cn != 49:
            self.warn(f"GS ( k symbol type {cn} (not QR) ignored")
            return
        if fn == 65 and len(body) >= 3:
            self._qr_model = {49: 1, 50: 2, 51: 3}.get(body[2], 2)
        elif fn == 67 and len(body) >= 3:
            if 1 <= body[2] <= 16:
                self._qr_module = body[2]
            else:
                self.warn(f"QR module size {body[2]} out of range")
        elif fn == 69 and len(body) >= 3:
            self._qr_ec = _QR_EC.get(body[2], "L")
        elif fn == 80:
            self._qr_data = body[3:]
        elif fn == 81:
            if not self._qr_data:
                self.warn("QR print without stored data")
                return
            try:
                payload = self._qr_data.decode("utf-8")
            except UnicodeDecodeError:
                payload = self._qr_data.decode("gb18030", "replace")
            self._flush_for_graphics()
            self._emit(PrintedQr(payload, self._qr_module, self._qr_ec, self.align, self._qr_model))
        elif fn == 82:
            pass  # size information request: nothing sensible to report
        else:
            self.warn(f"GS ( k QR function {fn} ignored")

    def _gs_k(self, buf: bytearray, i: int) -> int | None:
        if len(buf) - i < 3:
            return None
        m = buf[i + 2]
        if m <= 6:
            for j in range(i + 3, min(len(buf), i + 3 + 256)):
                if buf[j] == 0:
                    self.warn("barcode (GS k) not drawn")
                    return j - i + 1
            return None if len(buf) - i < 259 else self._bad(buf, i, "GS k without NUL", 3)
        if len(buf) - i < 4:
            return None
        total = 4 + buf[i + 3]
        if len(buf) - i < total:
            return None
        self.warn("barcode (GS k) not drawn")
        return total

    def _fs(self, buf: bytearray, i: int) -> int | None:
        avail = len(buf) - i
        if avail < 2:
            return None
        x = buf[i + 1]
        cmd = chr(x) if 0x20 <= x < 0x7F else f"0x{x:02X}"
        if x == ord("&"):
            self.chinese = True
            return 2
        if x == ord("."):
            self.chinese = False
            return 2
        if x == ord("S"):
            return 4 if avail >= 4 else None
        if x == ord("2"):
            return 76 if avail >= 76 else None
        if x == ord("p"):
            if avail < 4:
                return None
            self.warn("FS p (NV bit image) ignored")
            return 4
        if x == ord("("):
            if avail < 5:
                return None
            p = buf[i + 3] | buf[i + 4] << 8
            return 5 + p if avail >= 5 + p else None
        if x not in set(b"!-CW"):
            self.warn(f"unknown command FS {cmd} skipped")
            return 2
        if avail < 3:
            return None
        n = buf[i + 2]
        if x == ord("!"):
            self.style = replace(
                self.style,
                width=2 if n & 0x04 else 1,
                height=2 if n & 0x08 else 1,
                underline=1 if n & 0x80 else self.style.underline,
            )
        elif x == ord("-"):
            self.style = replace(
                self.style, underline={0: 0, 1: 1, 2: 2, 48: 0, 49: 1, 50: 2}.get(n, 0)
            )
        elif x == ord("W"):
            size = 2 if n & 1 else 1
            self.style = replace(self.style, width=size, height=size)
        return 3

    def _dle(self, buf: bytearray, i: int) -> int | None:
        avail = len(buf) - i
        if avail < 2:
            return None
        x = buf[i + 1]
        if x == 0x04:
            if avail < 3:
                return None
            n = buf[i + 2]
            if 1 <= n <= 4:
                self._events.append(StatusRequest("dle_eot", n))
                return 3
            if n in (7, 8):
                return 4 if avail >= 4 else None
            return self._bad(buf, i, f"DLE EOT {n} is not a status request", 3)
        if x == 0x05:
            return 3 if avail >= 3 else None
        if x == 0x14:
            if avail < 3:
                return None
            fn = buf[i + 2]
            size = {1: 5, 2: 5, 7: 4, 8: 10}.get(fn)
            if size is None:
                return self._bad(buf, i, f"DLE DC4 {fn} unknown", 3)
            return size if avail >= size else None
        self.warn("stray DLE byte skipped")
        return 1

    # ------------------------------------------------------------------ misc

    def _bad(self, buf: bytearray, i: int, why: str, skip: int) -> int:
        self.warn(f"{why}; skipped {skip} bytes ({bytes(buf[i : i + skip]).hex(' ')})")
        return skip

    def _cut(self, kind: Literal["full", "partial"]) -> None:
        self._print_line(feed=False)
        t = self._ticket
        t.cut = kind
        self._ticket = DecodedTicket()
        self._events.append(TicketDone(t))


def decode(data: bytes, paper_dots: int = 576) -> list[DecodedTicket]:
    """All tickets in a byte string (an uncut tail counts as one)."""
    d = EscPosDecoder(paper_dots)
    tickets = [e.ticket for e in d.feed(data) if isinstance(e, TicketDone)]
    tail = d.finish()
    if tail is not None:
        tickets.append(tail)
    return tickets
