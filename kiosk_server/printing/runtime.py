"""The print spooler that lives in the server process.

Jobs are created in the ticket's transaction (``print_jobs`` row, state
``queued``) and handed over here only after commit, so a printer can never
hold up or undo an issued ticket:

* ``local`` mode (``printer_url`` = dummy/tcp/serial/usb/file): one asyncio
  worker takes jobs in order and prints them with ``ticket_printer.deliver``
  in a thread, each try bounded by ``print_timeout_seconds``. A local job goes
  from ``queued`` straight to ``printed`` or ``failed`` (no ``sent`` step:
  that would cost a database write per ticket for nothing).
* ``agent`` mode (``agent://``): jobs are pushed over ``/ws/printer`` to the
  hall's print agent (``sent``) and end on its acknowledgement; an agent that
  (re)connects gets every open job of its hall.
* ``off`` (``none://``): no jobs.

Callers may wait a short, bounded time for a job's outcome (the kiosk shows
the number on screen when the paper did not come out).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from kiosk_server.context import AppContext
from kiosk_server.db.uow import unit_of_work
from kiosk_server.halls import repository as halls_repo
from kiosk_server.printing import repository as repo
from kiosk_server.printing.service import (
    FINAL_STATES,
    Outcome,
    apply_status,
    finish_job,
    view_from_json,
)
from ticket_printer import Layout, Printer, PrinterStatus, deliver, open_printer, render_ticket
from ticket_printer.spool import DeliveryResult
from ticket_printer.status import PrinterError, error_for

log = logging.getLogger(__name__)

Mode = Literal["local", "agent", "off"]
AGENT_OFFLINE = "打印代理未连接，连接后补打 / print agent not connected; prints when it reconnects"
#: Status of an agent's printer while the agent is away.
AGENT_GONE: dict[str, Any] = {
    "state": "offline",
    "online": False,
    "paper": "unknown",
    "cover_open": None,
    "detail": "print agent disconnected",
}


def mode_of(printer_url: str) -> Mode:
    scheme = urlsplit(printer_url).scheme.lower()
    if scheme == "none":
        return "off"
    if scheme == "agent":
        return "agent"
    return "local"


class AgentSocket(Protocol):
    async def send_json(self, data: Any, mode: str = ...) -> None: ...


@dataclass(eq=False)
class AgentConn:
    """One connected print agent (a printer device token on a kiosk PC)."""

    ws: AgentSocket
    device_id: int
    hall_id: int
    hall_code: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, message: dict[str, Any]) -> None:
        async with self.lock:
            await self.ws.send_json(message)


class PrintRuntime:
    def __init__(self, ctx: AppContext) -> None:
        s = ctx.settings
        self.mode: Mode = mode_of(s.printer_url)
        # Validates the URL at start-up: a typo must stop the server, not every ticket.
        self.printer: Printer | None = open_printer(s.printer_url) if self.mode == "local" else None
        self.layout = Layout(
            paper_mm=s.paper_mm, text_mode=s.printer_text_mode, qr_mode=s.printer_qr_mode
        )
        self.status: PrinterStatus | None = None
        self._status_at = -math.inf
        self._polled_at = -math.inf
        # A paper-out seen this recently fails a job without sending it.
        self._fresh_for = s.printer_status_seconds
        self._queue: asyncio.Queue[tuple[int, bool]] = asyncio.Queue()
        self._waiters: dict[int, list[asyncio.Future[Outcome]]] = {}
        self._worker: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.agents: dict[int, list[AgentConn]] = {}

    @property
    def target(self) -> str:
        return "agent" if self.mode == "agent" else "local"

    # ------------------------------------------------------------ lifecycle

    async def start(self, ctx: AppContext) -> None:
        if self.mode == "local":
            await self._abandon_open_jobs(ctx)
            # The first render imports python-escpos (~0.25 s): not on a resident's ticket.
            await asyncio.to_thread(_warm_up, self.layout)
            self._worker = asyncio.create_task(self._work(ctx), name="print-spooler")
            self._spawn(self.poll_status(ctx, force=True))

    async def stop(self, ctx: AppContext) -> None:
        tasks = [t for t in (self._worker, *self._tasks) if t is not None]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        self._worker = None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _abandon_open_jobs(self, ctx: AppContext) -> None:
        """Jobs left open by a previous run: the resident has long walked away."""
        async with unit_of_work(ctx.db) as uow:
            for job in await repo.open_jobs(uow.session, "local"):
                hall = await halls_repo.get_hall_by_id(uow.session, job.hall_id)
                finish_job(
                    ctx,
                    uow,
                    job,
                    ok=False,
                    attempts=0,
                    code="abandoned",
                    reason="服务重启，未打印 / the server restarted before this job printed",
                    device_id=job.device_id,
                    hall_code=hall.code,
                )

    # ------------------------------------------------------------ waiting

    def _waiter(self, job_id: int) -> asyncio.Future[Outcome]:
        fut: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(job_id, []).append(fut)
        return fut

    def _resolve(self, outcome: Outcome) -> None:
        for fut in self._waiters.pop(outcome.job_id, []):
            if not fut.done():
                fut.set_result(outcome)

    async def run(
        self,
        ctx: AppContext,
        job_id: int,
        *,
        wait: float,
        force: bool = False,
        hall_id: int | None = None,
    ) -> Outcome:
        """Start a committed job; its outcome if it ends within ``wait`` seconds.
        ``hall_id``: the job's hall, when the caller knows it (spares a read)."""
        fut = self._waiter(job_id)
        try:
            if self.mode == "local":
                self._queue.put_nowait((job_id, force))
            elif self.mode == "agent" and not await self.dispatch(ctx, job_id, hall_id):
                return Outcome(job_id, "queued", "agent_offline", AGENT_OFFLINE)
            if wait <= 0:
                return Outcome(job_id, "queued")
            try:
                return await asyncio.wait_for(asyncio.shield(fut), wait)
            except TimeoutError:
                return Outcome(job_id, "queued" if self.mode == "local" else "sent")
        finally:
            waiting = self._waiters.get(job_id, [])
            if fut in waiting:
                waiting.remove(fut)
                if not waiting:
                    self._waiters.pop(job_id, None)

    # ------------------------------------------------------------ local printer

    async def _work(self, ctx: AppContext) -> None:
        while True:
            job_id, force = await self._queue.get()
            try:
                await self._print_local(ctx, job_id, force)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad job must not stop the spooler
                log.exception("print job %s failed unexpectedly", job_id)
                self._resolve(Outcome(job_id, "queued"))

    def _known_bad(self) -> PrinterError | None:
        """The error to fail with at once: paper out or cover open, freshly observed."""
        st = self.status
        if st is None or st.state not in ("paper_out", "cover_open") or self.printer is None:
            return None
        if time.monotonic() - self._status_at > self._fresh_for:
            return None
        return error_for(st, str(self.printer.target))

    async def _print_local(self, ctx: AppContext, job_id: int, force: bool) -> None:
        assert self.printer is not None
        async with unit_of_work(ctx.db, write=False) as uow:
            job = await repo.job(uow.session, job_id)
            if job is None or job.state in FINAL_STATES:
                return
            view = dict(job.view)
        status: PrinterStatus | None = None
        code: str | None
        reason: str | None
        bad = None if force else self._known_bad()
        if bad is not None:
            ok, attempts, code, reason = False, 0, bad.code, str(bad)
        else:
            try:
                result = await asyncio.to_thread(self._render_and_deliver, ctx, view)
            except Exception as exc:  # a ticket that cannot be laid out
                log.exception("print job %s could not be rendered", job_id)
                ok, attempts, code, reason = False, 0, "render", f"票据无法排版 / {exc}"
            else:
                ok, attempts = result.ok, len(result.attempts)
                code, reason = result.code, result.reason
                last = result.attempts[-1].status if result.attempts else None
                status = last or self.printer.last_status
                if status is None and not ok and result.error is not None:
                    status = result.error.status
                if status is not None:
                    self._note_status(status)
        async with unit_of_work(ctx.db) as uow:
            s = uow.session
            job = await repo.job(s, job_id)
            if job is None:
                return
            hall = await halls_repo.get_hall_by_id(s, job.hall_id)
            dev = await repo.ensure_local_printer(s, hall.id, ctx.clock.now())
            outcome = finish_job(
                ctx,
                uow,
                job,
                ok=ok,
                attempts=attempts,
                code=code,
                reason=reason,
                device_id=dev.id,
                hall_code=hall.code,
            )
            if status is not None:
                await apply_status(ctx, uow, dev, hall.code, status.to_dict())
        self._resolve(outcome)

    def _render_and_deliver(self, ctx: AppContext, view: dict[str, Any]) -> DeliveryResult:
        assert self.printer is not None
        data = render_ticket(view_from_json(view), self.layout)
        s = ctx.settings
        return deliver(
            self.printer,
            data,
            timeout=s.print_timeout_seconds,
            attempts=s.print_attempts,
            backoff=0.5,
        )

    def _note_status(self, status: PrinterStatus) -> None:
        self.status = status
        self._status_at = time.monotonic()

    async def poll_status(self, ctx: AppContext, *, force: bool = False) -> PrinterStatus | None:
        """Ask the local printer (every ``printer_status_seconds``) and publish changes."""
        if self.printer is None:
            return None
        now = time.monotonic()
        if not force and now - self._polled_at < ctx.settings.printer_status_seconds:
            return self.status
        self._polled_at = now
        st = await asyncio.to_thread(
            self.printer.status, min(2.0, ctx.settings.print_timeout_seconds)
        )
        self._note_status(st)
        async with unit_of_work(ctx.db) as uow:
            s = uow.session
            for hall in await halls_repo.list_halls(s):
                dev = await repo.ensure_local_printer(s, hall.id, ctx.clock.now())
                await apply_status(ctx, uow, dev, hall.code, st.to_dict())
        return st

    # ------------------------------------------------------------ print agents

    def connected(self, hall_id: int) -> list[AgentConn]:
        return list(self.agents.get(hall_id, []))

    def register(self, conn: AgentConn) -> None:
        self.agents.setdefault(conn.hall_id, []).append(conn)

    async def unregister(self, ctx: AppContext, conn: AgentConn) -> None:
        conns = self.agents.get(conn.hall_id, [])
        if conn in conns:
            conns.remove(conn)
        if any(c.device_id == conn.device_id for c in conns):
            return
        async with unit_of_work(ctx.db) as uow:
            dev = await repo.device(uow.session, conn.device_id)
            if dev is not None:
                await apply_status(ctx, uow, dev, conn.hall_code, AGENT_GONE)

    def _job_message(self, job_id: int, ticket_id: int, view: dict[str, Any]) -> dict[str, Any]:
        data = render_ticket(view_from_json(view), self.layout)
        return {
            "type": "job",
            "job_id": job_id,
            "ticket_id": ticket_id,
            "number": view.get("number"),
            # An agent that renders itself (--text-mode ...) keeps the server's paper width.
            "paper_mm": self.layout.paper_mm,
            "data": base64.b64encode(data).decode("ascii"),
            "view": view,
        }

    async def _claim(self, ctx: AppContext, job_id: int, conn: AgentConn) -> dict[str, Any] | None:
        """Mark a job ``sent`` to ``conn`` before sending, so an early ack is never overwritten."""
        async with unit_of_work(ctx.db) as uow:
            job = await repo.job(uow.session, job_id)
            if job is None or job.state in FINAL_STATES:
                return None
            job.state = "sent"
            job.device_id = conn.device_id
            job.updated_at = ctx.clock.now()
            ticket_id, view = job.ticket_id, dict(job.view)
        return await asyncio.to_thread(self._job_message, job_id, ticket_id, view)

    async def dispatch(self, ctx: AppContext, job_id: int, hall_id: int | None = None) -> bool:
        """Send a job to the hall's newest agent; False when none is connected."""
        if hall_id is not None and not self.connected(hall_id):
            return False
        async with unit_of_work(ctx.db, write=False) as uow:
            job = await repo.job(uow.session, job_id)
            if job is None:
                return False
            conns = self.connected(job.hall_id)
        for conn in reversed(conns):
            msg = await self._claim(ctx, job_id, conn)
            if msg is None:
                return True
            try:
                await conn.send(msg)
                return True
            except Exception:  # that agent just went away; the job stays open for the next one
                log.info("agent %s dropped while sending job %s", conn.device_id, job_id)
        return False

    async def send_backlog(
        self, ctx: AppContext, conn: AgentConn, states: tuple[str, ...] = repo.OPEN_STATES
    ) -> int:
        """On (re)connect: every open job of the hall, oldest first; stale ones expire."""
        oldest = ctx.clock.now() - timedelta(minutes=ctx.settings.print_agent_max_age_minutes)
        expired: list[Outcome] = []
        async with unit_of_work(ctx.db) as uow:
            ids = []
            for job in await repo.open_jobs(uow.session, "agent", conn.hall_id):
                if job.state not in states:
                    continue
                if job.created_at < oldest:
                    expired.append(
                        finish_job(
                            ctx,
                            uow,
                            job,
                            ok=False,
                            attempts=0,
                            code="expired",
                            reason="票据已过期，未补打 / too old to print when the agent came back",
                            device_id=job.device_id,
                            hall_code=conn.hall_code,
                        )
                    )
                else:
                    ids.append(job.id)
        for outcome in expired:
            self._resolve(outcome)
        sent = 0
        for job_id in ids:
            msg = await self._claim(ctx, job_id, conn)
            if msg is not None:
                await conn.send(msg)
                sent += 1
        return sent

    async def sweep_agents(self, ctx: AppContext) -> int:
        """Push jobs still ``queued`` to this process's agents.

        With several server processes, a ticket may be issued by one that has
        no agent connection; the process holding the agent picks it up here.
        """
        sent = 0
        for conns in list(self.agents.values()):
            if conns:
                with contextlib.suppress(Exception):  # the agent may just have left
                    sent += await self.send_backlog(ctx, conns[-1], ("queued",))
        return sent

    async def on_ack(self, ctx: AppContext, conn: AgentConn, msg: dict[str, Any]) -> None:
        job_id = msg.get("job_id")
        if not isinstance(job_id, int):
            return
        attempts = msg.get("attempts")
        status = msg.get("status")
        async with unit_of_work(ctx.db) as uow:
            job = await repo.job(uow.session, job_id)
            if job is None or job.hall_id != conn.hall_id or job.state in FINAL_STATES:
                return  # unknown, another hall's, or a repeated ack
            outcome = finish_job(
                ctx,
                uow,
                job,
                ok=bool(msg.get("ok")),
                attempts=attempts if isinstance(attempts, int) and 0 <= attempts <= 100 else 1,
                code=_text(msg.get("code"), 20),
                reason=_text(msg.get("reason"), 300),
                device_id=conn.device_id,
                hall_code=conn.hall_code,
            )
            if isinstance(status, dict):
                dev = await repo.device(uow.session, conn.device_id)
                if dev is not None:
                    await apply_status(ctx, uow, dev, conn.hall_code, status)
        self._resolve(outcome)

    async def on_status(self, ctx: AppContext, conn: AgentConn, status: dict[str, Any]) -> None:
        async with unit_of_work(ctx.db) as uow:
            dev = await repo.device(uow.session, conn.device_id)
            if dev is not None:
                await apply_status(ctx, uow, dev, conn.hall_code, status)


def _text(value: object, limit: int) -> str | None:
    return str(value)[:limit] if value is not None else None


def _warm_up(layout: Layout) -> None:
    from datetime import UTC, datetime

    from ticket_printer import TicketView

    render_ticket(
        TicketView(
            hall_name="预热",
            number="A001",
            service_name="预热",
            service_name_en=None,
            channel="normal",
            ahead=0,
            estimated_wait_minutes=None,
            issued_at=datetime.now(UTC),
            status_url="http://warm.up/",
        ),
        layout,
    )


def runtime(ctx: AppContext) -> PrintRuntime:
    rt: PrintRuntime = ctx.extras["printing"]
    return rt
