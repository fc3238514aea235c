"""Refusals the admin console renders in its own language.

Each carries ``details.reason`` (a stable key: the console's catalogue has a
``v.<reason>`` string for it) and the values that string needs, so a check made
in the page and the same check made here read the same. ``message`` stays an
English sentence with the Chinese in parentheses, for API users and logs.
"""

from __future__ import annotations

from typing import Any, TypeVar

from kiosk_server.errors import DomainError

E = TypeVar("E", bound=DomainError)


def refusal(
    kind: type[E],
    reason: str,
    english: str,
    chinese: str,
    *,
    field: str | None = None,
    **values: Any,
) -> E:
    details: dict[str, Any] = {"reason": reason, **values}
    if field is not None:
        details["field"] = field
    return kind(f"{english} ({chinese})", details=details)


def people(n: int, singular: str, plural: str) -> str:
    """'1 person holds' / '2 people hold'."""
    return f"1 person {singular}" if n == 1 else f"{n} people {plural}"
