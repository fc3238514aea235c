"""Group commit for ticket issues: the requests that arrive while a hall's issue
transaction is running are issued together in the next one.

Why: every issue reads the hall's whole open queue to estimate the wait, and a
database has one writer at a time (SQLite) or one hall-row lock (PostgreSQL), so
one-transaction-per-issue spends most of its time on work that is the same for
every ticket. Here each request runs in its own savepoint (a refusal undoes only
that request), the queue is read and estimated once for the batch, the events
take their numbers in one statement, and one commit makes them all durable.
Nothing waits to fill a batch: a lone kiosk's request runs at once, alone.

A request is answered only after the commit that holds its ticket, and its
after-commit effects (event, print job, counters) run in its own task, as they
did when it had a transaction to itself.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError

from kiosk_server.context import AppContext
from kiosk_server.db.uow import UnitOfWork, unit_of_work
from kiosk_server.errors import Conflict, DomainError
from kiosk_server.events import repository as events_repo
from kiosk_server.halls import repository as halls_repo
from kiosk_server.halls.config import HallConfig
from kiosk_server.halls.models import Hall, Service
from kiosk_server.tickets import repository as repo
from kiosk_server.tickets import service
from kiosk_server.tickets.repository import OpenTicket
from kiosk_server.tickets.schemas import TicketOut

log = logging.getLogger(__name__)

CONCURRENT = "the ticket could not be issued because of a concurrent request; try again"

Result = tuple[TicketOut, UnitOfWork]
Answer = tuple[TicketOut, asyncio.Task[None]]


@dataclass
class _Pending:
    command: service.IssueCommand
    future: asyncio.Future[Answer] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


@dataclass(frozen=True)
class _QueueCopy:
    seq: int  # the hall's event seq when this was the queue
    day: date
    rows: list[OpenTicket]


class IssueBatcher:
    def __init__(self, ctx: AppContext, max_batch: int, gather_seconds: float = 0.0) -> None:
        self.ctx = ctx
        self.max_batch = max_batch
        self.gather_seconds = gather_seconds
        self._pending: dict[str, list[_Pending]] = {}
        self._arrivals: dict[str, asyncio.Event] = {}
        self._drainers: dict[str, asyncio.Task[None]] = {}
        self._queues: dict[int, _QueueCopy] = {}
        self.queue_reads = 0  # whole-queue reads from the database
        self._background: set[asyncio.Task[None]] = set()
        self.batches = 0  # transactions run (the sizes are on /metrics)

    async def issue(self, command: service.IssueCommand) -> TicketOut:
        p = _Pending(command)
        self._pending.setdefault(command.hall_code, []).append(p)
        arrivals = self._arrivals.get(command.hall_code)
        if arrivals is not None:
            arrivals.set()
        if command.hall_code not in self._drainers:
            task = asyncio.create_task(self._drain(command.hall_code))
            self._drainers[command.hall_code] = task
            task.add_done_callback(functools.partial(self._drained, command.hall_code))
        out, released = await p.future
        # The answer waits for its own after-commit effects (the print outcome);
        # shielded, so a caller that goes away now does not cut them off.
        await asyncio.shield(released)
        return out

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def _drain(self, hall_code: str) -> None:
        answered = 0
        try:
            while True:
                if answered > 1 and self.gather_seconds > 0:
                    await self._gather(hall_code, answered)
                # No await between finding the list empty and leaving the
                # drainers map, so a request that arrives meanwhile always finds
                # a drainer.
                queue = self._pending.get(hall_code)
                if not queue:
                    break
                batch = [p for p in queue[: self.max_batch] if not p.future.done()]
                del queue[: self.max_batch]
                answered = len(batch)
                if not batch:
                    continue
                try:
                    await self._run(hall_code, batch)
                except BaseException:  # cancelled (shutdown): nobody may wait forever
                    for p in batch:
                        p.future.cancel()
                    raise
        finally:
            self._drainers.pop(hall_code, None)
            self._arrivals.pop(hall_code, None)
            # Empty unless the drainer was cancelled, whose waiters are told so.
            for p in self._pending.pop(hall_code, []):
                p.future.cancel()

    async def _gather(self, hall_code: str, answered: int) -> None:
        """Group commit's window: the callers just answered are usually busy
        kiosks or counters that come straight back. Wait (at most
        ``gather_seconds``, and only while the batch would be smaller than
        those waiting plus those just answered) for them to join the next
        batch, instead of splitting the load into two half-size batches that
        each pay for reading the queue. Only after a batch of several: a quiet
        hall, where requests come one at a time, never waits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.gather_seconds
        waiting = self._pending.get(hall_code, [])
        want = min(self.max_batch, len(waiting) + answered)
        arrivals = self._arrivals.setdefault(hall_code, asyncio.Event())
        while len(self._pending.get(hall_code, ())) < want:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            arrivals.clear()
            try:
                async with asyncio.timeout(remaining):
                    await arrivals.wait()
            except TimeoutError:
                return

    def _drained(self, hall_code: str, task: asyncio.Task[None]) -> None:
        """A drainer cancelled before it began never ran its own clean-up: do it
        here, or its hall would have no drainer again and its callers would wait
        for ever. (After a normal exit it is no longer registered.)"""
        if self._drainers.get(hall_code) is task:
            del self._drainers[hall_code]
            self._arrivals.pop(hall_code, None)
            for p in self._pending.pop(hall_code, []):
                p.future.cancel()

    async def _run(self, hall_code: str, batch: list[_Pending]) -> None:
        try:
            answers = await self._transaction(hall_code, batch)
        except Exception as exc:
            if isinstance(exc, DomainError) or (
                isinstance(exc, DBAPIError) and not isinstance(exc, IntegrityError)
            ):
                # The hall is unknown, the database busy or gone: the same for all.
                for p in batch:
                    _fail(p, exc)
            elif len(batch) == 1:
                # Alone, an index clash can only be a race with another process.
                _fail(batch[0], Conflict(CONCURRENT) if isinstance(exc, IntegrityError) else exc)
            else:
                await self._one_by_one(hall_code, batch, exc)
            return
        for p, answer in zip(batch, answers, strict=True):
            if isinstance(answer, BaseException):
                _fail(p, answer)
                continue
            # Committed: its event and print job go out whether or not the
            # caller is still there, each batch's in order.
            out, part = answer
            released = self._spawn(part.release())
            if not p.future.done():
                p.future.set_result((out, released))

    def _open_rows(
        self, hall: Hall, day: date, admitted: list[tuple[int, UnitOfWork, service.Admitted]]
    ) -> list[OpenTicket] | None:
        """Today's open tickets without reading them again, when nothing has
        happened in the hall since this process's last issue batch: every change
        to a ticket in the queue (a call, a start, a hold, a cancel, another
        process's issue) emits a hall event in its own transaction, so an
        unchanged event seq, read under the hall's lock, means an unchanged
        queue. Then it is the copy plus the tickets just admitted; otherwise
        None (read it)."""
        copy = self._queues.get(hall.id)
        if copy is None or copy.seq != hall.event_seq or copy.day != day:
            return None
        return [*copy.rows, *(OpenTicket.new(a.ticket) for _, _, a in admitted if not a.replayed)]

    async def _one_by_one(self, hall_code: str, batch: list[_Pending], exc: Exception) -> None:
        """Something failed for the batch as a whole (a hook, an index, the
        commit): nothing was committed, so each request runs again alone and
        gets its own outcome."""
        log.warning("issue batch of %d failed (%r); issuing one by one", len(batch), exc)
        for p in batch:
            if not p.future.done():  # a caller gone meanwhile gets no ticket
                await self._run(hall_code, [p])

    async def _transaction(
        self, hall_code: str, batch: list[_Pending]
    ) -> list[Result | BaseException]:
        ctx = self.ctx
        answers: list[Result | BaseException | None] = [None] * len(batch)
        async with unit_of_work(ctx.db) as uow:
            s = uow.session
            hall = await halls_repo.get_hall(s, hall_code, lock=True)
            services = {
                x.code: x for x in await halls_repo.list_services(s, hall.id, enabled_only=False)
            }
            admitted: list[tuple[int, UnitOfWork, service.Admitted]] = []
            for i, p in enumerate(batch):
                part = uow.part()
                try:
                    a = await _admit(ctx, part, hall, services, p.command)
                except DomainError as exc:  # refused before writing, or undone
                    answers[i] = exc
                    continue
                except _Undone as exc:
                    answers[i] = exc.error
                    continue
                admitted.append((i, part, a))
            day = HallConfig.of(hall).service_day(ctx.clock.now())
            rows = self._open_rows(hall, day, admitted)
            if rows is None:
                rows = await repo.open_ticket_rows(s, hall.id, day)
                self.queue_reads += 1
            outs = await service.announce(
                ctx, hall, services, [(part, a) for _, part, a in admitted], rows
            )
            seq = await events_repo.current_seq(s, hall.id)
            for (i, part, _), out in zip(admitted, outs, strict=True):
                answers[i] = (out, part)
            done = [a for a in answers if a is not None]
            assert len(done) == len(batch)
        # Committed: from here nothing may raise, or the batch would be issued
        # again one by one. This is the queue as of event ``seq``.
        self._queues[hall.id] = _QueueCopy(seq, day, rows)
        self.batches += 1
        ctx.metrics.issue_batch_size.observe(len(batch))
        return done


