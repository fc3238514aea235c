"""Hall scenarios: the JSON contract shared by ``hallq simulate``, ``hallq plan``
and the live traffic driver (``hallq sim traffic``).

A scenario describes one kind of day at one hall: opening hours, counters and
their hours, the items residents come for (arrival rate per hour, service time
mean and sd), the share of elderly residents per hour and the no-show rate.
``docs/simulator.md`` is the reference for the format; ``load_scenario`` is the
one parser, so every consumer validates the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kiosk_server.core.hours import parse_span

SCENARIO_DIR = Path(__file__).with_name("scenarios")

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_HOUR = re.compile(r"^([01]\d|2[0-3])$")
_PREFIX = re.compile(r"^[A-Z]$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ScenarioError(ValueError):
    """A scenario file that does not follow the contract; the message names the field."""


@dataclass(frozen=True)
class ServiceMinutes:
    mean: float
    sd: float


@dataclass(frozen=True)
class Item:
    """One catalogue item as residents use it on this kind of day."""

    code: str
    prefix: str
    instant: bool
    target_minutes: int
    service_minutes: ServiceMinutes
    arrivals_per_hour: Mapping[int, float]  # local hour -> mean arrivals in that hour

    def rate_at(self, hour: int) -> float:
        return self.arrivals_per_hour.get(hour, 0.0)


# A span in minutes since local midnight, [start, end).
MinuteSpan = tuple[int, int]


@dataclass(frozen=True)
class CounterSpec:
    number: int
    hours: tuple[MinuteSpan, ...]
    services: frozenset[str] | None  # None: every item

    def open_at(self, minute: float) -> bool:
        return any(s <= minute < e for s, e in self.hours)

    def next_change(self, minute: float) -> float | None:
        """The next opening or closing moment strictly after ``minute``."""
        moments = [m for span in self.hours for m in span if m > minute]
        return float(min(moments)) if moments else None


@dataclass(frozen=True)
class Scenario:
    name: str
    open_minute: int  # minutes since midnight: the hall's doors (ticket issue window)
    close_minute: int
    counters: tuple[CounterSpec, ...]
    items: tuple[Item, ...]
    elderly_age: int = 60
    elderly_share_by_hour: Mapping[int, float] = field(default_factory=dict)
    no_show_rate: float = 0.0
    # How a call plays out: each recall costs this long; a no-show is marked
    # after the recalls (the state machine's limit). Walk-up time is part of it.
    recall_minutes: float = 0.5
    recalls_before_no_show: int = 2
    # From the call to the resident sitting down at the counter (not part of the
    # service time the server records, which runs from start to finish).
    walk_up_minutes: float = 0.5
    description: str = ""

    def item(self, code: str) -> Item:
        for it in self.items:
            if it.code == code:
                return it
        raise KeyError(code)

    def elderly_share(self, hour: int) -> float:
        return self.elderly_share_by_hour.get(hour, 0.0)

    def arrivals_per_day(self) -> float:
        return sum(
            it.rate_at(h) * _hour_overlap(h, self.open_minute, self.close_minute)
            for it in self.items
            for h in range(24)
        )

    def mean_service_minutes(self) -> float:
        """Mean of the items' mean service minutes (unweighted, as a naive system would)."""
        return sum(it.service_minutes.mean for it in self.items) / len(self.items)

    def hours(self) -> list[int]:
        """The local hours the hall is open in, e.g. [8, 9, ..., 16] for 08:30-17:00."""
        return list(range(self.open_minute // 60, (self.close_minute - 1) // 60 + 1))

    def with_counters(self, counters: Sequence[CounterSpec]) -> Scenario:
        return replace(self, counters=tuple(counters))

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "open": _fmt(self.open_minute),
            "close": _fmt(self.close_minute),
            "counters": [
                {
                    "number": c.number,
                    "hours": [f"{_fmt(s)}-{_fmt(e)}" for s, e in c.hours],
                    "services": "all" if c.services is None else sorted(c.services),
                }
                for c in self.counters
            ],
            "elderly_age": self.elderly_age,
            "elderly_share_by_hour": {
                f"{h:02d}": v for h, v in sorted(self.elderly_share_by_hour.items())
            },
            "no_show_rate": self.no_show_rate,
            "recall_minutes": self.recall_minutes,
            "recalls_before_no_show": self.recalls_before_no_show,
            "walk_up_minutes": self.walk_up_minutes,
            "items": [
                {
                    "code": it.code,
                    "prefix": it.prefix,
                    "instant": it.instant,
                    "target_minutes": it.target_minutes,
                    "service_minutes": {
                        "mean": it.service_minutes.mean,
                        "sd": it.service_minutes.sd,
                    },
                    "arrivals_per_hour": {
                        f"{h:02d}": v for h, v in sorted(it.arrivals_per_hour.items())
                    },
                }
                for it in self.items
            ],
        }


def _hour_overlap(hour: int, open_minute: int, close_minute: int) -> float:
    """Fraction of ``hour`` that lies inside [open, close)."""
    start, end = max(hour * 60, open_minute), min(hour * 60 + 60, close_minute)
    return max(0, end - start) / 60.0


def _fmt(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute(text: object, where: str) -> int:
    if not isinstance(text, str) or not _HHMM.match(text):
        raise ScenarioError(f"{where}: expected a time like 08:30, got {text!r}")
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _number(value: object, where: str, *, lo: float, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: expected a number, got {value!r}")
    v = float(value)
    if v < lo or (hi is not None and v > hi):
        bound = f"between {lo:g} and {hi:g}" if hi is not None else f"at least {lo:g}"
        raise ScenarioError(f"{where}: {v:g} must be {bound}")
    return v


def _by_hour(data: object, where: str, *, hi: float | None) -> dict[int, float]:
    if not isinstance(data, Mapping):
        raise ScenarioError(f'{where}: expected an object like {{"09": 12}}')
    out: dict[int, float] = {}
    for key, value in data.items():
        if not isinstance(key, str) or not _HOUR.match(key):
            raise ScenarioError(f"{where}: hour keys are two digits 00-23, got {key!r}")
        out[int(key)] = _number(value, f"{where}.{key}", lo=0.0, hi=hi)
    return out


def _obj(data: object, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: expected an object")
    return data


def _unknown(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(data) - allowed)
    if extra:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(extra)}")


_TOP = {
    "name",
    "description",
    "open",
    "close",
    "counters",
    "elderly_age",
    "elderly_share_by_hour",
    "no_show_rate",
    "recall_minutes",
    "recalls_before_no_show",
    "walk_up_minutes",
    "items",
}
_ITEM = {"code", "prefix", "instant", "target_minutes", "service_minutes", "arrivals_per_hour"}
_COUNTER = {"number", "hours", "services"}


def _item(data: object, where: str) -> Item:
    d = _obj(data, where)
    _unknown(d, _ITEM | {"name"}, where)
    code = d.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise ScenarioError(f"{where}.code: lower-case letters, digits and _, got {code!r}")
    prefix = d.get("prefix")
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise ScenarioError(f"{where}.prefix: one capital letter, got {prefix!r}")
    instant = d.get("instant", True)
    if not isinstance(instant, bool):
        raise ScenarioError(f"{where}.instant: true or false, got {instant!r}")
    target = _number(d.get("target_minutes", 10), f"{where}.target_minutes", lo=1, hi=240)
    sm = _obj(d.get("service_minutes"), f"{where}.service_minutes")
    _unknown(sm, {"mean", "sd"}, f"{where}.service_minutes")
    mean = _number(sm.get("mean"), f"{where}.service_minutes.mean", lo=0.1, hi=240)
    sd = _number(sm.get("sd", 0.0), f"{where}.service_minutes.sd", lo=0.0, hi=240)
    rates = _by_hour(d.get("arrivals_per_hour"), f"{where}.arrivals_per_hour", hi=1000)
    return Item(
        code=code,
        prefix=prefix,
        instant=instant,
        target_minutes=int(target),
        service_minutes=ServiceMinutes(mean, sd),
        arrivals_per_hour=rates,
    )


def _counter(
    data: object, where: str, open_minute: int, close_minute: int, codes: set[str]
) -> CounterSpec:
    d = _obj(data, where)
    _unknown(d, _COUNTER, where)
    number = d.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 999:
        raise ScenarioError(f"{where}.number: a whole number 1-999, got {number!r}")
    raw_hours = d.get("hours", [f"{_fmt(open_minute)}-{_fmt(close_minute)}"])
    if not isinstance(raw_hours, list):
        raise ScenarioError(f'{where}.hours: a list of spans like ["08:30-12:00"]')
    spans: list[MinuteSpan] = []
    for i, text in enumerate(raw_hours):
        try:
            start, end = parse_span(str(text))
        except ValueError as exc:
            raise ScenarioError(f"{where}.hours[{i}]: {exc}") from None
        spans.append((start.hour * 60 + start.minute, end.hour * 60 + end.minute))
    spans.sort()
    for a, b in zip(spans, spans[1:], strict=False):
        if b[0] < a[1]:
            raise ScenarioError(f"{where}.hours: spans overlap")
    services_raw = d.get("services", "all")
    services: frozenset[str] | None
    if services_raw == "all":
        services = None
    elif isinstance(services_raw, list) and services_raw:
        services = frozenset(str(s) for s in services_raw)
        unknown = sorted(services - codes)
        if unknown:
            raise ScenarioError(f"{where}.services: no item with code {', '.join(unknown)}")
    else:
        raise ScenarioError(f'{where}.services: "all" or a non-empty list of item codes')
    return CounterSpec(number=number, hours=tuple(spans), services=services)


def parse_scenario(data: object) -> Scenario:
    """Validate a decoded scenario document and build a Scenario."""
    d = _obj(data, "scenario")
    _unknown(d, _TOP, "scenario")
    name = d.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ScenarioError("name: a non-empty string")
    open_minute = _minute(d.get("open"), "open")
    close_minute = _minute(d.get("close"), "close")
    if close_minute <= open_minute:
        raise ScenarioError("close: must be after open")
    raw_items = d.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise ScenarioError("items: a non-empty list")
    items = tuple(_item(x, f"items[{i}]") for i, x in enumerate(raw_items))
    for attr in ("code", "prefix"):
        values = [getattr(it, attr) for it in items]
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise ScenarioError(f"items: {attr} {', '.join(dupes)} used more than once")
    codes = {it.code for it in items}
    raw_counters = d.get("counters")
    if not isinstance(raw_counters, list) or not raw_counters:
        raise ScenarioError("counters: a non-empty list")
    counters = tuple(
        _counter(x, f"counters[{i}]", open_minute, close_minute, codes)
        for i, x in enumerate(raw_counters)
    )
    numbers = [c.number for c in counters]
    if len(set(numbers)) != len(numbers):
        raise ScenarioError("counters: each counter number may appear once")
    served = set().union(*(codes if c.services is None else c.services for c in counters))
    orphans = sorted(codes - served)
    if orphans:
        raise ScenarioError(f"counters: no counter takes item(s) {', '.join(orphans)}")
    recalls = d.get("recalls_before_no_show", 2)
    if isinstance(recalls, bool) or not isinstance(recalls, int) or not 0 <= recalls <= 3:
        # 3 is the state machine's MAX_RECALLS.
        raise ScenarioError(f"recalls_before_no_show: a whole number 0-3, got {recalls!r}")
    description = d.get("description", "")
    if not isinstance(description, str):
        raise ScenarioError("description: a string")
    return Scenario(
        name=name.strip(),
        description=description,
        open_minute=open_minute,
        close_minute=close_minute,
        counters=counters,
        items=items,
        elderly_age=int(_number(d.get("elderly_age", 60), "elderly_age", lo=0, hi=120)),
        elderly_share_by_hour=_by_hour(
            d.get("elderly_share_by_hour", {}), "elderly_share_by_hour", hi=1.0
        ),
        no_show_rate=_number(d.get("no_show_rate", 0.0), "no_show_rate", lo=0.0, hi=1.0),
        recall_minutes=_number(d.get("recall_minutes", 0.5), "recall_minutes", lo=0.0, hi=30),
        recalls_before_no_show=recalls,
        walk_up_minutes=_number(d.get("walk_up_minutes", 0.5), "walk_up_minutes", lo=0.0, hi=30),
    )


def bundled() -> dict[str, Path]:
    """The scenarios shipped in hardware_sim/scenarios, by file stem."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.json"))}


def resolve(name_or_path: str | Path) -> Path:
    """A path to a scenario file, or the stem of a bundled one (e.g. ``peak``)."""
    path = Path(name_or_path)
    if path.exists():
        return path
    found = bundled().get(str(name_or_path))
    if found is None:
        names = ", ".join(bundled()) or "none"
        raise ScenarioError(f"{name_or_path}: no such file or bundled scenario (bundled: {names})")
    return found


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (a path, or a bundled scenario's stem)."""
    resolved = resolve(path)
    try:
        data = json.loads(resolved.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{resolved}: not valid JSON ({exc})") from None
    try:
        return parse_scenario(data)
    except ScenarioError as exc:
        raise ScenarioError(f"{resolved}: {exc}") from None
