"""supervisor: bad-rating follow-ups and proxy cases

Revision ID: 0004_supervisor
Revises: 0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kiosk_server.db.base

revision: str = "0004_supervisor"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = kiosk_server.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "followups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("service_name", sa.String(length=100), nullable=False),
        sa.Column("counter_number", sa.Integer(), nullable=True),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTC(), nullable=False),
        sa.Column("callback_due", sa.Date(), nullable=False),
        sa.Column("resolve_due", sa.Date(), nullable=False),
        sa.Column("called_back_at", UTC(), nullable=True),
        sa.Column("callback_note", sa.Text(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("action_taken", sa.Text(), nullable=True),
        sa.Column("second_opinion", sa.Integer(), nullable=True),
        sa.Column("second_opinion_note", sa.Text(), nullable=True),
        sa.Column("resolved_at", UTC(), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"], name=op.f("fk_followups_hall_id_halls")),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_followups_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["rating_id"], ["ratings.id"], name=op.f("fk_followups_rating_id_ratings")
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["users.id"], name=op.f("fk_followups_staff_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followups")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_followups_ticket_id")),
        sa.UniqueConstraint("rating_id", name=op.f("uq_followups_rating_id")),
    )
    op.create_index("ix_followups_hall_state", "followups", ["hall_id", "state"], unique=False)
    op.create_table(
        "proxy_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=8), nullable=False),
        sa.Column("service_day", sa.Date(), nullable=False),
        sa.Column("service_code", sa.String(length=40), nullable=False),
        sa.Column("service_name", sa.String(length=100), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=True),
        sa.Column("staff_name", sa.String(length=80), nullable=True),
        sa.Column("resident_ref", sa.String(length=80), nullable=False),
        sa.Column("materials_complete_on", sa.Date(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("opened_at", UTC(), nullable=False),
        sa.Column("submitted_at", UTC(), nullable=True),
        sa.Column("result_at", UTC(), nullable=True),
        sa.Column("closed_at", UTC(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hall_id"], ["halls.id"], name=op.f("fk_proxy_cases_hall_id_halls")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_proxy_cases_ticket_id_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["staff_user_id"], ["users.id"], name=op.f("fk_proxy_cases_staff_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proxy_cases")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_proxy_cases_ticket_id")),
    )
    op.create_index("ix_proxy_cases_hall_state", "proxy_cases", ["hall_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_proxy_cases_hall_state", table_name="proxy_cases")
    op.drop_table("proxy_cases")
    op.drop_index("ix_followups_hall_state", table_name="followups")
    op.drop_table("followups")
