"""What the benchmarks share: a hand-moved clock, a request counter and a catalogue."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from centrasync.emulators.centra.specs import CatalogueSpec

__all__ = ["SIZES", "Clock", "Counting", "catalogue"]

SIZES = ("XS", "S", "M", "L", "XL")


class Clock:
    """One clock for both emulators and the flow, moved by hand between the runs."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 3, 6, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Counting(httpx.AsyncBaseTransport):
    """Counts requests per ``METHOD path-tail`` on their way to an emulator."""

    inner: httpx.AsyncBaseTransport
    calls: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        tail = request.url.path.split("/api/", 1)[-1].split("/", 1)[-1].rstrip("/")
        self.calls[f"{request.method} {tail}"] += 1
        began = time.perf_counter()
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.seconds += time.perf_counter() - began

    def reset(self) -> None:
        self.calls.clear()
        self.seconds = 0.0


def catalogue(skus: int) -> CatalogueSpec:
    """``skus`` sizes, five per product, each with some stock in the one warehouse.

    The emulator modules are imported here, so a benchmark whose emulators run in a child
    process (:mod:`served`) does not load them into the process it measures.
    """
    from centrasync.emulators.centra.seed import ean13
    from centrasync.emulators.centra.specs import (
        CatalogueSpec,
        ProductSpec,
        SizeSpec,
        VariantSpec,
        WarehouseSpec,
    )

    products = []
    for index in range(skus // len(SIZES)):
        sizes = [
            SizeSpec(
                name=size,
                sku=size,
                ean=ean13(index * len(SIZES) + offset + 1),
                stock={1: 10 + (index + offset) % 40},
            )
            for offset, size in enumerate(SIZES)
        ]
        products.append(
            ProductSpec(
                sku=f"P{index:06d}",
                name=f"Product {index}",
                variants=[VariantSpec(name="Black", sku="BLK", sizes=sizes)],
            )
        )
    return CatalogueSpec(warehouses=[WarehouseSpec(name="Main")], products=products)
