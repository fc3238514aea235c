from __future__ import annotations

from typing import Any

import pytest

from display_client.serial_bridge.led import IDLE_TEXT, PAUSED_TEXT, LedPlanner
from kiosk_server.devices import protocol as p


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def ev(seq: int, kind: str, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "type": kind, "at": "2024-05-06T08:00:00Z", "data": data}


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def planner(clock: Clock) -> LedPlanner:
    return LedPlanner({1: 0x01, 2: 0x02, 3: 0x03}, clock=clock)


def test_call_flashes_three_seconds_on_the_right_screen(planner: LedPlanner) -> None:
    plan = planner.on_event(ev(1, "ticket.called", number="A012", counter=3))
    assert plan.frames == [p.led_text(0x03, "请 A012", 3)]
    assert p.parse_led_text(plan.frames[0]).text.encode("gb18030") == bytes.fromhex(
        "C7EB2041303132"
    )


def test_recall_within_five_seconds_not_sent_twice(planner: LedPlanner, clock: Clock) -> None:
    planner.on_event(ev(1, "ticket.called", number="A012", counter=3))
    clock.t += 4.9
    assert planner.on_event(ev(2, "ticket.recalled", number="A012", counter=3)).frames == []
    assert planner.suppressed_recalls == 1
    clock.t += 0.2  # 5.1 s after the flash
    assert planner.on_event(ev(3, "ticket.recalled", number="A012", counter=3)).frames == [
        p.led_text(0x03, "请 A012", 3)
    ]
    # The window restarts from the resend.
    clock.t += 1
    assert planner.on_event(ev(4, "ticket.recalled", number="A012", counter=3)).frames == []


def test_recall_of_another_number_is_sent(planner: LedPlanner, clock: Clock) -> None:
    planner.on_event(ev(1, "ticket.called", number="A012", counter=3))
    planner.on_event(ev(2, "ticket.called", number="A013", counter=3))
    clock.t += 1
    assert planner.on_event(ev(3, "ticket.recalled", number="A013", counter=3)).frames == []
    assert planner.on_event(ev(4, "ticket.recalled", number="A012", counter=3)).frames == [
        p.led_text(0x03, "请 A012", 3)
    ]


def test_finish_returns_to_idle_and_pause_shows_paused(planner: LedPlanner) -> None:
    planner.on_event(ev(1, "ticket.called", number="A012", counter=2))
    assert planner.on_event(ev(2, "ticket.started", number="A012", counter=2)).frames == []
    assert planner.on_event(ev(3, "ticket.finished", number="A012", counter=2)).frames == [
        p.led_text(0x02, IDLE_TEXT)
    ]
    assert planner.on_event(ev(4, "counter.paused", counter=2)).frames == [
        p.led_text(0x02, PAUSED_TEXT)
    ]
    assert planner.on_event(ev(5, "counter.resumed", counter=2)).frames == [
        p.led_text(0x02, IDLE_TEXT)
    ]


@pytest.mark.parametrize("kind", ["ticket.no_show", "ticket.held", "ticket.transferred"])
def test_ticket_leaving_counter_clears_it(planner: LedPlanner, kind: str) -> None:
    planner.on_event(ev(1, "ticket.called", number="B004", counter=1))
    assert planner.on_event(ev(2, kind, number="B004", counter=1)).frames == [
        p.led_text(0x01, IDLE_TEXT)
    ]


def test_finish_of_another_ticket_does_not_clear(planner: LedPlanner) -> None:
    planner.on_event(ev(1, "ticket.called", number="A012", counter=1))
    assert planner.on_event(ev(2, "ticket.finished", number="A011", counter=1)).frames == []


def test_unmapped_counter_and_unknown_events_ignored(planner: LedPlanner) -> None:
    assert planner.on_event(ev(1, "ticket.called", number="A012", counter=9)).frames == []
    assert planner.on_event(ev(2, "ticket.issued", number="A013")).frames == []
    assert planner.on_event({"type": "ticket.called", "data": "garbage"}).frames == []
    assert planner.last_seq == 2


def test_replayed_events_are_ignored(planner: LedPlanner) -> None:
    first = planner.on_event(ev(7, "ticket.called", number="A012", counter=1))
    assert first.frames
    assert planner.on_event(ev(7, "ticket.called", number="A012", counter=1)).frames == []
    assert planner.on_event(ev(5, "counter.paused", counter=1)).frames == []


def test_resync_message_asks_for_snapshot(planner: LedPlanner) -> None:
    assert planner.on_event({"type": "resync"}).resync


def test_snapshot_sets_every_screen_steady(planner: LedPlanner) -> None:
    frames = planner.on_snapshot(
        {
            "seq": 40,
            "counters": [
                {"number": 1, "state": "open", "current": {"number": "A020"}},
                {"number": 2, "state": "paused", "current": None},
                {"number": 3, "state": "open", "current": None},
                {"number": 4, "state": "open", "current": {"number": "A021"}},
            ],
        }
    )
    assert frames == [
        p.led_text(0x01, "请 A020"),
        p.led_text(0x02, PAUSED_TEXT),
        p.led_text(0x03, IDLE_TEXT),
    ]
    assert planner.last_seq == 40
    # A second identical snapshot sends nothing new.
    assert (
        planner.on_snapshot(
            {
                "seq": 41,
                "counters": [
                    {"number": 1, "state": "open", "current": {"number": "A020"}},
                    {"number": 2, "state": "paused"},
                    {"number": 3, "state": "open"},
                ],
            }
        )
        == []
    )


def test_refresh_after_reconnect_resends_all_and_keeps_remaining_flash(
    planner: LedPlanner, clock: Clock
) -> None:
    planner.on_event(ev(1, "ticket.called", number="A012", counter=3))
    planner.on_event(ev(2, "counter.paused", counter=1))
    clock.t += 1.5
    assert planner.refresh_all() == [
        p.led_text(0x01, PAUSED_TEXT),
        p.led_text(0x02, IDLE_TEXT),
        p.led_text(0x03, "请 A012", 2),
    ]
    clock.t += 2
    assert planner.refresh_all()[2] == p.led_text(0x03, "请 A012", 0)


def test_transfer_called_at_other_counter_leaves_first(planner: LedPlanner) -> None:
    planner.on_event(ev(1, "ticket.called", number="A012", counter=1))
    frames = planner.on_event(ev(2, "ticket.called", number="A012", counter=2)).frames
    assert frames == [p.led_text(0x01, IDLE_TEXT), p.led_text(0x02, "请 A012", 3)]


def test_duplicate_addresses_refused() -> None:
    with pytest.raises(ValueError):
        LedPlanner({1: 5, 2: 5})


def test_admin_closing_a_counter_shows_paused(planner: LedPlanner) -> None:
    frames = planner.on_event(ev(1, "counter.updated", counter=2, state="closed"))
    assert frames.frames == [p.led_text(0x02, PAUSED_TEXT)]
    assert planner.on_event(ev(2, "counter.updated", counter=2, state="bogus")).frames == []
    assert planner.on_event(ev(3, "counter.updated", counter=2, state="open")).frames == [
        p.led_text(0x02, IDLE_TEXT)
    ]
