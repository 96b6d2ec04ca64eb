from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from fake_clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    # A winter instant: Stockholm is UTC+1, New York UTC-5.
    return FakeClock(datetime(2025, 1, 15, 10, 0, 0, tzinfo=UTC))


@pytest.fixture
def emu(clock: FakeClock) -> CentraEmulator:
    return CentraEmulator(seed="demo", clock=clock)


@pytest.fixture
async def client(emu: CentraEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app), base_url="http://centra.test"
    ) as http:
        yield http
