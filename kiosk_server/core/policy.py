"""Routing: which waiting ticket a counter calls next.

A policy orders the waiting tickets; ``call-next`` takes the first one that the
calling counter may serve, the hall queue page shows the whole order, and the
wait estimator walks it. The only state a policy keeps between calls is how many
green tickets were called in a row at the hall (``PolicyState``), which the
caller persists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Protocol

from kiosk_server.core.states import Channel


@dataclass(frozen=True)
class QueueEntry:
    """What a policy needs to know about a waiting ticket."""

    ticket_id: int
    number: str
    service: str
    channel: Channel
    issued_at: datetime  # original issue time: a transferred ticket keeps its place
    slot_start: datetime | None = None  # appointments only
    slot_end: datetime | None = None
    counter: int | None = None  # transferred to a specific counter number


@dataclass(frozen=True)
class PolicyState:
    consecutive_green: int = 0


@dataclass(frozen=True)
class PolicyParams:
    name: str = "green_burst"  # fifo | strict | green_burst
    green_burst: int = 2
    max_wait_minutes: int = 30
    # During the elderly peak the green channel may take a longer run of calls.
    peak_green_burst: int | None = None
    peak_start: time | None = None
    peak_end: time | None = None

    def burst_at(self, local_time: time | None) -> int:
        if (
            self.peak_green_burst is not None
            and local_time is not None
            and self.peak_start is not None
            and self.peak_end is not None
            and self.peak_start <= local_time < self.peak_end
        ):
            return self.peak_green_burst
        return self.green_burst


POLICY_NAMES = ("fifo", "strict", "green_burst")


def appointment_due(entry: QueueEntry, now: datetime) -> bool:
    return (
        entry.channel is Channel.APPOINTMENT
        and entry.slot_start is not None
        and entry.slot_end is not None
        and entry.slot_start <= now < entry.slot_end
    )


class Policy(Protocol):
    @property
    def params(self) -> PolicyParams: ...

    def order(
        self, waiting: Iterable[QueueEntry], state: PolicyState, now: datetime
    ) -> Iterator[QueueEntry]:
        """Yield waiting tickets in the order a single counter would call them."""
        ...


def _key(e: QueueEntry) -> tuple[datetime, int]:
    return (e.issued_at, e.ticket_id)


@dataclass
class _Lanes:
    due: list[QueueEntry] = field(default_factory=list)
    normal: list[QueueEntry] = field(default_factory=list)
    green: list[QueueEntry] = field(default_factory=list)


def _split(waiting: Iterable[QueueEntry], now: datetime, green_lane: bool) -> _Lanes:
    lanes = _Lanes()
    for e in waiting:
        if appointment_due(e, now):
            lanes.due.append(e)
        elif green_lane and e.channel is Channel.GREEN:
            lanes.green.append(e)
        else:
            # Appointments outside their slot wait like walk-ins, by check-in time.
            lanes.normal.append(e)
    lanes.due.sort(key=_key)
    lanes.normal.sort(key=_key)
    lanes.green.sort(key=_key)
    return lanes


@dataclass(frozen=True)
class FifoPolicy:
    params: PolicyParams = PolicyParams(name="fifo")

    def order(
        self, waiting: Iterable[QueueEntry], state: PolicyState, now: datetime
    ) -> Iterator[QueueEntry]:
        lanes = _split(waiting, now, green_lane=False)
        yield from lanes.due
        yield from lanes.normal


@dataclass(frozen=True)
class StrictPolicy:
    """Green always first (no burst limit, no aging): the comparison baseline."""

    params: PolicyParams = PolicyParams(name="strict")

    def order(
        self, waiting: Iterable[QueueEntry], state: PolicyState, now: datetime
    ) -> Iterator[QueueEntry]:
        lanes = _split(waiting, now, green_lane=True)
        yield from lanes.due
        yield from lanes.green
        yield from lanes.normal


@dataclass(frozen=True)
class GreenBurstPolicy:
    """Green first, at most ``green_burst`` in a row while a normal ticket waits,
    and a normal ticket past ``max_wait_minutes`` overtakes greens issued after it."""

    params: PolicyParams = PolicyParams()
    local_time: Callable[[datetime], time | None] = lambda _now: None

    def order(
        self, waiting: Iterable[QueueEntry], state: PolicyState, now: datetime
    ) -> Iterator[QueueEntry]:
        lanes = _split(waiting, now, green_lane=True)
        yield from lanes.due
        burst = self.params.burst_at(self.local_time(now))
        max_wait = timedelta(minutes=self.params.max_wait_minutes)
        consecutive = state.consecutive_green
        n = g = 0
        normal, green = lanes.normal, lanes.green
        while n < len(normal) or g < len(green):
            if g >= len(green):
                pick_green = False
            elif n >= len(normal):
                pick_green = True
            else:
                head = normal[n]
                aged = now - head.issued_at > max_wait and _key(head) < _key(green[g])
                pick_green = not aged and consecutive < burst
            if pick_green:
                yield green[g]
                g += 1
                consecutive += 1
            else:
                yield normal[n]
                n += 1
                consecutive = 0


def make_policy(
    params: PolicyParams, local_time: Callable[[datetime], time | None] | None = None
) -> Policy:
    if params.name == "fifo":
        return FifoPolicy(params)
    if params.name == "strict":
        return StrictPolicy(params)
    if params.name == "green_burst":
        return GreenBurstPolicy(params, local_time or (lambda _now: None))
    raise ValueError(f"unknown policy {params.name!r}; choose one of {', '.join(POLICY_NAMES)}")


def eligible(entry: QueueEntry, services: frozenset[str] | None, counter_number: int) -> bool:
    """Whether a counter taking ``services`` (None = every item) may call ``entry``."""
    if entry.counter is not None:
        return entry.counter == counter_number
    return services is None or entry.service in services


def pick_next(
    policy: Policy,
    waiting: Sequence[QueueEntry],
    state: PolicyState,
    now: datetime,
    services: frozenset[str] | None,
    counter_number: int,
) -> QueueEntry | None:
    """The ticket the counter should call, or None when nobody it serves is waiting."""
    candidates = [e for e in waiting if eligible(e, services, counter_number)]
    return next(policy.order(candidates, state, now), None)


def after_call(state: PolicyState, called: QueueEntry) -> PolicyState:
    """The policy state after ``called`` was called (by call-next or by number)."""
    if called.channel is Channel.GREEN:
        return replace(state, consecutive_green=state.consecutive_green + 1)
    return replace(state, consecutive_green=0)
