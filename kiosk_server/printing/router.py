from __future__ import annotations

import contextlib
import logging
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse

from kiosk_server.audit.service import record
from kiosk_server.auth.principal import DeviceKind, Role
from kiosk_server.auth.service import principal_from_token
from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.deps import Ctx, DbId, Who
from kiosk_server.errors import DomainError, NotFound, Unavailable
from kiosk_server.halls import repository as halls_repo
from kiosk_server.printing import repository as repo
from kiosk_server.printing import service
from kiosk_server.printing.runtime import AgentConn, runtime
from kiosk_server.printing.schemas import PrinterStateOut, PrintJobOut
from kiosk_server.tickets import repository as tickets_repo
from kiosk_server.tickets import service as tickets_service
from kiosk_server.tickets.queue import load_queue
from ticket_printer.status import STATE_TEXT

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["printing"])
ws_router = APIRouter(tags=["printing"])


@router.post(
    "/tickets/{ticket_id}/reprint",
    response_model=PrintJobOut,
    status_code=201,
    summary="Print a ticket again (staff of its hall)",
    description="Creates a new print job and waits briefly for it; `state` says how it went.",
)
async def reprint(ctx: Ctx, who: Who, ticket_id: DbId) -> PrintJobOut:
    rt = runtime(ctx)
    async with unit_of_work(ctx.db) as uow:
        s = uow.session
        ticket = await tickets_repo.by_id(s, ticket_id)
        if ticket is None:
            raise NotFound(f"there is no ticket with id {ticket_id}")
        who.require_role(Role.STAFF, ticket.hall_id)
        if rt.mode == "off":
            raise Unavailable("printing is switched off on this server (printer_url none://)")
        hall = await halls_repo.get_hall_by_id(s, ticket.hall_id)
        svc = await halls_repo.get_service_by_id(s, ticket.service_id)
        # The reprint shows the queue as it is now, not as it was at issue.
        queue = await load_queue(ctx, s, hall, ctx.clock.now())
        out = tickets_service.ticket_out(ctx, ticket, svc, queue=queue)
        view = service.build_view(hall, svc, ticket, out)
        job = service.new_job(ctx, uow, ticket, view, rt.target, who.actor, reprint=True)
        await s.flush()
        job_id = job.id
        record(ctx, uow, who, "ticket.reprint", hall_id=hall.id, target=ticket.number)
    # Staff ask for a reprint after fixing the printer: try it even if it looked empty.
    await rt.run(ctx, job_id, wait=ctx.settings.print_wait_seconds, force=True)
    async with unit_of_work(ctx.db, write=False) as uow:
        final = await repo.job(uow.session, job_id)
        assert final is not None
        return service.job_out(final)


