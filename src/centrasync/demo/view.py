"""What the demo prints: the live view while it runs, then the summary and the verdict."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table

from centrasync.store import RecordKind
from centrasync.sync.shipments import PARKED_STATES, ShipmentState

from .judge import FlowSummary, Snapshot, StoreSummary
from .plan import Plan

__all__ = ["flows_table", "print_outcome", "progress"]

# Ledger states shown live, with short labels that keep the table within 80 columns.
_LEDGER_COLUMNS = (
    (ShipmentState.NEW, "new"),
    (ShipmentState.CAPTURED, "captured"),
    (ShipmentState.SENT, "sent"),
    (ShipmentState.QUANTITIES_UPDATED, "lowered"),
    (ShipmentState.COMPLETED, "completed"),
    (ShipmentState.CANCELLED, "cancelled"),
)
_WMS_STAGES = ("open", "allocated", "picked", "shipped", "cancelled")
_FLOW_ROWS = (
    ("articles", "read/written/filtered/parked"),
    ("in-deliveries", "sent/acceptances/units/parked"),
    ("returns", "registered/created/parked"),
    ("stock", "compared/written/drift/parked"),
)
_SHIPMENT_COLUMNS = ("taken", "sent", "captured", "shipped", "completed", "cancelled", "parked")


def progress(
    plan: Plan,
    snap: Snapshot,
    flows: Sequence[FlowSummary],
    *,
    seconds: float,
    shipments_left: int,
    flows_left: int,
) -> Group:
    """The live view: shipments by ledger state and WMS stage, the other flows' figures."""
    ledger = Table(title="Engine ledger: shipments by state", title_justify="left")
    ledger.add_column("store")
    for _, label in _LEDGER_COLUMNS:
        ledger.add_column(label, justify="right")
    ledger.add_column("parked", justify="right")
    wms = Table(title="Warehouse (Ongoing emulator): orders by stage", title_justify="left")
    wms.add_column("store")
    for stage in _WMS_STAGES:
        wms.add_column(stage, justify="right")
    for store in plan.stores:
        states = Counter(snap.states(store, RecordKind.SHIPMENT).values())
        parked = sum(states[state] for state in PARKED_STATES)
        ledger.add_row(store, *(str(states[column]) for column, _ in _LEDGER_COLUMNS), str(parked))
        stages = Counter(snap.wms[n] for n in plan.shipments(store) if n in snap.wms)
        wms.add_row(store, *(str(stages[stage]) for stage in _WMS_STAGES))
    footer = (
        f"{seconds:.1f} s; {shipments_left} of {len(plan.store_of)} shipments still on the "
        f"way; {flows_left} other flow outcome(s) still open"
    )
    return Group(ledger, wms, flows_table(flows, "Other flows"), footer)


def flows_table(flows: Sequence[FlowSummary], title: str) -> Table:
    """One row per flow, one column per store; each cell holds the figures, or ``off``."""
    table = Table(title=title, title_justify="left")
    table.add_column("flow")
    table.add_column("figures")
    for row in flows:
        table.add_column(row.store, justify="right")
    cells: dict[str, list[str]] = {name: [] for name, _ in _FLOW_ROWS}
    for row in flows:
        articles, stock = row.articles, row.stock
        cells["articles"].append(
            "off"
            if articles is None
            else _joined(articles.read, articles.written, articles.filtered, articles.parked)
        )
        ins, returns = row.in_deliveries, row.returns
        cells["in-deliveries"].append(_joined(ins.sent, ins.acceptances, ins.units, ins.parked))
        cells["returns"].append(_joined(returns.registered, returns.created, returns.parked))
        cells["stock"].append(
            "off"
            if stock is None
            else _joined(stock.compared, stock.written, stock.drift, stock.parked)
        )
    for name, figures in _FLOW_ROWS:
        table.add_row(name, figures, *cells[name])
    return table


def _joined(*values: int) -> str:
    return "/".join(str(value) for value in values)


def print_outcome(
    console: Console,
    *,
    stores: Sequence[StoreSummary],
    flows: Sequence[FlowSummary],
    missing: Sequence[str],
    seconds: float,
    database: Path,
    command: str = "centrasync",
) -> None:
    """The summary tables, the verdict, where the state store is and what to run next."""
    console.line()
    table = Table(title="Summary per store", title_justify="left")
    table.add_column("store")
    for column in _SHIPMENT_COLUMNS:
        table.add_column(column, justify="right")
    for row in stores:
        table.add_row(row.store, *(str(getattr(row, column)) for column in _SHIPMENT_COLUMNS))
    console.print(table)
    console.print("shipped = what the warehouse shipped; parked = waiting for a person")
    console.print(flows_table(flows, "Flows per store"))
    console.print(
        "articles: rows Centra lists / written to the WMS / left out by the filter\n"
        "in-deliveries: in-orders sent / receipts Centra accepted / units accepted\n"
        "returns: WMS orders with goods returned / returns created in Centra\n"
        "stock: SKUs both sides hold / SKUs written to Centra / SKUs still apart\n"
        "parked: records waiting for a person; off: the flow is off in that store",
        highlight=False,
    )
    if not missing:
        console.print(
            "[green]OK[/]: every seeded shipment and every flow the demo set up reached its "
            f"intended end state in {seconds:.1f} s"
        )
    else:
        console.print(
            f"[red]FAILED[/]: {len(missing)} item(s) did not reach their end state "
            f"within {seconds:.1f} s:"
        )
        for line in missing:
            console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)
    url = f"sqlite+aiosqlite:///{database}"
    console.print(
        f"State database: {escape(str(database))}\n"
        f"Look inside:    {escape(command)} records --database {escape(url)}\n"
        f"Parked records: {escape(command)} dead --database {escape(url)}\n"
        f"Your own store: {escape(command)} init asks for your Centra and warehouse and "
        "writes centrasync.toml (README, 'Your own setup')",
        highlight=False,
        soft_wrap=True,
    )
