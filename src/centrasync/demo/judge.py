"""Reading one moment of a demo run, and judging it against the plan.

A :class:`Snapshot` holds the engine's ledger; the emulators are read in memory at the
same moment, which only a demo or a test may do. :class:`Judge` turns both into the
per-store figures the live view and the summary show, and into the list of what has not
yet reached its intended end state (empty means the run is done).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from centrasync.config import Settings, StoreSettings
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.files import FilesWmsEmulator
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.emulators.ongoing.model import Inventory, Order, OrderStatus
from centrasync.store import LedgerRecord, RecordKind, StateStore
from centrasync.sync.articles import ArticleState
from centrasync.sync.indeliveries import PARKED_STATES as IN_DELIVERY_PARKED
from centrasync.sync.indeliveries import InDeliveryState
from centrasync.sync.returns import PARKED_STATES as RETURN_PARKED
from centrasync.sync.returns import ReturnState
from centrasync.sync.shipments import PARKED_STATES, ShipmentState
from centrasync.sync.stock import PARKED_STOCK_STATES, StockState

from .plan import Plan, ReturnPlan

__all__ = [
    "ArticleFigures",
    "CentraReturn",
    "FlowSummary",
    "InDeliveryFigures",
    "Judge",
    "ReturnFigures",
    "Snapshot",
    "StockFigures",
    "StoreSummary",
    "expected_returns",
    "stage",
]

_ALL = 1_000_000
_KINDS = (
    RecordKind.SHIPMENT,
    RecordKind.ARTICLE,
    RecordKind.IN_DELIVERY,
    RecordKind.RETURN,
    RecordKind.STOCK,
)
# One Centra return as the verdict compares it: sorted (line id, units), comment, restock.
CentraReturn = tuple[list[tuple[str, int]], str | None, bool]
_ARTICLE_PARKED = frozenset(
    {ArticleState.AMBIGUOUS, ArticleState.INVALID, ArticleState.REFUSED, ArticleState.FAILED}
)


@dataclass(frozen=True)
class Snapshot:
    """The ledger per store and kind (key → record), and each WMS order's stage."""

    ledger: dict[tuple[str, RecordKind], dict[str, LedgerRecord]]
    wms: dict[str, str]

    @classmethod
    async def take(
        cls, state: StateStore, stores: tuple[str, ...], ongoing: OngoingEmulator | FilesWmsEmulator
    ) -> Snapshot:
        ledger = {}
        for store in stores:
            for kind in _KINDS:
                records = await state.list_records(store, kind=kind, limit=_ALL)
                ledger[store, kind] = {record.ref.key: record for record in records}
        return cls(ledger, {order.number: stage(order) for order in ongoing.state.orders.values()})

    def states(self, store: str, kind: RecordKind) -> dict[str, str]:
        return {key: record.state for key, record in self.ledger[store, kind].items()}

    def parked(self, store: str, kind: RecordKind, parked: frozenset[str]) -> int:
        return sum(record.state in parked for record in self.ledger[store, kind].values())


def stage(order: Order) -> str:
    """Where a WMS order stands on the floor, in one word."""
    if order.status == OrderStatus.CANCELLED:
        return "cancelled"
    if order.shipped_time is not None:
        return "shipped"
    if order.status >= OrderStatus.PICKED:
        return "picked"
    if order.status >= OrderStatus.ALLOCATED:
        return "allocated"
    return "open"


@dataclass(frozen=True)
class StoreSummary:
    """One store's shipment figures; ``shipped`` is what the WMS shipped."""

    store: str
    taken: int
    sent: int
    captured: int
    shipped: int
    completed: int
    cancelled: int
    parked: int


@dataclass(frozen=True)
class ArticleFigures:
    """``read``: product rows Centra lists; ``filtered``: rows the connector leaves out."""

    read: int
    written: int
    filtered: int
    parked: int


@dataclass(frozen=True)
class InDeliveryFigures:
    """In-orders the WMS got, acceptances Centra recorded and the units they accepted."""

    sent: int
    acceptances: int
    units: int
    parked: int


@dataclass(frozen=True)
class ReturnFigures:
    """WMS orders with goods registered as returned, and returns Centra created."""

    registered: int
    created: int
    parked: int


@dataclass(frozen=True)
class StockFigures:
    """SKUs both sides hold, SKUs whose Centra stock the engine set, SKUs still apart."""

    compared: int
    written: int
    drift: int
    parked: int


