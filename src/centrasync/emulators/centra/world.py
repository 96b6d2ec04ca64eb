"""The in-memory Centra: one model behind the Order API, the control API and the webhooks.

Pure Python, no HTTP: tests may call these methods directly, and the routes are thin
wrappers over them. Every change that Centra would announce by webhook is passed to the
``listeners`` as an :class:`~centrasync.emulators.centra.model.Event`.
"""

from __future__ import annotations

from .catalogue import CatalogueOps, StockWrite, StockWriteResult
from .fulfilment import Completion, FulfilmentOps, LineChange, ReturnCosts
from .orders import OrderOps
from .state import Clock, Refusal, system_clock
from .supply import SupplyOps

__all__ = [
    "Clock",
    "Completion",
    "LineChange",
    "Refusal",
    "ReturnCosts",
    "StockWrite",
    "StockWriteResult",
    "World",
    "system_clock",
]


class World(CatalogueOps, OrderOps, FulfilmentOps, SupplyOps):
    """Stores, catalogue, stock, orders, shipments, returns and purchasing in one place."""
