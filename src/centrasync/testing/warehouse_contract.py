"""The contract every :class:`~centrasync.wms.Warehouse` connector must pass.

Binding a connector takes a few lines in a test module::

    class TestMyWarehouse(WarehouseContract):
        def open_harness(self) -> AbstractAsyncContextManager[WarehouseHarness]:
            return my_harness()  # a fresh, empty WMS + connector + operator

The tests speak only the protocol and :class:`~centrasync.testing.WarehouseOperator`,
and check behaviour the sync flows rely on: idempotent upserts by our numbers, honest
cancel outcomes, exactly-once reporting by cumulative per-line quantities, stock reads
(full and delta) and paging to exhaustion.
"""

from __future__ import annotations

import abc
import asyncio
import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

import pytest
import pytest_asyncio

from centrasync.errors import RecordValidationError
from centrasync.wms.base import Warehouse
from centrasync.wms.models import (
    Address,
    Article,
    CancelOutcome,
    InOrder,
    InOrderLine,
    Listing,
    OutboundOrder,
    OutboundOrderLine,
    Parcel,
    ShippedOrder,
    StockLevel,
)

from .operator import PickLine, ReceiptLine, ReturnLine, WarehouseOperator

__all__ = ["WarehouseContract", "WarehouseHarness"]

_SHIP_TO = Address(
    name="Ada Lovelace",
    address1="Storgatan 1",
    postcode="11122",
    city="Stockholm",
    country_code="SE",
)
# Stock times are compared at sub-second resolution; this gap orders "before" and "after".
_TICK = 0.005
T = TypeVar("T")


@dataclass(frozen=True)
class WarehouseHarness:
    """A connector and an operator bound to the same fresh, empty warehouse.

    ``page_size`` is the connector's page size, so the paging tests know how many
    documents make more than one page.
    """

    warehouse: Warehouse
    operator: WarehouseOperator
    page_size: int


def _order(number: str, *lines: tuple[str, str, int]) -> OutboundOrder:
    return OutboundOrder(
        order_number=number,
        ship_to=_SHIP_TO,
        lines=tuple(OutboundOrderLine(key, sku, Decimal(qty)) for key, sku, qty in lines),
        reference=number.split("-")[0],
    )


def _listed(listing: Listing[T]) -> tuple[T, ...]:
    """The documents a read listed; a warehouse the connector wrote itself has no
    document it cannot read."""
    assert listing.rejected == (), [str(unreadable.error) for unreadable in listing.rejected]
    return listing.items


def _only(orders: Listing[ShippedOrder], number: str) -> ShippedOrder:
    matches = [o for o in _listed(orders) if o.order_number == number]
    assert len(matches) == 1, f"order {number} listed {len(matches)} times, expected once"
    return matches[0]


def _stock(levels: Sequence[StockLevel], sku: str) -> StockLevel:
    matches = [level for level in levels if level.sku == sku]
    assert len(matches) == 1, f"SKU {sku} appears {len(matches)} times in the stock read"
    return matches[0]


