"""Initial state store: ledger with history, effects, cursors, inbox, dead letters, leases.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Written out in full rather than importing ``schema.py``: a migration must keep
describing what it created even after the schema moves on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _id_type() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ledger_records",
        sa.Column("id", _id_type(), primary_key=True),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("centra_id", sa.String(255)),
        sa.Column("wms_id", sa.String(255)),
        sa.Column("state", sa.String(64), nullable=False),
        sa.Column("last_request", sa.JSON()),
        sa.Column("last_response", sa.JSON()),
        sa.Column("last_error", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_records"),
        sa.UniqueConstraint("store", "kind", "key", name="uq_ledger_records_store_kind_key"),
    )
    op.create_index(
        "ix_ledger_records_store_kind_state", "ledger_records", ["store", "kind", "state"]
    )

    op.create_table(
        "ledger_transitions",
        sa.Column("id", _id_type(), primary_key=True),
        sa.Column("record_id", _id_type(), nullable=False),
        sa.Column("from_state", sa.String(64)),
        sa.Column("to_state", sa.String(64), nullable=False),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_transitions"),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["ledger_records.id"],
            name="fk_ledger_transitions_record_id_ledger_records",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_ledger_transitions_record_id", "ledger_transitions", ["record_id"])

    op.create_table(
        "effects",
        sa.Column("id", _id_type(), primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("record_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("intent", sa.JSON()),
        sa.Column("outcome", sa.JSON()),
        sa.Column("error", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("completed_at", _utc()),
        sa.PrimaryKeyConstraint("id", name="pk_effects"),
        sa.UniqueConstraint("key", name="uq_effects_key"),
    )
    op.create_index("ix_effects_store_status", "effects", ["store", "status"])

    op.create_table(
        "cursors",
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("flow", sa.String(64), nullable=False),
        sa.Column("value", _utc(), nullable=False),
        sa.Column("boundary_ids", sa.JSON(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("store", "flow", name="pk_cursors"),
    )

    op.create_table(
        "inbox",
        sa.Column("id", _id_type(), primary_key=True),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("dedup_key", sa.String(128), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("claimed_until", _utc()),
        sa.Column("processed_at", _utc()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("store", "dedup_key", name="uq_inbox_store_dedup_key"),
    )
    op.create_index("ix_inbox_store_processed_at", "inbox", ["store", "processed_at"])

    op.create_table(
        "dead_letters",
        sa.Column("id", _id_type(), primary_key=True),
        sa.Column("store", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("record_key", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON()),
        sa.Column("parked_at", _utc(), nullable=False),
        sa.Column("resolved_at", _utc()),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_store_resolved_at", "dead_letters", ["store", "resolved_at"])
    op.create_index(
        "ix_dead_letters_store_kind_record_key", "dead_letters", ["store", "kind", "record_key"]
    )

    op.create_table(
        "leases",
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_leases"),
    )


def downgrade() -> None:
    for table in (
        "leases",
        "dead_letters",
        "inbox",
        "cursors",
        "effects",
        "ledger_transitions",
        "ledger_records",
    ):
        op.drop_table(table)
