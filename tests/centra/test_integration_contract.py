"""The Integration API client's contract suite against the in-process Centra emulator."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from centrasync.testing import CentraHarness, IntegrationApiContract, centra_harness


class TestIntegrationApiOnTheEmulator(IntegrationApiContract):
    def open_harness(self) -> AbstractAsyncContextManager[CentraHarness]:
        return centra_harness()
