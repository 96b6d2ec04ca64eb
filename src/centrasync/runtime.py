"""The composition root: settings become the state store, clients, flows and workers.

Everything concrete is built here and nowhere else: the state store, the Order API client,
the Ongoing connector, each store's flows and the engine that schedules them. The flows only
know protocols; ``cli``, ``ops``, ``server`` and the demo receive what this module builds.
Tests and the demo pass in-process transports per store instead of the network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from centrasync.analytics.live import ANALYTICS, LiveAnalytics
from centrasync.centra.client import OrderApiClient
from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.config import (
    EngineSettings,
    FilesSettings,
    FlowSchedule,
    Settings,
    StoreSettings,
)
from centrasync.http import AsyncClosing, RateBudget, RetryPolicy
from centrasync.http.quota import QuotaBudget
from centrasync.store.base import StateStore
from centrasync.store.sql import Clock, open_store
from centrasync.sync.articles import ARTICLES, ArticlesFlow
from centrasync.sync.indeliveries import IN_DELIVERIES, InDeliveriesFlow
from centrasync.sync.ports import FlowEvents
from centrasync.sync.returns import RETURNS, ReturnsFlow
from centrasync.sync.share import FairShare
from centrasync.sync.shipments import ShipmentFlows
from centrasync.sync.stock import STOCK, STOCK_FULL, StockFlow
from centrasync.sync.worker import SHIPMENTS, ScheduledFlow, StoreWorker, lease_name
from centrasync.wms.base import Warehouse
from centrasync.wms.files import FilesWarehouse
from centrasync.wms.ongoing import OngoingWarehouse

__all__ = [
    "Connections",
    "Engine",
    "StoreFlows",
    "WarehouseClient",
    "analytics_flows",
    "build_flows",
    "centra_client",
    "integration_client",
    "open_state",
    "store_clients",
    "wms_client",
]


WarehouseClient = OngoingWarehouse | FilesWarehouse
"""The connectors a store's ``wms.kind`` chooses between."""


@dataclass(frozen=True)
class Connections:
    """Transports for one store's remote systems; None means the real network.

    ``integration`` defaults to ``centra``'s: Centra serves both APIs, and so does its
    emulator.
    """

    centra: httpx.AsyncBaseTransport | None = None
    wms: httpx.AsyncBaseTransport | None = None
    integration: httpx.AsyncBaseTransport | None = None

    @property
    def integration_api(self) -> httpx.AsyncBaseTransport | None:
        return self.integration if self.integration is not None else self.centra


async def open_state(
    url: str, engine: EngineSettings | None = None, *, clock: Clock | None = None
) -> StateStore:
    """The state store at ``url``, migrated, sized by ``engine`` (its pool and lease time)."""
    if engine is None:
        return await open_store(url, clock=clock)
    return await open_store(
        url, clock=clock, pool_size=engine.database_pool, stall_timeout=engine.lease_ttl
    )


