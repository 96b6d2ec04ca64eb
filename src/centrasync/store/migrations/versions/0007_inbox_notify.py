"""On PostgreSQL a new inbox row notifies the workers listening for it.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-07

A webhook received by one process (``serve --role web``) must wake the worker that holds
its store's lease in another at once, not at its next tick. A trigger sends the
notification, so the receiver's transaction costs no extra round trip and any writer of
the inbox is covered. The server delivers it when the transaction commits, and only for a
row the insert really added (a duplicate event adds none). The payload is
``<schema>:<store>``: channels are per database, and a listener only wants its schema.
SQLite has no notifications: there a process wakes only its own worker (store/arrivals.py).
"""

from __future__ import annotations

from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

# The channel the listener in store/arrivals.py listens on.
CHANNEL = "centrasync_inbox"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE FUNCTION centrasync_inbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', TG_TABLE_SCHEMA || ':' || NEW.store); "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER inbox_notify AFTER INSERT ON inbox "
        "FOR EACH ROW EXECUTE FUNCTION centrasync_inbox_notify()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER inbox_notify ON inbox")
    op.execute("DROP FUNCTION centrasync_inbox_notify()")
