"""``centrasync demo``'s analytics: the DuckDB file it leaves matches Centra's world.

The demo runs against an emulator the test holds, so the world can be read after the run:
through a fresh, full load of its Integration API with a token restricted to each store, as
the demo's are (the expected tables, mapped exactly as the engine maps them), and directly
(which orders, returns, stock levels and deliveries exist). The demo's tables were filled
while the flows ran, by webhooks and reconciliation.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pydantic import SecretStr
from rich.console import Console

from centrasync.analytics.source import dataset_name, sync_store
from centrasync.centra.integration.client import IntegrationApiClient
from centrasync.config import AnalyticsSettings
from centrasync.demo import print_result, run_demo
from centrasync.demo.run import CENTRA_SECRET, GRAPHQL_TOKEN
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.centra.graphql import TokenSpec
from centrasync.emulators.centra.graphql.schema import permissions
from centrasync.emulators.faults import EmulatorTransport

STORES = ("wms", "wms-us")
TABLES = (
    "orders",
    "orders__lines",
    "returns",
    "returns__lines",
    "stock",
    "in_deliveries",
    "in_deliveries__lines",
)


def _columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, table],
    ).fetchall()
    return [name for (name,) in rows if not name.startswith("_dlt")]


def _rows(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str]
) -> list[tuple[Any, ...]]:
    listed = ", ".join(f'"{c}"' for c in columns)
    return conn.execute(f"SELECT {listed} FROM {schema}.{table} ORDER BY ALL").fetchall()


class _Strict(HTMLParser):
    """Collects what would reach the network: src and href attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.remote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and "://" in value:
                self.remote.append(value)


@pytest.mark.slow
async def test_demo_leaves_duckdb_tables_that_match_the_emulators_world_row_by_row(
    tmp_path: Path,
) -> None:
    centra = CentraEmulator(seed="demo", secret=CENTRA_SECRET, graphql_token=GRAPHQL_TOKEN)
    printed = io.StringIO()

    result = await run_demo(
        tmp_path / "state.sqlite", Console(file=printed, width=200), timeout=150, centra=centra
    )

    assert result.ok, result.missing
    assert result.analytics is not None
    actual = result.analytics.database
    expected = tmp_path / "expected" / "world.duckdb"
    for store in STORES:
        # What a token restricted to the store reads, as the demo's are.
        token = centra.integration_api.create_token(
            TokenSpec(name=store, permissions=sorted(permissions()), store=store)
        ).token
        client = IntegrationApiClient(
            "http://centra.test/graphql", SecretStr(token), transport=EmulatorTransport(centra.app)
        )
        async with client:
            await sync_store(
                store,
                client,
                AnalyticsSettings(destination=str(expected)),
                base=expected.parent,
                full=True,
            )
    world = centra.world
    with (
        duckdb.connect(str(actual), read_only=True) as got,
        duckdb.connect(str(expected), read_only=True) as want,
    ):
        for store in STORES:
            schema = dataset_name(store)
            for table in TABLES:
                columns = _columns(want, schema, table)
                assert columns, f"{store}.{table}: the world has no rows to compare"
                extra = set(_columns(got, schema, table)) - set(columns)
                for column in extra:  # only ever seen empty: never set in the world
                    nulls = got.execute(
                        f'SELECT count(*) FROM {schema}.{table} WHERE "{column}" IS NOT NULL'
                    ).fetchone()
                    assert nulls == (0,), f"{store}.{table}.{column}"
                assert _rows(got, schema, table, columns) == _rows(want, schema, table, columns), (
                    f"{store}.{table}"
                )
            # Each store's token sees its own store: its dataset holds that store's orders.
            numbers = got.execute(f"SELECT order_number FROM {schema}.orders").fetchall()
            assert {n for (n,) in numbers} == {
                number for number, order in world.orders.items() if order.store_uri == store
            }
            levels = got.execute(
                f"SELECT warehouse_id, product_size_id, physical_quantity FROM {schema}.stock"
            ).fetchall()
            # Centra lists every size in every warehouse; one never stocked holds nothing.
            physical = {(w, size): level.physical for (w, size), level in world.stock.items()}
            assert {(w, size): q for w, size, q in levels if q or (w, size) in physical} == (
                physical
            )
        returned = {
            r
            for store in STORES
            for (r,) in got.execute(
                f"SELECT return_id FROM {dataset_name(store)}.returns"
            ).fetchall()
        }
        assert returned == set(world.returns)
        deliveries = {
            d
            for (d,) in got.execute(
                f"SELECT delivery_id FROM {dataset_name('wms')}.in_deliveries"
            ).fetchall()
        }
        assert deliveries == set(world.supplier_deliveries)

    report = result.analytics.report
    html = report.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html>")
    parser = _Strict()
    parser.feed(html)
    parser.close()
    assert parser.remote == [], "the report opens offline: nothing fetched from elsewhere"
    assert "<svg" in html
    print_result(Console(file=printed, width=400), result)
    out = printed.getvalue()
    assert f"Report: {report}" in out
    assert f"DuckDB at {actual}" in out
