"""The report from a DuckDB file loaded from the Centra emulator: its figures equal the
emulator's world, amounts are never added across currencies, and the file needs nothing
from the network."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from centrasync.analytics.report import BarChart, LineChart, gather, render_report
from centrasync.analytics.source import sync_store
from centrasync.config import AnalyticsSettings
from centrasync.testing.centra import CentraHarness

SETTINGS = AnalyticsSettings(destination="a.duckdb")
ZONE = "Europe/Stockholm"


@pytest.fixture
async def loaded(
    centra: CentraHarness, tmp_path: Path
) -> AsyncIterator[tuple[CentraHarness, Path]]:
    client = centra.client
    (size,) = await client.product_sizes_stock(limit=1)
    placed = await centra.control.post(
        "/_emulator/orders",
        json={"store": centra.store, "lines": [{"ean": size.ean, "qty": 2}]},
    )
    placed.raise_for_status()
    number = placed.json()["number"]
    shipment = (await client.create_shipment(number, good_to_go=True, capture=True)).value
    await client.complete_shipment(shipment.id)
    await client.create_return(shipment.id, {shipment.lines[0].id: 1}, stock="release")
    await sync_store("se", client, SETTINGS, base=tmp_path)
    yield centra, tmp_path / "a.duckdb"


async def test_sales_per_day_are_per_currency_and_match_the_orders(
    loaded: tuple[CentraHarness, Path],
) -> None:
    centra, db = loaded
    charts, totals = gather(db, ["se"], {"se": ZONE})
    lines = [c for c in charts if isinstance(c, LineChart)]
    orders = [o async for page in centra.client.all_order_history() for o in page]
    # Per currency, per series (the engine's store / Centra's store), per local day.
    expected: dict[str, dict[str, dict[object, Decimal]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(Decimal))
    )
    counted: dict[tuple[str, str], int] = defaultdict(int)
    for o in orders:
        if o.status != "CANCELLED":
            day = o.order_date.astimezone(ZoneInfo(ZONE)).date()
            expected[o.currency.code][f"se / {o.store.name}"][day] += o.grand_total.value
            counted[(f"se / {o.store.name}", o.currency.code)] += 1
    assert len(expected) > 1, "the demo world sells in two currencies"
    assert sorted(c.title for c in lines) == [
        f"Sales per day in {code}" for code in sorted(expected)
    ]
    for chart in lines:
        code = chart.title.rsplit(" ", 1)[1]
        drawn = {
            label: {day: round(value, 2) for day, value in points} for label, points in chart.series
        }
        assert drawn == {
            label: {day: float(total) for day, total in days.items()}
            for label, days in expected[code].items()
        }
    assert {(t.store, t.currency): t.orders for t in totals} == counted
    assert all(t.base_currency == "SEK" for t in totals)


async def test_every_chart_has_figures_and_rates_are_percentages(
    loaded: tuple[CentraHarness, Path],
) -> None:
    centra, db = loaded
    charts, _ = gather(db, ["se"])
    assert not [c.title for c in charts if c.empty]
    bars = {c.title.split(" (")[0]: c for c in charts if isinstance(c, BarChart)}
    for title in ("Return rate by product", "Sell-through"):
        assert all(0 < value <= 100 for v in bars[title].bars for value in v[1]), title
    deliveries = [
        d async for page in centra.client.purchase_order_delivery_pages() for d in page.nodes
    ]
    assert dict(bars["In-deliveries: units expected vs received"].bars) == {
        f"se {d.number}": (
            float(sum(ln.quantity for ln in d.lines)),
            float(sum(ln.delivered_quantity for ln in d.lines)),
        )
        for d in deliveries
    }


async def test_the_file_opens_offline(loaded: tuple[CentraHarness, Path], tmp_path: Path) -> None:
    _, db = loaded
    output = tmp_path / "report.html"
    charts = render_report(db, ["se"], output, {"se": ZONE})
    html = output.read_text(encoding="utf-8")
    assert html.count("<svg") == len(charts)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r"""(src|href)\s*=""", html)
    assert re.findall(r"https?://[^\s\"'<>]+", html) == ["http://www.w3.org/2000/svg"] * len(charts)
    assert "Sales by store and currency" in html


def test_tables_loaded_before_the_breadth_still_report(tmp_path: Path) -> None:
    db = tmp_path / "old.duckdb"
    with duckdb.connect(str(db)) as conn:
        conn.execute("CREATE SCHEMA centra_se")
        conn.execute(
            "CREATE TABLE centra_se.orders (_dlt_id TEXT, status TEXT, currency TEXT,"
            " order_date TIMESTAMPTZ, grand_total DECIMAL(18, 2))"
        )
        conn.execute(
            "CREATE TABLE centra_se.orders__lines (_dlt_parent_id TEXT, sku TEXT,"
            " product_name TEXT, quantity BIGINT)"
        )
        conn.execute(
            "INSERT INTO centra_se.orders VALUES ('a', 'CONFIRMED', 'SEK',"
            " TIMESTAMPTZ '2026-03-01 10:00:00+00', 100)"
        )
        conn.execute("INSERT INTO centra_se.orders__lines VALUES ('a', 'S1', 'Shirt', 2)")
    charts, totals = gather(db, ["se"])
    assert [(t.store, t.currency, t.orders, t.total, t.total_base) for t in totals] == [
        ("se", "SEK", 1, 100.0, None)
    ]
    assert not next(c for c in charts if c.title == "Sales per day in SEK").empty
