"""Prometheus metrics of the webhook receiver, kept in a registry owned by one app.

A per-app :class:`~prometheus_client.CollectorRegistry` (never the process-global one)
lets several apps live in one process, as tests do, without "duplicated timeseries"
errors and without one app's counts leaking into another's scrape.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import generate_latest

from centrasync.store.base import StateStore

__all__ = ["CONTENT_TYPE", "ReceiverMetrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ReceiverMetrics:
    """Counters per store; the inbox backlog is read from the state store at scrape time."""

    def __init__(self, stores: Iterable[str]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._stores = tuple(stores)
        self.received = Counter(
            "centrasync_webhooks_received",
            "Webhook calls that reached a configured store's endpoint, whatever the outcome.",
            ["store"],
            registry=self.registry,
        )
        self.rejected = Counter(
            "centrasync_webhooks_rejected",
            "Webhook calls refused, by reason (signature problem, size, unparseable body).",
            ["store", "reason"],
            registry=self.registry,
        )
        self.events = Counter(
            "centrasync_webhook_events",
            "Events written to the inbox for the first time.",
            ["store"],
            registry=self.registry,
        )
        self.duplicates = Counter(
            "centrasync_webhook_duplicates",
            "Events that were already in the inbox (Centra may deliver an event twice).",
            ["store"],
            registry=self.registry,
        )
        self.backlog = Gauge(
            "centrasync_inbox_backlog",
            "Inbox events not yet processed, read from the state store at scrape time.",
            ["store"],
            registry=self.registry,
        )
        # Touch every per-store child so a scrape shows zeros instead of missing series.
        for name in self._stores:
            self.received.labels(store=name)
            self.events.labels(store=name)
            self.duplicates.labels(store=name)

    async def render(self, state: StateStore) -> bytes:
        """Refresh the backlog gauge from ``state`` and return the text exposition."""
        for name in self._stores:
            self.backlog.labels(store=name).set(await state.inbox_backlog(name))
        return generate_latest(self.registry)
