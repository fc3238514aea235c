"""serving times: service time summed over serving segments (hold and call-back)

Revision ID: 0007_serving_times
Revises: 0001_initial

Existing tickets get a row from the times they already carry: a finished or
transferred ticket served finish - start, a ticket being served runs from its
start. A ticket held (or called back) before this revision has no record of
when it was held, so its earlier segment counts as 0 s, as it did before.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiosk_server.db.base

revision: str = "0007_serving_times"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = kiosk_server.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "serving_times",
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("served_seconds", sa.Float(), nullable=False),
        sa.Column("running_since", UTC(), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_serving_times_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_serving_times")),
    )
    tickets = sa.table(
        "tickets",
        sa.column("id", sa.Integer()),
        sa.column("state", sa.String()),
        sa.column("started_at", UTC()),
        sa.column("finished_at", UTC()),
    )
    serving = sa.table(
        "serving_times",
        sa.column("ticket_id", sa.Integer()),
        sa.column("served_seconds", sa.Float()),
        sa.column("running_since", UTC()),
        sa.column("segments", sa.Integer()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(tickets.c.id, tickets.c.state, tickets.c.started_at, tickets.c.finished_at).where(
            tickets.c.started_at.is_not(None)
        )
    ).all()
    values = []
    for ticket_id, state, started, finished in rows:
        served = 0.0
        running = None
        if state in ("done", "transferred") and finished is not None:
            served = max(0.0, (finished - started).total_seconds())
        elif state == "serving":
            running = started
        values.append(
            {
                "ticket_id": ticket_id,
                "served_seconds": served,
                "running_since": running,
                "segments": 1,
            }
        )
    if values:
        op.bulk_insert(serving, values)


def downgrade() -> None:
    op.drop_table("serving_times")
