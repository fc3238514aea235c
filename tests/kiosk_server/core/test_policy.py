from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk_server.core.policy import (
    FifoPolicy,
    GreenBurstPolicy,
    PolicyParams,
    PolicyState,
    QueueEntry,
    StrictPolicy,
    after_call,
    pick_next,
)
from kiosk_server.core.states import Channel

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def entry(
    i: int, channel: Channel, minute: float, service: str = "enrol", **kw: object
) -> QueueEntry:
    return QueueEntry(
        ticket_id=i,
        number=f"A{i:03d}",
        service=service,
        channel=channel,
        issued_at=T0 + timedelta(minutes=minute),
        **kw,  # type: ignore[arg-type]
    )


N, G = Channel.NORMAL, Channel.GREEN


def numbers(
    policy: object, waiting: list[QueueEntry], now: datetime, green_run: int = 0
) -> list[int]:
    return [e.ticket_id for e in policy.order(waiting, PolicyState(green_run), now)]  # type: ignore[attr-defined]


def test_fifo_ignores_channel() -> None:
    w = [entry(1, N, 0), entry(2, G, 1), entry(3, N, 2)]
    assert numbers(FifoPolicy(), w, T0 + timedelta(minutes=5)) == [1, 2, 3]


def test_strict_puts_all_green_first() -> None:
    w = [entry(1, N, 0), entry(2, G, 1), entry(3, G, 2), entry(4, G, 3)]
    assert numbers(StrictPolicy(), w, T0 + timedelta(minutes=5)) == [2, 3, 4, 1]


def test_green_burst_lets_a_normal_through_after_two_greens() -> None:
    w = [entry(1, N, 0), entry(2, G, 1), entry(3, G, 2), entry(4, G, 3), entry(5, N, 4)]
    assert numbers(GreenBurstPolicy(), w, T0 + timedelta(minutes=5)) == [2, 3, 1, 4, 5]


def test_green_run_carries_over_between_calls() -> None:
    w = [entry(1, N, 0), entry(2, G, 1)]
    # Two greens were already called in a row: the normal ticket goes now.
    assert numbers(GreenBurstPolicy(), w, T0 + timedelta(minutes=5), green_run=2) == [1, 2]


def test_aging_normal_overtakes_later_greens() -> None:
    w = [entry(1, N, 0), entry(2, G, 10), entry(3, G, 11)]
    now = T0 + timedelta(minutes=31)
    assert numbers(GreenBurstPolicy(), w, now) == [1, 2, 3]
    # ...but not a green issued before it.
    w = [entry(1, G, 0), entry(2, N, 1)]
    assert numbers(GreenBurstPolicy(), w, T0 + timedelta(minutes=40)) == [1, 2]


def test_due_appointment_goes_ahead_of_walk_ins() -> None:
    now = T0 + timedelta(minutes=20)
    appt = entry(
        9,
        Channel.APPOINTMENT,
        15,
        slot_start=T0 + timedelta(minutes=15),
        slot_end=T0 + timedelta(minutes=45),
    )
    early = entry(
        8,
        Channel.APPOINTMENT,
        16,
        slot_start=T0 + timedelta(minutes=45),
        slot_end=T0 + timedelta(minutes=75),
    )
    w = [entry(1, N, 0), entry(2, G, 1), appt, early]
    assert numbers(GreenBurstPolicy(), w, now) == [9, 2, 1, 8]


def test_peak_window_allows_a_longer_green_run() -> None:
    params = PolicyParams(
        green_burst=1, peak_green_burst=3, peak_start=time(8, 30), peak_end=time(10, 30)
    )
    w = [entry(1, N, 0), entry(2, G, 1), entry(3, G, 2), entry(4, G, 3)]
    in_peak = GreenBurstPolicy(params, lambda _now: time(9, 0))
    off_peak = GreenBurstPolicy(params, lambda _now: time(14, 0))
    assert numbers(in_peak, w, T0 + timedelta(minutes=5)) == [2, 3, 4, 1]
    assert numbers(off_peak, w, T0 + timedelta(minutes=5)) == [2, 1, 3, 4]


def test_pick_next_respects_counter_items_and_transfer_target() -> None:
    w = [
        entry(1, N, 0, service="payment"),
        entry(2, N, 1, service="enrol"),
        entry(3, N, 2, counter=4),
    ]
    now = T0 + timedelta(minutes=5)
    got = pick_next(GreenBurstPolicy(), w, PolicyState(), now, frozenset({"enrol"}), 2)
    assert got is not None and got.ticket_id == 2
    got = pick_next(GreenBurstPolicy(), w, PolicyState(), now, None, 4)
    assert (
        got is not None and got.ticket_id == 1
    )  # transferred ticket 3 is for counter 4 but issued later
    assert pick_next(GreenBurstPolicy(), [w[2]], PolicyState(), now, None, 1) is None


arrivals = st.lists(st.tuples(st.sampled_from([N, G]), st.integers(0, 3)), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(arrivals=arrivals, calls_per_tick=st.integers(1, 3), burst=st.integers(1, 4))
def test_no_normal_waits_behind_more_than_burst_greens(
    arrivals: list[tuple[Channel, int]], calls_per_tick: int, burst: int
) -> None:
    """Interleave arrivals and calls; while a normal ticket waits, the hall never
    calls more than ``burst`` green tickets in a row, and nothing is called twice."""
    policy = GreenBurstPolicy(PolicyParams(green_burst=burst, max_wait_minutes=10_000))
    waiting: list[QueueEntry] = []
    state = PolicyState()
    called: list[int] = []
    run_while_normal_waits = 0
    minute = 0.0
    next_id = 1
    for channel, calls in arrivals:
        minute += 1
        waiting.append(entry(next_id, channel, minute))
        next_id += 1
        for _ in range(min(calls, calls_per_tick)):
            now = T0 + timedelta(minutes=minute)
            pick = pick_next(policy, waiting, state, now, None, 1)
            if pick is None:
                break
            normal_waiting = any(e.channel is N for e in waiting)
            waiting.remove(pick)
            state = after_call(state, pick)
            called.append(pick.ticket_id)
            if pick.channel is G and normal_waiting:
                run_while_normal_waits += 1
                assert run_while_normal_waits <= burst
            else:
                run_while_normal_waits = 0
    # Drain.
    while waiting:
        pick = pick_next(policy, waiting, state, T0 + timedelta(minutes=minute), None, 1)
        assert pick is not None
        normal_waiting = any(e.channel is N for e in waiting)
        waiting.remove(pick)
        state = after_call(state, pick)
        called.append(pick.ticket_id)
        if pick.channel is G and normal_waiting:
            run_while_normal_waits += 1
            assert run_while_normal_waits <= burst
        else:
            run_while_normal_waits = 0
    assert len(called) == len(set(called)) == next_id - 1


@settings(max_examples=200, deadline=None)
@given(arrivals=arrivals)
def test_order_is_a_permutation_and_greens_keep_their_own_order(
    arrivals: list[tuple[Channel, int]],
) -> None:
    w = [entry(i, ch, float(i)) for i, (ch, _) in enumerate(arrivals, start=1)]
    out = list(GreenBurstPolicy().order(w, PolicyState(), T0 + timedelta(minutes=100)))
    assert sorted(e.ticket_id for e in out) == [e.ticket_id for e in w]
    for lane in (N, G):
        ids = [e.ticket_id for e in out if e.channel is lane]
        assert ids == sorted(ids)
