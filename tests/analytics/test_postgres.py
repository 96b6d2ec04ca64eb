"""The PostgreSQL destination (the local server): the same tables, merged the same way."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from centrasync.analytics.source import PASSWORD_ENV, dataset_name, sync_store
from centrasync.config import AnalyticsSettings
from centrasync.errors import DestinationError
from centrasync.testing.centra import CentraHarness

PG = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def store(pg_admin: psycopg.Connection[tuple[object, ...]]) -> Iterator[str]:
    """A store name of its own, so its dataset (a schema) is this test's; dropped after."""
    name = f"pg{uuid.uuid4().hex[:10]}"
    yield name
    for schema in (dataset_name(name), f"{dataset_name(name)}_staging"):
        pg_admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


async def test_postgres_holds_the_orders_and_merges_an_edit(
    centra: CentraHarness,
    store: str,
    pg_admin: psycopg.Connection[tuple[object, ...]],
    tmp_path: Path,
) -> None:
    (product, *_) = [p async for page in centra.client.all_catalogue() for p in page]
    changed = await centra.control.patch(
        f"/_emulator/products/{product.id}", json={"attributes": {"pr_material": "Wool"}}
    )
    changed.raise_for_status()
    settings = AnalyticsSettings(destination=PG, product_attributes={"material": "pr_material"})
    first = await sync_store(store, centra.client, settings, base=tmp_path)
    orders = [o async for page in centra.client.all_order_history() for o in page]
    schema = dataset_name(store)
    rows = pg_admin.execute(
        f'SELECT order_number, status, grand_total, grand_total_base FROM "{schema}".orders'
        " ORDER BY 1"
    ).fetchall()
    assert rows == sorted(
        (
            o.number,
            o.status,
            o.grand_total.value,
            (o.grand_total.value * Decimal(str(o.currency_base_rate))).quantize(Decimal("0.01")),
        )
        for o in orders
    )
    catalogue = [p async for page in centra.client.all_catalogue() for p in page]
    sizes = [s for p in catalogue for v in p.variants for s in v.product_sizes]
    assert first.tables["product_sizes"] == len(sizes)
    assert pg_admin.execute(
        f'SELECT material, attributes FROM "{schema}".products WHERE product_id = %s',
        [product.id],
    ).fetchone() == ("Wool", {"pr_material": "Wool"})
    purchase_orders = await centra.client.purchase_orders(limit=200)
    assert first.tables["purchase_orders"] == len(purchase_orders)

    number = orders[0].number
    (await centra.control.post(f"/_emulator/orders/{number}/cancel")).raise_for_status()
    again = await sync_store(store, centra.client, settings, base=tmp_path)
    assert again.tables["orders"] == first.tables["orders"]
    assert again.tables["orders__lines"] == first.tables["orders__lines"]
    status = pg_admin.execute(
        f'SELECT status FROM "{schema}".orders WHERE order_number = %s', [number]
    ).fetchone()
    assert status == ("CANCELLED",)


async def test_a_refused_connection_is_one_line_naming_the_destination_not_the_password(
    centra: CentraHarness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: the connection is refused.
    refused = "postgresql://analytics@127.0.0.1:1/test"
    monkeypatch.setenv(PASSWORD_ENV, "s3cret-pw")
    with pytest.raises(DestinationError) as caught:
        await sync_store("se", centra.client, AnalyticsSettings(destination=refused), base=tmp_path)
    said = str(caught.value)
    assert said.startswith(f"analytics destination {refused} failed: "), said
    assert "\n" not in said and "s3cret-pw" not in said
