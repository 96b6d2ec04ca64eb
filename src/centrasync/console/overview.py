"""What the overview shows per store and flow, gathered from the state store and the metrics.

The state store is shared by every process, so what it answers (last success, backlog,
parked records, dead letters) is the whole deployment's. Counters (retries, 429s,
webhooks, sweep recoveries, lag) are this process's own Prometheus series: a web-only
process runs no flows and says so instead of showing zeros.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry

from centrasync.ops import CheckResult, Outcome
from centrasync.server.metrics import ReceiverMetrics
from centrasync.store import RecordKind, RecordQuery, StateStore
from centrasync.sync.articles import ARTICLES, ArticleState
from centrasync.sync.indeliveries import IN_DELIVERIES
from centrasync.sync.indeliveries import PARKED_STATES as IN_DELIVERY_PARKED
from centrasync.sync.returns import PARKED_STATES as RETURN_PARKED
from centrasync.sync.returns import RETURNS
from centrasync.sync.shipments import (
    CANCELLATION,
    CONFIRMATION,
    OUTBOUND,
    PARKED_STATES,
    ShipmentState,
    flow_backlog,
)
from centrasync.sync.stock import PARKED_STOCK_STATES, STOCK, STOCK_FULL, StockState

__all__ = [
    "FLOWS",
    "PARKED_BY_KIND",
    "Alert",
    "FlowRow",
    "FlowSpec",
    "HourWindow",
    "StoreOverview",
    "gather_overview",
]

WEBHOOKS = "webhooks"
PARKED_BY_KIND: Mapping[RecordKind, frozenset[str]] = {
    RecordKind.SHIPMENT: frozenset(PARKED_STATES),
    RecordKind.ARTICLE: frozenset(
        {ArticleState.AMBIGUOUS, ArticleState.INVALID, ArticleState.REFUSED, ArticleState.FAILED}
    ),
    RecordKind.IN_DELIVERY: frozenset(IN_DELIVERY_PARKED),
    RecordKind.RETURN: frozenset(RETURN_PARKED),
    RecordKind.STOCK: frozenset(PARKED_STOCK_STATES),
    # Webhook events the worker could not act on are parked as order records.
    RecordKind.ORDER: frozenset({"parked"}),
}
"""The states in which a record waits for a person, per kind (each flow's own sets)."""


@dataclass(frozen=True)
class FlowSpec:
    """One row of the overview: a kind of record and the flows (metric labels) moving it."""

    title: str
    kind: RecordKind
    flows: tuple[str, ...]


FLOWS = (
    FlowSpec("Shipments", RecordKind.SHIPMENT, (OUTBOUND, CONFIRMATION, CANCELLATION)),
    FlowSpec("Articles", RecordKind.ARTICLE, (ARTICLES,)),
    FlowSpec("In-deliveries", RecordKind.IN_DELIVERY, (IN_DELIVERIES,)),
    FlowSpec("Returns", RecordKind.RETURN, (RETURNS,)),
    FlowSpec("Stock", RecordKind.STOCK, (STOCK, STOCK_FULL)),
    FlowSpec("Webhook events", RecordKind.ORDER, (WEBHOOKS,)),
)
_HOUR = 3600.0


@dataclass
class HourWindow:
    """How much a cumulative counter grew in the last hour, from samples taken when asked.

    A Prometheus counter only knows its total; each overview samples it, and the growth
    since the oldest sample younger than an hour is the figure shown. ``since`` tells
    when that sample was taken, so a console opened ten minutes ago says "10 min", not
    "an hour".
    """

    clock: Callable[[], float] = time.monotonic
    _samples: dict[tuple[str, ...], deque[tuple[float, float]]] = field(default_factory=dict)

    def growth(self, key: tuple[str, ...], total: float) -> tuple[float, float]:
        """(growth, seconds covered) of the series ``key`` now at ``total``."""
        now = self.clock()
        samples = self._samples.setdefault(key, deque())
        while samples and samples[0][0] < now - _HOUR:
            samples.popleft()
        samples.append((now, total))
        first_at, first = samples[0]
        return max(0.0, total - first), now - first_at


@dataclass(frozen=True)
class FlowRow:
    spec: FlowSpec
    last_change: datetime | None
    last_success: datetime | None
    lag_seconds: float | None
    backlog: int | None
    parked: int
    retries_hour: float | None
    processed: float | None


@dataclass(frozen=True)
class Alert:
    """Something a person must look at, with the records behind it (``link``)."""

    title: str
    count: int
    link: str
    detail: str = ""


@dataclass(frozen=True)
class StoreOverview:
    name: str
    flows: tuple[FlowRow, ...]
    alerts: tuple[Alert, ...]
    open_dead_letters: int
    rate_limited_hour: float | None
    window_seconds: float
    webhooks: Mapping[str, float]
    sweep_recoveries: float
    engine_here: bool


def _sample(registry: CollectorRegistry, name: str, labels: Mapping[str, str]) -> float:
    return registry.get_sample_value(name, dict(labels)) or 0.0


def _query(**filters: str) -> str:
    return "/records?" + "&".join(f"{key}={value}" for key, value in filters.items())


async def gather_overview(
    state: StateStore,
    stores: Iterable[str],
    metrics: ReceiverMetrics | None,
    window: HourWindow,
    checks: list[CheckResult] | None,
    *,
    now: datetime | None = None,
) -> list[StoreOverview]:
    """Every configured store's overview; ``checks``: the last ``check`` results, if run."""
    moment = now or datetime.now(UTC)
    return [await _store_overview(state, name, metrics, window, checks, moment) for name in stores]


async def _store_overview(
    state: StateStore,
    store: str,
    metrics: ReceiverMetrics | None,
    window: HourWindow,
    checks: list[CheckResult] | None,
    now: datetime,
) -> StoreOverview:
    engine_here = metrics is not None and metrics.engine is not None
    registry = metrics.registry if metrics is not None else None
    shipment_backlog = await flow_backlog(state, store)
    parked_counts: dict[RecordKind, dict[str, int]] = {}
    rows: list[FlowRow] = []
    covered = 0.0
    for spec in FLOWS:
        parked_states = PARKED_BY_KIND[spec.kind]
        counts = await state.count_records(store, spec.kind, states=parked_states)
        parked_counts[spec.kind] = counts
        lag: float | None = None
        retries: float | None = None
        processed: float | None = None
        if registry is not None and engine_here:
            lags = [
                registry.get_sample_value(
                    "centrasync_flow_lag_seconds", {"store": store, "flow": flow}
                )
                for flow in spec.flows
            ]
            known = [value for value in lags if value is not None]
            lag = max(known) if known else None
            failed = sum(
                _sample(registry, "centrasync_flow_failed_total", {"store": store, "flow": flow})
                for flow in spec.flows
            )
            retries, covered = window.growth((store, spec.kind.value, "failed"), failed)
            processed = sum(
                _sample(registry, "centrasync_flow_processed_total", {"store": store, "flow": flow})
                for flow in spec.flows
            )
        if spec.kind is RecordKind.SHIPMENT:
            backlog: int | None = sum(shipment_backlog.values())
        elif spec.kind is RecordKind.ORDER:
            backlog = await state.inbox_backlog(store)
        else:
            backlog = None
        rows.append(
            FlowRow(
                spec=spec,
                last_change=await state.latest_change(store, spec.kind),
                last_success=await state.latest_change(store, spec.kind, excluding=parked_states),
                lag_seconds=lag,
                backlog=backlog,
                parked=sum(counts.values()),
                retries_hour=retries,
                processed=processed,
            )
        )
    rate_limited: float | None = None
    if metrics is not None and metrics.engine is not None:
        rate_limited, covered = window.growth(
            (store, "429"), float(metrics.engine.rate_limited(store))
        )
    webhooks: dict[str, float] = {}
    sweep = 0.0
    if registry is not None:
        for label, name in (
            ("received", "centrasync_webhooks_received_total"),
            ("events", "centrasync_webhook_events_total"),
            ("duplicates", "centrasync_webhook_duplicates_total"),
        ):
            webhooks[label] = _sample(registry, name, {"store": store})
        webhooks["rejected"] = sum(
            sample.value
            for family in registry.collect()
            if family.name == "centrasync_webhooks_rejected"
            for sample in family.samples
            if sample.name.endswith("_total") and sample.labels.get("store") == store
        )
        sweep = sum(
            _sample(registry, "centrasync_sweep_recoveries_total", {"store": store, "flow": flow})
            for flow in (OUTBOUND, CONFIRMATION, CANCELLATION)
        )
    open_dead = await state.count_open_dead(store)
    alerts = await _alerts(state, store, parked_counts, open_dead, checks, now)
    return StoreOverview(
        name=store,
        flows=tuple(rows),
        alerts=tuple(alerts),
        open_dead_letters=open_dead,
        rate_limited_hour=rate_limited,
        window_seconds=covered,
        webhooks=webhooks,
        sweep_recoveries=sweep,
        engine_here=engine_here,
    )


async def _alerts(
    state: StateStore,
    store: str,
    parked: Mapping[RecordKind, Mapping[str, int]],
    open_dead: int,
    checks: list[CheckResult] | None,
    now: datetime,
) -> list[Alert]:
    shipments = parked[RecordKind.SHIPMENT]
    alerts: list[Alert] = []
    declined = shipments.get(ShipmentState.CAPTURE_DECLINED, 0)
    if declined:
        alerts.append(
            Alert(
                "Capture declined",
                declined,
                _query(store=store, kind="shipment", state=ShipmentState.CAPTURE_DECLINED),
                "possible fraud: never shipped until a person decides",
            )
        )
    too_late = shipments.get(ShipmentState.CANCEL_TOO_LATE, 0)
    if too_late:
        alerts.append(
            Alert(
                "Cancellation too late",
                too_late,
                _query(store=store, kind="shipment", state=ShipmentState.CANCEL_TOO_LATE),
                "cancelled in Centra after picking began: stop the parcel",
            )
        )
    # Stock written to Centra means the two sides differed: drift the stock flow corrected.
    since = now - timedelta(hours=1)
    drift = await state.search_records(
        RecordQuery(store=store, kind=RecordKind.STOCK, state=StockState.WRITTEN, since=since),
        limit=100,
    )
    if drift.records:
        count = len(drift.records)
        alerts.append(
            Alert(
                "Stock drift",
                count,
                _query(
                    store=store,
                    kind="stock",
                    state=StockState.WRITTEN,
                    since=since.strftime("%Y-%m-%dT%H:%M"),
                ),
                f"{count}{'+' if drift.after else ''} SKU(s) corrected in Centra in the last hour",
            )
        )
    for result in checks or ():
        if result.store == store and result.outcome is Outcome.FAIL and _rejected(result.detail):
            alerts.append(
                Alert(f"{result.system}: credentials rejected", 1, "/config", result.detail)
            )
    if open_dead:
        alerts.append(
            Alert("Dead letters", open_dead, f"/dead?store={store}", "records waiting for a person")
        )
    return alerts


def _rejected(detail: str) -> bool:
    """A ``check`` failure that is a refused secret, password or permission (ops.check)."""
    return detail.startswith(("authentication failed", "permission denied"))
