"""The serving clock: service time is the sum of the serving segments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kiosk_server.core.timing import ServingClock, clock_level, over_target

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_hold_and_call_back_sums_the_segments_without_the_time_held() -> None:
    clock = ServingClock().start(at(0))
    assert clock.seconds(at(7)) == 7 * 60
    held = clock.stop(at(7))  # 挂起: the resident fetches a paper
    assert (held.closed_seconds, held.running_since) == (7 * 60, None)
    assert held.seconds(at(30)) == 7 * 60  # the time held is not counted
    again = held.start(at(30))  # called back and started again
    assert again.segments == 2
    assert again.seconds(at(34)) == 11 * 60  # 7 + 4, not 4 and not 34
    assert over_target(again.seconds(at(34)), 10)
    assert clock_level(again.seconds(at(34)), 10) == "red"
    assert again.stop(at(34)).closed_seconds == 11 * 60


def test_start_and_stop_are_idempotent() -> None:
    clock = ServingClock().start(at(0))
    assert clock.start(at(5)) == clock  # a second start does not move the segment's start
    stopped = clock.stop(at(3))
    assert stopped.stop(at(9)) == stopped
    assert ServingClock().seconds(at(9)) == 0.0
    assert not over_target(600, 10) and over_target(601, 10)
