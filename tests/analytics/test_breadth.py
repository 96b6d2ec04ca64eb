"""Every analytics table against the Centra emulator's GraphQL, row by row: orders with
totals in both currencies, discounts, addresses and custom attributes; shipments, returns,
the catalogue (products, variants, sizes), purchase orders with their deliveries, stores,
markets and currencies; and the store's mapping of attributes to named columns."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from centrasync.analytics.mapping import validate_mapping
from centrasync.analytics.source import Targets, sync_store
from centrasync.config import AnalyticsSettings, PersonalData
from centrasync.testing.centra import CentraHarness

from .conftest import rows

SETTINGS = AnalyticsSettings(destination="a.duckdb")


async def _order(centra: CentraHarness, **extra: Any) -> int:
    (size, *_) = [
        s
        async for page in centra.client.all_product_sizes_stock()
        for s in page
        if s.ean and s.stock_totals.free_to_allocate_quantity > 5
    ]
    body = {"store": centra.store, "lines": [{"ean": size.ean, "qty": 2}], **extra}
    placed = await centra.control.post("/_emulator/orders", json=body)
    placed.raise_for_status()
    number: int = placed.json()["number"]
    return number


async def _attribute(centra: CentraHarness, number: int, **values: str) -> None:
    put = await centra.control.put(
        f"/api/{centra.store}/orders",
        headers=centra.order_api_headers,
        json={"order": number, "extraAttributes": values},
    )
    put.raise_for_status()


async def test_orders_carry_totals_in_both_currencies_discounts_and_attributes(
    centra: CentraHarness, tmp_path: Path
) -> None:
    number = await _order(centra, voucher_value=20.0, shipping_value=49.0)
    await _attribute(centra, number, gift_wrap="yes", channel="instagram")
    settings = AnalyticsSettings(
        destination="a.duckdb", order_attributes={"gift_wrap": "gift_wrap"}
    )
    await sync_store("se", centra.client, settings, base=tmp_path)
    db = tmp_path / "a.duckdb"

    orders = [o async for page in centra.client.all_order_history() for o in page]
    loaded = rows(
        db,
        "SELECT order_number, status, currency, grand_total, grand_total_base, items_total,"
        " shipping, store_id, market_id, billing_country, shipping_city, total_quantity"
        " FROM $s.orders ORDER BY 1",
    )
    assert loaded == sorted(
        (
            o.number,
            o.status,
            o.currency.code,
            o.grand_total.value,
            (o.grand_total.value * Decimal(str(o.currency_base_rate))).quantize(Decimal("0.01")),
            o.totals.items_total.value,
            o.totals.shipping.value,
            o.store.id,
            o.market.id if o.market else None,
            o.billing_address.country.code
            if o.billing_address and o.billing_address.country
            else None,
            o.shipping_address.city if o.shipping_address else None,
            o.totals.quantity,
        )
        for o in orders
    )
    ((gift, attributes),) = rows(
        db, f"SELECT gift_wrap, attributes FROM $s.orders WHERE order_number = {number}"
    )
    assert gift == "yes" and json.loads(attributes) == {"channel": "instagram", "gift_wrap": "yes"}
    assert rows(
        db,
        "SELECT order_number, value FROM $s.orders__discounts d JOIN $s.orders o"
        " ON d._dlt_parent_id = o._dlt_id",
    ) == [(number, Decimal("20"))]
    columns = {
        name
        for (name,) in rows(
            db, "SELECT column_name FROM information_schema.columns WHERE table_name = 'orders'"
        )
    }
    assert not {"billing_email", "shipping_email", "billing_first_name"} & columns


async def test_a_usd_order_has_its_base_total_in_the_base_currency(
    centra: CentraHarness, tmp_path: Path
) -> None:
    await sync_store("se", centra.client, SETTINGS, base=tmp_path)
    db = tmp_path / "a.duckdb"
    ((base,),) = rows(db, "SELECT currency FROM $s.currencies WHERE is_base")
    loaded = rows(
        db, "SELECT currency, currency_base_rate, grand_total, grand_total_base FROM $s.orders"
    )
    assert {currency for currency, *_ in loaded} >= {"SEK", "USD"}, "the demo world sells both"
    for currency, rate, total, in_base in loaded:
        assert (rate == 1) is (currency == base)
        assert in_base == (total * Decimal(str(rate))).quantize(Decimal("0.01"))


async def test_shipments_and_returns_row_by_row(centra: CentraHarness, tmp_path: Path) -> None:
    client = centra.client
    number = await _order(centra)
    shipment = (await client.create_shipment(number, good_to_go=True, capture=True)).value
    await client.complete_shipment(shipment.id)
    await client.create_return(shipment.id, {shipment.lines[0].id: 1}, stock="release")
    await sync_store("se", client, SETTINGS, base=tmp_path)
    db = tmp_path / "a.duckdb"

    shipments = [s async for page in client.all_shipments() for s in page]
    assert rows(
        db,
        "SELECT shipment_id, order_number, is_shipped, shipped_at, captured_at, carrier,"
        " tracking_number FROM $s.shipments ORDER BY 1",
    ) == sorted(
        (
            s.id,
            s.order.number,
            s.is_shipped,
            s.shipped_at,
            s.captured_at,
            s.carrier_information.carrier_name if s.carrier_information else None,
            s.tracking_number,
        )
        for s in shipments
    )
    assert rows(
        db, "SELECT line_id, order_line_id, quantity, sku FROM $s.shipments__lines ORDER BY 1"
    ) == sorted(
        (
            ln.id,
            ln.order_line.id,
            ln.quantity,
            ln.order_line.product_size.sku if ln.order_line.product_size else None,
        )
        for s in shipments
        for ln in s.lines
    )
    returns = [r async for page in client.all_returns() for r in page]
    assert rows(
        db,
        "SELECT r.return_id, l.line_id, l.quantity, l.to_stock_quantity FROM $s.returns r"
        " JOIN $s.returns__lines l ON l._dlt_parent_id = r._dlt_id ORDER BY 1, 2",
    ) == sorted(
        (r.id, ln.id, ln.quantity, ln.quantity if r.returned_to_stock else 0)
        for r in returns
        for ln in r.lines
    )


async def test_the_catalogue_fills_products_variants_and_sizes(
    centra: CentraHarness, tmp_path: Path
) -> None:
    client = centra.client
    (first, *_) = [p async for page in client.all_catalogue() for p in page]
    changed = await centra.control.patch(
        f"/_emulator/products/{first.id}", json={"attributes": {"pr_material": "Wool"}}
    )
    changed.raise_for_status()
    settings = AnalyticsSettings(
        destination="a.duckdb", product_attributes={"material": "pr_material"}
    )
    await sync_store("se", client, settings, base=tmp_path)
    db = tmp_path / "a.duckdb"

    products = [p async for page in client.all_catalogue() for p in page]
    assert rows(
        db, "SELECT product_id, product_number, name, status, brand FROM $s.products ORDER BY 1"
    ) == sorted((p.id, p.product_number, p.name, p.status, p.brand_name) for p in products)
    assert rows(db, "SELECT product_id, material FROM $s.products WHERE material IS NOT NULL") == [
        (first.id, "Wool")
    ]
    assert rows(
        db, "SELECT variant_id, product_id, variant_number FROM $s.product_variants ORDER BY 1"
    ) == sorted((v.id, p.id, v.variant_number) for p in products for v in p.variants)
    assert rows(
        db,
        "SELECT product_size_id, variant_id, product_id, sku, ean, size FROM"
        " $s.product_sizes ORDER BY 1",
    ) == sorted(
        (s.id, v.id, p.id, s.sku, s.ean, s.size.name)
        for p in products
        for v in p.variants
        for s in v.product_sizes
    )

    renamed = await centra.control.patch(f"/_emulator/products/{first.id}", json={"name": "New"})
    renamed.raise_for_status()
    again = await sync_store("se", client, settings, base=tmp_path)
    assert rows(db, f"SELECT name FROM $s.products WHERE product_id = {first.id}") == [("New",)]
    sizes = sum(len(v.product_sizes) for p in products for v in p.variants)
    assert (again.tables["products"], again.tables["product_sizes"]) == (len(products), sizes)


async def test_purchase_orders_their_deliveries_stores_and_markets(
    centra: CentraHarness, tmp_path: Path
) -> None:
    client = centra.client
    await sync_store("se", client, SETTINGS, base=tmp_path)
    db = tmp_path / "a.duckdb"

    orders = await client.purchase_orders(limit=200)
    assert orders, "the demo world has purchase orders"
    assert rows(
        db,
        "SELECT purchase_order_id, status, eta, supplier, expected_quantity, received_quantity"
        " FROM $s.purchase_orders ORDER BY 1",
    ) == sorted(
        (
            po.id,
            po.status,
            po.eta,
            po.supplier.name,
            po.quantity,
            sum(ln.delivered_quantity for ln in po.lines),
        )
        for po in orders
    )
    assert rows(
        db,
        "SELECT p.purchase_order_id, d.delivery_id, d.status FROM $s.purchase_orders p"
        " JOIN $s.purchase_orders__deliveries d ON d._dlt_parent_id = p._dlt_id ORDER BY 1, 2",
    ) == sorted((po.id, d.id, d.status) for po in orders for d in po.deliveries)
    assert rows(
        db,
        "SELECT p.purchase_order_id, l.sku, l.expected_quantity, l.received_quantity"
        " FROM $s.purchase_orders p JOIN $s.purchase_orders__lines l"
        " ON l._dlt_parent_id = p._dlt_id ORDER BY 1, 2",
    ) == sorted(
        (po.id, ln.product_size.sku, ln.quantity, ln.delivered_quantity)
        for po in orders
        for ln in po.lines
    )
    stores, markets = await client.stores(), await client.markets()
    assert rows(db, "SELECT store_id, name, type FROM $s.stores ORDER BY 1") == sorted(
        (s.id, s.name, s.type) for s in stores
    )
    assert rows(db, "SELECT market_id, name FROM $s.markets ORDER BY 1") == sorted(
        (m.id, m.name) for m in markets
    )


async def test_hashed_personal_data_keeps_customers_countable(
    centra: CentraHarness, tmp_path: Path
) -> None:
    settings = AnalyticsSettings(destination="a.duckdb", personal_data=PersonalData.HASH)
    await sync_store("se", centra.client, settings, base=tmp_path)
    hashed = rows(tmp_path / "a.duckdb", "SELECT billing_email FROM $s.orders")
    orders = [o async for page in centra.client.all_order_history() for o in page]
    clear = {o.billing_address.email for o in orders if o.billing_address}
    assert {value for (value,) in hashed} & clear == set()
    assert len({value for (value,) in hashed}) == len(clear)


async def test_a_targeted_load_rereads_only_the_named_products_and_purchase_orders(
    centra: CentraHarness, tmp_path: Path
) -> None:
    client = centra.client
    first = await sync_store("se", client, SETTINGS, base=tmp_path)
    (product, *_) = [p async for page in client.all_catalogue() for p in page]
    (purchase_order, *_) = await client.purchase_orders()
    renamed = await centra.control.patch(f"/_emulator/products/{product.id}", json={"name": "X"})
    renamed.raise_for_status()

    targets = Targets(
        {"products": frozenset({product.id}), "purchase_orders": frozenset({purchase_order.id})}
    )
    again = await sync_store("se", client, SETTINGS, base=tmp_path, targets=targets)

    assert (again.read["products"], again.read["purchase_orders"], again.read["orders"]) == (
        1,
        1,
        0,
    )
    assert again.tables == first.tables
    db = tmp_path / "a.duckdb"
    assert rows(db, f"SELECT name FROM $s.products WHERE product_id = {product.id}") == [("X",)]


async def test_excluded_and_renamed_fields_leave_no_column_behind(
    centra: CentraHarness, tmp_path: Path
) -> None:
    settings = AnalyticsSettings(
        destination="a.duckdb",
        exclude=("carrier", "shipping_zip_code", "sku"),
        columns={"tracking": "tracking_number", "variant_name": "product_variant_name"},
    )
    await sync_store("se", centra.client, settings, base=tmp_path)

    def columns(table: str) -> set[str]:
        sql = f"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}'"
        return {name for (name,) in rows(tmp_path / "a.duckdb", sql)}

    shipments, orders, lines = columns("shipments"), columns("orders"), columns("orders__lines")
    assert "tracking" in shipments and not {"tracking_number", "carrier"} & shipments
    assert "shipping_zip_code" not in orders | shipments and "shipping_city" in orders
    assert "variant_name" in lines and not {"sku", "product_variant_name"} & lines


async def test_a_mapping_without_attributes_or_discounts_reads_neither(
    centra: CentraHarness, tmp_path: Path
) -> None:
    """The two nested lists cost the most of an order read: left out, the read is cheaper."""
    await _order(centra, voucher_value=20.0)
    costs: dict[str, int] = {}
    for name, exclude in (("all", ()), ("lean", ("attributes", "discounts"))):
        settings = AnalyticsSettings(destination=f"{name}.duckdb", exclude=exclude)
        validate_mapping(settings, "stores.se.analytics")
        before = await _complexity_used(centra)
        await sync_store("se", centra.client, settings, base=tmp_path, full=True)
        costs[name] = await _complexity_used(centra) - before
        tables = {
            t
            for (t,) in rows(
                tmp_path / f"{name}.duckdb", "SELECT table_name FROM information_schema.tables"
            )
        }
        assert ("orders__discounts" in tables) is (name == "all")
    assert costs["lean"] < costs["all"]


async def _complexity_used(centra: CentraHarness) -> int:
    limits = await centra.client.rate_limits()
    return next(
        limit.used_quota
        for limit in limits
        if limit.type == "QUERY_COMPLEXITY" and limit.interval_seconds == "ONE_HOUR"
    )
