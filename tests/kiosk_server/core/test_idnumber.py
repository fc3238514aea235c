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
    with pytest.raises(InvalidIdNumber, match="check digit"):
        parse_id_number(bad)


def test_impossible_date() -> None:
    first17 = "32050619900230123"  # 30 February
    with pytest.raises(InvalidIdNumber, match="not a real date"):
        parse_id_number(first17 + check_digit(first17))


def test_future_birth_date() -> None:
    with pytest.raises(InvalidIdNumber, match="not possible"):
        parse_id_number(make_id("20300101"), today=date(2026, 11, 25))


def test_fifteen_digit_numbers_are_refused_with_advice() -> None:
    with pytest.raises(InvalidIdNumber, match="15-digit"):
        parse_id_number("110105491231002")


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
