"""``hallq simulate``: run the real queue core over simulated hall days.

Virtual time, no I/O: arrivals, service times, elderly residents and no-shows
are drawn from a scenario (``hardware_sim/scenario.py``); calls go through the
core's own policy (``make_policy``/``pick_next``/``after_call``), transitions
through ``next_state`` and estimates at issue through the core's
``DispatchEstimator`` fed with the service-time history the simulated hall has
built so far, exactly as the server feeds it from the database.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
import sys
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from hardware_sim.scenario import CounterSpec, Scenario, ScenarioError, load_scenario
from kiosk_server.core.estimate import (
    CounterLoad,
    DispatchEstimator,
    GreenOutlook,
    ServiceTimes,
    WaitEstimator,
    count_ahead,
    naive_estimate,
    robust_typical,
)
from kiosk_server.core.policy import (
    POLICY_NAMES,
    Policy,
    PolicyParams,
    PolicyState,
    QueueEntry,
    after_call,
    make_policy,
    pick_next,
)
from kiosk_server.core.states import MAX_RECALLS, Action, Channel, TicketState, next_state

BASE_DATE = date(2026, 11, 23)  # a Monday; the date only names the days
# Per-item history the estimator sees, like the server's 14-day window.
HISTORY_SAMPLES = 300


@dataclass(frozen=True)
class Arrival:
    minute: float  # since local midnight
    item: str
    green: bool
    service_minutes: float  # how long this resident's transaction will take
    no_show: bool


def lognormal(rng: random.Random, mean: float, sd: float) -> float:
    """A lognormal draw with the given mean and standard deviation."""
    if sd <= 0:
        return mean
    s2 = math.log(1.0 + (sd / mean) ** 2)
    return rng.lognormvariate(math.log(mean) - s2 / 2.0, math.sqrt(s2))


def generate_day(scenario: Scenario, seed: int, day: int) -> list[Arrival]:
    """One day's arrivals: a non-homogeneous Poisson process per item (rate
    constant within each hour), each resident's attributes drawn on arrival.
    Depends only on (scenario, seed, day), so every policy sees the same day."""
    rng = random.Random(f"hallq-sim:{seed}:{day}")
    out: list[Arrival] = []
    for item in scenario.items:
        for hour in scenario.hours():
            rate = item.rate_at(hour)
            start = max(hour * 60, scenario.open_minute)
            end = min(hour * 60 + 60, scenario.close_minute)
            if rate <= 0 or end <= start:
                continue
            t = float(start)
            while True:
                t += rng.expovariate(rate / 60.0)
                if t >= end:
                    break
                out.append(
                    Arrival(
                        minute=t,
                        item=item.code,
                        green=rng.random() < scenario.elderly_share(hour),
                        service_minutes=lognormal(
                            rng, item.service_minutes.mean, item.service_minutes.sd
                        ),
                        no_show=rng.random() < scenario.no_show_rate,
                    )
                )
    out.sort(key=lambda a: (a.minute, a.item))
    return out


@dataclass
class SimTicket:
    id: int
    day: int
    number: str
    item: str
    green: bool
    issued: float
    service_minutes: float
    no_show: bool
    entry: QueueEntry
    state: TicketState = TicketState.WAITING
    called: float | None = None
    started: float | None = None
    finished: float | None = None
    counter: int | None = None
    estimate: float | None = None
    naive: float | None = None
    ahead: int = 0

    @property
    def wait(self) -> float | None:
        return None if self.called is None else self.called - self.issued


@dataclass
class _Counter:
    spec: CounterSpec
    overtime: bool  # its last shift ends at closing time: it serves the queue out
    ticket: SimTicket | None = None
    busy_since: float = 0.0

    @property
    def last_end(self) -> int:
        return self.spec.hours[-1][1]

    def accepting(self, t: float) -> bool:
        return self.spec.open_at(t) or (self.overtime and t >= self.last_end)


EstimatorFactory = Callable[[ServiceTimes, GreenOutlook | None], WaitEstimator]


def default_estimator(times: ServiceTimes, outlook: GreenOutlook | None) -> WaitEstimator:
    return DispatchEstimator(times, green_outlook=outlook)


# The window over which the recent green-ticket rate is measured.
GREEN_RATE_WINDOW = 60.0


@dataclass
class History:
    """Service minutes of finished transactions per item, newest last."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    typical: dict[str, float] = field(default_factory=dict)

    def add(self, item: str, minutes: float) -> None:
        kept = self.samples.setdefault(item, [])
        kept.append(minutes)
        if len(kept) > HISTORY_SAMPLES:
            del kept[0]
        value = robust_typical(kept)
        if value is not None:
            self.typical[item] = value

    def service_times(self, scenario: Scenario) -> ServiceTimes:
        typical = dict(self.typical)
        # Same fallback as the server: 60 % of the item's target.
        fallback = {it.code: max(1.0, 0.6 * it.target_minutes) for it in scenario.items}
        return ServiceTimes(
            typical=typical,
            fallback=fallback,
            samples={k: tuple(v) for k, v in self.samples.items()},
        )


