"""Analytics parks an object whose data cannot be loaded, with its payload.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A parked row of ``analytics_pending`` (``parked_at`` set) is left out of the claims and
the backlog; ``payload`` keeps what Centra sent for the object and ``error`` names the
field, until an operator retries it or a new webhook names the object again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("analytics_pending") as table:
        table.add_column(sa.Column("parked_at", sa.DateTime(timezone=True)))
        table.add_column(sa.Column("payload", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("analytics_pending") as table:
        table.drop_column("payload")
        table.drop_column("parked_at")