@dataclass(frozen=True)
class FlowSummary:
    """One store's figures for the flows beyond shipments; None: the flow is off there."""

    store: str
    articles: ArticleFigures | None
    in_deliveries: InDeliveryFigures
    returns: ReturnFigures
    stock: StockFigures | None


class Judge:
    """Compares what the ledger and both emulators show with what the plan intends."""

    def __init__(
        self,
        plan: Plan,
        settings: Settings,
        centra: CentraEmulator,
        ongoing: OngoingEmulator | FilesWmsEmulator,
    ) -> None:
        self.plan = plan
        self.settings = settings
        self.centra = centra
        self.ongoing = ongoing

    # -- shipments ---------------------------------------------------------------------

    def shipments_missing(self, snap: Snapshot) -> list[str]:
        """One line per shipment not yet at its intended end state."""
        lines = []
        for number, store in sorted(self.plan.store_of.items()):
            state = snap.states(store, RecordKind.SHIPMENT).get(number, "not seen")
            wms = snap.wms.get(number, "no order")
            centra = self._centra_view(number)
            if number == self.plan.declined:
                expected = "parked capture_declined, never completed in Centra"
                done = state == ShipmentState.CAPTURE_DECLINED and centra == "not completed"
            elif number == self.plan.cancelled:
                expected = "cancelled in the ledger and in the WMS"
                done = state == ShipmentState.CANCELLED and wms == "cancelled"
            elif number == self.plan.short:
                expected = "quantities lowered in Centra, then completed with tracking"
                done = (
                    state == ShipmentState.COMPLETED
                    and centra.startswith("completed, tracking")
                    and self._lowered_before_completion(number)
                )
            else:
                expected = "completed in Centra with tracking"
                done = state == ShipmentState.COMPLETED and centra.startswith("completed, tracking")
            if not done:
                lines.append(
                    f"{number} ({store}): expected {expected}; "
                    f"ledger {state}, WMS {wms}, Centra {centra}"
                )
        return lines

    def summary(self, snap: Snapshot) -> tuple[StoreSummary, ...]:
        captures = Counter(
            write.store_uri
            for write in self.centra.world.written("captures")
            if write.data.get("outcome") == "captured"
        )
        rows = []
        for store in self.plan.stores:
            states = Counter(snap.states(store, RecordKind.SHIPMENT).values())
            stages = Counter(snap.wms[n] for n in self.plan.shipments(store) if n in snap.wms)
            rows.append(
                StoreSummary(
                    store=store,
                    taken=sum(states.values()),
                    sent=sum(stages.values()),
                    captured=captures[store],
                    shipped=stages["shipped"],
                    completed=states[ShipmentState.COMPLETED],
                    cancelled=states[ShipmentState.CANCELLED],
                    parked=sum(states[parked] for parked in PARKED_STATES),
                )
            )
        return tuple(rows)

    def _centra_view(self, number: str) -> str:
        shipment = self.centra.world.shipment(number)
        if not shipment.shipped:
            return "not completed"
        return f"completed, tracking {shipment.tracking}" if shipment.tracking else "completed"

    def _lowered_before_completion(self, number: str) -> bool:
        """Centra's write log shows a quantity update of the shipment before its completion."""
        kinds = []
        for write in self.centra.world.writes:
            if write.data.get("shipment") != number:
                continue
            products = write.data.get("products") or {}
            if write.kind == "shipment_updates" and any(
                line.get("qty") is not None for line in products.values()
            ):
                kinds.append("lowered")
            elif write.kind == "completions":
                kinds.append("completed")
        return "completed" in kinds and "lowered" in kinds[: kinds.index("completed")]

    # -- the other flows ---------------------------------------------------------------

    def flows_missing(self, snap: Snapshot) -> list[str]:
        """One line per flow outcome the demo set up that is not there yet."""
        return [
            *self._articles_missing(snap),
            *self._in_delivery_missing(snap),
            *(line for plan in self.plan.returns if (line := self._return_missing(snap, plan))),
            *self._stock_missing(),
        ]

    def flows(self, snap: Snapshot) -> tuple[FlowSummary, ...]:
        world = self.centra.world
        acceptances = world.written("supplier_acceptances")
        rows = []
        for store in self.plan.stores:
            settings = self.settings.store(store)
            articles = snap.states(store, RecordKind.ARTICLE)
            in_orders = snap.ledger[store, RecordKind.IN_DELIVERY].values()
            accepted = [w for w in acceptances if w.store_uri == store]
            rows.append(
                FlowSummary(
                    store=store,
                    articles=(
                        ArticleFigures(
                            read=self.plan.rows,
                            written=sum(s == ArticleState.SYNCED for s in articles.values()),
                            filtered=len(self.plan.left_out),
                            parked=snap.parked(store, RecordKind.ARTICLE, _ARTICLE_PARKED),
                        )
                        if settings.schedule.articles > 0
                        else None
                    ),
                    in_deliveries=InDeliveryFigures(
                        sent=sum(
                            r.wms_id is not None and r.state != InDeliveryState.CONTINUATION
                            for r in in_orders
                        ),
                        acceptances=len(accepted),
                        units=sum(sum(w.data["received"].values()) for w in accepted),
                        parked=snap.parked(store, RecordKind.IN_DELIVERY, IN_DELIVERY_PARKED),
                    ),
                    returns=ReturnFigures(
                        registered=sum(
                            any(line.returned > 0 for line in order.lines)
                            for order in self.ongoing.state.orders.values()
                            if self.plan.store_of.get(order.number) == store
                        ),
                        created=sum(w.store_uri == store for w in world.written("returns")),
                        parked=snap.parked(store, RecordKind.RETURN, RETURN_PARKED),
                    ),
                    stock=self._stock_figures(snap, settings) if settings.sync_stock else None,
                )
            )
        return tuple(rows)

    def _articles_missing(self, snap: Snapshot) -> list[str]:
        store = self.plan.main
        states = snap.states(store, RecordKind.ARTICLE)
        articles = self.ongoing.state.articles
        written = {
            number
            for number in self.plan.articles
            if states.get(number) == ArticleState.SYNCED
            and number in articles
            and articles[number].document.article_name
        }
        parked = sorted(n for n, s in states.items() if s in _ARTICLE_PARKED)
        unexpected = sorted(
            (set(states) - self.plan.articles) | (self.plan.left_out & set(articles))
        )
        if written == self.plan.articles and not parked and not unexpected:
            return []
        waiting = sorted(self.plan.articles - written)
        detail = f"; first waiting: {waiting[0]} (ledger {states.get(waiting[0], 'not seen')})"
        return [
            f"articles ({store}): expected all {len(self.plan.articles)} importable articles "
            f"written and the {len(self.plan.left_out)} filtered rows left out; "
            f"{len(written)} written, parked: {parked or 'none'}, "
            f"unexpected: {unexpected or 'none'}" + (detail if waiting else "")
        ]

    def _in_delivery_missing(self, snap: Snapshot) -> list[str]:
        plan = self.plan.in_delivery
        first, rest = self._by_size(plan.first), self._by_size(plan.rest)
        accepted = [
            w.data
            for w in self.centra.world.written("supplier_acceptances")
            if w.store_uri == plan.store
        ]
        record = snap.ledger[plan.store, RecordKind.IN_DELIVERY].get(plan.in_order)
        state = "not seen" if record is None else record.state
        lines = self._in_order_lines()
        done = (
            len(accepted) == 2
            and accepted[0]["delivery"] == plan.delivery
            and accepted[0]["received"] == first
            and accepted[0]["additionalDelivery"] == accepted[1]["delivery"]
            and accepted[1]["received"] == rest
            and accepted[1]["additionalDelivery"] is None
            and state == InDeliveryState.RECEIVED
            and all(advised == received == reported for advised, received, reported in lines)
        )
        if done:
            return []
        received = sum(received for _, received, _ in lines)
        announced = sum(plan.announced.values())
        return [
            f"in-delivery {plan.delivery} ({plan.store}): expected {sum(plan.first.values())} "
            f"units accepted on {plan.delivery}, then the other {sum(plan.rest.values())} on "
            f"the additional delivery; Centra has {len(accepted)} acceptance(s) "
            f"{[a['delivery'] for a in accepted]}, ledger {state}, "
            f"WMS received {received:g} of {announced}"
        ]

    def _in_order_lines(self) -> list[tuple[float, float, float]]:
        """(advised, received, reported) per line of the demo's in-order; empty before it exists.

        A file warehouse keeps no reported figure (the connector does), so there the
        ledger's state and Centra's acceptances alone say what was reported.
        """
        number = self.plan.in_delivery.in_order
        files = isinstance(self.ongoing, FilesWmsEmulator)
        for purchase_order in self.ongoing.state.purchase_orders.values():
            if purchase_order.number == number:
                return [
                    (line.advised, line.received, line.received if files else line.reported or 0.0)
                    for line in purchase_order.lines
                ]
        return []

    def _by_size(self, quantities: dict[str, int]) -> dict[str, int]:
        """Article numbers to Centra's size ids, as its acceptance log keys them."""
        world = self.centra.world
        found = {}
        for article, qty in quantities.items():
            ref = world.find_size(article)
            assert ref is not None, "the plan only names sizes of the seed"
            found[str(ref.size.id)] = qty
        return found

    def _return_missing(self, snap: Snapshot, plan: ReturnPlan) -> str | None:
        settings = self.settings.store(plan.store)
        wanted = expected_returns(plan, settings)
        made: list[CentraReturn] = sorted(
            (
                (
                    sorted((str(k), int(v)) for k, v in w.data["products"].items()),
                    w.data["comment"],
                    bool(w.data["returnStock"]),
                )
                for w in self.centra.world.written("returns")
                if w.store_uri == plan.store and w.data["shipment"] == plan.shipment
            ),
            key=repr,
        )
        state = snap.states(plan.store, RecordKind.RETURN).get(plan.shipment, "not seen")
        if made == wanted and state == ReturnState.REPORTED:
            return None
        return (
            f"returns on {plan.shipment} ({plan.store}): expected Centra returns "
            f"{_describe_returns(wanted)}; Centra has {_describe_returns(made)}, ledger {state}"
        )

    def _stock_missing(self) -> list[str]:
        world = self.centra.world
        store = world.stores[self.plan.main]
        lines = []
        for change in self.plan.stock_changes:
            ref = world.find_size(change.sku)
            assert ref is not None, "the plan only recounts sizes of the seed"
            have = world.store_stock(store, ref.size.id)[0]
            if have != change.figure:
                lines.append(
                    f"stock {change.sku} ({self.plan.main}): expected Centra's physical stock "
                    f"{change.figure} as the WMS counts it; Centra has {have}"
                )
        return lines

    def _stock_figures(self, snap: Snapshot, settings: StoreSettings) -> StockFigures:
        world = self.centra.world
        store = world.stores[settings.name]
        inventory = self.ongoing.state.inventory()
        compared = drift = 0
        for number, figures in inventory.items():
            ref = world.find_size(number)
            if ref is None or ref.product.is_bundle:
                continue
            compared += 1
            physical, allocated = world.store_stock(store, ref.size.id)
            # Centra raises a value below its allocated stock to that: in step, not drift.
            if physical != max(_wms_figure(figures, settings), allocated):
                drift += 1
        records = snap.ledger[settings.name, RecordKind.STOCK].values()
        written = sum(record.state == StockState.WRITTEN for record in records)
        parked = snap.parked(settings.name, RecordKind.STOCK, PARKED_STOCK_STATES)
        return StockFigures(compared, written, drift, parked)


