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
    Figures,
    RatingRecord,
    Report,
    TicketRecord,
    build_report,
    percentile,
)

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 25)
STAFF_IDS = {"张": 1, "李": 2}


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
    staff_id: int | None = None,
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
        staff_id=staff_id if staff_id is not None else STAFF_IDS.get(staff or ""),
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
        return RatingRecord(tid, score, t.finished_at, t.service, t.counter, t.staff, t.staff_id)

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
    staff = {f.label: f for f in rep.by_staff}
    assert staff["张"].served == 2 and staff["李"].served == 3
    assert (staff["张"].key, staff["李"].key) == ("staff-1", "staff-2")
    items = {f.key: f for f in rep.by_service}
    assert items["enrol"].issued == 7 and items["enrol"].served == 3
    assert items["reimbursement"].issued == 1 and items["reimbursement"].served == 2
    assert items["reimbursement"].instant_served == 0
    assert items["reimbursement"].instant_service_avg is None


def figure_values(f: Figures) -> dict[str, Any]:
    """The figures a breakdown row carries, without its key and label."""
    out = {k: v for k, v in vars(f).items() if k not in ("key", "label", "ratings")}
    rt = f.ratings
    out["ratings"] = (rt.count, rt.rating_rate, rt.distribution, rt.bad, rt.satisfaction,
                      rt.strict_satisfaction)  # fmt: skip
    return out


def expected(**values: Any) -> dict[str, Any]:
    """A hand-worked row: unlisted counts are 0, unlisted times and shares are None."""
    base: dict[str, Any] = {
        "issued": 0, "served": 0, "no_show": 0, "cancelled": 0, "transferred": 0,
        "outcomes": {"completed": 0, "incomplete_papers": 0, "informed": 0, "proxy": 0},
        "waiting_now": 0, "wait_count": 0, "wait_avg": None, "wait_p50": None,
        "wait_p90": None, "wait_max": None, "service_count": 0, "service_avg": None,
        "service_p90": None, "instant_served": 0, "instant_over_target": 0,
        "instant_over_target_share": None, "instant_over_10min": 0,
        "instant_over_10min_share": None, "instant_service_avg": None,
        "instant_meets_standard": None, "green_issued": 0, "green_wait_p90": None,
        "normal_wait_p90": None, "busy_minutes": 0, "utilisation": None,
    }  # fmt: skip
    base.update(values)
    return base


NO_RATINGS = {"非常满意": 0, "满意": 0, "基本满意": 0, "不满意": 0, "非常不满意": 0}


def test_by_hour_carries_every_figure() -> None:
    rep = constructed_day()
    hours = {h.hour: h for h in rep.by_hour}
    assert set(hours) == {9, 10}
    h9, h10 = hours[9], hours[10]
    assert (h9.label, h9.key, h10.label) == ("09:00-10:00", "hour-09", "10:00-11:00")
    # 09:00-10:00: A001, A002 (green), A003, E001, all served; rated 5, 3, 2, 4.
    nine = {k: v for k, v in figure_values(h9).items() if k not in ("hour", "finished_in_hour")}
    assert nine == expected(
        issued=4, served=4,
        outcomes={"completed": 1, "incomplete_papers": 1, "informed": 1, "proxy": 1},
        wait_count=4, wait_avg=9.0, wait_p50=4, wait_p90=20, wait_max=20,  # waits 4 2 10 20
        service_count=4, service_avg=14.0, service_p90=30, busy_minutes=56,  # 8 12 6 30
        instant_served=3, instant_over_target=1, instant_over_target_share=0.3333,
        instant_over_10min=1, instant_over_10min_share=0.3333, instant_service_avg=8.67,
        instant_meets_standard=True,
        green_issued=1, green_wait_p90=2, normal_wait_p90=20,  # green 2; normal 4 10 20
        ratings=(4, 1.0, {"非常满意": 1, "满意": 1, "基本满意": 1, "不满意": 1, "非常不满意": 0},
                 1, 0.75, 0.5),
    )  # fmt: skip
    # Finished in the hour: 09:13, 09:24, 09:37 (E001 finished at 10:20).
    assert h9.finished_in_hour == 3
    # 10:00-11:00: A004 no-show, A005 cancelled, A006 transferred (its copy served in
    # the other item, not an instant one), A007 waiting; nothing rated.
    ten = {k: v for k, v in figure_values(h10).items() if k not in ("hour", "finished_in_hour")}
    assert ten == expected(
        issued=4, served=1, no_show=1, cancelled=1, transferred=1, waiting_now=1,
        outcomes={"completed": 1, "incomplete_papers": 0, "informed": 0, "proxy": 0},
        wait_count=2, wait_avg=3.5, wait_p50=1, wait_p90=6, wait_max=6,  # waits 6 1
        service_count=1, service_avg=20.0, service_p90=20, busy_minutes=20,
        green_issued=1, green_wait_p90=1, normal_wait_p90=6,
        ratings=(0, 0.0, NO_RATINGS, 0, None, None),
    )  # fmt: skip
    assert h10.finished_in_hour == 2  # 10:20 and 10:50


