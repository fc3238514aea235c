"""The deployment samples in deploy/ are checked, not just written: systemd
units pass `systemd-analyze verify`, the environment file is valid settings,
the backup script dumps a real PostgreSQL database that pg_restore restores,
and the nginx sample proxies WebSockets (structure only: nginx is not installed
on the test machine)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from dotenv import dotenv_values

from kiosk_server.events.redis_bus import split_channel
from kiosk_server.settings import Settings
from tests.scaleout.conftest import PG_ADMIN, create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV_BIN = Path(sys.executable).parent


def test_systemd_units_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    names = []
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text()
        # The real paths and an existing user on this machine; the rest unchanged.
        text = text.replace("/opt/hallq/.venv/bin/", f"{VENV_BIN}/")
        text = text.replace("/opt/hallq/deploy/", f"{DEPLOY}/")
        text = re.sub(r"^(User|Group)=hallq$", r"\1=root", text, flags=re.M)
        (tmp_path / unit.name).write_text(text)
        names.append(unit.name.replace("@.service", "@8001.service"))
    r = subprocess.run(
        ["systemd-analyze", "verify", *sorted(names)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0 and "hallq" not in r.stderr, r.stderr
    service = (DEPLOY / "systemd" / "hallq.service").read_text()
    assert "--workers 4" in service and "ExecStartPre=/opt/hallq/.venv/bin/hallq db upgrade" in (
        service
    )


def test_env_example_is_valid_production_settings() -> None:
    values = {k: v for k, v in dotenv_values(DEPLOY / "hallq.env.example").items() if v}
    assert all(k.startswith("HALLQ_") for k in values)
    known = {f"HALLQ_{name.upper()}" for name in Settings.model_fields}
    assert set(values) <= known, set(values) - known
    settings = Settings(**{k.removeprefix("HALLQ_").lower(): v for k, v in values.items()})
    assert settings.environment == "production" and not settings.is_sqlite
    url, channel = split_channel(settings.event_bus_url)
    assert url == "redis://127.0.0.1:6379/0" and channel == "hallq:events"


def test_nginx_sample_proxies_websockets_without_sticky_sessions() -> None:
    conf = (DEPLOY / "nginx" / "hallq.conf").read_text()
    ws = conf[conf.index("location /ws/") :]
    ws = ws[: ws.index("}")]
    assert "proxy_set_header Upgrade $http_upgrade;" in ws
    assert "proxy_set_header Connection $connection_upgrade;" in ws
    assert "proxy_read_timeout 1h;" in ws and "proxy_buffering off;" in ws
    assert "ip_hash" not in conf and "sticky" not in conf.replace("no sticky", "")


@pytest.mark.asyncio
async def test_backup_script_dumps_and_pg_restore_restores(tmp_path: Path) -> None:
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail("CI=true: pg_dump/pg_restore missing")
        pytest.skip("pg_dump/pg_restore are not installed")
    source = await create_database()
    target = await create_database()
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        conn = await asyncpg.connect(f"{base}/{source}")
        await conn.execute("CREATE TABLE tickets (id serial primary key, number text)")
        await conn.execute("INSERT INTO tickets (number) VALUES ('A001'), ('A002')")
        await conn.close()
        env = {
            **os.environ,
            "HALLQ_DATABASE_URL": base.replace("postgresql://", "postgresql+asyncpg://")
            + f"/{source}",
            "HALLQ_BACKUP_DIR": str(tmp_path / "backups"),
        }
        r = subprocess.run(
            [str(DEPLOY / "backup-postgres.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        dump = Path(r.stdout.strip())
        assert dump.parent == tmp_path / "backups"
        files = await asyncio.to_thread(
            lambda: {p.name: p.stat().st_size for p in dump.parent.iterdir()}
        )
        assert files.keys() == {dump.name} and files[dump.name] > 0  # no *.partial left
        # The restore command from docs/deploy.md.
        r = subprocess.run(
            ["pg_restore", "--no-owner", "--dbname", f"{base}/{target}", str(dump)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        conn = await asyncpg.connect(f"{base}/{target}")
        rows = await conn.fetch("SELECT number FROM tickets ORDER BY id")
        await conn.close()
        assert [r["number"] for r in rows] == ["A001", "A002"]
        # A SQLite URL is refused with the pointer to `hallq backup`.
        env["HALLQ_DATABASE_URL"] = "sqlite+aiosqlite:///x.db"
        r = subprocess.run([str(DEPLOY / "backup-postgres.sh")], env=env, capture_output=True)
        assert r.returncode == 2 and b"hallq backup" in r.stderr
    finally:
        await drop_database(source)
        await drop_database(target)
