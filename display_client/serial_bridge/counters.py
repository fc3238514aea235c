"""Caller keypads and rating pads on one serial line, driven against a hallq server.

The bridge answers key presses with the counter page's own HTTP requests
(``kiosk_server.devices.actions.HttpCounterActions``) and lights each counter's
rating pad from the hall's event stream (``ticket.finished`` → prompt, the next
call → idle). Every device authenticates with its own device token: a keypad
token is bound to its counter, so ``GET /api/v1/auth/me`` tells the bridge which
counter id and number it belongs to, and the server refuses a keypad acting on
any other counter.

Tokens come from a JSON file shaped like the demo's ``demo-tokens.json``:
``{"keypad_1": "hqd_…", "rating_pad_1": "hqd_…", …}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from display_client.serial_bridge.device import ask_me, learn_hall
from display_client.serial_bridge.feed import DisplayFeed, run_bridge
from display_client.serial_bridge.led import Plan
from kiosk_server.devices.actions import HttpCounterActions
from kiosk_server.devices.bridge import CounterDeviceBridge
from kiosk_server.devices.link import SerialLink

log = logging.getLogger(__name__)


class TokenError(ValueError):
    """The tokens do not fit the keypad / rating-pad map (missing, or another counter's)."""


def load_tokens(path: str | Path) -> dict[str, str]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise TokenError(f"{path}: expected a JSON object of name -> token")
    return {str(k): str(v) for k, v in data.items()}


@dataclass(frozen=True)
class DeviceTokens:
    by_counter: dict[int, str]  # the token each counter's requests carry
    counter_ids: dict[int, int]  # counter number -> API counter id (counters with a keypad)


def pick_tokens(
    tokens: Mapping[str, str], keypads: Mapping[int, int], rating_pads: Mapping[int, int]
) -> dict[int, str]:
    """Counter number -> token: the keypad's (it may also rate), else the rating pad's."""
    out: dict[int, str] = {}
    for counter in sorted(set(keypads) | set(rating_pads)):
        keypad = tokens.get(f"keypad_{counter}")
        pad = tokens.get(f"rating_pad_{counter}")
        if counter in keypads and not keypad:
            raise TokenError(f"no keypad_{counter} token for the keypad of counter {counter}")
        token = keypad or pad
        if not token:
            raise TokenError(f"no rating_pad_{counter} token for the pad of counter {counter}")
        out[counter] = token
    return out


async def discover(
    client: httpx.AsyncClient,
    server: str,
    by_counter: Mapping[int, str],
    *,
    backoff_max: float = 5.0,
) -> DeviceTokens:
    """Ask the server which counter each token belongs to; waits for a server that
    is not up yet (a hall PC often boots before the server does)."""
    counter_ids: dict[int, int] = {}
    for counter, token in by_counter.items():
        resp = await ask_me(client, server, token, backoff_max=backoff_max)
        if resp.status_code != 200:
            raise TokenError(f"counter {counter}: the server refused its token ({resp.text})")
        me: dict[str, Any] = resp.json()
        number = me.get("counter_number")
        if number is not None and number != counter:
            raise TokenError(f"the token given for counter {counter} belongs to counter {number}")
        if me.get("device_kind") == "keypad" and isinstance(me.get("counter_id"), int):
            counter_ids[counter] = int(me["counter_id"])
    return DeviceTokens(dict(by_counter), counter_ids)


class PadFeedConsumer:
    """Feeds the hall's events to the device bridge (rating-pad prompts)."""

    def __init__(self, bridge: CounterDeviceBridge) -> None:
        self.bridge = bridge
        self.last_seq: int | None = None

    async def on_event(self, event: Mapping[str, Any]) -> Plan:
        if event.get("type") == "resync":
            return Plan(resync=True)
        seq = event.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            if self.last_seq is not None and seq <= self.last_seq:
                return Plan()  # replayed after a reconnect
            self.last_seq = seq
        await self.bridge.note_event(event)
        return Plan()

    async def on_snapshot(self, snapshot: Mapping[str, Any]) -> None:
        seq = snapshot.get("seq")
        if isinstance(seq, int) and not isinstance(seq, bool):
            self.last_seq = seq


async def serve_devices(
    *,
    server: str,
    hall: str | None,
    port: str,
    keypads: Mapping[int, int],
    rating_pads: Mapping[int, int],
    tokens: Mapping[str, str],
    baudrate: int = 9600,
    ready: asyncio.Event | None = None,
) -> None:
    """Run the keypad / rating-pad line until cancelled.

    ``keypads`` and ``rating_pads`` map counter number -> device address; ``hall``
    None means the hall the tokens belong to.
    """
    by_counter = pick_tokens(tokens, keypads, rating_pads)
    async with httpx.AsyncClient(timeout=5.0, trust_env=False) as client:
        found = await discover(client, server, by_counter)
        token = next(iter(found.by_counter.values()))
        if hall is None:
            hall = await learn_hall(client, server, token)
        actions = HttpCounterActions(
            server, found.by_counter, counter_ids=found.counter_ids, client=client
        )
        link = SerialLink(port, baudrate=baudrate, name=f"counter devices {port}")
        bridge = CounterDeviceBridge(
            link,
            actions,
            keypads={a: c for c, a in keypads.items()},
            rating_pads={a: c for c, a in rating_pads.items()},
        )
        feed = DisplayFeed(server, hall, token)
        if ready is not None:
            ready.set()
        try:
            await run_bridge(feed, PadFeedConsumer(bridge), bridge.run())
        finally:
            await link.close()
