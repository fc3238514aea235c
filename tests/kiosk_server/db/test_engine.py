"""SQLite engine: write transactions run inline on the loop's thread, reads on aiosqlite's."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from kiosk_server.db.engine import Database
from kiosk_server.db.uow import unit_of_work
from kiosk_server.settings import Settings


def _with_thread_probe(db: Database) -> None:
    @event.listens_for(db.engine.sync_engine, "connect")
    def _probe(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.create_function("tid", 0, threading.get_ident)


async def _thread_of(db: Database, *, write: bool) -> int:
    async with unit_of_work(db, write=write) as uow:
        return int((await uow.session.execute(text("SELECT tid()"))).scalar_one())


@pytest.mark.asyncio
async def test_writes_run_on_the_loop_thread_and_reads_on_the_driver_thread(
    tmp_path: Path,
) -> None:
    db = Database(Settings(data_dir=tmp_path / "data"))
    _with_thread_probe(db)
    loop_thread = threading.get_ident()
    try:
        assert await _thread_of(db, write=True) == loop_thread
        # The connection goes back to the pool: the next read is on the thread again.
        assert await _thread_of(db, write=False) != loop_thread
        assert await _thread_of(db, write=True) == loop_thread
    finally:
        await db.dispose()


@pytest.mark.asyncio
async def test_a_write_that_fails_leaves_nothing_and_the_next_read_is_off_the_loop(
    tmp_path: Path,
) -> None:
    db = Database(Settings(data_dir=tmp_path / "data"))
    _with_thread_probe(db)
    try:
        async with unit_of_work(db) as uow:
            await uow.session.execute(text("CREATE TABLE t (x INTEGER UNIQUE)"))
        with pytest.raises(Exception, match="UNIQUE"):
            async with unit_of_work(db) as uow:
                await uow.session.execute(text("INSERT INTO t VALUES (1)"))
                await uow.session.execute(text("INSERT INTO t VALUES (1)"))
        async with unit_of_work(db, write=False) as uow:
            assert (await uow.session.execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
            tid = (await uow.session.execute(text("SELECT tid()"))).scalar_one()
        assert tid != threading.get_ident()
    finally:
        await db.dispose()


@pytest.mark.asyncio
async def test_concurrent_writers_of_one_process_all_commit(tmp_path: Path) -> None:
    db = Database(Settings(data_dir=tmp_path / "data"))
    try:
        async with unit_of_work(db) as uow:
            await uow.session.execute(text("CREATE TABLE n (v INTEGER NOT NULL)"))
            await uow.session.execute(text("INSERT INTO n VALUES (0)"))

        async def bump() -> None:
            async with unit_of_work(db) as uow:
                v = (await uow.session.execute(text("SELECT v FROM n"))).scalar_one()
                await asyncio.sleep(0)  # let the other writers queue on the lock
                await uow.session.execute(text("UPDATE n SET v = :v"), {"v": v + 1})

        await asyncio.gather(*(bump() for _ in range(50)))
        async with unit_of_work(db, write=False) as uow:
            assert (await uow.session.execute(text("SELECT v FROM n"))).scalar_one() == 50
    finally:
        await db.dispose()


@pytest.mark.asyncio
async def test_commit_runs_off_the_loop_where_sqlite_checkpoints(tmp_path: Path) -> None:
    # COMMIT may run the WAL checkpoint (page copies and fsyncs): it must not block
    # the event loop, so it goes to the driver's thread like BEGIN IMMEDIATE.
    db = Database(Settings(data_dir=tmp_path / "data"))
    commit_threads: list[int] = []
    try:
        async with unit_of_work(db) as uow:
            await uow.session.execute(text("CREATE TABLE b (x BLOB)"))
        async with unit_of_work(db) as uow:
            raw = await (await uow.session.connection()).get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            real = driver._connection.commit

            def recording_commit() -> None:
                commit_threads.append(threading.get_ident())
                real()

            driver._connection = _CommitSpy(driver._connection, recording_commit)
            await uow.session.execute(text("INSERT INTO b VALUES (zeroblob(1000))"))
        assert commit_threads and commit_threads[0] != threading.get_ident()
        async with unit_of_work(db, write=False) as uow:
            assert (await uow.session.execute(text("SELECT count(*) FROM b"))).scalar_one() == 1
    finally:
        await db.dispose()


class _CommitSpy:
    """The sqlite3 connection with its commit swapped for a recording one."""

    def __init__(self, conn: Any, commit: Any) -> None:
        self._conn = conn
        self.commit = commit

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)
