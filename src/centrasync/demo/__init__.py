"""``centrasync demo``: the main job on embedded defaults, start to finish in one process.

One asyncio loop runs the seeded Centra emulator, the Ongoing emulator with its
auto-operator and the engine (webhook receiver and workers) on a fresh SQLite file. Beside
the shipments, every other flow runs too: the catalogue becomes WMS articles, the seed's
supplier delivery is received in two parts and accepted twice in Centra, returns
registered in the warehouse become Centra returns, and stock-takes reach Centra's stock.
A live view follows the ledger and both emulators; the run ends when everything has
reached the end state the plan intends (:mod:`.plan`), or at the timeout.

The outcome is judged by reading the emulators' in-memory state (:mod:`.judge`), which
only a demo or a test may do.
"""

from __future__ import annotations

from .judge import (
    ArticleFigures,
    FlowSummary,
    InDeliveryFigures,
    ReturnFigures,
    StockFigures,
    StoreSummary,
)
from .run import Dashboard, DemoResult, print_result, run_demo

__all__ = [
    "ArticleFigures",
    "Dashboard",
    "DemoResult",
    "FlowSummary",
    "InDeliveryFigures",
    "ReturnFigures",
    "StockFigures",
    "StoreSummary",
    "print_result",
    "run_demo",
]
