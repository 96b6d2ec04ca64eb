"""The contract between the Integration API client and a Centra that serves it.

Binding it takes a few lines in a test module::

    class TestIntegrationApi(IntegrationApiContract):
        def open_harness(self) -> AbstractAsyncContextManager[CentraHarness]:
            return centra_harness()

Every operation file in ``centrasync/centra/integration/operations`` is sent by at least
one test (each test declares what it covers with :func:`exercises` and fails if it did not
send it; :meth:`IntegrationApiContract.test_every_operation_is_exercised` checks the
declarations cover every file). The results are validated by the client's models, which
forbid fields the operation did not select, so a drift between operation, model and the
served schema fails here. Beside each operation the suite checks what the flows rely on:
paging that covers every row once, the Order API and GraphQL views of one world agreeing,
UTC dates, and the errors a person or a flow acts on.
"""

from __future__ import annotations

import abc
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from centrasync.centra.integration import operation, operation_files
from centrasync.centra.integration.client import IntegrationApiClient, ShipmentInfo
from centrasync.errors import (
    AuthenticationError,
    MissingPermissionError,
    MutationRefusedError,
    TokenInvalidError,
)

from .centra import CentraHarness

__all__ = ["IntegrationApiContract", "exercises"]

_EXERCISED: set[str] = set()
F = TypeVar("F", bound=Callable[..., Awaitable[None]])


def exercises(*files: str) -> Callable[[F], F]:
    """Declare the operation files a contract test sends; it fails if it sent fewer."""

    def mark(test: F) -> F:
        _EXERCISED.update(files)

        @functools.wraps(test)
        async def run(self: Any, harness: CentraHarness) -> None:
            await test(self, harness)
            missing = {operation(file).name for file in files} - harness.sent
            assert not missing, f"the test claims {sorted(missing)} but never sent them"

        return run  # type: ignore[return-value]

    return mark


async def _sizes_in_stock(client: IntegrationApiClient, count: int) -> list[tuple[str, str]]:
    """(SKU, EAN) of ``count`` sizes with at least 20 units free in total."""
    found: list[tuple[str, str]] = []
    async for page in client.all_product_sizes_stock(limit=50):
        for size in page:
            if size.ean and size.stock_totals.free_to_allocate_quantity >= 20:
                found.append((size.sku, size.ean))
            if len(found) == count:
                return found
    raise AssertionError(f"the world holds fewer than {count} sizes in stock")


async def _place_order(harness: CentraHarness, count: int = 2, **extra: Any) -> int:
    """A new order of two units of each of ``count`` sizes in stock; its number."""
    sizes = await _sizes_in_stock(harness.client, count)
    body = {"store": harness.store, "lines": [{"ean": ean, "qty": 2} for _, ean in sizes]}
    placed = await harness.control.post("/_emulator/orders", json={**body, **extra})
    assert placed.status_code == 200, placed.text
    number: int = placed.json()["number"]
    return number