class WarehouseContract(abc.ABC):
    """Subclass as ``Test…`` and implement :meth:`open_harness`; every test gets a new one.

    The tests and the fixture are marked for pytest-asyncio themselves, so they run in a
    project in its default strict mode as well as in auto mode.
    """

    pytestmark = pytest.mark.asyncio

    @abc.abstractmethod
    def open_harness(self) -> AbstractAsyncContextManager[WarehouseHarness]:
        """A fresh, empty warehouse with a connector and an operator bound to it."""

    @pytest_asyncio.fixture
    async def harness(self) -> AsyncIterator[WarehouseHarness]:
        async with self.open_harness() as harness:
            yield harness

    @staticmethod
    async def _stocked(harness: WarehouseHarness, *skus: str, on_hand: int = 10) -> None:
        result = await harness.warehouse.upsert_articles(
            [Article(sku, f"Item {sku}") for sku in skus]
        )
        assert result.ok, result.failed
        for sku in skus:
            await harness.operator.count_stock(sku, Decimal(on_hand))

    @staticmethod
    async def _pick_and_ship(
        harness: WarehouseHarness, number: str, lines: Sequence[PickLine] | None = None
    ) -> None:
        await harness.operator.allocate(number)
        await harness.operator.pick(number, lines)
        parcel = Parcel(tracking_number=f"TRK-{number}", tracking_url=f"https://t.example/{number}")
        await harness.operator.ship(number, [parcel], carrier="PLAB", service="P18")

    # -- articles ---------------------------------------------------------------------------

    async def test_article_upsert_round_trip_and_repush(self, harness: WarehouseHarness) -> None:
        articles = [Article("SKU-1", "Shirt", barcode="7300000000011"), Article("SKU-2", "Cap")]
        first = await harness.warehouse.upsert_articles(articles)
        again = await harness.warehouse.upsert_articles(articles)
        assert first.upserted == again.upserted == ("SKU-1", "SKU-2")
        assert again.ok
        levels = await harness.warehouse.read_stock()
        assert sorted(level.sku for level in levels) == ["SKU-1", "SKU-2"]

    # -- outbound orders ----------------------------------------------------------------------

    async def test_order_upsert_is_idempotent_by_number(self, harness: WarehouseHarness) -> None:
        await self._stocked(harness, "SKU-1")
        first = await harness.warehouse.upsert_outbound_order(_order("100-1", ("L1", "SKU-1", 2)))
        second = await harness.warehouse.upsert_outbound_order(_order("100-1", ("L1", "SKU-1", 3)))
        assert first == second
        await self._pick_and_ship(harness, "100-1")
        shipped = _only(await harness.warehouse.list_shipped_unreported(), "100-1")
        assert [(line.line_key, line.ordered, line.picked) for line in shipped.lines] == [
            ("L1", Decimal(3), Decimal(3))
        ]

    async def test_order_with_every_document_field_is_taken_and_shipped(
        self, harness: WarehouseHarness
    ) -> None:
        """The seed's whole table goes out on every order; no field may make a WMS refuse it.

        Whether each value lands in the right vendor field is the connector's own test
        (the protocol has no read-back of an order header); here it must simply work.
        """
        await self._stocked(harness, "SKU-1")
        order = dataclasses.replace(
            _order("109-1", ("L1", "SKU-1", 1)),
            customer_number="11627",
            remark="leave at door",
            service_point="12345",
            currency="EUR",
            order_type="B2B",
            customer_price=Decimal("3978.75"),
            invoice_number="https://shop.example/proforma?shipment=109-1",
            invoice_url="https://shop.example/invoice-109.pdf",
            delivery_note="https://shop.example/delnote?shipment=109-1",
            marketplace="zalando",
            marketplace_order_number="Z-109",
            notification_mobile="+46700000000",
            notification_email="ada@example.com",
            telephone="+4680000000",
            mobile="+46700000000",
        )
        first = await harness.warehouse.upsert_outbound_order(order)
        assert await harness.warehouse.upsert_outbound_order(order) == first
        await self._pick_and_ship(harness, "109-1")
        shipped = _only(await harness.warehouse.list_shipped_unreported(), "109-1")
        assert shipped.shipped
        assert [(line.line_key, line.picked) for line in shipped.lines] == [("L1", Decimal(1))]

    async def test_cancel_before_picking_then_again(self, harness: WarehouseHarness) -> None:
        await self._stocked(harness, "SKU-1")
        await harness.warehouse.upsert_outbound_order(_order("101-1", ("L1", "SKU-1", 1)))
        assert await harness.warehouse.cancel_outbound_order("101-1") is CancelOutcome.CANCELLED
        assert await harness.warehouse.cancel_outbound_order("101-1") is CancelOutcome.CANCELLED

    async def test_cancel_unknown_order_is_not_found(self, harness: WarehouseHarness) -> None:
        assert await harness.warehouse.cancel_outbound_order("nope-1") is CancelOutcome.NOT_FOUND

    async def test_cancel_after_picking_is_too_late(self, harness: WarehouseHarness) -> None:
        await self._stocked(harness, "SKU-1")
        await harness.warehouse.upsert_outbound_order(_order("102-1", ("L1", "SKU-1", 1)))
        await harness.operator.allocate("102-1")
        await harness.operator.pick("102-1")
        assert await harness.warehouse.cancel_outbound_order("102-1") is CancelOutcome.TOO_LATE
        await harness.operator.ship("102-1", [Parcel(tracking_number="TRK-102")])
        assert _only(await harness.warehouse.list_shipped_unreported(), "102-1").tracking_numbers

    # -- shipped and reported -------------------------------------------------------------------

    async def test_shipped_order_is_listed_once_then_not_after_marking(
        self, harness: WarehouseHarness
    ) -> None:
        await self._stocked(harness, "SKU-1", "SKU-2")
        order = _order("103-1", ("L1", "SKU-1", 2), ("L2", "SKU-2", 1))
        await harness.warehouse.upsert_outbound_order(order)
        picks = [PickLine("SKU-1", Decimal(2), ("SN-1", "SN-2")), PickLine("SKU-2", Decimal(1))]
        await self._pick_and_ship(harness, "103-1", picks)

        shipped = _only(await harness.warehouse.list_shipped_unreported(), "103-1")
        assert shipped.shipped
        assert shipped.shipped_at is not None and shipped.shipped_at.utcoffset() is not None
        assert shipped.tracking_numbers == ("TRK-103-1",)
        assert [p.tracking_url for p in shipped.parcels] == ["https://t.example/103-1"]
        assert (shipped.carrier, shipped.service) == ("PLAB", "P18")
        by_key = {line.line_key: line for line in shipped.lines}
        assert set(by_key) == {"L1", "L2"}
        assert by_key["L1"].sku == "SKU-1"
        assert sorted(by_key["L1"].serial_numbers) == ["SN-1", "SN-2"]
        assert (by_key["L1"].picked, by_key["L1"].reported) == (Decimal(2), Decimal(0))
        assert by_key["L2"].unreported == Decimal(1)

        await harness.warehouse.mark_lines_reported(
            shipped, {key: line.picked for key, line in by_key.items()}
        )
        assert _listed(await harness.warehouse.list_shipped_unreported()) == ()

    async def test_short_pick_reports_the_short_quantity(self, harness: WarehouseHarness) -> None:
        await self._stocked(harness, "SKU-1")
        await harness.warehouse.upsert_outbound_order(_order("104-1", ("L1", "SKU-1", 3)))
        await self._pick_and_ship(harness, "104-1", [PickLine("SKU-1", Decimal(2))])
        shipped = _only(await harness.warehouse.list_shipped_unreported(), "104-1")
        (line,) = shipped.lines
        assert (line.ordered, line.picked, line.unreported) == (Decimal(3), Decimal(2), Decimal(2))
        await harness.warehouse.mark_lines_reported(shipped, {"L1": Decimal(2)})
        assert _listed(await harness.warehouse.list_shipped_unreported()) == ()

    async def test_partial_pick_then_rest_reports_the_delta(
        self, harness: WarehouseHarness
    ) -> None:
        await self._stocked(harness, "SKU-1")
        await harness.warehouse.upsert_outbound_order(_order("105-1", ("L1", "SKU-1", 3)))
        await harness.operator.allocate("105-1")
        await harness.operator.pick("105-1", [PickLine("SKU-1", Decimal(1))])
        first = _only(await harness.warehouse.list_shipped_unreported(), "105-1")
        assert first.lines[0].unreported == Decimal(1)
        assert not first.shipped and first.parcels == ()
        await harness.warehouse.mark_lines_reported(first, {"L1": Decimal(1)})
        assert _listed(await harness.warehouse.list_shipped_unreported()) == ()

        await harness.operator.pick("105-1", [PickLine("SKU-1", Decimal(2))])
        await harness.operator.ship("105-1", [Parcel(tracking_number="TRK-105")])
        second = _only(await harness.warehouse.list_shipped_unreported(), "105-1")
        assert second.shipped and second.tracking_numbers == ("TRK-105",)
        (line,) = second.lines
        assert (line.picked, line.reported, line.unreported) == (Decimal(3), Decimal(1), Decimal(2))
        await harness.warehouse.mark_lines_reported(second, {"L1": Decimal(3)})
        assert _listed(await harness.warehouse.list_shipped_unreported()) == ()

    async def test_marking_rejects_unknown_lines_and_overshoot(
        self, harness: WarehouseHarness
    ) -> None:
        await self._stocked(harness, "SKU-1")
        await harness.warehouse.upsert_outbound_order(_order("106-1", ("L1", "SKU-1", 2)))
        await self._pick_and_ship(harness, "106-1")
        shipped = _only(await harness.warehouse.list_shipped_unreported(), "106-1")
        with pytest.raises(RecordValidationError, match="L9"):
            await harness.warehouse.mark_lines_reported(shipped, {"L9": Decimal(1)})
        with pytest.raises(RecordValidationError, match="L1"):
            await harness.warehouse.mark_lines_reported(shipped, {"L1": Decimal(5)})
        assert _only(await harness.warehouse.list_shipped_unreported(), "106-1")

    # -- in-orders --------------------------------------------------------------------------------

    async def test_receipts_are_reported_as_deltas_exactly_once(
        self, harness: WarehouseHarness
    ) -> None:
        await self._stocked(harness, "SKU-1", on_hand=0)
        in_order = InOrder("PO-1", (InOrderLine("R1", "SKU-1", Decimal(10)),), supplier_name="Acme")
        first_ref = await harness.warehouse.upsert_in_order(in_order)
        assert first_ref == await harness.warehouse.upsert_in_order(in_order)
        assert _listed(await harness.warehouse.list_received_unreported()) == ()

        await harness.operator.receive("PO-1", [ReceiptLine("SKU-1", Decimal(4))])
        (partial,) = _listed(await harness.warehouse.list_received_unreported())
        assert partial.in_order_number == "PO-1"
        assert [(ln.line_key, ln.received, ln.unreported) for ln in partial.lines] == [
            ("R1", Decimal(4), Decimal(4))
        ]
        await harness.warehouse.mark_receipts_reported(partial, {"R1": Decimal(4)})
        assert _listed(await harness.warehouse.list_received_unreported()) == ()

        await harness.operator.receive("PO-1")
        (rest,) = _listed(await harness.warehouse.list_received_unreported())
        (line,) = rest.lines
        assert (line.received, line.reported, line.unreported) == (
            Decimal(10),
            Decimal(4),
            Decimal(6),
        )
        await harness.warehouse.mark_receipts_reported(rest, {"R1": Decimal(10)})
        assert _listed(await harness.warehouse.list_received_unreported()) == ()

    # -- returns ----------------------------------------------------------------------------------

    async def test_returns_with_causes_are_listed_once(self, harness: WarehouseHarness) -> None:
        await self._stocked(harness, "SKU-1", "SKU-2")
        order = _order("107-1", ("L1", "SKU-1", 2), ("L2", "SKU-2", 1))
        await harness.warehouse.upsert_outbound_order(order)
        await self._pick_and_ship(harness, "107-1")
        assert _listed(await harness.warehouse.list_returns_unreported()) == ()

        await harness.operator.take_return(
            "107-1",
            [
                ReturnLine("SKU-1", Decimal(1), "Damaged"),
                ReturnLine("SKU-2", Decimal(1), "Too small"),
            ],
        )
        (returned,) = _listed(await harness.warehouse.list_returns_unreported())
        assert returned.order_number == "107-1"
        by_key = {line.line_key: line for line in returned.lines}
        assert (by_key["L1"].returned, by_key["L1"].unreported) == (Decimal(1), Decimal(1))
        assert by_key["L1"].causes == ("Damaged",)
        assert by_key["L2"].causes == ("Too small",)
        await harness.warehouse.mark_returns_reported(
            returned, {"L1": Decimal(1), "L2": Decimal(1)}
        )
        assert _listed(await harness.warehouse.list_returns_unreported()) == ()

    async def test_returns_on_return_orders_are_listed_apart(
        self, harness: WarehouseHarness
    ) -> None:
        await self._stocked(harness, "SKU-1", "SKU-2")
        order = _order("109-1", ("L1", "SKU-1", 2), ("L2", "SKU-2", 1))
        await harness.warehouse.upsert_outbound_order(order)
        await self._pick_and_ship(harness, "109-1")
        assert _listed(await harness.warehouse.list_return_orders()) == ()

        await harness.operator.take_return_order(
            "109-1", [ReturnLine("SKU-1", Decimal(2), "Damaged")]
        )
        (returned,) = _listed(await harness.warehouse.list_return_orders())
        assert returned.order_number == "109-1"
        assert returned.return_order is not None
        (line,) = returned.lines
        assert (line.line_key, line.returned, line.reported) == ("L1", Decimal(2), Decimal(0))
        assert line.causes == ("Damaged",)
        # A return is booked on the order's lines or on a return order, never on both.
        assert _listed(await harness.warehouse.list_returns_unreported()) == ()

    # -- stock ------------------------------------------------------------------------------------

    async def test_stock_reads_all_and_changed_since(self, harness: WarehouseHarness) -> None:
        await self._stocked(harness, "SKU-1", "SKU-2", "SKU-3")
        assert _stock(await harness.warehouse.read_stock(), "SKU-1").on_hand == Decimal(10)

        await asyncio.sleep(_TICK)
        since = datetime.now(UTC)
        await asyncio.sleep(_TICK)
        await harness.warehouse.upsert_outbound_order(_order("108-1", ("L1", "SKU-1", 2)))
        await self._pick_and_ship(harness, "108-1")
        changed = {level.sku for level in await harness.warehouse.read_stock(changed_since=since)}
        assert "SKU-1" in changed and "SKU-2" not in changed and "SKU-3" not in changed
        assert _stock(await harness.warehouse.read_stock(), "SKU-1").on_hand == Decimal(8)

        await asyncio.sleep(_TICK)
        since = datetime.now(UTC)
        await asyncio.sleep(_TICK)
        await harness.warehouse.upsert_in_order(
            InOrder("PO-2", (InOrderLine("R1", "SKU-2", Decimal(5)),))
        )
        await harness.operator.receive("PO-2")
        await harness.operator.count_stock("SKU-3", Decimal(7))
        levels = await harness.warehouse.read_stock(changed_since=since)
        assert {level.sku for level in levels} >= {"SKU-2", "SKU-3"}
        assert "SKU-1" not in {level.sku for level in levels}
        assert _stock(levels, "SKU-2").on_hand == Decimal(15)
        assert _stock(levels, "SKU-3").on_hand == Decimal(7)

    async def test_stock_read_for_chosen_skus(self, harness: WarehouseHarness) -> None:
        await self._stocked(harness, "SKU-1", "SKU-2", "SKU-3")
        await harness.operator.count_stock("SKU-3", Decimal(4))
        levels = await harness.warehouse.read_stock(skus=["SKU-1", "SKU-3"])
        assert sorted(level.sku for level in levels) == ["SKU-1", "SKU-3"]
        assert _stock(levels, "SKU-3").on_hand == Decimal(4)
        assert await harness.warehouse.read_stock(skus=[]) == []

    # -- paging -----------------------------------------------------------------------------------

    async def test_reads_page_to_exhaustion(self, harness: WarehouseHarness) -> None:
        count = harness.page_size * 2 + 1
        skus = [f"SKU-{index:03d}" for index in range(count)]
        await self._stocked(harness, *skus)
        levels = await harness.warehouse.read_stock()
        assert sorted(level.sku for level in levels) == skus
        pages = [page async for page in harness.warehouse.iter_stock()]
        assert len(pages) > 1 and all(len(page) <= harness.page_size for page in pages)
        assert [level for page in pages for level in page] == levels

        numbers = [f"2{index:02d}-1" for index in range(harness.page_size + 1)]
        for number in numbers:
            await harness.warehouse.upsert_outbound_order(_order(number, ("L1", skus[0], 1)))
            await self._pick_and_ship(harness, number)
        listed = _listed(await harness.warehouse.list_shipped_unreported())
        assert sorted(order.order_number for order in listed) == numbers
        shipped_pages = [page async for page in harness.warehouse.iter_shipped_unreported()]
        assert len(shipped_pages) > 1
        assert all(len(page) <= harness.page_size for page in shipped_pages)
        assert tuple(order for page in shipped_pages for order in _listed(page)) == listed