_FREE, _ARRIVAL, _TICK = 0, 1, 2


class DaySimulation:
    """One hall day in virtual minutes since local midnight."""

    def __init__(
        self,
        scenario: Scenario,
        policy: Policy,
        arrivals: Sequence[Arrival],
        day: int,
        history: History,
        estimator: EstimatorFactory,
        first_id: int = 1,
    ) -> None:
        self.scenario = scenario
        self.policy = policy
        self.day = day
        self.base = datetime.combine(BASE_DATE + timedelta(days=day), time())
        self.history = history
        self.estimator_factory = estimator
        self.state = PolicyState()
        self.counters = [
            _Counter(c, overtime=c.hours[-1][1] >= scenario.close_minute)
            for c in sorted(scenario.counters, key=lambda c: c.number)
        ]
        self.waiting: dict[int, SimTicket] = {}
        self.tickets: list[SimTicket] = []
        self.seq: dict[str, int] = {}
        self.prefix = {it.code: it.prefix for it in scenario.items}
        self.mean_service = scenario.mean_service_minutes()
        self._times: ServiceTimes | None = None
        self._events: list[tuple[float, int, int, int]] = []
        self._n = 0
        self._next_id = first_id
        self._arrivals = list(arrivals)
        for i, a in enumerate(self._arrivals):
            self._push(a.minute, _ARRIVAL, i)
        for idx, c in enumerate(self.counters):
            for start, end in c.spec.hours:
                self._push(float(start), _TICK, idx)
                self._push(float(end), _TICK, idx)

    def _push(self, t: float, kind: int, payload: int) -> None:
        self._n += 1
        heapq.heappush(self._events, (t, kind, self._n, payload))

    def _now(self, t: float) -> datetime:
        return self.base + timedelta(minutes=t)

    def times(self) -> ServiceTimes:
        if self._times is None:
            self._times = self.history.service_times(self.scenario)
        return self._times

    def run(self) -> list[SimTicket]:
        while self._events:
            t, kind, _, payload = heapq.heappop(self._events)
            if kind == _FREE:
                self._free(self.counters[payload], t)
            elif kind == _ARRIVAL:
                self._issue(self._arrivals[payload], t)
            self._dispatch(t)
        return self.tickets

    # -- events ---------------------------------------------------------------

    def _issue(self, a: Arrival, t: float) -> None:
        n = self.seq.get(a.item, 0) + 1
        self.seq[a.item] = n
        tid = self._next_id
        self._next_id += 1
        number = f"{self.prefix[a.item]}{n:03d}"
        entry = QueueEntry(
            ticket_id=tid,
            number=number,
            service=a.item,
            channel=Channel.GREEN if a.green else Channel.NORMAL,
            issued_at=self._now(t),
        )
        ticket = SimTicket(
            id=tid,
            day=self.day,
            number=number,
            item=a.item,
            green=a.green,
            issued=t,
            service_minutes=a.service_minutes,
            no_show=a.no_show,
            entry=entry,
        )
        self.waiting[tid] = ticket
        self.tickets.append(ticket)
        self._estimate(ticket, t)

    def _estimate(self, ticket: SimTicket, t: float) -> None:
        entries = [w.entry for w in self.waiting.values()]
        ordered = list(self.policy.order(entries, self.state, self._now(t)))
        index = next(i for i, e in enumerate(ordered) if e.ticket_id == ticket.id)
        loads = self.loads(t)
        estimator = self.estimator_factory(self.times(), self.outlook(t))
        estimates = estimator.estimate(ordered, loads)
        ticket.estimate = estimates[index]
        # The naive figure sees only the counters open right now, like most systems.
        open_now = [c for c in loads if c.available_in_minutes <= 0]
        ticket.ahead = count_ahead(ordered, index, open_now)
        ticket.naive = naive_estimate(ticket.ahead, self.mean_service, len(open_now))

    def outlook(self, t: float) -> GreenOutlook | None:
        """Greens to come, from the rate seen over the last hour (as the server can)."""
        since = max(float(self.scenario.open_minute), t - GREEN_RATE_WINDOW)
        recent = [k for k in reversed(self.tickets) if k.issued >= since]
        greens = [k for k in recent if k.green]
        if not greens:
            return None
        span = max(t - since, 10.0)  # a few minutes after opening say little about the rate
        times = self.times()
        return GreenOutlook.for_policy(
            self.policy.params,
            self._now(t),
            per_minute=len(greens) / span,
            service_minutes=sum(times.minutes(k.item) for k in greens) / len(greens),
            until_minutes=self.scenario.close_minute - t,
            local_time=self._now(t).time(),
        )

    def loads(self, t: float) -> list[CounterLoad]:
        """Every shift still to come today, as the estimator sees counters."""
        out: list[CounterLoad] = []
        for c in self.counters:
            for start, end in c.spec.hours:
                if end <= t and not (c.overtime and end == c.last_end):
                    continue
                closes = None if (c.overtime and end == c.last_end) else end - t
                if start <= t:
                    if not c.accepting(t):
                        continue
                    busy = c.ticket
                    elapsed = 0.0
                    if busy is not None:
                        since = busy.started if busy.started is not None else busy.called
                        elapsed = max(0.0, t - (since if since is not None else t))
                    out.append(
                        CounterLoad(
                            number=c.spec.number,
                            services=c.spec.services,
                            busy_service=busy.item if busy is not None else None,
                            busy_elapsed_minutes=elapsed,
                            closes_in_minutes=closes,
                        )
                    )
                else:
                    out.append(
                        CounterLoad(
                            number=c.spec.number,
                            services=c.spec.services,
                            available_in_minutes=start - t,
                            closes_in_minutes=closes,
                        )
                    )
        return out

    def _dispatch(self, t: float) -> None:
        if not self.waiting:
            return
        for idx, c in enumerate(self.counters):
            if c.ticket is not None or not c.accepting(t) or not self.waiting:
                continue
            entries = [w.entry for w in self.waiting.values()]
            chosen = pick_next(
                self.policy, entries, self.state, self._now(t), c.spec.services, c.spec.number
            )
            if chosen is None:
                continue
            self._call(idx, self.waiting.pop(chosen.ticket_id), t)

    def _call(self, idx: int, ticket: SimTicket, t: float) -> None:
        c = self.counters[idx]
        s = self.scenario
        ticket.state = next_state(ticket.state, Action.CALL)
        ticket.called = t
        ticket.counter = c.spec.number
        self.state = after_call(self.state, ticket.entry)
        if ticket.no_show:
            recalls = min(s.recalls_before_no_show, MAX_RECALLS)
            for r in range(recalls):
                ticket.state = next_state(ticket.state, Action.RECALL, recalls=r)
            ticket.state = next_state(ticket.state, Action.NO_SHOW)
            busy_for = (1 + recalls) * s.recall_minutes
        else:
            ticket.state = next_state(ticket.state, Action.START)
            ticket.started = t + s.walk_up_minutes
            busy_for = s.walk_up_minutes + ticket.service_minutes
        c.ticket = ticket
        c.busy_since = t
        self._push(t + busy_for, _FREE, idx)

    def _free(self, c: _Counter, t: float) -> None:
        ticket = c.ticket
        c.ticket = None
        if ticket is None or ticket.state is TicketState.NO_SHOW:
            return
        ticket.state = next_state(ticket.state, Action.FINISH)
        ticket.finished = t
        if ticket.started is not None:
            self.history.add(ticket.item, t - ticket.started)
            self._times = None


