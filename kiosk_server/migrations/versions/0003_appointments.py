"""appointments: per-hall offer, slot capacity rows, bookings

Revision ID: 0003_appointments
Revises: 0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiosk_server.db.base

revision: str = "0003_appointments"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("state IN ('booked', 'checked_in')")


def upgrade() -> None:
    op.create_table(
        "appointment_configs",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("slot_minutes", sa.Integer(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("services", sa.JSON(), nullable=True),
        sa.Column("capacities", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hall_id"], ["halls.id"], name=op.f("fk_appointment_configs_hall_id_halls")
        ),
        sa.PrimaryKeyConstraint("hall_id", name=op.f("pk_appointment_configs")),
    )
    op.create_table(
        "appointment_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("start_at", kiosk_server.db.base.UTCDateTime(), nullable=False),
        sa.Column("end_at", kiosk_server.db.base.UTCDateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Boolean(), nullable=False),
        sa.Column("closed_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["hall_id"], ["halls.id"], name=op.f("fk_appointment_slots_hall_id_halls")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_appointment_slots_service_id_services")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointment_slots")),
        sa.UniqueConstraint(
            "hall_id",
            "service_id",
            "start_at",
            name=op.f("uq_appointment_slots_hall_id_service_id_start_at"),
        ),
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("slot_start", kiosk_server.db.base.UTCDateTime(), nullable=False),
        sa.Column("slot_end", kiosk_server.db.base.UTCDateTime(), nullable=False),
        sa.Column("no_show_at", kiosk_server.db.base.UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("name_masked", sa.String(length=40), nullable=False),
        sa.Column("phone_masked", sa.String(length=16), nullable=False),
        sa.Column("person_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_enc", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", kiosk_server.db.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("checked_in_at", kiosk_server.db.base.UTCDateTime(), nullable=True),
        sa.Column("cancelled_at", kiosk_server.db.base.UTCDateTime(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_appointments_created_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["hall_id"], ["halls.id"], name=op.f("fk_appointments_hall_id_halls")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["services.id"], name=op.f("fk_appointments_service_id_services")
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["appointment_slots.id"],
            name=op.f("fk_appointments_slot_id_appointment_slots"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_appointments_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("code", name=op.f("uq_appointments_code")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            "uq_appointments_person_day",
            ["hall_id", "service_id", "day", "person_hash"],
            unique=True,
            sqlite_where=ACTIVE,
            postgresql_where=ACTIVE,
        )
        batch_op.create_index("ix_appointments_hall_day", ["hall_id", "day"], unique=False)
        batch_op.create_index("ix_appointments_state_end", ["state", "no_show_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointments_slot_id"), ["slot_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_appointments_person_hash"), ["person_hash"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appointments_person_hash"))
        batch_op.drop_index(batch_op.f("ix_appointments_slot_id"))
        batch_op.drop_index("ix_appointments_state_end")
        batch_op.drop_index("ix_appointments_hall_day")
        batch_op.drop_index("uq_appointments_person_day")
    op.drop_table("appointments")
    op.drop_table("appointment_slots")
    op.drop_table("appointment_configs")
