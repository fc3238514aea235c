"""Wait estimates: how many are ahead of a ticket and how long it will wait.

The estimator sits behind one small interface so that the simulator can measure
it and a better one can replace it without touching the callers.
"""

from __future__ import annotations

import bisect
import heapq
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from functools import cached_property
from typing import Literal, Protocol

from kiosk_server.core.policy import PolicyParams, QueueEntry
from kiosk_server.core.states import Channel


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

    def residual(self, service: str, elapsed: float, min_samples: int = 5) -> float:
        """Expected minutes left of a transaction of ``service`` ``elapsed`` minutes in:
        E[T - elapsed | T > elapsed] over the item's history when enough of it
        ran that long, else a rule of thumb."""
        tail = self._tail(service)
        if tail is not None:
            ordered, suffix = tail
            i = bisect.bisect_right(ordered, elapsed)
            longer = len(ordered) - i
            if longer >= min_samples:
                return suffix[i] / longer - elapsed
        return residual_minutes(self.minutes(service), elapsed)

    @cached_property
    def _tails(self) -> dict[str, tuple[list[float], list[float]] | None]:
        return {}

    def _tail(self, service: str) -> tuple[list[float], list[float]] | None:
        """The item's samples without outliers, sorted, with suffix sums (so each
        residual is a binary search), built once per item on first use."""
        if service not in self._tails:
            samples = self.samples.get(service)
            if not samples:
                self._tails[service] = None
            else:
                ordered = sorted(_without_outliers(samples))
                suffix = [0.0] * (len(ordered) + 1)
                for i in range(len(ordered) - 1, -1, -1):
                    suffix[i] = suffix[i + 1] + ordered[i]
                self._tails[service] = (ordered, suffix)
        return self._tails[service]


def robust_typical(samples: Sequence[float], min_samples: int = 5) -> float | None:
    """The mean of recent service times without the outliers.

    One forgotten 'finish' press that left a transaction open for an hour must
    not double everyone's estimate, but a trimmed mean would also cut the long
    right tail that service times really have and so under-estimate every wait.
    So only samples far above the bulk (median + 5 robust sds, MAD-based) go.
    """
    if len(samples) < min_samples:
        return None
    kept = _without_outliers(samples)
    return statistics.fmean(kept)


def _without_outliers(samples: Sequence[float]) -> list[float]:
    median = statistics.median(samples)
    mad = statistics.median(abs(x - median) for x in samples)
    limit = median + 5.0 * 1.4826 * mad
    return [x for x in samples if x <= limit] or [median]


def residual_minutes(typical: float, elapsed: float) -> float:
    """Expected time left for a transaction already ``elapsed`` minutes in.

    Past its typical length a transaction is still expected to take a little
    longer, not to be over at once.
    """
    left = typical - elapsed
    return max(left, typical * 0.2)


def residual_from_samples(
    samples: Sequence[float], elapsed: float, min_samples: int = 5
) -> float | None:
    """E[T - elapsed | T > elapsed] over the item's history: a transaction that
    has already run long is, by the history's own tail, likely to run on."""
    longer = [x - elapsed for x in _without_outliers(samples) if x > elapsed]
    if len(longer) < min_samples:
        return None
    return statistics.fmean(longer)


class WaitEstimator(Protocol):
    def estimate(
        self, ordered: Sequence[QueueEntry], counters: Sequence[CounterLoad]
    ) -> list[float | None]:
        """Minutes each ticket of ``ordered`` (policy order) is expected to wait
        from now; None where no open counter takes its item."""
        ...


GREEN_RATE_SHRINK = 0.75


@dataclass(frozen=True)
class GreenOutlook:
    """Green-channel tickets still to come. Under a green-first policy they
    overtake normal tickets that are already waiting, so an estimate that only
    replays today's queue is too short for exactly the people who wait longest.
    """

    now: datetime
    per_minute: float  # recent rate of green tickets being issued
    service_minutes: float  # a green transaction's typical length
    burst: int | None = None  # greens called in a row at most; None: no limit (strict)
    max_wait_minutes: float | None = None  # an older normal ticket is not overtaken any more
    until_minutes: float | None = None  # tickets stop being issued then (closing time)

    @classmethod
    def for_policy(
        cls,
        params: PolicyParams,
        now: datetime,
        per_minute: float,
        service_minutes: float,
        until_minutes: float | None = None,
        local_time: time | None = None,
    ) -> GreenOutlook | None:
        """The outlook under a policy, or None where greens do not overtake (fifo).

        The recent rate is shrunk: arrivals fall off after the morning peak that
        the last hour's rate was measured in, and a replay that lets every
        expected green overtake over-estimates (measured with ``hallq simulate``).
        """
        if params.name == "fifo" or per_minute <= 0:
            return None
        per_minute *= GREEN_RATE_SHRINK
        if params.name == "strict":
            return cls(now, per_minute, service_minutes, until_minutes=until_minutes)
        return cls(
            now,
            per_minute,
            service_minutes,
            burst=params.burst_at(local_time),
            max_wait_minutes=float(params.max_wait_minutes),
            until_minutes=until_minutes,
        )


