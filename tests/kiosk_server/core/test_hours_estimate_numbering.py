from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk_server.core.estimate import (
    CounterLoad,
    DispatchEstimator,
    ServiceTimes,
    ahead_counts,
    count_ahead,
    naive_estimate,
    residual_minutes,
    robust_typical,
)
from kiosk_server.core.hours import OpeningHours
from kiosk_server.core.numbering import NumbersExhausted, format_number, parse_number
from kiosk_server.core.policy import QueueEntry
from kiosk_server.core.states import Channel
from kiosk_server.core.timing import clock_level

TZ = ZoneInfo("Asia/Shanghai")


def test_opening_hours_weekday_and_override() -> None:
    hours = OpeningHours.from_json(
        {
            "mon": ["08:30-12:00", "13:30-17:00"],
            "wed": ["08:30-12:00"],
            "2026-11-25": ["09:00-10:00"],
        }
    )
    assert hours.is_open(datetime(2026, 11, 23, 9, 0, tzinfo=TZ))
    assert not hours.is_open(datetime(2026, 11, 23, 12, 30, tzinfo=TZ))
    # The special date replaces Wednesday's hours.
    assert not hours.is_open(datetime(2026, 11, 25, 11, 0, tzinfo=TZ))
    assert hours.next_opening(datetime(2026, 11, 25, 11, 0, tzinfo=TZ)) == datetime(
        2026, 11, 30, 8, 30, tzinfo=TZ
    )


@pytest.mark.parametrize(
    "bad",
    [
        {"mon": ["8:30-12"]},
        {"mon": ["12:00-08:00"]},
        {"funday": ["08:00-09:00"]},
        {"mon": ["08:00-10:00", "09:00-11:00"]},
    ],
)
def test_bad_hours_are_refused(bad: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError):
        OpeningHours.from_json(bad)  # type: ignore[arg-type]


def test_numbers() -> None:
    assert format_number("A", 12) == "A012"
    assert parse_number("a012") == ("A", 12)
    with pytest.raises(NumbersExhausted, match="999"):
        format_number("A", 1000)


T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def e(i: int, service: str = "enrol") -> QueueEntry:
    return QueueEntry(i, f"A{i:03d}", service, Channel.NORMAL, T0 + timedelta(minutes=i))


def test_dispatch_estimate_by_hand() -> None:
    times = ServiceTimes(typical={"enrol": 6.0, "payment": 4.0})
    est = DispatchEstimator(times, handover_minutes=0.0)
    counters = [
        CounterLoad(1, None, busy_service="enrol", busy_elapsed_minutes=2.0),
        CounterLoad(2, None),
    ]
    # Counter 2 is free now, counter 1 frees in 4 min.
    got = est.estimate([e(1), e(2, "payment"), e(3), e(4)], counters)
    # t1 -> c2 at 0 (c2 free at 6); t2 -> c1 at 4 (free at 8); t3 -> c2 at 6 (free 12); t4 -> c1 at 8.
    assert got == [0.0, 4.0, 6.0, 8.0]


def test_estimate_unknown_when_no_counter_takes_the_item() -> None:
    est = DispatchEstimator(ServiceTimes(default_minutes=5))
    assert est.estimate([e(1, "payment")], [CounterLoad(1, frozenset({"enrol"}))]) == [None]


def test_ahead_counts_only_competitors() -> None:
    counters = [CounterLoad(1, frozenset({"enrol"})), CounterLoad(2, frozenset({"payment"}))]
    ordered = [e(1, "payment"), e(2, "enrol"), e(3, "payment"), e(4, "enrol")]
    assert count_ahead(ordered, 3, counters) == 1
    assert ahead_counts(ordered, counters) == [0, 0, 1, 1]


def test_ahead_counts_agree_with_count_ahead_on_mixed_queues() -> None:
    """The one-pass count (a batch of issues, the queue listing) must give what
    the per-position definition gives: specialised counters, a comprehensive
    teller, tickets sent to one counter, an item no open counter takes."""
    import random

    rng = random.Random(7)
    items = ["enrol", "payment", "record_query", "reimbursement"]
    for _ in range(50):
        counters = [
            CounterLoad(n, None if rng.random() < 0.3 else frozenset(rng.sample(items, 2)))
            for n in range(1, rng.randint(1, 5) + 1)
        ]
        ordered = []
        for i in range(rng.randint(0, 40)):
            entry = e(i, rng.choice(items))
            if rng.random() < 0.1:
                entry = replace(entry, counter=rng.randint(1, 6))
            ordered.append(entry)
        want = [count_ahead(ordered, i, counters) for i in range(len(ordered))]
        assert ahead_counts(ordered, counters) == want


def test_robust_typical_ignores_a_forgotten_finish() -> None:
    samples = [5.0, 6.0, 5.5, 6.5, 5.0, 6.0, 5.5, 6.0, 5.0, 120.0]
    value = robust_typical(samples)
    assert value is not None and value < 7
    assert robust_typical([5.0, 6.0]) is None
    assert residual_minutes(6.0, 10.0) == pytest.approx(1.2)
    assert naive_estimate(4, 6.0, 2) == 12.0
    assert naive_estimate(4, 6.0, 0) is None


def test_clock_levels() -> None:
    assert clock_level(7 * 60, 10) == "ok"
    assert clock_level(8 * 60, 10) == "amber"
    assert clock_level(10 * 60 + 1, 10) == "red"
