"""Resident ID numbers (GB 11643): validation, age from the birth date, hashing.

The number itself is never stored: callers keep only a keyed hash and the age band.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")


class InvalidIdNumber(ValueError):
    """The ID number is malformed; the message says which part is wrong.

    Residents read it at the kiosk, so it is bilingual like the other
    resident-facing errors: "English (中文)", the Chinese saying what to do.
    """


@dataclass(frozen=True)
class IdNumber:
    value: str
    birth_date: date

    def age_on(self, day: date) -> int:
        return age_on(self.birth_date, day)


def check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def parse_id_number(raw: str, today: date | None = None) -> IdNumber:
    value = raw.strip().replace(" ", "").upper()
    if len(value) == 15 and value.isdigit():
        raise InvalidIdNumber(
            "this is an old 15-digit ID number; please use the 18-character number "
            "on the second-generation ID card (这是旧的15位身份证号码，"
            "请使用第二代身份证上的18位号码)"
        )
    if len(value) != 18:
        raise InvalidIdNumber(
            f"an ID number has 18 characters, this one has {len(value)} "
            f"(身份证号码应为18位，现在是{len(value)}位，请核对后重新输入)"
        )
    if not _SHAPE.match(value):
        raise InvalidIdNumber(
            "an ID number is 17 digits followed by a digit or X; it contains other characters "
            "(身份证号码由17位数字和最后一位数字或X组成，请核对后重新输入)"
        )
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidIdNumber(
            f"the birth date in the ID number ({value[6:14]}) is not a real date "
            f"(身份证号码中的出生日期{value[6:14]}不存在，请核对后重新输入)"
        ) from None
    if birth.year < 1880 or (today is not None and birth > today):
        raise InvalidIdNumber(
            f"the birth date in the ID number ({value[6:14]}) is not possible "
            f"(身份证号码中的出生日期{value[6:14]}不正确，请核对后重新输入)"
        )
    expected = check_digit(value[:17])
    if value[17] != expected:
        raise InvalidIdNumber(
            "the last character (check digit) does not match the rest of the ID number; "
            "please check it was typed or scanned correctly "
            "(身份证号码校验位不正确，请核对后重新输入)"
        )
    return IdNumber(value=value, birth_date=birth)


def age_on(birth: date, day: date) -> int:
    """Whole years on ``day``, comparing full dates (a birthday tomorrow is not yet counted)."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def age_band(age: int) -> str:
    """Coarse band kept instead of the birth date (60/65/70/80 tiers of local rules)."""
    if age >= 80:
        return "80+"
    if age >= 70:
        return "70-79"
    if age >= 65:
        return "65-69"
    if age >= 60:
        return "60-64"
    if age >= 18:
        return "18-59"
    return "0-17"


def keyed_hash(secret: str, value: str) -> str:
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def mask_id(value: str) -> str:
    """``110105********1234`` style: enough for a resident to recognise their own."""
    return value[:6] + "*" * 8 + value[-4:]