@router.get(
    "/tickets/{ticket_id}/print-jobs",
    response_model=list[PrintJobOut],
    summary="Every print job of a ticket (staff)",
)
async def ticket_jobs(ctx: Ctx, who: Who, ticket_id: DbId) -> list[PrintJobOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        ticket = await tickets_repo.by_id(uow.session, ticket_id)
        if ticket is None:
            raise NotFound(f"there is no ticket with id {ticket_id}")
        who.require_role(Role.STAFF, ticket.hall_id)
        return [service.job_out(j) for j in await repo.jobs_for_ticket(uow.session, ticket_id)]


@router.get(
    "/halls/{hall}/print-jobs",
    response_model=list[PrintJobOut],
    summary="Recent print jobs of a hall, newest first (supervisor)",
)
async def hall_jobs(
    ctx: Ctx,
    who: Who,
    hall: str,
    state: Literal["queued", "sent", "printed", "failed"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[PrintJobOut]:
    async with unit_of_work(ctx.db, write=False) as uow:
        h = await halls_repo.get_hall(uow.session, hall)
        who.require_role(Role.SUPERVISOR, h.id)
        return [service.job_out(j) for j in await repo.hall_jobs(uow.session, h.id, state, limit)]


@router.get(
    "/halls/{hall}/printer",
    response_model=PrinterStateOut,
    summary="The hall's ticket printer state (kiosk device or staff)",
    description="The kiosk page reads this to warn before a resident taps (缺纸, 离线 …).",
)
async def printer_state(ctx: Ctx, who: Who, hall: str) -> PrinterStateOut:
    rt = runtime(ctx)
    async with unit_of_work(ctx.db, write=False) as uow:
        h = await halls_repo.get_hall(uow.session, hall)
        if who.kind == "device":
            who.require_device(DeviceKind.KIOSK, DeviceKind.PRINTER, hall_id=h.id)
        else:
            who.require_role(Role.STAFF, h.id)
        if rt.mode == "off":
            return PrinterStateOut(
                mode="off",
                state="off",
                text="未启用打印",
                can_print=False,
                device_id=None,
                agents_connected=None,
                status={},
            )
        if rt.mode == "local":
            dev = await repo.local_printer(uow.session, h.id)
            status: dict[str, Any] = dict(dev.status) if dev is not None and dev.status else {}
            if not status and rt.status is not None:
                status = rt.status.to_dict()
            return _state("local", status, dev.id if dev else None, None)
        conns = rt.connected(h.id)
        if not conns:
            return _state(
                "agent",
                {"state": "offline", "detail": "no print agent connected"},
                None,
                0,
            )
        agent = await repo.device(uow.session, conns[-1].device_id)
        status = dict(agent.status) if agent is not None and agent.status else {}
        return _state("agent", status, conns[-1].device_id, len(conns))


def _state(
    mode: Literal["local", "agent"], status: dict[str, Any], device_id: int | None, n: int | None
) -> PrinterStateOut:
    status = service.status_dict(status) if status else service.status_dict({"state": "unknown"})
    state = str(status["state"])
    return PrinterStateOut(
        mode=mode,
        state=state,
        text=STATE_TEXT[state],
        can_print=state in ("ok", "paper_near_end"),
        device_id=device_id,
        agents_connected=n,
        status=status,
    )


async def _deny(ws: WebSocket, status: int, code: str, message: str) -> None:
    """Refuse the handshake with an HTTP error the agent can show (403 without the extension)."""
    try:
        await ws.send_denial_response(
            JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
        )
    except RuntimeError:
        await ws.close(code=4000 + status, reason=message[:120])


@ws_router.websocket("/ws/printer")
async def printer_agent_ws(ws: WebSocket) -> None:
    """A print agent's line: ``job`` messages out, ``ack``/``status`` back (ticket_printer/agent.py)."""
    ctx: AppContext = ws.app.state.ctx
    rt = runtime(ctx)
    # Refused before the handshake, with a status the agent tells apart from a
    # network problem: 401/403/409 stop it, anything else is retried.
    try:
        who = await principal_from_token(ctx, ws.query_params.get("token") or "")
    except DomainError as exc:
        await _deny(ws, 401, "unauthorized", exc.message)
        return
    if who.kind != "device" or who.device_kind is not DeviceKind.PRINTER:
        await _deny(ws, 403, "forbidden", "this needs a printer device token")
        return
    if rt.mode != "agent":
        await _deny(
            ws, 409, "conflict", "this server prints itself (its printer_url is not agent://)"
        )
        return
    assert who.hall_ids is not None
    hall_id = next(iter(who.hall_ids))
    async with unit_of_work(ctx.db, write=False) as uow:
        hall = await halls_repo.get_hall_by_id(uow.session, hall_id)
    await ws.accept()
    conn = AgentConn(ws=ws, device_id=who.id, hall_id=hall_id, hall_code=hall.code)
    rt.register(conn)
    try:
        await conn.send({"type": "hello", "hall": hall.code, "device_id": who.id})
        await rt.send_backlog(ctx, conn)
        while True:
            msg = await ws.receive_json()
            if not isinstance(msg, dict):
                continue
            kind = msg.get("type")
            if kind == "ack":
                await rt.on_ack(ctx, conn, msg)
            elif kind == "status" and isinstance(msg.get("status"), dict):
                await rt.on_status(ctx, conn, msg["status"])
    except (WebSocketDisconnect, RuntimeError, ValueError):
        pass
    finally:
        with contextlib.suppress(Exception):
            await rt.unregister(ctx, conn)
