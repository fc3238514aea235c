"""Backups and restores: `hallq backup` / `hallq restore`.

SQLite uses its online backup API (consistent while the server runs). For
PostgreSQL, use pg_dump/pg_restore (see docs/deploy.md); this command says so.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from kiosk_server.settings import Settings


def _sqlite_path(settings: Settings) -> Path | None:
    url = settings.effective_database_url
    if not url.startswith("sqlite"):
        return None
    return Path(url.split("///", 1)[1])


def backup(settings: Settings, out: Path) -> Path:
    src = _sqlite_path(settings)
    if src is None:
        raise SystemExit(
            "this database is PostgreSQL: back it up with "
            '`pg_dump --format=custom --file hallq.dump "$DATABASE"` (see docs/deploy.md)'
        )
    if not src.exists():
        raise SystemExit(f"no database at {src}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(src) as source, sqlite3.connect(out) as dest:
        source.backup(dest)  # online and consistent, even with the server writing
    return out


def restore(settings: Settings, src: Path, *, force: bool = False) -> Path:
    dest = _sqlite_path(settings)
    if dest is None:
        raise SystemExit(
            "this database is PostgreSQL: restore with `pg_restore --clean --dbname ...`"
        )
    if not src.exists():
        raise SystemExit(f"no backup file at {src}")
    try:
        with sqlite3.connect(src) as check:
            ok = check.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise SystemExit(f"{src} is not a SQLite database: {exc}") from None
    if ok is None or ok[0] != "ok":
        raise SystemExit(f"{src} is not a healthy SQLite database: {ok}")
    if dest.exists() and not force:
        raise SystemExit(f"{dest} exists; stop the server and pass --force to replace it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(str(dest) + suffix).unlink(missing_ok=True)
    tmp = dest.with_suffix(".restoring")
    shutil.copyfile(src, tmp)
    tmp.replace(dest)
    return dest


def _settings(data_dir: str | None) -> Settings:
    return Settings(data_dir=Path(data_dir)) if data_dir else Settings()


def backup_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="hallq backup", description="copy the database while the server runs"
    )
    p.add_argument("--data-dir")
    p.add_argument("--out", help="backup file (default: DATA_DIR/backups/hallq-<time>.db)")
    a = p.parse_args(list(argv))
    settings = _settings(a.data_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = Path(a.out) if a.out else settings.data_dir / "backups" / f"hallq-{stamp}.db"
    print(f"backup written to {backup(settings, out)}")
    return 0


def restore_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(
        prog="hallq restore", description="restore a backup into the data directory"
    )
    p.add_argument("backup")
    p.add_argument("--data-dir")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    a = p.parse_args(list(argv))
    try:
        dest = restore(_settings(a.data_dir), Path(a.backup), force=a.force)
    except SystemExit as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"restored into {dest}; run `hallq db upgrade` if the backup is from an older version")
    return 0
