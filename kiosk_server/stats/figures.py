"""The standard's figures for a hall over a period: pure functions over plain records.

Nothing here touches the database: the repository turns rows into
``TicketRecord``/``RatingRecord`` and everything else (API, dashboard, CSV/XLSX
reports, CLI) reads the ``Report`` built here, so every place shows the same
numbers.

Conventions (written down because reports are compared by hand):
- A resident counts once: "issued" counts original tickets, not the copies a
  transfer creates. "Served" counts finished rows (a transferred resident who
  is then finished is served once, at the counter that finished them).
- Wait = first call - original issue time, for original tickets that were called.
- Service time of a finished row = the sum of its serving segments (start to
  hold, call-back start to finish): time held (挂起) while the resident fetches
  a paper is not counted, and no segment is lost (see core.timing.ServingClock).
  A record without that sum (history written straight into the database) is
  timed finish - start.
- Outcomes (办理结果) count finished rows by the outcome the counter chose:
  办结, 容缺受理 (accepted with papers missing), 一次性告知 (told once what to
  bring), 帮办代办 (proxy case opened); transferred and no-show are counted
  beside them as ``transferred`` and ``no_show``.
- "Over target" compares an instant transaction with its item's own target
  (``target_minutes``, 10 unless an admin changed it); "over 10 min" with the
  standard's 10 minutes, whatever the item's target. With the default
  catalogue the two are the same.
- Every breakdown (item, counter, staff, day, hour) is ``figures()`` over its
  tickets, so each row carries the same set. By hour, a ticket belongs to the
  hour it was issued; ``finished_in_hour`` beside it counts finishes per hour.
- By staff is keyed by user id (two people may share a display name).
- Percentiles use the nearest-rank method: p-th percentile of n sorted values is
  the value at rank ceil(p/100 * n), so they are always an observed value.
- Minutes are rounded to 2 decimals, shares to 4 (0.9523 = 95.23 %).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

INSTANT_STANDARD_MINUTES = 10.0  # instant items: average at most 10 minutes
SATISFACTION_STANDARD = 0.95

RATING_LEVELS: dict[int, str] = {
    5: "非常满意",
    4: "满意",
    3: "基本满意",
    2: "不满意",
    1: "非常不满意",
}
BAD_MAX_SCORE = 2  # 差评: the two lowest levels
SATISFIED_MIN_SCORE = 3  # 好差评 reading: 非常满意 + 满意 + 基本满意
STRICT_MIN_SCORE = 4  # strict reading: the top two levels only

# Outcomes of a finished transaction, in the order the counter page offers them.
OUTCOME_LABELS: dict[str, str] = {
    "completed": "办结",
    "incomplete_papers": "容缺受理",
    "informed": "一次性告知",
    "proxy": "帮办代办",
}

SATISFACTION_LABEL = "满意率（好差评口径：非常满意+满意+基本满意）"
STRICT_SATISFACTION_LABEL = "满意率（严格口径：非常满意+满意）"


@dataclass(frozen=True)
class TicketRecord:
    """One ticket row, as the figures need it (times are aware datetimes)."""

    id: int
    number: str
    service: str  # item code
    service_name: str
    instant: bool
    target_minutes: int
    channel: str  # normal | green | appointment
    state: str
    issued_at: datetime  # original issue time (a transfer copy keeps it)
    first_called_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    counter: int | None = None  # counter number
    staff: str | None = None  # who served it (display name, for labels only)
    outcome: str | None = None
    transferred_from: int | None = None
    # Serving time summed over the segments (None: unknown, use finish - start).
    served_seconds: float | None = None
    # Who served it (user id): the by-staff key, since two people may share a name.
    staff_id: int | None = None

    @property
    def original(self) -> bool:
        return self.transferred_from is None

    @property
    def wait_minutes(self) -> float | None:
        if not self.original or self.first_called_at is None:
            return None
        return max(0.0, (self.first_called_at - self.issued_at).total_seconds() / 60)

    @property
    def service_minutes(self) -> float | None:
        if self.state != "done":
            return None
        if self.served_seconds is not None:
            return max(0.0, self.served_seconds / 60)
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds() / 60)


@dataclass(frozen=True)
class RatingRecord:
    ticket_id: int
    score: int  # 5 = 非常满意 ... 1 = 非常不满意
    created_at: datetime
    service: str | None = None
    counter: int | None = None
    staff: str | None = None
    staff_id: int | None = None


@dataclass(frozen=True)
class FigureInput:
    """Everything the figures are computed from.

    ``extensions`` is the place for figures other packages add (appointments:
    bookings, check-ins, no-shows; follow-ups and proxy cases): they are copied
    into ``Report.extensions`` unchanged so the API, page and reports carry them.
    """

    tickets: Sequence[TicketRecord]
    ratings: Sequence[RatingRecord]
    tz: ZoneInfo
    start: date
    end: date  # inclusive
    # Opening minutes per counter over the period, for utilisation (None: unknown).
    open_minutes: float | None = None
    extensions: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class RatingFigures:
    count: int
    served: int
    rating_rate: float | None  # rated / served
    distribution: dict[str, int]  # label -> count, five levels, best first
    bad: int  # 差评 (two lowest levels)
    satisfaction: float | None  # 好差评 reading
    satisfaction_label: str
    strict_satisfaction: float | None
    strict_satisfaction_label: str
    meets_standard: bool | None  # satisfaction >= 95 %


@dataclass
class Figures:
    """One row of the report: the whole hall, an item, a counter, a staff member, a day, an hour.

    Every breakdown is built by ``figures()``, so each row carries the same set.
    """

    key: str
    label: str
    issued: int
    served: int
    no_show: int
    cancelled: int
    transferred: int
    # Finished rows per outcome (OUTCOME_LABELS' keys, always all four).
    outcomes: dict[str, int]
    waiting_now: int
    wait_count: int
    wait_avg: float | None
    wait_p50: float | None
    wait_p90: float | None
    wait_max: float | None
    service_count: int
    service_avg: float | None
    service_p90: float | None
    instant_served: int
    instant_over_target: int  # over the item's own target
    instant_over_target_share: float | None
    instant_over_10min: int  # over the standard's 10 minutes
    instant_over_10min_share: float | None
    instant_service_avg: float | None
    instant_meets_standard: bool | None  # average instant service time <= 10 min
    green_issued: int
    green_wait_p90: float | None
    normal_wait_p90: float | None
    busy_minutes: float  # sum of service times (counter utilisation)
    utilisation: float | None
    ratings: RatingFigures


@dataclass
class HourFigures(Figures):
    """An hour's figures: the residents who took a ticket in that (local) hour.

    Like every breakdown, the hour's tickets are its residents' whole stories
    (issued at 09:40, served at 10:05: both count for 09:00-10:00). Throughput
    is beside them: ``finished_in_hour`` counts transactions finished in the hour,
    whenever their ticket was issued.
    """

    hour: int  # local hour 0-23
    finished_in_hour: int


@dataclass
class Report:
    start: date
    end: date
    overall: Figures
    by_service: list[Figures]
    by_counter: list[Figures]
    by_staff: list[Figures]
    by_day: list[Figures]
    by_hour: list[HourFigures]
    wait_histogram: list[dict[str, Any]]  # [{"label": "0-5", "count": n}, ...]
    standard: dict[str, float]
    extensions: dict[str, dict[str, Any]]


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _avg(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def rating_figures(ratings: Sequence[RatingRecord], served: int) -> RatingFigures:
    n = len(ratings)
    dist = {label: sum(1 for r in ratings if r.score == s) for s, label in RATING_LEVELS.items()}
    satisfied = sum(1 for r in ratings if r.score >= SATISFIED_MIN_SCORE)
    strict = sum(1 for r in ratings if r.score >= STRICT_MIN_SCORE)
    sat = _share(satisfied, n)
    return RatingFigures(
        count=n,
        served=served,
        rating_rate=_share(n, served),
        distribution=dist,
        bad=sum(1 for r in ratings if r.score <= BAD_MAX_SCORE),
        satisfaction=sat,
        satisfaction_label=SATISFACTION_LABEL,
        strict_satisfaction=_share(strict, n),
        strict_satisfaction_label=STRICT_SATISFACTION_LABEL,
        meets_standard=None if sat is None else sat >= SATISFACTION_STANDARD,
    )


def figures(
    key: str,
    label: str,
    tickets: Sequence[TicketRecord],
    ratings: Sequence[RatingRecord],
    open_minutes: float | None = None,
) -> Figures:
    originals = [t for t in tickets if t.original]
    waits = [w for t in tickets if (w := t.wait_minutes) is not None]
    services = [m for t in tickets if (m := t.service_minutes) is not None]
    instant = [m for t in tickets if t.instant and (m := t.service_minutes) is not None]
    over = sum(
        1
        for t in tickets
        if t.instant and (m := t.service_minutes) is not None and m > t.target_minutes
    )
    over_10 = sum(1 for m in instant if m > INSTANT_STANDARD_MINUTES)
    green_waits = [w for t in tickets if t.channel == "green" and (w := t.wait_minutes) is not None]
    normal_waits = [
        w for t in tickets if t.channel != "green" and (w := t.wait_minutes) is not None
    ]
    served = sum(1 for t in tickets if t.state == "done")
    busy = sum(services)
    instant_avg = _avg(instant)
    return Figures(
        key=key,
        label=label,
        issued=len(originals),
        served=served,
        no_show=sum(1 for t in tickets if t.state == "no_show"),
        cancelled=sum(1 for t in tickets if t.state == "cancelled"),
        transferred=sum(1 for t in tickets if t.state == "transferred"),
        outcomes={
            key: sum(1 for t in tickets if t.state == "done" and t.outcome == key)
            for key in OUTCOME_LABELS
        },
        waiting_now=sum(1 for t in tickets if t.state == "waiting"),
        wait_count=len(waits),
        wait_avg=_r(_avg(waits)),
        wait_p50=_r(percentile(waits, 50)),
        wait_p90=_r(percentile(waits, 90)),
        wait_max=_r(max(waits) if waits else None),
        service_count=len(services),
        service_avg=_r(_avg(services)),
        service_p90=_r(percentile(services, 90)),
        instant_served=len(instant),
        instant_over_target=over,
        instant_over_target_share=_share(over, len(instant)),
        instant_over_10min=over_10,
        instant_over_10min_share=_share(over_10, len(instant)),
        instant_service_avg=_r(instant_avg),
        instant_meets_standard=(
            None if instant_avg is None else instant_avg <= INSTANT_STANDARD_MINUTES
        ),
        green_issued=sum(1 for t in originals if t.channel == "green"),
        green_wait_p90=_r(percentile(green_waits, 90)),
        normal_wait_p90=_r(percentile(normal_waits, 90)),
        busy_minutes=round(busy, 2),
        utilisation=round(busy / open_minutes, 4) if open_minutes else None,
        ratings=rating_figures(ratings, served),
    )


K = TypeVar("K", bound=Hashable)


def _group(
    tickets: Iterable[TicketRecord],
    ratings: Iterable[RatingRecord],
    tkey: Callable[[TicketRecord], K | None],
    rkey: Callable[[RatingRecord], K | None],
) -> dict[K, tuple[list[TicketRecord], list[RatingRecord]]]:
    groups: dict[K, tuple[list[TicketRecord], list[RatingRecord]]] = {}
    for t in tickets:
        k = tkey(t)
        if k is not None:
            groups.setdefault(k, ([], []))[0].append(t)
    for r in ratings:
        k = rkey(r)
        if k is not None:
            groups.setdefault(k, ([], []))[1].append(r)
    return groups


WAIT_BINS: tuple[tuple[float, float | None, str], ...] = (
    (0, 5, "0-5"),
    (5, 10, "5-10"),
    (10, 20, "10-20"),
    (20, 30, "20-30"),
    (30, 60, "30-60"),
    (60, None, "60+"),
)


def wait_histogram(tickets: Sequence[TicketRecord]) -> list[dict[str, Any]]:
    """Waits in minute bins [lo, hi)."""
    waits = [w for t in tickets if (w := t.wait_minutes) is not None]
    return [
        {"label": label, "count": sum(1 for w in waits if w >= lo and (hi is None or w < hi))}
        for lo, hi, label in WAIT_BINS
    ]


def hour_figures(
    tickets: Sequence[TicketRecord], ratings: Sequence[RatingRecord], tz: ZoneInfo
) -> list[HourFigures]:
    """Per local hour of issue, the full figures; plus transactions finished in the hour."""
    by_id = {t.id: t for t in tickets}

    def rating_hour(r: RatingRecord) -> int:
        # A rating belongs to its ticket's hour, like the ticket's other figures.
        t = by_id.get(r.ticket_id)
        return (t.issued_at if t else r.created_at).astimezone(tz).hour

    groups = _group(tickets, ratings, lambda t: t.issued_at.astimezone(tz).hour, rating_hour)
    finished: dict[int, int] = {}
    for t in tickets:
        if t.state == "done" and t.finished_at is not None:
            h = t.finished_at.astimezone(tz).hour
            finished[h] = finished.get(h, 0) + 1
    out = []
    for h in sorted(set(groups) | set(finished)):
        ts, rs = groups.get(h, ([], []))
        f = figures(f"hour-{h:02d}", f"{h:02d}:00-{h + 1:02d}:00", ts, rs)
        out.append(HourFigures(**vars(f), hour=h, finished_in_hour=finished.get(h, 0)))
    return out


def staff_figures(
    tickets: Sequence[TicketRecord], ratings: Sequence[RatingRecord]
) -> list[Figures]:
    """By staff member: keyed by user id (two people may share a display name).

    A record with a name but no id (history written straight into the database)
    is grouped by its name. A name two people share is labelled with the user id.
    """

    def key(staff_id: int | None, name: str | None) -> tuple[str, str] | None:
        if staff_id is not None:
            return ("id", f"{staff_id:012d}")
        return None if name is None else ("name", name)

    groups = _group(
        tickets,
        ratings,
        lambda t: key(t.staff_id, t.staff),
        lambda r: key(r.staff_id, r.staff),
    )
    names: dict[tuple[str, str], str] = {}
    for t in tickets:
        k = key(t.staff_id, t.staff)
        if k is not None and t.staff:
            names.setdefault(k, t.staff)
    for r in ratings:
        k = key(r.staff_id, r.staff)
        if k is not None and r.staff:
            names.setdefault(k, r.staff)
    counts = Counter(names.values())
    shared = {n for n, c in counts.items() if c > 1}
    out = []
    for k, (ts, rs) in sorted(groups.items()):
        kind, ident = k
        uid = int(ident) if kind == "id" else None
        name = names.get(k) or (f"#{uid}" if uid is not None else ident)
        label = f"{name}（#{uid}）" if uid is not None and name in shared else name
        out.append(figures(f"staff-{uid}" if uid is not None else name, label, ts, rs))
    return sorted(out, key=lambda f: (f.label, f.key))


def build_report(data: FigureInput) -> Report:
    tickets, ratings = data.tickets, data.ratings
    names = {t.service: t.service_name for t in tickets}
    by_id = {t.id: t for t in tickets}

    def rating_service(r: RatingRecord) -> str | None:
        if r.service is not None:
            return r.service
        t = by_id.get(r.ticket_id)
        return t.service if t else None

    by_service = [
        figures(code, names.get(code, code), ts, rs)
        for code, (ts, rs) in sorted(
            _group(tickets, ratings, lambda t: t.service, rating_service).items()
        )
    ]
    # A counter or staff member is judged on what happened at it: calls, not issues.
    by_counter = [
        figures(f"counter-{n}", f"{n}号窗口", ts, rs, data.open_minutes)
        for n, (ts, rs) in sorted(
            _group(tickets, ratings, lambda t: t.counter, lambda r: r.counter).items()
        )
    ]
    by_staff = staff_figures(tickets, ratings)
    by_day = [
        figures(d.isoformat(), d.isoformat(), ts, rs)
        for d, (ts, rs) in sorted(
            _group(
                tickets,
                ratings,
                lambda t: t.issued_at.astimezone(data.tz).date(),
                lambda r: r.created_at.astimezone(data.tz).date(),
            ).items()
        )
    ]
    return Report(
        start=data.start,
        end=data.end,
        overall=figures("all", "全厅", tickets, ratings),
        by_service=by_service,
        by_counter=by_counter,
        by_staff=by_staff,
        by_day=by_day,
        by_hour=hour_figures(tickets, ratings, data.tz),
        wait_histogram=wait_histogram(tickets),
        standard={
            "instant_average_minutes": INSTANT_STANDARD_MINUTES,
            "satisfaction": SATISFACTION_STANDARD,
            "proxy_working_days": 3,
        },
        extensions=dict(data.extensions),
    )
