"""halls.official_calendar: closed on public holidays, open on make-up working days

Revision ID: 0006_official_calendar
Revises: 0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_official_calendar"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing halls follow the calendar from now on, as a real hall does; an
    # always-open demo hall can switch it off in its settings.
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("official_calendar", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.drop_column("official_calendar")
