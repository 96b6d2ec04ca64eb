"""What ``centrasync sync <flow> <store>`` does: one pass of one flow, now, from the shell.

``serve`` runs every flow on its schedule; an operator sometimes needs a pass at once (a
full article re-sync after changing the article-number settings, a stock comparison
before a sale). The pass builds the store's clients the way the engine does and first
takes the lease the engine's own loop for that flow holds (see ``StoreWorker.lease_for``),
so it never runs beside it. It renews the lease while it works, because a pass can
outlast the lease's lifetime: a full stock pass first waits for the WMS stock to stand
still.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from centrasync.config import Settings
from centrasync.errors import ConfigError, RetryLaterError
from centrasync.http import RateBudget
from centrasync.runtime import Connections, StoreFlows, build_flows, open_state, store_clients
from centrasync.store import StateStore, StoreDiagnostics
from centrasync.sync.articles import ARTICLES, ArticlePass
from centrasync.sync.indeliveries import IN_DELIVERIES
from centrasync.sync.leases import LeaseHold, while_holding
from centrasync.sync.returns import RETURNS
from centrasync.sync.shipments import CANCELLATION, CONFIRMATION, OUTBOUND
from centrasync.sync.stock import STOCK, StockReport
from centrasync.sync.tally import Tally
from centrasync.sync.worker import SHIPMENTS, StoreWorker, lease_name

__all__ = [
    "FULL_FLOWS",
    "PassResult",
    "RecordsPass",
    "StepCounts",
    "StoreBusyError",
    "SyncFlow",
    "holding_lease",
    "manual_owner",
    "pass_display",
    "print_pass",
    "run_pass",
    "shortfall",
]

T = TypeVar("T")

DRIFT_ROWS = 50


class SyncFlow(StrEnum):
    """The flows ``centrasync sync`` runs, named as on the command line."""

    ARTICLES = "articles"
    STOCK = "stock"
    IN_DELIVERIES = "in-deliveries"
    RETURNS = "returns"
    SHIPMENTS = "shipments"


FULL_FLOWS = frozenset({SyncFlow.ARTICLES, SyncFlow.STOCK})
"""The flows that know a full pass besides the incremental one."""


class StoreBusyError(RetryLaterError):
    """Another process (usually ``serve``) holds a lease the pass needs."""


@dataclass(frozen=True)
class StepCounts:
    """What one step of a records pass reported: records moved on, failed attempts, parked."""

    step: str
    moved: int
    failed: int
    parked: int


@dataclass(frozen=True)
class RecordsPass:
    """A pass of a flow that moves records one by one (in-deliveries, returns, shipments).

    ``inbox`` is the store's count of webhook events waiting before and after the pass,
    for the shipments, whose pass also handles the inbox.
    """

    flow: SyncFlow
    store: str
    moved: int
    steps: tuple[StepCounts, ...]
    inbox: tuple[int, int] | None = None

    @property
    def failed(self) -> int:
        return sum(step.failed for step in self.steps)


PassResult = ArticlePass | StockReport | RecordsPass


def manual_owner() -> str:
    """This process's name in the lease; never the one ``serve`` uses for the same host."""
    return f"{socket.gethostname()}:sync:{os.getpid()}"


# -- the lease ----------------------------------------------------------------------------


async def holding_lease(
    state: StateStore,
    name: str,
    owner: str,
    work: Callable[[StateStore], Coroutine[Any, Any, T]],
    *,
    ttl: timedelta,
) -> T:
    """Run ``work`` on a view of ``state`` fenced by lease ``name``, renewed as it runs.

    Refuses at once, naming the holder, when another owner has the lease. If a renewal
    fails, or the store refuses a write because another process took the lease over, the
    work stops with :class:`LeaseLostError` (see :mod:`centrasync.sync.leases`).
    """
    hold = LeaseHold(name, ttl)
    asked_at = hold.clock()
    taken = await state.acquire_lease(name, owner, ttl)
    if taken is None:
        raise await _busy(state, name)
    hold.taken(taken, asked_at, ttl)

    async def renew() -> bool:
        asked_at = hold.clock()
        if await state.renew_lease(name, owner, ttl, token=taken.token):
            hold.renewed(asked_at, ttl)
            return True
        return False

    try:
        return await while_holding(hold, renew, lambda: work(state.fenced(hold)))
    finally:
        await state.release_lease(name, owner, token=taken.token)


