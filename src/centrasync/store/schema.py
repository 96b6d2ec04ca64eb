"""The state store's tables, as SQLAlchemy Core objects on one :data:`metadata`.

This module is the reference the migrations are tested against: applying every
migration to an empty database must produce exactly these tables
(``tests/store/test_store_migrations.py``). Change both together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

__all__ = [
    "UtcDateTime",
    "analytics_digests",
    "analytics_pending",
    "audit_log",
    "cursors",
    "dead_letters",
    "effects",
    "inbox",
    "leases",
    "ledger_records",
    "ledger_transitions",
    "metadata",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend.

    PostgreSQL keeps ``timestamptz``; SQLite has no zone support, so values are stored
    as naive UTC text, which sorts and compares correctly because every row uses the
    same zone and format. Naive values are rejected on the way in.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} cannot be stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _id() -> Column[int]:
    # BigInteger on PostgreSQL; SQLite only auto-increments a plain INTEGER primary key.
    return Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)


ledger_records = Table(
    "ledger_records",
    metadata,
    _id(),
    Column("store", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("centra_id", String(255)),
    Column("wms_id", String(255)),
    Column("state", String(64), nullable=False),
    Column("last_request", JSON),
    Column("last_response", JSON),
    Column("last_error", Text),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("centra_order", String(255)),
    UniqueConstraint("store", "kind", "key"),
    Index(None, "store", "kind", "state", "key"),
    # The console's records list: newest first, paged by (updated_at, id), in any state or
    # in one (a rare one, such as capture_declined, is found without reading the others),
    # for one store's flow (also its last change, even where the store has no such record),
    # and looked up by the numbers an operator has in hand (shipment or order number, SKU,
    # WMS order).
    Index(None, "updated_at", "id"),
    Index(None, "state", "updated_at", "id"),
    Index(None, "store", "kind", "updated_at", "id"),
    Index(None, "key"),
    Index(None, "centra_order"),
    Index(None, "wms_id"),
)

ledger_transitions = Table(
    "ledger_transitions",
    metadata,
    _id(),
    Column(
        "record_id",
        BigInteger().with_variant(Integer(), "sqlite"),
        ForeignKey("ledger_records.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("from_state", String(64)),
    Column("to_state", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("note", Text),
)

effects = Table(
    "effects",
    metadata,
    _id(),
    Column("key", String(255), nullable=False, unique=True),
    Column("store", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("record_key", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("intent", JSON),
    Column("outcome", JSON),
    Column("error", Text),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime),
    Index(None, "store", "status"),
    Index(None, "store", "kind", "record_key"),
)

cursors = Table(
    "cursors",
    metadata,
    Column("store", String(64), primary_key=True),
    Column("flow", String(64), primary_key=True),
    Column("value", UtcDateTime, nullable=False),
    Column("boundary_ids", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

inbox = Table(
    "inbox",
    metadata,
    _id(),
    Column("store", String(64), nullable=False),
    Column("dedup_key", String(128), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("claimed_until", UtcDateTime),
    Column("processed_at", UtcDateTime),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    UniqueConstraint("store", "dedup_key"),
    Index(None, "store", "processed_at"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    _id(),
    Column("store", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("record_key", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", JSON),
    Column("parked_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    Index(None, "store", "resolved_at"),
    Index(None, "store", "kind", "record_key"),
)

leases = Table(
    "leases",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("token", BigInteger, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("at", UtcDateTime, nullable=False),
    Column("who", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(512), nullable=False),
    Column("detail", Text),
    Index(None, "target", "id"),
)

analytics_pending = Table(
    "analytics_pending",
    metadata,
    Column("store", String(64), primary_key=True),
    Column("resource", String(32), primary_key=True),
    Column("object_id", BigInteger, primary_key=True, autoincrement=False),
    Column("noted_at", UtcDateTime, nullable=False),
    Column("claimed_until", UtcDateTime),
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("parked_at", UtcDateTime),
    Column("payload", JSON),
)

analytics_digests = Table(
    "analytics_digests",
    metadata,
    Column("store", String(64), primary_key=True),
    Column("resource", String(32), primary_key=True),
    Column("row_key", String(128), primary_key=True),
    Column("digest", String(64), nullable=False),
)