@dataclass
class SimResult:
    scenario: Scenario
    params: PolicyParams
    days: int
    seed: int
    tickets: list[SimTicket]

    def summary(self) -> dict[str, Any]:
        return summarize(self)


def run(
    scenario: Scenario,
    params: PolicyParams,
    days: int = 1,
    seed: int = 1,
    estimator: EstimatorFactory = default_estimator,
    arrivals: Callable[[int], Sequence[Arrival]] | None = None,
) -> SimResult:
    """Simulate ``days`` days; history carries over from day to day."""
    policy = make_policy(params, lambda now: now.time())
    history = History()
    tickets: list[SimTicket] = []
    for day in range(days):
        day_arrivals = arrivals(day) if arrivals else generate_day(scenario, seed, day)
        sim = DaySimulation(
            scenario, policy, day_arrivals, day, history, estimator, first_id=len(tickets) + 1
        )
        tickets.extend(sim.run())
    return SimResult(scenario, params, days, seed, tickets)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100): a value that actually occurred."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)


def _mae(pairs: Sequence[tuple[float, float]]) -> float | None:
    if not pairs:
        return None
    return sum(abs(a - b) for a, b in pairs) / len(pairs)


def summarize(result: SimResult) -> dict[str, Any]:
    called = [t for t in result.tickets if t.called is not None]
    waits = [t.wait for t in called if t.wait is not None]
    elderly = [t.wait for t in called if t.green and t.wait is not None]
    normal = [t.wait for t in called if not t.green and t.wait is not None]
    est = [(t.estimate, t.wait) for t in called if t.estimate is not None and t.wait is not None]
    naive = [(t.naive, t.wait) for t in called if t.naive is not None and t.wait is not None]
    # Both estimators over the same tickets, so the comparison is like for like.
    both = [
        (t.estimate, t.naive, t.wait)
        for t in called
        if t.estimate is not None and t.naive is not None and t.wait is not None
    ]
    return {
        "scenario": result.scenario.name,
        "policy": result.params.name,
        "days": result.days,
        "seed": result.seed,
        "tickets": len(result.tickets),
        "called": len(called),
        "served": sum(1 for t in result.tickets if t.state is TicketState.DONE),
        "no_shows": sum(1 for t in result.tickets if t.state is TicketState.NO_SHOW),
        "unserved": sum(1 for t in result.tickets if t.called is None),
        "elderly_tickets": sum(1 for t in result.tickets if t.green),
        "elderly_wait_p90_min": _r(percentile(elderly, 90)),
        "normal_wait_p90_min": _r(percentile(normal, 90)),
        "normal_wait_max_min": _r(max(normal) if normal else None),
        "all_wait_mean_min": _r(sum(waits) / len(waits) if waits else None),
        "all_wait_p90_min": _r(percentile(waits, 90)),
        "all_wait_max_min": _r(max(waits) if waits else None),
        "within_15_min_share": _r(
            sum(1 for w in waits if w <= 15.0) / len(waits) if waits else None, 4
        ),
        "estimate_mae_min": _r(_mae(est)),
        "estimate_bias_min": _r(sum(e - w for e, w in est) / len(est) if est else None),
        "naive_estimate_mae_min": _r(_mae(naive)),
        "estimated_tickets": len(est),
        "naive_estimated_tickets": len(naive),
        "estimate_mae_common_min": _r(_mae([(e, w) for e, _n, w in both])),
        "naive_estimate_mae_common_min": _r(_mae([(n, w) for _e, n, w in both])),
    }