class _Undone(Exception):
    """A request failed in its savepoint, which was rolled back: the batch's
    transaction is intact and the others go on."""

    def __init__(self, error: DBAPIError) -> None:
        super().__init__(str(error))
        self.error = error


async def _admit(
    ctx: AppContext,
    part: UnitOfWork,
    hall: Hall,
    services: dict[str, Service],
    command: service.IssueCommand,
) -> service.Admitted:
    # A savepoint (two statements and SQLAlchemy's bookkeeping: about a quarter
    # of an issue's cost) is needed only where a refusal can follow a write that
    # must be undone: a check-in marks its booking before the item and the
    # person are checked, and on PostgreSQL another process's issue with the
    # same Idempotency-Key surfaces at the insert and would abort the whole
    # transaction. Otherwise admit refuses before it writes (a number taken
    # past 999 is no loss: the day's numbers are exhausted either way).
    if not command.req.appointment_code and not (command.idempotency_key and not ctx.db.is_sqlite):
        return await service.admit(ctx, part, hall, services, command)
    for attempt in (1, 2):
        try:
            async with part.session.begin_nested():
                return await service.admit(ctx, part, hall, services, command)
        except IntegrityError:
            # Two requests with one Idempotency-Key raced (another process on
            # PostgreSQL); the second attempt finds the first one's ticket.
            if attempt == 2 or not command.idempotency_key:
                raise Conflict(CONCURRENT) from None
        except DBAPIError as exc:  # a statement timeout, say: this request only
            raise _Undone(exc) from exc
    raise AssertionError("unreachable")


def _fail(p: _Pending, exc: BaseException) -> None:
    if not p.future.done():
        p.future.set_exception(exc)


def issue_batcher(ctx: AppContext) -> IssueBatcher:
    batcher = ctx.extras.get("issue_batcher")
    if batcher is None:
        settings = ctx.settings
        batcher = IssueBatcher(
            ctx, settings.issue_batch_max, settings.issue_batch_gather_ms / 1000.0
        )
        ctx.extras["issue_batcher"] = batcher
    assert isinstance(batcher, IssueBatcher)
    return batcher
