"""Statements of analytics near real time: the objects to re-read, and loaded rows' digests.

Each function runs inside the caller's :class:`~centrasync.store.sqlcore.Tx`, like those
in ``coordination.py``. A pending object is one row per (store, resource, id): however
many webhooks name an order before it is re-read, it is re-read once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from centrasync.store.base import AnalyticsClaim, Json, ParkedObject
from centrasync.store.sqlcore import Tx, check_text, clean, dumped, scrub

__all__ = [
    "analytics_backlog",
    "claim_analytics",
    "finish_analytics",
    "known_digests",
    "note_for_analytics",
    "park_analytics",
    "parked_analytics",
    "pending_analytics",
    "record_digests",
    "release_analytics",
    "retry_analytics",
]

_KEY = "store = :store AND resource = :resource AND object_id = :object_id"


def note_for_analytics(tx: Tx, store: str, objects: Sequence[tuple[str, int]]) -> None:
    """Mark objects as changed; one already waiting keeps its place and gets the new time,
    so a claim taken before this note does not clear it. A parked object noted again is
    back in line: Centra changed it, which may have mended its data."""
    for resource, object_id in objects:
        name = f"analytics {store}:{resource}:{object_id}"
        check_text(store, limit=64, record=name, field="store")
        check_text(resource, limit=32, record=name, field="resource")
        tx.run(
            "INSERT INTO analytics_pending (store, resource, object_id, noted_at, attempts) "
            "VALUES (:store, :resource, :object_id, :now, 0) "
            "ON CONFLICT (store, resource, object_id) DO UPDATE SET noted_at = :now, "
            "parked_at = NULL, payload = NULL",
            {"store": store, "resource": resource, "object_id": object_id, "now": tx.now},
        )


def claim_analytics(tx: Tx, store: str, limit: int, claim_for: timedelta) -> AnalyticsClaim:
    """The oldest waiting objects, hidden from other claimers for ``claim_for``."""
    rows = tx.rows(
        "SELECT resource, object_id, attempts FROM analytics_pending WHERE store = :store "
        "AND parked_at IS NULL AND (claimed_until IS NULL OR claimed_until <= :now) "
        f"ORDER BY noted_at, resource, object_id LIMIT :limit{tx.for_update_skip_locked}",
        {"store": store, "now": tx.now, "limit": limit},
    )
    for resource, object_id, _ in rows:
        tx.run(
            "UPDATE analytics_pending SET claimed_until = :until, attempts = attempts + 1 "
            f"WHERE {_KEY}",
            {
                "store": store,
                "resource": resource,
                "object_id": object_id,
                "until": tx.now + claim_for,
            },
        )
    return AnalyticsClaim(
        store=store,
        at=tx.now,
        objects=tuple((str(resource), int(object_id)) for resource, object_id, _ in rows),
        attempts=max((int(attempts) + 1 for *_, attempts in rows), default=0),
    )


def finish_analytics(tx: Tx, claim: AnalyticsClaim) -> None:
    """The claimed objects were merged: forget those not noted again since the claim (a
    parked one stays parked)."""
    for resource, object_id in claim.objects:
        key = {"store": claim.store, "resource": resource, "object_id": object_id}
        tx.run(
            f"DELETE FROM analytics_pending WHERE {_KEY} AND noted_at <= :at AND parked_at IS NULL",
            {**key, "at": claim.at},
        )
        tx.run(
            f"UPDATE analytics_pending SET claimed_until = NULL, attempts = 0, error = NULL "
            f"WHERE {_KEY} AND parked_at IS NULL",
            key,
        )


def release_analytics(tx: Tx, claim: AnalyticsClaim, error: str) -> None:
    """The re-read failed: the objects wait again, with the reason."""
    for resource, object_id in claim.objects:
        tx.run(
            f"UPDATE analytics_pending SET claimed_until = NULL, error = :error WHERE {_KEY}",
            {
                "store": claim.store,
                "resource": resource,
                "object_id": object_id,
                "error": clean(error),
            },
        )


def park_analytics(
    tx: Tx, store: str, resource: str, object_id: int, error: str, payload: Json
) -> None:
    """One statement: the object leaves the claims and keeps its payload and the error."""
    tx.run(
        "UPDATE analytics_pending SET parked_at = :now, claimed_until = NULL, "
        f"error = :error, payload = :payload WHERE {_KEY}",
        {
            "store": store,
            "resource": resource,
            "object_id": object_id,
            "now": tx.now,
            "error": clean(error),
            "payload": dumped(scrub(payload)),
        },
    )


def parked_analytics(tx: Tx, store: str) -> list[ParkedObject]:
    rows = tx.rows(
        "SELECT resource, object_id, error, payload, parked_at FROM analytics_pending "
        "WHERE store = :store AND parked_at IS NOT NULL ORDER BY parked_at, resource, object_id",
        {"store": store},
    )
    return [
        ParkedObject(
            store=store,
            resource=str(resource),
            object_id=int(object_id),
            error=str(error or ""),
            payload=tx.loaded(payload),
            parked_at=tx.time(parked_at),
        )
        for resource, object_id, error, payload, parked_at in rows
    ]


def retry_analytics(tx: Tx, store: str, objects: Sequence[tuple[str, int]] | None) -> int:
    """Parked objects back in line, as if just noted; how many were parked."""
    back = "parked_at = NULL, payload = NULL, attempts = 0, noted_at = :now"
    if objects is None:
        return tx.run(
            f"UPDATE analytics_pending SET {back} WHERE store = :store AND parked_at IS NOT NULL",
            {"store": store, "now": tx.now},
        )
    done = 0
    for resource, object_id in objects:
        done += tx.run(
            f"UPDATE analytics_pending SET {back} WHERE {_KEY} AND parked_at IS NOT NULL",
            {"store": store, "resource": resource, "object_id": object_id, "now": tx.now},
        )
    return done


def analytics_backlog(tx: Tx, store: str) -> int:
    row = tx.rows(
        "SELECT count(*) FROM analytics_pending WHERE store = :store AND parked_at IS NULL",
        {"store": store},
    )
    return int(row[0][0])


def record_digests(tx: Tx, store: str, resource: str, digests: Mapping[str, str]) -> int:
    """Keep each row's digest; returns how many rows were new or had changed."""
    changed = 0
    for row_key, digest in digests.items():
        key = {"store": store, "resource": resource, "row_key": row_key}
        found = tx.one_or_none(
            "SELECT digest FROM analytics_digests "
            "WHERE store = :store AND resource = :resource AND row_key = :row_key",
            key,
        )
        if found is not None and found[0] == digest:
            continue
        changed += 1
        tx.run(
            "INSERT INTO analytics_digests (store, resource, row_key, digest) "
            "VALUES (:store, :resource, :row_key, :digest) "
            "ON CONFLICT (store, resource, row_key) DO UPDATE SET digest = :digest",
            {**key, "digest": digest},
        )
    return changed


def known_digests(tx: Tx, store: str, resource: str) -> int:
    row = tx.rows(
        "SELECT count(*) FROM analytics_digests WHERE store = :store AND resource = :resource",
        {"store": store, "resource": resource},
    )
    return int(row[0][0])


def pending_analytics(tx: Tx, store: str) -> list[tuple[str, int]]:
    rows = tx.rows(
        "SELECT resource, object_id FROM analytics_pending WHERE store = :store", {"store": store}
    )
    return [(str(resource), int(object_id)) for resource, object_id in rows]
