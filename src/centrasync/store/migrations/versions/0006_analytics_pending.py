"""Analytics near real time: the objects webhooks named, and what each loaded row held.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

``analytics_pending`` is the set of objects (order numbers, shipment and return ids) a
webhook said changed and analytics has not re-read yet: noted when the webhook arrives,
removed only once the re-read was merged. ``analytics_digests`` keeps a digest of each
loaded row, so the reconciliation pass can count the rows neither trigger had brought.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "analytics_pending",
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("noted_at", _utc(), nullable=False),
        sa.Column("claimed_until", _utc()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("store", "resource", "object_id", name="pk_analytics_pending"),
    )
    op.create_table(
        "analytics_digests",
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(32), nullable=False),
        sa.Column("row_key", sa.String(128), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("store", "resource", "row_key", name="pk_analytics_digests"),
    )


def downgrade() -> None:
    op.drop_table("analytics_digests")
    op.drop_table("analytics_pending")
