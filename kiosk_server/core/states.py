"""The ticket state machine: the one place where allowed transitions are written down."""

from __future__ import annotations

from enum import StrEnum


class TicketState(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    TRANSFERRED = "transferred"


class Action(StrEnum):
    CALL = "call"  # call-next or call a chosen number
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no_show"
    HOLD = "hold"
    CALL_BACK = "call_back"  # 回呼 a held ticket
    TRANSFER = "transfer"
    CANCEL = "cancel"
    REQUEUE = "requeue"  # a no-show put back in the queue at the supervisor's discretion


class Outcome(StrEnum):
    COMPLETED = "completed"
    INCOMPLETE_PAPERS = "incomplete_papers"  # 容缺受理
    INFORMED = "informed"  # 一次性告知
    PROXY = "proxy"  # 帮办代办


class Channel(StrEnum):
    NORMAL = "normal"
    GREEN = "green"
    APPOINTMENT = "appointment"


# (from state, action) -> to state. Anything not listed is refused.
TRANSITIONS: dict[tuple[TicketState, Action], TicketState] = {
    (TicketState.WAITING, Action.CALL): TicketState.CALLED,
    (TicketState.WAITING, Action.CANCEL): TicketState.CANCELLED,
    (TicketState.WAITING, Action.TRANSFER): TicketState.TRANSFERRED,
    (TicketState.CALLED, Action.RECALL): TicketState.CALLED,
    (TicketState.CALLED, Action.START): TicketState.SERVING,
    (TicketState.CALLED, Action.NO_SHOW): TicketState.NO_SHOW,
    (TicketState.CALLED, Action.HOLD): TicketState.HELD,
    (TicketState.CALLED, Action.TRANSFER): TicketState.TRANSFERRED,
    (TicketState.SERVING, Action.FINISH): TicketState.DONE,
    (TicketState.SERVING, Action.HOLD): TicketState.HELD,
    (TicketState.SERVING, Action.TRANSFER): TicketState.TRANSFERRED,
    (TicketState.HELD, Action.CALL_BACK): TicketState.CALLED,
    (TicketState.HELD, Action.CANCEL): TicketState.CANCELLED,
    (TicketState.HELD, Action.NO_SHOW): TicketState.NO_SHOW,
    (TicketState.NO_SHOW, Action.REQUEUE): TicketState.WAITING,
}

MAX_RECALLS = 3

OPEN_STATES = frozenset(
    {TicketState.WAITING, TicketState.CALLED, TicketState.SERVING, TicketState.HELD}
)
# States in which a ticket occupies a counter.
AT_COUNTER_STATES = frozenset({TicketState.CALLED, TicketState.SERVING})
FINAL_STATES = frozenset({TicketState.DONE, TicketState.CANCELLED, TicketState.TRANSFERRED})

STATE_LABELS_ZH: dict[TicketState, str] = {
    TicketState.WAITING: "等候中",
    TicketState.CALLED: "已叫号",
    TicketState.SERVING: "办理中",
    TicketState.HELD: "挂起",
    TicketState.DONE: "已办结",
    TicketState.NO_SHOW: "过号",
    TicketState.CANCELLED: "已取消",
    TicketState.TRANSFERRED: "已转移",
}


class TransitionError(Exception):
    """An action that the state machine does not allow from the ticket's state."""

    def __init__(self, state: TicketState, action: Action, reason: str | None = None) -> None:
        self.state = state
        self.action = action
        self.allowed = allowed_actions(state)
        allowed = ", ".join(a.value for a in self.allowed) or "none (the ticket is closed)"
        detail = reason or f"cannot {action.value} a ticket that is {state.value}"
        super().__init__(
            f"{detail}; the ticket is {state.value} ({STATE_LABELS_ZH[state]}), "
            f"allowed actions: {allowed}"
        )


def allowed_actions(state: TicketState) -> list[Action]:
    return [a for (s, a) in TRANSITIONS if s == state]


def next_state(state: TicketState, action: Action, *, recalls: int = 0) -> TicketState:
    """Return the state after ``action`` or raise TransitionError.

    Guards that depend on the ticket (not only its state) live here too, so that
    no caller re-implements them.
    """
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise TransitionError(state, action)
    if action is Action.RECALL and recalls >= MAX_RECALLS:
        raise TransitionError(
            state,
            action,
            f"already recalled {recalls} times (the limit is {MAX_RECALLS}); "
            "mark the ticket as no-show instead",
        )
    return target
