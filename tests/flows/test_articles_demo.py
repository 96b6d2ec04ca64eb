"""The demo shop's whole catalogue through the real clients: 1,600 sizes, written once."""

from __future__ import annotations

from pathlib import Path

import pytest

from centrasync.centra.client import OrderApiClient
from centrasync.emulators.centra import CentraEmulator
from centrasync.emulators.faults import EmulatorTransport
from centrasync.emulators.ongoing import OngoingEmulator
from centrasync.http import RateBudget
from centrasync.store.sql import open_store
from centrasync.sync.articles import ArticlesFlow
from centrasync.sync.tally import Tally
from centrasync.wms.ongoing.client import OngoingWarehouse

from .articles_helpers import CENTRA_URL, ONGOING_URL, RecordingTransport, store_settings


@pytest.mark.slow
async def test_demo_catalogue_imports_once_and_a_second_pass_writes_nothing(
    tmp_path: Path,
) -> None:
    centra = CentraEmulator(seed="demo")
    ongoing = OngoingEmulator()
    recorder = RecordingTransport(EmulatorTransport(ongoing.app))
    state = await open_store(f"sqlite+aiosqlite:///{tmp_path}/s.sqlite")
    tally = Tally()
    try:
        async with (
            OrderApiClient(
                CENTRA_URL,
                "s3cret",
                "Europe/Stockholm",
                transport=EmulatorTransport(centra.app),
                budget=RateBudget(1000),
            ) as client,
            OngoingWarehouse(ONGOING_URL, "centrasync", "secret", 1, transport=recorder) as wms,
        ):
            flow = ArticlesFlow(store_settings(), state, client, wms, events=tally)
            first = await flow.sync(full=False)
            second = await flow.full_resync()
    finally:
        await state.close()
    # 1,600 sizes; the EAN-only gift box and the bundle have no variant/size SKU.
    assert (first.read, first.written, first.filtered, first.parked) == (1600, 1598, 2, 0)
    assert second == 0
    assert len(recorder.puts) == len(set(recorder.puts)) == len(ongoing.state.articles) == 1598
    assert "M411-740" not in ongoing.state.articles
    jacket = ongoing.state.articles["JKT1000BLKXS"].document
    assert jacket.article_name == "Arctic Jacket Black XS"
    assert tally.processed_count["se", "articles"] == 1598