async def _busy(state: StoreDiagnostics, name: str) -> StoreBusyError:
    holder = await state.find_lease(name)
    who = (
        "another process"
        if holder is None
        else f"{holder.owner!r} until {holder.expires_at:%Y-%m-%d %H:%M:%S} UTC"
    )
    return StoreBusyError(
        f"lease {name} is held by {who}: a running 'centrasync serve' runs this flow itself; "
        "let it, or stop it and try again"
    )


# -- one pass -----------------------------------------------------------------------------

# The engine's loop (and so the lease) a manual pass of each flow keeps away. Both stock
# passes run in the stock loop, since they update one stock mirror.
_ENGINE_LOOPS = {
    SyncFlow.ARTICLES: ARTICLES,
    SyncFlow.STOCK: STOCK,
    SyncFlow.IN_DELIVERIES: IN_DELIVERIES,
    SyncFlow.RETURNS: RETURNS,
    SyncFlow.SHIPMENTS: SHIPMENTS,
}


async def run_pass(
    settings: Settings,
    store_name: str,
    flow: SyncFlow,
    *,
    full: bool = False,
    owner: str,
    progress: Callable[[int, int | None], None] | None = None,
    connections: Connections | None = None,
) -> PassResult:
    """One pass of ``flow`` for one store, holding the engine's lease(s) for it throughout.

    ``progress(done, total)`` follows an articles pass (``total`` None while reading).
    """
    store = settings.store(store_name)
    if flow is SyncFlow.STOCK and not (store.sync_stock or store.import_available_stock):
        raise ConfigError(
            f"stores.{store.name}: sync_stock and import_available_stock are both off, "
            "so a stock pass has nothing to do"
        )
    state = await open_state(settings.engine.database_url, settings.engine)
    try:
        centra, wms = store_clients(
            store, RateBudget(settings.engine.centra_rate), connections=connections
        )
        async with centra, wms:

            async def fenced_pass(fenced: StateStore) -> PassResult:
                tally = Tally()
                flows = build_flows(store, settings.engine, lambda _: fenced, centra, wms, tally)
                return await _Pass(flows, tally, owner).run(flow, full=full, progress=progress)

            return await holding_lease(
                state,
                lease_name(store.name, _ENGINE_LOOPS[flow]),
                owner,
                fenced_pass,
                ttl=timedelta(seconds=settings.engine.lease_ttl),
            )
    finally:
        await state.close()


@dataclass(frozen=True)
class _Pass:
    flows: StoreFlows
    tally: Tally
    owner: str

    async def run(
        self, flow: SyncFlow, *, full: bool, progress: Callable[[int, int | None], None] | None
    ) -> PassResult:
        flows, tally = self.flows, self.tally
        store = flows.shipments.store_name
        if flow is SyncFlow.ARTICLES:
            flows.articles.progress = progress
            return await flows.articles.sync(full=full)
        if flow is SyncFlow.STOCK:
            stock = flows.stock
            return await (stock.run_full() if full else stock.run_incremental())
        if flow is SyncFlow.IN_DELIVERIES:
            moved = await flows.in_deliveries.run()
            return RecordsPass(flow, store, moved, _steps(tally, store, [IN_DELIVERIES]))
        if flow is SyncFlow.RETURNS:
            moved = await flows.returns.run()
            return RecordsPass(flow, store, moved, _steps(tally, store, [RETURNS]))
        return await self._shipments()

    async def _shipments(self) -> RecordsPass:
        """The inbox, re-driven retries, poll, cancellations, confirmations and sweep once."""
        shipments = self.flows.shipments
        store = shipments.store_name
        before = await shipments.state.inbox_backlog(store)
        schedule = shipments.settings.schedule
        await StoreWorker(shipments, schedule, self.owner).run_held_once()
        after = await shipments.state.inbox_backlog(store)
        steps = _steps(self.tally, store, [OUTBOUND, CONFIRMATION, CANCELLATION])
        moved = sum(step.moved for step in steps)
        return RecordsPass(SyncFlow.SHIPMENTS, store, moved, steps, (before, after))


