"""The Centra emulator for the analytics tests, in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from centrasync.testing.centra import CentraHarness, centra_harness


@pytest.fixture
async def centra() -> AsyncIterator[CentraHarness]:
    async with centra_harness() as harness:
        # The quota is not under test here: the Growth plan would pace the stock read.
        answer = await harness.control.put("/_emulator/rate-limits", json={"plan": "enterprise"})
        answer.raise_for_status()
        yield harness