@dataclass(frozen=True)
class DispatchEstimator:
    """Replays the queue in policy order onto the open counters: each ticket goes
    to the eligible counter that frees up first and keeps it for the item's
    typical service time. With a ``green_outlook`` the greens expected to arrive
    meanwhile are slotted in ahead of normal tickets as the policy would."""

    times: ServiceTimes = ServiceTimes()
    # Calling, walking up and the no-shows' recalls add a little per ticket.
    handover_minutes: float = 0.5
    green_outlook: GreenOutlook | None = None

    def estimate(
        self, ordered: Sequence[QueueEntry], counters: Sequence[CounterLoad]
    ) -> list[float | None]:
        # One slot per counter shift: (free at, index). A shift that closes
        # before it would free up is dropped for good.
        heap: list[tuple[float, int]] = []
        for i, c in enumerate(counters):
            free = c.available_in_minutes
            if c.busy_service is not None:
                free = max(free, self.times.residual(c.busy_service, c.busy_elapsed_minutes))
            heap.append((free, i))
        heapq.heapify(heap)
        outlook = self.green_outlook
        greens_left = sum(1 for e in ordered if e.channel is Channel.GREEN)
        next_green = 1.0 / outlook.per_minute if outlook is not None else math.inf
        consecutive = 0
        out: list[float | None] = []
        for entry in ordered:
            if entry.channel is Channel.GREEN:
                greens_left -= 1
            elif outlook is not None and greens_left == 0:
                # Virtual greens come after every real one; each overtakes this
                # ticket if it has arrived by the time the ticket would be called.
                while outlook.burst is None or consecutive < outlook.burst:
                    start = self._peek(heap, counters, entry)
                    if start is None or next_green > start:
                        break
                    if outlook.until_minutes is not None and next_green > outlook.until_minutes:
                        break
                    age = (outlook.now - entry.issued_at).total_seconds() / 60.0 + start
                    if outlook.max_wait_minutes is not None and age > outlook.max_wait_minutes:
                        break
                    if not self._assign(heap, counters, None, outlook.service_minutes):
                        break
                    consecutive += 1
                    next_green += 1.0 / outlook.per_minute
            start_at = self._assign(
                heap, counters, entry, self.times.minutes(entry.service), record=True
            )
            out.append(start_at if start_at is not False else None)
            consecutive = consecutive + 1 if entry.channel is Channel.GREEN else 0
        return out

    @staticmethod
    def _usable(load: CounterLoad, free: float) -> bool:
        return load.closes_in_minutes is None or free < load.closes_in_minutes

    def _peek(
        self, heap: list[tuple[float, int]], counters: Sequence[CounterLoad], entry: QueueEntry
    ) -> float | None:
        """When ``entry`` would start, without assigning it."""
        best: float | None = None
        for free, i in heap:
            load = counters[i]
            if self._usable(load, free) and load.takes(entry) and (best is None or free < best):
                best = free
        return best

    def _assign(
        self,
        heap: list[tuple[float, int]],
        counters: Sequence[CounterLoad],
        entry: QueueEntry | None,
        minutes: float,
        record: bool = False,
    ) -> float | Literal[False]:
        """Give the earliest eligible counter to ``entry`` (None: a virtual green
        for any counter); return its start, or False when no counter takes it."""
        skipped: list[tuple[float, int]] = []
        chosen: tuple[float, int] | None = None
        while heap:
            cand = heapq.heappop(heap)
            load = counters[cand[1]]
            if not self._usable(load, cand[0]):
                continue
            if entry is None or load.takes(entry):
                chosen = cand
                break
            skipped.append(cand)
        for s in skipped:
            heapq.heappush(heap, s)
        if chosen is None:
            return False
        start, i = chosen
        heapq.heappush(heap, (start + minutes + self.handover_minutes, i))
        return start


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


def ahead_counts(ordered: Sequence[QueueEntry], counters: Sequence[CounterLoad]) -> list[int]:
    """:func:`count_ahead` for every position in one pass (a queue listing, a
    batch of issues), rather than one pass per position. Each entry's counters
    are a bitmask; an entry competes with the earlier entries whose mask meets
    its own."""
    masks: dict[tuple[str, int | None], int] = {}
    earlier: dict[int, int] = {}  # mask -> how many earlier entries have it
    out: list[int] = []
    for i, e in enumerate(ordered):
        key = (e.service, e.counter)
        mask = masks.get(key)
        if mask is None:
            mask = sum(1 << bit for bit, c in enumerate(counters) if c.takes(e))
            masks[key] = mask
        out.append(sum(n for m, n in earlier.items() if m & mask) if mask else i)
        earlier[mask] = earlier.get(mask, 0) + 1
    return out
