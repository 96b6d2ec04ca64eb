"""The operator's console: its audit log, and the indexes its records list reads through.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

The console lists records newest first and pages by (updated_at, id), and finds them by
the numbers an operator has in hand: a shipment or order number, a SKU, a WMS order id.
Each action an operator takes there (a retry, a re-send) is written to the audit log.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None

_LEDGER_INDEXES = {
    "ix_ledger_records_updated_at_id": ["updated_at", "id"],
    "ix_ledger_records_state_updated_at_id": ["state", "updated_at", "id"],
    "ix_ledger_records_store_kind_updated_at_id": ["store", "kind", "updated_at", "id"],
    "ix_ledger_records_key": ["key"],
    "ix_ledger_records_centra_order": ["centra_order"],
    "ix_ledger_records_wms_id": ["wms_id"],
}


def upgrade() -> None:
    for name, columns in _LEDGER_INDEXES.items():
        op.create_index(name, "ledger_records", columns)
    op.create_index("ix_effects_store_kind_record_key", "effects", ["store", "kind", "record_key"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("detail", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_target_id", "audit_log", ["target", "id"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_target_id", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index("ix_effects_store_kind_record_key", table_name="effects")
    for name in _LEDGER_INDEXES:
        op.drop_index(name, table_name="ledger_records")
