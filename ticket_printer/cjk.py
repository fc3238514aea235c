"""Chinese text for thermal printers: GB18030 two-byte encoding, column widths, wrapping.

A printer in Chinese mode (``FS &``) prints every two-byte GB18030 code as a
full-width glyph (24 dots in font A) and every ASCII byte as a half-width one
(12 dots).  So the column width of a character is exactly the number of bytes
it takes on the wire, and a character whose GB18030 code is four bytes long
cannot be sent as text at all: the printer font does not have it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

#: What a character that neither encodes nor renders becomes.  U+25A1 is the
#: customary "missing character" mark in Chinese print and is two-byte GB18030.
MISSING_MARK = "□"

# Characters outside the two-byte range with an obvious printable equivalent.
SUBSTITUTES: dict[str, str] = {
    "¥": "￥",  # U+00A5 is four-byte; the full-width yen sign is A3A4
    "•": "·",
    "‧": "·",
    "∙": "·",
    "\u00a0": " ",
    "\u2002": " ",
    "\u2003": "\u3000",
    "\u2009": " ",
    "\u200b": "",
    "\ufeff": "",
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "−": "-",
    "⁄": "/",
    "™": "TM",
    "©": "(C)",
    "®": "(R)",
}

RareCharPolicy = Literal["image", "substitute"]


def gb2(ch: str) -> bytes | None:
    """The one- or two-byte GB18030 code of ``ch``, or None if it has none."""
    try:
        data = ch.encode("gb18030")
    except UnicodeEncodeError:  # lone surrogates
        return None
    return data if len(data) <= 2 else None


def char_columns(ch: str) -> int:
    """Printed width in half-width columns: ASCII 1, everything else 2."""
    return 1 if ord(ch) < 0x80 else 2


def text_columns(text: str) -> int:
    return sum(char_columns(c) for c in text)


@dataclass(frozen=True)
class PreparedText:
    """Text made printable; ``image_chars`` lists characters only an image can show."""

    text: str
    image_chars: frozenset[str]

    @property
    def needs_image(self) -> bool:
        return bool(self.image_chars)


def prepare(
    text: str,
    *,
    policy: RareCharPolicy = "image",
    has_glyph: Callable[[str], bool] | None = None,
) -> PreparedText:
    """Make ``text`` printable on a printer with a two-byte GB18030 font.

    Order of preference for each character: send it as is; a known substitute;
    its NFKC form; keep it for rendering as an image (``policy="image"`` and
    the font has a glyph); the missing mark.  Never ``?``.
    Control characters are dropped, tabs become spaces.
    """
    out: list[str] = []
    image_chars: set[str] = set()
    for ch in text:
        if ch == "\t":
            out.append(" ")
            continue
        cat = unicodedata.category(ch)
        if cat == "Cc" or cat == "Cs":
            continue
        if gb2(ch) is not None:
            out.append(ch)
            continue
        sub = SUBSTITUTES.get(ch)
        if sub is not None:
            out.append(sub)
            continue
        nfkc = unicodedata.normalize("NFKC", ch)
        if nfkc != ch and all(gb2(c) is not None for c in nfkc):
            out.append(nfkc)
            continue
        if policy == "image" and has_glyph is not None and has_glyph(ch):
            out.append(ch)
            image_chars.add(ch)
            continue
        out.append(MISSING_MARK)
    return PreparedText("".join(out), frozenset(image_chars))


def encode(text: str) -> bytes:
    """Encode prepared text for a printer in Chinese mode.

    Raises ValueError for a character without a two-byte code: callers must
    run :func:`prepare` first and route image-only lines elsewhere.
    """
    parts: list[bytes] = []
    for ch in text:
        code = gb2(ch)
        if code is None:
            raise ValueError(f"character {ch!r} (U+{ord(ch):04X}) has no two-byte GB18030 code")
        parts.append(code)
    return b"".join(parts)


# Kinsoku: punctuation that must not start a line, and openers that must not end one.
NO_LINE_START = frozenset("，。、；：！？）》」』】〉〕…—～%‰℃,.;:!?)]}’”·")
NO_LINE_END = frozenset("（《「『【〈〔([{‘“")


def _units(text: str) -> Iterator[str]:
    """Split into break units: an ASCII word, a run of spaces, or one other character."""
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == " ":
            j = i
            while j < n and text[j] == " ":
                j += 1
            yield text[i:j]
            i = j
        elif ord(ch) < 0x80:
            j = i
            while j < n and text[j] != " " and ord(text[j]) < 0x80:
                j += 1
            yield text[i:j]
            i = j
        else:
            yield ch
            i += 1


def wrap(text: str, width: int, *, indent: int = 0) -> list[str]:
    """Wrap ``text`` to ``width`` columns (CJK counts 2, ASCII 1).

    ASCII words are kept whole when they fit on a line; Chinese breaks between
    any two characters except before closing or after opening punctuation.
    Continuation lines start with ``indent`` spaces (a hanging indent for
    numbered items).  Every returned line is at most ``width`` columns.
    """
    if width < 2:
        raise ValueError("width must be at least 2 columns")
    indent = max(0, min(indent, width - 2))
    lines: list[list[str]] = []
    cur: list[str] = []
    cur_w = 0

    def limit() -> int:
        return width - (indent if lines else 0)

    def flush() -> None:
        nonlocal cur, cur_w
        while cur and cur[-1].startswith(" "):
            cur.pop()
        lines.append(cur)
        cur = []
        cur_w = 0

    pending = list(_units(text))
    pending.reverse()
    while pending:
        unit = pending.pop()
        w = text_columns(unit)
        if unit.startswith(" "):
            if cur and cur_w + w <= limit():
                cur.append(unit)
                cur_w += w
            elif cur:
                flush()
            continue
        if cur_w + w <= limit():
            cur.append(unit)
            cur_w += w
            continue
        if w > limit():
            # A word longer than a line: fill the current line, carry the rest.
            room = limit() - cur_w
            if room <= 0 or (cur and room < 2):
                flush()
                room = limit()
            head, tail = _split_columns(unit, room)
            cur.append(head)
            cur_w += text_columns(head)
            flush()
            if tail:
                pending.append(tail)
            continue
        # Line break before ``unit``; keep punctuation rules where the line allows.
        carry: list[str] = []
        if unit[0] in NO_LINE_START and len(cur) >= 2 and not cur[-1].startswith(" "):
            carry.append(cur.pop())
        while len(cur) >= 2 and cur[-1][-1] in NO_LINE_END:
            carry.insert(0, cur.pop())
        flush()
        pending.append(unit)
        for c in reversed(carry):
            pending.append(c)
    if cur or not lines:
        flush()
    pad = " " * indent
    return ["".join(line) if i == 0 else pad + "".join(line) for i, line in enumerate(lines)]


def _split_columns(text: str, cols: int) -> tuple[str, str]:
    """Longest prefix of ``text`` that fits in ``cols`` columns (at least one char)."""
    used = 0
    for i, ch in enumerate(text):
        used += char_columns(ch)
        if used > cols:
            return (text[:i], text[i:]) if i else (text[:1], text[1:])
    return text, ""


def pad_center(text: str, width: int) -> str:
    """Centre ``text`` in ``width`` columns (used for the plain-text views)."""
    gap = max(0, width - text_columns(text))
    return " " * (gap // 2) + text
