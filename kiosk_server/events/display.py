"""What the public hall-screen socket may carry.

``/ws/halls/{hall}/display`` needs no login: anyone on the hall network can
read it. It therefore forwards only an explicit allow-list of event types, the
ones screens, phones and the LED / rating-pad bridges act on (ticket numbers,
counters, notices). Everything else (ratings, follow-ups, device status,
overtime alerts, and any type added later) goes to staff sockets only.

The seq contract: seq numbers are per hall and shared by all events, and a
display client treats a jump in seq as lost events (it fetches the snapshot).
So a withheld event is not skipped: it is sent as a placeholder
``{"seq": N, "type": "hidden", "hall": CODE}`` that carries neither its type,
its time nor its data. The client advances its seq on it and does nothing else;
live and catch-up (``?since=``) streams alike stay gap-free.

(The placeholder does show that something happened; so does the public
snapshot's seq. Hiding even that needs a separate display-only sequence. What
it must not show is which ratings were bad: a rating is one event whatever its
score, the follow-up a bad one opens travelling in the same event.)
"""

from __future__ import annotations

import json
from typing import Any

HIDDEN = "hidden"

# Exact names, not prefixes: a new type stays off the public screen until
# someone decides it is safe there.
DISPLAY_TYPES = frozenset(
    {
        "ticket.issued",
        "ticket.called",
        "ticket.called_back",
        "ticket.recalled",
        "ticket.started",
        "ticket.held",
        "ticket.no_show",
        "ticket.transferred",
        "ticket.finished",
        "ticket.cancelled",
        "counter.opened",
        "counter.paused",
        "counter.resumed",
        "counter.closed",
        "counter.updated",
        "hall.updated",  # notices, hall name: the screen shows them
        "catalog.updated",  # item names and the waiting list per item
    }
)

# Fields of an allowed type that still do not belong on a public screen: how a
# resident's business ended (missing papers, proxy case) and how long it took.
PRIVATE_FIELDS: dict[str, frozenset[str]] = {
    "ticket.finished": frozenset({"outcome", "service_seconds", "over_target"}),
}


def display_safe(type_: str) -> bool:
    return type_ in DISPLAY_TYPES


def display_wire(
    seq: int, type_: str, at: str, hall_code: str, data: dict[str, Any]
) -> dict[str, Any]:
    """The event as a hall screen receives it (a placeholder when withheld)."""
    if not display_safe(type_):
        return {"seq": seq, "type": HIDDEN, "hall": hall_code}
    drop = PRIVATE_FIELDS.get(type_, frozenset())
    return {
        "seq": seq,
        "type": type_,
        "at": at,
        "hall": hall_code,
        "data": {k: v for k, v in data.items() if k not in drop},
    }


def dumps(msg: dict[str, Any]) -> str:
    return json.dumps(msg, ensure_ascii=False, separators=(",", ":"))
