"""What the demo sets up and expects, read from the seeded Centra emulator before it runs.

The seed names its special shipments and its supplier delivery; everything else the demo
does (the returns it registers, the SKUs it recounts, the stock the warehouse starts with)
is chosen here by fixed rules, so every run tells the same story. The expectations are the
demo's own reading of the seed, never the engine's code, so the verdict does not trust what
it judges.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.model import SizeRef

__all__ = ["InDeliveryPlan", "Plan", "ReturnLine", "ReturnPlan", "StockChange"]

# The first receipt takes this many of every announced line; the rest comes later.
FIRST_RECEIPT = 10


@dataclass(frozen=True)
class InDeliveryPlan:
    """The seed's supplier delivery and how the warehouse receives it: in two parts."""

    store: str
    in_order: str
    """The WMS in-order number: Centra's delivery id."""
    delivery: str
    """Centra's delivery number (``deliveryId``), the one the first receipt is accepted on."""
    announced: dict[str, int]
    """Article number → units announced."""

    @property
    def first(self) -> dict[str, int]:
        return {article: min(FIRST_RECEIPT, units) for article, units in self.announced.items()}

    @property
    def rest(self) -> dict[str, int]:
        return {
            article: units - self.first[article]
            for article, units in self.announced.items()
            if units > self.first[article]
        }


@dataclass(frozen=True)
class ReturnLine:
    article: str
    line_id: str
    """Centra's order line id, which the WMS line carries and the Centra return names."""
    quantity: int
    cause: str | None


@dataclass(frozen=True)
class ReturnPlan:
    """Goods coming back on one shipped order, registered in the WMS by the demo."""

    store: str
    shipment: str
    lines: tuple[ReturnLine, ...]


@dataclass(frozen=True)
class StockChange:
    """A stock-take in the WMS on an article no order or delivery touches."""

    sku: str
    count: int
    locked: int | None
    why: str

    @property
    def figure(self) -> int:
        """What the WMS then says Centra should hold: counted minus locked."""
        return self.count - (self.locked or 0)


@dataclass(frozen=True)
class Plan:
    """Everything the run is judged against."""

    store_of: dict[str, str]
    """Shipment number → store."""
    declined: str
    cancelled: str
    short: str
    main: str
    """The store that imports the catalogue, receives the delivery and syncs stock."""
    rows: int
    """Product rows (sizes) Centra lists."""
    articles: frozenset[str]
    """Article numbers the connector's filter lets through: each must be written."""
    left_out: frozenset[str]
    """Numbers of the rows the filter leaves out: none may reach the WMS."""
    in_delivery: InDeliveryPlan
    returns: tuple[ReturnPlan, ...]
    stock_changes: tuple[StockChange, ...]
    opening_stock: dict[str, int]
    """What the warehouse holds before the engine starts: Centra's figure, SKU by SKU."""

    @classmethod
    def of(cls, centra: CentraEmulator) -> Plan:
        world, summary = centra.world, centra.seed_summary
        store_of = {
            s.number: world.orders[s.order_number].store_uri for s in world.shipments.values()
        }
        special = {
            summary[case]["shipment"] for case in ("capture_declines", "to_cancel", "short_pick")
        }
        delivery = world.supplier_deliveries[summary["supplier_delivery"]["id"]]
        main = next(
            uri for uri, store in world.stores.items() if world.delivery_visible(store, delivery)
        )
        sizes = sorted(world.sizes.values(), key=lambda ref: ref.size.id)
        articles = frozenset(ref.physical_sku for ref in sizes if _importable(ref))
        left_out = frozenset(ref.physical_sku for ref in sizes if not _importable(ref))
        in_delivery = InDeliveryPlan(
            store=main,
            in_order=str(delivery.id),
            delivery=delivery.number,
            announced={
                world.sizes[size].physical_sku: qty for size, qty in delivery.quantities.items()
            },
        )
        returns = _returns(centra, store_of, special, main)
        busy = set(in_delivery.announced) | set(_shipped_articles(centra))
        recount = [ref for ref in sizes if ref.physical_sku in articles - busy][:4]
        return cls(
            store_of=store_of,
            declined=summary["capture_declines"]["shipment"],
            cancelled=summary["to_cancel"]["shipment"],
            short=summary["short_pick"]["shipment"],
            main=main,
            rows=len(sizes),
            articles=articles,
            left_out=left_out,
            in_delivery=in_delivery,
            returns=returns,
            stock_changes=_stock_changes(centra, main, recount),
            opening_stock={
                ref.physical_sku: world.store_stock(world.stores[main], ref.size.id)[0]
                for ref in sizes
                if ref.physical_sku in articles
            },
        )

    @property
    def stores(self) -> tuple[str, ...]:
        return tuple(sorted(set(self.store_of.values())))

    def shipments(self, store: str) -> list[str]:
        return sorted(number for number, owner in self.store_of.items() if owner == store)