def expected_returns(plan: ReturnPlan, settings: StoreSettings) -> list[CentraReturn]:
    """The Centra returns a registration should become, as sorted (lines, comment, restock).

    With comments on, lines with the same cause share a return whose comment is that
    cause; with them off, one return carries every line and no comment.
    """
    groups: dict[str | None, dict[str, int]] = {}
    for line in plan.lines:
        comment = line.cause if settings.include_return_comment else None
        groups.setdefault(comment, {})[line.line_id] = line.quantity
    return sorted(
        (
            (sorted(products.items()), comment, settings.return_stock)
            for comment, products in groups.items()
        ),
        key=repr,
    )


def _describe_returns(returns: list[CentraReturn]) -> str:
    if not returns:
        return "none"
    return "; ".join(
        f"{dict(lines)} comment {comment!r} return stock {restock}"
        for lines, comment, restock in returns
    )


def _wms_figure(figures: Inventory, settings: StoreSettings) -> float:
    """The physical stock the WMS says Centra should hold (seed 002's formula).

    Adding picked goods back relies on the emulator counting them as locked [I].
    """
    value = figures.number_of_items - figures.number_of_locked_items + figures.allocated
    if settings.picked_not_collected_as_in_stock:
        value += figures.picked_to_be_collected
    return value
