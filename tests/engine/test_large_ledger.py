"""A ledger of 200,000 shipments: old open ones are still checked and still counted.

The flows once read the 100,000 most recently changed ledger rows and filtered them in
Python, so behind 100,000 newer rows an open shipment was never checked for cancellation
and the backlog gauge did not count it. Here 200,000 finished shipments, all changed after
the shop's own, bury every open shipment beyond the newest 100,000.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from centrasync.emulators.ongoing.model import OrderStatus
from centrasync.store import RecordKind, RecordRef
from centrasync.store.engine import create_store_engine
from centrasync.store.schema import ledger_records
from centrasync.sync.shipments import ShipmentState
from centrasync.sync.worker import SHIPMENTS

from .helpers import SE
from .shop import Shop, open_shop

pytestmark = pytest.mark.slow

NEWER_ROWS = 200_000


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'state.sqlite'}"
    make: Callable[[], str] = request.getfixturevalue("pg_schema_url")
    return make()


async def add_finished_shipments(url: str, store: str, count: int, at: datetime) -> None:
    """``count`` completed shipments changed at ``at``, in one multi-row insert."""
    rows = [
        {
            "store": store,
            "kind": RecordKind.SHIPMENT.value,
            "key": f"9{number:07d}-1",
            "state": ShipmentState.COMPLETED.value,
            "attempts": 1,
            "created_at": at,
            "updated_at": at,
        }
        for number in range(count)
    ]
    engine = create_store_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(ledger_records), rows)
    finally:
        await engine.dispose()


async def scraped_backlog(shop: Shop) -> dict[str, float]:
    """The ``centrasync_flow_backlog`` gauge of store se, per flow, from ``/metrics``."""
    transport = httpx.ASGITransport(app=shop.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://engine.test") as client:
        text = (await client.get("/metrics")).text
    return {
        sample.labels["flow"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "centrasync_flow_backlog"
        for sample in family.samples
        if sample.labels["store"] == SE.name
    }


async def test_an_old_open_shipment_is_checked_and_counted_behind_200000_newer_rows(
    database_url: str,
) -> None:
    async with open_shop(database_url) as shop:
        shop.app.state.metrics.engine = shop.engine
        await shop.run_pass()
        sent = sorted(key for key, st in (await shop.ledger(SE)).items() if st == "sent")
        assert len(sent) > 1
        waiting = await scraped_backlog(shop)
        assert waiting["confirmation"] == len(sent)

        later = datetime.now(UTC) + timedelta(hours=1)
        await add_finished_shipments(database_url, SE.name, NEWER_ROWS, later)
        assert await scraped_backlog(shop) == waiting, "every open shipment still counted"

        oldest = sent[0]
        await shop.cancel_in_centra(oldest)
        worker = next(w for w in shop.engine.workers if w.flows.store_name == SE.name)
        await worker.run_under_lease(SHIPMENTS, worker.flows.cancellations)

        record = await shop.state.get_record(RecordRef(SE.name, RecordKind.SHIPMENT, oldest))
        assert record is not None and record.state == ShipmentState.CANCELLED
        assert shop.wms_order(SE, oldest).status == OrderStatus.CANCELLED
        after = await scraped_backlog(shop)
        assert after == {**waiting, "confirmation": waiting["confirmation"] - 1}
