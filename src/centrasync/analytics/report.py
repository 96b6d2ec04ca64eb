"""``centrasync analytics report``: one self-contained HTML file from the loaded tables.

No script, no CDN, no font or image to fetch: every chart is an inline SVG drawn here, so
the file opens offline and can be mailed. The figures are read with SQL from each store's
dataset in DuckDB, in the order a merchant reads them:

- sales per day: one chart per currency, one line per store in it (the engine's store and
  Centra's store within it; orders not cancelled, ``grand_total``, on the order date in
  the store's time zone); amounts in different currencies are never added up, and a
  table gives each store and currency its totals and those totals in the base currency;
- top products by units sold (order lines, cancelled units left out);
- return rate by product (units returned / units sold, by SKU);
- stock cover (free-to-allocate units / average units sold per day over the period);
- sell-through (units sold / (units sold + physical units on hand), by SKU: the stock at
  the start of the period is not kept, so this is the variant of the definition that
  needs only today's level);
- in-deliveries: units expected vs received, per delivery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Any, Protocol

import duckdb
import jinja2

from .source import dataset_name

__all__ = ["BarChart", "Chart", "LineChart", "SalesTotal", "gather", "render_report"]

_TOP = 12
_PALETTE = ("#3b6ea5", "#d1793b", "#4f9a5a", "#a5475b", "#7a5ea8", "#8c7a3b")


class Chart(Protocol):
    @property
    def title(self) -> str: ...

    @property
    def empty(self) -> bool: ...

    def svg(self) -> str: ...


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _legend(names: Sequence[str], x: float, y: float) -> str:
    parts = []
    for i, name in enumerate(names):
        colour = _PALETTE[i % len(_PALETTE)]
        parts.append(
            f'<rect x="{x}" y="{y + i * 18}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 18}" y="{y + i * 18 + 11}">{escape(name)}</text>'
        )
    return "".join(parts)


@dataclass(frozen=True)
class BarChart:
    """Horizontal bars: per label one value per series (``series`` names them)."""

    title: str
    bars: tuple[tuple[str, tuple[float, ...]], ...]
    unit: str = ""
    series: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.bars

    def values(self) -> list[float]:
        return [value for _, values in self.bars for value in values]

    def svg(self) -> str:
        if not self.bars:
            return '<p class="empty">No data yet.</p>'
        label_w, bar_w, bar_h = 260, 420, 16
        width = max(1, len(self.bars[0][1]))
        row_h = bar_h * width + 8
        top = max(self.values()) or 1.0
        legend_h = 18 * len(self.series) + 6 if len(self.series) > 1 else 0
        height = row_h * len(self.bars) + 8 + legend_h
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 130}" '
            f'height="{height}" role="img" aria-label="{escape(self.title)}">'
        ]
        if legend_h:
            parts.append(_legend(self.series, label_w, 4))
        for i, (label, values) in enumerate(self.bars):
            y = legend_h + i * row_h + 4
            parts.append(
                f'<text x="{label_w - 6}" y="{y + bar_h - 3}" text-anchor="end">'
                f"{escape(label)}</text>"
            )
            for j, value in enumerate(values):
                length = max(1.0, bar_w * value / top) if value > 0 else 0.0
                top_y = y + j * bar_h
                colour = _PALETTE[j % len(_PALETTE)]
                parts.append(
                    f'<rect x="{label_w}" y="{top_y}" width="{length:.1f}" '
                    f'height="{bar_h - 3}" fill="{colour}"><title>{escape(label)}: '
                    f"{_number(value)}{escape(self.unit)}</title></rect>"
                    f'<text x="{label_w + length + 6:.1f}" y="{top_y + bar_h - 4}">'
                    f"{_number(value)}{escape(self.unit)}</text>"
                )
        parts.append("</svg>")
        return "".join(parts)


@dataclass(frozen=True)
class LineChart:
    """Values per day, one line per series; every series in one unit (one currency)."""

    title: str
    series: tuple[tuple[str, tuple[tuple[date, float], ...]], ...]
    unit: str = ""

    @property
    def empty(self) -> bool:
        return not any(points for _, points in self.series)

    def svg(self) -> str:
        if self.empty:
            return '<p class="empty">No data yet.</p>'
        left, plot_w, plot_h, top_pad = 90, 640, 220, 10
        days = sorted({day for _, points in self.series for day, _ in points})
        first, last = days[0], days[-1]
        span = max((last - first).days, 1)
        top = max(value for _, points in self.series for _, value in points) or 1.0
        legend_y = top_pad + plot_h + 40
        height = legend_y + 18 * len(self.series) + 4

        def x(day: date) -> float:
            return left + plot_w * ((day - first).days / span if len(days) > 1 else 0.5)

        def y(value: float) -> float:
            return top_pad + plot_h - plot_h * value / top

        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + plot_w + 40}" '
            f'height="{height}" role="img" aria-label="{escape(self.title)}">',
            f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" '
            f'y2="{top_pad + plot_h}" stroke="#999"/>',
            f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#999"/>',
        ]
        for fraction in (0.0, 0.5, 1.0):
            value = top * fraction
            parts.append(
                f'<text x="{left - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
                f"{value:,.0f}{escape(self.unit)}</text>"
            )
        for day in (first, last) if first != last else (first,):
            parts.append(
                f'<text x="{x(day):.1f}" y="{top_pad + plot_h + 18}" text-anchor="middle">'
                f"{day.isoformat()}</text>"
            )
        for i, (name, points) in enumerate(self.series):
            colour = _PALETTE[i % len(_PALETTE)]
            ordered = sorted(points)
            path = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in ordered)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            )
            for day, value in ordered:
                parts.append(
                    f'<circle cx="{x(day):.1f}" cy="{y(value):.1f}" r="3" fill="{colour}">'
                    f"<title>{escape(name)} {day.isoformat()}: {value:,.2f}"
                    f"{escape(self.unit)}</title></circle>"
                )
        parts.append(_legend([name for name, _ in self.series], left, legend_y))
        parts.append("</svg>")
        return "".join(parts)


@dataclass(frozen=True)
class SalesTotal:
    """One store's orders in one currency over the loaded period; ``total_base`` is None
    for tables loaded before base-currency totals were."""

    store: str
    currency: str
    orders: int
    total: float
    total_base: float | None
    base_currency: str

    @property
    def average(self) -> float:
        return self.total / self.orders if self.orders else 0.0


def _tables(conn: duckdb.DuckDBPyConnection, schema: str) -> set[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [schema]
    ).fetchall()
    return {str(name) for (name,) in rows}


def _columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = ? AND table_name = ?",
        [schema, table],
    ).fetchall()
    return {str(name) for (name,) in rows}


def _label(store: str, centra_store: str | None) -> str:
    """The engine's store, and Centra's store within it when the rows name one."""
    return store if not centra_store else f"{store} / {centra_store}"


def _query(conn: duckdb.DuckDBPyConnection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return conn.execute(sql, list(args)).fetchall()


@dataclass
class _Gathered:
    sales: dict[str, list[tuple[str, tuple[tuple[date, float], ...]]]]
    totals: list[SalesTotal]
    top: list[tuple[str, tuple[float, ...]]]
    returns: list[tuple[str, tuple[float, ...]]]
    cover: list[tuple[str, tuple[float, ...]]]
    sell_through: list[tuple[str, tuple[float, ...]]]
    deliveries: list[tuple[str, tuple[float, ...]]]


def _store_figures(
    conn: duckdb.DuckDBPyConnection, store: str, zone: str, found: _Gathered
) -> None:
    s = dataset_name(store)
    have = _tables(conn, s)
    if {"orders", "orders__lines"} - have:
        return
    live = f"{s}.orders WHERE status <> 'CANCELLED'"
    # Tables loaded before the breadth of issue 20 lack these columns: the figures still come.
    loaded = _columns(conn, s, "orders")
    shop = "store_name" if "store_name" in loaded else "NULL"
    in_base = "sum(grand_total_base)" if "grand_total_base" in loaded else "NULL"
    daily: dict[tuple[str, str], list[tuple[date, float]]] = {}
    for day, name, currency, total in _query(
        conn,
        f"SELECT CAST(timezone(?, order_date) AS DATE), {shop}, currency, sum(grand_total)"
        f" FROM {live} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        zone,
    ):
        daily.setdefault((_label(store, name), str(currency)), []).append((day, float(total)))
    for (label, currency), points in daily.items():
        found.sales.setdefault(currency, []).append((label, tuple(points)))
    base = "''"
    if "currencies" in have:
        base = f"coalesce((SELECT any_value(currency) FROM {s}.currencies WHERE is_base), '')"
    for name, currency, orders, total, total_base, base_code in _query(
        conn,
        f"SELECT {shop}, currency, count(*), sum(grand_total), {in_base}, {base}"
        f" FROM {live} GROUP BY 1, 2 ORDER BY 1, 2",
    ):
        found.totals.append(
            SalesTotal(
                _label(store, name),
                str(currency),
                int(orders),
                float(total),
                None if total_base is None else float(total_base),
                str(base_code),
            )
        )
    sold = f"""
        SELECT l.sku, any_value(l.product_name) AS name, sum(l.quantity) AS units
        FROM {s}.orders__lines l JOIN {s}.orders o ON l._dlt_parent_id = o._dlt_id
        WHERE o.status <> 'CANCELLED' AND l.sku IS NOT NULL GROUP BY 1"""
    found.top += [
        (f"{store} {name or sku} ({sku})", (float(units),))
        for sku, name, units in _query(
            conn, f"SELECT sku, name, units FROM ({sold}) ORDER BY units DESC LIMIT {_TOP}"
        )
    ]
    if "returns__lines" in have:
        found.returns += [
            (f"{store} {sku}", (float(rate),))
            for sku, rate in _query(
                conn,
                f"""SELECT r.sku, 100.0 * sum(r.quantity) / any_value(s.units)
                FROM {s}.returns__lines r JOIN ({sold}) s ON s.sku = r.sku
                WHERE s.units > 0 GROUP BY 1 ORDER BY 2 DESC LIMIT {_TOP}""",
            )
        ]
    if "stock" in have:
        stock = f"""SELECT sku, sum(free_to_allocate_quantity) AS free,
            sum(physical_quantity) AS physical FROM {s}.stock GROUP BY 1"""
        found.cover += [
            (f"{store} {sku}", (float(days),))
            for sku, days in _query(
                conn,
                f"""WITH span AS (SELECT greatest(1, date_diff('day',
                      min(order_date), max(order_date)) + 1) AS days FROM {s}.orders)
                SELECT st.sku, st.free / (so.units / span.days)
                FROM ({stock}) st JOIN ({sold}) so ON so.sku = st.sku, span
                WHERE so.units > 0 ORDER BY 2 ASC LIMIT {_TOP}""",
            )
        ]
        found.sell_through += [
            (f"{store} {sku}", (float(rate),))
            for sku, rate in _query(
                conn,
                f"""SELECT so.sku, 100.0 * so.units / (so.units + greatest(st.physical, 0))
                FROM ({sold}) so JOIN ({stock}) st ON st.sku = so.sku
                WHERE so.units > 0 ORDER BY 2 DESC LIMIT {_TOP}""",
            )
        ]
    if {"in_deliveries", "in_deliveries__lines"} <= have:
        found.deliveries += [
            (f"{store} {number}", (float(expected), float(received)))
            for number, expected, received in _query(
                conn,
                f"""SELECT d.delivery_number, sum(l.expected_quantity),
                sum(l.received_quantity) FROM {s}.in_deliveries d
                JOIN {s}.in_deliveries__lines l ON l._dlt_parent_id = d._dlt_id
                GROUP BY 1 ORDER BY 1""",
            )
        ]


def gather(
    database: Path, stores: Sequence[str], zones: Mapping[str, str] | None = None
) -> tuple[list[Chart], list[SalesTotal]]:
    """The report's charts and sales totals from ``database`` for ``stores`` (stores not
    loaded are skipped); ``zones`` gives each store's time zone for its order days (UTC
    when not given)."""
    found = _Gathered({}, [], [], [], [], [], [])
    with duckdb.connect(str(database), read_only=True) as conn:
        for store in stores:
            _store_figures(conn, store, (zones or {}).get(store, "UTC"), found)
    charts: list[Chart] = [
        LineChart(f"Sales per day in {currency}", tuple(series), f" {currency}")
        for currency, series in sorted(found.sales.items())
    ] or [LineChart("Sales per day", ())]
    charts += [
        BarChart("Top products by units sold", tuple(found.top), " units"),
        BarChart("Return rate by product (units returned / sold)", tuple(found.returns), " %"),
        BarChart(
            "Stock cover (days of sales the free stock lasts; lowest first)",
            tuple(found.cover),
            " d",
        ),
        BarChart(
            "Sell-through (units sold / (sold + on hand); highest first)",
            tuple(found.sell_through),
            " %",
        ),
        BarChart(
            "In-deliveries: units expected vs received",
            tuple(found.deliveries),
            " units",
            ("expected", "received"),
        ),
    ]
    return charts, found.totals


_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>centrasync analytics</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 2em; }
svg text { font-size: 12px; fill: #222; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: right; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
.empty { color: #777; } .note { color: #555; font-size: 12px; }
</style></head><body>
<h1>Centra analytics</h1>
<p>Stores: {{ stores|join(", ") }}. Made {{ made }} (UTC) from {{ database }}.
Cancelled orders are left out; amounts include tax, each in its own currency.</p>
<h2>Sales by store and currency</h2>
{% if totals %}<table><tr><th>store</th><th>currency</th><th>orders</th><th>sales</th>
<th>average order</th><th>sales in base currency</th></tr>
{% for t in totals %}<tr><td>{{ t.store }}</td><td>{{ t.currency }}</td><td>{{ t.orders }}</td>
<td>{{ "{:,.2f}".format(t.total) }}</td><td>{{ "{:,.2f}".format(t.average) }}</td>
<td>{% if t.total_base is not none %}{{ "{:,.2f}".format(t.total_base) }}
{{ t.base_currency }}{% endif %}</td></tr>
{% endfor %}</table>{% else %}<p class="empty">No data yet.</p>{% endif %}
{% for chart in charts %}<h2>{{ chart.title }}</h2>
{{ chart.svg()|safe }}
{% endfor %}</body></html>
"""
)


def render_report(
    database: Path,
    stores: Sequence[str],
    output: Path,
    zones: Mapping[str, str] | None = None,
) -> list[Chart]:
    """Write the report to ``output``; the charts it holds."""
    charts, totals = gather(database, stores, zones)
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    html = _TEMPLATE.render(
        charts=charts, totals=totals, stores=stores, made=made, database=database.name
    )
    output.write_text(html, encoding="utf-8")
    return charts