def _steps(tally: Tally, store: str, always: Sequence[str]) -> tuple[StepCounts, ...]:
    """The tally's counts for ``store``: the ``always`` steps first, then any other seen."""
    counters = (tally.processed_count, tally.failed_count, tally.parked_count)
    seen = {flow for counter in counters for name, flow in counter if name == store}
    order = [*always, *sorted(seen - set(always))]
    return tuple(
        StepCounts(
            step,
            tally.processed_count[store, step],
            tally.failed_count[store, step],
            tally.parked_count[store, step],
        )
        for step in order
    )


# -- showing it ---------------------------------------------------------------------------


@contextmanager
def pass_display(
    console: Console, flow: SyncFlow, store: str
) -> Iterator[Callable[[int, int | None], None] | None]:
    """A progress bar for an articles pass (yields its hook), a spinner for the others.

    The bar has no total while Centra's product pages are read, so it runs indeterminate
    until the flow knows how many rows it will handle.
    """
    if flow is not SyncFlow.ARTICLES:
        with console.status(f"{flow.value}: one pass for store {store} …"):
            yield None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("reading Centra products", total=None)

        def show(done: int, total: int | None) -> None:
            if total is None:
                bar.update(task, description="reading Centra products", completed=done)
            else:
                bar.update(task, description="syncing articles", total=total, completed=done)

        yield show


def shortfall(result: PassResult) -> str | None:
    """Why the pass, though it ran, did not get through; None when it did."""
    if isinstance(result, StockReport) and result.postponed:
        return (
            f"full stock pass postponed: the WMS stock kept changing for {result.waited:.0f} s, "
            "so nothing was compared (see stock_quiet_window)"
        )
    if isinstance(result, RecordsPass) and result.failed:
        return (
            f"{result.failed} attempt(s) failed and will be retried on the next pass; "
            "the log says why"
        )
    return None


def print_pass(console: Console, result: PassResult) -> None:
    """The pass report: counts, and for a full stock pass the drift per SKU."""
    if isinstance(result, ArticlePass):
        _print_articles(console, result)
    elif isinstance(result, StockReport):
        _print_stock(console, result)
    else:
        _print_records(console, result)


def _print_articles(console: Console, result: ArticlePass) -> None:
    kind = "full" if result.full else "incremental"
    table = Table("read", "written", "unchanged", "filtered", "parked", title=f"articles: {kind}")
    figures = (result.read, result.written, result.unchanged, result.filtered, result.parked)
    table.add_row(*(str(n) for n in figures))
    console.print(table)


def _print_stock(console: Console, result: StockReport) -> None:
    table = Table("seen", "written", "imported", "parked", "batches", title=f"stock: {result.mode}")
    figures = (result.seen, result.written, result.imported, result.parked, result.batches)
    table.add_row(*(str(n) for n in figures))
    console.print(table)
    if result.waited >= 1:
        console.print(f"waited {result.waited:.0f} s for the WMS stock to stand still")
    if result.mode != "full" or result.postponed:
        return
    if not result.drift:
        console.print("no drift: Centra and the WMS agree on every SKU")
        return
    drift = Table("sku", "centra", "wms", "written", title="drift")
    for row in result.drift[:DRIFT_ROWS]:
        drift.add_row(
            row.sku, _figure(row.centra), _figure(row.wms), "yes" if row.written else "no"
        )
    console.print(drift)
    hidden = len(result.drift) - DRIFT_ROWS
    more = f" (first {DRIFT_ROWS} shown, {hidden} more)" if hidden > 0 else ""
    console.print(f"{len(result.drift)} SKU(s) drifted{more}")


def _figure(value: int | None) -> str:
    return "-" if value is None else str(value)


def _print_records(console: Console, result: RecordsPass) -> None:
    table = Table("step", "moved", "failed", "parked", title=result.flow.value)
    for step in result.steps:
        table.add_row(step.step, str(step.moved), str(step.failed), str(step.parked))
    console.print(table)
    console.print(f"{result.moved} record(s) moved on")
    if result.inbox is not None:
        before, after = result.inbox
        console.print(f"webhook events waiting: {before} before, {after} after")
    if any(step.parked for step in result.steps):
        console.print(f"parked records: centrasync dead --store {result.store}")
