"""The figures on a constructed day whose answers are worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from kiosk_server.stats.figures import (
    SATISFACTION_LABEL,
    STRICT_SATISFACTION_LABEL,
    FigureInput,
    RatingRecord,
    Report,
    TicketRecord,
    build_report,
    percentile,
)

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 25)


def at(hhmm: str | None) -> datetime | None:
    if hhmm is None:
        return None
    h, m = hhmm.split(":")
    return datetime(2026, 11, 25, int(h), int(m), tzinfo=TZ)


def ticket(
    id: int,
    number: str,
    state: str,
    issued: str,
    called: str | None = None,
    started: str | None = None,
    finished: str | None = None,
    *,
    channel: str = "normal",
    counter: int | None = None,
    staff: str | None = None,
    transferred_from: int | None = None,
    prefix: str | None = None,
    outcome: str | None = None,
) -> TicketRecord:
    # The item follows the prefix unless a transfer moved the ticket to another item.
    instant = (prefix or number[0]) == "A"
    issued_at = at(issued)
    assert issued_at is not None
    return TicketRecord(
        id=id,
        number=number,
        service="enrol" if instant else "reimbursement",
        service_name="参保登记" if instant else "零星报销",
        instant=instant,
        target_minutes=10 if instant else 30,
        channel=channel,
        state=state,
        issued_at=issued_at,
        first_called_at=at(called),
        started_at=at(started),
        finished_at=at(finished),
        counter=counter,
        staff=staff,
        transferred_from=transferred_from,
        outcome=outcome if outcome or state != "done" else "completed",
    )


def constructed_day() -> Report:
    tickets = [
        ticket(1, "A001", "done", "09:00", "09:04", "09:05", "09:13", counter=1, staff="张"),
        ticket(
            2,
            "A002",
            "done",
            "09:10",
            "09:12",
            "09:12",
            "09:24",
            channel="green",
            counter=2,
            staff="李",
            outcome="incomplete_papers",
        ),  # fmt: skip
        ticket(
            3,
            "A003",
            "done",
            "09:20",
            "09:30",
            "09:31",
            "09:37",
            counter=1,
            staff="张",
            outcome="informed",
        ),
        ticket(
            4,
            "E001",
            "done",
            "09:30",
            "09:50",
            "09:50",
            "10:20",
            counter=2,
            staff="李",
            outcome="proxy",
        ),
        ticket(5, "A004", "no_show", "10:00", "10:06", counter=1, staff="张"),
        ticket(6, "A005", "cancelled", "10:05"),
        ticket(7, "A006", "transferred", "10:10", "10:11", channel="green", counter=1, staff="张"),
        # The transfer's copy: same resident, now an E item; its wait is not counted again.
        ticket(
            8,
            "A006",
            "done",
            "10:10",
            "10:30",
            "10:30",
            "10:50",
            channel="green",
            counter=2,
            staff="李",
            transferred_from=7,
            prefix="E",
        ),  # fmt: skip
        ticket(9, "A007", "waiting", "10:40"),
    ]
    by_id = {t.id: t for t in tickets}

    def rating(tid: int, score: int) -> RatingRecord:
        t = by_id[tid]
        assert t.finished_at is not None
        return RatingRecord(tid, score, t.finished_at, t.service, t.counter, t.staff)

    ratings = [rating(1, 5), rating(2, 3), rating(3, 2), rating(4, 4)]
    return build_report(
        FigureInput(tickets, ratings, TZ, DAY, DAY, open_minutes=480, extensions={"x": {"n": 1}})
    )


def as_dict(obj: Any) -> dict[str, Any]:
    return dict(vars(obj))


def test_overall_counts_and_times() -> None:
    o = constructed_day().overall
    assert (o.issued, o.served, o.no_show, o.cancelled, o.transferred, o.waiting_now) == (
        8,
        5,
        1,
        1,
        1,
        1,
    )
    # Waits of called originals: 1, 2, 4, 6, 10, 20 minutes.
    assert o.wait_count == 6
    assert o.wait_avg == 7.17  # 43 / 6
    assert o.wait_p50 == 4  # rank ceil(0.5*6) = 3
    assert o.wait_p90 == 20  # rank ceil(0.9*6) = 6
    assert o.wait_max == 20
    # Service times 8, 12, 6, 30, 20.
    assert (o.service_count, o.service_avg, o.service_p90) == (5, 15.2, 30)


def test_outcomes_overall_and_per_item() -> None:
    rep = constructed_day()
    o = rep.overall
    # Five finished: A001 and the transfer's copy 办结, A002 容缺受理, A003 一次性告知,
    # E001 帮办代办; the transfer and the no-show are counted beside them.
    assert o.outcomes == {"completed": 2, "incomplete_papers": 1, "informed": 1, "proxy": 1}
    assert sum(o.outcomes.values()) == o.served
    assert (o.transferred, o.no_show) == (1, 1)
    items = {f.key: f for f in rep.by_service}
    enrol, reimb = items["enrol"], items["reimbursement"]
    assert enrol.outcomes == {"completed": 1, "incomplete_papers": 1, "informed": 1, "proxy": 0}
    assert (enrol.transferred, enrol.no_show) == (1, 1)  # A006 left enrol, A004 did not come
    assert reimb.outcomes == {"completed": 1, "incomplete_papers": 0, "informed": 0, "proxy": 1}
    assert (reimb.transferred, reimb.no_show) == (0, 0)


def test_over_10_minutes_is_the_standard_not_the_items_target() -> None:
    base = ticket(1, "A001", "done", "09:00", "09:00", "09:00", "09:12")
    # An instant item whose target an admin raised to 15 minutes, served in 12.
    slow_target = replace(base, target_minutes=15)
    quick = ticket(2, "A002", "done", "09:00", "09:00", "09:00", "09:08")
    o = build_report(FigureInput([slow_target, quick], [], TZ, DAY, DAY)).overall
    assert (o.instant_over_target, o.instant_over_target_share) == (0, 0.0)
    assert (o.instant_over_10min, o.instant_over_10min_share) == (1, 0.5)


def test_instant_items_against_ten_minutes() -> None:
    o = constructed_day().overall
    # Instant transactions 8, 12, 6 minutes: one over its 10-minute target.
    assert o.instant_served == 3
    assert o.instant_over_target == 1
    assert o.instant_over_target_share == 0.3333
    assert (o.instant_over_10min, o.instant_over_10min_share) == (1, 0.3333)
    assert o.instant_service_avg == 8.67
    assert o.instant_meets_standard is True


def test_green_channel_beside_normal() -> None:
    o = constructed_day().overall
    assert o.green_issued == 2
    assert o.green_wait_p90 == 2  # waits 1, 2
    assert o.normal_wait_p90 == 20  # waits 4, 6, 10, 20


def test_two_satisfaction_readings() -> None:
    r = constructed_day().overall.ratings
    assert r.count == 4
    assert r.rating_rate == 0.8  # 4 rated of 5 served
    assert r.distribution == {"非常满意": 1, "满意": 1, "基本满意": 1, "不满意": 1, "非常不满意": 0}
    assert r.bad == 1
    assert r.satisfaction == 0.75  # 5, 4, 3 of four ratings
    assert r.strict_satisfaction == 0.5  # 5, 4 only
    assert r.satisfaction_label == SATISFACTION_LABEL
    assert "基本满意" in r.satisfaction_label and "基本满意" not in r.strict_satisfaction_label
    assert r.strict_satisfaction_label == STRICT_SATISFACTION_LABEL
    assert r.meets_standard is False


def test_by_counter_staff_service() -> None:
    rep = constructed_day()
    c1, c2 = rep.by_counter
    assert (c1.label, c1.served, c1.no_show, c1.transferred, c1.busy_minutes) == (
        "1号窗口",
        2,
        1,
        1,
        14,
    )
    assert c1.utilisation == 0.0292  # 14 / 480
    assert c1.ratings.count == 2 and c1.ratings.satisfaction == 0.5
    assert (c2.served, c2.busy_minutes, c2.ratings.satisfaction) == (3, 62, 1.0)
    staff = {f.key: f for f in rep.by_staff}
    assert staff["张"].served == 2 and staff["李"].served == 3
    items = {f.key: f for f in rep.by_service}
    assert items["enrol"].issued == 7 and items["enrol"].served == 3
    assert items["reimbursement"].issued == 1 and items["reimbursement"].served == 2
    assert items["reimbursement"].instant_served == 0
    assert items["reimbursement"].instant_service_avg is None


def test_by_hour_histogram_and_extensions() -> None:
    rep = constructed_day()
    hours = {h.hour: h for h in rep.by_hour}
    assert set(hours) == {9, 10}
    assert (hours[9].arrivals, hours[9].served, hours[9].wait_avg, hours[9].wait_p90) == (
        4,
        3,
        9.0,
        20,
    )
    assert (hours[10].arrivals, hours[10].served, hours[10].no_show, hours[10].wait_avg) == (
        4,
        2,
        1,
        3.5,
    )
    assert [b["count"] for b in rep.wait_histogram] == [3, 1, 1, 1, 0, 0]
    assert [d.key for d in rep.by_day] == ["2026-11-25"]
    assert rep.extensions == {"x": {"n": 1}}


def test_empty_period_has_no_fake_zeroes() -> None:
    rep = build_report(FigureInput([], [], TZ, DAY, DAY))
    o = rep.overall
    assert o.issued == 0 and o.wait_avg is None and o.ratings.satisfaction is None
    assert o.ratings.meets_standard is None and o.instant_meets_standard is None


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [([1.0], 90, 1.0), ([3.0, 1.0, 2.0], 50, 2.0), ([1.0, 2.0, 3.0, 4.0], 90, 4.0), ([], 50, None)],
)
def test_percentile_nearest_rank(values: list[float], p: float, expected: float | None) -> None:
    assert percentile(values, p) == expected


def test_service_time_is_the_sum_of_serving_segments() -> None:
    # Served 09:00-09:07, held 20 min, served again 09:27-09:31: 11 minutes, not 31.
    held = TicketRecord(
        id=1,
        number="A001",
        service="enrol",
        service_name="参保登记",
        instant=True,
        target_minutes=10,
        channel="normal",
        state="done",
        issued_at=datetime(2026, 11, 25, 8, 55, tzinfo=TZ),
        started_at=at("09:00"),
        finished_at=at("09:31"),
        served_seconds=11 * 60,
    )
    o = build_report(FigureInput([held], [], TZ, DAY, DAY)).overall
    assert (o.service_avg, o.instant_over_target, o.busy_minutes) == (11.0, 1, 11.0)
    # A record without the sum (history written straight into the database).
    legacy = replace(held, served_seconds=None)
    assert legacy.service_minutes == 31.0
