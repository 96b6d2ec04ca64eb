"""The ledger's state index also holds the key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

The flows read the records in some states page by page in key order; with the key in the
(store, kind, state) index, a page is chosen from the index alone instead of from every
row in those states.
"""

from __future__ import annotations

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_ledger_records_store_kind_state", table_name="ledger_records")
    op.create_index(
        "ix_ledger_records_store_kind_state_key",
        "ledger_records",
        ["store", "kind", "state", "key"],
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_records_store_kind_state_key", table_name="ledger_records")
    op.create_index(
        "ix_ledger_records_store_kind_state", "ledger_records", ["store", "kind", "state"]
    )
