"""`hallq serve --workers N` is refused on SQLite or the in-memory bus (the
working case, PostgreSQL + Redis, is process A in test_two_processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk_server.cli import main


@pytest.mark.parametrize(
    ("db", "bus"),
    [
        (None, "memory://"),
        (None, "redis://127.0.0.1:6379/0"),
        ("postgresql+asyncpg://postgres@127.0.0.1/x", "memory://"),
    ],
)
def test_several_workers_refused_on_sqlite_or_memory_bus(
    db: str | None,
    bus: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("HALLQ_DATABASE_URL", raising=False)
    if db:
        monkeypatch.setenv("HALLQ_DATABASE_URL", db)
    monkeypatch.setenv("HALLQ_EVENT_BUS_URL", bus)
    rc = main(["serve", "--workers", "3", "--data-dir", str(tmp_path)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "PostgreSQL" in err and "Redis" in err and "one process" in err
