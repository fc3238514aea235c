"""Print jobs: creation in the ticket's transaction, outcomes, printer device status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk_server.auth.models import Device
from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork
from kiosk_server.events.service import emit
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall, Service
from kiosk_server.printing.models import PrintJob
from kiosk_server.printing.schemas import PrintJobOut
from kiosk_server.tickets.models import Ticket
from kiosk_server.tickets.schemas import TicketOut
from ticket_printer import TicketView
from ticket_printer.status import STATE_TEXT

FINAL_STATES = ("printed", "failed")


@dataclass(frozen=True)
class Outcome:
    """How a job ended (or that it has not ended yet)."""

    job_id: int
    state: str
    code: str | None = None
    reason: str | None = None

    @property
    def printed(self) -> bool | None:
        if self.state == "printed":
            return True
        if self.state == "failed":
            return False
        return None


def build_view(hall: Hall, service: Service, ticket: Ticket, out: TicketOut) -> dict[str, Any]:
    """The ticket as printed, as JSON (TicketView fields); issue time in the hall's zone."""
    issued = HallConfig.of(hall).local(ticket.issued_at)
    return {
        "hall_name": hall.name,
        "number": ticket.number,
        "service_name": service.name_zh,
        "service_name_en": service.name_en or None,
        "channel": ticket.channel,
        "ahead": out.ahead or 0,
        "estimated_wait_minutes": out.estimated_wait_minutes,
        "issued_at": issued.isoformat(),
        "materials": [str(m) for m in service.materials or []],
        "status_url": out.status_url,
        "hotline": hall.hotline,
        "guide": service.guide,
    }


def view_from_json(data: dict[str, Any]) -> TicketView:
    fields = dict(data)
    fields["issued_at"] = datetime.fromisoformat(str(fields["issued_at"]))
    return TicketView(**fields)


def new_job(
    ctx: AppContext,
    uow: UnitOfWork,
    ticket: Ticket,
    view: dict[str, Any],
    target: str,
    requested_by: str,
    *,
    reprint: bool = False,
) -> PrintJob:
    now = ctx.clock.now()
    job = PrintJob(
        ticket_id=ticket.id,
        hall_id=ticket.hall_id,
        target=target,
        state="queued",
        attempts=0,
        reprint=reprint,
        requested_by=requested_by[:80],
        view=view,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(job)
    return job


def job_out(job: PrintJob) -> PrintJobOut:
    return PrintJobOut(
        id=job.id,
        ticket_id=job.ticket_id,
        number=str(job.view.get("number", "")),
        target=job.target,  # type: ignore[arg-type]
        state=job.state,  # type: ignore[arg-type]
        printed=job.state == "printed",
        attempts=job.attempts,
        code=job.code,
        reason=job.reason,
        reprint=job.reprint,
        device_id=job.device_id,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


def finish_job(
    ctx: AppContext,
    uow: UnitOfWork,
    job: PrintJob,
    *,
    ok: bool,
    attempts: int,
    code: str | None,
    reason: str | None,
    device_id: int | None,
    hall_code: str,
) -> Outcome:
    if not ok:
        # Counted once the failure is recorded: a rolled-back ack counts nothing.
        async def _count() -> None:
            ctx.metrics.print_failures.labels(hall_code).inc()

        uow.after_commit(_count)
    job.state = "printed" if ok else "failed"
    job.attempts += attempts
    job.code = None if ok else (code or "error")
    job.reason = None if ok else (reason or "打印失败 / print failed")
    job.device_id = device_id
    job.updated_at = ctx.clock.now()
    return Outcome(job.id, job.state, job.code, job.reason)


def status_dict(status: dict[str, Any]) -> dict[str, Any]:
    """A status as reported (PrinterStatus.to_dict() or an agent's), with a text label."""
    state = str(status.get("state") or "unknown")
    if state not in STATE_TEXT:
        state = "unknown"
    out = dict(status)
    out["state"] = state
    out["text"] = STATE_TEXT[state]
    return out


async def apply_status(
    ctx: AppContext, uow: UnitOfWork, dev: Device, hall_code: str, status: dict[str, Any]
) -> bool:
    """Store a printer's status on its device row; emit ``device.status`` when the state changes.

    A first status of ``ok`` is stored quietly: screens only care about trouble
    and its end, and every fresh hall would otherwise start with an event.
    """
    new = status_dict(status)
    old_state = (dev.status or {}).get("state")
    if old_state == new["state"]:
        return False
    new["since"] = ctx.clock.now().isoformat()
    dev.status = new
    if old_state is None and new["state"] == "ok":
        return False
    await emit(
        ctx,
        uow,
        dev.hall_id,
        hall_code,
        "device.status",
        {"device_id": dev.id, "kind": dev.kind, "name": dev.name, "status": new},
    )
    return True