def centra_client(
    store: StoreSettings,
    *,
    budget: RateBudget | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> OrderApiClient:
    """The store's Order API client; the caller closes it."""
    return OrderApiClient(
        store.centra.base_url,
        store.centra_secret.get_secret_value(),
        store.centra.timezone,
        transport=transport,
        budget=budget,
        retry=retry,
        timeout=timeout,
    )


def integration_client(
    store: StoreSettings,
    *,
    budget: QuotaBudget | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> IntegrationApiClient | None:
    """The store's Integration API client, or None when the store configures none.

    ``budget`` is shared by every client of the same endpoint (one Centra environment);
    the caller closes the client.
    """
    if store.integration_api is None or store.integration_api_token is None:
        return None
    return IntegrationApiClient(
        store.integration_api.url,
        store.integration_api_token,
        transport=transport,
        budget=budget,
        retry=retry,
        timeout=timeout,
    )


def wms_client(
    store: StoreSettings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    retry: RetryPolicy | None = None,
    timeout: float = 30.0,
) -> WarehouseClient:
    """The store's warehouse connector (Ongoing or file exchange); the caller closes it.

    ``transport`` and ``retry`` apply to Ongoing's HTTP API; the file connector speaks
    SFTP to the host its settings name.
    """
    password = store.wms_password.get_secret_value() if store.wms_password else None
    if isinstance(store.wms, FilesSettings):
        return FilesWarehouse.from_settings(store.wms, password, timeout=timeout)
    return OngoingWarehouse(
        store.wms.api_url,
        store.wms.user,
        password or "",
        store.wms.goods_owner_id,
        transport=transport,
        retry=retry,
        timeout=timeout,
    )


def store_clients(
    store: StoreSettings,
    budget: RateBudget,
    *,
    connections: Connections | None = None,
    retry: RetryPolicy | None = None,
) -> tuple[OrderApiClient, WarehouseClient]:
    """One store's Order API client and warehouse connector, built from its settings.

    ``budget`` is shared by every store on the same Centra account (host); the caller
    closes both clients.
    """
    wired = connections or Connections()
    centra = centra_client(store, budget=budget, transport=wired.centra, retry=retry)
    return centra, wms_client(store, transport=wired.wms, retry=retry)


@dataclass(frozen=True)
class StoreFlows:
    """Every flow of one store, on the clients and the state store given."""

    shipments: ShipmentFlows
    articles: ArticlesFlow
    in_deliveries: InDeliveriesFlow
    returns: ReturnsFlow
    stock: StockFlow

    def scheduled(self, schedule: FlowSchedule) -> tuple[ScheduledFlow, ...]:
        """The flows beside the shipment passes, on their schedule."""
        return (
            ScheduledFlow(ARTICLES, schedule.articles, self.articles.run),
            ScheduledFlow(IN_DELIVERIES, schedule.in_deliveries, self.in_deliveries.run),
            ScheduledFlow(RETURNS, schedule.returns, self.returns.run),
            ScheduledFlow(STOCK, schedule.stock, self.stock.run),
            # One mirror of Centra's stock serves both stock passes, so they share a loop.
            ScheduledFlow(STOCK_FULL, schedule.stock_full, self.stock.run_full_pass, loop=STOCK),
        )


def build_flows(
    store: StoreSettings,
    engine: EngineSettings,
    state_for: Callable[[str], StateStore],
    centra: OrderApiClient,
    wms: Warehouse,
    events: FlowEvents,
    *,
    webhooks_since: datetime | None = None,
    integration: IntegrationApiClient | None = None,
) -> StoreFlows:
    """The store's flows; each writes through ``state_for(loop)``, the loop it runs in.

    ``integration``: the store's Integration API client, which names the shipment behind
    a shipment webhook.
    """
    limit = engine.max_attempts
    shipments = ShipmentFlows(
        settings=store,
        state=state_for(SHIPMENTS),
        centra=centra,
        wms=wms,
        events=events,
        max_attempts=limit,
        concurrency=engine.concurrency,
        webhooks_since=webhooks_since if store.webhook_secret is not None else None,
        integration=integration,
    )
    return StoreFlows(
        shipments=shipments,
        articles=ArticlesFlow(store, state_for(ARTICLES), centra, wms, events, max_attempts=limit),
        in_deliveries=InDeliveriesFlow(
            store, state_for(IN_DELIVERIES), centra, wms, events, max_attempts=limit
        ),
        returns=ReturnsFlow(store, state_for(RETURNS), centra, wms, events, max_attempts=limit),
        stock=StockFlow(store, state_for(STOCK), centra, wms, events, max_attempts=limit),
    )


def analytics_flows(live: LiveAnalytics) -> tuple[ScheduledFlow, ...]:
    """A store's analytics passes, in one loop: the trigger, then reconciliation."""
    return (
        ScheduledFlow(
            "analytics_trigger", live.trigger_interval, live.trigger_pass, loop=ANALYTICS
        ),
        ScheduledFlow(
            "analytics_reconcile",
            live.settings.reconcile_interval,
            live.reconcile,
            loop=ANALYTICS,
        ),
    )


class Engine(AsyncClosing):
    """Every store's worker, sharing one rate budget per Centra account (host).

    ``owner`` names this process in the store leases, which it shares with the other
    processes on the same state store through :attr:`share`; ``webhooks_since`` is when
    this process began receiving webhooks (sweep finds of later shipments count as misses).
    A store with analytics on gets an ``analytics`` loop (:mod:`centrasync.analytics.live`);
    relative DuckDB paths and dlt's working folder are under ``analytics_base``.
    """

    def __init__(
        self,
        settings: Settings,
        state: StateStore,
        *,
        events: FlowEvents,
        owner: str,
        connections: Mapping[str, Connections] | None = None,
        webhooks_since: datetime | None = None,
        tick: float = 0.2,
        retry: RetryPolicy | None = None,
        analytics_base: Path | None = None,
    ) -> None:
        self.settings = settings
        self.state = state
        self.centra: dict[str, OrderApiClient] = {}
        self.integration: dict[str, IntegrationApiClient] = {}
        self.wms: dict[str, WarehouseClient] = {}
        self.workers: list[StoreWorker] = []
        self.analytics: dict[str, LiveAnalytics] = {}
        ttl = timedelta(seconds=settings.engine.lease_ttl)
        self.share = FairShare(state, owner, ttl=ttl)
        budgets: dict[str, RateBudget] = {}
        quotas: dict[str, QuotaBudget] = {}
        for store in settings.stores:
            wired = (connections or {}).get(store.name) or Connections()
            centra, wms = store_clients(
                store,
                budgets.setdefault(store.centra.host, RateBudget(settings.engine.centra_rate)),
                connections=wired,
                retry=retry,
            )
            self.centra[store.name] = centra
            self.wms[store.name] = wms
            if store.integration_api is not None:
                graphql = integration_client(
                    store,
                    budget=quotas.setdefault(store.integration_api.url, QuotaBudget()),
                    transport=wired.integration_api,
                    retry=retry,
                )
                if graphql is not None:
                    self.integration[store.name] = graphql

            def fenced(loop: str, store: str = store.name) -> StateStore:
                # Every write a loop makes carries its lease's fence (sync/leases.py).
                return state.fenced(self.share.hold(lease_name(store, loop)))

            flows = build_flows(
                store,
                settings.engine,
                fenced,
                centra,
                wms,
                events,
                webhooks_since=webhooks_since,
                integration=self.integration.get(store.name),
            )
            more = flows.scheduled(store.schedule)
            graphql = self.integration.get(store.name)
            if store.analytics is not None and store.analytics.enabled and graphql is not None:
                live = LiveAnalytics(
                    store.name,
                    graphql,
                    store.analytics,
                    fenced(ANALYTICS),
                    events,
                    analytics_base or Path.cwd(),
                    claim_for=ttl,
                )
                self.analytics[store.name] = live
                more += analytics_flows(live)
            self.workers.append(
                StoreWorker(
                    flows.shipments,
                    store.schedule,
                    owner,
                    tick=tick,
                    lease_ttl=ttl,
                    more_flows=more,
                    share=self.share,
                )
            )

    def rate_limited(self, store: str) -> int:
        """429 answers Centra gave this store's client so far."""
        return self.centra[store].transport.stats.rate_limited

    def analytics_paused(self, store: str) -> bool:
        live = self.analytics.get(store)
        return live is not None and live.paused is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Run every store's worker until ``stop`` is set, as a member of the share."""
        async with self.share.membership_held():
            await asyncio.gather(*(worker.run(stop) for worker in self.workers))

    async def run_once(self) -> None:
        """One pass of every flow of every store, now; the stores side by side, as in
        :meth:`run`."""
        await asyncio.gather(*(worker.run_once() for worker in self.workers))

    async def aclose(self) -> None:
        for centra in self.centra.values():
            await centra.aclose()
        for graphql in self.integration.values():
            await graphql.aclose()
        for wms in self.wms.values():
            await wms.aclose()