def _importable(ref: SizeRef) -> bool:
    """The connector's default filter: SKU, variant SKU and size SKU set, product active."""
    parts = (ref.product.sku, ref.variant.sku, ref.size.sku)
    return all(part.strip() for part in parts) and ref.product.active


def _lines(centra: CentraEmulator, shipment: str) -> list[tuple[str, str, int]]:
    """(article number, Centra order line id, units) for each line of a shipment."""
    world = centra.world
    found = world.shipment(shipment)
    order = world.orders[found.order_number]
    lines = []
    for line in found.lines:
        order_line = world.line(order, line.order_line_id)
        assert order_line is not None, "a seeded shipment line belongs to its order"
        lines.append(
            (world.sizes[order_line.size_id].physical_sku, str(line.order_line_id), line.qty)
        )
    return lines


def _shipped_articles(centra: CentraEmulator) -> Iterator[str]:
    for shipment in centra.world.shipments.values():
        for article, _, _ in _lines(centra, shipment.number):
            yield article


def _returns(
    centra: CentraEmulator, store_of: dict[str, str], special: set[str], main: str
) -> tuple[ReturnPlan, ...]:
    """The returns the demo registers, chosen by rule among shipments completed as usual.

    In the main store (returns with comments and back to stock): two lines of the first
    multi-line shipment, with different causes, so Centra gets two returns; then one line
    of the first single-line shipment without a cause. In every other store (comments off):
    two units of the first line holding two or more, with a cause Centra does not hear of.
    """
    plans: list[ReturnPlan] = []
    ordinary = sorted(n for n in store_of if n not in special)
    in_main = [n for n in ordinary if store_of[n] == main]
    multi = next(n for n in in_main if len(_lines(centra, n)) >= 2)
    (a, a_id, _), (b, b_id, _) = _lines(centra, multi)[:2]
    plans.append(
        ReturnPlan(
            main,
            multi,
            (ReturnLine(a, a_id, 1, "Too small"), ReturnLine(b, b_id, 1, "Wrong colour")),
        )
    )
    single = next(n for n in in_main if len(_lines(centra, n)) == 1)
    article, line_id, _ = _lines(centra, single)[0]
    plans.append(ReturnPlan(main, single, (ReturnLine(article, line_id, 1, None),)))
    for store in sorted(set(store_of.values()) - {main}):
        candidates = (
            (number, line)
            for number in ordinary
            if store_of[number] == store
            for line in _lines(centra, number)
            if line[2] >= 2
        )
        number, (article, line_id, _) = next(candidates)
        plans.append(ReturnPlan(store, number, (ReturnLine(article, line_id, 2, "Arrived late"),)))
    return tuple(plans)


def _stock_changes(
    centra: CentraEmulator, main: str, refs: list[SizeRef]
) -> tuple[StockChange, ...]:
    """Four stock-takes: more, fewer, none and some locked, against Centra's own figure."""
    world = centra.world
    store = world.stores[main]
    held = [world.store_stock(store, ref.size.id)[0] for ref in refs]
    return (
        StockChange(refs[0].physical_sku, held[0] + 5, None, "counted 5 more than Centra has"),
        StockChange(refs[1].physical_sku, max(held[1] - 3, 0), None, "3 damaged, written off"),
        StockChange(refs[2].physical_sku, 0, None, "shelf found empty"),
        StockChange(refs[3].physical_sku, held[3], 2, "2 locked for inspection"),
    )
