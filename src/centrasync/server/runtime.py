"""The engine's worker role: clients, flows and one worker per configured store.

This is where concrete classes meet (with ``cli``): the Order API client and the Ongoing
connector are built from settings here and handed to the flows, which only know their
protocols. Tests and the demo pass in-process transports per store instead of the
network.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from centrasync.centra import OrderApiClient
from centrasync.config import Settings, StoreSettings
from centrasync.http import AsyncClosing, RateBudget, RetryPolicy
from centrasync.store.base import StateStore
from centrasync.sync.articles import ARTICLES, ArticlesFlow
from centrasync.sync.indeliveries import IN_DELIVERIES, InDeliveriesFlow
from centrasync.sync.ports import FlowEvents
from centrasync.sync.returns import RETURNS, ReturnsFlow
from centrasync.sync.share import FairShare
from centrasync.sync.shipments import ShipmentFlows
from centrasync.sync.stock import STOCK, STOCK_FULL, StockFlow
from centrasync.sync.worker import SHIPMENTS, ScheduledFlow, StoreWorker, lease_name
from centrasync.wms.ongoing import OngoingWarehouse

__all__ = ["Connections", "Engine", "store_clients"]


@dataclass(frozen=True)
class Connections:
    """Transports for one store's two remote systems; None means the real network."""

    centra: httpx.AsyncBaseTransport | None = None
    wms: httpx.AsyncBaseTransport | None = None


def store_clients(
    store: StoreSettings,
    budget: RateBudget,
    *,
    connections: Connections | None = None,
    retry: RetryPolicy | None = None,
) -> tuple[OrderApiClient, OngoingWarehouse]:
    """One store's Order API client and Ongoing connector, built from its settings.

    ``budget`` is shared by every store on the same Centra account (host); the caller
    closes both clients.
    """
    wired = connections or Connections()
    centra = OrderApiClient(
        store.centra.base_url,
        store.centra_secret.get_secret_value(),
        store.centra.timezone,
        transport=wired.centra,
        budget=budget,
        retry=retry,
    )
    wms = OngoingWarehouse(
        store.wms.api_url,
        store.wms.user,
        store.wms_password.get_secret_value(),
        store.wms.goods_owner_id,
        transport=wired.wms,
        retry=retry,
    )
    return centra, wms


class Engine(AsyncClosing):
    """Every store's worker, sharing one rate budget per Centra account (host).

    ``owner`` names this process in the store leases, which it shares with the other
    processes on the same state store through :attr:`share`; ``webhooks_since`` is when
    this process began receiving webhooks (sweep finds of later shipments count as misses).
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
    ) -> None:
        self.settings = settings
        self.state = state
        self.centra: dict[str, OrderApiClient] = {}
        self.wms: dict[str, OngoingWarehouse] = {}
        self.workers: list[StoreWorker] = []
        ttl = timedelta(seconds=settings.engine.lease_ttl)
        self.share = FairShare(state, owner, ttl=ttl)
        budgets: dict[str, RateBudget] = {}
        for store in settings.stores:
            centra, wms = store_clients(
                store,
                budgets.setdefault(store.centra.host, RateBudget(settings.engine.centra_rate)),
                connections=(connections or {}).get(store.name),
                retry=retry,
            )
            self.centra[store.name] = centra
            self.wms[store.name] = wms

            def fenced(loop: str, store: str = store.name) -> StateStore:
                # Every write a loop makes carries its lease's fence (sync/leases.py).
                return state.fenced(self.share.hold(lease_name(store, loop)))

            flows = ShipmentFlows(
                settings=store,
                state=fenced(SHIPMENTS),
                centra=centra,
                wms=wms,
                events=events,
                max_attempts=settings.engine.max_attempts,
                concurrency=settings.engine.concurrency,
                webhooks_since=webhooks_since if store.webhook_secret is not None else None,
            )
            limit = settings.engine.max_attempts
            articles = ArticlesFlow(
                store, fenced(ARTICLES), centra, wms, events, max_attempts=limit
            )
            in_deliveries = InDeliveriesFlow(
                store, fenced(IN_DELIVERIES), centra, wms, events, max_attempts=limit
            )
            returns = ReturnsFlow(store, fenced(RETURNS), centra, wms, events, max_attempts=limit)
            stock = StockFlow(store, fenced(STOCK), centra, wms, events, max_attempts=limit)
            schedule = store.schedule
            more = (
                ScheduledFlow(ARTICLES, schedule.articles, articles.run),
                ScheduledFlow(IN_DELIVERIES, schedule.in_deliveries, in_deliveries.run),
                ScheduledFlow(RETURNS, schedule.returns, returns.run),
                ScheduledFlow(STOCK, schedule.stock, stock.run),
                # One mirror of Centra's stock serves both stock passes, so they share a loop.
                ScheduledFlow(STOCK_FULL, schedule.stock_full, stock.run_full_pass, loop=STOCK),
            )
            self.workers.append(
                StoreWorker(
                    flows,
                    schedule,
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
        for wms in self.wms.values():
            await wms.aclose()
