"""``centrasync analytics report``: one self-contained HTML file from the loaded tables.

No script, no CDN: every chart is an inline SVG drawn here, so the file opens offline and
can be mailed. The figures are read with SQL from each store's dataset in DuckDB:

- sales per day by store and currency (orders not cancelled, ``grand_total``);
- top products by units sold (order lines, cancelled units left out);
- return rate by product (units returned / units sold, by SKU);
- stock cover (free-to-allocate units / average units sold per day over the period);
- in-deliveries expected vs received (units per delivery).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from .source import dataset_name

__all__ = ["Chart", "gather", "render_report"]

_TOP = 12


@dataclass(frozen=True)
class Chart:
    """A horizontal bar chart: one bar per (label, value); ``unit`` follows each value."""

    title: str
    bars: tuple[tuple[str, float], ...]
    unit: str = ""

    def svg(self) -> str:
        if not self.bars:
            return '<p class="empty">No data yet.</p>'
        label_w, bar_w, row_h = 260, 420, 22
        top = max(value for _, value in self.bars) or 1.0
        height = row_h * len(self.bars) + 8
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 120}" '
            f'height="{height}" role="img" aria-label="{escape(self.title)}">'
        ]
        for i, (label, value) in enumerate(self.bars):
            y = i * row_h + 4
            width = max(1.0, bar_w * value / top) if value > 0 else 0.0
            parts.append(
                f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>'
                f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{row_h - 6}"/>'
                f'<text x="{label_w + width + 6:.1f}" y="{y + 15}">'
                f"{value:,.2f}{escape(self.unit)}</text>"
            )
        parts.append("</svg>")
        return "".join(parts)


def _tables(conn: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
    ).fetchall()
    return {str(name) for (name,) in rows}


def _query(conn: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return conn.execute(sql).fetchall()


def gather(database: Path, stores: Sequence[str]) -> list[Chart]:
    """The report's charts from ``database`` for ``stores`` (stores not loaded are skipped)."""
    sales: list[tuple[str, float]] = []
    top: list[tuple[str, float]] = []
    returns: list[tuple[str, float]] = []
    cover: list[tuple[str, float]] = []
    deliveries: list[tuple[str, float]] = []
    with duckdb.connect(str(database), read_only=True) as conn:
        for store in stores:
            s = dataset_name(store)
            have = _tables(conn, s)
            if {"orders", "orders__lines"} - have:
                continue
            sales += [
                (f"{store} {day} {currency}", float(total))
                for day, currency, total in _query(
                    conn,
                    f"SELECT CAST(order_date AS DATE), currency, sum(grand_total) FROM {s}.orders"
                    " WHERE status <> 'CANCELLED' GROUP BY 1, 2 ORDER BY 1, 2",
                )
            ]
            sold = f"""
                SELECT l.sku, any_value(l.product_name) AS name, sum(l.quantity) AS units
                FROM {s}.orders__lines l JOIN {s}.orders o ON l._dlt_parent_id = o._dlt_id
                WHERE o.status <> 'CANCELLED' AND l.sku IS NOT NULL GROUP BY 1"""
            top += [
                (f"{store} {name or sku} ({sku})", float(units))
                for sku, name, units in _query(
                    conn, f"SELECT sku, name, units FROM ({sold}) ORDER BY units DESC LIMIT {_TOP}"
                )
            ]
            if "returns__lines" in have:
                returns += [
                    (f"{store} {sku}", float(rate))
                    for sku, rate in _query(
                        conn,
                        f"""SELECT r.sku, 100.0 * sum(r.quantity) / any_value(s.units)
                        FROM {s}.returns__lines r JOIN ({sold}) s ON s.sku = r.sku
                        WHERE s.units > 0 GROUP BY 1 ORDER BY 2 DESC LIMIT {_TOP}""",
                    )
                ]
            if "stock" in have:
                cover += [
                    (f"{store} {sku}", float(days))
                    for sku, days in _query(
                        conn,
                        f"""WITH span AS (SELECT greatest(1, date_diff('day',
                              min(order_date), max(order_date)) + 1) AS days FROM {s}.orders),
                        stock AS (SELECT sku, sum(free_to_allocate_quantity) AS free
                              FROM {s}.stock GROUP BY 1)
                        SELECT st.sku, st.free / (so.units / span.days)
                        FROM stock st JOIN ({sold}) so ON so.sku = st.sku, span
                        WHERE so.units > 0 ORDER BY 2 ASC LIMIT {_TOP}""",
                    )
                ]
            if {"in_deliveries", "in_deliveries__lines"} <= have:
                for number, expected, received in _query(
                    conn,
                    f"""SELECT d.delivery_number, sum(l.expected_quantity),
                    sum(l.received_quantity) FROM {s}.in_deliveries d
                    JOIN {s}.in_deliveries__lines l ON l._dlt_parent_id = d._dlt_id
                    GROUP BY 1 ORDER BY 1""",
                ):
                    deliveries += [
                        (f"{store} {number} expected", float(expected)),
                        (f"{store} {number} received", float(received)),
                    ]
    return [
        Chart("Sales per day by store and currency", tuple(sales)),
        Chart("Top products by units sold", tuple(top), " units"),
        Chart("Return rate by product", tuple(returns), " %"),
        Chart("Stock cover (days of sales the free stock lasts; lowest first)", tuple(cover), " d"),
        Chart("In-deliveries: units expected vs received", tuple(deliveries), " units"),
    ]


_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>centrasync analytics</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
svg text { font-size: 12px; fill: #222; } svg rect { fill: #3b6ea5; }
.empty { color: #777; }
</style></head><body>
<h1>Centra analytics</h1>
<p>Stores: {{ stores|join(", ") }}. Made {{ made }} (UTC) from {{ database }}.</p>
{% for chart in charts %}<h2>{{ chart.title }}</h2>
{{ chart.svg()|safe }}
{% endfor %}</body></html>
"""
)


def render_report(database: Path, stores: Sequence[str], output: Path) -> list[Chart]:
    """Write the report to ``output``; the charts it holds."""
    charts = gather(database, stores)
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    html = _TEMPLATE.render(charts=charts, stores=stores, made=made, database=database.name)
    output.write_text(html, encoding="utf-8")
    return charts
