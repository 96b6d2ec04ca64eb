"""Analytics in the engine: a trigger pass within seconds, reconciliation now and then.

One :class:`LiveAnalytics` per store with analytics on. Its passes run in the worker's
``analytics`` loop, under that loop's lease, one after the other, so two loads of one
store never race (a slower, older read cannot overwrite a newer one).

- :meth:`~LiveAnalytics.webhook_pass` (trigger ``webhook``): the receiver noted each
  order, shipment or return a webhook named in the state store before it answered Centra;
  this pass claims them, re-reads exactly those objects, merges them, and only then clears
  them. A crash in between leaves the claim to lapse, and the objects are read again: the
  merge is keyed, so a second load changes nothing. Fulfilment's inbox is a separate
  consumer of the same webhooks and never takes these notes away.
- :meth:`~LiveAnalytics.events_pass` (trigger ``events``): Centra's events queue, which
  confirms every event it read once the load is merged.
- :meth:`~LiveAnalytics.reconcile`: the incremental read with the overlap window, returns,
  in-deliveries and stock read whole. Every loaded row's digest is kept, so a row this
  pass loads with a digest no trigger had loaded is one the triggers missed: counted,
  logged and reported. The first pass for a store is the baseline and counts nothing.

Centra refusing the token (403, :class:`~centrasync.errors.TokenInvalidError`) pauses the
store's analytics: one error line, the ``token_invalid`` metric, nothing sent to Centra for
``paused_retry`` seconds; the store's other loops hold their own leases and carry on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import structlog

from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.config import AnalyticsSettings, AnalyticsTrigger
from centrasync.errors import CentrasyncError, DataError, TokenInvalidError, redact
from centrasync.store.base import AnalyticsQueueStore
from centrasync.sync.ports import FlowEvents

from .events import events_pass, listen
from .rows import Row
from .source import SyncResult, Targets, sync_store
from .triggers import WEBHOOK_RESOURCES

__all__ = [
    "ANALYTICS",
    "KEYS",
    "LiveAnalytics",
    "Reconciliation",
]

_log = structlog.get_logger(__name__)

ANALYTICS = "analytics"
# The rows whose digests reconciliation compares: what a trigger can bring.
KEYS: Mapping[str, tuple[str, ...]] = {
    "orders": ("order_number",),
    "shipments": ("shipment_id",),
    "returns": ("return_id",),
    "in_deliveries": ("delivery_id",),
}
BATCH = 200

# dlt writes a DuckDB file from one connection at a time: stores that share a file load
# one after the other within this process (per event loop, which a lock belongs to).
_DESTINATION_LOCKS: dict[tuple[int, str], asyncio.Lock] = {}


def _digests(pages: Sequence[tuple[str, Sequence[Row]]]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for resource, rows in pages:
        key = KEYS.get(resource)
        if key is None:
            continue
        for row in rows:
            text = json.dumps(row, sort_keys=True, default=str, separators=(",", ":"))
            row_key = "/".join(str(row.get(part)) for part in key)
            found.setdefault(resource, {})[row_key] = hashlib.sha256(text.encode()).hexdigest()
    return found


@dataclass
class Reconciliation:
    """Rows one reconciliation read, and those of them no trigger had loaded, per resource;
    ``baseline`` names resources seen for the first time (nothing to compare with);
    ``tables``: rows in each table after the load."""

    store: str
    read: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    missed: dict[str, int] = field(default_factory=dict)
    baseline: tuple[str, ...] = ()

    @property
    def total_missed(self) -> int:
        return sum(self.missed.values())


@dataclass
class LiveAnalytics:
    """One store's analytics passes; ``state`` is the analytics loop's (fenced) store."""

    store: str
    client: IntegrationApiClient
    settings: AnalyticsSettings
    state: AnalyticsQueueStore
    events: FlowEvents
    base: Path
    claim_for: timedelta = timedelta(minutes=1)
    clock: Callable[[], float] = time.monotonic
    paused: str | None = None
    _retry_at: float = 0.0
    _listening: bool = False

    @property
    def trigger_pass(self) -> Callable[[], Awaitable[int]]:
        if self.settings.trigger is AnalyticsTrigger.EVENTS:
            return self.events_pass
        return self.webhook_pass

    @property
    def triggered(self) -> frozenset[str]:
        """The resources the trigger announces (Centra sends no in-delivery webhook)."""
        if self.settings.trigger is AnalyticsTrigger.EVENTS:
            return frozenset(KEYS)
        return frozenset(WEBHOOK_RESOURCES.values())

    @property
    def trigger_interval(self) -> float:
        """How often the trigger pass runs; a webhook pass with nothing noted costs one
        state-store read, so it runs every tick's worth."""
        if self.settings.trigger is AnalyticsTrigger.EVENTS:
            return self.settings.events_interval
        return 0.25

    async def webhook_pass(self) -> int:
        """Re-read and merge what webhooks named; how many objects were re-read."""
        return await self._unless_paused(self._webhook_pass)

    async def events_pass(self) -> int:
        """Drain the events queue once; how many events were read (all confirmed)."""
        return await self._unless_paused(self._events_pass)

    async def reconcile(self) -> int:
        """One reconciliation; how many rows it found that the triggers had missed."""
        return await self._unless_paused(self._reconcile)

    async def _reconcile(self) -> int:
        return (await self.reconciliation()).total_missed

    async def reconciliation(self) -> Reconciliation:
        """Read incrementally and whole, merge, and count what no trigger had loaded."""
        seen: list[tuple[str, Sequence[Row]]] = []
        loaded = await self._load(None, lambda resource, rows: seen.append((resource, rows)))
        result = Reconciliation(self.store, read=dict(loaded.read), tables=dict(loaded.tables))
        # An object a webhook named that is still waiting was not missed, only not yet
        # re-read; nor can the trigger have brought what it never announces.
        waiting = {
            f"{resource}:{key}" for resource, key in await self.state.pending_analytics(self.store)
        }
        baseline: list[str] = []
        for resource, digests in _digests(seen).items():
            known = await self.state.known_digests(self.store, resource)
            counted = {k: v for k, v in digests.items() if f"{resource}:{k}" not in waiting}
            await self.state.record_digests(
                self.store, resource, {k: v for k, v in digests.items() if k not in counted}
            )
            changed = await self.state.record_digests(self.store, resource, counted)
            if known == 0:
                baseline.append(resource)
            elif resource in self.triggered:
                result.missed[resource] = changed
                for _ in range(changed):
                    self.events.recovered(self.store, ANALYTICS)
        result.baseline = tuple(baseline)
        _log.info(
            "analytics reconciled",
            store=self.store,
            missed=result.total_missed,
            missed_by_resource=result.missed,
            baseline=list(result.baseline),
        )
        return result

    async def _webhook_pass(self) -> int:
        claim = await self.state.claim_analytics(self.store, BATCH, claim_for=self.claim_for)
        if not claim.objects:
            return 0
        seen: list[tuple[str, Sequence[Row]]] = []
        try:
            bad = await self._load_objects(claim.objects, seen)
        except CentrasyncError as exc:
            await self.state.release_analytics(claim, redact(str(exc)))
            raise
        for (resource, object_id), error in bad:
            await self._park(resource, object_id, error)
        await self._keep_digests(seen)
        # A shipment that changed (shipped, captured) changes its order's status, and
        # Centra's shipment webhook names only the shipment: note its order for the next
        # pass, unless this claim read it already. A note is one row per order, so an
        # order webhook for it meanwhile makes no second read.
        orders = self._orders_of(seen) - {ref for kind, ref in claim.objects if kind == "orders"}
        if orders:
            await self.state.note_for_analytics(
                self.store, [("orders", number) for number in sorted(orders)]
            )
        await self.state.finish_analytics(claim)
        for _ in range(len(claim.objects) - len(bad)):
            self.events.processed(self.store, ANALYTICS)
        return len(claim.objects)

    def _orders_of(self, seen: Sequence[tuple[str, Sequence[Row]]]) -> set[int]:
        """The order numbers of the shipment rows loaded (under their mapped name; none
        when the mapping excludes ``order_number``)."""
        column = next(
            (new for new, field in self.settings.columns.items() if field == "order_number"),
            "order_number",
        )
        return {
            int(number)
            for resource, rows in seen
            if resource == "shipments"
            for row in rows
            if isinstance(number := row.get(column), int)
        }

    async def _load_objects(
        self, objects: Sequence[tuple[str, int]], seen: list[tuple[str, Sequence[Row]]]
    ) -> list[tuple[tuple[str, int], DataError]]:
        """Load ``objects``; on bad data, halve the batch until the objects that cannot be
        loaded stand alone (returned with their error), so the others of the batch load."""
        by_resource: dict[str, set[int]] = {}
        for resource, object_id in objects:
            by_resource.setdefault(resource, set()).add(object_id)
        loaded: list[tuple[str, Sequence[Row]]] = []
        try:
            await self._load(
                Targets({name: frozenset(ids) for name, ids in by_resource.items()}),
                lambda resource, rows: loaded.append((resource, rows)),
            )
        except DataError as exc:
            if len(objects) == 1:
                return [(objects[0], exc)]
            half = len(objects) // 2
            return [
                *await self._load_objects(objects[:half], seen),
                *await self._load_objects(objects[half:], seen),
            ]
        seen.extend(loaded)
        return []

    async def _park(self, resource: str, object_id: int, error: DataError) -> None:
        """Keep the object with its payload, out of the claims, and tell the operator."""
        said, named = redact(str(error)), f"{resource} {object_id}"
        # The mapping's error names the object already; the client's names its place in
        # the page (``orders[3]``).
        said = said if said.startswith(named) else f"{named}: {said}"
        reason = f"analytics for store {self.store!r}: {said}"
        payload = error.details.get("payload")
        await self.state.park_analytics(self.store, resource, object_id, reason, payload)
        self.events.parked(self.store, ANALYTICS, "bad_data")
        _log.error(
            "analytics object parked",
            store=self.store,
            resource=resource,
            object_id=object_id,
            error=reason,
        )

    async def _events_pass(self) -> int:
        if not self._listening:
            await listen(self.client)
            self._listening = True
        seen: list[tuple[str, Sequence[Row]]] = []
        async with self.destination_lock():
            done = await events_pass(
                self.store,
                self.client,
                self.settings,
                base=self.base,
                observe=lambda resource, rows: seen.append((resource, rows)),
            )
        await self._keep_digests(seen)
        for _ in range(sum(done.loaded.values())):
            self.events.processed(self.store, ANALYTICS)
        return done.read

    async def _keep_digests(self, seen: Sequence[tuple[str, Sequence[Row]]]) -> None:
        for resource, digests in _digests(seen).items():
            await self.state.record_digests(self.store, resource, digests)

    async def _load(
        self, targets: Targets | None, observe: Callable[[str, Sequence[Row]], None]
    ) -> SyncResult:
        async with self.destination_lock():
            load = asyncio.ensure_future(
                sync_store(
                    self.store,
                    self.client,
                    self.settings,
                    base=self.base,
                    targets=targets,
                    observe=observe,
                )
            )
            try:
                return await asyncio.shield(load)
            except asyncio.CancelledError:
                # dlt loads in a thread, which cancelling cannot stop: the load finishes
                # (or fails) before the destination is given to anyone else.
                with suppress(BaseException):
                    await load
                raise

    def destination_lock(self) -> asyncio.Lock:
        """Held while this process loads into the store's destination; a reader in the
        same process holds it too (DuckDB refuses a second connection of another kind)."""
        where = self.settings.destination
        if "://" not in where:
            where = str((self.base / where).resolve())
        loop = id(asyncio.get_running_loop())
        return _DESTINATION_LOCKS.setdefault((loop, where), asyncio.Lock())

    async def _unless_paused(self, body: Callable[[], Awaitable[int]]) -> int:
        now = self.clock()
        if self.paused is not None and now < self._retry_at:
            return 0
        try:
            done = await body()
        except TokenInvalidError as exc:
            self._retry_at = now + self.settings.paused_retry
            if self.paused is None:
                self.events.parked(self.store, ANALYTICS, "token_invalid")
            self.paused = (
                f"analytics for store {self.store!r} paused: Centra refused the Integration "
                f"API token (403, invalid or expired); configure a new token: {redact(str(exc))}"
            )
            _log.error(
                "analytics paused",
                store=self.store,
                error=self.paused,
                retry_in=self.settings.paused_retry,
            )
            return 0
        if self.paused is not None:
            _log.info("analytics resumed", store=self.store)
            self.paused = None
        return done
