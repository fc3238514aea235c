"""The improved core estimator, worked by hand: shifts, history tails, greens to come."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kiosk_server.core.estimate import (
    CounterLoad,
    DispatchEstimator,
    GreenOutlook,
    ServiceTimes,
    robust_typical,
)
from kiosk_server.core.policy import PolicyParams, QueueEntry
from kiosk_server.core.states import Channel

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
TIMES = ServiceTimes(typical={"enrol": 10.0})


def n(i: int, ago: float = 0.0, channel: Channel = Channel.NORMAL) -> QueueEntry:
    return QueueEntry(i, f"A{i:03d}", "enrol", channel, NOW - timedelta(minutes=ago))


def test_a_closing_shift_takes_nothing_after_it_closes_and_a_later_one_does() -> None:
    est = DispatchEstimator(TIMES, handover_minutes=0.0)
    counters = [
        CounterLoad(1, None, closes_in_minutes=15.0),  # goes to lunch in 15 min
        CounterLoad(1, None, available_in_minutes=60.0),  # back after lunch
    ]
    # t1 at 0, t2 at 10 (before 15), t3 waits for the afternoon shift: 60, t4: 70.
    assert est.estimate([n(1), n(2), n(3), n(4)], counters) == [0.0, 10.0, 60.0, 70.0]
    # Nobody is coming back: unknown rather than a made-up figure.
    assert est.estimate([n(1), n(2), n(3)], counters[:1]) == [0.0, 10.0, None]


def test_time_left_of_a_transaction_in_progress_comes_from_the_history_tail() -> None:
    times = ServiceTimes(typical={"enrol": 10.0}, samples={"enrol": [4, 6, 8, 10, 12, 14, 16, 30]})
    # Of the samples longer than 9 minutes (10, 12, 14, 16, 30) the mean is 16.4: 7.4 left.
    assert times.residual("enrol", 9.0) == pytest.approx(7.4)
    # Too few ran longer than 13 minutes: fall back to the rule of thumb (20 % of typical).
    assert times.residual("enrol", 13.0) == pytest.approx(2.0)
    est = DispatchEstimator(times, handover_minutes=0.0)
    busy = CounterLoad(1, None, busy_service="enrol", busy_elapsed_minutes=9.0)
    assert est.estimate([n(1)], [busy]) == [pytest.approx(7.4)]


def test_robust_typical_drops_a_forgotten_finish_but_keeps_the_long_tail() -> None:
    tail = [4.0, 5.0, 5.0, 6.0, 6.0, 7.0, 8.0, 12.0]
    assert robust_typical(tail) == pytest.approx(sum(tail) / len(tail))
    assert robust_typical([*tail, 240.0]) == pytest.approx(sum(tail) / len(tail))


def test_expected_greens_overtake_a_waiting_normal_ticket_under_strict() -> None:
    # One counter, a green expected every 4 minutes, 3 minutes each.
    outlook = GreenOutlook(NOW, per_minute=1 / 4, service_minutes=3.0)
    est = DispatchEstimator(TIMES, handover_minutes=0.0, green_outlook=outlook)
    counters = [CounterLoad(1, None, busy_service="enrol", busy_elapsed_minutes=0.0)]
    # Counter free at 10. Each green that has arrived by the time the counter
    # frees goes first: 4 -> 10-13, 8 -> 13-16, 12 -> 16-19, 16 -> 19-22,
    # 20 -> 22-25, 24 -> 25-28, 28 -> 28-31; the next (32) is too late: 31.
    assert est.estimate([n(1)], counters) == [pytest.approx(31.0)]
    # Without an outlook the normal ticket is simply next: 10.
    assert DispatchEstimator(TIMES, handover_minutes=0.0).estimate([n(1)], counters) == [10.0]


def test_green_burst_limits_the_overtaking_and_aging_ends_it() -> None:
    counters = [CounterLoad(1, None, busy_service="enrol", busy_elapsed_minutes=0.0)]
    burst = GreenOutlook(NOW, 1 / 4, 3.0, burst=2, max_wait_minutes=30.0)
    est = DispatchEstimator(TIMES, handover_minutes=0.0, green_outlook=burst)
    # Two greens (arrived at 4 and 8) go first, 10-13 and 13-16, then the normal at 16.
    assert est.estimate([n(1)], counters) == [pytest.approx(16.0)]
    # A ticket already 25 minutes old is 35 minutes old when the counter frees:
    # past max_wait, so no later green overtakes it.
    old = est.estimate([n(1, ago=25.0)], counters)
    assert old == [pytest.approx(10.0)]
    # Real greens already in the queue come before any virtual one, and count
    # towards the burst: real green 10-20, one virtual green 20-23, then the normal.
    ordered = [n(1, channel=Channel.GREEN), n(2)]
    assert est.estimate(ordered, counters) == [10.0, pytest.approx(23.0)]


def test_outlook_for_policy() -> None:
    assert GreenOutlook.for_policy(PolicyParams("fifo"), NOW, 0.2, 5.0) is None
    assert GreenOutlook.for_policy(PolicyParams("strict"), NOW, 0.0, 5.0) is None
    strict = GreenOutlook.for_policy(PolicyParams("strict"), NOW, 0.2, 5.0)
    assert strict is not None and strict.burst is None and strict.max_wait_minutes is None
    assert strict.per_minute == pytest.approx(0.15)  # shrunk
    gb = GreenOutlook.for_policy(PolicyParams("green_burst", 3, 20), NOW, 0.2, 5.0)
    assert gb is not None and gb.burst == 3 and gb.max_wait_minutes == 20.0
