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
    expected: dict[str, dict[object, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for o in orders:
        if o.status != "CANCELLED":
            day = o.order_date.astimezone(ZoneInfo(ZONE)).date()
            expected[o.currency.code][day] += o.grand_total.value
    assert sorted(c.title for c in lines) == [
        f"Sales per day in {code}" for code in sorted(expected)
    ]
    for chart in lines:
        code = chart.title.rsplit(" ", 1)[1]
        ((store, points),) = chart.series
        assert store == "se"
        assert {day: round(value, 2) for day, value in points} == {
            day: float(total) for day, total in expected[code].items()
        }
    assert {(t.currency, t.orders) for t in totals} == {
        (code, sum(1 for o in orders if o.currency.code == code and o.status != "CANCELLED"))
        for code in expected
    }
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