# -- command line -----------------------------------------------------------


def _span(text: str) -> tuple[time, time]:
    try:
        a, b = text.split("-")
        return time.fromisoformat(a), time.fromisoformat(b)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a span like 08:30-10:30") from None


def add_policy_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", choices=POLICY_NAMES, default="green_burst")
    p.add_argument(
        "--green-burst", type=int, default=2, help="greens called in a row at most (green_burst)"
    )
    p.add_argument(
        "--max-wait",
        type=int,
        default=30,
        help="minutes after which a normal ticket overtakes later greens (green_burst)",
    )
    p.add_argument("--peak-green-burst", type=int, help="a longer burst during --peak")
    p.add_argument("--peak", type=_span, help="elderly peak span, e.g. 08:30-10:30")


def policy_params(args: argparse.Namespace, name: str | None = None) -> PolicyParams:
    peak: tuple[time, time] | None = args.peak
    return PolicyParams(
        name=name or args.policy,
        green_burst=args.green_burst,
        max_wait_minutes=args.max_wait,
        peak_green_burst=args.peak_green_burst,
        peak_start=peak[0] if peak else None,
        peak_end=peak[1] if peak else None,
    )


ROWS = [
    ("tickets", "tickets"),
    ("served", "served"),
    ("no_shows", "no-shows"),
    ("unserved", "unserved"),
    ("elderly_wait_p90_min", "elderly wait p90 (min)"),
    ("normal_wait_p90_min", "normal wait p90 (min)"),
    ("normal_wait_max_min", "normal wait max (min)"),
    ("all_wait_mean_min", "all wait mean (min)"),
    ("all_wait_p90_min", "all wait p90 (min)"),
    ("within_15_min_share", "waited <= 15 min"),
    ("estimate_mae_min", "estimate MAE (min)"),
    ("naive_estimate_mae_min", "naive estimate MAE (min)"),
]


