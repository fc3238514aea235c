from __future__ import annotations

import itertools
from typing import Any

import pytest
from escpos.printer import Dummy
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from hardware_sim.printer.decoder import (
    EscPosDecoder,
    PaperFeed,
    PrintedImage,
    StatusRequest,
    TicketDone,
    decode,
)
from hardware_sim.printer.sample import sample_ticket
from ticket_printer.layout import Layout, render_ticket

CN = b"\x1b@\x1c&"


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def test_chinese_text_with_styles_and_alignment() -> None:
    data = (
        CN
        + b"\x1ba\x01\x1d!\x11\x1bE\x01"
        + gb("医保服务站")
        + b"\n\x1ba\x00\x1d!\x00\x1bE\x00\x1dB\x01"
        + gb("绿色通道")
        + b"\n\x1dB\x00A012\n\x1dV\x01"
    )
    (t,) = decode(data)
    assert t.lines == ["医保服务站", "绿色通道", "A012"]
    first, second, third = t.text_lines
    assert first.align == "center" and first.style.bold
    assert (first.style.width, first.style.height) == (2, 2)
    assert second.align == "left" and second.style.invert and not second.style.bold
    assert not third.style.invert
    assert t.cut == "partial" and t.warnings == []


def test_without_chinese_mode_bytes_print_as_a_code_page_and_warn() -> None:
    (t,) = decode(b"\x1b@" + gb("医保") + b"\n\x1dV\x00")
    assert "医保" not in t.text
    assert any("FS &" in w for w in t.warnings)


def test_chinese_mode_can_be_cancelled() -> None:
    (t,) = decode(CN + gb("中") + b"\x1c." + b"\n")
    assert t.lines == ["中"]


def test_four_byte_codes_are_flagged_not_printed_as_text() -> None:
    (t,) = decode(CN + gb("张𠮷") + b"\n")
    assert t.lines == ["张□"]
    assert any("four-byte" in w for w in t.warnings)


def test_status_requests_come_out_in_order_with_the_cut() -> None:
    d = EscPosDecoder()
    events = d.feed(b"\x10\x04\x01\x10\x04\x04" + CN + gb("号") + b"\n\x1dV\x41\x10\x10\x04\x02")
    assert events[0] == StatusRequest("dle_eot", 1)
    assert events[1] == StatusRequest("dle_eot", 4)
    assert isinstance(events[2], TicketDone) and events[2].ticket.lines == ["号"]
    assert isinstance(events[2].ticket.elements[-1], PaperFeed)  # GS V 65 n feeds n first
    assert events[3] == StatusRequest("dle_eot", 2)


def test_text_wider_than_the_paper_is_wrapped_by_the_printer_and_counted() -> None:
    (t,) = decode(CN + gb("一" * 20) + b"\n", paper_dots=384)
    assert t.lines == ["一" * 16, "一" * 4]
    assert t.auto_wraps == 1


def builder() -> Any:
    return Dummy()


def test_python_escpos_qr_native_and_cut() -> None:
    p = builder()
    p.set(align="center")
    p.qr("https://hall.example.cn/t/1", size=6, native=True, ec=1)
    p.cut()
    (t,) = decode(p.output)
    (qr,) = [e for e in t.elements if e.__class__.__name__ == "PrintedQr"]
    assert qr.payload == "https://hall.example.cn/t/1"  # type: ignore[union-attr]
    assert (qr.module, qr.ec, qr.align) == (6, "M", "center")  # type: ignore[union-attr]
    assert t.cut == "full"


@pytest.mark.parametrize("impl", ["bitImageRaster", "graphics", "bitImageColumn"])
def test_python_escpos_images_decode_to_the_same_bitmap(impl: str) -> None:
    img = Image.new("1", (64, 48), 1)
    ImageDraw.Draw(img).rectangle((8, 8, 31, 39), fill=0)
    p = builder()
    p.image(img, impl=impl)
    (t,) = decode(p.output)
    assert t.images, t.warnings
    got = t.images[0].image
    if impl == "bitImageColumn":
        # Column mode prints 24-dot bands; compare the first band only.
        assert got.getpixel((10, 10)) == 0 and got.getpixel((40, 10)) != 0
    else:
        assert got.size == (64, 48)
        assert got.tobytes() == img.tobytes()


def test_garbage_is_logged_and_skipped() -> None:
    data = CN + b"\x1b\x99\x1d\x99\x1c\x99\x07" + gb("好") + b"\x1dv9" + b"\n\x1dV\x30"
    (t,) = decode(data)
    assert "好" in t.text
    assert len(t.warnings) >= 4
    assert t.cut == "full"


def test_truncated_command_at_end_of_stream() -> None:
    d = EscPosDecoder()
    assert d.feed(CN + gb("半") + b"\n\x1dv0\x00\x10\x00\x05\x00\xff") == []
    tail = d.finish()
    assert tail is not None and tail.lines == ["半"] and tail.cut is None
    assert any("stream ended" in w for w in tail.warnings)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(data: bytes) -> None:
    d = EscPosDecoder(384)
    d.feed(data)
    d.finish()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=97), min_size=1, max_size=30))
def test_chunked_feed_matches_whole_feed(cuts: list[int]) -> None:
    data = render_ticket(sample_ticket(), Layout(paper_mm=58))
    whole = decode(data, 384)
    d = EscPosDecoder(384)
    tickets = []
    pos = 0
    for size in itertools.cycle(cuts):
        if pos >= len(data):
            break
        tickets += [e.ticket for e in d.feed(data[pos : pos + size]) if isinstance(e, TicketDone)]
        pos += size
    assert d.finish() is None
    assert [t.lines for t in tickets] == [t.lines for t in whole]
    assert [t.qr_payloads for t in tickets] == [t.qr_payloads for t in whole]


def test_images_keep_their_source_command() -> None:
    (t,) = decode(render_ticket(sample_ticket(), Layout(text_mode="image")))
    assert t.images and all(isinstance(i, PrintedImage) and i.source == "GS v 0" for i in t.images)
