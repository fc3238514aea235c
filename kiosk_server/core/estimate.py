"""Wait estimates: how many are ahead of a ticket and how long it will wait.

The estimator sits behind one small interface so that the simulator can measure
it and a better one can replace it without touching the callers.
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kiosk_server.core.policy import QueueEntry


@dataclass(frozen=True)
class CounterLoad:
    """An open counter as the estimator sees it."""

    number: int
    services: frozenset[str] | None  # None: every item (comprehensive teller)
    busy_service: str | None = None  # item of the ticket called or being served there
    busy_elapsed_minutes: float = 0.0
    # A counter that opens later today (after lunch, a second shift) is free from
    # then on; one that closes soon starts nothing at or after ``closes_in``.
    # The same counter number may appear once per shift.
    available_in_minutes: float = 0.0
    closes_in_minutes: float | None = None

    def takes(self, entry: QueueEntry) -> bool:
        if entry.counter is not None:
            return entry.counter == self.number
        return self.services is None or entry.service in self.services


@dataclass(frozen=True)
class ServiceTimes:
    """Typical service minutes per item, from history, with a fallback per item."""

    typical: Mapping[str, float] = field(default_factory=dict)
    fallback: Mapping[str, float] = field(default_factory=dict)
    default_minutes: float = 6.0
    # Recent service minutes per item, for the time left of a transaction in progress.
    samples: Mapping[str, Sequence[float]] = field(default_factory=dict)

    def minutes(self, service: str) -> float:
        if service in self.typical:
            return self.typical[service]
        return self.fallback.get(service, self.default_minutes)


def robust_typical(samples: Sequence[float], min_samples: int = 5) -> float | None:
    """A trimmed mean of recent service times: one forgotten 'finish' press that
    left a transaction open for an hour must not double everyone's estimate."""
    if len(samples) < min_samples:
        return None
    ordered = sorted(samples)
    cut = len(ordered) // 10
    kept = ordered[cut : len(ordered) - cut] if cut else ordered
    return statistics.fmean(kept)


def residual_minutes(typical: float, elapsed: float) -> float:
    """Expected time left for a transaction already ``elapsed`` minutes in.

    Past its typical length a transaction is still expected to take a little
    longer, not to be over at once.
    """
    left = typical - elapsed
    return max(left, typical * 0.2)


class WaitEstimator(Protocol):
    def estimate(
        self, ordered: Sequence[QueueEntry], counters: Sequence[CounterLoad]
    ) -> list[float | None]:
        """Minutes each ticket of ``ordered`` (policy order) is expected to wait
        from now; None where no open counter takes its item."""
        ...


@dataclass(frozen=True)
class DispatchEstimator:
    """Replays the queue in policy order onto the open counters: each ticket goes
    to the eligible counter that frees up first and keeps it for the item's
    typical service time."""

    times: ServiceTimes = ServiceTimes()
    # Calling, walking up and the no-shows' recalls add a little per ticket.
    handover_minutes: float = 0.5

    def estimate(
        self, ordered: Sequence[QueueEntry], counters: Sequence[CounterLoad]
    ) -> list[float | None]:
        # One slot per counter shift: (free at, index). A shift that closes
        # before it would free up is dropped for good.
        heap: list[tuple[float, int]] = []
        for i, c in enumerate(counters):
            free = c.available_in_minutes
            if c.busy_service is not None:
                free = max(
                    free,
                    residual_minutes(self.times.minutes(c.busy_service), c.busy_elapsed_minutes),
                )
            heap.append((free, i))
        heapq.heapify(heap)
        out: list[float | None] = []
        for entry in ordered:
            # Pop counters until one takes this item; push the others back.
            skipped: list[tuple[float, int]] = []
            chosen: tuple[float, int] | None = None
            while heap:
                cand = heapq.heappop(heap)
                load = counters[cand[1]]
                if load.closes_in_minutes is not None and cand[0] >= load.closes_in_minutes:
                    continue
                if load.takes(entry):
                    chosen = cand
                    break
                skipped.append(cand)
            for s in skipped:
                heapq.heappush(heap, s)
            if chosen is None:
                out.append(None)
                continue
            start, i = chosen
            out.append(start)
            heapq.heappush(
                heap, (start + self.times.minutes(entry.service) + self.handover_minutes, i)
            )
        return out


def naive_estimate(ahead: int, mean_service_minutes: float, open_counters: int) -> float | None:
    """The estimate most queue systems print: ahead x mean service / counters."""
    if open_counters <= 0:
        return None
    return ahead * mean_service_minutes / open_counters


def count_ahead(ordered: Sequence[QueueEntry], index: int, counters: Sequence[CounterLoad]) -> int:
    """Tickets before ``ordered[index]`` that compete for the same counters."""
    me = ordered[index]
    mine = [c for c in counters if c.takes(me)]
    if not mine:
        return index
    return sum(1 for e in ordered[:index] if any(c.takes(e) for c in mine))
