from __future__ import annotations

import itertools

import pytest

from kiosk_server.core.states import (
    MAX_RECALLS,
    TRANSITIONS,
    Action,
    TicketState,
    TransitionError,
    allowed_actions,
    next_state,
)

EXPECTED = {
    ("waiting", "call"): "called",
    ("waiting", "cancel"): "cancelled",
    ("waiting", "transfer"): "transferred",
    ("called", "recall"): "called",
    ("called", "start"): "serving",
    ("called", "no_show"): "no_show",
    ("called", "hold"): "held",
    ("called", "transfer"): "transferred",
    ("serving", "finish"): "done",
    ("serving", "hold"): "held",
    ("serving", "transfer"): "transferred",
    ("held", "call_back"): "called",
    ("held", "cancel"): "cancelled",
    ("held", "no_show"): "no_show",
    ("no_show", "requeue"): "waiting",
}


def test_table_is_exactly_the_documented_one() -> None:
    assert {(s.value, a.value): t.value for (s, a), t in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("state", "action"), list(itertools.product(TicketState, Action)))
def test_every_pair_is_allowed_or_refused(state: TicketState, action: Action) -> None:
    key = (state.value, action.value)
    if key in EXPECTED:
        assert next_state(state, action).value == EXPECTED[key]
    else:
        with pytest.raises(TransitionError) as err:
            next_state(state, action)
        message = str(err.value)
        assert state.value in message
        for allowed in allowed_actions(state):
            assert allowed.value in message


def test_closed_tickets_allow_nothing() -> None:
    for state in (TicketState.DONE, TicketState.CANCELLED, TicketState.TRANSFERRED):
        assert allowed_actions(state) == []
        with pytest.raises(TransitionError, match="none"):
            next_state(state, Action.CALL)


def test_recall_limit() -> None:
    for n in range(MAX_RECALLS):
        assert next_state(TicketState.CALLED, Action.RECALL, recalls=n) is TicketState.CALLED
    with pytest.raises(TransitionError, match="no-show"):
        next_state(TicketState.CALLED, Action.RECALL, recalls=MAX_RECALLS)
