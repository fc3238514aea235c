"""Engine and session factories. SQLite: WAL, busy timeout, BEGIN IMMEDIATE for writes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite
from sqlalchemy import event, make_url
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from kiosk_server.settings import Settings


class Database:
    def __init__(self, settings: Settings) -> None:
        self.url = settings.effective_database_url
        self.is_sqlite = self.url.startswith("sqlite")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            path = make_url(self.url).database or ":memory:"
            timeout = settings.sqlite_busy_timeout_ms / 1000
            if path == ":memory:":
                kwargs["connect_args"] = {"timeout": timeout}
            else:
                kwargs["async_creator"] = lambda: _connect_sqlite(path, timeout)
        else:
            # Nothing may wait forever: connecting, a row lock held by a stuck
            # transaction, a runaway query, a connection left idle in a transaction.
            kwargs.update(
                pool_size=10,
                max_overflow=20,
                pool_pre_ping=True,
                pool_timeout=30,
                connect_args={
                    "timeout": 10,
                    "command_timeout": settings.pg_statement_timeout_ms / 1000 + 5,
                    "server_settings": {
                        "lock_timeout": str(settings.pg_lock_timeout_ms),
                        "statement_timeout": str(settings.pg_statement_timeout_ms),
                        "idle_in_transaction_session_timeout": "120000",
                    },
                },
            )
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, settings.sqlite_busy_timeout_ms)
        # SQLite has one writer at a time. Queue writers of this process on an
        # asyncio lock (FIFO, no thread spinning in SQLite's busy handler);
        # busy_timeout still covers other processes such as the CLI.
        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        self.write_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # Reads take a deferred transaction so they never queue behind writers.
        self.read_sessions = async_sessionmaker(
            self.engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


class _SQLiteConnection(aiosqlite.Connection):
    """aiosqlite runs each statement on its own thread and wakes the event loop
    for every result. Inside a write transaction that hop is pure latency added to
    the time the write lock is held (an issue runs ~14 statements), and the lock
    serializes every writer of the process, so it caps throughput. Once BEGIN
    IMMEDIATE has the database's write lock, the transaction's statements run
    inline: in WAL mode they wait on nobody (readers never block a writer). Two
    calls still go through the thread: BEGIN IMMEDIATE, which can wait on another
    process, and COMMIT, which every ~1000 pages runs SQLite's WAL checkpoint
    (page copies and fsyncs: tens of ms on a slow disk, which must not stall
    every screen and kiosk). Read transactions stay on the thread so a long
    report query never stalls the loop."""

    _writing = False

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self._writing and self._connection is not None:
            if fn == self._connection.commit:
                self._writing = False
            else:
                try:
                    return fn(*args, **kwargs)
                finally:
                    if fn == self._connection.rollback:
                        self._writing = False
        result = await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if args and isinstance(args[0], str) and args[0].startswith("BEGIN IMMEDIATE"):
            self._writing = True
        return result


async def _connect_sqlite(path: str, timeout: float) -> aiosqlite.Connection:
    def connector() -> sqlite3.Connection:
        # Opened on aiosqlite's thread, used from the loop's thread inside writes
        # (never from both at once: SQLAlchemy awaits each call in turn).
        return sqlite3.connect(path, timeout=timeout, check_same_thread=False)

    conn = _SQLiteConnection(connector, 64)
    conn._thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
    return await conn


def _configure_sqlite(engine: AsyncEngine, busy_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take BEGIN into our own hands (pysqlite's implicit BEGIN is DEFERRED).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


def new_session(db: Database, *, write: bool) -> AsyncSession:
    return (db.write_sessions if write else db.read_sessions)()
