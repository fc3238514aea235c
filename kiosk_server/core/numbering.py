"""Ticket numbers: a prefix letter and three digits, per hall, service day and prefix."""

from __future__ import annotations

import re

MAX_NUMBER = 999
_PREFIX = re.compile(r"^[A-Z]$")
_NUMBER = re.compile(r"^([A-Z])(\d{3})$")


class NumbersExhausted(Exception):
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        super().__init__(
            f"all {MAX_NUMBER} numbers with prefix {prefix} are used today; "
            "no more tickets for this item can be issued until tomorrow "
            "(an admin can move the item to another prefix letter)"
        )


def validate_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix):
        raise ValueError("a ticket prefix is one capital letter A-Z")
    return prefix


def format_number(prefix: str, n: int) -> str:
    if not 1 <= n <= MAX_NUMBER:
        raise NumbersExhausted(prefix)
    return f"{prefix}{n:03d}"


def parse_number(text: str) -> tuple[str, int]:
    m = _NUMBER.match(text.strip().upper())
    if not m:
        raise ValueError(f"{text!r} is not a ticket number like A012")
    return m.group(1), int(m.group(2))
