"""Carrying out keypad and rating-pad intents.

``CounterActions`` is the port: the device bridge hands it an intent and gets
back what to show on the device. ``HttpCounterActions`` implements it with the
same HTTP calls the counter page makes (a bridge process on the counter PC or
the hall's serial server); inside the server, phase 2 can implement the same
protocol by calling the counter service directly.

HTTP contract (the server's counter API; bearer token of the counter's keypad
device, or one token for all)::

    POST /api/v1/counters/{id}/call-next | recall | start | no-show | hold
                               | pause | resume                      (no body)
    POST /api/v1/counters/{id}/finish    {"outcome": "completed"|...}
    POST /api/v1/counters/{id}/call      {"number": "A012"}   (指定叫号 and 回呼)
    POST /api/v1/counters/{id}/transfer  {"counter": 5}
    POST /api/v1/tickets/{ticket_id}/rating   {"score": 1-5}

Intents carry the counter *number* (what the installer, the events and the
LED map use); ``counter_ids`` turns it into the API's counter id.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from kiosk_server.devices.intents import KeypadIntent, RatingIntent
from kiosk_server.devices.protocol import NackReason

log = logging.getLogger(__name__)

ENDPOINTS = {
    "call_next": "call-next",
    "recall": "recall",
    "start": "start",
    "finish": "finish",
    "no_show": "no-show",
    "hold": "hold",
    "call": "call",
    "call_back": "call",
    "transfer": "transfer",
    "pause": "pause",
    "resume": "resume",
}
THANKS = "谢谢您的评价"
NOTHING_TO_RATE = "暂无可评价业务"
OFFLINE = "服务器未连接"


@dataclass(frozen=True)
class DeviceReply:
    ok: bool
    text: str  # for the keypad LCD / rating pad, at most 16 Chinese characters
    reason: NackReason = NackReason.REFUSED


class CounterActions(Protocol):
    # Shared with the device bridge: its events light the pad, its answers rate.
    last_finished: LastFinished

    async def keypad(self, intent: KeypadIntent) -> DeviceReply: ...

    async def rate(self, intent: RatingIntent) -> DeviceReply: ...


def keypad_request(
    intent: KeypadIntent, counter_id: int | None = None
) -> tuple[str, dict[str, Any] | None]:
    """The counter-page request for a key: (path, JSON body or None)."""
    cid = intent.counter if counter_id is None else counter_id
    path = f"/api/v1/counters/{cid}/{ENDPOINTS[intent.action]}"
    body: dict[str, Any] | None = None
    if intent.action in ("call", "call_back"):
        body = {"number": intent.number}
    elif intent.action == "finish":
        body = {"outcome": intent.outcome or "completed"}
    elif intent.action == "transfer":
        body = {"counter": intent.to_counter}
    return path, body


def _ticket_number(data: Any) -> str | None:
    if not isinstance(data, Mapping):
        return None
    for candidate in (data, data.get("ticket")):
        if isinstance(candidate, Mapping) and isinstance(candidate.get("number"), str):
            return str(candidate["number"])
    return None


class LastFinished:
    """Which ticket a counter's rating pad would rate, from the hall's events.

    A ticket can be rated from the pad from its ``ticket.finished`` until the
    counter calls the next resident (who must not rate the one before).
    """

    def __init__(self) -> None:
        self.by_counter: dict[int, tuple[Any, str | None]] = {}

    def note(self, event: Mapping[str, Any]) -> int | None:
        """Update from an event; return the counter whose pad state changed, if any."""
        data = event.get("data")
        if not isinstance(data, Mapping) or not isinstance(data.get("counter"), int):
            return None
        counter = int(data["counter"])
        kind = event.get("type")
        if kind == "ticket.finished":
            ticket = data.get("ticket_id", data.get("id"))
            if ticket is None:
                return None
            self.by_counter[counter] = (ticket, _ticket_number(data))
            return counter
        if kind in ("ticket.called", "ticket.called_back") and counter in self.by_counter:
            del self.by_counter[counter]
            return counter
        return None

    def take(self, counter: int) -> tuple[Any, str | None] | None:
        return self.by_counter.get(counter)

    def rated(self, counter: int, ticket: Any) -> None:
        if self.by_counter.get(counter, (None,))[0] == ticket:
            del self.by_counter[counter]


class HttpCounterActions:
    def __init__(
        self,
        base_url: str,
        token: str | Mapping[int, str],
        *,
        counter_ids: Mapping[int, int] | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 5.0,
        last_finished: LastFinished | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = token  # one token, or counter number -> that keypad's token
        self.counter_ids = dict(counter_ids or {})
        self.client = client or httpx.AsyncClient(timeout=timeout, trust_env=False)
        self._own_client = client is None
        self.last_finished = last_finished or LastFinished()

    def _headers(self, counter: int) -> dict[str, str]:
        token = self.tokens if isinstance(self.tokens, str) else self.tokens.get(counter, "")
        return {"Authorization": f"Bearer {token}"}

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

    async def _post(
        self, counter: int, path: str, body: dict[str, Any] | None
    ) -> httpx.Response | None:
        try:
            return await self.client.post(
                self.base_url + path, json=body, headers=self._headers(counter)
            )
        except httpx.HTTPError as e:
            log.warning("POST %s failed: %s", path, e)
            return None

    async def keypad(self, intent: KeypadIntent) -> DeviceReply:
        path, body = keypad_request(intent, self.counter_ids.get(intent.counter))
        resp = await self._post(intent.counter, path, body)
        if resp is None or resp.status_code >= 500:
            return DeviceReply(False, OFFLINE, NackReason.UNAVAILABLE)
        if resp.is_success:
            try:
                number = _ticket_number(resp.json())
            except ValueError:
                number = None
            return DeviceReply(
                True, f"{intent.label} {number}" if number else f"{intent.label}成功"
            )
        log.info(
            "counter %s %s refused: %s %s",
            intent.counter,
            intent.action,
            resp.status_code,
            resp.text[:200],
        )
        return DeviceReply(False, f"{intent.label}失败")

    async def rate(self, intent: RatingIntent) -> DeviceReply:
        target = self.last_finished.take(intent.counter)
        if target is None:
            return DeviceReply(False, NOTHING_TO_RATE)
        ticket, _ = target
        resp = await self._post(
            intent.counter, f"/api/v1/tickets/{ticket}/rating", {"score": intent.score}
        )
        if resp is None or resp.status_code >= 500:
            return DeviceReply(False, OFFLINE, NackReason.UNAVAILABLE)
        if resp.is_success or resp.status_code == 409:  # 409: rated already (e.g. on the page)
            self.last_finished.rated(intent.counter, ticket)
            return DeviceReply(resp.is_success, THANKS if resp.is_success else "已评价")
        return DeviceReply(False, "评价失败")
