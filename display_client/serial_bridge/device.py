"""The bridge as a device of the server: which hall its token belongs to, and its status.

``GET /api/v1/auth/me`` with a device token names the one hall the device was
paired with, so ``--hall`` can be left out. ``POST /api/v1/devices/me/status``
stores the device's state where the supervisor sees it
(``GET /api/v1/halls/{hall}/devices``); the LED bridge reports its serial port:

* ``ok`` — the port is open and the screens are driven;
* ``reconnecting`` — the port was just lost (or is being opened); reopening;
* ``port_gone`` — opening the port failed (adapter unplugged, converter off).

A report goes out on every change and, unchanged, every ``every`` seconds so
``last_seen_at`` shows the bridge is alive. A server that is down or refuses
the report never stops the bridge: the screens matter more than the report.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any

import httpx

from kiosk_server.devices.link import SerialLink

log = logging.getLogger(__name__)

OK = "ok"
RECONNECTING = "reconnecting"
PORT_GONE = "port_gone"


class HallUnknown(ValueError):
    """The token does not name exactly one hall (refused, or a user's token)."""


async def ask_me(
    client: httpx.AsyncClient, server: str, token: str, *, backoff_max: float = 5.0
) -> httpx.Response:
    """``GET /api/v1/auth/me`` for a device token: retried with backoff while the
    server is unreachable or failing (a hall PC often boots before the server),
    then the first answer it gives, accepted or refused."""
    delay = 0.2
    while True:
        try:
            resp = await client.get(
                f"{server.rstrip('/')}/api/v1/auth/me",
                headers={"Authorization": f"Bearer {token}"},
            )
            if resp.status_code < 500:
                return resp
        except httpx.HTTPError as e:
            log.warning("server not reachable (%s); retrying in %.1fs", e, delay)
        await asyncio.sleep(delay * random.uniform(0.8, 1.2))
        delay = min(delay * 2, backoff_max)


async def learn_hall(
    client: httpx.AsyncClient, server: str, token: str, *, backoff_max: float = 5.0
) -> str:
    """The code of the hall the device token belongs to; waits for a server not up yet."""
    resp = await ask_me(client, server, token, backoff_max=backoff_max)
    if resp.status_code != 200:
        raise HallUnknown(f"the server refused the token (HTTP {resp.status_code}): {resp.text}")
    me: dict[str, Any] = resp.json()
    halls = me.get("halls")
    if me.get("kind") != "device" or not isinstance(halls, list) or len(halls) != 1:
        raise HallUnknown("the token is not a device token of one hall: give --hall")
    return str(halls[0])


def port_state(link: SerialLink) -> tuple[str, str]:
    """(state, detail) of the link as the server should show it."""
    if link.connected:
        return OK, f"串口已打开 / port open: {link.url}"
    if link.open_failures > 0:
        return PORT_GONE, f"串口不可用 / cannot open {link.url}"
    return RECONNECTING, f"正在重连串口 / reopening {link.url}"


class PortStatusReporter:
    """Posts the link's state to ``/devices/me/status`` on change and periodically."""

    def __init__(
        self,
        link: SerialLink,
        client: httpx.AsyncClient,
        server: str,
        token: str,
        *,
        poll: float = 0.5,
        every: float = 60.0,
    ) -> None:
        self.link = link
        self.client = client
        self.url = f"{server.rstrip('/')}/api/v1/devices/me/status"
        self.token = token
        self.poll = poll
        self.every = every
        self.reported: str | None = None  # the state the server last accepted
        self.reports = 0
        self.failures = 0

    async def report(self, state: str, detail: str) -> bool:
        try:
            resp = await self.client.post(
                self.url,
                json={"state": state, "detail": detail},
                headers={"Authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError as e:
            self.failures += 1
            log.warning("device status not reported (%s)", e)
            return False
        if not resp.is_success:
            self.failures += 1
            log.warning("device status refused: HTTP %s %s", resp.status_code, resp.text[:200])
            return False
        self.reported = state
        self.reports += 1
        return True

    async def run(self) -> None:
        """Until cancelled. The link has no close hook, so its state is sampled every
        ``poll`` seconds: cheap (no I/O) and a lost port shows within that time."""
        loop = asyncio.get_running_loop()
        last_try = -float("inf")
        retry = self.poll
        while True:
            state, detail = port_state(self.link)
            now = loop.time()
            due = state != self.reported or now - last_try >= self.every
            if due and now - last_try >= retry:
                last_try = now
                if await self.report(state, detail):
                    retry = self.poll
                else:
                    # A down server is asked again, but less and less often.
                    retry = min(max(retry * 2, 1.0), self.every)
            await asyncio.sleep(self.poll)
