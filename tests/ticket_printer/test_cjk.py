from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticket_printer import cjk
from ticket_printer.raster import has_glyph

# Characters from the places tickets get their text: names, materials, URLs.
MIXED = st.lists(
    st.sampled_from(
        list("居民身份证或户口簿原件复印件（）《》，。、；：！？1234567890 abcXYZ-/.%")
        + ["医保", "http://x.cn/a?b=1", "A012", "  "]
    ),
    max_size=40,
).map("".join)


def test_width_is_the_wire_length() -> None:
    assert cjk.char_columns("A") == 1
    assert cjk.char_columns("医") == 2
    assert cjk.char_columns("，") == 2
    assert cjk.text_columns("A012号") == 6
    assert cjk.gb2("医") == "医".encode("gb18030")
    assert cjk.gb2("𠮷") is None  # four-byte code: not in a printer font
    assert cjk.gb2("¥") is None


def test_encode_refuses_four_byte_characters() -> None:
    assert cjk.encode("参保A1") == "参保A1".encode("gb18030")
    with pytest.raises(ValueError, match="U\\+20BB7"):
        cjk.encode("吉𠮷")


def test_prepare_substitutes_and_never_uses_question_marks() -> None:
    p = cjk.prepare("费用¥30•现金\u200b", has_glyph=has_glyph)
    assert p.text == "费用￥30·现金"
    assert not p.needs_image
    # No glyph in any installed font: the missing mark, not "?".
    p = cjk.prepare("张𠮷", has_glyph=has_glyph)
    assert p.text == "张" + cjk.MISSING_MARK


def test_prepare_keeps_rare_characters_the_font_has_for_an_image() -> None:
    # U+36C3 (CJK extension A) is four-byte GB18030 but wqy-zenhei draws it.
    assert cjk.gb2("㛃") is None and has_glyph("㛃")
    p = cjk.prepare("李㛃", has_glyph=has_glyph)
    assert p.text == "李㛃"
    assert p.image_chars == frozenset("㛃")
    substituted = cjk.prepare("李㛃", policy="substitute", has_glyph=has_glyph)
    assert substituted.text == "李" + cjk.MISSING_MARK
    assert not substituted.needs_image


def test_prepare_drops_control_characters() -> None:
    assert cjk.prepare("a\x1b@b\tc\x00").text == "a@b c"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_prepared_text_is_always_sendable(text: str) -> None:
    p = cjk.prepare(text, has_glyph=has_glyph)
    for ch in p.text:
        assert cjk.gb2(ch) is not None or ch in p.image_chars
    if "?" not in text:
        assert "?" not in p.text


def test_wrap_counts_chinese_as_two_columns() -> None:
    assert cjk.wrap("居民身份证或户口簿原件", 10) == ["居民身份证", "或户口簿原", "件"]
    assert cjk.wrap("ID card 身份证", 8) == ["ID card", "身份证"]


def test_wrap_keeps_punctuation_off_line_starts_and_openers_off_line_ends() -> None:
    lines = cjk.wrap("带好身份证，户口簿", 10)
    assert lines == ["带好身份", "证，户口簿"]
    lines = cjk.wrap("请带上（原件）", 8)
    assert all(not line.endswith("（") for line in lines)
    assert "".join(lines) == "请带上（原件）"


def test_wrap_keeps_ascii_words_whole_and_splits_only_overlong_ones() -> None:
    # "hotline" fits on the next line, so it is not split.
    assert cjk.wrap("服务监督电话 hotline 12393", 16) == ["服务监督电话", "hotline 12393"]
    # A URL longer than a line fills the line it starts on and carries on below.
    assert cjk.wrap("扫码 https://hall.example.cn/t/8f3a 查看", 16) == [
        "扫码 https://hal",
        "l.example.cn/t/8",
        "f3a 查看",
    ]


def test_wrap_hanging_indent() -> None:
    lines = cjk.wrap("1. 新生儿需提供出生医学证明原件", 14, indent=3)
    assert lines[0].startswith("1. ")
    assert all(line.startswith("   ") for line in lines[1:])
    assert all(cjk.text_columns(line) <= 14 for line in lines)


@settings(max_examples=300, deadline=None)
@given(MIXED, st.integers(min_value=2, max_value=48), st.integers(min_value=0, max_value=6))
def test_wrap_fits_and_loses_nothing(text: str, width: int, indent: int) -> None:
    lines = cjk.wrap(text, width, indent=indent)
    assert all(cjk.text_columns(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