def format_table(summaries: Sequence[dict[str, Any]]) -> str:
    head = ["", *[str(s["policy"]) for s in summaries]]
    rows = [head]
    for key, label in ROWS:
        cells = [label]
        for s in summaries:
            v = s.get(key)
            if v is None:
                cells.append("-")
            elif key == "within_15_min_share":
                cells.append(f"{100 * v:.1f} %")
            elif isinstance(v, float):
                cells.append(f"{v:.2f}")
            else:
                cells.append(str(v))
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = []
    for n, r in enumerate(rows):
        lines.append(
            "  ".join(
                r[i].ljust(widths[i]) if i == 0 else r[i].rjust(widths[i]) for i in range(len(r))
            ).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="hallq simulate",
        description="Simulate hall days with the real queue core and report waits and "
        "how good the wait estimates are.",
    )
    p.add_argument(
        "scenario", help="scenario JSON file, or a bundled name (village, township, peak)"
    )
    add_policy_args(p)
    p.add_argument("--days", type=int, default=5)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--compare", action="store_true", help="every policy on the same arrivals")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.days < 1:
        p.error("--days must be at least 1")
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"hallq simulate: {exc}", file=sys.stderr)
        return 2
    names = list(POLICY_NAMES) if args.compare else [args.policy]
    began = _time.perf_counter()
    summaries = [
        run(scenario, policy_params(args, name), args.days, args.seed).summary() for name in names
    ]
    elapsed = _time.perf_counter() - began
    if args.json:
        out: Any = (
            {"scenario": scenario.name, "results": summaries} if args.compare else summaries[0]
        )
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(f"{scenario.name}: {args.days} day(s), seed {args.seed}")
        print(format_table(summaries))
        days = args.days * len(names)
        print(f"\n{days} simulated day(s) in {elapsed:.2f} s ({days / elapsed:.0f} days/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
