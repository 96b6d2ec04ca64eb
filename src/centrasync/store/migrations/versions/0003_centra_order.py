"""The Centra order a record belongs to, as a column of its own.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07

Shipments and returns need their Centra order number at every step; it was carried in the
last response's JSON and recovered from there.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("ledger_records", sa.Column("centra_order", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("ledger_records") as batch:
        batch.drop_column("centra_order")
