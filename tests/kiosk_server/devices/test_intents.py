from __future__ import annotations

import pytest

from kiosk_server.core.states import Outcome
from kiosk_server.devices import protocol as p
from kiosk_server.devices.actions import LastFinished, keypad_request
from kiosk_server.devices.intents import (
    Ignored,
    KeypadIntent,
    KeypadTranslator,
    RatingIntent,
    RatingTranslator,
)
from kiosk_server.devices.protocol import Key


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keypads(clock: Clock) -> KeypadTranslator:
    return KeypadTranslator({0x11: 1, 0x13: 3}, clock=clock)


@pytest.mark.parametrize(
    ("key", "arg", "expected", "path", "body"),
    [
        (Key.CALL_NEXT, "", KeypadIntent(0x13, 3, "call_next", 1), "call-next", None),
        (Key.RECALL, "", KeypadIntent(0x13, 3, "recall", 1), "recall", None),
        (Key.START, "", KeypadIntent(0x13, 3, "start", 1), "start", None),
        (Key.NO_SHOW, "", KeypadIntent(0x13, 3, "no_show", 1), "no-show", None),
        (Key.HOLD, "", KeypadIntent(0x13, 3, "hold", 1), "hold", None),
        (Key.PAUSE, "", KeypadIntent(0x13, 3, "pause", 1), "pause", None),
        (Key.RESUME, "", KeypadIntent(0x13, 3, "resume", 1), "resume", None),
        (
            Key.FINISH,
            "",
            KeypadIntent(0x13, 3, "finish", 1, outcome=Outcome.COMPLETED),
            "finish",
            {"outcome": "completed"},
        ),
        (
            Key.FINISH,
            "2",
            KeypadIntent(0x13, 3, "finish", 1, outcome=Outcome.INCOMPLETE_PAPERS),
            "finish",
            {"outcome": "incomplete_papers"},
        ),
        (
            Key.CALL,
            "A012",
            KeypadIntent(0x13, 3, "call", 1, number="A012"),
            "call",
            {"number": "A012"},
        ),
        (
            Key.CALL_BACK,
            "B007",
            KeypadIntent(0x13, 3, "call_back", 1, number="B007"),
            "call",
            {"number": "B007"},
        ),
        (
            Key.TRANSFER,
            "5",
            KeypadIntent(0x13, 3, "transfer", 1, to_counter=5),
            "transfer",
            {"counter": 5},
        ),
    ],
)
def test_every_key_becomes_the_page_request(
    keypads: KeypadTranslator,
    key: Key,
    arg: str,
    expected: KeypadIntent,
    path: str,
    body: dict[str, object] | None,
) -> None:
    intent = keypads.translate(p.key(0x13, 1, key, arg))
    assert intent == expected
    assert isinstance(intent, KeypadIntent)
    assert keypad_request(intent) == (f"/api/v1/counters/3/{path}", body)
    # The API addresses counters by id, the keypad map by number.
    assert keypad_request(intent, 17)[0] == f"/api/v1/counters/17/{path}"


@pytest.mark.parametrize(
    ("key", "arg"),
    [
        (Key.CALL, ""),  # which number?
        (Key.CALL_BACK, ""),
        (Key.CALL, "12"),
        (Key.TRANSFER, ""),
        (Key.TRANSFER, "3"),  # its own counter
        (Key.TRANSFER, "0"),
        (Key.FINISH, "9"),
        (Key.CALL_NEXT, "5"),
    ],
)
def test_bad_arguments_are_ignored(keypads: KeypadTranslator, key: Key, arg: str) -> None:
    result = keypads.translate(p.key(0x13, 1, key, arg))
    assert isinstance(result, Ignored) and not result.duplicate


def test_unmapped_keypad_ignored(keypads: KeypadTranslator) -> None:
    result = keypads.translate(p.key(0x12, 1, Key.CALL_NEXT))
    assert isinstance(result, Ignored) and "0x12" in result.reason


def test_repeat_within_window_is_duplicate_later_is_new(
    keypads: KeypadTranslator, clock: Clock
) -> None:
    frame = p.key(0x11, 200, Key.CALL_NEXT)
    assert isinstance(keypads.translate(frame), KeypadIntent)
    clock.t = 1.0
    dup = keypads.translate(frame)
    assert isinstance(dup, Ignored) and dup.duplicate
    # Another keypad's equal sequence number is its own press.
    assert isinstance(keypads.translate(p.key(0x13, 200, Key.CALL_NEXT)), KeypadIntent)
    # After the window the sequence has wrapped round: a new press.
    clock.t = 100.0
    assert isinstance(keypads.translate(frame), KeypadIntent)
    assert isinstance(keypads.translate(p.key(0x11, 201, Key.RECALL)), KeypadIntent)


def test_rating_translation(clock: Clock) -> None:
    tr = RatingTranslator({0x21: 3}, clock=clock)
    assert tr.translate(p.rating(0x21, 4, 5)) == RatingIntent(0x21, 3, 5, 4)
    dup = tr.translate(p.rating(0x21, 4, 5))
    assert isinstance(dup, Ignored) and dup.duplicate
    assert isinstance(tr.translate(p.rating(0x22, 1, 5)), Ignored)


def test_wrong_frame_kind_is_a_programming_error(keypads: KeypadTranslator) -> None:
    with pytest.raises(ValueError):
        keypads.translate(p.rating(0x11, 1, 5))


def test_last_finished_follows_the_counter() -> None:
    lf = LastFinished()
    fin = {"type": "ticket.finished", "data": {"counter": 3, "ticket_id": 55, "number": "A012"}}
    assert lf.note(fin) == 3
    assert lf.take(3) == (55, "A012")
    assert lf.note({"type": "ticket.finished", "data": {"counter": 3}}) is None  # no id
    assert lf.note({"type": "ticket.called", "data": {"counter": 4, "number": "A013"}}) is None
    assert lf.note({"type": "ticket.called", "data": {"counter": 3, "number": "A013"}}) == 3
    assert lf.take(3) is None
