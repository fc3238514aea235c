"""`hallq serve --workers N` is refused on SQLite or the in-memory bus (the
working case, PostgreSQL + Redis, is process A in test_two_processes)."""

from __future__ import annotations

import asyncio
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


def test_hall_create_village_point_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("HALLQ_DATABASE_URL", raising=False)
    args = ["hall", "create", "--data-dir", str(tmp_path), "--code", "dongcun"]
    assert main([*args, "--name", "东村医保服务点", "--kind", "village"]) == 0
    out = capsys.readouterr().out
    assert "village dongcun" in out and "1 counter(s)" in out and "no kiosk" in out
    assert "enrol, record_query, retiree_remote, long_term_residence" in out
    assert main([*args, "--name", "again"]) == 2
    assert "exists" in capsys.readouterr().err
    assert (
        main(["hall", "create", "--data-dir", str(tmp_path), "--code", "Bad!", "--name", "x"]) == 2
    )


@pytest.mark.asyncio
async def test_hall_create_township_on_postgres(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HALLQ_DATABASE_URL", pg_url)
    # The command runs its own event loop, as from a shell.
    rc = await asyncio.to_thread(
        main, ["hall", "create", "--data-dir", str(tmp_path), "--code", "zhen", "--name", "镇"]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "township zhen" in out and "4 counter(s)" in out and "a kiosk" in out
