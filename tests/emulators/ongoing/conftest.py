from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from ongoing_helpers import START

from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from fake_clock import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def emu(clock: FakeClock) -> OngoingEmulator:
    return OngoingEmulator(password="pw", clock=clock, fault_seed=7)


@pytest.fixture
async def client(emu: OngoingEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=EmulatorTransport(emu.app),
        base_url="http://ongoing.test",
        auth=("centrasync", "pw"),
    ) as http:
        yield http
