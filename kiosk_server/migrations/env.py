"""Alembic environment: runs on a connection handed in by kiosk_server.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from kiosk_server.db.models import Base

target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


conn = context.config.attributes.get("connection")
if conn is None:
    raise RuntimeError("run migrations through `hallq db upgrade` (kiosk_server.db.migrate)")
run_on(conn)
