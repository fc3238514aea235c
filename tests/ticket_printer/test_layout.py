from __future__ import annotations

from datetime import datetime
from typing import Literal

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware_sim.printer.decoder import DecodedTicket, decode
from hardware_sim.printer.render import render_png
from hardware_sim.printer.sample import sample_ticket
from ticket_printer import cjk
from ticket_printer.layout import Layout, QrBlock, TextLine, compose_ticket, render_ticket
from ticket_printer.view import TicketView

Paper = Literal[58, 80]


def printed(ticket: TicketView, layout: Layout) -> DecodedTicket:
    tickets = decode(render_ticket(ticket, layout), layout.dots)
    assert len(tickets) == 1
    return tickets[0]


def test_job_starts_in_chinese_mode_and_ends_with_a_cut() -> None:
    data = render_ticket(sample_ticket(), Layout())
    assert data.startswith(b"\x1b@\x1c&")  # ESC @, FS &
    assert data.endswith(b"\x1dV\x01")  # GS V 1: partial cut
    assert render_ticket(sample_ticket(), Layout(cut="full")).endswith(b"\x1dV\x00")
    assert "城乡居民参保登记".encode("gb18030") in data


@pytest.mark.parametrize("paper", [58, 80])
def test_ticket_sections_decode(paper: Paper) -> None:
    t = printed(sample_ticket(), Layout(paper_mm=paper))
    assert t.cut == "partial"
    assert t.warnings == []
    assert t.auto_wraps == 0
    text = t.text
    for fragment in (
        "长江镇医保服务站",
        "A012",
        "城乡居民参保登记",
        "绿色通道",
        "前面还有 3 人等候",
        "预计等待约 12 分钟",
        "取号时间：2025-11-25 09:42",
        "请备齐以下材料（一次性告知）",
        "服务监督电话：12393",
        "过号请重新取号",
    ):
        assert fragment in text, fragment
    assert t.qr_payloads == ["https://hall.example.gov.cn/t/3f9c2a7b81d4"]


def test_number_is_as_large_as_the_paper_allows() -> None:
    t58 = printed(sample_ticket(), Layout(paper_mm=58))
    number = t58.line_with("A012")
    assert number is not None and number.align == "center"
    assert (number.style.width, number.style.height) == (8, 8)  # 4 x 12 x 8 = 384 dots
    five = printed(sample_ticket(number="AB012"), Layout(paper_mm=58)).line_with("AB012")
    assert five is not None and five.style.width == 6  # 5 x 12 x 6 = 360 <= 384
    capped = printed(sample_ticket(), Layout(number_max_scale=4)).line_with("A012")
    assert capped is not None and capped.style.width == 4


def test_green_channel_is_marked_inverted_and_big() -> None:
    line = printed(sample_ticket(), Layout()).line_with("绿色通道")
    assert line is not None
    assert line.style.invert and line.style.bold
    assert line.style.width == 2 and line.style.height == 2


@pytest.mark.parametrize(
    ("channel", "present", "absent"),
    [("normal", None, "绿色通道"), ("appointment", "预约办理", "绿色通道")],
)
def test_other_channels(channel: str, present: str | None, absent: str) -> None:
    text = printed(sample_ticket(channel=channel), Layout()).text
    assert absent not in text
    if present:
        assert present in text


def test_wait_texts() -> None:
    assert (
        "预计等待约 1 小时 30 分钟"
        in printed(sample_ticket(estimated_wait_minutes=90), Layout()).text
    )
    no_estimate = printed(sample_ticket(estimated_wait_minutes=None, ahead=0), Layout()).text
    assert "前面还有 0 人等候" in no_estimate
    assert "预计" not in no_estimate


def test_sections_can_be_hidden() -> None:
    layout = Layout(
        show_materials=False,
        show_qr=False,
        show_hotline=False,
        show_guide=False,
        show_issued_at=False,
        hall_name="长江镇",
    )
    t = printed(sample_ticket(), layout)
    assert "居民身份证" not in t.text
    assert "12393" not in t.text
    assert "取号时间" not in t.text
    assert "办事指南" not in t.text
    assert t.qr_payloads == []
    assert t.lines[0] == "长江镇"  # the layout's hall name wins


def test_english_name_is_optional() -> None:
    assert "Urban-rural" not in printed(sample_ticket(), Layout()).text
    assert "Urban-rural" in printed(sample_ticket(), Layout(show_service_name_en=True)).text


