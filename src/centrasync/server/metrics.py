"""Prometheus metrics of the webhook receiver, kept in a registry owned by one app.

A per-app :class:`~prometheus_client.CollectorRegistry` (never the process-global one)
lets several apps live in one process, as tests do, without "duplicated timeseries"
errors and without one app's counts leaking into another's scrape.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge
from prometheus_client.exposition import generate_latest

from centrasync.store.base import StateStore
from centrasync.sync.shipments import flow_backlog

__all__ = ["CONTENT_TYPE", "RateLimitCounts", "ReceiverMetrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


class RateLimitCounts(Protocol):
    """What a scrape asks of the engine (in a process that runs one)."""

    def rate_limited(self, store: str) -> int:
        """429 answers Centra gave this store's client so far."""
        ...

    def analytics_paused(self, store: str) -> bool:
        """Whether this store's analytics is paused (Centra refused its token)."""
        ...


class ReceiverMetrics:
    """Counters per store; the inbox and analytics backlogs are read from the state store at
    scrape time."""

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
        self.analytics_backlog = Gauge(
            "centrasync_analytics_backlog",
            "Objects a webhook named that analytics has not re-read yet (parked ones left "
            "out), read from the state store at scrape time.",
            ["store"],
            registry=self.registry,
        )
        self.analytics_parked = Gauge(
            "centrasync_analytics_parked",
            "Objects analytics parked on bad data, waiting for `centrasync analytics retry`.",
            ["store"],
            registry=self.registry,
        )
        self.analytics_paused = Gauge(
            "centrasync_analytics_paused",
            "1 while the store's analytics is paused (Centra refused the Integration API "
            "token), else 0; shown by the process that runs the engine.",
            ["store"],
            registry=self.registry,
        )
        self.flows = FlowMetrics(self.registry)
        self.engine: RateLimitCounts | None = None
        # Touch every per-store child so a scrape shows zeros instead of missing series.
        for name in self._stores:
            self.received.labels(store=name)
            self.events.labels(store=name)
            self.duplicates.labels(store=name)

    async def render(self, state: StateStore) -> bytes:
        """Refresh the backlog gauge from ``state`` and return the text exposition."""
        for name in self._stores:
            self.backlog.labels(store=name).set(await state.inbox_backlog(name))
            # The backlog is the shared store's, so any process (a web one too) shows it;
            # 429 counts are this process's own clients'.
            for flow, waiting in (await flow_backlog(state, name)).items():
                self.flows.backlog.labels(store=name, flow=flow).set(waiting)
            self.analytics_backlog.labels(store=name).set(await state.analytics_backlog(name))
            parked = await state.parked_analytics(name)
            self.analytics_parked.labels(store=name).set(len(parked))
            if self.engine is not None:
                self.flows.rate_limited.labels(store=name).set(self.engine.rate_limited(name))
                paused = self.engine.analytics_paused(name)
                self.analytics_paused.labels(store=name).set(1 if paused else 0)
        return generate_latest(self.registry)


class FlowMetrics:
    """The flows' :class:`~centrasync.sync.ports.FlowEvents` as Prometheus series.

    Per store and flow: processed, failed, parked (by reason), sweep recoveries and lag;
    at scrape time also the backlog of records waiting in each flow and Centra's 429s.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.processed_total = Counter(
            "centrasync_flow_processed",
            "Records a flow moved to a new state.",
            ["store", "flow"],
            registry=registry,
        )
        self.failed_total = Counter(
            "centrasync_flow_failed",
            "Attempts that failed and will be retried.",
            ["store", "flow"],
            registry=registry,
        )
        self.parked_total = Counter(
            "centrasync_flow_parked",
            "Records parked for a person, by reason (capture_declined is a fraud alert).",
            ["store", "flow", "reason"],
            registry=registry,
        )
        self.recovered_total = Counter(
            "centrasync_sweep_recoveries",
            "Records the reconciliation sweep found that no webhook announced.",
            ["store", "flow"],
            registry=registry,
        )
        self.lag_seconds = Gauge(
            "centrasync_flow_lag_seconds",
            "Age of the latest record a flow handled, from its source time to now.",
            ["store", "flow"],
            registry=registry,
        )
        self.backlog = Gauge(
            "centrasync_flow_backlog",
            "Records waiting in a flow (outbound: seen, not yet in the WMS; confirmation: "
            "in the WMS, not yet completed), read from the ledger at scrape time.",
            ["store", "flow"],
            registry=registry,
        )
        self.rate_limited = Gauge(
            "centrasync_centra_rate_limited",
            "429 answers from Centra since the process started.",
            ["store"],
            registry=registry,
        )

    def processed(self, store: str, flow: str) -> None:
        self.processed_total.labels(store=store, flow=flow).inc()

    def failed(self, store: str, flow: str) -> None:
        self.failed_total.labels(store=store, flow=flow).inc()

    def parked(self, store: str, flow: str, reason: str) -> None:
        self.parked_total.labels(store=store, flow=flow, reason=reason).inc()

    def recovered(self, store: str, flow: str) -> None:
        self.recovered_total.labels(store=store, flow=flow).inc()

    def lag(self, store: str, flow: str, seconds: float) -> None:
        self.lag_seconds.labels(store=store, flow=flow).set(max(0.0, seconds))
