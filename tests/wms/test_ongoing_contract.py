"""The warehouse contract, bound to the Ongoing connector and the Ongoing emulator."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from centrasync.testing import WarehouseContract, WarehouseHarness, ongoing_harness


class TestOngoingWarehouseContract(WarehouseContract):
    def open_harness(self) -> AbstractAsyncContextManager[WarehouseHarness]:
        return ongoing_harness(page_size=3)