@pytest.mark.parametrize("paper", [58, 80])
def test_materials_wrap_to_the_paper_with_mixed_text(paper: Paper) -> None:
    materials = [
        "居民身份证（或社会保障卡）原件，16周岁以下可提供户口簿",
        "Form 2B application (print at https://ybj.example.gov.cn/forms/2b.pdf) 一式两份",
    ]
    layout = Layout(paper_mm=paper)
    t = printed(sample_ticket(materials=materials), layout)
    assert t.auto_wraps == 0
    start = t.lines.index("请备齐以下材料（一次性告知）：")
    body = t.lines[start + 1 : start + 12]
    for line in body:
        assert cjk.text_columns(line) <= layout.columns
    joined = "".join(body).replace(" ", "")
    for item in materials:
        assert item.replace(" ", "") in joined
    # Continuation lines hang under the item text, not under the number.
    assert body[1].startswith("   ")
    assert len(body[0]) > 0 and cjk.text_columns(body[0]) > layout.columns - 3


@settings(max_examples=30, deadline=None)
@given(
    st.sampled_from([58, 80]),
    st.lists(
        st.text(
            alphabet=st.sampled_from(list("参保缴费材料复印件（）， ABCxyz0123/.:")), max_size=60
        ),
        max_size=4,
    ),
    st.text(alphabet=st.sampled_from(list("长江镇医保服务站中心 ABC")), min_size=1, max_size=30),
)
def test_every_line_fits_the_paper(paper: Paper, materials: list[str], hall: str) -> None:
    layout = Layout(paper_mm=paper)
    ticket = sample_ticket(materials=materials, hall_name=hall, service_name=hall)
    for block in compose_ticket(ticket, layout):
        if isinstance(block, TextLine):
            assert cjk.text_columns(block.text) * block.style.width <= layout.columns
    assert printed(ticket, layout).auto_wraps == 0


def test_rare_character_line_goes_as_an_image_and_the_rest_stays_text() -> None:
    layout = Layout()
    data = render_ticket(sample_ticket(hall_name="李㛃村医保服务点"), layout)
    t = printed(sample_ticket(hall_name="李㛃村医保服务点"), layout)
    assert b"\x1dv0" in data  # GS v 0 raster for the hall-name line
    assert "李㛃村医保服务点" not in t.text
    assert t.images and t.images[0].image.width == layout.dots
    assert "城乡居民参保登记" in t.text
    assert not any("four-byte" in w for w in t.warnings)


def test_character_without_any_glyph_is_substituted() -> None:
    t = printed(sample_ticket(service_name="𠮷祥村参保登记"), Layout())
    assert "□祥村参保登记" in t.text
    assert "?" not in t.text


def test_qr_as_image_is_readable() -> None:
    layout = Layout(qr_mode="image")
    data = render_ticket(sample_ticket(), layout)
    assert b"\x1d(k" not in data
    t = printed(sample_ticket(), layout)
    assert t.qr_payloads == []
    assert "城乡居民参保登记" in t.text
    codes = zxingcpp.read_barcodes(render_png(t, layout.dots))
    assert [c.text for c in codes] == ["https://hall.example.gov.cn/t/3f9c2a7b81d4"]


@pytest.mark.parametrize("paper", [58, 80])
def test_image_mode_sends_one_bitmap_with_a_readable_qr(paper: Paper) -> None:
    layout = Layout(paper_mm=paper, text_mode="image")
    data = render_ticket(sample_ticket(), layout)
    assert b"\x1c&" not in data and b"\x1d(k" not in data
    t = printed(sample_ticket(), layout)
    assert t.lines == []
    assert all(img.image.width == layout.dots for img in t.images)
    png = render_png(t, layout.dots)
    assert png.height > 800
    codes = zxingcpp.read_barcodes(png)
    assert [c.text for c in codes] == ["https://hall.example.gov.cn/t/3f9c2a7b81d4"]


def test_qr_module_is_big_enough_to_scan() -> None:
    blocks = compose_ticket(sample_ticket(), Layout(paper_mm=58))
    (qr,) = [b for b in blocks if isinstance(b, QrBlock)]
    assert 3 <= qr.module <= 8


def test_ticket_view_validation() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        sample_ticket(issued_at=datetime(2025, 11, 25, 9, 42))
    with pytest.raises(ValueError, match="channel"):
        sample_ticket(channel="vip")
    with pytest.raises(ValueError, match="ahead"):
        sample_ticket(ahead=-1)
    with pytest.raises(ValueError, match="number"):
        sample_ticket(number=" ")


def test_layout_validation() -> None:
    with pytest.raises(ValueError, match="58 or 80"):
        Layout(paper_mm=76)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="text_mode"):
        Layout(text_mode="pdf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="number_max_scale"):
        Layout(number_max_scale=9)
    assert (Layout(paper_mm=58).columns, Layout().columns) == (32, 48)