def test_by_item_carries_every_figure() -> None:
    items = {f.key: f for f in constructed_day().by_service}
    # enrol: A001-A007 except the transfer's copy, which became a reimbursement.
    assert figure_values(items["enrol"]) == expected(
        issued=7, served=3, no_show=1, cancelled=1, transferred=1, waiting_now=1,
        outcomes={"completed": 1, "incomplete_papers": 1, "informed": 1, "proxy": 0},
        wait_count=5, wait_avg=4.6, wait_p50=4, wait_p90=10, wait_max=10,  # 4 2 10 6 1
        service_count=3, service_avg=8.67, service_p90=12, busy_minutes=26,  # 8 12 6
        instant_served=3, instant_over_target=1, instant_over_target_share=0.3333,
        instant_over_10min=1, instant_over_10min_share=0.3333, instant_service_avg=8.67,
        instant_meets_standard=True,
        green_issued=2, green_wait_p90=2, normal_wait_p90=10,  # green 2 1; normal 4 10 6
        ratings=(3, 1.0, {"非常满意": 1, "满意": 0, "基本满意": 1, "不满意": 1, "非常不满意": 0},
                 1, 0.6667, 0.3333),
    )  # fmt: skip
    # reimbursement: E001 and the transfer's copy (whose wait counted once, in enrol).
    assert figure_values(items["reimbursement"]) == expected(
        issued=1, served=2,
        outcomes={"completed": 1, "incomplete_papers": 0, "informed": 0, "proxy": 1},
        wait_count=1, wait_avg=20.0, wait_p50=20, wait_p90=20, wait_max=20,
        service_count=2, service_avg=25.0, service_p90=30, busy_minutes=50,  # 30 20
        normal_wait_p90=20,
        ratings=(1, 0.5, {"非常满意": 0, "满意": 1, "基本满意": 0, "不满意": 0, "非常不满意": 0},
                 0, 1.0, 1.0),
    )  # fmt: skip


def test_hours_and_items_add_up_to_the_hall() -> None:
    rep = constructed_day()
    o = rep.overall
    for rows in (rep.by_hour, rep.by_service):
        for name in ("issued", "served", "no_show", "cancelled", "transferred", "waiting_now",
                     "wait_count", "service_count", "instant_served", "green_issued"):  # fmt: skip
            assert sum(getattr(f, name) for f in rows) == getattr(o, name), name
        assert sum(f.ratings.count for f in rows) == o.ratings.count
    assert sum(h.finished_in_hour for h in rep.by_hour) == o.served


def test_staff_who_share_a_name_are_not_merged() -> None:
    # Two people called 王芳 (user ids 7 and 8) and 李 (9).
    tickets = [
        ticket(1, "A001", "done", "09:00", "09:01", "09:01", "09:05", staff="王芳", staff_id=7),
        ticket(2, "A002", "done", "09:00", "09:02", "09:02", "09:10", staff="王芳", staff_id=8),
        ticket(3, "A003", "done", "09:00", "09:03", "09:03", "09:20", staff="王芳", staff_id=8),
        ticket(4, "A004", "no_show", "09:00", "09:04", staff="李", staff_id=9),
    ]
    ratings = [
        RatingRecord(1, 5, datetime(2026, 11, 25, 9, 5, tzinfo=TZ), "enrol", None, "王芳", 7),
        RatingRecord(2, 1, datetime(2026, 11, 25, 9, 10, tzinfo=TZ), "enrol", None, "王芳", 8),
    ]
    rep = build_report(FigureInput(tickets, ratings, TZ, DAY, DAY))
    rows = {f.key: f for f in rep.by_staff}
    assert set(rows) == {"staff-7", "staff-8", "staff-9"}
    assert [f.label for f in rep.by_staff] == ["李", "王芳（#7）", "王芳（#8）"]
    assert (rows["staff-7"].served, rows["staff-7"].service_avg) == (1, 4.0)
    assert (rows["staff-8"].served, rows["staff-8"].service_avg) == (2, 12.5)  # 8 and 17
    assert rows["staff-7"].ratings.satisfaction == 1.0
    assert (rows["staff-8"].ratings.count, rows["staff-8"].ratings.bad) == (1, 1)
    assert rows["staff-9"].no_show == 1


def test_histogram_and_extensions() -> None:
    rep = constructed_day()
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
