"""print jobs

Revision ID: 0002_printing
Revises: 0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiosk_server.db.base

revision: str = "0002_printing"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=8), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reprint", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(length=80), nullable=False),
        sa.Column("view", sa.JSON(), nullable=False),
        sa.Column("created_at", kiosk_server.db.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kiosk_server.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_print_jobs_device_id_devices")
        ),
        sa.ForeignKeyConstraint(
            ["hall_id"], ["halls.id"], name=op.f("fk_print_jobs_hall_id_halls")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_print_jobs_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_print_jobs")),
    )
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.create_index("ix_print_jobs_hall_state", ["hall_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_print_jobs_ticket_id"), ["ticket_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("print_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_print_jobs_ticket_id"))
        batch_op.drop_index("ix_print_jobs_hall_state")
    op.drop_table("print_jobs")
