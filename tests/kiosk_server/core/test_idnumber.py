from __future__ import annotations

from datetime import date

import pytest

from kiosk_server.core.idnumber import (
    InvalidIdNumber,
    age_band,
    age_on,
    check_digit,
    keyed_hash,
    mask_id,
    parse_id_number,
)
from tests.factories import ID_ELDERLY_1949, ID_YOUNG_1990, make_id


def test_valid_numbers_parse_with_birth_date() -> None:
    assert parse_id_number(ID_ELDERLY_1949).birth_date == date(1949, 12, 31)
    assert parse_id_number(ID_YOUNG_1990).birth_date == date(1990, 3, 7)


def test_known_check_digit() -> None:
    # The GB 11643 worked example.
    assert check_digit("11010519491231002") == "X"


def test_lower_case_x_is_accepted() -> None:
    assert parse_id_number(ID_ELDERLY_1949.lower()).value == ID_ELDERLY_1949


def test_wrong_check_digit() -> None:
    bad = ID_YOUNG_1990[:-1] + ("0" if ID_YOUNG_1990[-1] != "0" else "1")
    with pytest.raises(InvalidIdNumber, match="check digit") as info:
        parse_id_number(bad)
    assert "(身份证号码校验位不正确，请核对后重新输入)" in str(info.value)


def test_impossible_date() -> None:
    first17 = "32050619900230123"  # 30 February
    with pytest.raises(InvalidIdNumber, match="not a real date") as info:
        parse_id_number(first17 + check_digit(first17))
    assert "出生日期19900230不存在" in str(info.value)


def test_future_birth_date() -> None:
    with pytest.raises(InvalidIdNumber, match="not possible") as info:
        parse_id_number(make_id("20300101"), today=date(2026, 11, 25))
    assert "出生日期20300101不正确" in str(info.value)


def test_fifteen_digit_numbers_are_refused_with_advice() -> None:
    with pytest.raises(InvalidIdNumber, match="15-digit") as info:
        parse_id_number("110105491231002")
    assert "第二代身份证上的18位号码" in str(info.value)


@pytest.mark.parametrize(
    "raw", ["", "1234", "11010519491231002Y", "1101051949123100XX", "ABCDEFGHIJKLMNOPQR"]
)
def test_malformed(raw: str) -> None:
    with pytest.raises(InvalidIdNumber):
        parse_id_number(raw)


def test_age_counts_full_dates() -> None:
    birth = date(1966, 11, 26)
    assert age_on(birth, date(2026, 11, 25)) == 59  # birthday tomorrow
    assert age_on(birth, date(2026, 11, 26)) == 60
    assert age_on(date(1964, 2, 29), date(2026, 2, 28)) == 61


def test_bands_and_masking() -> None:
    assert [age_band(a) for a in (17, 59, 60, 65, 70, 80)] == [
        "0-17",
        "18-59",
        "60-64",
        "65-69",
        "70-79",
        "80+",
    ]
    masked = mask_id(ID_YOUNG_1990)
    assert (
        masked.startswith("110105")
        and masked.endswith(ID_YOUNG_1990[-4:])
        and "19900307" not in masked
    )
    assert keyed_hash("k1", ID_YOUNG_1990) != keyed_hash("k2", ID_YOUNG_1990)
    assert ID_YOUNG_1990 not in keyed_hash("k1", ID_YOUNG_1990)


@pytest.mark.parametrize(
    ("raw", "chinese"),
    [
        (ID_YOUNG_1990[:-1] + ("0" if ID_YOUNG_1990[-1] != "0" else "1"), "校验位不正确"),
        ("110105491231002", "旧的15位身份证号码"),
        ("1101051990023012", "身份证号码应为18位，现在是16位"),
        ("11010519491231002Y", "由17位数字和最后一位数字或X组成"),
        ("32050619900230123" + check_digit("32050619900230123"), "出生日期19900230不存在"),
        ("11010518700101001" + check_digit("11010518700101001"), "出生日期18700101不正确"),
    ],
)
def test_every_message_is_bilingual_like_other_resident_errors(raw: str, chinese: str) -> None:
    """Residents read these at the kiosk: "English (中文)" like HallClosed and the
    duplicate-ticket conflict, the Chinese saying what is wrong and what to do."""
    with pytest.raises(InvalidIdNumber) as info:
        parse_id_number(raw, today=date(2026, 11, 25))
    message = str(info.value)
    english, _, rest = message.partition(" (")
    assert english.isascii() and english[0].islower()
    assert rest.endswith(")") and chinese in rest
    assert not rest.isascii()
