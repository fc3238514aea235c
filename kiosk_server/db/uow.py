"""One transaction per request, opened at the edge; side effects released after commit."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from kiosk_server.db.engine import Database

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


class UnitOfWork:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._after: list[AfterCommit] = []

    def after_commit(self, fn: AfterCommit) -> None:
        """Run ``fn`` once the transaction has committed (events, print jobs)."""
        self._after.append(fn)

    def part(self) -> UnitOfWork:
        """A unit of work for one of several requests sharing this transaction
        (issues committed together): same session, its own after-commit list, so
        a request that fails on its own discards only its side effects."""
        return UnitOfWork(self.session)

    async def release(self) -> None:
        """Run the after-commit hooks (for a part: its owner calls this once the
        shared transaction has committed)."""
        for fn in self._after:
            try:
                await fn()
            except Exception:  # a lost event must not turn a committed request into a 500
                log.exception("after-commit hook failed")


@asynccontextmanager
async def unit_of_work(db: Database, *, write: bool = True) -> AsyncIterator[UnitOfWork]:
    session = (db.write_sessions if write else db.read_sessions)()
    uow = UnitOfWork(session)
    lock = db.write_lock if write else None
    try:
        if lock is not None:
            await lock.acquire()
        try:
            async with session.begin():
                yield uow
        finally:
            await session.close()
    finally:
        if lock is not None:
            lock.release()
    await uow.release()
