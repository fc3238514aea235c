"""Live events over WebSocket: catch up from the database, then stream.

A client connects with ``?since=SEQ``; it gets every event after SEQ that the
database still holds, or ``{"type": "resync"}`` when they are too old, then the
live stream. A gap on the live stream is filled from the database, so a screen
never misses a call. The public hall-screen socket sends withheld events as
seq-only placeholders (see events.display), so its seq stays gap-free too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from kiosk_server.auth.principal import DeviceKind, Principal, Role
from kiosk_server.auth.service import principal_from_token
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.errors import DomainError
from kiosk_server.events import repository as repo
from kiosk_server.events.bus import Subscription
from kiosk_server.events.service import row_to_display_wire, row_to_wire
from kiosk_server.halls import repository as halls_repo

log = logging.getLogger(__name__)
router = APIRouter(tags=["events"])
CATCH_UP_LIMIT = 500


def _ctx(ws: WebSocket) -> AppContext:
    ctx: AppContext = ws.app.state.ctx
    return ctx


async def _catch_up(
    ctx: AppContext, ws: WebSocket, hall_id: int, code: str, since: int, public: bool
) -> int | None:
    """Send events after ``since`` from the database; None if the client must resync."""
    async with unit_of_work(ctx.db, write=False) as uow:
        oldest = await repo.oldest_seq(uow.session, hall_id)
        top = await repo.current_seq(uow.session, hall_id)
        if since > top:
            return None  # the client knows a future: the database was restored
        if since < top and (oldest is None or oldest > since + 1):
            return None
        rows = await repo.since(uow.session, hall_id, since, CATCH_UP_LIMIT + 1)
    if len(rows) > CATCH_UP_LIMIT:
        return None
    last = since
    to_wire = row_to_display_wire if public else row_to_wire
    for row in rows:
        await ws.send_json(to_wire(row, code))
        last = row.seq
    return last


async def _stream(
    ctx: AppContext,
    ws: WebSocket,
    halls: dict[int, str],
    since: dict[int, int] | None,
    *,
    public: bool = False,
    since_ignored: str | None = None,
) -> None:
    """``public``: the hall-screen form (display-safe events, placeholders for
    the rest). ``since_ignored``: the client asked to catch up but could not be
    (why); each hall then starts with a resync saying so."""
    ctx.extras["ws_clients"] = ctx.extras.get("ws_clients", 0) + 1
    sub = ctx.bus.subscribe(frozenset(halls))
    try:
        last: dict[int, int] = {}
        for hall_id, code in halls.items():
            start = since.get(hall_id) if since else None
            if start is None:
                async with unit_of_work(ctx.db, write=False) as uow:
                    last[hall_id] = await repo.current_seq(uow.session, hall_id)
                if since_ignored is not None:
                    # It missed events it cannot be given: a resync, not a hello
                    # that would pass for "caught up".
                    await ws.send_json(
                        {
                            "type": "resync",
                            "hall": code,
                            "seq": last[hall_id],
                            "since_ignored": since_ignored,
                        }
                    )
                else:
                    await ws.send_json({"type": "hello", "hall": code, "seq": last[hall_id]})
                continue
            got = await _catch_up(ctx, ws, hall_id, code, start, public)
            if got is None:
                async with unit_of_work(ctx.db, write=False) as uow:
                    last[hall_id] = await repo.current_seq(uow.session, hall_id)
                await ws.send_json({"type": "resync", "hall": code, "seq": last[hall_id]})
            else:
                last[hall_id] = got
                await ws.send_json({"type": "hello", "hall": code, "seq": got})
        # The reader ends the subscription when the client goes away, so the
        # loop waits on one queue (no task per event: 200 screens per call).
        reader = asyncio.create_task(_drain(ws, sub))
        try:
            while True:
                ev = await sub.queue.get()
                if ev is None:
                    if sub.client_left:
                        return
                    # The subscription ended: this client fell behind or the bus
                    # reconnected. Tell it to fetch the snapshot and reconnect.
                    for hall_id, code in halls.items():
                        await ws.send_json(
                            {"type": "resync", "hall": code, "seq": last.get(hall_id, 0)}
                        )
                    await ws.close(code=1013)
                    return
                seen = last.get(ev.hall_id, 0)
                if ev.seq <= seen:
                    continue
                if ev.seq > seen + 1:
                    got = await _catch_up(ctx, ws, ev.hall_id, ev.hall_code, seen, public)
                    if got is None:
                        await ws.send_json({"type": "resync", "hall": ev.hall_code, "seq": ev.seq})
                        last[ev.hall_id] = ev.seq
                        continue
                    last[ev.hall_id] = got
                    if ev.seq <= got:
                        continue
                await ws.send_text(ev.display_text if public else ev.wire_text)
                last[ev.hall_id] = ev.seq
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        ctx.bus.unsubscribe(sub)
        ctx.extras["ws_clients"] -= 1


async def _drain(ws: WebSocket, sub: Subscription) -> None:
    """Read (and ignore) client messages so a disconnect is noticed."""
    try:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await ws.receive_text()
    finally:
        sub.leave()


def _since(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise ValueError("since must be a non-negative integer")
    return int(raw)


async def _auth(ctx: AppContext, ws: WebSocket) -> Principal | None:
    token = ws.query_params.get("token")
    if not token:
        return None
    return await principal_from_token(ctx, token)


async def _refuse(ws: WebSocket, code: int, reason: str) -> None:
    """Accept, then close with our code: a close before the handshake reaches the
    client as a bare HTTP 403, and it could not tell "log in again" (4401) from
    "not yours" (4403) or a bad request (4400)."""
    await ws.accept()
    await ws.close(code=code, reason=reason[:120])


@router.websocket("/ws/halls/{hall}/display")
async def display_ws(ws: WebSocket, hall: str) -> None:
    """Public, display-safe hall events (ticket numbers and counters only); a
    token is optional, but a token given must be valid and of this hall."""
    ctx = _ctx(ws)
    try:
        async with unit_of_work(ctx.db, write=False) as uow:
            h = await halls_repo.get_hall(uow.session, hall)
    except DomainError as exc:
        await _refuse(ws, 4404, exc.message)  # a screen with a mistyped hall code
        return
    try:
        since = _since(ws.query_params.get("since"))
        who = await _auth(ctx, ws)
        if who is not None:
            who.require_hall(h.id)
    except (DomainError, ValueError) as exc:
        if isinstance(exc, DomainError):
            code, reason = (4401 if exc.status == 401 else 4403), exc.message
        else:
            code, reason = 4400, str(exc)
        await _refuse(ws, code, reason)
        return
    await ws.accept()
    await _stream(
        ctx, ws, {h.id: h.code}, {h.id: since} if since is not None else None, public=True
    )


@router.websocket("/ws/staff")
async def staff_ws(ws: WebSocket) -> None:
    """Events for staff pages and bridges: needs a staff token or a device token
    (LED bridge, keypad, rating pad, kiosk); ``?hall=CODE`` narrows to one hall."""
    ctx = _ctx(ws)
    try:
        who = await _auth(ctx, ws)
        if who is None:
            await _refuse(ws, 4401, "log in first: pass ?token=")
            return
        if who.kind == "user":
            who.require_role(Role.STAFF)
        elif who.device_kind not in (
            DeviceKind.LED_BRIDGE,
            DeviceKind.KEYPAD,
            DeviceKind.RATING_PAD,
            DeviceKind.KIOSK,
            DeviceKind.PRINTER,
        ):
            await _refuse(ws, 4403, "this device may not read staff events")
            return
        code = ws.query_params.get("hall")
        since = _since(ws.query_params.get("since"))
        async with unit_of_work(ctx.db, write=False) as uow:
            halls: dict[int, str] = {}
            for h in await halls_repo.list_halls(uow.session):
                if who.can_see_hall(h.id) and (code is None or h.code == code):
                    halls[h.id] = h.code
        if code is not None and not halls:
            await _refuse(ws, 4403, "no access to that hall")
            return
    except DomainError as exc:
        await _refuse(ws, 4401 if exc.status == 401 else 4403, exc.message)
        return
    except ValueError as exc:
        await _refuse(ws, 4400, str(exc))
        return
    await ws.accept()
    since_map: dict[int, int] | None = None
    ignored: str | None = None
    if since is not None and len(halls) == 1:
        since_map = {next(iter(halls)): since}
    elif since is not None:
        # Seqs are per hall: one number cannot say where each hall left off.
        ignored = "since= applies to one hall: add &hall=CODE to catch up"
    await _stream(ctx, ws, halls, since_map, since_ignored=ignored)