class IntegrationApiContract(abc.ABC):
    """Subclass as ``Test…`` and implement :meth:`open_harness`; every test gets a new one."""

    pytestmark = pytest.mark.asyncio

    @abc.abstractmethod
    def open_harness(self) -> AbstractAsyncContextManager[CentraHarness]:
        """A fresh seeded world with a client holding every permission."""

    @pytest_asyncio.fixture
    async def harness(self) -> AsyncIterator[CentraHarness]:
        async with self.open_harness() as harness:
            yield harness

    async def test_every_operation_is_exercised(self) -> None:
        files = {name.removesuffix(".graphql") for name in operation_files()}
        assert files - _EXERCISED == set(), "operation files no contract test sends"
        assert _EXERCISED - files == set(), "contract tests naming files that do not exist"

    # -- orders ----------------------------------------------------------------------------

    @exercises("orders", "counters")
    async def test_order_list_pages_cover_every_order_once(self, harness: CentraHarness) -> None:
        client = harness.client
        numbers = [o.number async for page in client.all_orders(limit=7) for o in page]
        assert len(numbers) == len(set(numbers)) == (await client.counters()).orders
        assert numbers == sorted(numbers)
        newest = await client.orders(sort=["number_DESC"], limit=1)
        assert newest[0].number == numbers[-1]

    @exercises("order_connection")
    async def test_order_connection_pages_cover_every_order_once(
        self, harness: CentraHarness
    ) -> None:
        client = harness.client
        pages = [page async for page in client.order_pages(first=9)]
        numbers = [order.number for page in pages for order in page.nodes]
        assert len(numbers) == len(set(numbers)) == pages[0].total_count
        assert numbers == sorted(numbers)
        assert not pages[-1].page_info.has_next_page
        # A cursor resumes where it was taken, as a flow's stored cursor would.
        cursor = pages[1].edges[-1].cursor
        rest = [
            o.number async for page in client.order_pages(first=9, after=cursor) for o in page.nodes
        ]
        assert rest == numbers[18:]

    @exercises("confirm_order")
    async def test_confirm_order_confirms_a_pending_order_once(
        self, harness: CentraHarness
    ) -> None:
        number = await _place_order(harness, 1, pending=True)
        confirmed = await harness.client.confirm_order(number)
        assert confirmed.value.number == number
        assert confirmed.value.status == "CONFIRMED" and confirmed.warnings == ()
        again = await harness.client.confirm_order(number)
        assert again.warnings, "confirming a confirmed order is a warning"

    @exercises("orders")
    async def test_dates_are_utc_and_filters_take_aware_datetimes(
        self, harness: CentraHarness
    ) -> None:
        number = await _place_order(harness, 1)
        (order,) = await harness.client.orders({"number": [number]})
        assert order.created_at.tzinfo is UTC and order.order_date == order.created_at
        rest = await harness.control.get(
            f"/api/{harness.store}/orders",
            params={"order": number},
            headers=harness.order_api_headers,
        )
        local = datetime.fromisoformat(rest.json()["orders"][0]["orderDate"])
        zone = ZoneInfo(
            (await harness.control.get("/_emulator/seed-summary")).json()["stores"][0]["timezone"]
        )
        assert local.replace(tzinfo=zone) == order.created_at
        second = timedelta(seconds=1)
        window = {"from": order.created_at - second, "to": order.created_at + second}
        found = await harness.client.orders({"createdAt": window})
        assert number in {o.number for o in found}

    # -- shipments -------------------------------------------------------------------------

    @exercises("shipments", "shipment_connection")
    async def test_pick_list_reads_alike_in_both_forms(self, harness: CentraHarness) -> None:
        client = harness.client
        pick = {"isGoodToGo": True, "isShipped": False}
        listed = [s.number async for page in client.all_shipments(pick, limit=11) for s in page]
        paged = [
            s.number async for page in client.shipment_pages(pick, first=11) for s in page.nodes
        ]
        assert listed == paged and len(listed) == len(set(listed)) > 11

    @exercises("shipments")
    async def test_order_api_and_graphql_views_of_one_world_agree(
        self, harness: CentraHarness
    ) -> None:
        number = await _place_order(harness, 2)
        (order,) = await harness.client.orders({"number": [number]})
        api, headers = f"/api/{harness.store}", harness.order_api_headers
        made = await harness.control.post(
            f"{api}/shipments",
            headers=headers,
            json={
                "order": number,
                "products": {str(line.id): line.quantity for line in order.lines},
                "gtg": True,
                "capture": True,
            },
        )
        assert made.json()["status"] == "ok", made.text
        shipment_id = made.json()["shipment"]
        done = await harness.control.put(
            f"{api}/shipment",
            headers=headers,
            json={"order": number, "shipment": shipment_id, "carrier": "DHL", "tracking": "TRK-9"},
        )
        assert done.json()["status"] == "ok", done.text
        rest = await harness.control.get(
            f"{api}/shipments", params={"status": "completed", "order": number}, headers=headers
        )
        (rest_node,) = rest.json()["shipments"]
        (shipment,) = await harness.client.shipments({"number": [shipment_id]})
        assert shipment.number == rest_node["shipmentId"] == shipment_id
        assert shipment.is_shipped and shipment.tracking_number == "TRK-9"
        assert shipment.order.number == number
        assert sorted(line.order_line.id for line in shipment.lines) == sorted(
            int(product["lineId"]) for product in rest_node["products"]
        )

    @exercises("create_shipment", "update_shipment", "capture_shipment", "complete_shipment")
    async def test_a_shipment_created_captured_and_completed_over_graphql(
        self, harness: CentraHarness
    ) -> None:
        client = harness.client
        number = await _place_order(harness, 2)
        (order,) = await client.orders({"number": [number]})
        first = order.lines[0]
        created = await client.create_shipment(number, {first.id: 1}, good_to_go=True)
        shipment = created.value
        assert shipment.number == f"{number}-1" and not shipment.is_captured
        assert [(ln.order_line.id, ln.quantity) for ln in shipment.lines] == [(first.id, 1)]
        updated = await client.update_shipment(
            shipment.id, message="fragile", info=ShipmentInfo(carrier="PostNord", service="MyPack")
        )
        assert updated.value.additional_message == "fragile"
        captured = await client.capture_shipment(shipment.id)
        assert captured.value.is_captured and captured.value.captured_at is not None
        shipped_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
        completed = await client.complete_shipment(
            shipment.id,
            shipped_at=shipped_at,
            info=ShipmentInfo(
                carrier="PostNord", service="MyPack", tracking_number="T1", packages=2
            ),
        )
        assert completed.value.is_shipped and completed.value.tracking_number == "T1"
        assert completed.value.shipped_at == shipped_at
        assert completed.value.number_of_packages == 2

    @exercises("create_shipment", "capture_shipment")
    async def test_a_declined_capture_warns_on_create_and_fails_capture(
        self, harness: CentraHarness
    ) -> None:
        number = await _place_order(harness, 1)
        await harness.control.put(f"/_emulator/orders/{number}/capture", json={"declines": True})
        created = await harness.client.create_shipment(number, good_to_go=True, capture=True)
        assert not created.value.is_captured
        assert [w.where for w in created.warnings] == ["input.capture"]
        with pytest.raises(MutationRefusedError) as refused:
            await harness.client.capture_shipment(created.value.id)
        assert refused.value.mutation == "captureShipment"
        assert refused.value.user_errors == (("Capture failed", "id"),)

    @exercises("complete_shipment")
    async def test_user_errors_name_the_mutation_and_the_path(self, harness: CentraHarness) -> None:
        number = await _place_order(harness, 1)
        created = await harness.client.create_shipment(number, good_to_go=True)
        with pytest.raises(MutationRefusedError) as refused:
            await harness.client.complete_shipment(created.value.id)
        assert refused.value.mutation == "completeShipment"
        assert "completeShipment refused" in str(refused.value) and "(at id)" in str(refused.value)

    @exercises("order_history")
    async def test_order_history_keeps_fully_cancelled_lines(self, harness: CentraHarness) -> None:
        number = await _place_order(harness, 1)
        cancelled = await harness.control.post(f"/_emulator/orders/{number}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        everything = harness.client.all_orders()
        where = {"id": [o.id async for page in everything for o in page if o.number == number]}
        (live,) = await harness.client.orders(where)
        (history,) = [o async for page in harness.client.all_order_history(where) for o in page]
        assert live.lines == ()
        # quantity is what is left to deliver: none of the two units.
        assert [(ln.quantity, ln.cancelled_quantity) for ln in history.lines] == [(0, 2)]

    @exercises("order_history", "currencies")
    async def test_order_history_reads_totals_discounts_attributes_and_base_rate(
        self, harness: CentraHarness
    ) -> None:
        number = await _place_order(harness, 1, voucher_value=10.0)
        put = await harness.control.put(
            f"/api/{harness.store}/orders",
            headers=harness.order_api_headers,
            json={"order": number, "extraAttributes": {"gift_wrap": "yes"}},
        )
        assert put.status_code == 200, put.text
        (history,) = await harness.client.order_history({"number": [number]})
        assert [(a.type.name, a.text) for a in history.attributes] == [("gift_wrap", "yes")]
        assert [d.value.value for d in history.discounts_applied] == [Decimal("10")]
        assert history.totals.items_total.value - 10 == history.grand_total.value
        assert history.store.id > 0 and history.currency_base_rate > 0
        (base,) = await harness.client.currencies({"isBase": True})
        assert base.is_base and (
            history.currency.code != base.code or history.currency_base_rate == 1
        )

    # -- returns ---------------------------------------------------------------------------

    @exercises("create_return", "returns")
    async def test_a_return_of_a_shipped_line_reads_back(self, harness: CentraHarness) -> None:
        client = harness.client
        number = await _place_order(harness, 1)
        shipment = (await client.create_shipment(number, good_to_go=True, capture=True)).value
        await client.complete_shipment(shipment.id)
        line = shipment.lines[0]
        made = await client.create_return(
            shipment.id, {line.id: 1}, stock="release", comment="too small", external_id="RMA-1"
        )
        assert made.value.shipment.number == shipment.number
        assert [(ln.shipment_line.id, ln.quantity) for ln in made.value.lines] == [(line.id, 1)]
        listed = [r async for page in client.all_returns() for r in page]
        assert [r.id for r in listed] == [made.value.id]
        assert listed[0].external_id == "RMA-1" and listed[0].created_at.tzinfo is UTC

    # -- catalogue and stock ---------------------------------------------------------------

    @exercises("products", "warehouses", "product_sizes_stock")
    async def test_catalogue_warehouses_and_stock(self, harness: CentraHarness) -> None:
        client = harness.client
        products = [p async for page in client.all_products(limit=50) for p in page]
        assert len(products) == (await client.counters()).products
        sizes = [s for p in products for v in p.variants for s in v.product_sizes]
        assert len({s.id for s in sizes}) == len(sizes)
        warehouses = await client.warehouses(sort=["id_ASC"])
        assert [w.id for w in warehouses] == sorted(w.id for w in warehouses)
        sku = next(s.sku for s in sizes if s.ean)
        (stock,) = await client.product_sizes_stock(
            {"SKU": {"equals": sku}}, warehouses=[w.id for w in warehouses]
        )
        assert (
            sum(row.physical_quantity for row in stock.stock)
            == stock.stock_totals.physical_quantity
        )

    @exercises(
        "set_stock",
        "change_stock",
        "product_sizes_stock",
        "stock_changes",
        "stock_change_connection",
    )
    async def test_set_and_change_stock_read_back(self, harness: CentraHarness) -> None:
        client = harness.client
        warehouse = (await client.warehouses(limit=1))[0].id
        ((sku, _),) = await _sizes_in_stock(client, 1)
        set_to = await client.set_stock(warehouse, {sku: 40}, description="stock-take")
        changed = await client.change_stock({sku: 5}, into=warehouse, description="found")
        (size,) = await client.product_sizes_stock({"SKU": {"equals": sku}}, warehouses=[warehouse])
        assert [row.physical_quantity for row in size.stock] == [45]
        ids = [c.id for c in set_to.value] + ([changed.value.id] if changed.value else [])
        latest = await client.stock_changes({"id": ids}, sort=["id_ASC"])
        assert [c.id for c in latest] == sorted(ids)
        assert {line.product_size.sku for c in latest for line in c.lines if line.product_size} == {
            sku
        }
        paged = [
            c.id
            async for page in client.stock_change_pages({"id": ids}, first=1)
            for c in page.nodes
        ]
        assert paged == sorted(ids)

    @exercises("catalogue", "stores", "markets")
    async def test_catalogue_with_attributes_stores_and_markets(
        self, harness: CentraHarness
    ) -> None:
        client = harness.client
        (first, *_) = [p async for page in client.all_products(limit=50) for p in page]
        changed = await harness.control.patch(
            f"/_emulator/products/{first.id}", json={"attributes": {"pr_material": "Wool"}}
        )
        assert changed.status_code == 200, changed.text
        catalogue = [p async for page in client.all_catalogue(limit=50) for p in page]
        assert [p.id for p in catalogue] == sorted(p.id for p in catalogue)
        (product,) = [p for p in catalogue if p.id == first.id]
        assert [(a.type.name, a.text) for a in product.attributes] == [("pr_material", "Wool")]
        assert [v.id for v in product.variants] == [v.id for v in first.variants]
        stores, markets = await client.stores(), await client.markets()
        assert stores and markets and len({s.id for s in stores}) == len(stores)

    # -- purchasing ------------------------------------------------------------------------

    @exercises("purchase_orders", "purchase_order_deliveries", "purchase_order_delivery_connection")
    async def test_purchase_orders_and_their_deliveries(self, harness: CentraHarness) -> None:
        client = harness.client
        orders = await client.purchase_orders()
        deliveries = await client.purchase_order_deliveries()
        assert orders and deliveries
        assert {d.purchase_order.id for d in deliveries} <= {o.id for o in orders}
        linked = {(o.id, ref.id) for o in orders for ref in o.deliveries}
        assert linked == {(d.purchase_order.id, d.id) for d in deliveries}
        connection = [
            d.id async for page in client.purchase_order_delivery_pages(first=1) for d in page.nodes
        ]
        assert connection == sorted(d.id for d in deliveries)
        assert all(d.created_at.tzinfo is UTC for d in deliveries)

    # -- events, ID conversion, rate limits --------------------------------------------------

    @exercises(
        "set_event_listeners",
        "event_listeners",
        "events",
        "confirm_events",
        "unset_event_listeners",
    )
    async def test_the_events_queue_until_confirmed(self, harness: CentraHarness) -> None:
        client = harness.client
        listening = await client.set_event_listeners({"Shipment": ["CREATED"], "Order": None})
        assert {listener.object_type for listener in listening.value} == {"Shipment", "Order"}
        assert {ln.object_type for ln in await client.event_listeners()} == {"Shipment", "Order"}
        number = await _place_order(harness, 1)
        await client.create_shipment(number, good_to_go=True)
        events = await client.events({"objectType": ["Shipment"]})
        assert [(e.object_type, e.change_type) for e in events] == [("Shipment", "CREATED")]
        assert events == await client.events({"objectType": ["Shipment"]}), (
            "the same until confirmed"
        )
        confirmed = await client.confirm_events([e.id for e in events])
        assert confirmed.value == tuple(e.id for e in events)
        assert await client.events({"objectType": ["Shipment"]}) == []
        assert await client.events({"objectType": ["Order"]}), "the order's events still wait"
        await client.unset_event_listeners({"Order": None})
        assert await client.events({"objectType": ["Order"]}) == [], "unset deletes queued events"

    @exercises("set_id_conversions", "id_conversions")
    async def test_id_conversions_set_and_read(self, harness: CentraHarness) -> None:
        client = harness.client
        made = await client.set_id_conversions([("Market", 1, "EU"), ("Store", 1, "SE")])
        assert {(c.object_type, c.internal_id, c.external_id) for c in made.value} == {
            ("Market", 1, "EU"),
            ("Store", 1, "SE"),
        }
        read = await client.id_conversions({"objectType": "Market"})
        assert [(c.internal_id, c.external_id) for c in read] == [(1, "EU")]

    @exercises("rate_limits")
    async def test_rate_limits_report_six_buckets(self, harness: CentraHarness) -> None:
        limits = await harness.client.rate_limits()
        assert {(r.type, r.seconds) for r in limits} == {
            (kind, seconds)
            for kind in ("REQUEST_COUNT", "QUERY_COMPLEXITY", "MUTATION_COUNT")
            for seconds in (10, 3600)
        }
        assert all(r.quota == r.used_quota + r.remaining_quota for r in limits)

    # -- errors and permissions --------------------------------------------------------------

    @exercises("rate_limits")
    async def test_an_unknown_or_revoked_token_is_token_invalid(
        self, harness: CentraHarness
    ) -> None:
        async with harness.open_client("not-a-token") as stranger:
            with pytest.raises(TokenInvalidError) as refused:
                await stranger.rate_limits()
            assert isinstance(refused.value, AuthenticationError)
            assert "not-a-token" not in str(refused.value) + repr(stranger)
        made = await harness.control.post("/_emulator/tokens", json={"permissions": ["Order:read"]})
        async with harness.open_client(made.json()["token"]) as client:
            await client.rate_limits()
            await harness.control.delete(f"/_emulator/tokens/{made.json()['id']}")
            with pytest.raises(TokenInvalidError, match="invalid or expired"):
                await client.rate_limits()

    @exercises("shipments")
    async def test_a_missing_permission_names_it_and_the_field(
        self, harness: CentraHarness
    ) -> None:
        async with harness.client_with(["Order:read"]) as client:
            with pytest.raises(MissingPermissionError) as refused:
                await client.shipments(limit=1)
        assert refused.value.permission == "Shipment:read"
        assert refused.value.path == "shipments"

    @exercises("shipments", "probe_shipment_write", "probe_return_write", "probe_stock_write")
    async def test_probes_name_what_a_token_lacks_and_write_nothing(
        self, harness: CentraHarness
    ) -> None:
        probes = ("probe_shipment_write", "probe_return_write", "probe_stock_write")
        for probe in probes:
            answer = await harness.client.execute(probe, raise_errors=False)
            assert answer.missing_permissions == ()
            payload = next(iter(answer.data.values()))
            assert payload["userErrors"], "the probe names an object that does not exist"
        async with harness.client_with(["Shipment:read"]) as client:
            read = await client.execute("shipments", {"limit": 1}, raise_errors=False)
            lacking = [
                (await client.execute(p, raise_errors=False)).missing_permissions for p in probes
            ]
        assert "Order:read" in read.missing_permissions
        assert lacking == [("Shipment:write",), ("Return:write",), ("StockChange:write",)]
